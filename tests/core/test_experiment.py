"""Experiments: seeded replay, export and import mid-run, the decision boundary, K classes and
the target encodings."""

import json

import numpy as np
import pytest

from backend.core.experiment import KEPT_ANSWER_BYTES, Experiment
from backend.core.network import forward

SPEC = {"dataset": {"name": "moons", "n_samples": 90, "noise": 0.2, "seed": 3},
        "hidden": [5, 3], "activation": "tanh", "output_activation": "sigmoid",
        "learning_rate": 0.2, "batch": {"mode": "minibatch", "size": 7},
        "init": {"scheme": "xavier", "seed": 11}}


def weights(exp: Experiment) -> list[np.ndarray]:
    return [p.copy() for layer in exp.net.layers for p in (layer.W, layer.b)]


def assert_bit_identical(a: Experiment, b: Experiment) -> None:
    for x, y in zip(weights(a), weights(b), strict=True):
        assert x.tobytes() == y.tobytes()
    ta, tb = a.trainer, b.trainer
    assert (ta.epoch, ta.iteration, ta.cursor) == (tb.epoch, tb.iteration, tb.cursor)
    assert ta.history.to_dict() == tb.history.to_dict()


def train_mixed(exp: Experiment) -> None:
    """Whole epochs, loose iterations, a run, and a batch step by step."""
    t = exp.trainer
    t.step(epochs=2)
    t.step(iterations=3)
    t.forward()
    t.backward()
    t.update()
    t.run(epochs=4)


# -- seeded replay ---------------------------------------------------------------------------

def test_the_same_spec_trained_the_same_way_replays_bit_for_bit():
    a, b = Experiment.create(SPEC), Experiment.create(SPEC)
    train_mixed(a)
    train_mixed(b)
    assert_bit_identical(a, b)
    assert a.trainer.epoch == 6 and len(a.trainer.history) == 7


def test_another_init_seed_gives_other_weights():
    a = Experiment.create(SPEC)
    b = Experiment.create({**SPEC, "init": {"scheme": "xavier", "seed": 12}})
    assert not np.array_equal(a.net.layers[0].W, b.net.layers[0].W)
    train_mixed(a)
    train_mixed(b)
    assert all(not np.array_equal(x, y) for x, y in zip(weights(a), weights(b), strict=True)
               if x.size)


def test_the_shuffle_seed_matters_too():
    """Same initial weights, another shuffle: the runs part (so the shuffles are seeded)."""
    a = Experiment.create(SPEC)
    b = Experiment.create(SPEC)
    b.trainer.reset_counters(seed=999)
    a.trainer.step(epochs=2)
    b.trainer.step(epochs=2)
    assert not np.array_equal(a.net.layers[0].W, b.net.layers[0].W)


def test_reset_replays_the_run():
    exp = Experiment.create(SPEC)
    first = weights(exp)
    exp.trainer.step(epochs=3)
    trained = weights(exp)
    exp.reset()
    for x, y in zip(weights(exp), first, strict=True):
        np.testing.assert_array_equal(x, y)
    assert (exp.trainer.epoch, exp.trainer.iteration, len(exp.trainer.history)) == (0, 0, 1)
    exp.trainer.step(epochs=3)
    for x, y in zip(weights(exp), trained, strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("mode", ["minibatch", "stochastic", "batch"])
def test_export_mid_epoch_json_round_trip_and_continue_bit_for_bit(mode):
    spec = {**SPEC, "batch": {"mode": mode, "size": 7}}
    live = Experiment.create(spec)
    live.trainer.step(epochs=1)
    live.trainer.step(iterations=4)  # in the middle of an epoch: cursor and order matter
    if mode != "batch":
        assert live.trainer.cursor > 0
    doc = json.loads(json.dumps(live.to_dict(), allow_nan=False))
    copy = Experiment.from_dict(doc)
    assert_bit_identical(live, copy)
    assert copy.spec == live.spec
    for exp in (live, copy):
        exp.trainer.run(epochs=3)  # crosses epoch boundaries: new shuffles from the saved RNG
        exp.trainer.step(iterations=5)
    assert_bit_identical(live, copy)
    assert live.trainer.evaluate() == copy.trainer.evaluate()


def test_an_import_keeps_changed_hyperparameters():
    live = Experiment.create(SPEC)
    live.trainer.step(iterations=5)
    live.configure({"learning_rate": 0.05, "batch": {"size": 4},
                    "regularization": {"kind": "l2", "rate": 0.01}})
    copy = Experiment.from_dict(json.loads(json.dumps(live.to_dict())))
    assert copy.trainer.config == live.trainer.config
    for exp in (live, copy):
        exp.trainer.step(epochs=2)
    assert_bit_identical(live, copy)


# -- the decision boundary -------------------------------------------------------------------

def test_boundary_shapes_layer_by_layer():
    exp = Experiment.create({**SPEC, "features": ["x1", "x2", "x1*x2"]})
    R = 13
    grids = exp.boundary(R, neurons=True)
    assert [g.shape for g in grids["neurons"]] == [(3, R, R), (5, R, R), (3, R, R), (1, R, R)]
    assert grids["output"].shape == (1, R, R)
    np.testing.assert_array_equal(grids["output"], grids["neurons"][-1])
    assert grids["resolution"] == R and grids["domain"] == exp.data.dataset.domain
    only = exp.boundary(R)
    assert only["neurons"] is None
    np.testing.assert_array_equal(only["output"], grids["output"])


def test_boundary_layer_zero_holds_the_features():
    exp = Experiment.create({**SPEC, "features": ["x1", "x2", "x1*x2", "sin(x2)"]})
    R = 9
    layer0 = exp.boundary(R, neurons=True)["neurons"][0]
    points = exp.grid_points(R)
    x1, x2 = points[:, 0].reshape(R, R), points[:, 1].reshape(R, R)
    np.testing.assert_array_equal(layer0[0], x1)
    np.testing.assert_array_equal(layer0[1], x2)
    np.testing.assert_allclose(layer0[2], x1 * x2)
    np.testing.assert_allclose(layer0[3], np.sin(x2))


@pytest.mark.parametrize(("W", "axis"), [([[1.0, 0.0]], "x1"), ([[0.0, 1.0]], "x2")])
def test_boundary_orientation_row_0_is_the_top_column_0_the_left(W, axis):
    exp = Experiment.create({"dataset": {"name": "plane"}, "hidden": [],
                             "output_activation": "linear"})
    exp.net.set_parameters([{"W": W, "b": [0.0]}])
    R = 11
    out = exp.boundary(R)["output"][0]
    (x1_lo, x1_hi), (x2_lo, x2_hi) = exp.data.dataset.domain
    if axis == "x1":  # constant down each column, growing left to right
        np.testing.assert_allclose(out[:, 0], x1_lo)
        np.testing.assert_allclose(out[:, -1], x1_hi)
        assert (np.diff(out, axis=1) > 0).all() and (np.diff(out, axis=0) == 0).all()
    else:  # constant along each row, largest at the top
        np.testing.assert_allclose(out[0, :], x2_hi)
        np.testing.assert_allclose(out[-1, :], x2_lo)
        assert (np.diff(out, axis=0) < 0).all() and (np.diff(out, axis=1) == 0).all()


def test_boundary_orientation_on_a_domain_that_is_not_square():
    exp = Experiment.create({"dataset": {"points": [[0, 10, 0.5], [4, 30, 1.5], [2, 20, 0.1]],
                                         "task": "regression"},
                             "hidden": [], "output_activation": "linear"})
    (x1_lo, x1_hi), (x2_lo, x2_hi) = exp.data.dataset.domain
    assert x1_hi - x1_lo != x2_hi - x2_lo
    exp.net.set_parameters([{"W": [[1.0, 0.0]], "b": [0.0]}])
    out = exp.boundary(5)["output"][0]
    assert out[0, 0] == pytest.approx(x1_lo) and out[0, -1] == pytest.approx(x1_hi)
    exp.net.set_parameters([{"W": [[0.0, 1.0]], "b": [0.0]}])
    out = exp.boundary(5)["output"][0]
    assert out[0, 0] == pytest.approx(x2_hi) and out[-1, 0] == pytest.approx(x2_lo)


def test_boundary_values_are_predict_at_the_grid_points():
    exp = Experiment.create({**SPEC, "features": ["x1", "x2", "x1^2"]})
    exp.trainer.step(epochs=3)
    R = 17
    grids = exp.boundary(R, neurons=True)
    points = exp.grid_points(R)
    yhat, classes = exp.predict(points)
    np.testing.assert_allclose(grids["output"][0].ravel(), yhat[:, 0], rtol=1e-14, atol=1e-15)
    p = forward(exp.net, exp.inputs(points))
    for k, grid in enumerate(grids["neurons"]):
        np.testing.assert_allclose(grid.reshape(grid.shape[0], -1), p.a[k].T,
                                   rtol=1e-14, atol=1e-15)
    # One point at a time gives the same values as the whole grid.
    for i in (0, R - 1, R * R // 2, R * R - 1):
        one, _ = exp.predict(points[i:i + 1])
        assert one[0, 0] == pytest.approx(grids["output"][0].ravel()[i], rel=1e-13)
    # After more training the boundary moves (no stale cache).
    exp.trainer.step(epochs=1)
    assert not np.array_equal(exp.boundary(R)["output"], grids["output"])


# -- K classes and target encodings ---------------------------------------------------------

POINTS3 = [[-2.0, -2.0, 0], [-1.5, -2.5, 0], [-2.5, -1.0, 0], [2.0, 2.0, 1], [2.5, 1.5, 1],
           [1.0, 2.5, 1], [2.0, -2.0, 2], [2.5, -1.5, 2], [1.5, -2.5, 2]]


@pytest.mark.parametrize(("output", "low"), [("sigmoid", 0.0), ("tanh", -1.0),
                                             ("linear", 0.0)])
def test_three_classes_give_three_one_hot_outputs(output, low):
    exp = Experiment.create({"dataset": {"points": POINTS3}, "hidden": [4],
                             "output_activation": output, "learning_rate": 0.1})
    assert exp.net.sizes == [2, 4, 3]
    assert exp.targets.classes == 3 and exp.targets.task == "classification"
    labels = np.array([p[2] for p in POINTS3], dtype=int)
    expected = np.full((9, 3), low)
    expected[np.arange(9), labels] = 1.0
    np.testing.assert_array_equal(exp.trainer.train_y, expected[exp.data.train])
    yhat, classes = exp.predict(np.array([p[:2] for p in POINTS3]))
    assert yhat.shape == (9, 3)
    np.testing.assert_array_equal(classes, np.argmax(yhat, axis=1))
    metrics = exp.trainer.evaluate()
    assert metrics["train_accuracy"] == pytest.approx(np.mean(classes == labels))
    exp.trainer.run(epochs=300)
    _, classes = exp.predict(np.array([p[:2] for p in POINTS3]))
    assert classes.tolist() == labels.tolist()
    assert exp.trainer.evaluate()["train_accuracy"] == 1.0


def test_accuracy_counts_the_right_fraction():
    exp = Experiment.create({"dataset": {"points": POINTS3}, "hidden": [],
                             "output_activation": "linear"})
    # Output j = x . w_j: class 0 wins for (-,-), class 1 for (+,+) and class 2 for (+,-).
    exp.net.set_parameters([{"W": [[-1, -1], [1, 1], [1, -1]], "b": [0, 0, 0]}])
    assert exp.trainer.evaluate()["train_accuracy"] == 1.0
    exp.net.set_parameters([{"W": [[-1, -1], [1, 1], [0, 0]], "b": [0, 0, 0]}])
    # (2,-2): outputs [0, 0, 0] -> class 0 (the first), (2.5,-1.5) -> class 1, (1.5,-2.5) -> 0
    assert exp.trainer.evaluate()["train_accuracy"] == pytest.approx(6 / 9)


@pytest.mark.parametrize(("output", "targets", "threshold"), [
    ("tanh", [-1.0, 1.0, 1.0, -1.0], 0.0), ("sigmoid", [0.0, 1.0, 1.0, 0.0], 0.5),
    ("hardlims", [-1.0, 1.0, 1.0, -1.0], 0.0), ("hardlim", [0.0, 1.0, 1.0, 0.0], 0.5),
])
def test_binary_targets_follow_the_output_range(output, targets, threshold):
    exp = Experiment.create({"dataset": {"name": "xor"}, "hidden": [2],
                             "output_activation": output})
    assert exp.net.sizes[-1] == 1
    assert exp.trainer.train_y[:, 0].tolist() == targets
    assert exp.targets.threshold == threshold
    yhat = np.array([[threshold - 1e-9], [threshold], [threshold + 0.3]])
    assert exp.targets.classify(yhat).tolist() == [0, 1, 1]


def test_tanh_output_learns_xor_with_minus_one_plus_one_targets():
    exp = Experiment.create({"dataset": {"name": "xor"}, "hidden": [4],
                             "output_activation": "tanh", "learning_rate": 0.1,
                             "batch": {"mode": "batch"}, "init": {"seed": 2}})
    exp.trainer.run(epochs=2000)
    yhat, classes = exp.predict(np.array([[0, 0], [0, 1], [1, 0], [1, 1]]))
    assert classes.tolist() == [0, 1, 1, 0]
    assert (np.sign(yhat[:, 0]) == [-1, 1, 1, -1]).all()
    assert exp.trainer.evaluate()["train_accuracy"] == 1.0


def test_regression_has_one_output_and_no_accuracy():
    exp = Experiment.create({"dataset": {"name": "peaks", "n_samples": 50}})
    assert exp.net.sizes[-1] == 1 and exp.net.activations[-1] == "linear"
    np.testing.assert_array_equal(exp.trainer.train_y[:, 0],
                                  exp.data.dataset.y[exp.data.train])
    metrics = exp.trainer.evaluate()
    assert metrics["train_accuracy"] is None and metrics["test_accuracy"] is None
    _, classes = exp.predict(np.zeros((2, 2)))
    assert classes is None


def test_the_boundary_of_a_copy_of_the_network_has_buffers_of_its_own():
    """A painter thread draws a copy of the weights while the run trains the network: both
    boundaries are right, whichever was drawn last."""
    exp = Experiment.create({"dataset": {"name": "circle"}, "hidden": [3, 2]})
    copy = exp.net.copy()
    before = exp.boundary(20, neurons=True, neuron_resolution=10)
    exp.trainer.step(epochs=3)
    trained = exp.boundary(20, neurons=True, neuron_resolution=10, copy=False)
    drawn_from_copy = exp.boundary(20, neurons=True, neuron_resolution=10, net=copy)
    np.testing.assert_array_equal(drawn_from_copy["output"], before["output"])
    for a, b in zip(drawn_from_copy["neurons"], before["neurons"], strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(trained["output"], before["output"])  # not overwritten
    np.testing.assert_array_equal(trained["output"], exp.boundary(20)["output"])


def test_an_answer_for_these_weights_is_drawn_again_only_when_they_change():
    """The page asks for the same grids after a step that changed no weight (forward,
    backward, a new learning rate): drawn once. Any change of the weights, whichever way it
    came (an update, epochs of the fast path, a reset, weights set by hand), draws it again,
    as does another question (``key``)."""
    exp = Experiment.create(SPEC)
    t = exp.trainer
    drawn = []

    def answer(key="grids"):
        return exp.for_these_weights(key, lambda: drawn.append(weights(exp)) or
                                     json.dumps(len(drawn)).encode())

    assert answer() == b"1"
    t.forward()
    t.backward()
    exp.configure({"learning_rate": 0.5})
    assert answer() == b"1" and len(drawn) == 1
    assert answer("other grids") == b"2"  # another question: drawn, and kept instead
    assert answer() == b"3"
    changes = [lambda: (t.forward(), t.backward(), t.update()), lambda: t.step(epochs=2),
               lambda: t.step(iterations=1), lambda: t.run(epochs=1), lambda: exp.reset(seed=5),
               lambda: exp.set_parameters(
                   [{"W": (layer.W + 0.5).tolist(), "b": layer.b.tolist()}
                    for layer in exp.net.layers])]
    for change in changes:
        before = len(drawn)
        change()
        assert answer() == str(before + 1).encode()
        for x, y in zip(drawn[-1], weights(exp), strict=True):  # drawn from the new weights
            np.testing.assert_array_equal(x, y)


def test_the_answer_kept_counts_in_the_memory_held_and_goes_with_the_caches():
    exp = Experiment.create(SPEC)
    grids = exp.memory()["grids"]
    exp.for_these_weights("grids", lambda: b"x" * 100_000)
    assert exp.memory()["grids"] == grids + 100_000
    exp.drop_caches()
    assert exp.memory()["grids"] == 0
    assert exp.for_these_weights("grids", lambda: b"drawn again") == b"drawn again"
    large = b"x" * (KEPT_ANSWER_BYTES + 1)  # finer grids than the page's: not kept
    assert exp.for_these_weights("large", lambda: large) == large
    assert exp.memory()["grids"] == 0
    assert exp.for_these_weights("large", lambda: b"drawn again") == b"drawn again"
