"""Backpropagation one step at a time (forward, backward, update), and whole iterations."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, HTTPException

from backend.api.deps import OwnedEntry, ServicesDep
from backend.api.schemas import EmptyBody, ForwardBody, StepBody
from backend.core.experiment import Experiment
from backend.core.training import Diverged
from backend.services import limits, views
from backend.services.networks import require_idle, snapshot

router = APIRouter(prefix="/networks/{network_id}", tags=["steps"])


@router.post("/forward")
def forward(entry: OwnedEntry, services: ServicesDep, body: ForwardBody | None = None) -> dict:
    """Step 1 on the next batch of the batch mode (`{}`), or on the points `x` (targets `y`
    optional: without them there is nothing to send back)."""
    x = None if body is None or body.x is None else np.asarray(body.x, dtype=np.float64)
    y = None if body is None or body.y is None else np.asarray(body.y, dtype=np.float64)

    def step(exp: Experiment) -> dict:
        require_idle(entry)
        if y is not None and y.shape[1] != exp.targets.outputs:
            raise ValueError(f"each row of 'y' needs {exp.targets.outputs} target value(s), "
                             f"one per output neuron; got {y.shape[1]}")
        p = exp.trainer.forward(None if x is None else exp.inputs(x), y)
        return views.forward(p, exp.trainer.pending_y if y is None else y,
                             exp.trainer.pending_batch)

    return services.networks.change(entry, step)


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
def step(body: StepBody, entry: OwnedEntry, services: ServicesDep) -> dict:
    """Whole iterations (`iterations`) or whole epochs (`epochs`) at once; the new state."""
    if body.iterations:
        limits.check_iterations(body.iterations, services.settings)
    if body.epochs:
        limits.check_epochs(body.epochs, services.settings)

    def run(exp: Experiment) -> dict:
        require_idle(entry)
        t = exp.trainer
        if body.epochs:  # the answer waits for them: bounded like iterations
            limits.check_iterations(body.epochs * -(-t.n_train // t.batch_length),
                                    services.settings, epochs=body.epochs)
        try:
            t.step(iterations=body.iterations or 0, epochs=body.epochs or 0)
        except Diverged as exc:  # kept (and stored) with the last good weights, then refused
            entry.end_run("diverged", str(exc))
        return snapshot(entry)

    state = services.networks.change(entry, run)
    if state["last_run"] and state["last_run"]["reason"] == "diverged" and \
            state["last_run"]["iteration"] == state["iteration"]:
        raise HTTPException(409, state["last_run"]["message"])
    return state
