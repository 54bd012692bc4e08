"""A fully connected network and the three steps of backpropagation, in the lecture's notation.

Layer k (1..l) has weights ``W^k`` of shape ``(p^k, p^(k-1))`` (row i: the weights into neuron
i) and biases ``b^k`` of shape ``(p^k,)``. A batch holds samples in rows, so for m samples
``a^k`` and ``n^k`` are ``(m, p^k)`` and the lecture's column form ``n = W a + b`` reads
``n = a W^T + b`` here.

The pass records (:class:`Pass`) index their lists by the lecture's layer number: ``a[0]`` is
the input x, ``n[k]``, ``a[k]``, ``fdot[k]`` and ``s[k]`` belong to layer k, and index 0 of
``n``, ``fdot`` and ``s`` is unused (None). A Pass doubles as the preallocated workspace of the
fast training loop: :func:`forward`, :func:`backward` and :func:`gradients` write into it.

All weights and biases live in one flat vector ``theta`` (``W^k`` and ``b^k`` are views of it),
and so do the gradients of a Pass: an update is then a few operations on whole vectors, not a
few per layer, which is what makes small networks fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from backend.core.activations import Activation, get_activation

INIT_SCHEMES = ("zeros", "uniform", "xavier", "he")


class NetworkError(ValueError):
    pass


@dataclass
class Layer:
    W: np.ndarray
    b: np.ndarray
    activation: Activation


class Network:
    """Weights, biases and an activation per layer; ``sizes = [p^0, p^1, ..., p^l]``."""

    def __init__(self, sizes: list[int], activations: list[str], weights=None):
        if len(sizes) < 2:
            raise NetworkError("a network needs an input layer and at least one more layer")
        if any(int(p) < 1 for p in sizes):
            raise NetworkError(f"every layer needs at least one neuron, got sizes {sizes}")
        if len(activations) != len(sizes) - 1:
            raise NetworkError(
                f"{len(sizes) - 1} layers need {len(sizes) - 1} activations, "
                f"got {len(activations)}"
            )
        self.sizes = [int(p) for p in sizes]
        functions = [get_activation(name) for name in activations]
        self.theta = np.zeros(parameter_count(self.sizes))
        self.layers = [Layer(W, b, f) for (W, b), f in
                       zip(parameter_views(self.theta, self.sizes), functions, strict=True)]
        self.version = 0  # counts every change of the parameters
        self.weight_mask = np.zeros_like(self.theta)  # 1 on weights, 0 on biases
        for W, _ in parameter_views(self.weight_mask, self.sizes):
            W[...] = 1.0
        if weights is not None:
            self.set_parameters(weights)

    @classmethod
    def initialised(cls, sizes, activations, scheme: str = "xavier", seed: int = 0,
                    rng: np.random.Generator | None = None) -> Network:
        net = cls(sizes, activations)
        net.initialise(scheme, rng if rng is not None else np.random.default_rng(seed))
        return net

    @property
    def depth(self) -> int:
        """l, the number of layers with weights."""
        return len(self.layers)

    @property
    def activations(self) -> list[str]:
        return [layer.activation.name for layer in self.layers]

    def initialise(self, scheme: str, rng: np.random.Generator) -> None:
        """New weights by ``scheme``; biases start at 0 (except ``uniform``, as for weights)."""
        if scheme not in INIT_SCHEMES:
            raise NetworkError(
                f"unknown init scheme {scheme!r}; allowed: {', '.join(INIT_SCHEMES)}")
        self.version += 1
        for layer in self.layers:
            p, q = layer.W.shape
            if scheme == "zeros":
                layer.W[...] = 0.0
                layer.b[...] = 0.0
            elif scheme == "uniform":
                layer.W[...] = rng.uniform(-0.5, 0.5, (p, q))
                layer.b[...] = rng.uniform(-0.5, 0.5, p)
            else:
                # Glorot: variance 2 / (fan_in + fan_out); He: variance 2 / fan_in.
                var = 2.0 / (q + p) if scheme == "xavier" else 2.0 / q
                layer.W[...] = rng.normal(0.0, np.sqrt(var), (p, q))
                layer.b[...] = 0.0

    def parameters(self) -> list[dict]:
        """Plain lists of every layer's W, b and activation (floats round-trip exactly)."""
        return [{"W": layer.W.tolist(), "b": layer.b.tolist(),
                 "activation": layer.activation.name} for layer in self.layers]

    def set_parameters(self, weights: list[dict]) -> None:
        """Set every layer's W and b from ``[{"W": [[..]], "b": [..]}, ..]``, checking shapes."""
        if len(weights) != self.depth:
            raise NetworkError(f"expected {self.depth} layers of parameters, got {len(weights)}")
        new = []
        for k, (layer, given) in enumerate(zip(self.layers, weights, strict=True), start=1):
            W = _numbers(given["W"], f"W^{k}", f"{_shape(layer.W.shape)} (p^{k} rows of "
                         f"p^{k - 1} numbers each)")
            b = _numbers(given["b"], f"b^{k}", f"{layer.b.shape[0]} numbers")
            if W.shape != layer.W.shape:
                raise NetworkError(f"W^{k} must be {_shape(layer.W.shape)} "
                                   f"(p^{k} rows of p^{k - 1} numbers), got {_shape(W.shape)}")
            if b.shape != layer.b.shape:
                raise NetworkError(f"b^{k} must hold {layer.b.shape[0]} numbers, "
                                   f"got {_shape(b.shape)}")
            if not (np.isfinite(W).all() and np.isfinite(b).all()):
                raise NetworkError(f"W^{k} and b^{k} must be finite numbers")
            new.append((W, b))
        for layer, (W, b) in zip(self.layers, new, strict=True):
            layer.W[...] = W
            layer.b[...] = b
        self.version += 1

    def copy(self) -> Network:
        return Network(self.sizes, self.activations, self.parameters())


def _numbers(given, name: str, expected: str) -> np.ndarray:
    """``given`` as a float array; rows of different lengths or non-numbers are refused with
    the shape the parameter must have, not NumPy's own words."""
    try:
        return np.asarray(given, dtype=np.float64)
    except (TypeError, ValueError):
        raise NetworkError(f"{name} must be {expected}: every row the same length, "
                           "every entry a number") from None


def parameter_count(sizes: list[int]) -> int:
    return sum(p * q + p for q, p in zip(sizes[:-1], sizes[1:], strict=True))


def parameter_views(flat: np.ndarray, sizes: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W^k, b^k) for k = 1..l as views of one flat vector: W^1, b^1, W^2, b^2, ..."""
    views, start = [], 0
    for q, p in zip(sizes[:-1], sizes[1:], strict=True):
        W = flat[start:start + p * q].reshape(p, q)
        b = flat[start + p * q:start + p * q + p]
        views.append((W, b))
        start += p * q + p
    return views


def _shape(shape: tuple) -> str:
    return " x ".join(str(d) for d in shape) or "a single number"


@dataclass
class Pass:
    """One batch through the network: the forward quantities, then the backward ones."""

    a: list  # a[0] = x (m, p^0); a[k] = f^k(n^k)
    n: list  # n[k] = a[k-1] W^k^T + b^k
    fdot: list = field(default_factory=list)  # fdot[k] = f^k'(n^k)
    s: list = field(default_factory=list)  # s[k] = dJ/dn^k (sensitivities)
    gW: list = field(default_factory=list)  # gW[k]: mean over the batch of s^k (a^(k-1))^T
    gb: list = field(default_factory=list)  # gb[k]: mean over the batch of s^k
    g: np.ndarray | None = None  # every gW[k] and gb[k], flat, laid out as Network.theta

    @classmethod
    def allocate(cls, net: Network, m: int, forward_only: bool = False) -> Pass:
        """A workspace for batches of m samples (every array preallocated). A linear layer's
        a^k is its n^k itself. ``forward_only``: no room for the backward pass."""
        sizes = net.sizes

        def per_layer():
            return [None] + [np.empty((m, p)) for p in sizes[1:]]

        n = per_layer()
        a = [np.empty((m, sizes[0]))] + [
            n[k] if layer.activation.identity else np.empty((m, sizes[k]))
            for k, layer in enumerate(net.layers, start=1)]
        if forward_only:
            return cls(a=a, n=n)
        g = np.empty_like(net.theta)
        views = parameter_views(g, sizes)
        return cls(a=a, n=n, fdot=per_layer(), s=per_layer(),
                   gW=[None] + [W for W, _ in views], gb=[None] + [b for _, b in views], g=g)

    @property
    def output(self) -> np.ndarray:
        """yhat = a^l."""
        return self.a[-1]

    def head(self, m: int) -> Pass:
        """The same workspace for a batch of only its first m samples (views, no copies)."""
        def rows(arrays):
            return [None if v is None else v[:m] for v in arrays]
        return Pass(a=rows(self.a), n=rows(self.n), fdot=rows(self.fdot), s=rows(self.s),
                    gW=self.gW, gb=self.gb, g=self.g)


def forward(net: Network, x: np.ndarray, ws: Pass | None = None) -> Pass:
    """Step 1: ``a^0 = x``, ``n^k = W^k a^(k-1) + b^k``, ``a^k = f^k(n^k)`` for k = 1..l."""
    if ws is None:
        ws = Pass(a=[np.asarray(x, dtype=np.float64)], n=[None])
        for k, layer in enumerate(net.layers, start=1):
            n = ws.a[k - 1] @ layer.W.T
            n += layer.b
            ws.n.append(n)
            ws.a.append(layer.activation.f(n))
        return ws
    if x is not ws.a[0]:
        ws.a[0][...] = x
    for k, layer in enumerate(net.layers, start=1):
        np.matmul(ws.a[k - 1], layer.W.T, out=ws.n[k])
        ws.n[k] += layer.b
        layer.activation.f(ws.n[k], out=ws.a[k])
    return ws


BLOCK = 512  # samples through the network at once where only the output is kept


def forward_output(net: Network, x: np.ndarray, out: np.ndarray | None = None,
                   ws: Pass | None = None) -> np.ndarray:
    """yhat = a^l for any number of samples, BLOCK at a time: the memory of one block's
    values in every layer, not of every sample's (a million points of a wide network would
    need gigabytes at once). ``ws``: a forward-only workspace of at most BLOCK rows to reuse."""
    x = np.asarray(x, dtype=np.float64)
    m = len(x)
    out = np.empty((m, net.sizes[-1])) if out is None else out
    if ws is None or len(ws.a[0]) < min(m, BLOCK):
        ws = Pass.allocate(net, max(1, min(m, BLOCK)), forward_only=True)
    for start in range(0, m, BLOCK):
        rows = min(BLOCK, m - start)
        block = ws if rows == len(ws.a[0]) else ws.head(rows)
        out[start:start + rows] = forward(net, x[start:start + rows], block).output
    return out


def forward_columns(net: Network, a0_columns: np.ndarray, out: list[np.ndarray]) -> list:
    """Step 1 in the lecture's own column form, ``n^k = W^k a^(k-1) + b^k`` with one column
    per sample, into preallocated ``out[k]`` of shape (p^k, m): each neuron's values over
    many points (a grid of the plane) come out as one contiguous row, ready to draw."""
    a = a0_columns
    for k, layer in enumerate(net.layers, start=1):
        n = np.matmul(layer.W, a, out=out[k])
        n += layer.b[:, None]
        a = layer.activation.f(n, out=n)
    return out


def backward(net: Network, y: np.ndarray, ws: Pass) -> Pass:
    """Step 2: ``s^l = -2 (y - yhat) fdot^l(n^l)``, ``s^k = Fdot^k(n^k) (W^(k+1))^T s^(k+1)``."""
    l = net.depth
    preallocated = len(ws.s) == l + 1
    if not preallocated:
        ws.fdot = [None] * (l + 1)
        ws.s = [None] * (l + 1)
    for k in range(l, 0, -1):
        act = net.layers[k - 1].activation
        if k == l:
            # -2 (y - yhat) = 2 (yhat - y)
            s = np.subtract(ws.a[l], y, out=ws.s[l] if preallocated else None)
            s *= 2.0
        else:
            s = np.matmul(ws.s[k + 1], net.layers[k].W, out=ws.s[k] if preallocated else None)
        if preallocated and act.identity:
            ws.fdot[k] = None  # fdot = 1: nothing to multiply (the fast loop skips it)
        else:
            ws.fdot[k] = act.fdot(ws.n[k], ws.a[k], out=ws.fdot[k] if preallocated else None)
            s *= ws.fdot[k]
        ws.s[k] = s
    return ws


def gradients(net: Network, ws: Pass, mean: bool = True) -> Pass:
    """The batch's mean of ``s^k (a^(k-1))^T`` and of ``s^k`` (one sample: the lecture's step),
    into ``ws.g`` (``mean=False``: their sums, for a caller that folds 1/m into its step)."""
    l = net.depth
    m = ws.a[0].shape[0]
    if ws.g is None:
        ws.g = np.empty_like(net.theta)
        views = parameter_views(ws.g, net.sizes)
        ws.gW = [None] + [W for W, _ in views]
        ws.gb = [None] + [b for _, b in views]
    for k in range(1, l + 1):
        np.matmul(ws.s[k].T, ws.a[k - 1], out=ws.gW[k])
        np.add.reduce(ws.s[k], axis=0, out=ws.gb[k])  # np.sum's Python wrapper costs more
    if mean and m != 1:
        ws.g *= 1.0 / m
    return ws


def loss_per_sample(y: np.ndarray, yhat: np.ndarray) -> np.ndarray:
    """J = sum over outputs of (y - yhat)^2, one number per sample."""
    e = y - yhat
    return np.einsum("ij,ij->i", e, e)


def mse(y: np.ndarray, yhat: np.ndarray) -> float:
    """The loss of a set of samples: the mean of J over the samples."""
    if len(y) == 0:
        return float("nan")
    return float(loss_per_sample(y, yhat).mean())
