"""Create, read, change, copy and delete networks."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Query, Request, Response

from backend.api.deps import NetworkEntry, OwnedEntry, ServicesDep
from backend.api.schemas import (
    CreateBody,
    ForkBody,
    GridType,
    ImportBody,
    ParametersBody,
    PatchBody,
    PredictBody,
    ReplacedBody,
    ResetBody,
)
from backend.core.experiment import Experiment
from backend.core.spec import normalize_spec
from backend.services import forks, views
from backend.services.networks import created, require_idle, snapshot

router = APIRouter(prefix="/networks", tags=["networks"])


def create(services, experiment: Experiment, request: Request) -> dict:
    """The answer of a new network."""
    services.budgets.check_network(experiment)
    return created(*services.networks.add(experiment, client_address(request)))


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post("", status_code=201)
def create_network(body: CreateBody, services: ServicesDep, request: Request) -> dict:
    """A new network; `{}` gives a working default. Keep the `token`: it owns the network."""
    spec = normalize_spec(body.model_dump(exclude_none=True))
    services.budgets.check_spec(spec)
    return create(services, Experiment.create(spec), request)


@router.post("/import", status_code=201)
def import_network(body: ImportBody, services: ServicesDep, request: Request) -> dict:
    """A new network from an exported document (`GET /export`), with a new id and token."""
    document = body.document()
    services.budgets.check_spec(document["spec"])
    services.budgets.check_samples(len(document["data"]["points"]))
    return create(services, Experiment.from_dict(document), request)


@router.get("/{network_id}")
def get_network(entry: NetworkEntry, services: ServicesDep) -> dict:
    return services.networks.read(entry, lambda exp: snapshot(entry))


@router.patch("/{network_id}")
def patch_network(body: PatchBody, entry: OwnedEntry, services: ServicesDep) -> dict:
    """Change hyperparameters that keep the shapes; a running training run picks them up."""
    changes = body.model_dump(exclude_none=True)

    def patch(exp: Experiment) -> dict:
        exp.configure(changes)
        return snapshot(entry)

    return services.networks.change(entry, patch)


@router.put("/{network_id}/parameters")
def put_parameters(body: ParametersBody, entry: OwnedEntry, services: ServicesDep) -> dict:
    """Set every layer's weights and biases by hand."""
    layers = [layer.model_dump() for layer in body.layers]

    def put(exp: Experiment) -> dict:
        require_idle(entry)
        exp.set_parameters(layers)
        return snapshot(entry)

    return services.networks.change(entry, put)


@router.post("/{network_id}/reset")
def reset_network(entry: OwnedEntry, services: ServicesDep,
                  body: ResetBody | None = None) -> dict:
    """New initial weights (the same seed, or `seed`); counters and history cleared."""
    return services.networks.reset(entry, body.seed if body else None)


@router.post("/{network_id}/fork", status_code=201)
def fork_network(entry: NetworkEntry, services: ServicesDep, request: Request,
                 body: ForkBody | None = None) -> dict:
    """Your own copy of any network you can see (no token needed), with a `name` if you like:
    the owner of the network you forked sees it among its forks."""
    name = forks.display_name(body.name if body else None)
    document = services.networks.read(entry, lambda exp: exp.to_dict())
    return services.networks.on(services.networks.shard.any_id(), forks.make_fork, document,
                                client_address(request), entry.id, name)


@router.get("/{network_id}/forks")
def list_forks(entry: OwnedEntry, services: ServicesDep) -> dict:
    """The owner's view of the class: every fork of this network with its name, epoch,
    losses, hidden neurons and a small picture of its output (a 16 x 16 uint8 grid)."""
    return forks.list_forks(services.networks, services.budgets, entry)


@router.post("/{network_id}/replaced")
def replaced(body: ReplacedBody, entry: OwnedEntry, services: ServicesDep) -> dict:
    """Tell this network's viewers that its owner moved on to network `by` (a new one made
    when the data or the shape changed): their pages follow along. `by` this network itself,
    after it was replaced by one of its forks: its owner is back, and the viewers it sent to
    the fork come back too."""
    services.networks.replace(entry, body.by)
    return services.networks.read(entry, lambda exp: snapshot(entry))


@router.delete("/{network_id}", status_code=204)
def delete_network(entry: OwnedEntry, services: ServicesDep) -> Response:
    services.training.stop(entry, reason="deleted")
    services.networks.delete(entry)
    return Response(status_code=204)


@router.get("/{network_id}/data")
def get_data(entry: NetworkEntry, services: ServicesDep) -> dict:
    """The points of the input plane and their labels, split into training and test sets."""
    return services.networks.read(entry, views.data)


@router.get("/{network_id}/history", response_model=dict)
def get_history(entry: NetworkEntry, services: ServicesDep) -> Response:
    """Per-epoch loss (and accuracy), as columns."""
    return Response(services.networks.read(entry, views.history_json),
                    media_type="application/json")


@router.get("/{network_id}/export")
def export_network(entry: NetworkEntry, services: ServicesDep) -> dict:
    """A self-contained JSON document: spec, data, weights, counters and history."""
    return services.networks.read(entry, lambda exp: exp.to_dict())


@router.get("/{network_id}/boundary", response_model=dict)
async def get_boundary(entry: NetworkEntry, services: ServicesDep,
                       resolution: Annotated[int, Query(ge=2)] = 100,
                       neurons: bool = False,
                       neuron_resolution: Annotated[int | None, Query(ge=2)] = None,
                       encoding: GridType = "float32") -> Response:
    """The output (and with `neurons=true` every neuron, at `neuron_resolution` if given)
    over an R x R grid of the plane. The neurons' maps come smaller than asked (see
    `neuron_resolution` in the answer) where all of them would not fit the budgets."""
    neuron_resolution, work = services.budgets.grids(
        entry.experiment.net.sizes, resolution,
        (neuron_resolution or resolution) if neurons else None)
    return Response(await services.gate.run(
        services.budgets.is_heavy(work), services.networks.read, entry,
        lambda exp: views.boundary_json(exp, resolution, neurons, neuron_resolution, encoding)),
        media_type="application/json")


@router.post("/{network_id}/predict")
async def predict(body: PredictBody, entry: NetworkEntry, services: ServicesDep) -> dict:
    """The network's output (and class) for points of the plane."""
    work = services.budgets.predict(entry.experiment, len(body.x))
    x = np.asarray(body.x, dtype=np.float64)
    return await services.gate.run(services.budgets.is_heavy(work), services.networks.read,
                                   entry, lambda exp: views.predict(exp, x))
