"""Training in the background, and the live stream of its progress."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, ServerSentEvent

from backend.api.deps import NetworkEntry, OwnedEntry, ServicesDep
from backend.api.schemas import EmptyBody, GridType, TrainBody
from backend.services import limits
from backend.services.networks import dumps, snapshot

router = APIRouter(prefix="/networks/{network_id}", tags=["training"])


@router.post("/train", status_code=202)
def train(body: TrainBody, entry: OwnedEntry, services: ServicesDep) -> dict:
    """Start training for `epochs` epochs in the background; follow it on `/events`."""
    limits.check_epochs(body.epochs, services.settings)
    run = services.training.start(entry, body.epochs, body.max_epochs_per_second)
    return {"id": entry.id, "status": run.status, "epochs": body.epochs,
            "events": f"/api/networks/{entry.id}/events"}


@router.post("/stop")
def stop(entry: OwnedEntry, services: ServicesDep, body: EmptyBody | None = None) -> dict:
    """Stop a background run (nothing happens if none runs); the state once it has stopped."""
    services.training.stop(entry)
    return services.networks.read(entry, lambda exp: snapshot(entry))


def frame_variant(
    entry: NetworkEntry, services: ServicesDep,
    boundary: Annotated[int | None, Query(
        ge=2, description="add the R x R boundary grid to progress frames")] = None,
    neurons: Annotated[bool, Query(description="with boundary: every neuron's grid")] = False,
    neuron_resolution: Annotated[int, Query(
        ge=2, description="the neurons' grids are this size (at most R)")] = 32,
    encoding: Annotated[GridType, Query(
        description="uint8 (a quarter of the bytes, ample for colours) or float32")] = "uint8",
) -> tuple | None:
    """What this viewer's progress frames carry, checked before the stream starts: inside the
    endless generator below, a refusal would come after the 200 and break the stream instead
    of being a 422."""
    if boundary is None:
        return None
    neuron_resolution = min(neuron_resolution, boundary) if neurons else None
    limits.check_grids(entry.experiment.net.sizes, boundary, neuron_resolution,
                       services.settings)
    return (boundary, neurons, neuron_resolution, encoding)


@router.get("/events", response_class=EventSourceResponse)
async def events(
    entry: NetworkEntry, services: ServicesDep,
    variant: Annotated[tuple | None, Depends(frame_variant)],
) -> AsyncIterable[ServerSentEvent]:
    """Server-Sent Events: a `snapshot` now, `progress` while a run trains (about 20 a second
    at most), `done` at the end of each run. Stays open across runs."""
    channel = entry.channel
    after = channel.last_seq

    async def current_state() -> ServerSentEvent:
        state = await run_in_threadpool(services.networks.read, entry,
                                        lambda exp: snapshot(entry))
        return ServerSentEvent(event="snapshot", raw_data=dumps(state))

    yield await current_state()
    async for item in channel.listen(variant, after):
        if item is None:  # fell behind: start again from the whole state
            yield await current_state()
            continue
        name, data = item
        yield ServerSentEvent(event=name, raw_data=data)
