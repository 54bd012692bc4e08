"""The error surface: J over two parameters and the three batch modes' paths on it."""

from __future__ import annotations

from fastapi import APIRouter

from backend.api.deps import NetworkEntry, ServicesDep
from backend.api.schemas import SurfaceBody
from backend.core.surface import Parameter
from backend.services import surface as surfaces

router = APIRouter(prefix="/networks/{network_id}", tags=["surface"])


@router.post("/surface")
async def surface(body: SurfaceBody, entry: NetworkEntry, services: ServicesDep) -> dict:
    """J (the training loss, with the regularization's term) over a grid of two parameters,
    every other one fixed, and the paths of batch, stochastic and mini-batch gradient descent
    from their current values with only those two trained. A read: the network is unchanged."""
    minibatch = surfaces.chosen_minibatch(entry.experiment, body.minibatch)
    work = services.budgets.surface(entry.experiment, body.resolution, body.epochs, minibatch)
    parameters = None if body.parameters is None else [Parameter(*p) for p in body.parameters]
    return await services.gate.run(
        services.budgets.is_heavy(work), surfaces.surface, services.networks, entry,
        parameters, body.range, body.resolution, body.epochs, minibatch, body.seed,
        body.learning_rate)
