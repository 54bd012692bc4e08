"""Backpropagation one step at a time (forward, backward, update), and whole iterations."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
from fastapi import APIRouter, HTTPException, Request

from backend.api.deps import OwnedEntry, ServicesDep
from backend.api.schemas import EmptyBody, ForwardBody, StepBody
from backend.core.experiment import Experiment
from backend.core.training import Diverged
from backend.services import views
from backend.services.networks import require_idle, snapshot

router = APIRouter(prefix="/networks/{network_id}", tags=["steps"])


@router.post("/forward")
async def forward(entry: OwnedEntry, services: ServicesDep,
                  body: ForwardBody | None = None) -> dict:
    """Step 1 on the next batch of the batch mode (`{}`), or on the points `x` (targets `y`
    optional: without them there is nothing to send back)."""
    x = None if body is None or body.x is None else np.asarray(body.x, dtype=np.float64)
    y = None if body is None or body.y is None else np.asarray(body.y, dtype=np.float64)
    work = services.budgets.forward(entry.experiment, None if x is None else len(x))

    def step(exp: Experiment) -> dict:
        require_idle(entry)
        if y is not None and y.shape[1] != exp.targets.outputs:
            raise ValueError(f"each row of 'y' needs {exp.targets.outputs} target value(s), "
                             f"one per output neuron; got {y.shape[1]}")
        p = exp.trainer.forward(None if x is None else exp.inputs(x), y)
        return views.forward(p, exp.trainer.pending_y if y is None else y,
                             exp.trainer.pending_batch)

    return await services.gate.run(services.budgets.is_heavy(work), services.networks.change,
                                   entry, step)


@router.post("/backward")
def backward(entry: OwnedEntry, services: ServicesDep, body: EmptyBody | None = None) -> dict:
    """Step 2 for the last forward: the loss and every layer's sensitivities s and fdot
    (perceptron rule: the error e)."""
    def step(exp: Experiment) -> dict:
        require_idle(entry)
        p, loss = exp.trainer.backward()
        errors = int(np.count_nonzero(p.s[-1].any(axis=1)))
        return views.backward(p, loss, exp.trainer.config.rule, errors)

    return services.networks.change(entry, step)


@router.post("/update")
def update(entry: OwnedEntry, services: ServicesDep, body: EmptyBody | None = None) -> dict:
    """Step 3: apply the update; the new W, b and the change dW, db of every layer."""
    def step(exp: Experiment) -> dict:
        require_idle(entry)
        dW, db = exp.trainer.update()
        return views.update(exp, dW, db)

    return services.networks.change(entry, step)


@router.post("/step")
async def step(body: StepBody, entry: OwnedEntry, services: ServicesDep,
               request: Request) -> dict:
    """Whole iterations (`iterations`) or whole epochs (`epochs`) at once; the new state. A
    step is priced before it starts and refused over the work budget; one that runs longer
    than `step_seconds` (a slow moment), whose client goes away, or that the server's
    shutdown interrupts ends at the next batch, keeping (and saving) what it did."""
    iterations, epochs = body.iterations or 0, body.epochs or 0
    work = services.budgets.step(entry.experiment, iterations, epochs)
    gone = threading.Event()
    limit = services.settings.max_step_seconds

    def run(exp: Experiment) -> dict:
        require_idle(entry)
        deadline = time.monotonic() + limit
        try:
            whole = exp.trainer.step(iterations, epochs, should_stop=lambda: (
                gone.is_set() or services.stopping.is_set() or time.monotonic() >= deadline))
        except Diverged as exc:  # kept (and stored) with the last good weights, then refused
            entry.end_run("diverged", str(exc))
            return snapshot(entry)
        if not whole:
            t = exp.trainer
            why = ("the client went away" if gone.is_set() else "the server is stopping"
                   if services.stopping.is_set() else
                   f"it took longer than a step may ({limit:g} s): ask for fewer, or train "
                   "in the background with POST /train")
            entry.end_run("cut_short", f"The step ended at epoch {t.epoch}, iteration "
                                       f"{t.iteration}, before all it asked for: {why}. What "
                                       "it did is kept.")
        return snapshot(entry)

    watcher = asyncio.create_task(_notice_leaving(request, gone))
    try:
        state = await services.gate.run(services.budgets.is_heavy(work),
                                        services.networks.change, entry, run)
    finally:
        watcher.cancel()
    if state["last_run"] and state["last_run"]["reason"] == "diverged" and \
            state["last_run"]["iteration"] == state["iteration"]:
        raise HTTPException(409, state["last_run"]["message"])
    return state


async def _notice_leaving(request: Request, gone: threading.Event) -> None:
    """Set ``gone`` when the client hangs up (the request's body has been read: the next
    message is the disconnect)."""
    while not await request.is_disconnected():
        await asyncio.sleep(0.2)
    gone.set()
