"""Every setting of the server in one place: defaults, environment variables, command line.

An environment variable ``PLAYGROUND_<NAME>`` (upper case) sets the field ``<name>``;
the command line of ``python -m backend`` overrides both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "PLAYGROUND_"
ENGINES = ("local", "ray")
# One BLAS thread per training thread: the server runs many small products at once, where a
# second BLAS thread only waits for a busy core. Set before NumPy is first imported (by the
# command line for its process, by the Ray engine for its hosts').
ONE_BLAS_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    db: str = "data/playground.db"
    frontend_dir: str = str(REPO_ROOT / "frontend")
    log_level: str = "info"

    # Where the networks live: this process (local), or Ray actors (ray, docs/SCALING.md).
    engine: str = "local"
    ray_address: str = ""  # a Ray cluster to join (host:port); "" starts Ray on this machine
    hosts: int = 0  # Ray actors holding the networks; 0: one per CPU of the cluster

    # Limits (listed by GET /api/catalog).
    max_hidden_layers: int = 8
    max_neurons_per_layer: int = 64
    max_samples: int = 10_000
    max_epochs_per_run: int = 1_000_000
    max_boundary_resolution: int = 200
    max_grid_values: int = 1_000_000  # values of one boundary answer or frame, all neurons
    max_body_bytes: int = 2_000_000
    max_concurrent_runs: int = 4

    # Budgets: what one request, run, stream, network or client may cost (docs/RELIABILITY.md,
    # "Budgets"; work in multiply-adds, priced by backend/services/costs.py). Also in the catalog.
    max_request_work: int = 2_000_000_000  # one request's arithmetic (a step, a boundary...)
    max_answer_bytes: int = 8_000_000  # one answer's JSON (forward, backward, predict)
    max_step_seconds: float = 3.0  # a step that runs longer ends there (its work is kept)
    heavy_requests: int = 2  # requests over a tenth of the work budget computing at once
    heavy_wait_seconds: float = 10.0  # how long one waits for its turn before a 503
    max_queued_runs: int = 64  # runs queued or training, all networks together
    run_slice_seconds: float = 0.25  # a long run trains this long, then the next has its turn
    short_run_work: int = 2_000_000_000  # runs priced at most this go in the short runs' lane
    max_large_runs: int = 1  # runs of large layers (NumPy, the interpreter lock) at once
    max_frame_work_per_second: int = 1_000_000_000  # drawing one network's stream frames
    max_frame_bytes_per_second: int = 4_000_000  # encoding one network's progress frames
    max_memory_bytes: int = 1_000_000_000  # networks in memory, all together
    max_network_bytes: int = 50_000_000  # one network in memory (data, buffers, history)
    max_store_bytes: int = 2_000_000_000  # the SQLite file
    max_creates_per_client_per_hour: int = 600  # networks made (create, import, fork)
    prune_idle_days: float = 30.0  # networks unused this long leave the store
    prune_replaced_days: float = 2.0  # networks replaced by their owner, unused this long
    max_connections: int = 1_000  # open connections, all clients together
    max_connections_per_client: int = 250  # open connections of one client address
    request_head_seconds: float = 5.0  # a connection's request line and headers arrive in time
    # A kept-alive connection waits this long for more: longer than clients keep theirs open
    # (HTTPX: 5 s), so that they close first; the other way, a request sent as the server
    # closes was lost ("Server disconnected without sending a response", at 150 students).
    idle_connection_seconds: float = 15.0
    allowed_hosts: str = ""  # host names served besides localhost and IP addresses (a,b,...)
    # The address others open this server at (behind Docker or a proxy): the share link, the
    # start banner, /api/share and the QR codes give it instead of the listening address.
    public_url: str = ""

    # Background training and streams.
    checkpoint_seconds: float = 2.0
    stream_fps: float = 20.0
    keepalive_seconds: float = 15.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int | float) and f.name not in ("port", "hosts") and \
                    not value > 0:
                raise ValueError(f"the setting {f.name} ({ENV_PREFIX}{f.name.upper()}) must be "
                                 f"above 0; got {value}")
        if self.engine not in ENGINES:
            raise ValueError(f"the engine ({ENV_PREFIX}ENGINE, --engine) is one of "
                             f"{', '.join(ENGINES)}; got {self.engine!r}")
        if self.hosts < 0:
            raise ValueError(f"the number of hosts ({ENV_PREFIX}HOSTS, --hosts) is 0 (one per "
                             f"CPU) or more; got {self.hosts}")
        if self.engine == "ray" and (self.db == ":memory:" or self.db.startswith("file:")):
            raise ValueError("the Ray engine's hosts share the database: give it a SQLite file "
                             "or a postgresql:// URL (--db), not :memory:")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"the port must be from 0 to 65535; got {self.port}")
        normalize_public_url(self.public_url)  # a clear error now rather than a broken link

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _parse(raw, type(getattr(cls, f.name)), f.name)
        return cls(**values)

    def with_overrides(self, **overrides) -> Settings:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def limits(self) -> dict[str, int | float]:
        return {
            "hidden_layers": self.max_hidden_layers,
            "neurons_per_layer": self.max_neurons_per_layer,
            "samples": self.max_samples,
            "epochs_per_run": self.max_epochs_per_run,
            "boundary_resolution": self.max_boundary_resolution,
            "grid_values": self.max_grid_values,
            "body_bytes": self.max_body_bytes,
            "concurrent_runs": self.max_concurrent_runs,
            "request_work": self.max_request_work,
            "answer_bytes": self.max_answer_bytes,
            "step_seconds": self.max_step_seconds,
            "queued_runs": self.max_queued_runs,
            "large_runs": self.max_large_runs,
            "run_slice_seconds": self.run_slice_seconds,
            "short_run_work": self.short_run_work,
            "frame_work_per_second": self.max_frame_work_per_second,
            "frame_bytes_per_second": self.max_frame_bytes_per_second,
            "memory_bytes": self.max_memory_bytes,
            "network_bytes": self.max_network_bytes,
            "store_bytes": self.max_store_bytes,
            "creates_per_client_per_hour": self.max_creates_per_client_per_hour,
            "prune_idle_days": self.prune_idle_days,
            "prune_replaced_days": self.prune_replaced_days,
            "connections": self.max_connections,
            "connections_per_client": self.max_connections_per_client,
        }

    @property
    def host_names(self) -> list[str]:
        """The host names of ``allowed_hosts``, lower case, and that of ``public_url`` (the
        address the server gives out must be answered)."""
        names = [h.strip().lower() for h in self.allowed_hosts.split(",") if h.strip()]
        public = urlsplit(self.public_address).hostname if self.public_address else None
        if public and public not in names:
            names.append(public)
        return names

    @property
    def public_address(self) -> str:
        """``public_url`` as the page uses it (ending in a slash), or "" when it is not set."""
        return normalize_public_url(self.public_url)


def database_file(db: str) -> Path | None:
    """The file of a SQLite database (None for :memory:, a file: URI or a server's URL)."""
    if not db or db == ":memory:" or "://" in db or db.startswith("file:"):
        return None
    return Path(db)


def normalize_public_url(value: str) -> str:
    """An http(s) address without credentials, query or fragment, ending in a slash (the page
    appends ``#watch=...`` to it); "" stays "". A ValueError says what is wrong."""
    text = value.strip()
    if not text:
        return ""
    problem = None
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number in range)
    except ValueError as exc:
        problem = str(exc)
    else:
        if parts.scheme.lower() not in ("http", "https"):
            problem = "it must start with http:// or https://"
        elif not parts.hostname:
            problem = "it names no host"
        elif parts.username is not None or parts.password is not None:
            problem = "it must not carry a user name or password"
        elif parts.query or parts.fragment or "?" in text or "#" in text:
            problem = "it must not have a ?query or #fragment (the share link adds its own)"
        elif any(c.isspace() for c in text):
            problem = "it must not contain spaces"
    if problem:
        raise ValueError(
            f"{ENV_PREFIX}PUBLIC_URL must be the address others open this server at, such as "
            f"http://192.168.1.20:8000/ or https://playground.example.org/; got {value!r}: "
            f"{problem}")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return parts._replace(scheme=parts.scheme.lower(), path=path).geturl()


def _parse(raw: str, kind: type, name: str):
    try:
        return kind(raw)
    except ValueError as exc:
        raise ValueError(
            f"{ENV_PREFIX}{name.upper()}={raw!r} is not a valid {kind.__name__}"
        ) from exc
