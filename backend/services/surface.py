"""The error surface of a network (issue 16): its parameters, data and configuration copied
under the network's lock, the surface and the paths computed outside it (a run or a step
waits only for the copy), and the answer's JSON. The network itself is never changed."""

from __future__ import annotations

from dataclasses import replace

from backend.core.experiment import Experiment
from backend.core.surface import Parameter, Path, Surface, error_surface, minibatch_size
from backend.services.networks import Entry, NetworkService
from backend.services.views import array, finite


def chosen_minibatch(exp: Experiment, minibatch: int | None) -> int:
    """The mini-batch path's batch size: as asked, else the network's (under its data)."""
    t = exp.trainer
    return minibatch if minibatch is not None else minibatch_size(t.config, t.n_train)


def surface(networks: NetworkService, entry: Entry, parameters: list[Parameter] | None,
            ranges, resolution: int, epochs: int, minibatch: int | None, seed: int | None,
            learning_rate: float | None) -> dict:
    def take(exp: Experiment) -> tuple:
        t = exp.trainer
        config = replace(t.config, learning_rate=learning_rate or t.config.learning_rate)
        return (exp.net.copy(), t.train_a0.copy(), t.train_y.copy(), config,
                chosen_minibatch(exp, minibatch),
                exp.spec["init"]["seed"] if seed is None else seed)

    net, a0, y, config, m, seed = networks.read(entry, take)
    s = error_surface(net, a0, y, config, parameters, ranges, resolution, epochs, m, seed)
    return view(s, seed)


def view(s: Surface, seed: int) -> dict:
    return {
        "parameters": [{"layer": p.layer, "kind": p.kind, "i": p.i, "j": p.j, "name": p.name}
                       for p in s.parameters],
        "start": list(s.start),
        "resolution": len(s.axes[0]),
        "range": [[float(a[0]), float(a[-1])] for a in s.axes],
        "J": array(s.J),
        "learning_rate": s.learning_rate,
        "epochs": s.epochs,
        "seed": seed,
        "paths": [path_view(p) for p in s.paths],
        "warnings": s.warnings,
    }


def path_view(p: Path) -> dict:
    message = None
    if p.diverged:
        message = (f"Stopped after {p.updates} update(s): the next one made J or a parameter "
                   "infinite. The learning rate is too large for this path; try a smaller one.")
    return {"mode": p.mode, "batch_size": p.batch_size, "updates": p.updates,
            "points": array(p.points), "J": [finite(v) for v in p.J],
            "diverged": p.diverged, "message": message}
