"""The per-epoch history stays bounded and evenly spaced however long a run is."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.core.experiment import Experiment
from backend.core.history import COLUMNS, History


def fill(history: History, epochs: int) -> list[int]:
    """Record epochs 0..epochs; the epochs whose evaluation was actually paid for."""
    evaluated = []

    for epoch in range(epochs + 1):
        def evaluate(epoch=epoch):
            evaluated.append(epoch)
            return {"train_loss": 1.0 / (epoch + 1), "test_loss": None,
                    "train_accuracy": 0.5, "test_accuracy": None}

        recorded = history.record(epoch, 10 * epoch, evaluate)
        assert recorded == (evaluated[-1:] == [epoch])
    return evaluated


@settings(max_examples=60, deadline=None)
@given(max_points=st.integers(2, 40), epochs=st.integers(0, 3000))
def test_thinning_is_bounded_even_and_keeps_epoch_0(max_points, epochs):
    h = History(max_points)
    evaluated = fill(h, epochs)
    kept = h.columns["epoch"]
    assert 1 <= len(h) <= max_points
    assert kept[0] == 0
    steps = set(np.diff(kept).tolist())
    assert steps <= {h.stride}  # evenly strided
    assert kept[-1] + h.stride > epochs  # nothing recordable past the last point was lost
    assert all(e % h.stride == 0 for e in kept)
    # Every column stays aligned with its epoch.
    assert h.columns["iteration"] == [10 * e for e in kept]
    assert h.columns["train_loss"] == [1.0 / (e + 1) for e in kept]
    assert all(len(h.columns[c]) == len(h) for c in COLUMNS)
    # Evaluations are only paid on the stride in force at the time.
    assert set(kept) <= set(evaluated)
    phases = int(np.log2(h.stride)) + 1  # one per stride in force: 1, 2, 4, ...
    assert len(evaluated) <= phases * (max_points + 1)


def test_every_epoch_is_kept_until_max_points():
    h = History(10)
    fill(h, 9)
    assert h.columns["epoch"] == list(range(10)) and h.stride == 1
    fill_more = h.record(10, 100, lambda: {"train_loss": 0.0})
    assert fill_more
    assert h.columns["epoch"] == [0, 2, 4, 6, 8, 10] and h.stride == 2
    assert not h.record(11, 110, lambda: {"train_loss": 0.0})
    assert h.record(12, 120, lambda: {"train_loss": 0.0})


def test_a_million_epochs_keep_at_most_max_points():
    h = History(1000)
    for epoch in range(0, 1_000_001):
        if epoch % h.stride == 0:
            h.record(epoch, epoch, lambda: {})
    assert len(h) <= 1000 and h.columns["epoch"][0] == 0
    assert len(set(np.diff(h.columns["epoch"]).tolist())) == 1
    assert len(h) > 400  # thinning halves at most: never fewer than half of max_points


def test_round_trip_and_going_on():
    a = History(8)
    fill(a, 37)
    b = History.from_dict(a.to_dict())
    assert b.to_dict() == a.to_dict()
    for h in (a, b):
        for epoch in range(38, 80):
            h.record(epoch, epoch, lambda: {"train_loss": 2.0})
    assert b.to_dict() == a.to_dict()


def test_a_trainer_history_is_thinned_too():
    exp = Experiment.create({"dataset": {"name": "xor"}, "hidden": [2],
                             "batch": {"mode": "batch"}})
    exp.trainer.history.max_points = 16
    exp.trainer.step(epochs=100)
    epochs = exp.trainer.history.columns["epoch"]
    assert len(epochs) <= 16 and epochs[0] == 0
    assert len(set(np.diff(epochs).tolist())) == 1
    assert exp.trainer.history.columns["train_loss"][0] > exp.trainer.history.last()["train_loss"]
