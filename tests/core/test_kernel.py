"""The compiled training loop against the NumPy one: the same network after the same epochs,
for every activation, regularization, batch mode and rule, and the same divergence."""

import numpy as np
import pytest

from backend.core import kernel, training
from backend.core.activations import ACTIVATIONS
from backend.core.experiment import Experiment
from backend.core.training import Diverged


def numpy_only(monkeypatch):
    monkeypatch.setattr(training, "COMPILED_MAX_PRODUCTS", 0)


def trained(monkeypatch, spec: dict, epochs: int, compiled: bool) -> Experiment:
    with monkeypatch.context() as m:
        if not compiled:
            numpy_only(m)
        exp = Experiment.create(spec)
        exp.trainer.step(epochs=epochs)
    return exp


def assert_same_training(a: Experiment, b: Experiment, rtol: float = 1e-12) -> None:
    np.testing.assert_allclose(a.net.theta, b.net.theta, rtol=rtol, atol=1e-14)
    ta, tb = a.trainer, b.trainer
    assert (ta.epoch, ta.iteration, ta.cursor) == (tb.epoch, tb.iteration, tb.cursor)
    assert ta.last_epoch_errors == tb.last_epoch_errors
    np.testing.assert_allclose(ta.history.columns["train_loss"],
                               tb.history.columns["train_loss"], rtol=rtol)
    for dW_a, dW_b in zip(ta.dW, tb.dW, strict=True):  # the last step taken
        np.testing.assert_allclose(dW_a, dW_b, rtol=1e-9, atol=1e-15)


def test_the_codes_name_every_activation():
    assert set(kernel.CODES) == set(ACTIVATIONS)
    for name, code in kernel.CODES.items():
        act = ACTIVATIONS[name]
        for n in (-800.0, -3.0, -1e-300, 0.0, 0.5, 2.0, 800.0):
            a = float(act.f(np.array([n]))[0])
            assert kernel.f(code, n) == pytest.approx(a, rel=1e-15, abs=1e-300), (name, n)
            d = float(act.fdot(np.array([n]), np.array([a]))[0])
            assert kernel.fdot(code, n, a) == pytest.approx(d, rel=1e-15, abs=1e-300), (name, n)


SMOOTH = ["relu", "linear", "sigmoid", "tanh"]


@pytest.mark.parametrize("output", SMOOTH)
@pytest.mark.parametrize("hidden", [*SMOOTH, "hardlim"])
def test_every_activation_trains_as_numpy_does(monkeypatch, hidden, output):
    spec = {"dataset": {"name": "xor", "n_samples": 60, "seed": 3}, "hidden": [5, 3],
            "activations": [hidden, hidden, output], "learning_rate": 0.05,
            "batch": {"mode": "minibatch", "size": 7}, "init": {"scheme": "uniform", "seed": 2}}
    assert_same_training(trained(monkeypatch, spec, 4, True),
                         trained(monkeypatch, spec, 4, False))


@pytest.mark.parametrize("regularization", ["l1", "l2"])
@pytest.mark.parametrize(("mode", "size"), [("batch", 1), ("stochastic", 1), ("minibatch", 4)])
def test_regularization_and_batch_modes_train_as_numpy_does(monkeypatch, regularization,
                                                            mode, size):
    spec = {"dataset": {"name": "spiral", "n_samples": 50, "seed": 1}, "hidden": [6],
            "activation": "tanh", "output_activation": "sigmoid", "learning_rate": 0.2,
            "regularization": {"kind": regularization, "rate": 0.01},
            "batch": {"mode": mode, "size": size}, "features": ["x1", "x2", "x1*x2", "sin(x1)"]}
    assert_same_training(trained(monkeypatch, spec, 3, True),
                         trained(monkeypatch, spec, 3, False))


@pytest.mark.parametrize("output", ["hardlim", "hardlims"])
def test_the_perceptron_rule_trains_and_counts_errors_as_numpy_does(monkeypatch, output):
    spec = {"dataset": {"name": "gaussians", "n_samples": 40, "seed": 6}, "hidden": [],
            "output_activation": output, "rule": "perceptron", "learning_rate": 0.5,
            "batch": {"mode": "stochastic"}}
    fast, slow = trained(monkeypatch, spec, 3, True), trained(monkeypatch, spec, 3, False)
    assert_same_training(fast, slow)
    assert fast.trainer.history.columns["errors"] == slow.trainer.history.columns["errors"]


def test_several_classes_train_as_numpy_does(monkeypatch):
    rng = np.random.default_rng(0)
    points = [[*rng.normal(k, 0.7, 2), k] for k in range(3) for _ in range(15)]
    spec = {"dataset": {"points": points}, "hidden": [4],
            "activation": "relu", "output_activation": "sigmoid", "learning_rate": 0.3}
    fast = trained(monkeypatch, spec, 5, True)
    assert fast.net.sizes[-1] == 3
    assert_same_training(fast, trained(monkeypatch, spec, 5, False))


def test_iterations_across_epochs_stop_where_asked(monkeypatch):
    spec = {"dataset": {"name": "circle", "n_samples": 22, "train_fraction": 1.0},
            "hidden": [3], "batch": {"mode": "minibatch", "size": 4}}  # 6 iterations an epoch
    exp = Experiment.create(spec)
    exp.trainer.step(iterations=14)
    t = exp.trainer
    assert (t.epoch, t.iteration) == (2, 14) and t.cursor == 8
    with monkeypatch.context() as m:
        numpy_only(m)
        slow = Experiment.create(spec)
        slow.trainer.step(iterations=14)
    assert_same_training(exp, slow)


def test_divergence_in_the_compiled_loop_keeps_the_last_good_weights(monkeypatch):
    spec = {"dataset": {"name": "plane"}, "hidden": [4, 2], "activation": "tanh",
            "output_activation": "linear", "learning_rate": 1e6}
    fast = Experiment.create(spec)
    with pytest.raises(Diverged, match="iteration") as fast_error:
        fast.trainer.step(epochs=100)
    with monkeypatch.context() as m:
        numpy_only(m)
        slow = Experiment.create(spec)
        with pytest.raises(Diverged) as slow_error:
            slow.trainer.step(epochs=100)
    assert str(fast_error.value) == str(slow_error.value)
    assert fast.trainer.iteration == slow.trainer.iteration
    np.testing.assert_allclose(fast.net.theta, slow.net.theta, rtol=1e-9)
    assert np.isfinite(fast.net.theta).all()


def test_large_layers_use_numpy_and_small_ones_the_compiled_loop(monkeypatch):
    calls = []
    monkeypatch.setattr(kernel, "train", lambda *args: calls.append(args) or (0, 0, 0, 1))
    small = Experiment.create({"dataset": {"name": "circle"}, "hidden": [8, 8]})
    with pytest.raises(Diverged):
        small.trainer.step(iterations=1)
    assert len(calls) == 1
    big = Experiment.create({"dataset": {"name": "circle"}, "hidden": [64, 64],
                             "batch": {"mode": "minibatch", "size": 32}})
    big.trainer.step(iterations=3)
    assert len(calls) == 1 and big.trainer.iteration == 3
