"""Training a network: the three steps one at a time, whole iterations, epochs and runs.

The perceptron learning rule ``W <- W + eta e x^T``, ``b <- b + eta e`` (``e = y - yhat``) is
gradient descent with the sensitivity ``s = -e``, so both rules share the forward pass, the
batch mean of ``s (a^(k-1))^T`` and the update; they differ only in the backward step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from backend.core import kernel
from backend.core.history import HISTORY_POINTS, History
from backend.core.memory import nbytes
from backend.core.network import (
    BLOCK,
    Network,
    Pass,
    backward,
    forward,
    forward_output,
    gradients,
    mse,
    parameter_views,
)
from backend.core.targets import Targets

RULES = ("backprop", "perceptron")
RULE_DESCRIPTIONS = {
    "backprop": "backpropagation and gradient descent, any network",
    "perceptron": "the perceptron learning rule: no hidden layer, a hardlim or hardlims output",
}
BATCH_MODES = ("batch", "stochastic", "minibatch")
REGULARIZATIONS = ("none", "l1", "l2")
STEPS = ("forward", "backward", "update")


class TrainingError(ValueError):
    """A configuration that cannot train, with a sentence saying what is allowed."""


class StepOrderError(RuntimeError):
    def __init__(self, called: str, expected: str, why: str = ""):
        self.called = called
        self.expected = expected
        super().__init__(
            f"{called} cannot come now: the next step is {expected}"
            + (f" ({why})" if why else "")
            + "; forward, backward and update come in that order for each batch"
        )


class CannotLearn(RuntimeError):
    pass


class Diverged(ArithmeticError):
    pass


@dataclass
class TrainingConfig:
    rule: str = "backprop"
    learning_rate: float = 0.1
    batch_mode: str = "minibatch"
    batch_size: int = 10
    regularization: str = "none"
    regularization_rate: float = 0.0

    def check(self, net: Network) -> list[str]:
        """Raise TrainingError for what cannot work; return warnings for what works partly."""
        _one_of("rule", self.rule, RULES)
        _one_of("batch mode", self.batch_mode, BATCH_MODES)
        _one_of("regularization", self.regularization, REGULARIZATIONS)
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise TrainingError("the learning rate must be a finite number above 0")
        if not (math.isfinite(self.regularization_rate) and self.regularization_rate >= 0):
            raise TrainingError("the regularization rate must be a finite number, 0 or more")
        if self.batch_size < 1:
            raise TrainingError("the batch size must be at least 1")
        if self.rule == "perceptron":
            output = net.layers[-1].activation.name
            if net.depth != 1 or output not in ("hardlim", "hardlims"):
                raise TrainingError(
                    "the perceptron rule trains a single-layer network (no hidden layer) with a "
                    f"hardlim or hardlims output; this one has {net.depth - 1} hidden layer(s) "
                    f"and a {output} output. Use rule 'backprop' for other networks."
                )
            return []
        return backprop_warnings(net)

    def batch_length(self, n_train: int) -> int:
        if self.batch_mode == "batch":
            return n_train
        if self.batch_mode == "stochastic":
            return 1
        return min(self.batch_size, n_train)


def backprop_warnings(net: Network) -> list[str]:
    last = frozen_depth(net)
    if last == 0:
        return []
    name = net.layers[last - 1].activation.name
    which = "the output layer" if last == net.depth else f"layer {last}"
    layers = "every layer" if last == net.depth else (
        "layer 1" if last == 1 else f"layers 1 to {last}")
    return [
        f"{which.capitalize()} uses {name}, whose derivative is 0 everywhere: backpropagation "
        f"gets no gradient through it, so it cannot train {layers}. Set those weights by hand "
        "(a hand-designed network), use sigmoid, tanh or relu to train, or the perceptron rule "
        "for a single-layer network."
    ]


def frozen_depth(net: Network) -> int:
    """The last layer whose activation has a zero derivative: backprop cannot train 1..that."""
    frozen = 0
    for k, layer in enumerate(net.layers, start=1):
        if not layer.activation.can_backprop:
            frozen = k
    return frozen


EVALUATED_SAMPLES_PER_EPOCH = 2048

# The compiled loop (backend.core.kernel) trains a batch when batch size x the number of
# weights (the sum of p^k p^(k-1)) is at most this per layer: its cost grows with those
# products, NumPy's with its calls, a dozen microseconds per layer (measured crossover).
COMPILED_MAX_PRODUCTS = 4096
FOREVER = 2**62  # iterations: "to the end of the epoch"
STEP_ITERATIONS = 256  # a step asks whether to stop at least this often
# A run hands the compiled loop as many whole epochs as take about this long (the interpreter
# lock is free meanwhile); calls handed over by other requests wait that long at most.
CHUNK_SECONDS = 0.005
CHUNK_MAX_ORDERS = 2**16  # epochs x samples of one chunk's shuffled orders (512 kB)


def evaluation_stride(samples: int) -> int:
    """Record the history every this many epochs: 1 for data up to 2,048 points (training and
    test), else the power of two that keeps the evaluation to about 2,048 points an epoch,
    a few per cent of the epoch's training work."""
    stride = 1
    while samples > EVALUATED_SAMPLES_PER_EPOCH * stride:
        stride *= 2
    return stride


def _one_of(what: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise TrainingError(f"unknown {what} {value!r}; allowed: {', '.join(allowed)}")


@dataclass
class RunResult:
    reason: str  # finished, converged, not_converged, stopped, diverged, cannot_learn
    message: str
    epochs: int  # epochs completed by this run
    iterations: int


class Trainer:
    """A network, its training and test data, the rule and batch mode, counters and history.

    ``train_a0``/``test_a0`` are the inputs a^0 (features already applied) and ``train_y``/
    ``test_y`` the encoded targets. Shuffles come from ``rng``, seeded, so a run replays.
    """

    def __init__(self, net: Network, train_a0, train_y, test_a0, test_y, targets: Targets,
                 config: TrainingConfig, seed: int = 0, history_points: int = HISTORY_POINTS):
        self.net = net
        self.train_a0 = np.ascontiguousarray(train_a0, dtype=np.float64)
        self.train_y = np.ascontiguousarray(train_y, dtype=np.float64)
        self.test_a0 = np.ascontiguousarray(test_a0, dtype=np.float64)
        self.test_y = np.ascontiguousarray(test_y, dtype=np.float64)
        if len(self.train_a0) == 0:
            raise TrainingError("there must be at least one training sample")
        self.targets = targets
        self.config = config
        self.warnings = config.check(net)
        self._evaluated: tuple[int, dict] = (-1, {})
        self._evaluation_outputs: dict[str, np.ndarray] = {}
        self._evaluation_pass: Pass | None = None
        self._workspaces: dict[int, Pass] = {}  # per batch size (at most BLOCK)
        self._batch_sum: np.ndarray | None = None  # the gradient of a batch over BLOCK samples
        self._compiled: dict[int, kernel.Workspace] = {}  # per batch size
        self._chunk: dict | None = None  # the compiled epochs' buffers
        self._weights = sum(p * q for q, p in zip(net.sizes[:-1], net.sizes[1:], strict=True))
        self._g = np.empty_like(net.theta)
        self._d = np.empty_like(net.theta)  # the step of the last update
        self._theta_new = np.empty_like(net.theta)
        views = parameter_views(self._d, net.sizes)
        self.dW = [W for W, _ in views]
        self.db = [b for _, b in views]
        self.history = History(history_points, min_stride=evaluation_stride(
            len(self.train_a0) + len(self.test_a0)))
        self.reset_counters(seed)

    # -- state --------------------------------------------------------------------------

    def reset_counters(self, seed: int) -> None:
        """Back to epoch 0: counters, shuffles (from ``seed``), history and pending step."""
        self.rng = np.random.default_rng(seed)
        self.epoch = 0
        self.iteration = 0
        self.cursor = 0  # samples of the current epoch already used
        self.order: np.ndarray | None = None  # this epoch's sample order
        self.epoch_errors = 0  # perceptron: misclassified samples so far in this epoch
        self.last_epoch_errors: int | None = None
        self.history.clear()
        self._pending: Pass | None = None
        self._pending_errors = 0  # the perceptron's errors in the batch begun step by step
        self._pending_batch: np.ndarray | None = None  # sample indices, None for a given batch
        self._pending_y: np.ndarray | None = None
        self._forward_without_y = False
        self._epoch_a0 = self._epoch_y = None
        self.next_step = "forward"
        self.history.record(0, 0, self.evaluate)

    def configure(self, config: TrainingConfig) -> None:
        """New hyperparameters (same shapes): takes effect from the next batch."""
        self.warnings = config.check(self.net)
        self.config = config
        self.abandon_batch()
        self._workspaces.clear()  # sized for the old batch
        self._compiled.clear()

    @property
    def pending_batch(self) -> np.ndarray | None:
        """The training samples of the batch begun step by step (None: given by hand)."""
        return self._pending_batch

    @property
    def pending_y(self) -> np.ndarray | None:
        return self._pending_y

    @property
    def n_train(self) -> int:
        return len(self.train_a0)

    @property
    def batch_length(self) -> int:
        return self.config.batch_length(self.n_train)

    @property
    def iterations_per_epoch(self) -> int:
        """Batches in an epoch (the last may be smaller)."""
        return -(-self.n_train // self.batch_length)

    @property
    def converged(self) -> bool:
        return self.config.rule == "perceptron" and self.last_epoch_errors == 0

    def evaluate(self) -> dict:
        """Loss (mean J) and, for classification, accuracy on the training and test sets
        (computed once for each version of the weights)."""
        if self._evaluated[0] == self.net.version:
            return dict(self._evaluated[1])
        metrics = self._evaluate()
        self._evaluated = (self.net.version, metrics)
        return dict(metrics)

    def _epoch_metrics(self) -> dict:
        errors = self.last_epoch_errors if self.config.rule == "perceptron" else None
        return {**self.evaluate(), "errors": errors}

    def _evaluate(self) -> dict:
        metrics = {}
        for name, a0, y in (("train", self.train_a0, self.train_y),
                            ("test", self.test_a0, self.test_y)):
            if len(a0) == 0:
                metrics[f"{name}_loss"] = None
                metrics[f"{name}_accuracy"] = None
                continue
            yhat = self._evaluation_outputs.get(name)
            if yhat is None:  # kept: the outputs of a set, a block of samples at a time
                yhat = self._evaluation_outputs[name] = np.empty_like(y)
            if self._evaluation_pass is None:
                self._evaluation_pass = Pass.allocate(
                    self.net, min(BLOCK, max(len(self.train_a0), len(self.test_a0))), True)
            with np.errstate(all="ignore"):
                forward_output(self.net, a0, yhat, self._evaluation_pass)
                metrics[f"{name}_loss"] = mse(y, yhat)
            metrics[f"{name}_accuracy"] = self.targets.accuracy(yhat, y)
        return metrics

    # -- the three steps, one call each (the teaching view) ---------------------------------

    def forward(self, a0: np.ndarray | None = None, y: np.ndarray | None = None) -> Pass:
        """Step 1 on the next batch of the batch mode, or on a given batch (a0, and y)."""
        if self.next_step != "forward":
            raise StepOrderError("forward", self.next_step)
        if a0 is None:
            batch = self._next_batch()
            a0, y = self.train_a0[batch], self.train_y[batch]
        else:
            batch = None
            a0 = np.asarray(a0, dtype=np.float64)
            y = None if y is None else np.asarray(y, dtype=np.float64)
            if y is not None and y.shape != (len(a0), self.net.sizes[-1]):
                raise TrainingError(
                    f"y must hold one row of {self.net.sizes[-1]} target value(s) per sample "
                    f"({len(a0)} x {self.net.sizes[-1]}); got {' x '.join(map(str, y.shape))}")
        with np.errstate(all="ignore"):
            ws = forward(self.net, a0)
        self._forward_without_y = y is None
        if y is not None:  # without targets there is no error to send back: a look only
            self._pending, self._pending_batch, self._pending_y = ws, batch, y
            self.next_step = "backward"
        return ws

    def backward(self) -> tuple[Pass, float]:
        """Step 2 for the last forward: the sensitivities s^k (perceptron: s = -e); the loss."""
        if self.next_step != "backward":
            why = ("the last forward had x without y, so there is no error to send back"
                   if self._forward_without_y and self.next_step == "forward" else "")
            raise StepOrderError("backward", self.next_step, why)
        ws, y = self._pending, self._pending_y
        with np.errstate(all="ignore"):
            wrong = self._backward(ws, y)
            gradients(self.net, ws)
        # Counted with the update: a refused update leaves the batch to be done again.
        self._pending_errors = wrong if self._pending_batch is not None else 0
        self.next_step = "update"
        return ws, mse(y, ws.output)

    def update(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Step 3: ``W^k <- W^k - eta s^k (a^(k-1))^T``, ``b^k <- b^k - eta s^k`` (batch means).

        Returns the applied changes (dW, db) for every layer.
        """
        if self.next_step != "update":
            raise StepOrderError("update", self.next_step)
        ws = self._pending
        try:
            with np.errstate(all="ignore"):
                self._step_parameters(ws.g, 1)  # ws.g is already the batch mean
            self.epoch_errors += self._pending_errors
        finally:
            batch = self._pending_batch
            self.abandon_batch()
        self._advance(0 if batch is None else len(batch))
        return [dW.copy() for dW in self.dW], [db.copy() for db in self.db]

    def abandon_batch(self) -> None:
        """Forget a batch begun step by step: the next step is forward again."""
        self._pending = self._pending_batch = self._pending_y = None
        self._pending_errors = 0
        self.next_step = "forward"

    # -- whole iterations (the fast path) --------------------------------------------------

    def iterate(self) -> None:
        """One whole iteration (forward, backward, update) on the next batch."""
        if self.next_step != "forward":
            raise StepOrderError("a whole iteration", self.next_step,
                                 "finish the batch already begun step by step")
        with np.errstate(all="ignore"):
            self._iterations(1)

    def _iterations(self, limit: int) -> int:
        """The fast path: up to ``limit`` whole iterations, never past the end of the epoch.
        Every batch is a slice of this epoch's (shuffled) copy of the data. Small layers run
        in the compiled loop, many iterations a call; large ones one iteration at a time in
        NumPy. Returns the iterations done."""
        if self.order is None:
            self._begin_epoch()
        m = self.batch_length
        if not self.compiled_fits(m):
            self._iterate()
            return 1
        ws = self._compiled.get(m) or self._compiled_workspace(m)
        cfg, net = self.config, self.net
        done, used, wrong, status = kernel.train(
            net.theta, ws.sizes, ws.codes, self._epoch_a0, self._epoch_y, self.cursor, m, limit,
            *self._update_rule(), cfg.rule == "perceptron",
            ws.a, ws.n, ws.s, ws.wt, self._g, self._d, self._theta_new)
        net.version += done
        self.epoch_errors += wrong
        self._advance(used, done)
        if status == kernel.DIVERGED:
            raise Diverged(self._diverged_message("the update made a weight infinite or NaN"))
        return done

    def _compiled_epochs_fit(self) -> bool:
        """Whole epochs can go to the compiled loop: small layers, at the start of an epoch."""
        return (self.order is None and self.cursor == 0
                and self.compiled_fits(self.batch_length))

    def compiled_fits(self, m: int) -> bool:
        """Batches of m samples go to the compiled loop: the products of a batch (m x the
        weights) are few enough per layer that NumPy's calls would cost more than they do."""
        return m * self._weights <= COMPILED_MAX_PRODUCTS * self.net.depth

    def _epochs(self, count: int) -> int:
        """``count`` whole epochs in one call of the compiled loop, with their history (each
        point evaluated there too), as if done one by one: the same shuffles from the same
        random generator. Stops early when the perceptron rule converges; raises Diverged
        with the weights and counters of the last good update. Returns the epochs done."""
        n, m, cfg, net = self.n_train, self.batch_length, self.config, self.net
        chunk = self._chunk
        if chunk is None or chunk["orders"].shape[0] < count:
            chunk = self._chunk = {
                "orders": np.empty((count, n), np.int64),
                "evaluated": np.zeros(count, np.bool_),
                "metrics": np.zeros((count, 4)),
                "errors": np.zeros(count, np.int64),
                "eval": kernel.Workspace.allocate(
                    net.sizes, net.activations,
                    min(kernel.EVALUATION_BLOCK, max(n, len(self.test_a0)))),
                "a0": np.empty_like(self.train_a0), "y": np.empty_like(self.train_y),
            }
        orders, evaluated, metrics, errors = (chunk[k][:count] for k in
                                              ("orders", "evaluated", "metrics", "errors"))
        shuffled = cfg.batch_mode != "batch"
        rng_before = self.rng.bit_generator.state
        for e in range(count):
            orders[e] = self.rng.permutation(n) if shuffled else np.arange(n)
            evaluated[e] = (self.epoch + e + 1) % self.history.stride == 0
        ws, ev = self._compiled.get(m) or self._compiled_workspace(m), chunk["eval"]
        targets = self.targets
        classes = 0 if targets.task == "regression" else targets.outputs
        done, iterations, used, wrong, status = kernel.train_epochs(
            net.theta, ws.sizes, ws.codes, self.train_a0, self.train_y, orders,
            chunk["a0"], chunk["y"], m, *self._update_rule(), cfg.rule == "perceptron",
            ws.a, ws.n, ws.s, ws.wt, self._g,
            self._d, self._theta_new, evaluated, self.test_a0, self.test_y, ev.a, ev.n,
            classes, float(targets.threshold), metrics, errors)
        per_epoch = self.iterations_per_epoch
        for e in range(done):
            self.iteration += per_epoch
            net.version += per_epoch
            self.epoch += 1
            self.last_epoch_errors = int(errors[e])
            self.history.record(self.epoch, self.iteration,
                                lambda e=e: self._chunk_metrics(metrics[e]))
        drawn = done + (status != kernel.OK)  # the shuffles used, the diverging epoch's too
        if shuffled and drawn < count:  # the generator as if the epochs went one by one
            self.rng.bit_generator.state = rng_before
            for _ in range(drawn):
                self.rng.permutation(n)
        if status != kernel.OK:
            self.order = orders[done].copy()
            self._arrange_epoch(shuffled=True)
            self.cursor = used
            self.epoch_errors = int(wrong)
            self.iteration += iterations
            net.version += iterations
            raise Diverged(self._diverged_message("the update made a weight infinite or NaN"))
        return done

    def _next_chunk(self, chunk: int, done: int, took: float) -> int:
        """Epochs for the next call of the compiled loop: about CHUNK_SECONDS' worth, at most
        twice the last, and within CHUNK_MAX_ORDERS shuffled samples."""
        fitting = int(done * CHUNK_SECONDS / took) if took > 0 else 2 * chunk
        return max(1, min(2 * chunk, fitting, CHUNK_MAX_ORDERS // self.n_train))

    def _chunk_metrics(self, sums: np.ndarray) -> dict:
        """A history point from the compiled loop's sums: mean J and the fraction correct."""
        regression = self.targets.task == "regression"
        metrics = {}
        for name, (loss, correct), count in (("train", sums[:2], self.n_train),
                                             ("test", sums[2:], len(self.test_a0))):
            metrics[f"{name}_loss"] = float(loss) / count if count else None
            metrics[f"{name}_accuracy"] = (None if regression or not count
                                           else float(correct) / count)
        errors = self.last_epoch_errors if self.config.rule == "perceptron" else None
        return {**metrics, "errors": errors}

    def _compiled_workspace(self, m: int) -> kernel.Workspace:
        ws = self._compiled[m] = kernel.Workspace.allocate(self.net.sizes,
                                                           self.net.activations, m)
        return ws

    def _iterate(self) -> None:
        """One iteration in NumPy: every array preallocated, 1/m folded into the step."""
        start, end = self.cursor, self.cursor + self.batch_length
        x = self._epoch_a0[start:end]
        y = self._epoch_y[start:end]
        m = len(x)
        if m <= BLOCK:
            ws = self._workspaces.get(m) or self._workspace(m)
            wrong = self._block_gradient(ws, x, y)
            g = ws.g
        else:  # a large batch a block at a time: its gradient is the sum of the blocks'
            ws = self._workspaces.get(BLOCK) or self._workspace(BLOCK)
            g = self._batch_sum
            if g is None:
                g = self._batch_sum = np.empty_like(self.net.theta)
            g[...] = 0.0
            wrong = 0
            for start in range(0, m, BLOCK):
                rows = min(BLOCK, m - start)
                block = ws if rows == BLOCK else ws.head(rows)
                wrong += self._block_gradient(block, x[start:start + rows],
                                              y[start:start + rows])
                g += ws.g
        self._step_parameters(g, m)
        self.epoch_errors += wrong
        self._advance(m)

    def _block_gradient(self, ws: Pass, x: np.ndarray, y: np.ndarray) -> int:
        """Forward, backward and the summed gradient of samples x (targets y) into ws.g;
        returns the perceptron's misclassified samples among them."""
        ws.a[0] = x  # a view of the epoch's data: no copy
        forward(self.net, x, ws)
        wrong = self._backward(ws, y)
        gradients(self.net, ws, mean=False)
        return wrong

    def check_can_learn(self) -> None:
        if self.config.rule == "backprop" and frozen_depth(self.net) == self.net.depth:
            raise CannotLearn(self.warnings[0])

    def step(self, iterations: int = 0, epochs: int = 0,
             should_stop: Callable[[], bool] = lambda: False) -> bool:
        """``iterations`` whole iterations, or as many as finish ``epochs`` epochs. Returns
        False if ``should_stop()`` (asked between batches, every few hundred iterations at
        most) ended it sooner; what was done is kept."""
        self.check_can_learn()
        if self.next_step != "forward":
            raise StepOrderError("a whole iteration", self.next_step,
                                 "finish the batch already begun step by step")
        with np.errstate(all="ignore"):
            if epochs:
                target = self.epoch + epochs
                while self.epoch < target:
                    if should_stop():
                        return False
                    self._iterations(STEP_ITERATIONS)
            while iterations > 0:
                if should_stop():
                    return False
                iterations -= self._iterations(min(iterations, STEP_ITERATIONS))
        return True

    def run(self, epochs: int, should_stop: Callable[[], bool] = lambda: False,
            on_tick: Callable[[Trainer], None] | None = None, tick_seconds: float = 0.05,
            between_epochs: Callable[[], None] | None = None) -> RunResult:
        """Train for ``epochs`` epochs or until converged, diverged or stopped.

        ``should_stop`` is asked every few milliseconds: between chunks of whole epochs of the
        compiled loop, or between iterations of a long epoch (a run stopped there goes on from
        that batch next time). ``on_tick`` is called about every ``tick_seconds``, so that a
        caller can publish progress and save checkpoints without slowing the loop;
        ``between_epochs`` at each of those points (it must be quick).
        """
        start_epoch, start_iteration = self.epoch, self.iteration

        def result(reason: str, message: str) -> RunResult:
            return RunResult(reason, message, self.epoch - start_epoch,
                             self.iteration - start_iteration)

        try:
            self.check_can_learn()
        except CannotLearn as exc:
            return result("cannot_learn", str(exc))
        if self.next_step != "forward":
            raise StepOrderError("a run", self.next_step,
                                 "finish the batch already begun step by step")
        last_tick = time.perf_counter()
        try:
            with np.errstate(all="ignore"):
                chunk = 1
                while self.epoch - start_epoch < epochs:
                    if should_stop():
                        return result("stopped", f"Stopped at epoch {self.epoch}.")
                    if self._compiled_epochs_fit():
                        began = time.perf_counter()
                        done = self._epochs(min(chunk, epochs - (self.epoch - start_epoch)))
                        chunk = self._next_chunk(chunk, done, time.perf_counter() - began)
                    else:
                        self._iterations_for(CHUNK_SECONDS)
                    if self.converged:
                        return result("converged", self.converged_message())
                    if between_epochs is not None:
                        between_epochs()
                    now = time.perf_counter()
                    if on_tick is not None and now - last_tick >= tick_seconds:
                        on_tick(self)
                        last_tick = now
        except Diverged as exc:
            return result("diverged", str(exc))
        if self.config.rule == "perceptron":
            return result("not_converged", self.not_converged_message(self.epoch - start_epoch))
        return result("finished", f"Finished {epochs} epoch(s) at epoch {self.epoch}.")

    def _iterations_for(self, seconds: float) -> None:
        """Iterations of this epoch for about ``seconds``, never past its end (at least one)."""
        epoch, began = self.epoch, time.perf_counter()
        while self.epoch == epoch:
            self._iterations(FOREVER)
            if time.perf_counter() - began >= seconds:
                return

    def converged_message(self) -> str:
        return (f"Converged at epoch {self.epoch}: a whole epoch without a single error, so "
                "the perceptron rule changes nothing more. The data is linearly separable.")

    def not_converged_message(self, epochs: int) -> str:
        errors = self.last_epoch_errors
        return (
            f"Not converged after {epochs} epoch(s): the last epoch still had {errors} "
            f"misclassified sample(s). The perceptron rule stops only after an epoch without "
            "error, which happens only when a line (a hyperplane) separates the classes; on "
            "data that no line separates, such as XOR, it never converges. A hidden layer "
            "trained by backpropagation can separate it."
        )

    # -- internals ------------------------------------------------------------------------

    def _next_batch(self) -> np.ndarray:
        if self.order is None:
            self._begin_epoch()
        return self.order[self.cursor:self.cursor + self.batch_length]

    def _begin_epoch(self) -> None:
        """This epoch's order: shuffled (stochastic, mini-batch) or as it is (batch)."""
        if self.config.batch_mode == "batch":
            self.order = np.arange(self.n_train)
            self._epoch_a0, self._epoch_y = self.train_a0, self.train_y
        else:
            self.order = self.rng.permutation(self.n_train)
            self._arrange_epoch(shuffled=True)

    def _arrange_epoch(self, shuffled: bool = False) -> None:
        """The training data in this epoch's order, so that every batch is a slice."""
        if not shuffled and np.array_equal(self.order, np.arange(self.n_train)):
            self._epoch_a0, self._epoch_y = self.train_a0, self.train_y
            return
        if self._epoch_a0 is self.train_a0 or self._epoch_a0 is None:
            self._epoch_a0 = np.empty_like(self.train_a0)
            self._epoch_y = np.empty_like(self.train_y)
        np.take(self.train_a0, self.order, axis=0, out=self._epoch_a0)
        np.take(self.train_y, self.order, axis=0, out=self._epoch_y)

    def _backward(self, ws: Pass, y: np.ndarray) -> int:
        """The backward step of the rule; returns the perceptron's misclassified samples."""
        if self.config.rule == "perceptron":
            l = self.net.depth
            if len(ws.s) != l + 1:
                ws.s = [None] * (l + 1)
                ws.fdot = [None] * (l + 1)
            ws.s[l] = np.subtract(ws.a[l], y, out=ws.s[l])  # s = -e = yhat - y
            return int(np.count_nonzero(ws.s[l].any(axis=1)))
        backward(self.net, y, ws)
        return 0

    def _step_parameters(self, g: np.ndarray, m: int) -> None:
        """theta <- theta - eta (g / m + regularization), every layer at once, and only if the
        new parameters are all finite (else Diverged, and nothing changes). The step taken is
        left in ``self._d``, whose views are ``self.dW`` and ``self.db``."""
        net = self.net
        status = kernel.step_parameters(net.theta, g, m, *self._update_rule(), self._d,
                                        self._theta_new)
        if status == kernel.DIVERGED:
            raise Diverged(self._diverged_message("the update made a weight infinite or NaN"))
        net.version += 1

    def _update_rule(self) -> tuple:
        """The update's settings as the compiled loop takes them: eta, the regularization
        (code and rate) and the mask of the weights it applies to."""
        cfg = self.config
        return (float(cfg.learning_rate), kernel.REGULARIZATION_CODES[cfg.regularization],
                float(cfg.regularization_rate), self.net.weight_mask)

    def _diverged_message(self, what: str) -> str:
        eta = self.config.learning_rate
        return (f"Diverged at epoch {self.epoch}, iteration {self.iteration + 1}: {what}. "
                f"The learning rate {eta:g} is too large for this network; the weights from "
                f"before that update are kept. Try a smaller one, such as {eta / 10:g}, "
                "then reset.")

    def _advance(self, samples: int, iterations: int = 1) -> None:
        self.iteration += iterations
        if samples == 0:
            return  # a batch given by hand does not move through the epoch
        self.cursor += samples
        if self.cursor >= self.n_train:
            self.epoch += 1
            self.cursor = 0
            self.order = None
            self.last_epoch_errors = self.epoch_errors
            self.epoch_errors = 0
            self.history.record(self.epoch, self.iteration, self._epoch_metrics)

    def _workspace(self, m: int) -> Pass:
        ws = self._workspaces[m] = Pass.allocate(self.net, m)
        return ws

    # -- memory -----------------------------------------------------------------------------

    def memory(self) -> dict[str, int]:
        """Bytes held, by part: the parameters (with the update's vectors), the training and
        test data as the network sees them, the workspaces kept between calls, the history."""
        net = self.net
        return {
            "parameters": nbytes(net.theta, net.weight_mask, self._g, self._d,
                                 self._theta_new, self._batch_sum),
            "data": nbytes(self.train_a0, self.train_y, self.test_a0, self.test_y, self.order,
                           self._epoch_a0, self._epoch_y),
            "buffers": nbytes(self._workspaces, self._compiled, self._chunk,
                              self._evaluation_pass, self._evaluation_outputs, self._pending),
            "history": self.history.nbytes(),
        }

    def drop_caches(self) -> None:
        """Let go of the workspaces kept between calls (made again when next needed)."""
        self._workspaces.clear()
        self._compiled.clear()
        self._chunk = None
        self._evaluation_pass = None
        self._evaluation_outputs.clear()
        self._batch_sum = None
        self.history.drop_caches()

    # -- plain-dict serialisation ----------------------------------------------------------

    def counters(self) -> dict:
        return {
            "epoch": self.epoch,
            "iteration": self.iteration,
            "cursor": self.cursor,
            "order": None if self.order is None else self.order.tolist(),
            "epoch_errors": self.epoch_errors,
            "last_epoch_errors": self.last_epoch_errors,
            "rng": rng_state(self.rng),
            "history": self.history.to_dict(),
            "config": asdict(self.config),
        }

    def restore_counters(self, saved: dict) -> None:
        """Counters, shuffles and history from :meth:`counters`, checked for consistency."""
        epoch, iteration, cursor = int(saved["epoch"]), int(saved["iteration"]), \
            int(saved["cursor"])
        if min(epoch, iteration, cursor) < 0 or cursor >= self.n_train:
            raise TrainingError("epoch, iteration and cursor must be 0 or more, and the cursor "
                                f"below the {self.n_train} training samples")
        order = saved["order"]
        if order is not None:
            order = np.asarray(order, np.int64)
            if sorted(order.tolist()) != list(range(self.n_train)):
                raise TrainingError("the epoch's order must be a permutation of the "
                                    f"{self.n_train} training samples")
        rng = np.random.default_rng()
        rng.bit_generator.state = restored_rng_state(saved["rng"])
        history = History.from_dict(saved["history"], max_points=self.history.max_points)
        if len(history) and (history.columns["epoch"][-1] > epoch
                             or history.columns["iteration"][-1] > iteration):
            raise TrainingError("the history cannot go past the epoch and iteration counters")
        self.epoch, self.iteration, self.cursor, self.order = epoch, iteration, cursor, order
        self.epoch_errors = int(saved["epoch_errors"])
        last = saved["last_epoch_errors"]
        self.last_epoch_errors = None if last is None else int(last)
        self.rng, self.history = rng, history
        self._epoch_a0 = self._epoch_y = None
        if order is not None:
            self._arrange_epoch()


# The generator's state holds 128-bit numbers; a document keeps them as decimal strings, which
# every JSON reader keeps exactly (a JavaScript number keeps 53 bits).
PCG_NUMBERS = ("state", "inc")


def rng_state(rng: np.random.Generator) -> dict:
    state = rng.bit_generator.state
    return {**state, "state": {k: str(v) for k, v in state["state"].items()}}


def restored_rng_state(saved: dict) -> dict:
    """A saved state back as NumPy takes it: its numbers as written by :func:`rng_state`, or
    as whole numbers (documents written before, or read by a program that made them floats)."""
    numbers = {key: whole_128(saved["state"][key], f"the random generator's {key}")
               for key in PCG_NUMBERS}
    return {**saved, "state": numbers}


def whole_128(value, name: str = "the number") -> int:
    """A 128-bit whole number written as decimal digits, or as a number (an int, or a float
    holding a whole number)."""
    digits = isinstance(value, str) and value.isdigit() and len(value) <= 39
    if digits or isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**128:
        raise TrainingError(f"{name} must be a whole number from 0 to 2^128 - 1 (decimal "
                            "digits)")
    return value
