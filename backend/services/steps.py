"""Backpropagation one step at a time (forward, backward, update), and whole iterations now:
the calls whose answer waits for the work, each applied, saved and shown to every viewer."""

from __future__ import annotations

import threading
import time

import numpy as np

from backend.core.experiment import Experiment
from backend.core.training import Diverged
from backend.services import views
from backend.services.errors import Conflict
from backend.services.jsontext import dumps
from backend.services.networks import Entry, NetworkService, require_idle, snapshot
from backend.settings import Settings


class StepService:
    def __init__(self, networks: NetworkService, settings: Settings,
                 stopping: threading.Event):
        self.networks = networks
        self.settings = settings
        self.stopping = stopping  # set when the server shuts down: long steps end early

    def forward(self, entry: Entry, x: np.ndarray | None, y: np.ndarray | None) -> str:
        """Step 1 on the next batch of the batch mode, or on the points ``x`` (targets ``y``
        optional: without them there is nothing to send back)."""
        def step(exp: Experiment) -> dict:
            t = exp.trainer
            p = t.forward(None if x is None else exp.inputs(x), y)
            targets = t.pending_y if y is None else y
            entry.samples = views.samples(exp, x, targets, t.pending_batch)
            return views.forward(p, targets, t.pending_batch)

        return self._teach(entry, "forward", step)

    def backward(self, entry: Entry) -> str:
        """Step 2: the loss and every layer's sensitivities (perceptron: the error e)."""
        def step(exp: Experiment) -> dict:
            t = exp.trainer
            p, loss = t.backward()
            return views.backward(p, loss, t.config.rule, t.batch_errors)

        return self._teach(entry, "backward", step)

    def update(self, entry: Entry) -> str:
        """Step 3: the new W, b and the change dW, db of every layer."""
        def step(exp: Experiment) -> dict:
            dW, db = exp.trainer.update()
            return views.update(exp, dW, db)

        return self._teach(entry, "update", step)

    def _teach(self, entry: Entry, name: str, step) -> str:
        """Carry out a teaching step; its answer as JSON text. The same text goes to every
        viewer after the step's snapshot, as a ``lab`` event with the step's name and samples,
        so that a class sees the numbers its teacher's lab shows."""
        def teach(exp: Experiment) -> tuple[str, dict | None]:
            require_idle(entry)
            return dumps(step(exp)), entry.samples

        answer, samples = self.networks.change(entry, teach)
        if entry.channel.viewers:
            entry.channel.publish("lab", views.lab(name, samples, answer))
        return answer

    def iterations(self, entry: Entry, iterations: int, epochs: int,
                   gone: threading.Event) -> dict:
        """Whole iterations, or whole epochs; the new state. A step that runs longer than
        ``max_step_seconds``, whose client goes away (``gone``) or that the server's shutdown
        interrupts ends at the next batch, keeping (and saving) what it did, with a
        ``last_run`` that says so. One that diverges keeps the last good weights, is saved,
        and is refused (Conflict) with the reason."""
        limit = self.settings.max_step_seconds
        diverged: list[str] = []

        def run(exp: Experiment) -> dict:
            require_idle(entry)
            t = exp.trainer
            deadline = time.monotonic() + limit
            try:
                whole = t.step(iterations, epochs, should_stop=lambda: (
                    gone.is_set() or self.stopping.is_set() or time.monotonic() >= deadline))
            except Diverged as exc:
                diverged.append(str(exc))
                entry.end_run("diverged", str(exc))
                return snapshot(entry)
            if not whole:
                why = ("the client went away" if gone.is_set() else "the server is stopping"
                       if self.stopping.is_set() else
                       f"it took longer than a step may ({limit:g} s): ask for fewer, or "
                       "train in the background")
                entry.end_run("cut_short", f"The step ended at epoch {t.epoch}, iteration "
                                           f"{t.iteration}, before all it asked for: {why}. "
                                           "What it did is kept.")
            return snapshot(entry)

        state = self.networks.change(entry, run)
        if diverged:
            raise Conflict(diverged[0])
        return state
