"""Backpropagation one step at a time (forward, backward, update), and whole iterations."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
from fastapi import APIRouter, Request, Response

from backend.api.deps import OwnedEntry, ServicesDep
from backend.api.schemas import EmptyBody, ForwardBody, StepBody

router = APIRouter(prefix="/networks/{network_id}", tags=["steps"])


@router.post("/forward", response_model=dict)
async def forward(entry: OwnedEntry, services: ServicesDep,
                  body: ForwardBody | None = None) -> Response:
    """Step 1 on the next batch of the batch mode (`{}`), or on the points `x` (targets `y`
    optional: without them there is nothing to send back)."""
    x = None if body is None or body.x is None else np.asarray(body.x, dtype=np.float64)
    y = None if body is None or body.y is None else np.asarray(body.y, dtype=np.float64)
    work = services.budgets.forward(entry.experiment, None if x is None else len(x))
    return json(await services.gate.run(services.budgets.is_heavy(work),
                                        services.steps.forward, entry, x, y))


@router.post("/backward", response_model=dict)
def backward(entry: OwnedEntry, services: ServicesDep,
             body: EmptyBody | None = None) -> Response:
    """Step 2 for the last forward: the loss and every layer's sensitivities s and fdot
    (perceptron rule: the error e)."""
    return json(services.steps.backward(entry))


@router.post("/update", response_model=dict)
def update(entry: OwnedEntry, services: ServicesDep, body: EmptyBody | None = None) -> Response:
    """Step 3: apply the update; the new W, b and the change dW, db of every layer."""
    return json(services.steps.update(entry))


@router.post("/step")
async def step(body: StepBody, entry: OwnedEntry, services: ServicesDep,
               request: Request) -> dict:
    """Whole iterations (`iterations`) or whole epochs (`epochs`) at once; the new state. A
    step is priced before it starts and refused over the work budget; one that runs longer
    than `max_step_seconds` (a slow moment), whose client goes away, or that the server's
    shutdown interrupts ends at the next batch, keeping (and saving) what it did."""
    iterations, epochs = body.iterations or 0, body.epochs or 0
    work = services.budgets.step(entry.experiment, iterations, epochs)
    gone = threading.Event()
    watcher = asyncio.create_task(_notice_leaving(request, gone))
    try:
        return await services.gate.run(services.budgets.is_heavy(work),
                                       services.steps.iterations, entry, iterations, epochs,
                                       gone)
    finally:
        watcher.cancel()


def json(text: str) -> Response:
    """A step's answer: the JSON text its ``lab`` event carries too."""
    return Response(text, media_type="application/json")


async def _notice_leaving(request: Request, gone: threading.Event) -> None:
    """Set ``gone`` when the client hangs up (the request's body has been read: the next
    message is the disconnect)."""
    while not await request.is_disconnected():
        await asyncio.sleep(0.2)
    gone.set()
