"""The workloads, our training loop on each, and scikit-learn's MLPRegressor set to the same math.

Each workload is trained as the page trains it: the page's default split (half the points for
testing) and the loss history on, so every runner also evaluates the loss on the training and
the test set, at the epochs where the core records a history point.

Each runner is a function ``chunk(k) -> units`` that does k units of work (our whole iterations,
one of scikit-learn's epochs, one boundary grid) and returns how many samples (or grids) it
processed, so that :func:`bench.timing.rate` can time it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from backend.core.experiment import Experiment
from backend.core.spec import DEFAULT_DATASET
from backend.core.training import evaluation_stride
from bench.reference import ReferenceLoop, grid_forward

Chunk = Callable[[int], int]

BOUNDARY_RESOLUTION = 100


@dataclass(frozen=True)
class Workload:
    key: str
    hidden: tuple[int, ...]
    activation: str  # of the hidden layers; the output is linear (regression)
    n_train: int  # training points; as many again are the test set (the page's split)
    batch: int
    learning_rate: float  # ours; scikit-learn gets twice this (its loss is half ours)

    @property
    def sizes(self) -> list[int]:
        return [2, *self.hidden, 1]

    @property
    def n_samples(self) -> int:
        return round(self.n_train / TRAIN_FRACTION)

    @property
    def stride(self) -> int:
        """The core records (and evaluates) a history point every this many epochs."""
        return evaluation_stride(self.n_samples)

    @property
    def label(self) -> str:
        return (f"{'-'.join(map(str, self.sizes))} {self.activation}, "
                f"{self.n_train:,}+{self.n_samples - self.n_train:,}, batch {self.batch}")

    def spec(self) -> dict:
        return {
            "dataset": {"name": "plane", "n_samples": self.n_samples, "noise": 0.1,
                        "train_fraction": TRAIN_FRACTION, "seed": 1},
            "features": ["x1", "x2"],
            "hidden": list(self.hidden),
            "activation": self.activation,
            "output_activation": "linear",
            "learning_rate": self.learning_rate,
            "batch": {"mode": "minibatch", "size": self.batch},
            "init": {"scheme": "xavier", "seed": 0},
        }


TRAIN_FRACTION = DEFAULT_DATASET["train_fraction"]  # the page's default split

TRAINING = [
    Workload("W1", (4, 2), "tanh", 250, 10, 0.01),
    Workload("W2", (8, 8, 8, 8, 8, 8), "tanh", 250, 10, 0.01),
    Workload("W3", (4, 2), "tanh", 250, 1, 0.01),
    Workload("W4", (64, 64), "relu", 5_000, 32, 0.001),  # 10,000 points: the sample limit
]
BOUNDARY = TRAINING[1]  # W5: the boundary of W2's network


def experiment(w: Workload) -> Experiment:
    return Experiment.create(w.spec())


# -- ours ------------------------------------------------------------------------------------

def ours(w: Workload) -> Chunk:
    """k epochs through Trainer.run, as a run on the server trains: the history's evaluation
    of the training and test sets included."""
    t = experiment(w).trainer

    def chunk(k: int) -> int:
        before = t.epoch
        t.run(k)
        return (t.epoch - before) * t.n_train

    return chunk


# -- scikit-learn ----------------------------------------------------------------------------

def sklearn_model(w: Workload):
    """MLPRegressor doing plain SGD on the same network: no momentum, no L2, a constant rate.

    Its loss is half the squared error, so its gradient is half ours: learning_rate_init = 2 eta
    makes the same step. shuffle=False (ours reshuffles each epoch: the same work, in another
    order); max_iter=1 + warm_start and one partial_fit per epoch; no early stopping.
    """
    from sklearn.neural_network import MLPRegressor

    return MLPRegressor(
        hidden_layer_sizes=w.hidden, activation=w.activation, solver="sgd",
        momentum=0.0, nesterovs_momentum=False, alpha=0.0, learning_rate="constant",
        learning_rate_init=2 * w.learning_rate, shuffle=False, batch_size=w.batch,
        max_iter=1, warm_start=True, tol=0.0, n_iter_no_change=10**9, early_stopping=False,
        random_state=0,
    )


@contextmanager
def quiet():
    """scikit-learn's convergence warnings off: max_iter=1 is on purpose."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def sklearn(w: Workload, n: int | None = None) -> Chunk:
    """One partial_fit per epoch of the same training data (its first n samples, if given),
    and the loss on the training and test sets at the core's history epochs."""
    t = experiment(w).trainer
    X, y = t.train_a0[:n], t.train_y[:n, 0].copy()
    X_test, y_test = t.test_a0[:n], t.test_y[:n, 0].copy()
    model = sklearn_model(w)
    epochs = [0]

    def chunk(k: int) -> int:
        with quiet():
            for _ in range(k):
                model.partial_fit(X, y)
                epochs[0] += 1
                if epochs[0] % w.stride == 0:
                    for inputs, targets in ((X, y), (X_test, y_test)):
                        float(np.mean((model.predict(inputs) - targets) ** 2))
        return k * len(X)

    return chunk


def same_math(w: Workload, n: int | None = None) -> float:
    """One epoch, in order, from the same weights, by both: the largest difference of a weight
    relative to its size. About 1e-16 when both do the very same arithmetic."""
    exp = experiment(w)
    t = exp.trainer
    X, Y = t.train_a0[:n], t.train_y[:n]
    model = sklearn_model(w)
    with quiet():
        model.partial_fit(X[:w.batch], Y[:w.batch, 0])  # builds the arrays; set just below
        for k, layer in enumerate(exp.net.layers):
            model.coefs_[k][...] = layer.W.T  # in place: the optimizer holds these arrays
            model.intercepts_[k][...] = layer.b
        model.partial_fit(X, Y[:, 0])
    for start in range(0, len(X), w.batch):  # our steps on the same consecutive batches
        t.forward(X[start:start + w.batch], Y[start:start + w.batch])
        t.backward()
        t.update()
    worst = 0.0
    for k, layer in enumerate(exp.net.layers):
        for ours_, theirs in ((layer.W, model.coefs_[k].T), (layer.b, model.intercepts_[k])):
            scale = max(1.0, float(np.abs(ours_).max()))
            worst = max(worst, float(np.abs(ours_ - theirs).max()) / scale)
    return worst


# -- W5: the decision boundary ---------------------------------------------------------------

def boundary(w: Workload = BOUNDARY, resolution: int = BOUNDARY_RESOLUTION) -> Chunk:
    """Experiment.boundary(R, neurons=True): every neuron over an R x R grid, as the server
    computes a frame (into its buffers, encoded at once)."""
    exp = experiment(w)

    def chunk(k: int) -> int:
        for _ in range(k):
            exp.boundary(resolution, neurons=True, copy=False)  # as a stream frame
        return k

    return chunk


def boundary_reference(w: Workload = BOUNDARY, resolution: int = BOUNDARY_RESOLUTION) -> Chunk:
    """The tuned NumPy forward pass over the same grid, every layer kept, buffers reused."""
    exp = experiment(w)
    a0 = exp.inputs(exp.grid_points(resolution))
    W = [layer.W.copy() for layer in exp.net.layers]
    b = [layer.b.copy() for layer in exp.net.layers]
    out = [np.empty((len(a0), len(bk))) for bk in b]

    def chunk(k: int) -> int:
        for _ in range(k):
            grid_forward(W, b, w.activation, a0, out)
        return k

    return chunk


# -- the tuned NumPy loop ------------------------------------------------------------------

def numpy_loop(w: Workload) -> Chunk:
    """bench.reference.ReferenceLoop on the same data, test set and history epochs: k epochs
    per chunk."""
    loop = reference_loop(w)

    def chunk(k: int) -> int:
        return sum(loop.epoch() for _ in range(k))

    return chunk


def reference_loop(w: Workload) -> ReferenceLoop:
    t = experiment(w).trainer
    return ReferenceLoop(w.sizes, w.activation, t.train_a0, t.train_y, w.learning_rate,
                         w.batch, test=(t.test_a0, t.test_y), stride=w.stride)
