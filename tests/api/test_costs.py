"""The cost model against the real thing: what it prices a network to hold is at least what
the network holds after every kind of use, and the work it prices grows as the work does."""

from __future__ import annotations

import numpy as np
import pytest

from backend.core.experiment import Experiment
from backend.services import costs
from backend.services.budgets import Budgets
from backend.services.costs import Shape
from backend.settings import Settings

SPECS = [
    {"dataset": {"name": "xor"}, "hidden": [3]},
    {"dataset": {"name": "circle", "n_samples": 2000}, "hidden": [8, 8],
     "features": ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]},
    {"dataset": {"name": "spiral", "n_samples": 10_000}, "hidden": [64] * 8},
    {"dataset": {"points": [[i % 7, i % 5, i % 4] for i in range(3000)]}, "hidden": [16, 16]},
]


@pytest.mark.parametrize("spec", SPECS, ids=["xor", "circle 7 features", "8 x 64", "4 classes"])
def test_a_network_holds_no_more_than_it_is_priced(spec):
    exp = Experiment.create(spec)
    budgets = Budgets(Settings())
    priced = budgets.network_bytes(exp)
    for mode, size in (("stochastic", 1), ("minibatch", 10), ("minibatch", 700), ("batch", 10)):
        exp.configure({"batch": {"mode": mode, "size": size}})
        exp.trainer.step(iterations=3)
        exp.trainer.run(epochs=2)
        exp.trainer.forward()
        exp.trainer.backward()
        exp.trainer.update()
        exp.predict(np.zeros((5000, 2)))
        held = exp.memory()
        assert sum(held.values()) - held["grids"] <= priced, (mode, held, priced)
    exp.boundary(200, True, 40)
    assert exp.memory()["grids"] > 0
    exp.drop_caches()
    assert exp.memory()["grids"] == 0 and exp.memory()["buffers"] == 0


def test_the_work_priced_grows_with_the_work():
    small, wide = Shape.of([2, 4, 1]), Shape.of([2, 64, 64, 1])
    assert costs.forward_work(wide, 100) == 100 * costs.forward_work(wide, 1)
    assert costs.forward_work(wide, 1) > 100 * costs.forward_work(small, 1)
    assert costs.iteration_work(wide, 32, compiled=False) > costs.iteration_work(wide, 1, False)
    assert costs.epoch_work(small, 100, 10, True, 0) > 10 * costs.iteration_work(small, 10, True)
    assert costs.grid_work(wide, 100, 50) > costs.grid_work(wide, 100, None) > \
        costs.grid_work(wide, 50, None)
    assert costs.grid_bytes(wide, 100, None, "float32") == -(-4 * 100**2 // 3) * 4
    assert costs.grid_values(wide, 10, 5) == 100 + (2 + 129) * 25


def test_an_error_surface_is_priced_by_its_grid_paths_and_network():
    small, wide = Shape.of([2, 4, 1]), Shape.of([2, 64, 64, 1])
    base = costs.surface_work(small, 100, 41, 30, 10)
    assert costs.surface_work(small, 100, 81, 30, 10) > base
    assert costs.surface_work(small, 100, 41, 60, 10) > base
    assert costs.surface_work(small, 1000, 41, 30, 10) > base
    assert costs.surface_work(wide, 100, 41, 30, 10) > base
    # The start and one point per update: 1, 100 and 10 updates an epoch.
    assert costs.surface_path_points(100, 3, 10) == (1 + 3) + (1 + 300) + (1 + 30)
    assert costs.surface_answer_bytes(41, 0) == costs.JSON_NUMBER_BYTES * (41**2 + 82)
