"""``python -m backend --host H --port P --db PATH``: start the playground server."""

from __future__ import annotations

import argparse
import gc
import os
import sys

from backend import allocator
from backend.netinfo import addresses_to_open, lan_urls
from backend.settings import Settings
from backend.sharing import qr_terminal


def parse_args(argv: list[str] | None = None, base: Settings | None = None) -> Settings:
    base = base or Settings.from_env()
    parser = argparse.ArgumentParser(
        prog="python -m backend",
        description="Serve the neural-network playground (page at /, API at /api).",
    )
    parser.add_argument("--host", help=f"address to listen on (default {base.host}; "
                        "0.0.0.0 serves the local network)")
    parser.add_argument("--port", type=int, help=f"port (default {base.port})")
    parser.add_argument("--db", help=f"SQLite file, or :memory: (default {base.db})")
    parser.add_argument("--log-level", choices=["critical", "error", "warning", "info", "debug"],
                        help=f"log level (default {base.log_level})")
    args = parser.parse_args(argv)
    return base.with_overrides(
        host=args.host, port=args.port, db=args.db, log_level=args.log_level
    )


def main(argv: list[str] | None = None) -> None:
    try:
        settings = parse_args(argv)
    except ValueError as exc:
        raise SystemExit(f"python -m backend: {exc}") from None
    # One BLAS thread per training thread: the server runs many small products at once, where
    # a second BLAS thread only waits for a busy core. Set before NumPy is first imported.
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    from backend.api.app import create_app
    from backend.core import kernel
    from backend.serve import serve

    app = create_app(settings)
    kernel.warm_up()
    settle_memory()
    print(startup_message(settings), file=sys.stderr, flush=True)
    serve(app, settings)


def settle_memory() -> None:
    """What the start loaded (modules, the app, the compiled loop) stays for good: set aside
    from the cyclic garbage collector, whose full passes would otherwise walk it again and
    again. Under a classroom's load that cut those pauses, which hold every thread, from
    about 100 ms to about 25 ms. And the C allocator gives freed memory back (allocator)."""
    gc.collect()
    gc.freeze()
    allocator.tune()


def startup_message(settings: Settings) -> str:
    """The addresses to open; serving a classroom, the first LAN one as a QR code too."""
    urls = addresses_to_open(settings.host, settings.port)
    lines = ["Neural-network playground: open", *(f"  {url}" for url in urls)]
    lan = lan_urls(urls)
    if lan:
        lines += ["", f"Students on the same network open {lan[0]} or scan:",
                  qr_terminal(lan[0])]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
