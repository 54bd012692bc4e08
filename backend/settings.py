"""Every setting of the server in one place: defaults, environment variables, command line.

An environment variable ``PLAYGROUND_<NAME>`` (upper case) sets the field ``<name>``;
the command line of ``python -m backend`` overrides both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "PLAYGROUND_"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    db: str = "data/playground.db"
    frontend_dir: str = str(REPO_ROOT / "frontend")
    log_level: str = "info"

    # Limits (listed by GET /api/catalog).
    max_hidden_layers: int = 8
    max_neurons_per_layer: int = 64
    max_samples: int = 10_000
    max_epochs_per_run: int = 1_000_000
    max_iterations_per_step: int = 100_000
    max_boundary_resolution: int = 200
    max_grid_values: int = 1_000_000  # values of one boundary answer or frame, all neurons
    max_body_bytes: int = 2_000_000
    max_networks_in_memory: int = 500
    max_concurrent_runs: int = 4

    # Background training and streams.
    checkpoint_seconds: float = 2.0
    stream_fps: float = 20.0
    keepalive_seconds: float = 15.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int | float) and f.name != "port" and not value > 0:
                raise ValueError(f"the setting {f.name} ({ENV_PREFIX}{f.name.upper()}) must be "
                                 f"above 0; got {value}")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"the port must be from 0 to 65535; got {self.port}")

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

    def limits(self) -> dict[str, int]:
        return {
            "hidden_layers": self.max_hidden_layers,
            "neurons_per_layer": self.max_neurons_per_layer,
            "samples": self.max_samples,
            "epochs_per_run": self.max_epochs_per_run,
            "iterations_per_step": self.max_iterations_per_step,
            "boundary_resolution": self.max_boundary_resolution,
            "grid_values": self.max_grid_values,
            "body_bytes": self.max_body_bytes,
            "networks_in_memory": self.max_networks_in_memory,
            "concurrent_runs": self.max_concurrent_runs,
        }


def _parse(raw: str, kind: type, name: str):
    try:
        return kind(raw)
    except ValueError as exc:
        raise ValueError(
            f"{ENV_PREFIX}{name.upper()}={raw!r} is not a valid {kind.__name__}"
        ) from exc
