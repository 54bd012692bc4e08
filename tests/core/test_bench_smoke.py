"""The benchmark (python -m bench) still runs: every workload for a few steps, no real timing.

Passes without scikit-learn: only the test of its configuration needs it (and skips without).
"""

import io

import numpy as np
import pytest

from bench import machine, timing, workloads
from bench.__main__ import main
from bench.reference import ReferenceLoop, grid_forward

KEYS = ["W1", "W2", "W3", "W4"]


def test_the_workloads_are_the_ones_the_bench_promises():
    assert [w.key for w in workloads.TRAINING] == KEYS
    assert [(w.sizes, w.activation, w.n_train, w.batch) for w in workloads.TRAINING] == [
        ([2, 4, 2, 1], "tanh", 250, 10),
        ([2, 8, 8, 8, 8, 8, 8, 1], "tanh", 250, 10),
        ([2, 4, 2, 1], "tanh", 250, 1),
        ([2, 64, 64, 1], "relu", 10_000, 32),
    ]
    for w in workloads.TRAINING:
        exp = workloads.experiment(w)
        assert exp.net.sizes == w.sizes
        assert exp.net.activations == [w.activation] * len(w.hidden) + ["linear"]
        assert exp.trainer.n_train == w.n_train and exp.trainer.batch_length == w.batch
    assert workloads.BOUNDARY.key == "W2"


@pytest.mark.parametrize("w", workloads.TRAINING, ids=KEYS)
def test_our_loop_runs_a_few_iterations(w):
    chunk = workloads.ours(w)
    assert chunk(3) == 3 * w.batch
    assert chunk(2) == 2 * w.batch


def test_the_boundary_and_its_reference_do_the_same_work():
    assert workloads.boundary()(1) == 1
    assert workloads.boundary_reference()(2) == 2
    exp = workloads.experiment(workloads.BOUNDARY)
    R = workloads.BOUNDARY_RESOLUTION
    grids = exp.boundary(R, neurons=True)["neurons"]
    a0 = exp.inputs(exp.grid_points(R))
    W = [layer.W for layer in exp.net.layers]
    b = [layer.b for layer in exp.net.layers]
    ref = [a0, *grid_forward(W, b, "tanh", a0, [np.empty((len(a0), len(bk))) for bk in b])]
    assert len(ref) == len(grids)
    for grid, a in zip(grids, ref, strict=True):
        np.testing.assert_allclose(grid.reshape(grid.shape[0], -1), a.T, rtol=1e-12,
                                   atol=1e-14)


def test_timing_takes_the_median_rate():
    calls = []

    def chunk(k):
        calls.append(k)
        return 10 * k

    a, b = timing.rates([chunk, chunk], seconds=0, repeats=3)
    assert a > 0 and b > 0 and calls == [1] * 6
    def busy(k):
        sum(range(k))
        return k

    assert timing.rate(busy, seconds=0.002, repeats=2) > 0
    assert timing.rate(lambda k: k, seconds=0.001, repeats=1) > 0  # no work: still returns


def test_quick_run_without_sklearn_prints_every_row():
    out = io.StringIO()
    assert main(["--quick", "--no-sklearn"], out) == 0
    text = out.getvalue()
    assert "CPU:" in text and "numpy" in text and "BLAS:" in text
    rows = {line.split()[0]: line for line in text.splitlines() if line[:2] in (
        "W1", "W2", "W3", "W4", "W5")}
    assert sorted(rows) == ["W1", "W2", "W3", "W4", "W5"]
    assert all("samples/s" in rows[k] for k in KEYS) and "grids/s" in rows["W5"]


def test_only_picks_workloads():
    out = io.StringIO()
    main(["--quick", "--no-sklearn", "--only", "w3"], out)
    keys = [line.split()[0] for line in out.getvalue().splitlines() if line[:1] == "W"]
    assert keys == ["W3"]


def test_a_note_when_openblas_is_told_its_kernel(monkeypatch):
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    monkeypatch.delenv("OPENBLAS_L2_SIZE", raising=False)
    assert machine.environment_notes() == []
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    notes = "\n".join(machine.environment_notes())
    assert "OPENBLAS_CORETYPE=Haswell" in notes and "slows NumPy" in notes
    assert "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m bench" in notes


def test_sklearn_is_set_to_the_same_math():
    pytest.importorskip("sklearn")
    for w in workloads.TRAINING:
        # One epoch (40 samples, in order) from the same weights: the same arithmetic.
        assert workloads.same_math(w, 40) < 1e-12, w.key
        assert workloads.sklearn(w, 40)(2) == 80


def test_the_numpy_loop_does_the_core_math():
    """The yardstick trains like the core: same data, same initial weights, same batches."""
    w = workloads.TRAINING[0]
    exp = workloads.experiment(w)
    t = exp.trainer
    loop = ReferenceLoop(w.sizes, w.activation, t.train_a0, t.train_y, w.learning_rate, w.batch)
    for k, layer in enumerate(exp.net.layers):
        loop.W[k][...], loop.b[k][...] = layer.W, layer.b
    loop.rng = np.random.default_rng(7)
    t.rng = np.random.default_rng(7)
    assert loop.epoch() == t.n_train
    t.step(epochs=1)
    for k, layer in enumerate(exp.net.layers):
        np.testing.assert_allclose(loop.W[k], layer.W, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(loop.b[k], layer.b, rtol=1e-12, atol=1e-15)
    assert workloads.numpy_loop(w)(1) == t.n_train
