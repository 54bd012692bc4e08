"""Activation functions f and their derivatives fdot, as in the lecture.

Each activation is a pair ``f(n)`` / ``fdot(n, a)``: the derivative may use the output
``a = f(n)`` already computed by the forward pass (sigmoid' = a(1 - a), tanh' = 1 - a^2),
which is both cheaper and what the lecture writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def _hardlim(n, out=None):
    return np.greater_equal(n, 0.0, out=out, casting="unsafe") if out is not None \
        else (n >= 0.0).astype(np.float64)


def _hardlims(n, out=None):
    out = _hardlim(n, out)
    out *= 2.0
    out -= 1.0
    return out


def _relu(n, out=None):
    return np.maximum(n, 0.0, out=out)


def _linear(n, out=None):
    if out is None:
        return np.array(n, dtype=np.float64, copy=True)
    if out is not n:
        out[...] = n
    return out


def _sigmoid(n, out=None):
    # 1 / (1 + e^-n) as written: e^-n overflows to inf for n < -709, and 1 / inf = 0 exactly.
    out = np.negative(n, out=out)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1.0
    np.reciprocal(out, out=out)
    return out


def _tanh(n, out=None):
    return np.tanh(n, out=out)


def _zero_derivative(n, a, out=None):
    if out is None:
        return np.zeros_like(n)
    out.fill(0.0)
    return out


def _relu_derivative(n, a, out=None):
    return np.greater(n, 0.0, out=out, casting="unsafe") if out is not None \
        else (n > 0.0).astype(np.float64)


def _linear_derivative(n, a, out=None):
    if out is None:
        return np.ones_like(n)
    out.fill(1.0)
    return out


def _sigmoid_derivative(n, a, out=None):
    out = np.subtract(1.0, a, out=out)
    out *= a
    return out


def _tanh_derivative(n, a, out=None):
    out = np.multiply(a, a, out=out)
    np.subtract(1.0, out, out=out)
    return out


@dataclass(frozen=True)
class Activation:
    name: str
    label: str
    formula: str  # f(n), as the lecture writes it
    derivative: str  # fdot(n)
    f: Callable[..., np.ndarray]
    fdot: Callable[..., np.ndarray]
    output_range: tuple[float, float]
    can_backprop: bool = True  # False where fdot = 0 everywhere: gradients cannot flow

    @property
    def identity(self) -> bool:
        """f(n) = n: a^k is n^k itself and fdot = 1 (nothing to compute)."""
        return self.name == "linear"

    @property
    def symmetric(self) -> bool:
        """Outputs in [-1, 1] around 0: binary targets are encoded -1/+1, decided at 0."""
        return self.output_range == (-1.0, 1.0)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("hardlim", "HardLimit", "1 if n >= 0 else 0", "0",
                   _hardlim, _zero_derivative, (0.0, 1.0), can_backprop=False),
        Activation("hardlims", "Symmetric HardLimit", "1 if n >= 0 else -1", "0",
                   _hardlims, _zero_derivative, (-1.0, 1.0), can_backprop=False),
        Activation("relu", "ReLU", "n if n >= 0 else 0", "1 if n > 0 else 0",
                   _relu, _relu_derivative, (0.0, float("inf"))),
        Activation("linear", "Linear", "n", "1",
                   _linear, _linear_derivative, (float("-inf"), float("inf"))),
        Activation("sigmoid", "Sigmoid", "1 / (1 + e^-n)", "a (1 - a)",
                   _sigmoid, _sigmoid_derivative, (0.0, 1.0)),
        Activation("tanh", "Tanh", "2 sigmoid(2n) - 1", "1 - a^2",
                   _tanh, _tanh_derivative, (-1.0, 1.0)),
    )
}


class ActivationError(ValueError):
    pass


def get_activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ActivationError(
            f"unknown activation {name!r}; allowed: {', '.join(ACTIVATIONS)}"
        ) from None
