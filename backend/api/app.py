"""The FastAPI application: routers under /api, the static page at /."""

from __future__ import annotations

import asyncio
import logging
import threading
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles
from starlette.routing import Match, Mount

from backend import __version__
from backend.api import errors
from backend.api.deps import Services
from backend.api.gate import WorkGate
from backend.api.guards import HeadAsGet, HostAllowList, SecurityHeaders
from backend.api.limits import BodySizeLimit
from backend.api.routes import catalog, docs, health, networks, share, steps, surface, training
from backend.core import accelerator
from backend.services.budgets import Budgets
from backend.services.networks import NetworkService, Peers, Shard
from backend.services.steps import StepService
from backend.services.store import open_store
from backend.services.training import TrainingService
from backend.settings import Settings

log = logging.getLogger(__name__)


PRUNE_EVERY_SECONDS = 3600.0


def create_app(settings: Settings | None = None, shard: Shard | None = None,
               peers: Peers | None = None, gateway=None) -> FastAPI:
    """The app. ``shard`` and ``peers``: for a host of the Ray engine, the networks it holds
    and how it reaches the hosts of the others; ``gateway``: for an API replica of the Ray
    engine, the hosts that answer every request about a network (backend/engine). The
    replica keeps the network routes for the API's schema, but they run at the hosts."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if gateway is not None:
            app.state.services = Services(settings, None, None, None, Budgets(settings),
                                          None)
            app.state.on_exit = gateway.on_exit
            yield
            return
        accelerator.warm_up()
        store = open_store(settings.db)
        network_service = NetworkService(store, settings, shard=shard, peers=peers)
        training_service = TrainingService(settings, network_service)
        stopping = threading.Event()
        app.state.services = Services(settings, network_service, training_service,
                                      StepService(network_service, settings, stopping),
                                      Budgets(settings),
                                      WorkGate(settings.heavy_requests,
                                               settings.heavy_wait_seconds))

        def on_exit() -> None:
            """Stop the runs and long steps (each saves what it did), end every stream."""
            stopping.set()
            training_service.shutdown()
            for entry in network_service.entries():
                entry.channel.close()

        app.state.on_exit = on_exit
        pruning = asyncio.create_task(prune_now_and_then(network_service))
        try:
            yield
        finally:
            pruning.cancel()
            on_exit()
            store.close()

    app = FastAPI(
        title="Neural-network playground",
        version=__version__,
        description="Build, train and inspect perceptrons and multi-layer networks. "
                    "See docs/API.md for the shapes of the answers.",
        lifespan=lifespan, docs_url=None, redoc_url=None,
    )
    errors.install(app)
    for module in (health, catalog, share):
        app.include_router(module.router, prefix="/api")
    for module in (networks, steps, training, surface):
        app.include_router(module.router, prefix="/api", responses=errors.RESPONSES)
    if shard is not None:  # a host: the replica in front serves the rest and guards it all
        return app
    docs.install(app)
    frontend = Path(settings.frontend_dir)
    if frontend.is_dir():
        app.router.routes.append(PageMount("/", StaticFiles(directory=frontend, html=True),
                                           name="frontend"))
    if gateway is not None:  # innermost: after the guards, before any route
        app.add_middleware(gateway.middleware, gateway=gateway)
    # The last added runs first: the Host is checked before anything else is done.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(HeadAsGet)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(HostAllowList, names=settings.host_names)
    return app


async def prune_now_and_then(network_service: NetworkService) -> None:
    """Networks nobody has used for long leave the store: at start, then every hour."""
    while True:
        try:
            pruned = await run_in_threadpool(network_service.prune)
            if pruned:
                log.info("pruned %d network(s) unused for long from the store", pruned)
        except Exception:
            log.exception("pruning the store failed")
        await asyncio.sleep(PRUNE_EVERY_SECONDS)


class PageMount(Mount):
    """The static page at /, but never for a path under /api/: an unknown API path is the
    API's JSON 404, and a known one called with the wrong method its 405 (with the right
    ``Allow`` header), rather than the static files' plain-text answers."""

    def matches(self, scope):
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            return Match.NONE, {}
        return super().matches(scope)
