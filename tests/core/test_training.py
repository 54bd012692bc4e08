"""Training: batch modes, the mini-batch mean, step order, regularization, rules that cannot
learn, and divergence."""

import math

import numpy as np
import pytest

from backend.core.experiment import Experiment
from backend.core.network import Network
from backend.core.spec import SpecError
from backend.core.training import (
    CannotLearn,
    Diverged,
    StepOrderError,
    TrainingConfig,
    TrainingError,
)

# -- an independent reference: the lecture's column-vector step for one sample ------------------

F = {
    "relu": (lambda n: np.where(n >= 0, n, 0.0), lambda n: (n > 0).astype(float)),
    "linear": (lambda n: n, np.ones_like),
    "sigmoid": (lambda n: 1 / (1 + np.exp(-n)),
                lambda n: 1 / (1 + np.exp(-n)) * (1 - 1 / (1 + np.exp(-n)))),
    "tanh": (np.tanh, lambda n: 1 - np.tanh(n) ** 2),
}


def lecture_step(net: Network, x: np.ndarray, y: np.ndarray):
    """s^k (a^(k-1))^T and s^k for one sample x (p^0,), y (p^l,), written as in the lecture."""
    a, n = [x], [None]
    for layer in net.layers:
        n.append(layer.W @ a[-1] + layer.b)
        a.append(F[layer.activation.name][0](n[-1]))
    l = net.depth
    s = [None] * (l + 1)
    s[l] = -2 * (y - a[l]) * F[net.layers[l - 1].activation.name][1](n[l])
    for k in range(l - 1, 0, -1):
        s[k] = F[net.layers[k - 1].activation.name][1](n[k]) * (net.layers[k].W.T @ s[k + 1])
    return [np.outer(s[k], a[k - 1]) for k in range(1, l + 1)], [s[k] for k in range(1, l + 1)]


def mean_lecture_step(net: Network, xs: np.ndarray, ys: np.ndarray):
    steps = [lecture_step(net, x, y) for x, y in zip(xs, ys, strict=True)]
    gW = [np.mean([st[0][k] for st in steps], axis=0) for k in range(net.depth)]
    gb = [np.mean([st[1][k] for st in steps], axis=0) for k in range(net.depth)]
    return gW, gb


def weights(exp: Experiment) -> list[np.ndarray]:
    return [p.copy() for layer in exp.net.layers for p in (layer.W, layer.b)]


def assert_same_weights(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def all_finite(exp: Experiment) -> bool:
    return all(np.isfinite(w).all() for w in weights(exp))


def gaussians(n: int = 23, **body) -> Experiment:
    spec = {"dataset": {"name": "gaussians", "n_samples": n, "train_fraction": 1.0, "seed": 4},
            "hidden": [3], "activation": "tanh", "output_activation": "sigmoid",
            "learning_rate": 0.3, "init": {"scheme": "xavier", "seed": 5}}
    spec.update(body)
    return Experiment.create(spec)


# -- batch modes -----------------------------------------------------------------------------

MODES = [  # (mode, size, updates per epoch of 23 samples, batch sizes)
    ("batch", 10, 1, [23]),
    ("stochastic", 10, 23, [1] * 23),
    ("minibatch", 5, 5, [5, 5, 5, 5, 3]),
    ("minibatch", 10, 3, [10, 10, 3]),
    ("minibatch", 1, 23, [1] * 23),
    ("minibatch", 23, 1, [23]),
    ("minibatch", 50, 1, [23]),
]


@pytest.mark.parametrize(("mode", "size", "updates", "sizes"), MODES)
def test_updates_per_epoch(mode, size, updates, sizes):
    assert updates == len(sizes) and sum(sizes) == 23
    if mode == "minibatch":
        assert updates == math.ceil(23 / size)
    exp = gaussians(batch={"mode": mode, "size": size})
    t = exp.trainer
    t.step(epochs=1)
    assert (t.epoch, t.iteration, t.cursor) == (1, updates, 0)
    t.step(epochs=2)
    assert (t.epoch, t.iteration, t.cursor) == (3, 3 * updates, 0)
    assert t.history.columns["epoch"] == [0, 1, 2, 3]
    assert t.history.columns["iteration"] == [0, updates, 2 * updates, 3 * updates]


def sample_indices(t, a0: np.ndarray) -> list[int]:
    """Which training samples a batch's inputs are (the points are distinct)."""
    index = {tuple(row): i for i, row in enumerate(t.train_a0.tolist())}
    assert len(index) == t.n_train
    return [index[tuple(row)] for row in a0.tolist()]


def epoch_by_hand(exp: Experiment) -> list[list[int]]:
    """One epoch step by step; the training-sample indices of each batch, in order."""
    t = exp.trainer
    start = t.epoch
    batches = []
    while t.epoch == start:
        p = t.forward()
        batches.append(sample_indices(t, p.a[0]))
        t.backward()
        t.update()
    return batches


@pytest.mark.parametrize(("mode", "size", "updates", "sizes"), MODES)
def test_batches_are_consecutive_slices_of_a_fresh_shuffle(mode, size, updates, sizes):
    exp = gaussians(batch={"mode": mode, "size": size})
    orders = []
    for _ in range(3):
        batches = epoch_by_hand(exp)
        assert [len(b) for b in batches] == sizes
        order = [i for b in batches for i in b]
        assert sorted(order) == list(range(23))  # every sample once per epoch
        orders.append(order)
    if mode == "batch":
        assert orders == [list(range(23))] * 3  # the whole set, never reshuffled
    else:
        assert list(range(23)) not in orders  # shuffled, from the first epoch on
        assert orders[0] != orders[1] and orders[1] != orders[2] and orders[0] != orders[2]


def test_the_last_smaller_minibatch_is_averaged_over_its_own_size():
    exp = gaussians(batch={"mode": "minibatch", "size": 10})
    t = exp.trainer
    eta = t.config.learning_rate
    for _ in range(2):  # the first two batches of 10
        t.forward()
        t.backward()
        t.update()
    before = exp.net.copy()
    p = t.forward()
    assert p.a[0].shape == (3, 2)
    ws, _ = t.backward()
    gW, gb = mean_lecture_step(before, p.a[0], t.train_y[sample_indices(t, p.a[0])])
    for k in range(before.depth):
        np.testing.assert_allclose(ws.gW[k + 1], gW[k], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(ws.gb[k + 1], gb[k], rtol=1e-12, atol=1e-15)
    dW, db = t.update()
    for k in range(before.depth):
        np.testing.assert_allclose(dW[k], -eta * gW[k], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(db[k], -eta * gb[k], rtol=1e-12, atol=1e-15)
    assert t.epoch == 1 and t.iteration == 3


@pytest.mark.parametrize(("mode", "size"), [("minibatch", 10), ("batch", 1), ("stochastic", 1),
                                            ("minibatch", 4)])
def test_whole_iterations_match_the_three_steps(mode, size):
    """The fast loop (preallocated workspaces) and the teaching steps train the same network."""
    fast = gaussians(batch={"mode": mode, "size": size})
    slow = gaussians(batch={"mode": mode, "size": size})
    fast.trainer.step(epochs=3)
    for _ in range(3):
        epoch_by_hand(slow)
    for a, b in zip(weights(fast), weights(slow), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert fast.trainer.iteration == slow.trainer.iteration
    np.testing.assert_allclose(fast.trainer.history.columns["train_loss"],
                               slow.trainer.history.columns["train_loss"], rtol=1e-12)


# -- the mini-batch update is the mean of the lecture's per-sample steps ----------------------

@pytest.mark.parametrize("activations", [["tanh", "sigmoid"], ["relu", "relu", "linear"],
                                         ["sigmoid", "tanh", "tanh"], ["linear"]])
@pytest.mark.parametrize("m", [1, 2, 6])
def test_minibatch_update_is_the_mean_of_the_lecture_steps(activations, m):
    exp = Experiment.create({"dataset": {"name": "plane", "n_samples": 40},
                             "hidden": [3, 2][:len(activations) - 1],
                             "activations": activations, "learning_rate": 0.05,
                             "init": {"scheme": "uniform", "seed": m}})
    t = exp.trainer
    xs, ys = t.train_a0[:m], t.train_y[:m]
    before = exp.net.copy()
    gW, gb = mean_lecture_step(before, xs, ys)
    t.forward(xs, ys)
    t.backward()
    dW, db = t.update()
    for k, layer in enumerate(exp.net.layers):
        np.testing.assert_allclose(dW[k], -0.05 * gW[k], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(db[k], -0.05 * gb[k], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(layer.W, before.layers[k].W + dW[k], rtol=0, atol=1e-15)
        np.testing.assert_allclose(layer.b, before.layers[k].b + db[k], rtol=0, atol=1e-15)


def test_whole_batch_iteration_is_the_mean_over_the_training_set():
    exp = gaussians(batch={"mode": "batch"})
    before = exp.net.copy()
    gW, gb = mean_lecture_step(before, exp.trainer.train_a0, exp.trainer.train_y)
    exp.trainer.step(iterations=1)
    eta = exp.trainer.config.learning_rate
    for k, layer in enumerate(exp.net.layers):
        np.testing.assert_allclose(layer.W, before.layers[k].W - eta * gW[k], atol=1e-14)
        np.testing.assert_allclose(layer.b, before.layers[k].b - eta * gb[k], atol=1e-14)


# -- step order ------------------------------------------------------------------------------

def test_backward_or_update_before_forward_say_forward_comes_next():
    t = gaussians().trainer
    for call in (t.backward, t.update):
        with pytest.raises(StepOrderError, match="the next step is forward") as info:
            call()
        assert info.value.expected == "forward"
    assert t.next_step == "forward" and t.iteration == 0


def test_forward_twice_says_backward_comes_next():
    t = gaussians().trainer
    t.forward()
    with pytest.raises(StepOrderError, match="the next step is backward") as info:
        t.forward()
    assert info.value.called == "forward" and info.value.expected == "backward"
    t.backward()
    with pytest.raises(StepOrderError, match="the next step is update"):
        t.forward()
    with pytest.raises(StepOrderError, match="the next step is update"):
        t.backward()
    t.update()
    assert t.next_step == "forward" and t.iteration == 1


def test_forward_with_x_but_no_y_then_backward_explains_there_is_no_y():
    t = gaussians().trainer
    before = t.net.copy()
    p = t.forward(np.array([[0.5, -1.0], [2.0, 2.0]]))
    assert p.output.shape == (2, 1)
    with pytest.raises(StepOrderError, match="without y") as info:
        t.backward()
    assert "no error to send back" in str(info.value)
    with pytest.raises(StepOrderError):
        t.update()
    assert t.iteration == 0 and t.cursor == 0
    assert [layer.W.tolist() for layer in t.net.layers] == [
        layer.W.tolist() for layer in before.layers]


def test_a_whole_iteration_inside_a_step_by_step_batch_raises():
    t = gaussians().trainer
    t.forward()
    with pytest.raises(StepOrderError, match="next step is backward"):
        t.iterate()
    with pytest.raises(StepOrderError):
        t.step(iterations=1)
    t.backward()
    with pytest.raises(StepOrderError, match="next step is update"):
        t.iterate()
    t.update()
    t.iterate()  # and once the batch is done, whole iterations go on
    assert t.iteration == 2


# -- regularization ------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["l1", "l2"])
def test_regularization_adds_to_the_weight_gradient_only(kind):
    rate, eta = 0.3, 0.1
    reg = gaussians(regularization={"kind": kind, "rate": rate}, learning_rate=eta,
                    init={"scheme": "uniform", "seed": 2})
    W = [layer.W.copy() for layer in reg.net.layers]
    W[0][0, 0] = 0.0  # sign(0) = 0: L1 adds nothing there
    reg.net.layers[0].W[0, 0] = 0.0
    t = reg.trainer
    t.forward()
    ws, loss = t.backward()
    gW = [ws.gW[k].copy() for k in range(1, reg.net.depth + 1)]
    gb = [ws.gb[k].copy() for k in range(1, reg.net.depth + 1)]
    y = t.train_y[sample_indices(t, ws.a[0])]
    assert loss == pytest.approx(float(np.mean(np.sum((ws.output - y) ** 2, axis=1))))
    dW, db = t.update()
    for k in range(reg.net.depth):
        penalty = rate * W[k] if kind == "l2" else rate * np.sign(W[k])
        np.testing.assert_allclose(dW[k], -eta * (gW[k] + penalty), rtol=1e-13, atol=1e-16)
        np.testing.assert_allclose(db[k], -eta * gb[k], rtol=1e-13, atol=1e-16)
        assert not np.allclose(penalty, 0.0)
    if kind == "l1":
        assert dW[0][0, 0] == -eta * gW[0][0, 0]


def test_no_regularization_and_rate_zero_are_plain_gradient_descent():
    for body in ({"kind": "none", "rate": 5.0}, {"kind": "l2", "rate": 0.0}):
        exp = gaussians(regularization=body)
        t = exp.trainer
        t.forward()
        ws, _ = t.backward()
        gW = ws.gW[1].copy()
        dW, _ = t.update()
        np.testing.assert_allclose(dW[0], -t.config.learning_rate * gW, rtol=1e-14)


def test_the_reported_loss_has_no_regularization_term():
    plain = gaussians()
    reg = gaussians(regularization={"kind": "l2", "rate": 10.0})
    assert reg.trainer.evaluate() == plain.trainer.evaluate()
    plain.trainer.forward()
    reg.trainer.forward()
    assert reg.trainer.backward()[1] == plain.trainer.backward()[1]


# -- hardlim and backprop --------------------------------------------------------------------

def test_hardlim_output_with_backprop_warns_and_cannot_learn():
    exp = Experiment.create({"dataset": {"name": "and"}, "hidden": [],
                             "output_activation": "hardlim", "rule": "backprop"})
    assert len(exp.warnings) == 1
    assert "hardlim" in exp.warnings[0] and "output layer" in exp.warnings[0]
    before = weights(exp)
    result = exp.trainer.run(epochs=10)
    assert result.reason == "cannot_learn"
    assert result.message == exp.warnings[0]
    assert result.epochs == 0 and result.iterations == 0
    with pytest.raises(CannotLearn, match="derivative is 0"):
        exp.trainer.step(iterations=1)
    with pytest.raises(CannotLearn):
        exp.trainer.step(epochs=1)
    assert_same_weights(weights(exp), before)


def test_hardlim_hidden_layer_with_sigmoid_output_trains_the_output_layer():
    exp = Experiment.create({"dataset": {"name": "xor"}, "hidden": [3],
                             "activations": ["hardlim", "sigmoid"], "learning_rate": 0.5,
                             "init": {"scheme": "uniform", "seed": 1}})
    assert len(exp.warnings) == 1 and "Layer 1" in exp.warnings[0]
    assert "hardlim" in exp.warnings[0] and "output" not in exp.warnings[0]
    W1, W2 = exp.net.layers[0].W.copy(), exp.net.layers[1].W.copy()
    loss0 = exp.trainer.evaluate()["train_loss"]
    result = exp.trainer.run(epochs=20)
    assert result.reason == "finished"
    np.testing.assert_array_equal(exp.net.layers[0].W, W1)  # no gradient through hardlim
    assert not np.array_equal(exp.net.layers[1].W, W2)
    assert exp.trainer.evaluate()["train_loss"] < loss0


def test_hardlims_output_cannot_learn_either():
    exp = Experiment.create({"dataset": {"name": "circle"}, "hidden": [2],
                             "activations": ["tanh", "hardlims"]})
    assert exp.warnings and "hardlims" in exp.warnings[0]
    assert exp.trainer.run(epochs=1).reason == "cannot_learn"


def test_backprop_networks_that_can_learn_have_no_warning():
    for acts in (["tanh", "sigmoid"], ["relu", "linear"], ["sigmoid", "tanh"]):
        exp = Experiment.create({"dataset": {"name": "circle"}, "hidden": [2],
                                 "activations": acts})
        assert exp.warnings == []


# -- the perceptron rule's configuration -------------------------------------------------------

def a_sentence(message: str) -> bool:
    return len(message.split()) >= 8 and message.rstrip().endswith(".")


@pytest.mark.parametrize("body", [
    {"rule": "perceptron", "hidden": [2]},
    {"rule": "perceptron", "hidden": [2], "activations": ["hardlim", "hardlim"]},
    {"rule": "perceptron", "output_activation": "sigmoid"},
    {"rule": "perceptron", "output_activation": "tanh"},
])
def test_perceptron_rule_rejects_hidden_layers_and_smooth_outputs(body):
    with pytest.raises(SpecError) as info:
        Experiment.create({"dataset": {"name": "and"}, **body})
    message = str(info.value)
    assert "perceptron" in message and "backprop" in message and a_sentence(message)


def test_perceptron_config_check_raises_training_error():
    config = TrainingConfig(rule="perceptron", batch_mode="stochastic")
    with pytest.raises(TrainingError, match="no hidden layer"):
        config.check(Network([2, 2, 1], ["hardlim", "hardlim"]))
    with pytest.raises(TrainingError, match="sigmoid output"):
        config.check(Network([2, 1], ["sigmoid"]))
    assert config.check(Network([2, 1], ["hardlims"])) == []


def test_switching_an_mlp_to_the_perceptron_rule_is_refused_and_changes_nothing():
    exp = gaussians()
    with pytest.raises(TrainingError) as info:
        exp.configure({"rule": "perceptron"})
    assert a_sentence(str(info.value))
    assert exp.spec["rule"] == "backprop" and exp.trainer.config.rule == "backprop"
    exp.trainer.step(iterations=1)


@pytest.mark.parametrize(("config", "match"), [
    (TrainingConfig(learning_rate=0.0), "learning rate"),
    (TrainingConfig(learning_rate=float("nan")), "learning rate"),
    (TrainingConfig(learning_rate=float("inf")), "learning rate"),
    (TrainingConfig(batch_size=0), "batch size"),
    (TrainingConfig(batch_mode="online"), "allowed: batch, stochastic, minibatch"),
    (TrainingConfig(regularization="l3"), "allowed: none, l1, l2"),
    (TrainingConfig(regularization="l2", regularization_rate=-1.0), "regularization rate"),
    (TrainingConfig(rule="hebb"), "allowed: backprop, perceptron"),
])
def test_bad_training_configs_say_what_is_allowed(config, match):
    with pytest.raises(TrainingError, match=match):
        config.check(Network([2, 1], ["sigmoid"]))


# -- divergence ------------------------------------------------------------------------------

DIVERGING = {"dataset": {"name": "plane"}, "hidden": [4, 2], "activation": "tanh",
             "output_activation": "linear", "learning_rate": 1e6}


def test_a_huge_learning_rate_diverges_and_keeps_the_last_finite_weights():
    exp = Experiment.create(DIVERGING)
    result = exp.trainer.run(epochs=1000)
    assert result.reason == "diverged"
    assert "Diverged" in result.message and "learning rate" in result.message
    assert "1e+06" in result.message and a_sentence(result.message)
    assert result.epochs < 1000
    assert all_finite(exp)
    t = exp.trainer
    assert t.iteration == result.iterations and t.next_step == "forward"

    # Replaying the same number of good updates gives the very same weights ...
    replay = Experiment.create(DIVERGING)
    replay.trainer.step(iterations=result.iterations)
    assert_same_weights(weights(replay), weights(exp))
    # ... and the next update is the bad one: it raises and changes nothing.
    before = weights(replay)
    cursor = replay.trainer.cursor
    with pytest.raises(Diverged):
        replay.trainer.iterate()
    assert_same_weights(weights(replay), before)
    assert replay.trainer.iteration == result.iterations and replay.trainer.cursor == cursor

    metrics = t.evaluate()
    assert not any(isinstance(v, float) and math.isnan(v) for v in metrics.values())
    yhat, _ = exp.predict(np.array([[0.0, 0.0], [1.0, -2.0]]))
    assert not np.isnan(yhat).any()

    # Going on diverges again at once, without touching the weights.
    again = t.run(epochs=5)
    assert again.reason == "diverged" and again.iterations == 0
    assert_same_weights(weights(exp), before)


def test_a_diverging_update_step_by_step_keeps_the_weights():
    exp = Experiment.create(DIVERGING)
    with pytest.raises(Diverged):
        exp.trainer.step(epochs=1000)
    before = weights(exp)
    iteration = exp.trainer.iteration
    t = exp.trainer
    t.forward()
    t.backward()
    with pytest.raises(Diverged, match="learning rate"):
        t.update()
    assert_same_weights(weights(exp), before)
    assert t.iteration == iteration and t.next_step == "forward"


HIDDEN = ["relu", "linear", "sigmoid", "tanh", "hardlim", "hardlims"]
OUTPUT = ["relu", "linear", "sigmoid", "tanh"]


@pytest.mark.parametrize("dataset", ["circle", "plane"])
@pytest.mark.parametrize("output", OUTPUT)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_an_absurd_learning_rate_never_leaves_a_weight_infinite(hidden, output, dataset):
    exp = Experiment.create({"dataset": {"name": dataset, "n_samples": 60}, "hidden": [4, 2],
                             "activations": [hidden, hidden, output], "learning_rate": 1e300})
    result = exp.trainer.run(epochs=20)
    assert result.reason in ("diverged", "finished")
    if result.reason == "diverged":
        assert "Diverged" in result.message
    else:
        assert result.epochs == 20
    assert all_finite(exp)


def test_the_perceptron_rule_is_the_lectures_sample_by_sample():
    """One epoch of AND from W = 0, b = 0 with η = 1: for each sample p in the epoch's order,
    a = hardlim(W p + b), e = t - a, W = W + e pᵀ, b = b + e; the steps one at a time and a
    whole epoch both give exactly that."""
    spec = {"dataset": {"name": "and"}, "rule": "perceptron", "learning_rate": 1.0}
    by_steps, by_epoch = Experiment.create(spec), Experiment.create(spec)
    t = by_steps.trainer
    W, b = np.zeros(2), 0.0
    for _ in range(4):
        t.forward()
        (i,) = t.pending_batch
        p, target = t.train_a0[i], t.train_y[i, 0]
        e = target - (1.0 if W @ p + b >= 0 else 0.0)
        W, b = W + e * p, b + e
        t.backward()
        t.update()
    assert t.epoch == 1
    np.testing.assert_array_equal(by_steps.net.layers[0].W, [W])
    np.testing.assert_array_equal(by_steps.net.layers[0].b, [b])
    by_epoch.trainer.step(epochs=1)
    np.testing.assert_array_equal(by_epoch.net.layers[0].W, [W])
    np.testing.assert_array_equal(by_epoch.net.layers[0].b, [b])
    with pytest.raises(SpecError, match="updates after every sample"):
        Experiment.create({**spec, "batch": {"mode": "batch"}})
