"""The FastAPI application: routers under /api, the static page at /."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from backend import __version__
from backend.api.routes import health
from backend.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    app = FastAPI(
        title="Neural-network playground",
        version=__version__,
        description="Build, train and inspect perceptrons and multi-layer networks.",
    )
    app.state.settings = settings
    app.include_router(health.router, prefix="/api")
    frontend = Path(settings.frontend_dir)
    if frontend.is_dir():
        app.mount("/", StaticFiles(directory=frontend, html=True), name="frontend")
    return app
