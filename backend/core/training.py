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

from backend.core.history import History
from backend.core.network import Network, Pass, backward, forward, gradients, mse
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
                 config: TrainingConfig, seed: int = 0, history_points: int = 1000):
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
        self.history = History(history_points)
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
        self._workspaces: dict[int, _Workspace] = {}
        self._pending: Pass | None = None
        self._pending_batch: np.ndarray | None = None  # sample indices, None for a given batch
        self._pending_y: np.ndarray | None = None
        self._forward_without_y = False
        self._undo = None
        self.next_step = "forward"
        self.history.record(0, 0, self.evaluate)

    def configure(self, config: TrainingConfig) -> None:
        """New hyperparameters (same shapes): takes effect from the next batch."""
        self.warnings = config.check(self.net)
        if config.batch_length(len(self.train_a0)) != self.config.batch_length(
                len(self.train_a0)) or config.batch_mode != self.config.batch_mode:
            self._workspaces.clear()
        self.config = config
        self.abandon_batch()

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
    def converged(self) -> bool:
        return self.config.rule == "perceptron" and self.last_epoch_errors == 0

    def evaluate(self) -> dict:
        """Loss (mean J) and, for classification, accuracy on the training and test sets."""
        metrics = {}
        for name, a0, y in (("train", self.train_a0, self.train_y),
                            ("test", self.test_a0, self.test_y)):
            if len(a0) == 0:
                metrics[f"{name}_loss"] = None
                metrics[f"{name}_accuracy"] = None
                continue
            with np.errstate(all="ignore"):
                yhat = forward(self.net, a0).output
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
            self._backward(ws, y, count_errors=self._pending_batch is not None)
            gradients(self.net, ws)
        self.next_step = "update"
        return ws, mse(y, ws.output)

    def update(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Step 3: ``W^k <- W^k - eta s^k (a^(k-1))^T``, ``b^k <- b^k - eta s^k`` (batch means).

        Returns the applied changes (dW, db) for every layer.
        """
        if self.next_step != "update":
            raise StepOrderError("update", self.next_step)
        ws = self._pending
        dW = [np.empty_like(layer.W) for layer in self.net.layers]
        db = [np.empty_like(layer.b) for layer in self.net.layers]
        try:
            self._apply_update(ws, dW, db, [np.empty_like(x) for x in dW],
                               [np.empty_like(x) for x in db])
        finally:
            batch = self._pending_batch
            self.abandon_batch()
        self._advance(0 if batch is None else len(batch))
        return dW, db

    def abandon_batch(self) -> None:
        """Forget a batch begun step by step: the next step is forward again."""
        self._undo = None
        self._pending = self._pending_batch = self._pending_y = None
        self.next_step = "forward"

    # -- whole iterations (the fast path) --------------------------------------------------

    def iterate(self) -> None:
        """One whole iteration (forward, backward, update) on the next batch."""
        if self.next_step != "forward":
            raise StepOrderError("a whole iteration", self.next_step,
                                 "finish the batch already begun step by step")
        batch = self._next_batch()
        ws = self._workspace(len(batch))
        if ws.whole:
            ws.pass_.a[0] = self.train_a0
            y = self.train_y
        else:
            np.take(self.train_a0, batch, axis=0, out=ws.pass_.a[0])
            y = np.take(self.train_y, batch, axis=0, out=ws.y)
        with np.errstate(all="ignore"):
            forward(self.net, ws.pass_.a[0], ws.pass_)
            if not math.isfinite(ws.pass_.output.sum()):
                self._undo_last_update()
                raise Diverged(self._diverged_message(
                    "the outputs overflowed (the weights grew too large)"))
            self._backward(ws.pass_, y)
            gradients(self.net, ws.pass_)
        self._apply_update(ws.pass_, ws.dW, ws.db, ws.W_new, ws.b_new)
        self._advance(len(batch))

    def check_can_learn(self) -> None:
        if self.config.rule == "backprop" and frozen_depth(self.net) == self.net.depth:
            raise CannotLearn(self.warnings[0])

    def step(self, iterations: int = 0, epochs: int = 0) -> None:
        """``iterations`` whole iterations, or as many as finish ``epochs`` epochs."""
        self.check_can_learn()
        if epochs:
            target = self.epoch + epochs
            while self.epoch < target:
                self.iterate()
        for _ in range(iterations):
            self.iterate()

    def run(self, epochs: int, should_stop: Callable[[], bool] = lambda: False,
            on_tick: Callable[[Trainer], None] | None = None, tick_seconds: float = 0.05,
            max_epochs_per_second: float | None = None) -> RunResult:
        """Train for ``epochs`` epochs or until converged, diverged or stopped.

        ``on_tick`` is called about every ``tick_seconds`` (and never inside an epoch), so that
        a caller can publish progress and save checkpoints without slowing the loop.
        """
        start_epoch, start_iteration = self.epoch, self.iteration

        def result(reason: str, message: str) -> RunResult:
            return RunResult(reason, message, self.epoch - start_epoch,
                             self.iteration - start_iteration)

        try:
            self.check_can_learn()
        except CannotLearn as exc:
            return result("cannot_learn", str(exc))
        started = last_tick = time.perf_counter()
        try:
            while self.epoch - start_epoch < epochs:
                if should_stop():
                    return result("stopped", f"Stopped at epoch {self.epoch}.")
                target = self.epoch + 1
                while self.epoch < target:
                    self.iterate()
                if self.converged:
                    return result("converged", self.converged_message())
                now = time.perf_counter()
                if max_epochs_per_second:
                    ahead = (self.epoch - start_epoch) / max_epochs_per_second - (now - started)
                    if ahead > 0:
                        time.sleep(min(ahead, tick_seconds))
                        now = time.perf_counter()
                if on_tick is not None and now - last_tick >= tick_seconds:
                    self._check_finite_loss()
                    on_tick(self)
                    last_tick = now
            self._check_finite_loss()
        except Diverged as exc:
            return result("diverged", str(exc))
        if self.config.rule == "perceptron":
            return result("not_converged", self.not_converged_message(self.epoch - start_epoch))
        return result("finished", f"Finished {epochs} epoch(s) at epoch {self.epoch}.")

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
            if self.config.batch_mode == "batch":
                self.order = np.arange(self.n_train)
            else:
                self.order = self.rng.permutation(self.n_train)
        return self.order[self.cursor:self.cursor + self.batch_length]

    def _backward(self, ws: Pass, y: np.ndarray, count_errors: bool = True) -> None:
        if self.config.rule == "perceptron":
            l = self.net.depth
            if len(ws.s) != l + 1:
                ws.s = [None] * (l + 1)
                ws.fdot = [None] * (l + 1)
            ws.s[l] = np.subtract(ws.a[l], y, out=ws.s[l])  # s = -e = yhat - y
            if count_errors:
                self.epoch_errors += int(np.count_nonzero(ws.s[l].any(axis=1)))
        else:
            backward(self.net, y, ws)

    def _apply_update(self, ws: Pass, dW: list, db: list, W_new: list, b_new: list) -> None:
        """Compute every layer's new W, b into W_new/b_new; keep them only if all are finite."""
        cfg = self.config
        eta = cfg.learning_rate
        finite = 0.0
        with np.errstate(all="ignore"):
            for k, layer in enumerate(self.net.layers, start=1):
                d = dW[k - 1]
                if cfg.regularization == "l2" and cfg.regularization_rate:
                    np.multiply(layer.W, cfg.regularization_rate, out=d)
                    d += ws.gW[k]
                    d *= -eta
                elif cfg.regularization == "l1" and cfg.regularization_rate:
                    np.sign(layer.W, out=d)
                    d *= cfg.regularization_rate
                    d += ws.gW[k]
                    d *= -eta
                else:
                    np.multiply(ws.gW[k], -eta, out=d)
                np.multiply(ws.gb[k], -eta, out=db[k - 1])
                np.add(layer.W, d, out=W_new[k - 1])
                np.add(layer.b, db[k - 1], out=b_new[k - 1])
                finite += W_new[k - 1].sum() + b_new[k - 1].sum()
        if not math.isfinite(finite):
            raise Diverged(self._diverged_message("the update made a weight infinite or NaN"))
        for k, layer in enumerate(self.net.layers):
            layer.W, W_new[k] = W_new[k], layer.W
            layer.b, b_new[k] = b_new[k], layer.b
        self._undo = (W_new, b_new)  # they hold the weights from before this update

    def _undo_last_update(self) -> None:
        """Back to the weights from before the last update, if they are still at hand."""
        if self._undo is None:
            return
        W_old, b_old = self._undo
        for k, layer in enumerate(self.net.layers):
            layer.W, W_old[k] = W_old[k], layer.W
            layer.b, b_old[k] = b_old[k], layer.b
        self._undo = None

    def _check_finite_loss(self) -> None:
        loss = self.history.last_train_loss if self.history.last_epoch == self.epoch else None
        if loss is None:
            loss = self.evaluate()["train_loss"]
        if loss is not None and not math.isfinite(loss):
            raise Diverged(self._diverged_message("the outputs overflowed (the loss is infinite)"))

    def _diverged_message(self, what: str) -> str:
        eta = self.config.learning_rate
        return (f"Diverged at epoch {self.epoch}, iteration {self.iteration + 1}: {what}. "
                f"The learning rate {eta:g} is too large for this network; the weights from "
                f"before that update are kept. Try a smaller one, such as {eta / 10:g}, "
                "then reset.")

    def _advance(self, samples: int) -> None:
        self.iteration += 1
        if samples == 0:
            return  # a batch given by hand does not move through the epoch
        self.cursor += samples
        if self.cursor >= self.n_train:
            self.epoch += 1
            self.cursor = 0
            self.order = None
            self.last_epoch_errors = self.epoch_errors
            self.epoch_errors = 0
            self.history.record(self.epoch, self.iteration, self.evaluate)

    def _workspace(self, m: int) -> _Workspace:
        ws = self._workspaces.get(m)
        if ws is None:
            ws = self._workspaces[m] = _Workspace(self.net, m, whole=m == self.n_train
                                                  and self.config.batch_mode == "batch")
        return ws

    # -- plain-dict serialisation ----------------------------------------------------------

    def counters(self) -> dict:
        return {
            "epoch": self.epoch,
            "iteration": self.iteration,
            "cursor": self.cursor,
            "order": None if self.order is None else self.order.tolist(),
            "epoch_errors": self.epoch_errors,
            "last_epoch_errors": self.last_epoch_errors,
            "rng": self.rng.bit_generator.state,
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
        rng.bit_generator.state = saved["rng"]
        history = History.from_dict(saved["history"])
        self.epoch, self.iteration, self.cursor, self.order = epoch, iteration, cursor, order
        self.epoch_errors = int(saved["epoch_errors"])
        last = saved["last_epoch_errors"]
        self.last_epoch_errors = None if last is None else int(last)
        self.rng, self.history = rng, history


class _Workspace:
    """Preallocated arrays for whole iterations on batches of m samples."""

    def __init__(self, net: Network, m: int, whole: bool):
        self.whole = whole  # the batch is the whole training set, in order: no copy needed
        self.pass_ = Pass.allocate(net.sizes, m)
        self.y = np.empty((m, net.sizes[-1]))
        self.dW = [np.empty_like(layer.W) for layer in net.layers]
        self.db = [np.empty_like(layer.b) for layer in net.layers]
        self.W_new = [np.empty_like(layer.W) for layer in net.layers]
        self.b_new = [np.empty_like(layer.b) for layer in net.layers]
