"""Training a network: the three steps one at a time, whole iterations, epochs and runs.

The perceptron learning rule ``W <- W + eta e x^T``, ``b <- b + eta e`` (``e = y - yhat``) is
gradient descent with the sensitivity ``s = -e``, so both rules share the forward pass, the
batch mean of ``s (a^(k-1))^T`` and the update; they differ only in the backward step.

The teaching steps and the run loop live here; whole iterations at speed (the compiled loop,
the NumPy loop for large layers, their buffers) in :mod:`backend.core.fastpath`; the
configuration and its checks in :mod:`backend.core.config`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from backend.core.config import TrainingConfig, TrainingError, frozen_depth
from backend.core.fastpath import CHUNK_SECONDS, FastPath
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
from backend.core.randomstate import restored_rng_state, rng_state
from backend.core.targets import Targets
from backend.core.update import DIVERGED, REGULARIZATION_CODES, step_parameters

STEPS = ("forward", "backward", "update")


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


EVALUATED_SAMPLES_PER_EPOCH = 2048
FOREVER = 2**62  # iterations: "to the end of the epoch"
STEP_ITERATIONS = 256  # a step asks whether to stop at least this often


def evaluation_stride(samples: int) -> int:
    """Record the history every this many epochs: 1 for data up to 2,048 points (training and
    test), else the power of two that keeps the evaluation to about 2,048 points an epoch,
    a few per cent of the epoch's training work."""
    stride = 1
    while samples > EVALUATED_SAMPLES_PER_EPOCH * stride:
        stride *= 2
    return stride


@dataclass
class UpdateBuffers:
    """The update's vectors, laid out as ``theta``: a gradient, the step taken (``d``, shown
    as dW and db) and room for the new parameters before they are checked."""

    g: np.ndarray
    d: np.ndarray
    theta_new: np.ndarray

    @classmethod
    def like(cls, theta: np.ndarray) -> UpdateBuffers:
        return cls(np.empty_like(theta), np.empty_like(theta), np.empty_like(theta))


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
        self.buffers = UpdateBuffers.like(net.theta)
        self.fast = FastPath(net)
        views = parameter_views(self.buffers.d, net.sizes)
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
        self.batch_errors = 0  # the perceptron's misclassified samples at the last backward
        self._pending_batch: np.ndarray | None = None  # sample indices, None for a given batch
        self._pending_y: np.ndarray | None = None
        self._forward_without_y = False
        self.epoch_a0 = self.epoch_y = None  # the training data in this epoch's order
        self.next_step = "forward"
        self.history.record(0, 0, self.evaluate)

    def configure(self, config: TrainingConfig) -> None:
        """New hyperparameters (same shapes): takes effect from the next batch."""
        self.warnings = config.check(self.net)
        self.config = config
        self.abandon_batch()
        self.fast.forget_batch_size()

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
        return self.config.iterations_per_epoch(self.n_train)

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
            outputs = self.net.sizes[-1]
            if y is not None and y.shape != (len(a0), outputs):
                raise TrainingError(
                    f"each row of 'y' needs {outputs} target value(s), one per output neuron "
                    f"({len(a0)} x {outputs} for {len(a0)} point(s)); got "
                    f"{' x '.join(map(str, y.shape))}")
            if y is not None and len(a0) > 1 and self.config.rule == "perceptron":
                raise TrainingError(
                    "the perceptron rule learns from one sample at a time: give one point "
                    f"with its y (got {len(a0)}), or several points without y to look")
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
            wrong = self.backward_rule(ws, y)
            gradients(self.net, ws)
        self.batch_errors = wrong
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
                self.step_parameters(ws.g, 1)  # ws.g is already the batch mean
            self.epoch_errors += self._pending_errors
        finally:
            batch = self._pending_batch
            self.abandon_batch()
        self.advance(0 if batch is None else len(batch))
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
            self.fast.iterations(self, 1)

    def compiled_fits(self, m: int) -> bool:
        """Batches of m samples train in the compiled loop (else in NumPy)."""
        return self.fast.compiled_fits(m)

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
                    self.fast.iterations(self, STEP_ITERATIONS)
            while iterations > 0:
                if should_stop():
                    return False
                iterations -= self.fast.iterations(self, min(iterations, STEP_ITERATIONS))
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
                    if self.fast.epochs_fit(self):
                        began = time.perf_counter()
                        left = epochs - (self.epoch - start_epoch)
                        done = self.fast.epochs(self, min(chunk, left))
                        chunk = self.fast.next_chunk(self, chunk, done,
                                                     time.perf_counter() - began)
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
            self.fast.iterations(self, FOREVER, seconds)
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
            self.begin_epoch()
        return self.order[self.cursor:self.cursor + self.batch_length]

    def begin_epoch(self) -> None:
        """This epoch's order: shuffled (stochastic, mini-batch) or as it is (batch)."""
        if self.config.batch_mode == "batch":
            self.order = np.arange(self.n_train)
            self.epoch_a0, self.epoch_y = self.train_a0, self.train_y
        else:
            self.order = self.rng.permutation(self.n_train)
            self.arrange_epoch(shuffled=True)

    def arrange_epoch(self, shuffled: bool = False) -> None:
        """The training data in this epoch's order, so that every batch is a slice."""
        if not shuffled and np.array_equal(self.order, np.arange(self.n_train)):
            self.epoch_a0, self.epoch_y = self.train_a0, self.train_y
            return
        if self.epoch_a0 is self.train_a0 or self.epoch_a0 is None:
            self.epoch_a0 = np.empty_like(self.train_a0)
            self.epoch_y = np.empty_like(self.train_y)
        np.take(self.train_a0, self.order, axis=0, out=self.epoch_a0)
        np.take(self.train_y, self.order, axis=0, out=self.epoch_y)

    def backward_rule(self, ws: Pass, y: np.ndarray) -> int:
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

    def step_parameters(self, g: np.ndarray, m: int) -> None:
        """theta <- theta - eta (g / m + regularization), every layer at once, and only if the
        new parameters are all finite (else Diverged, and nothing changes). The step taken is
        left in ``self.buffers.d``, whose views are ``self.dW`` and ``self.db``."""
        net, buffers = self.net, self.buffers
        status = step_parameters(net.theta, g, m, *self.update_rule(), buffers.d,
                                 buffers.theta_new)
        if status == DIVERGED:
            self.diverged()
        net.version += 1

    def diverged(self):
        """Raise Diverged for the update just refused (the weights are those before it)."""
        raise Diverged(self._diverged_message("the update made a weight infinite or NaN"))

    def update_rule(self) -> tuple:
        """The update's settings as the compiled loop takes them: eta, the regularization
        (code and rate) and the mask of the weights it applies to."""
        cfg = self.config
        return (float(cfg.learning_rate), REGULARIZATION_CODES[cfg.regularization],
                float(cfg.regularization_rate), self.net.weight_mask)

    def _diverged_message(self, what: str) -> str:
        eta = self.config.learning_rate
        return (f"Diverged at epoch {self.epoch}, iteration {self.iteration + 1}: {what}. "
                f"The learning rate {eta:g} is too large for this network; the weights from "
                f"before that update are kept. Try a smaller one, such as {eta / 10:g}, "
                "then reset.")

    def advance(self, samples: int, iterations: int = 1) -> None:
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

    # -- memory -----------------------------------------------------------------------------

    def memory(self) -> dict[str, int]:
        """Bytes held, by part: the parameters (with the update's vectors), the training and
        test data as the network sees them, the workspaces kept between calls, the history."""
        net = self.net
        return {
            "parameters": nbytes(net.theta, net.weight_mask, self.buffers.g, self.buffers.d,
                                 self.buffers.theta_new),
            "data": nbytes(self.train_a0, self.train_y, self.test_a0, self.test_y, self.order,
                           self.epoch_a0, self.epoch_y),
            "buffers": self.fast.nbytes() + nbytes(self._evaluation_pass,
                                                   self._evaluation_outputs, self._pending),
            "history": self.history.nbytes(),
        }

    def drop_caches(self) -> None:
        """Let go of the workspaces kept between calls (made again when next needed)."""
        self.fast.drop_caches()
        self._evaluation_pass = None
        self._evaluation_outputs.clear()
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
        self.epoch_a0 = self.epoch_y = None
        if order is not None:
            self.arrange_epoch()
