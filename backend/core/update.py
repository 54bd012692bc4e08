"""The update of every training path: ``theta <- theta - eta (g / m + regularization)``, taken
only when every new parameter is finite.

One rule for the teaching steps, the NumPy loop and the compiled loop: the compiled version
(:func:`backend.core.kernel.step_parameters`) when Numba is there, else this NumPy one, which
does the same arithmetic in the same order.
"""

from __future__ import annotations

import numpy as np

from backend.core import accelerator

REGULARIZATION_CODES = {"none": 0, "l1": 1, "l2": 2}
OK, DIVERGED = 0, 1


def penalty(theta: np.ndarray, mask: np.ndarray, regularization: str, rate: float) -> float:
    """The term of the objective whose gradient the update adds to the weights' (``mask``):
    L2's ``rate * W`` is the gradient of ``rate / 2 * sum W^2``, L1's ``rate * sign(W)`` that
    of ``rate * sum |W|``. Reported losses leave it out; the error surface draws it in."""
    code = REGULARIZATION_CODES[regularization]
    if code == 0 or rate == 0.0:
        return 0.0
    w = theta * mask
    return float(rate * (0.5 * np.dot(w, w) if code == 2 else np.abs(w).sum()))


def step_parameters(theta: np.ndarray, g: np.ndarray, m: int, eta: float, regularization: int,
                    rate: float, mask: np.ndarray, d: np.ndarray,
                    theta_new: np.ndarray) -> int:
    """The step into ``d``, then ``theta + d`` into ``theta`` if its sum of squares is finite
    (no NaN, no infinity, no parameter beyond 1e154). Returns OK, or DIVERGED with ``theta``
    unchanged."""
    compiled = accelerator.kernel()
    if compiled is not None:
        return compiled.step_parameters(theta, g, m, eta, regularization, rate, mask, d,
                                        theta_new)
    if regularization == 0 or rate == 0.0:
        np.multiply(g, -eta / m, out=d)
    else:
        if regularization == 2:
            np.multiply(theta, mask, out=d)
        else:
            np.sign(theta, out=d)
            d *= mask
        d *= rate
        d += g if m == 1 else g * (1.0 / m)
        d *= -eta
    np.add(theta, d, out=theta_new)
    if not np.isfinite(np.dot(theta_new, theta_new)):
        return DIVERGED
    theta[...] = theta_new
    return OK
