"""Training in the background, and the live stream of its progress."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

from backend.api.deps import NetworkEntry, OwnedEntry, ServicesDep
from backend.api.schemas import EmptyBody, GridType, TrainBody
from backend.services.jsontext import dumps
from backend.services.networks import snapshot
from backend.services.streams import sse

router = APIRouter(prefix="/networks/{network_id}", tags=["training"])

# Set in the ASGI scope (never by a client) to the relay's name when a replica of the Ray engine
# opens a stream: the answer is then where the stream starts (its variant, sequence number and
# snapshot), as JSON.
RELAY_SCOPE_KEY = "playground.relay"


@router.post("/train", status_code=202)
def train(body: TrainBody, entry: OwnedEntry, services: ServicesDep) -> dict:
    """Start training for `epochs` epochs in the background; follow it on `/events`."""
    services.budgets.check_epochs(body.epochs)
    run = services.training.start(entry, body.epochs, body.max_epochs_per_second)
    # A small network may have trained its epochs already: it started, the events say the rest.
    status = "queued" if run.status == "queued" else "training"
    return {"id": entry.id, "status": status, "epochs": body.epochs,
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
    """What this viewer's progress frames carry, priced before the stream starts (inside the
    endless generator below, a refusal would come after the 200 and break the stream instead
    of being a 4xx): the neurons' maps come smaller than asked where they would not fit."""
    if boundary is None:
        return None
    neuron_resolution, _ = services.budgets.grids(
        entry.experiment.net.sizes, boundary,
        min(neuron_resolution, boundary) if neurons else None)
    return (boundary, neurons, neuron_resolution, encoding)


EVENT_STREAM = {200: {
    "description": "An endless stream of Server-Sent Events (see docs/API.md)",
    "content": {"text/event-stream": {"itemSchema": {
        "type": "object", "required": ["event", "data"],
        "properties": {"event": {"type": "string",
                                 "enum": ["snapshot", "progress", "done", "replaced", "lab"]},
                       "data": {"type": "string", "description": "JSON text"}}}}}}}


@router.get("/events", response_class=StreamingResponse, responses=EVENT_STREAM)
async def events(
    entry: NetworkEntry, services: ServicesDep,
    variant: Annotated[tuple | None, Depends(frame_variant)], request: Request,
) -> Response:
    """Server-Sent Events: a `snapshot` now, `progress` while a run trains (about 20 a second
    at most), `done` at the end of each run, `lab` after each teaching step (forward, backward,
    update) with its numbers, `replaced` when the owner moves on. Stays open across runs."""
    channel = entry.channel
    after = channel.last_seq

    async def current_state() -> bytes:
        state = await run_in_threadpool(services.networks.read, entry,
                                        lambda exp: snapshot(entry))
        return sse("snapshot", dumps(state))

    relay = request.scope.get(RELAY_SCOPE_KEY)
    if relay:  # a replica's relay opens the stream (backend/engine): its viewer counts now
        channel.add_remote(relay, variant)
        return JSONResponse({"variant": variant, "after": after,
                             "snapshot": (await current_state()).decode()})

    async def stream() -> AsyncIterator[bytes]:
        # The channel's events are already bytes on the wire, encoded once for every viewer.
        yield await current_state()
        async for item in channel.listen(variant, after):
            yield item if item is not None else await current_state()  # None: fell behind

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
