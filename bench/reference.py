"""The yardstick: a small, tuned NumPy training loop doing the core's math and nothing else.

Fully connected layers, squared error, the batch mean of ``s^k (a^(k-1))^T``, mini-batches of
a training set reshuffled each epoch, and every ``stride`` epochs the loss on the training and
the test set (the work of the core's history). It does little per step: buffers preallocated
for each batch size, ``out=`` everywhere, in-place updates, one matrix product per layer and
direction, no checks. The core must come near it while also doing its bookkeeping.
"""

from __future__ import annotations

import numpy as np

FUNCTIONS = {"tanh": np.tanh, "relu": lambda n, out: np.maximum(n, 0.0, out=out)}


class ReferenceLoop:
    def __init__(self, sizes: list[int], activation: str, X: np.ndarray, Y: np.ndarray,
                 eta: float, batch: int, seed: int = 0,
                 test: tuple[np.ndarray, np.ndarray] | None = None, stride: int = 1):
        rng = np.random.default_rng(seed)
        self.W = [rng.normal(0, np.sqrt(2 / (q + p)), (p, q))
                  for q, p in zip(sizes[:-1], sizes[1:], strict=True)]
        self.b = [np.zeros(p) for p in sizes[1:]]
        self.f = FUNCTIONS[activation]
        self.relu = activation == "relu"
        self.X, self.Y, self.eta, self.batch = X, Y, eta, batch
        self.rng = rng
        self.Xs, self.Ys = np.empty_like(X), np.empty_like(Y)
        self.buffers: dict[int, tuple] = {}
        self.sizes = sizes
        self.test, self.stride, self.epochs = test, stride, 0
        self.losses: list[tuple[float, float]] = []
        self._outputs: dict[int, list] = {}

    def loss(self, X: np.ndarray, Y: np.ndarray) -> float:
        """The mean over the samples of the squared error (the history's loss)."""
        if len(X) not in self._outputs:
            self._outputs[len(X)] = [np.empty((len(X), p)) for p in self.sizes[1:]]
        yhat = grid_forward(self.W, self.b, "relu" if self.relu else "tanh", X,
                            self._outputs[len(X)])[-1]
        yhat -= Y
        return float(np.einsum("ij,ij->", yhat, yhat)) / len(X)

    def _buffers(self, m: int) -> tuple:
        if m not in self.buffers:
            n = [np.empty((m, p)) for p in self.sizes[1:]]
            a = [np.empty((m, p)) for p in self.sizes[1:-1]]
            s = [np.empty((m, p)) for p in self.sizes[1:]]
            d = [np.empty((m, p)) for p in self.sizes[1:-1]]
            gW = [np.empty_like(W) for W in self.W]
            gb = [np.empty_like(b) for b in self.b]
            self.buffers[m] = (n, a, s, d, gW, gb)
        return self.buffers[m]

    def epoch(self) -> int:
        """One epoch of mini-batch updates; returns the samples used."""
        order = self.rng.permutation(len(self.X))
        np.take(self.X, order, axis=0, out=self.Xs)
        np.take(self.Y, order, axis=0, out=self.Ys)
        W, b, f, eta, L = self.W, self.b, self.f, self.eta, len(self.W)
        for start in range(0, len(self.X), self.batch):
            x = self.Xs[start:start + self.batch]
            y = self.Ys[start:start + self.batch]
            n, a, s, d, gW, gb = self._buffers(len(x))
            # forward: hidden layers f, a linear output
            prev = x
            for k in range(L - 1):
                np.matmul(prev, W[k].T, out=n[k])
                n[k] += b[k]
                f(n[k], out=a[k])
                prev = a[k]
            np.matmul(prev, W[-1].T, out=n[-1])
            n[-1] += b[-1]
            # backward: s = 2 (yhat - y) at the output, then through f'
            np.subtract(n[-1], y, out=s[-1])
            s[-1] *= 2.0
            for k in range(L - 2, -1, -1):
                np.matmul(s[k + 1], W[k + 1], out=s[k])
                if self.relu:
                    np.greater(n[k], 0.0, out=d[k], casting="unsafe")
                else:
                    np.multiply(a[k], a[k], out=d[k])
                    np.subtract(1.0, d[k], out=d[k])
                s[k] *= d[k]
            # gradient descent with the batch mean
            step = eta / len(x)
            for k in range(L):
                np.matmul(s[k].T, x if k == 0 else a[k - 1], out=gW[k])
                gW[k] *= step
                W[k] -= gW[k]
                np.sum(s[k], axis=0, out=gb[k])
                gb[k] *= step
                b[k] -= gb[k]
        self.epochs += 1
        if self.test is not None and self.epochs % self.stride == 0:
            self.losses.append((self.loss(self.X, self.Y), self.loss(*self.test)))
        return len(self.X)


def grid_forward(W: list, b: list, activation: str, a0: np.ndarray, out: list) -> list:
    """Every layer's a^k over the grid into preallocated ``out`` (hidden f, linear output)."""
    f = FUNCTIONS[activation]
    prev = a0
    for k in range(len(W)):
        np.matmul(prev, W[k].T, out=out[k])
        out[k] += b[k]
        if k < len(W) - 1:
            f(out[k], out=out[k])
        prev = out[k]
    return out
