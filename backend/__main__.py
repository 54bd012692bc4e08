"""``python -m backend --host H --port P --db PATH``: start the playground server.

Only the standard library is imported before the arguments are read, so that ``--help`` and
the checks of the port and the database work before the app's dependencies are installed.
"""

from __future__ import annotations

import argparse
import errno
import gc
import os
import signal
import socket
import sys
from pathlib import Path

from backend.netinfo import addresses_to_open, lan_urls
from backend.settings import ONE_BLAS_THREAD, Settings, database_file

PROG = "python -m backend"
BACKLOG = 2048  # as Uvicorn's


def parse_args(argv: list[str] | None = None, base: Settings | None = None) -> Settings:
    base = base or Settings.from_env()
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Serve the neural-network playground (page at /, API at /api). Every "
                    "setting also reads PLAYGROUND_<NAME> from the environment. Install "
                    "first: `make run` does it, or `pip install -e .`",
    )
    parser.add_argument("--host", help=f"address to listen on (default {base.host}; "
                        "0.0.0.0 serves the local network)")
    parser.add_argument("--port", type=int, help=f"port (default {base.port})")
    parser.add_argument("--db", help="SQLite file, :memory:, or a postgresql:// URL (replicas "
                        f"on several machines share one PostgreSQL database; default {base.db})")
    parser.add_argument("--public-url", help="the address others open this server at, given "
                        "by the share link, /api/share and the QR codes (behind Docker or a "
                        "proxy; env PLAYGROUND_PUBLIC_URL; default: the listening address)")
    parser.add_argument("--engine", choices=["local", "ray"],
                        help="local: this process holds every network (the default); ray: "
                        "Ray actors hold them, on every core or a cluster, and any replica "
                        "serves any network (needs the ray extra: pip install -e '.[ray]')")
    parser.add_argument("--ray-address", help="with --engine ray: the Ray cluster to join "
                        "(host:port of its head); without it, Ray starts on this machine")
    parser.add_argument("--hosts", type=int, help="with --engine ray: how many Ray actors "
                        "hold the networks (default: one per CPU of the cluster; the first "
                        "replica decides)")
    parser.add_argument("--log-level", choices=["critical", "error", "warning", "info", "debug"],
                        help=f"log level (default {base.log_level})")
    args = parser.parse_args(argv)
    return base.with_overrides(
        host=args.host, port=args.port, db=args.db, public_url=args.public_url,
        log_level=args.log_level, engine=args.engine, ray_address=args.ray_address,
        hosts=args.hosts,
    )


def main(argv: list[str] | None = None) -> None:
    try:
        settings = parse_args(argv)
    except ValueError as exc:
        raise SystemExit(f"{PROG}: {exc}") from None
    # Before anything is printed or loaded: the port is free, the database is no other
    # server's. The socket bound here is the one the server listens on.
    listener = bind_port(settings)
    settings = settings.with_overrides(port=listener.getsockname()[1])  # --port 0: the one got
    # Replicas joining one Ray cluster share the file (its hosts hold each network once): a
    # shared lock keeps any other server off it. A Ray of its own is one server: exclusive.
    db_lock = lock_database(settings.db, listener,  # noqa: F841 (held until the process exits)
                            shared=settings.engine == "ray" and bool(settings.ray_address))
    check_postgres_driver(settings.db)
    check_ray(settings.engine)
    for variable, value in ONE_BLAS_THREAD.items():
        os.environ.setdefault(variable, value)
    try:
        from backend.api.app import create_app
        from backend.core import accelerator
        from backend.serve import serve
    except ModuleNotFoundError as exc:
        if (exc.name or "backend").partition(".")[0] == "backend":
            raise
        raise SystemExit(f"{PROG}: the module {exc.name!r} is missing: install the app first "
                         "(`make run` does it in .venv, or `pip install -e .`)") from None

    if settings.db.startswith(("postgresql://", "postgres://")):
        from backend.services.store_postgres import unreachable

        problem = unreachable(settings.db)
        if problem is not None:
            raise SystemExit(f"{PROG}: {problem}")
    if settings.engine == "ray":
        serve_on_ray(settings, listener)
        return
    app = create_app(settings)
    accelerator.warm_up()  # Numba's loops for small networks, when Numba is installed
    settle_memory()
    print(startup_message(settings), file=sys.stderr, flush=True)
    serve(app, settings, listener)


def serve_on_ray(settings: Settings, listener: socket.socket) -> None:
    """An API replica: Ray joined (or started here) and its hosts ready, then the server."""
    from backend.api.app import create_app
    from backend.engine.cluster import Cluster
    from backend.engine.gateway import Gateway
    from backend.serve import serve

    where = settings.ray_address or "this machine"
    print(f"Starting the Ray engine on {where}...", file=sys.stderr, flush=True)
    try:
        cluster = Cluster.connect(settings)
    except Exception as exc:  # Ray's own errors: not reachable, timed out...
        raise SystemExit(f"{PROG}: the Ray engine could not start on {where}: {exc}") from None
    # Ray's handler of SIGTERM exits with status 15; after a graceful stop (the hosts' runs
    # saved, below), the status is the local engine's: 0.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        app = create_app(settings, gateway=Gateway(cluster, settings.keepalive_seconds))
        settle_memory()
        print(f"{len(cluster.hosts)} hosts hold the networks.", file=sys.stderr)
        print(startup_message(settings), file=sys.stderr, flush=True)
        serve(app, settings, listener)
    finally:
        cluster.close()


def bind_port(settings: Settings) -> socket.socket:
    """The listening socket, bound now (as Uvicorn would bind it); a clear message and exit
    status 1 when the port is taken or the address is not this machine's."""
    host, port = settings.host, settings.port
    # IPPROTO_TCP named: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on the
    # connections of a socket that says it is TCP. With it on, a kept-alive connection's
    # answer (head, then body) waited for the client's delayed ACK: 40 ms each.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM,
                         socket.IPPROTO_TCP)
    if os.name != "nt":  # a port left in TIME_WAIT by a server just stopped is free
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        # Listening at once: a second server starting meanwhile cannot bind it too (with
        # SO_REUSEADDR, Linux lets two sockets bind one port while neither listens).
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        other = port + 1 if 0 < port < 65535 else 8001
        choose = (f"Stop that server, or choose another port: {PROG} --port {other} "
                  f"(or make run PORT={other}).")
        if exc.errno == errno.EADDRINUSE:
            message = (f"port {port} is already in use on {host or 'all addresses'}: another "
                       f"server (probably another playground) is running there. {choose}")
        elif exc.errno == errno.EACCES:
            message = (f"not allowed to listen on port {port} (ports below 1024 need "
                       f"administrator rights): choose another with --port {other} "
                       f"(or make run PORT={other}).")
        elif exc.errno == errno.EADDRNOTAVAIL:
            message = (f"cannot listen on {host}: it is not an address of this machine. Use "
                       "127.0.0.1 (this computer only) or 0.0.0.0 (the local network).")
        else:
            message = f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        raise SystemExit(f"{PROG}: {message}") from None
    return sock


def lock_path(db: str) -> Path | None:
    """The lock file beside a database file (None for :memory: or a non-file URL)."""
    path = database_file(db)
    return None if path is None else path.with_name(path.name + ".lock")


def check_postgres_driver(db: str) -> None:
    """A PostgreSQL URL needs psycopg (the ``postgres`` extra): say so before starting."""
    if not db.startswith(("postgresql://", "postgres://")):
        return
    from importlib.util import find_spec

    if find_spec("psycopg") is None or find_spec("psycopg_pool") is None:
        raise SystemExit(f"{PROG}: a PostgreSQL database needs psycopg: install it with "
                         "pip install -e '.[postgres]' (or use a SQLite file: --db "
                         "data/playground.db)")


def check_ray(engine: str) -> None:
    """The Ray engine needs Ray (the ``ray`` extra): say so before starting."""
    if engine != "ray":
        return
    from importlib.util import find_spec

    if find_spec("ray") is None:
        raise SystemExit(f"{PROG}: the Ray engine needs Ray: install it with pip install -e "
                         "'.[ray]' (make run ENGINE=ray does), or use --engine local")


def lock_database(db: str, listener: socket.socket | None = None, shared: bool = False):
    """An advisory lock (``flock``) on a file beside the database, held for the life of the
    process (the system lets go of it however the process ends, even by kill -9). A second
    server on the same file is refused: each keeps the networks it uses in memory and writes
    them back, so the two would overwrite each other's changes. ``shared``: replicas of the
    Ray engine, whose hosts share the file, each hold the lock shared. Returns the open lock
    file, or None when there is nothing to lock or locks are not supported here."""
    path = lock_path(db)
    if path is None:
        return None
    try:
        import fcntl
    except ImportError:  # not a POSIX system: no check
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115 (held until the process exits)
    except OSError:
        return None  # the store reports a directory it cannot write to
    try:
        fcntl.flock(handle, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            handle.close()
            return None  # a file system without locks: no check
        handle.seek(0)
        holder = handle.read().strip()
        handle.close()
        raise SystemExit(
            f"{PROG}: the database {db} is in use by another running server"
            f"{f' ({holder})' if holder else ''}. Two servers on one database would each keep "
            "networks in memory and overwrite each other's changes, so this one does not "
            "start (replicas of the Ray engine share one: --engine ray). Stop the other "
            "server, or give this one its own database: "
            f"{PROG} --db data/other.db (or make run DB=data/other.db; DB=:memory: keeps "
            "nothing).") from None
    if not shared:  # who holds it, for the message above
        handle.seek(0)
        handle.truncate()
        where = f", port {listener.getsockname()[1]}" if listener is not None else ""
        handle.write(f"process {os.getpid()}{where}\n")
        handle.flush()
    return handle


def settle_memory() -> None:
    """What the start loaded (modules, the app, the compiled loop) stays for good: set aside
    from the cyclic garbage collector, whose full passes would otherwise walk it again and
    again. Under a classroom's load that cut those pauses, which hold every thread, from
    about 100 ms to about 25 ms. And the C allocator gives freed memory back (allocator)."""
    from backend import allocator

    gc.collect()
    gc.freeze()
    allocator.tune()


def startup_message(settings: Settings) -> str:
    """The addresses to open (``public_url`` alone when it is set); serving a classroom, the
    first one others can reach as a QR code too."""
    from backend.sharing import qr_terminal  # segno: only once the app is installed

    urls = addresses_to_open(settings.host, settings.port, settings.public_address)
    lines = ["Neural-network playground: open", *(f"  {url}" for url in urls)]
    lan = lan_urls(urls)
    if lan:
        who = "Students" if settings.public_address else "Students on the same network"
        lines += ["", f"{who} open {lan[0]} or scan:", qr_terminal(lan[0])]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
