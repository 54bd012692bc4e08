"""Dependencies injected into the routes: the services, the network named in the path, and
the owner's token for every call that changes a network.

They are coroutines: a plain function would cost a trip to the thread pool (and back to the
event loop) for each of them, on every request. The one that may block, loading a network
from the store, goes to a thread only when it has to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from backend.api.gate import WorkGate
from backend.services.budgets import Budgets
from backend.services.errors import Forbidden
from backend.services.networks import Entry, NetworkService
from backend.services.steps import StepService
from backend.services.training import TrainingService
from backend.settings import Settings


@dataclass
class Services:
    settings: Settings
    networks: NetworkService
    training: TrainingService
    steps: StepService
    budgets: Budgets
    gate: WorkGate


async def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_entry(network_id: str, services: ServicesDep) -> Entry:
    entry = services.networks.in_memory(network_id)
    return entry if entry is not None else await run_in_threadpool(services.networks.get,
                                                                   network_id)


async def get_owned_entry(
    entry: Annotated[Entry, Depends(get_entry)],
    authorization: Annotated[str | None, Header(
        description="Bearer <token> from the answer that created the network")] = None,
) -> Entry:
    if not authorization:
        raise HTTPException(401, "this call changes the network: send the token from its "
                                 "creation as 'Authorization: Bearer <token>'",
                            headers={"WWW-Authenticate": "Bearer"})
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "the Authorization header must read 'Bearer <token>'",
                            headers={"WWW-Authenticate": "Bearer"})
    try:
        entry.check_token(token.strip())
    except Forbidden as exc:
        raise HTTPException(403, f"{str(exc).capitalize()}: only its owner can change it; fork it "
                                 "(POST /api/networks/{id}/fork) to get your own copy") from None
    return entry


NetworkEntry = Annotated[Entry, Depends(get_entry)]
OwnedEntry = Annotated[Entry, Depends(get_owned_entry)]
