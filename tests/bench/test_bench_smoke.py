"""The benchmark (python -m bench) still runs: every workload for a few steps, no real timing;
its timing's arithmetic (median rates, chunks taking turns, calls sized) on a fake clock.

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
        ([2, 64, 64, 1], "relu", 5_000, 32),
    ]
    for w in workloads.TRAINING:
        exp = workloads.experiment(w)
        assert exp.net.sizes == w.sizes
        assert exp.net.activations == [w.activation] * len(w.hidden) + ["linear"]
        assert exp.trainer.n_train == w.n_train and exp.trainer.batch_length == w.batch
        assert len(exp.trainer.test_y) == w.n_samples - w.n_train > 0  # the page's split
    assert workloads.BOUNDARY.key == "W2"


@pytest.mark.parametrize("w", workloads.TRAINING, ids=KEYS)
def test_our_loop_and_the_reference_loop_count_the_same_work(w):
    """A chunk of k epochs is k times the training set, for ours and for the reference."""
    assert workloads.ours(w)(2) == 2 * w.n_train
    assert workloads.numpy_loop(w)(2) == 2 * w.n_train


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


class FakeClock:
    """``time.perf_counter`` for bench.timing: it moves only when a fake chunk works."""

    def __init__(self):
        self.now = 100.0

    def perf_counter(self) -> float:
        return self.now


def scripted_chunk(clock: FakeClock, name: str, units_per_step: int, step_seconds: list[float],
                   log: list):
    """A chunk whose n-th call (from 0) takes ``step_seconds[n]`` per step on the fake clock
    (the last value once the list runs out) and does ``units_per_step`` units per step."""
    calls = iter(range(10**6))

    def chunk(k: int) -> int:
        seconds = step_seconds[min(next(calls), len(step_seconds) - 1)]
        log.append((name, k))
        clock.now += k * seconds
        return units_per_step * k

    return chunk


def test_timing_takes_the_median_rate_of_each_chunk_and_the_chunks_take_turns(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(timing, "time", clock)  # bench.timing reads time.perf_counter
    log: list = []
    # Binary fractions: the fake clock's sums are exact. Rates of a: 20, 80, 5, 40, 160
    # (median 40; the middle call's is 5, the mean 61, all units over all time 17.02...);
    # rates of b: 3, 12, 6, 0.75, 24 (median 6; the middle call's is 6 too, but mean 9.15).
    a = scripted_chunk(clock, "a", 10, [0.5, 0.125, 2.0, 0.25, 0.0625], log)
    b = scripted_chunk(clock, "b", 3, [1.0, 0.25, 0.5, 4.0, 0.125], log)
    assert timing.rates([a, b], seconds=0, repeats=5) == [40.0, 6.0]
    # seconds=0: no calibration, one step a call, and the chunks take turns a, b, a, b...
    assert log == [("a", 1), ("b", 1)] * 5

    log.clear()
    a = scripted_chunk(clock, "a", 10, [0.5, 0.125, 2.0, 0.25, 0.0625], log)
    b = scripted_chunk(clock, "b", 3, [1.0, 0.25, 0.5, 4.0, 0.125], log)
    assert timing.rates([b, a], seconds=0, repeats=3) == [6.0, 20.0]  # of 3, 12, 6; 20, 80, 5
    assert log == [("b", 1), ("a", 1)] * 3

    a = scripted_chunk(clock, "a", 10, [0.5, 0.125], log)
    assert timing.rate(a, seconds=0, repeats=1) == 20.0  # one repeat: that call's rate
    assert timing.rate(a, seconds=0, repeats=0) == 80.0  # never fewer than one (the next call)


def test_timing_sizes_each_call_to_the_seconds_asked(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(timing, "time", clock)
    log: list = []
    # 1/1024 s a step: 64 steps (1/16 s) are the first to last CALIBRATE_SECONDS (0.05 s),
    # so a call of ~0.25 s is 0.25 / (1/16) * 64 = 256 steps.
    steady = scripted_chunk(clock, "s", 7, [1 / 1024], log)
    assert timing.rates([steady], seconds=0.25, repeats=3) == [7 * 1024.0]
    warmup_and_doubling = [("s", 1)] + [("s", 2**i) for i in range(7)]
    assert log == warmup_and_doubling + [("s", 256)] * 3


def test_timing_ends_on_a_chunk_that_takes_no_time(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(timing, "time", clock)
    log: list = []
    instant = scripted_chunk(clock, "i", 1, [0.0], log)
    assert timing.rate(instant, seconds=0.01, repeats=2) == float("inf")
    assert len(log) < 100  # the calibration gave up instead of doubling forever


def test_timing_runs_on_the_real_clock():
    def busy(k):
        sum(range(k))
        return k

    assert timing.rate(busy, seconds=0.002, repeats=2) > 0


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
