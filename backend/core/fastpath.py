"""Whole iterations at speed: the compiled loop for small layers, NumPy for large ones.

The teaching steps (:class:`backend.core.training.Trainer`'s forward, backward and update)
keep every number for the page. Training at speed needs none of them: here each batch runs
forward, backward and the update into buffers kept between calls, many iterations a call.

- Small layers (batch size x the number of weights at most :data:`COMPILED_MAX_PRODUCTS` per
  layer) go to the compiled loop (:mod:`backend.core.kernel`, when Numba is installed), a
  call doing many iterations, or whole epochs with their history points.
- Large layers go through NumPy one iteration a call, batches a block at a time.

Whole epochs in one call draw each epoch's shuffle beforehand from the trainer's seeded
generator; when a chunk ends early (the perceptron converged, an update diverged) the
generator is rewound to where epoch-by-epoch training would leave it, so a run in chunks is
the run epoch by epoch.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from backend.core import accelerator
from backend.core.memory import nbytes
from backend.core.network import BLOCK, Network
from backend.core.update import DIVERGED, step_parameters

if TYPE_CHECKING:
    from backend.core.training import Trainer

# The compiled loop trains a batch when batch size x the number of weights (the sum of
# p^k p^(k-1)) is at most this per layer: its cost grows with those products, NumPy's with
# its calls, a dozen microseconds per layer (measured crossover).
COMPILED_MAX_PRODUCTS = 4096
# A run hands the compiled loop as many whole epochs as take about this long (the interpreter
# lock is free meanwhile); calls handed over by other requests wait that long at most.
CHUNK_SECONDS = 0.005
CHUNK_MAX_ORDERS = 2**16  # epochs x samples of one chunk's shuffled orders (512 kB)


class FastPath:
    """A trainer's buffers for whole iterations, and the loops that use them. The trainer is
    handed to each call (not kept: a network let go of is freed at once, with no cycle)."""

    def __init__(self, net: Network):
        self._depth = net.depth
        self._weights = sum(p * q for q, p in zip(net.sizes[:-1], net.sizes[1:], strict=True))
        self._loops: dict[int, AugmentedLoop] = {}  # the NumPy loop's buffers per batch size
        self._compiled: dict = {}  # kernel workspaces per batch size
        self._chunk: dict | None = None  # the compiled epochs' buffers

    # -- which path -------------------------------------------------------------------------

    def compiled_fits(self, m: int) -> bool:
        """Batches of m samples go to the compiled loop: Numba is there, and the products of
        a batch (m x the weights) are few enough per layer that NumPy's calls would cost more
        than they do."""
        return (m * self._weights <= COMPILED_MAX_PRODUCTS * self._depth
                and accelerator.available())

    def epochs_fit(self, t: Trainer) -> bool:
        """Whole epochs can go to the compiled loop: small layers, at the start of an epoch."""
        return t.order is None and t.cursor == 0 and self.compiled_fits(t.batch_length)

    # -- iterations ---------------------------------------------------------------------------

    def iterations(self, t: Trainer, limit: int, seconds: float | None = None) -> int:
        """Up to ``limit`` whole iterations, never past the end of the epoch (in NumPy, for
        about ``seconds`` at most). Every batch is a slice of this epoch's (shuffled) copy of
        the data. Returns the iterations done."""
        if t.order is None:
            t.begin_epoch()
        m = t.batch_length
        if not self.compiled_fits(m):
            return self._numpy_iterations(t, limit, seconds)
        kernel = accelerator.kernel()
        ws = self._compiled.get(m) or self._compiled_workspace(t, m)
        net = t.net
        done, used, wrong, status = kernel.train(
            net.theta, ws.sizes, ws.codes, t.epoch_a0, t.epoch_y, t.cursor, m, limit,
            *t.update_rule(), t.config.rule == "perceptron",
            ws.a, ws.n, ws.s, ws.wt, t.buffers.g, t.buffers.d, t.buffers.theta_new)
        net.version += done
        t.epoch_errors += wrong
        t.advance(used, done)
        if status == kernel.DIVERGED:
            t.diverged()
        return done

    def _numpy_iterations(self, t: Trainer, limit: int, seconds: float | None) -> int:
        """Up to ``limit`` iterations in NumPy (for about ``seconds`` at most), never past the
        end of the epoch; the parameters are worked on as ``[W | b]`` matrices and written
        back to ``theta`` before anything else can read them."""
        m = t.batch_length
        loop = self._loops.get(m) or self._loop(t, m)
        loop.gather(t.net)
        eta, regularization, rate, _ = t.update_rule()
        ends = None if seconds is None else time.perf_counter() + seconds
        done = 0
        while True:
            start = t.cursor
            end = min(start + m, t.n_train)
            wrong = loop.gradient(t, t.epoch_a0[start:end], t.epoch_y[start:end])
            status = step_parameters(loop.phi, loop.g, end - start, eta, regularization, rate,
                                     loop.mask, loop.d, loop.phi_new)
            if status == DIVERGED:
                loop.scatter(t)
                t.diverged()
            t.net.version += 1
            t.epoch_errors += wrong
            done += 1
            last = (end == t.n_train or done >= limit
                    or ends is not None and time.perf_counter() >= ends)
            if last:  # the epoch's end evaluates the history from theta: written back first
                loop.scatter(t)
            t.advance(end - start)
            if last:
                return done

    def _loop(self, t: Trainer, m: int) -> AugmentedLoop:
        loop = self._loops[m] = AugmentedLoop(t.net, min(m, BLOCK))
        return loop

    # -- whole epochs (compiled) ----------------------------------------------------------

    def epochs(self, t: Trainer, count: int) -> int:
        """``count`` whole epochs in one call of the compiled loop, with their history (each
        point evaluated there too), as if done one by one: the same shuffles from the same
        random generator. Stops early when the perceptron rule converges; raises Diverged
        with the weights and counters of the last good update. Returns the epochs done."""
        kernel = accelerator.kernel()
        n, m, net = t.n_train, t.batch_length, t.net
        chunk = self._chunk
        if chunk is None or chunk["orders"].shape[0] < count:
            chunk = self._chunk = {
                "orders": np.empty((count, n), np.int64),
                "evaluated": np.zeros(count, np.bool_),
                "metrics": np.zeros((count, 4)),
                "errors": np.zeros(count, np.int64),
                "eval": kernel.Workspace.allocate(
                    net.sizes, net.activations,
                    min(kernel.EVALUATION_BLOCK, max(n, len(t.test_a0)))),
                "a0": np.empty_like(t.train_a0), "y": np.empty_like(t.train_y),
            }
        orders, evaluated, metrics, errors = (chunk[k][:count] for k in
                                              ("orders", "evaluated", "metrics", "errors"))
        shuffled = t.config.batch_mode != "batch"
        rng_before = t.rng.bit_generator.state
        for e in range(count):
            orders[e] = t.rng.permutation(n) if shuffled else np.arange(n)
            evaluated[e] = (t.epoch + e + 1) % t.history.stride == 0
        ws, ev = self._compiled.get(m) or self._compiled_workspace(t, m), chunk["eval"]
        targets = t.targets
        classes = 0 if targets.task == "regression" else targets.outputs
        buffers = t.buffers
        done, iterations, used, wrong, status = kernel.train_epochs(
            net.theta, ws.sizes, ws.codes, t.train_a0, t.train_y, orders,
            chunk["a0"], chunk["y"], m, *t.update_rule(), t.config.rule == "perceptron",
            ws.a, ws.n, ws.s, ws.wt, buffers.g, buffers.d, buffers.theta_new, evaluated,
            t.test_a0, t.test_y, ev.a, ev.n, classes, float(targets.threshold), metrics, errors)
        per_epoch = t.iterations_per_epoch
        for e in range(done):
            t.iteration += per_epoch
            net.version += per_epoch
            t.epoch += 1
            t.last_epoch_errors = int(errors[e])
            t.history.record(t.epoch, t.iteration, lambda e=e: self._chunk_metrics(t, metrics[e]))
        drawn = done + (status != kernel.OK)  # the shuffles used, the diverging epoch's too
        if shuffled and drawn < count:  # the generator as if the epochs went one by one
            t.rng.bit_generator.state = rng_before
            for _ in range(drawn):
                t.rng.permutation(n)
        if status != kernel.OK:
            t.order = orders[done].copy()
            t.arrange_epoch(shuffled=True)
            t.cursor = used
            t.epoch_errors = int(wrong)
            t.iteration += iterations
            net.version += iterations
            t.diverged()
        return done

    def next_chunk(self, t: Trainer, chunk: int, done: int, took: float) -> int:
        """Epochs for the next call of the compiled loop: about CHUNK_SECONDS' worth, at most
        twice the last, and within CHUNK_MAX_ORDERS shuffled samples."""
        fitting = int(done * CHUNK_SECONDS / took) if took > 0 else 2 * chunk
        return max(1, min(2 * chunk, fitting, CHUNK_MAX_ORDERS // t.n_train))

    def _chunk_metrics(self, t: Trainer, sums: np.ndarray) -> dict:
        """A history point from the compiled loop's sums: mean J and the fraction correct."""
        regression = t.targets.task == "regression"
        metrics = {}
        for name, (loss, correct), count in (("train", sums[:2], t.n_train),
                                             ("test", sums[2:], len(t.test_a0))):
            metrics[f"{name}_loss"] = float(loss) / count if count else None
            metrics[f"{name}_accuracy"] = (None if regression or not count
                                           else float(correct) / count)
        errors = t.last_epoch_errors if t.config.rule == "perceptron" else None
        return {**metrics, "errors": errors}

    def _compiled_workspace(self, t: Trainer, m: int):
        net = t.net
        ws = self._compiled[m] = accelerator.kernel().Workspace.allocate(
            net.sizes, net.activations, m)
        return ws

    # -- memory -------------------------------------------------------------------------------

    def nbytes(self) -> int:
        return nbytes(self._compiled, self._chunk) + sum(
            loop.nbytes() for loop in self._loops.values())

    def forget_batch_size(self) -> None:
        """The workspaces are sized for a batch that changed."""
        self._loops.clear()
        self._compiled.clear()

    def drop_caches(self) -> None:
        self.forget_batch_size()
        self._chunk = None


class AugmentedLoop:
    """The NumPy loop of large layers, with ``[W^k | b^k]`` as one matrix per layer.

    After each layer's inputs comes a column of ones, ``[a^(k-1) | 1]``, so that
    ``n^k = [a^(k-1) | 1] [W^k | b^k]^T`` and the gradient ``[gW^k | gb^k] = (s^k)^T
    [a^(k-1) | 1]`` are one matrix product each: one product per layer and direction. The
    ``[W | b]`` matrices are a copy of the network's parameters (``theta`` lays out W^k then
    b^k), taken when the network changed since the last call and written back when a call
    ends. Batches of up to ``m`` samples; larger ones a block of ``m`` at a time.
    """

    def __init__(self, net: Network, m: int):
        sizes = net.sizes
        self.m = m
        self.inputs, self.outputs = sizes[:-1], sizes[1:]
        total = sum(p * (q + 1) for q, p in zip(sizes[:-1], sizes[1:], strict=True))
        self.phi, self.g, self.d, self.phi_new, self.mask, self.g_sum = (
            np.empty(total) for _ in range(6))
        self.Wb = self._views(self.phi)
        self.gWb = self._views(self.g)
        self.dWb = self._views(self.d)
        for M in self._views(self.mask):
            M[:, :-1], M[:, -1] = 1.0, 0.0  # regularization: the weights, not the biases
        self.A = [np.ones((m, q + 1)) for q in sizes[:-1]]  # [a^(k-1) | 1], k = 1..l
        self.a = [A[:, :-1] for A in self.A]  # a^(k-1): views without the ones
        self.n = [np.empty((m, p)) for p in sizes[1:]]
        self.fdot = [np.empty((m, p)) for p in sizes[1:]]
        self.s = [np.empty((m, p)) for p in sizes[1:]]
        output = net.layers[-1].activation
        self.yhat = self.n[-1] if output.identity else np.empty((m, sizes[-1]))
        self.version = -1  # the network's version that phi holds

    def _views(self, flat: np.ndarray) -> list[np.ndarray]:
        views, start = [], 0
        for q, p in zip(self.inputs, self.outputs, strict=True):
            views.append(flat[start:start + p * (q + 1)].reshape(p, q + 1))
            start += p * (q + 1)
        return views

    def gather(self, net: Network) -> None:
        """``[W | b]`` from the network's parameters, unless they have not changed since."""
        if self.version == net.version:
            return
        for Wb, layer in zip(self.Wb, net.layers, strict=True):
            Wb[:, :-1] = layer.W
            Wb[:, -1] = layer.b
        self.version = net.version

    def scatter(self, t: Trainer) -> None:
        """The parameters, and the last step taken (dW, db), back into the trainer's layout."""
        net = t.net
        for k, (Wb, dWb, layer) in enumerate(zip(self.Wb, self.dWb, net.layers, strict=True)):
            layer.W[...] = Wb[:, :-1]
            layer.b[...] = Wb[:, -1]
            t.dW[k][...] = dWb[:, :-1]
            t.db[k][...] = dWb[:, -1]
        self.version = net.version

    def gradient(self, t: Trainer, x: np.ndarray, y: np.ndarray) -> int:
        """The sums over the samples x (targets y) of ``(s^k)^T [a^(k-1) | 1]`` into ``g``;
        returns the perceptron's misclassified samples among them."""
        rows = len(x)
        if rows <= self.m:
            return self._block(t, x, y, rows)
        self.g_sum[...] = 0.0
        wrong = 0
        for start in range(0, rows, self.m):
            block = slice(start, min(start + self.m, rows))
            wrong += self._block(t, x[block], y[block], len(x[block]))
            self.g_sum += self.g
        self.g[...] = self.g_sum
        return wrong

    def _block(self, t: Trainer, x: np.ndarray, y: np.ndarray, rows: int) -> int:
        whole = rows == self.m
        A = self.A if whole else [A[:rows] for A in self.A]
        a = self.a if whole else [a[:rows] for a in self.a]
        n = self.n if whole else [n[:rows] for n in self.n]
        s = self.s if whole else [s[:rows] for s in self.s]
        fdot = self.fdot if whole else [f[:rows] for f in self.fdot]
        yhat = self.yhat if whole else self.yhat[:rows]
        layers = t.net.layers
        l = len(layers)
        a[0][...] = x
        for k, (layer, Wb) in enumerate(zip(layers, self.Wb, strict=True)):
            np.matmul(A[k], Wb.T, out=n[k])
            out = a[k + 1] if k + 1 < l else yhat
            if out is not n[k]:
                layer.activation.f(n[k], out=out)
        wrong = 0
        top = s[-1]
        np.subtract(yhat, y, out=top)
        if t.config.rule == "perceptron":  # s = -e: no factor 2, no derivative
            wrong = int(np.count_nonzero(top.any(axis=1)))
        else:
            top *= 2.0
        for k in range(l - 1, -1, -1):
            if k < l - 1:
                np.matmul(s[k + 1], self.Wb[k + 1][:, :-1], out=s[k])
            act = layers[k].activation
            if (k < l - 1 or t.config.rule != "perceptron") and not act.identity:
                act.fdot(n[k], a[k + 1] if k + 1 < l else yhat, out=fdot[k])
                s[k] *= fdot[k]
            np.matmul(s[k].T, A[k], out=self.gWb[k])
        return wrong

    def nbytes(self) -> int:
        return nbytes(self.phi, self.g, self.d, self.phi_new, self.mask, self.g_sum, self.A,
                      self.n, self.fdot, self.s, self.yhat)
