"""Per-epoch history of loss and accuracy, bounded in size.

Every epoch is kept until ``max_points`` are held; then every other point is dropped and
only every second epoch (then fourth, ...) is recorded from there on, so a run of a million
epochs keeps an evenly spaced curve of at most ``max_points`` points, and the evaluation
behind a point is only paid for the epochs that are kept.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

HISTORY_POINTS = 1000  # points a history keeps (thinned evenly past that)
# errors: the perceptron rule's misclassified samples during the epoch (None otherwise).
COLUMNS = ("epoch", "iteration", "train_loss", "test_loss", "train_accuracy", "test_accuracy",
           "errors")


class History:
    def __init__(self, max_points: int = HISTORY_POINTS, min_stride: int = 1):
        self.max_points = max(2, max_points)
        self.min_stride = max(1, min_stride)
        self.clear()

    def clear(self) -> None:
        self.stride = self.min_stride
        self.columns: dict[str, list] = {c: [] for c in COLUMNS}
        self._derived: dict[str, Any] = {}

    def __len__(self) -> int:
        return len(self.columns["epoch"])

    def record(self, epoch: int, iteration: int, evaluate: Callable[[], dict]) -> bool:
        """Record ``evaluate()`` for this epoch if it falls on the stride; True if recorded."""
        if epoch % self.stride:
            return False
        metrics = evaluate()
        self._derived.clear()
        self.columns["epoch"].append(epoch)
        self.columns["iteration"].append(iteration)
        for name in COLUMNS[2:]:
            value = metrics.get(name)
            # A loss that overflowed is kept as "no value": the history stays plain JSON.
            self.columns[name].append(value if value is None or math.isfinite(value) else None)
        if len(self) > self.max_points:
            self.stride *= 2
            keep = [i for i, e in enumerate(self.columns["epoch"]) if e % self.stride == 0]
            for name, values in self.columns.items():
                self.columns[name] = [values[i] for i in keep]
        return True

    def last(self) -> dict | None:
        """The newest point: its epoch, iteration, losses and accuracies."""
        if not len(self):
            return None
        return {name: values[-1] for name, values in self.columns.items()}

    def to_dict(self) -> dict:
        return {"stride": self.stride, "max_points": self.max_points,
                "min_stride": self.min_stride,
                **{name: list(values) for name, values in self.columns.items()}}

    def nbytes(self) -> int:
        """About the bytes held: a Python float or int and its list slot per value (32), and
        the encodings kept by :meth:`derived`."""
        kept = sum(len(v) for v in self._derived.values() if isinstance(v, str | bytes))
        return len(self) * len(COLUMNS) * 32 + kept

    def drop_caches(self) -> None:
        self._derived.clear()

    def derived(self, name: str, compute: Callable[[History], Any]) -> Any:
        """``compute(self)``, kept until the history changes. A history changes only at the
        end of an epoch, but it is encoded on every save and shown on every page refresh."""
        if name not in self._derived:
            self._derived[name] = compute(self)
        return self._derived[name]

    def to_json(self) -> str:
        """:meth:`to_dict` as compact JSON text (once per change): most of a saved network."""
        return self.derived("json", lambda h: json.dumps(h.to_dict(), allow_nan=False,
                                                         separators=(",", ":")))

    @classmethod
    def from_dict(cls, saved: dict, max_points: int | None = None) -> History:
        """A saved history, checked: whole counts in epoch and iteration (increasing), numbers
        or null elsewhere, no more points than it may keep (``max_points``, if given: a
        history saved with a larger one is refused)."""
        kept = _count(saved["max_points"], "max_points", minimum=2)
        if max_points is not None and kept > max_points:
            raise ValueError(f"the history keeps at most {max_points} points; got max_points "
                             f"{kept}")
        history = cls(kept, _count(saved.get("min_stride", 1), "min_stride", minimum=1))
        history.stride = _count(saved["stride"], "stride", minimum=1)
        length = len(saved["epoch"])
        history.columns = {name: list(saved[name]) if name in saved or name != "errors"
                           else [None] * length for name in COLUMNS}
        lengths = {len(values) for values in history.columns.values()}
        if len(lengths) != 1:
            raise ValueError("the history's columns must have the same length")
        if length > history.max_points:
            raise ValueError(f"the history holds {length} points, more than its max_points "
                             f"({history.max_points})")
        for name in ("epoch", "iteration"):
            values = history.columns[name]
            for v in values:
                _count(v, f"history's {name}", minimum=0)
            if any(b < a for a, b in zip(values, values[1:], strict=False)):
                raise ValueError(f"the history's {name} must never decrease")
        for name in COLUMNS[2:]:
            if any(v is not None and (isinstance(v, bool) or not isinstance(v, int | float)
                                      or not math.isfinite(v))
                   for v in history.columns[name]):
                raise ValueError(f"the history's {name} must hold finite numbers or null")
        return history


def _count(value, name: str, minimum: int) -> int:
    """A whole number (not a bool, not a float) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be a whole number of at least {minimum}; got "
                         f"{value!r:.40}")
    return value
