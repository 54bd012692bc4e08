"""From a dataset's labels to the network's targets y, and from its outputs back to classes.

Binary classification uses one output neuron: targets 0/1, decided at 0.5, or -1/+1 decided at
0 when the output activation is symmetric (tanh, hardlims). K classes use K outputs with one-hot
targets (-1 in place of 0 for a symmetric output) and the arg-max as the class. Regression uses
one output whose target is the label itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backend.core.activations import Activation


@dataclass(frozen=True)
class Targets:
    task: str  # "classification" or "regression"
    classes: int  # K (0 for regression)
    low: float = 0.0  # the target value for "not this class"

    @classmethod
    def for_output(cls, task: str, classes: int, output: Activation) -> Targets:
        return cls(task, classes, -1.0 if output.symmetric else 0.0)

    @property
    def outputs(self) -> int:
        """p^l: how many output neurons the task needs."""
        return self.classes if self.task == "classification" and self.classes > 2 else 1

    @property
    def threshold(self) -> float:
        return (self.low + 1.0) / 2.0

    def encode(self, labels: np.ndarray) -> np.ndarray:
        """Labels (N,) to targets y (N, p^l)."""
        labels = np.asarray(labels, dtype=np.float64)
        if self.task == "regression":
            return labels.reshape(-1, 1).copy()
        if self.outputs == 1:
            return np.where(labels.reshape(-1, 1) >= 0.5, 1.0, self.low)
        y = np.full((len(labels), self.outputs), self.low)
        y[np.arange(len(labels)), labels.astype(int)] = 1.0
        return y

    def classify(self, yhat: np.ndarray) -> np.ndarray | None:
        """Outputs (N, p^l) to class indices (N,); None for regression."""
        if self.task == "regression":
            return None
        if self.outputs == 1:
            return (yhat[:, 0] >= self.threshold).astype(np.int64)
        return np.argmax(yhat, axis=1)

    def accuracy(self, yhat: np.ndarray, y: np.ndarray) -> float | None:
        """The fraction of samples classified as their target says; None for regression."""
        if self.task == "regression" or len(y) == 0:
            return None
        return float(np.mean(self.classify(yhat) == self.classify(y)))
