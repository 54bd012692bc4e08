"""The error surface: J over two parameters against J computed directly, the three batch
modes' first steps against the lecture's formulas worked by hand, paths that lie on the
surface, and a network left as it was."""

import numpy as np
import pytest

from backend.core.config import TrainingConfig
from backend.core.experiment import Experiment
from backend.core.network import Network, forward
from backend.core.surface import (
    Parameter,
    SurfaceError,
    default_parameters,
    error_surface,
    minibatch_size,
)

# A 1-1 linear network on three points: yhat = w x + b.
X = np.array([[1.0], [2.0], [-1.0]])
Y = np.array([[1.0], [0.0], [2.0]])
W0, B0, ETA = 0.5, 0.0, 0.1
W_B = [Parameter(0, "W", 0, 0), Parameter(0, "b", 0)]


def line() -> Network:
    return Network([1, 1], ["linear"], [{"W": [[W0]], "b": [B0]}])


def direct_J(net: Network, x, y, rate: float = 0.0) -> float:
    """mean over samples of (y - yhat)^2, plus L2's rate / 2 * sum W^2."""
    yhat = forward(net, x).output
    weights = sum(float((layer.W**2).sum()) for layer in net.layers)
    return float(((y - yhat) ** 2).sum(axis=1).mean()) + rate / 2 * weights


def test_the_grid_is_J_with_the_two_parameters_set_there():
    exp = Experiment.create({"dataset": {"name": "xor"}, "hidden": [3],
                             "regularization": {"kind": "l2", "rate": 0.1}})
    t = exp.trainer
    params = [Parameter(0, "W", 1, 0), Parameter(1, "b", 0)]
    s = error_surface(exp.net, t.train_a0, t.train_y, t.config, params,
                      ((-2.0, 1.0), (-0.5, 3.0)), resolution=7, epochs=1)
    assert s.J.shape == (7, 7)
    u, v = s.axes
    assert u[0] == -2.0 and u[-1] == 1.0 and v[0] == -0.5 and v[-1] == 3.0
    for r, c in ((0, 0), (6, 6), (2, 5), (3, 1)):
        net = exp.net.copy()
        net.layers[0].W[1, 0] = u[c]
        net.layers[1].b[0] = v[len(v) - 1 - r]  # row 0 is the largest value, as an image
        assert s.J[r, c] == pytest.approx(direct_J(net, t.train_a0, t.train_y, rate=0.1),
                                          rel=1e-12)


def test_the_first_step_of_each_mode_is_the_lectures_by_hand():
    config = TrainingConfig(learning_rate=ETA)
    seed = 3
    s = error_surface(line(), X, Y, config, W_B, resolution=3, epochs=1, minibatch=2,
                      seed=seed)
    paths = {p.mode: p for p in s.paths}

    def step(rows):
        # dJ/dw = mean of -2 (y - yhat) x, dJ/db = mean of -2 (y - yhat), yhat = w x + b
        e = Y[rows, 0] - (W0 * X[rows, 0] + B0)
        return W0 - ETA * np.mean(-2 * e * X[rows, 0]), B0 - ETA * np.mean(-2 * e)

    # Batch: every sample. e = [0.5, -1, 2.5]: dJ/dw = 8/3, dJ/db = -4/3.
    assert paths["batch"].points[1] == pytest.approx([0.5 - 0.1 * 8 / 3, 0.1 * 4 / 3])
    assert paths["batch"].points[1] == pytest.approx(step([0, 1, 2]))
    order = np.random.default_rng(seed).permutation(3)  # the epoch's shuffle
    assert paths["stochastic"].points[1] == pytest.approx(step(order[:1]))
    assert paths["minibatch"].points[1] == pytest.approx(step(order[:2]))
    assert [p.updates for p in s.paths] == [1, 3, 2]
    for p in s.paths:
        assert p.points[0] == pytest.approx([W0, B0]) and not p.diverged


def test_every_point_of_a_path_lies_on_the_surface():
    exp = Experiment.create({"dataset": {"name": "and"}, "hidden": [], "activations":
                             ["sigmoid"], "learning_rate": 2.0})
    t = exp.trainer
    s = error_surface(exp.net, t.train_a0, t.train_y, t.config, epochs=5)
    for path in s.paths:
        assert len(path.points) == len(path.J) == path.updates + 1
        for (w1, w2), value in zip(path.points, path.J, strict=True):
            net = exp.net.copy()
            net.layers[0].W[0] = [w1, w2]
            assert value == pytest.approx(direct_J(net, t.train_a0, t.train_y), rel=1e-12)


def test_only_the_two_parameters_move_and_the_network_is_unchanged():
    exp = Experiment.create({"dataset": {"name": "xor"}, "hidden": [2],
                             "regularization": {"kind": "l1", "rate": 0.01},
                             "learning_rate": 1.0})
    t = exp.trainer
    before, version = exp.net.theta.copy(), exp.net.version
    s = error_surface(exp.net, t.train_a0, t.train_y, t.config, epochs=3)
    assert np.array_equal(exp.net.theta, before) and exp.net.version == version
    assert [p.name for p in s.parameters] == ["W^2[0,0]", "W^2[0,1]"]
    for path in s.paths:
        assert np.abs(path.points[-1] - path.points[0]).max() > 0  # they moved
        net = exp.net.copy()
        net.layers[1].W[0] = path.points[-1]
        assert path.J[-1] == pytest.approx(
            direct_J(net, t.train_a0, t.train_y) + 0.01 * np.abs(net.layers[0].W).sum()
            + 0.01 * np.abs(net.layers[1].W).sum(), rel=1e-12)


def test_a_diverging_path_stops_with_a_flag_and_only_finite_numbers():
    s = error_surface(line(), X * 1e3, Y, TrainingConfig(learning_rate=10.0), W_B,
                      resolution=3, epochs=200)
    assert all(p.diverged for p in s.paths)
    for p in s.paths:
        assert np.isfinite(p.points).all() and np.isfinite(p.J).all()
        assert p.updates < 200


def test_the_default_parameters_and_mini_batch():
    assert default_parameters(Network([2, 3, 1], ["tanh", "sigmoid"])) == [
        Parameter(1, "W", 0, 0), Parameter(1, "W", 0, 1)]
    assert default_parameters(line()) == W_B
    assert minibatch_size(TrainingConfig(batch_size=10), 4) == 2
    assert minibatch_size(TrainingConfig(batch_size=10), 200) == 10


@pytest.mark.parametrize(("params", "words"), [
    ([Parameter(0, "W", 0, 0), Parameter(0, "W", 0, 0)], "two different parameters"),
    ([Parameter(1, "W", 0, 0), Parameter(0, "b", 0)], "layer 1 does not exist"),
    ([Parameter(0, "W", 0, 1), Parameter(0, "b", 0)], "j must be from 0 to 0"),
    ([Parameter(0, "W", 2, 0), Parameter(0, "b", 0)], "i must be from 0 to 0"),
    ([Parameter(0, "b", 0, 1), Parameter(0, "W", 0, 0)], "one index"),
    ([Parameter(0, "b", 0)], "choose two parameters"),
])
def test_parameters_that_do_not_fit_are_refused_with_a_sentence(params, words):
    with pytest.raises(SurfaceError, match=words):
        error_surface(line(), X, Y, TrainingConfig(), params, resolution=3, epochs=1)


def test_a_range_must_be_increasing():
    with pytest.raises(SurfaceError, match="lo < hi"):
        error_surface(line(), X, Y, TrainingConfig(), W_B, ((1.0, 1.0), (0.0, 1.0)),
                      resolution=3, epochs=1)
