"""The error surface: J over a grid of two of a network's parameters, every other one fixed,
and the paths that batch, stochastic and mini-batch gradient descent take on it from the same
start when only those two are trained (the lecture's picture of the three batch modes).

J is the objective that training descends: the mean over the training samples of
``(y - yhat)^2`` (summed over outputs), plus the regularization's term when there is one
(:func:`backend.core.update.penalty`). A path steps with backpropagation's gradient masked to
the two parameters, through the update training uses (:func:`step_parameters`), so every point
of a path lies on the surface drawn around it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from backend.core.config import BATCH_MODES, TrainingConfig, backprop_warnings, frozen_depth
from backend.core.network import (
    BLOCK,
    Network,
    Pass,
    backward,
    forward,
    forward_output,
    gradients,
    mse,
)
from backend.core.update import DIVERGED, REGULARIZATION_CODES, penalty, step_parameters

PARAMETER_KINDS = ("W", "b")
SPAN = 2.0  # the default range: the start +- SPAN, widened to hold the paths ...
REACH = 20.0  # ... but never past the start +- REACH (a diverging path is cut by the plot)
MARGIN = 0.05  # of the range, around the paths


class SurfaceError(ValueError):
    """Parameters or ranges that do not fit the network, with a sentence saying what does."""


@dataclass(frozen=True)
class Parameter:
    """``W[i][j]`` or ``b[i]`` of ``layers[layer]``: the lecture's ``W^k``, ``b^k`` for
    k = layer + 1 (indices from 0, as in the state's JSON)."""

    layer: int
    kind: str
    i: int
    j: int = 0

    @property
    def name(self) -> str:
        k = self.layer + 1
        return f"W^{k}[{self.i},{self.j}]" if self.kind == "W" else f"b^{k}[{self.i}]"

    def index(self, net: Network) -> int:
        """The parameter's place in ``net.theta``; SurfaceError when the network has none."""
        if self.kind not in PARAMETER_KINDS:
            raise SurfaceError(f"a parameter's kind is 'W' or 'b', got {self.kind!r}")
        if not 0 <= self.layer < net.depth:
            raise SurfaceError(f"layer {self.layer} does not exist: this network's layers are "
                               f"0 to {net.depth - 1} (layer k holds W^(k+1) and b^(k+1))")
        start = sum(p * q + p for q, p in zip(net.sizes[:self.layer],
                                               net.sizes[1:self.layer + 1], strict=True))
        q, p = net.sizes[self.layer], net.sizes[self.layer + 1]
        if not 0 <= self.i < p:
            raise SurfaceError(f"layer {self.layer} has {p} neuron(s): i must be from 0 to "
                               f"{p - 1}, got {self.i}")
        if self.kind == "b":
            if self.j != 0:
                raise SurfaceError(f"a bias has one index (b[i]); got j = {self.j}")
            return start + p * q + self.i
        if not 0 <= self.j < q:
            raise SurfaceError(f"W of layer {self.layer} has {q} column(s) (one per input): j "
                               f"must be from 0 to {q - 1}, got {self.j}")
        return start + self.i * q + self.j


def default_parameters(net: Network) -> list[Parameter]:
    """The first two weights of the last layer (its first weight and bias if it has one
    input)."""
    last = net.depth - 1
    second = Parameter(last, "W", 0, 1) if net.sizes[-2] >= 2 else Parameter(last, "b", 0)
    return [Parameter(last, "W", 0, 0), second]


def minibatch_size(config: TrainingConfig, n_train: int) -> int:
    """The network's mini-batch size, kept under the training set so that a mini-batch is a
    part of it (on the four logic points: 2)."""
    return max(1, min(config.batch_size, max(2, n_train // 2)))


def batch_sizes(n_train: int, minibatch: int) -> dict[str, int]:
    """Samples per update of each batch mode (as training counts them)."""
    return {mode: TrainingConfig(batch_mode=mode, batch_size=minibatch).batch_length(n_train)
            for mode in BATCH_MODES}


class Objective:
    """J of a network on a training set, for its parameters of the moment."""

    def __init__(self, net: Network, a0: np.ndarray, y: np.ndarray, regularization: str = "none",
                 rate: float = 0.0):
        self.net, self.a0, self.y = net, a0, y
        self.regularization, self.rate = regularization, rate
        self.yhat = np.empty_like(y)
        self.ws = Pass.allocate(net, max(1, min(len(a0), BLOCK)), forward_only=True)

    def __call__(self) -> float:
        with np.errstate(all="ignore"):
            forward_output(self.net, self.a0, self.yhat, self.ws)
            return mse(self.y, self.yhat) + penalty(self.net.theta, self.net.weight_mask,
                                                    self.regularization, self.rate)


@dataclass
class Path:
    mode: str
    batch_size: int
    points: np.ndarray  # (updates + 1, 2): the two parameters, from the start
    J: np.ndarray  # J at each point
    diverged: bool  # stopped early: the next update made J or a parameter infinite or NaN

    @property
    def updates(self) -> int:
        return len(self.points) - 1


@dataclass
class Surface:
    parameters: list[Parameter]
    start: tuple[float, float]
    axes: tuple[np.ndarray, np.ndarray]  # the values of each parameter, ascending
    J: np.ndarray  # (R, R): row 0 the largest value of the second parameter, as an image
    paths: list[Path]
    learning_rate: float
    epochs: int
    warnings: list[str]


def loss_grid(objective: Objective, idx: tuple[int, int],
              axes: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """J with the two parameters set to every pair of values of ``axes`` (the network's
    parameters are left as they were)."""
    theta = objective.net.theta
    saved = theta[list(idx)].copy()
    u, v = axes
    J = np.empty((len(v), len(u)))
    try:
        for r, second in enumerate(v[::-1]):
            theta[idx[1]] = second
            for c, first in enumerate(u):
                theta[idx[0]] = first
                J[r, c] = objective()
    finally:
        theta[list(idx)] = saved
    return J


def descend(net: Network, objective: Objective, idx: tuple[int, int], mode: str, m: int,
            epochs: int, config: TrainingConfig, rng: np.random.Generator) -> Path:
    """``epochs`` epochs of gradient descent in batches of ``m`` samples, the data reshuffled
    each epoch but in batch mode, changing only the parameters ``idx`` of ``net``."""
    theta, a0, y = net.theta, objective.a0, objective.y
    n = len(a0)
    mask = np.zeros_like(theta)
    mask[list(idx)] = 1.0
    rule = (float(config.learning_rate), REGULARIZATION_CODES[config.regularization],
            float(config.regularization_rate), mask * net.weight_mask)
    d, theta_new = np.empty_like(theta), np.empty_like(theta)
    points, values = [theta[list(idx)].copy()], [objective()]
    with np.errstate(all="ignore"):
        for _ in range(epochs):
            order = np.arange(n) if mode == "batch" else rng.permutation(n)
            for start in range(0, n, m):
                rows = order[start:start + m]
                ws = gradients(net, backward(net, y[rows], forward(net, a0[rows])))
                ws.g *= mask
                if step_parameters(theta, ws.g, 1, *rule, d, theta_new) == DIVERGED:
                    return Path(mode, m, np.array(points), np.array(values), True)
                J = objective()
                if not math.isfinite(J):
                    return Path(mode, m, np.array(points), np.array(values), True)
                points.append(theta[list(idx)].copy())
                values.append(J)
    return Path(mode, m, np.array(points), np.array(values), False)


def error_surface(net: Network, a0: np.ndarray, y: np.ndarray, config: TrainingConfig,
                  parameters: list[Parameter] | None = None,
                  ranges: tuple[tuple[float, float], tuple[float, float]] | None = None,
                  resolution: int = 41, epochs: int = 30, minibatch: int | None = None,
                  seed: int = 0) -> Surface:
    """J over a ``resolution`` x ``resolution`` grid of two parameters of ``net`` (on the
    training set ``a0``, ``y``) and the three batch modes' paths from the parameters' current
    values, ``epochs`` epochs each at the network's learning rate. ``ranges``: each
    parameter's [lo, hi] (default: the start +- SPAN, widened to hold the paths). ``net`` is
    not changed."""
    parameters = list(parameters or default_parameters(net))
    if len(parameters) != 2:
        raise SurfaceError(f"choose two parameters, got {len(parameters)}")
    idx = (parameters[0].index(net), parameters[1].index(net))
    if idx[0] == idx[1]:
        raise SurfaceError(f"choose two different parameters; {parameters[0].name} is given "
                           "twice")
    if resolution < 2 or epochs < 1:
        raise SurfaceError("the resolution must be 2 or more and the epochs 1 or more")
    n = len(a0)
    sizes = batch_sizes(n, minibatch or minibatch_size(config, n))
    start = net.theta[list(idx)].copy()
    paths = []
    for mode in BATCH_MODES:
        copy = net.copy()
        paths.append(descend(copy, Objective(copy, a0, y, config.regularization,
                                             config.regularization_rate),
                             idx, mode, sizes[mode], epochs, config,
                             np.random.default_rng(seed)))
    ranges = _checked(ranges) if ranges is not None else _around(start, paths)
    axes = tuple(np.linspace(lo, hi, resolution) for lo, hi in ranges)
    copy = net.copy()
    J = loss_grid(Objective(copy, a0, y, config.regularization, config.regularization_rate),
                  idx, axes)
    frozen = frozen_depth(net)
    warnings = backprop_warnings(net) if any(p.layer < frozen for p in parameters) else []
    return Surface(parameters, (float(start[0]), float(start[1])), axes, J, paths,
                   float(config.learning_rate), epochs, warnings)


def _checked(ranges) -> tuple[tuple[float, float], ...]:
    out = []
    for k, pair in enumerate(ranges, start=1):
        lo, hi = (float(v) for v in pair)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise SurfaceError(f"the range of parameter {k} must be two finite numbers "
                               f"[lo, hi] with lo < hi, got [{lo:g}, {hi:g}]")
        out.append((lo, hi))
    if len(out) != 2:
        raise SurfaceError(f"give a range for each of the two parameters, got {len(out)}")
    return tuple(out)


def _around(start: np.ndarray, paths: list[Path]) -> tuple[tuple[float, float], ...]:
    """The start +- SPAN, widened to hold every path (up to the start +- REACH)."""
    ranges = []
    for k in range(2):
        values = np.concatenate([p.points[:, k] for p in paths])
        lo = max(min(start[k] - SPAN, values.min()), start[k] - REACH)
        hi = min(max(start[k] + SPAN, values.max()), start[k] + REACH)
        pad = MARGIN * (hi - lo)
        ranges.append((float(lo - pad), float(hi + pad)))
    return tuple(ranges)
