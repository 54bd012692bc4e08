"""The compiled training loop against the NumPy one: the same network after the same epochs,
for every activation, regularization, batch mode and rule, and the same divergence."""

import numpy as np
import pytest

kernel = pytest.importorskip("backend.core.kernel", reason="Numba is not installed")

from backend.core import fastpath, update  # noqa: E402
from backend.core.activations import ACTIVATIONS  # noqa: E402
from backend.core.experiment import Experiment  # noqa: E402
from backend.core.training import Diverged  # noqa: E402


def numpy_only(monkeypatch):
    monkeypatch.setattr(fastpath, "COMPILED_MAX_PRODUCTS", 0)


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
    assert_same_values(ta.history.columns["train_loss"], tb.history.columns["train_loss"], rtol)
    for dW_a, dW_b in zip(ta.dW, tb.dW, strict=True):  # the last step taken
        np.testing.assert_allclose(dW_a, dW_b, rtol=1e-9, atol=1e-15)


def assert_same_values(a: list, b: list, rtol: float) -> None:
    """Numbers alike, and None (a loss that overflowed) at the same places."""
    assert [v is None for v in a] == [v is None for v in b]
    np.testing.assert_allclose([v for v in a if v is not None],
                               [v for v in b if v is not None], rtol=rtol)


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


# -- whole epochs in one call (Trainer.run) ---------------------------------------------------

def ran(monkeypatch, spec: dict, epochs: int, compiled: bool):
    chunks = []
    with monkeypatch.context() as m:
        if not compiled:
            numpy_only(m)
        else:
            m.setattr(fastpath, "CHUNK_SECONDS", 10.0)  # chunks of 1, 2, 4, ... epochs
            train_epochs = kernel.train_epochs
            m.setattr(kernel, "train_epochs",
                      lambda *args: chunks.append(len(args[5])) or train_epochs(*args))
        exp = Experiment.create(spec)
        result = exp.trainer.run(epochs)
    if compiled:
        assert chunks[:3] == [1, 2, 4] and sum(chunks) >= result.epochs
    return exp, result


def assert_same_run(a, b, rtol: float = 1e-10):
    (fast, fast_result), (slow, slow_result) = a, b
    assert fast_result == slow_result
    assert fast.trainer.rng.bit_generator.state == slow.trainer.rng.bit_generator.state
    ha, hb = fast.trainer.history.columns, slow.trainer.history.columns
    assert ha["epoch"] == hb["epoch"] and ha["iteration"] == hb["iteration"]
    assert ha["errors"] == hb["errors"]
    for name in ("train_loss", "test_loss", "train_accuracy", "test_accuracy"):
        assert_same_values(ha[name], hb[name], rtol)
    assert_same_training(fast, slow, rtol=rtol)
    assert (fast.trainer.order is None) == (slow.trainer.order is None)
    if fast.trainer.order is not None:
        np.testing.assert_array_equal(fast.trainer.order, slow.trainer.order)


@pytest.mark.parametrize("body", [
    {"dataset": {"name": "moons", "n_samples": 80, "train_fraction": 0.75}},
    {"dataset": {"name": "peaks", "n_samples": 60}, "hidden": [5],
     "batch": {"mode": "batch"}},  # regression: no accuracy
    {"dataset": {"name": "xor"}, "hidden": [3], "batch": {"mode": "stochastic"}},
    {"dataset": {"name": "circle", "n_samples": 700, "train_fraction": 0.5}},  # > 1 block
])
def test_a_run_in_chunks_of_epochs_is_the_run_epoch_by_epoch(monkeypatch, body):
    spec = {"hidden": [4, 2], "learning_rate": 0.2, **body}
    assert_same_run(ran(monkeypatch, spec, 60, True), ran(monkeypatch, spec, 60, False))


def test_a_long_run_thins_its_history_as_epoch_by_epoch(monkeypatch):
    spec = {"dataset": {"name": "xor"}, "hidden": [2], "learning_rate": 0.5,
            "batch": {"mode": "stochastic"}}
    fast = ran(monkeypatch, spec, 2500, True)
    assert fast[0].trainer.history.stride == 4
    assert_same_run(fast, ran(monkeypatch, spec, 2500, False))


def test_a_converging_perceptron_run_stops_at_the_same_epoch(monkeypatch):
    spec = {"dataset": {"name": "linear", "n_samples": 100, "seed": 5}, "hidden": [],
            "output_activation": "hardlim", "rule": "perceptron", "learning_rate": 0.5,
            "batch": {"mode": "stochastic"}}
    fast = ran(monkeypatch, spec, 500, True)
    assert fast[1].reason == "converged" and fast[1].epochs == 5  # inside the third chunk
    assert_same_run(fast, ran(monkeypatch, spec, 500, False))


def test_a_run_diverging_inside_a_chunk_stops_where_epoch_by_epoch_does(monkeypatch):
    spec = {"dataset": {"name": "plane"}, "hidden": [4, 2], "activation": "tanh",
            "output_activation": "linear", "learning_rate": 5.0,
            "batch": {"mode": "minibatch", "size": 4}}
    fast = ran(monkeypatch, spec, 1000, True)
    assert fast[1].reason == "diverged" and fast[1].epochs == 5  # in the third chunk
    assert fast[0].trainer.cursor > 0
    slow = ran(monkeypatch, spec, 1000, False)
    assert_same_run(fast, slow, rtol=1e-5)  # a blow-up magnifies the last bits
    # both go on alike: the epoch under way is finished from the same order
    for exp, _ in (fast, slow):
        exp.trainer.config.learning_rate = 1e-3
        exp.trainer.step(epochs=2)
    assert_same_training(fast[0], slow[0], rtol=1e-5)


def test_warming_up_compiles_every_signature_training_uses():
    kernel.warm_up()
    compiled = {f: len(f.signatures) for f in (kernel.train, kernel.train_epochs,
                                                kernel.step_parameters, kernel.evaluate)}
    spec = {"dataset": {"name": "moons", "n_samples": 40}, "hidden": [3],
            "regularization": {"kind": "l2", "rate": 0.01}}
    exp = Experiment.create(spec)
    exp.trainer.run(3)
    exp.trainer.step(iterations=2)
    exp.trainer.forward()
    exp.trainer.backward()
    exp.trainer.update()
    Experiment.create({**spec, "dataset": {"name": "moons", "n_samples": 40,
                                           "train_fraction": 1.0}}).trainer.run(2)
    assert {f: len(f.signatures) for f in compiled} == compiled


def test_a_refused_update_does_not_count_its_batch_errors_on_any_path(monkeypatch):
    """The perceptron's errors of an epoch count the batches whose update was applied: the
    batch of a refused update is done again, and counted then."""
    spec = {"dataset": {"name": "moons", "n_samples": 40, "seed": 6}, "hidden": [],
            "output_activation": "hardlims", "rule": "perceptron", "learning_rate": 2e153,
            "batch": {"mode": "stochastic"}}
    seen = []
    for how in ("run", "step", "numpy", "by hand"):
        with monkeypatch.context() as m:
            if how in ("numpy", "by hand"):
                numpy_only(m)
            exp = Experiment.create(spec)
            t = exp.trainer
            if how == "by hand":
                while True:
                    t.forward()
                    t.backward()
                    try:
                        t.update()
                    except Diverged:
                        break
            elif how == "run":
                assert t.run(10).reason == "diverged"
            else:
                with pytest.raises(Diverged):
                    t.step(epochs=10)
            at_divergence = (t.epoch, t.cursor, t.epoch_errors)
            exp.configure({"learning_rate": 1e-3})
            t.step(epochs=1)
            seen.append((at_divergence, t.history.columns["errors"]))
    assert seen[0][0][1] > 0  # inside an epoch
    assert all(s == seen[0] for s in seen), seen


@pytest.mark.parametrize("regularization", [0, 1, 2])
@pytest.mark.parametrize("m", [1, 7])
def test_the_numpy_update_is_the_compiled_update_bit_for_bit(monkeypatch, regularization, m):
    rng = np.random.default_rng(4)
    theta, g = rng.normal(size=41), rng.normal(size=41)
    theta[3] = 0.0  # sign(0) = 0 under l1
    mask = (rng.random(41) < 0.7).astype(float)
    results = []
    for compiled in (True, False):
        with monkeypatch.context() as patch:
            if not compiled:
                patch.setattr("backend.core.accelerator.kernel", lambda: None)
            t, d, new = theta.copy(), np.empty(41), np.empty(41)
            status = update.step_parameters(t, g, m, 0.3, regularization, 0.01, mask, d, new)
            results.append((status, t, d))
    (s1, t1, d1), (s2, t2, d2) = results
    assert s1 == s2 == update.OK
    np.testing.assert_array_equal(t1, t2)
    np.testing.assert_array_equal(d1, d2)


def test_the_numpy_update_refuses_what_the_compiled_one_refuses(monkeypatch):
    monkeypatch.setattr("backend.core.accelerator.kernel", lambda: None)
    for bad in (np.inf, np.nan, 2e154):
        theta, g = np.ones(3), np.array([0.0, -bad, 0.0])
        with np.errstate(all="ignore"):  # as every caller does
            status = update.step_parameters(theta, g, 1, 1.0, 0, 0.0, np.ones(3), np.empty(3),
                                            np.empty(3))
        assert status == update.DIVERGED and (theta == 1.0).all()


def test_the_accelerator_warms_up_once(monkeypatch):
    """The command line warms the loops up before serving and the app again as it starts: the
    second call finds them warm and does nothing."""
    from backend.core import accelerator

    calls = []
    monkeypatch.setattr(accelerator, "_warm", False)
    monkeypatch.setattr(kernel, "warm_up", lambda: calls.append(1))
    assert accelerator.warm_up() and accelerator.warm_up()
    assert calls == [1]
