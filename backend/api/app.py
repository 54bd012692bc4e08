"""The FastAPI application: routers under /api, the static page at /."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.routing import Match, Mount

from backend import __version__
from backend.api import errors
from backend.api.deps import Services
from backend.api.limits import BodySizeLimit
from backend.api.routes import catalog, health, networks, share, steps, training
from backend.core import kernel
from backend.services.networks import NetworkService
from backend.services.store import Store
from backend.services.training import TrainingService
from backend.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        kernel.warm_up()
        store = Store(settings.db)
        network_service = NetworkService(store, settings.max_networks_in_memory,
                                         loop=asyncio.get_running_loop())
        training_service = TrainingService(settings, network_service)
        app.state.services = Services(settings, network_service, training_service)

        def on_exit() -> None:
            """Stop the runs (each saves a checkpoint) and end every stream."""
            training_service.shutdown()
            for entry in network_service.entries():
                entry.channel.close()

        app.state.on_exit = on_exit
        try:
            yield
        finally:
            on_exit()
            store.close()

    app = FastAPI(
        title="Neural-network playground",
        version=__version__,
        description="Build, train and inspect perceptrons and multi-layer networks. "
                    "See docs/API.md for the shapes of the answers.",
        lifespan=lifespan,
    )
    errors.install(app)
    for module in (health, catalog, share):
        app.include_router(module.router, prefix="/api")
    for module in (networks, steps, training):
        app.include_router(module.router, prefix="/api", responses=errors.RESPONSES)
    frontend = Path(settings.frontend_dir)
    if frontend.is_dir():
        app.router.routes.append(PageMount("/", StaticFiles(directory=frontend, html=True),
                                           name="frontend"))
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app


class PageMount(Mount):
    """The static page at /, but never for a path under /api/: an unknown API path is the
    API's JSON 404, and a known one called with the wrong method its 405 (with the right
    ``Allow`` header), rather than the static files' plain-text answers."""

    def matches(self, scope):
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            return Match.NONE, {}
        return super().matches(scope)
