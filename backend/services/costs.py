"""The cost model: what a piece of work, an answer or a kept network costs, priced from the
network's sizes before anything is done.

Work is counted in multiply-adds (a weight times an input, added on), the unit of a
network's arithmetic; the fixed costs of a call are counted in the multiply-adds the same
time would have done. Bytes are counted as they go out (JSON text, base64) or as they are
held (float64 arrays). The figures that convert one into the other were measured on a
2-core laptop (docs/RELIABILITY.md, "Budgets"): the budgets in ``backend/settings.py`` are
set in these units, so a faster machine raises the budgets, not this model.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.core.history import COLUMNS
from backend.core.network import BLOCK

# An activation and its derivative cost about as much as this many multiply-adds each.
ACTIVATION_WORK = 4
# The fixed cost of one iteration, per layer: NumPy's calls (about 30 µs a layer) and the
# compiled loop's (well under a microsecond), as the multiply-adds of that time.
NUMPY_ITERATION_WORK = 60_000
COMPILED_ITERATION_WORK = 600
# The compiled loop's multiply-adds are plain loops, about three times BLAS's time each.
COMPILED_WORK_FACTOR = 3
# The fixed cost of one evaluation of J (a forward pass of a set), per layer: NumPy's calls.
EVALUATION_WORK = 20_000
# The fixed cost of an epoch: its shuffle, its history point, the calls around it (10 µs).
EPOCH_WORK = 20_000
# A float in JSON text: up to 17 significant digits, a sign, a point, an exponent and a comma.
JSON_NUMBER_BYTES = 24
FLOAT_BYTES = 8
# What a network in memory holds besides its arrays: its Python objects, channel and locks.
ENTRY_OVERHEAD_BYTES = 200_000
# A history point: its values (a Python number and a list slot each), and their JSON kept
# for saves and views.
HISTORY_POINT_BYTES = len(COLUMNS) * (32 + 2 * JSON_NUMBER_BYTES)


@dataclass(frozen=True)
class Shape:
    """A network's sizes ``[p^0, ..., p^l]`` and what follows from them."""

    sizes: tuple[int, ...]

    @classmethod
    def of(cls, sizes) -> Shape:
        return cls(tuple(int(p) for p in sizes))

    @property
    def weights(self) -> int:
        """Every W^k's entries: the multiply-adds of one sample's forward pass."""
        return sum(p * q for q, p in zip(self.sizes[:-1], self.sizes[1:], strict=True))

    @property
    def parameters(self) -> int:
        return self.weights + self.neurons

    @property
    def neurons(self) -> int:
        """Neurons with weights (every layer but the input)."""
        return sum(self.sizes[1:])

    @property
    def depth(self) -> int:
        return len(self.sizes) - 1

    @property
    def inputs(self) -> int:
        return self.sizes[0]

    @property
    def outputs(self) -> int:
        return self.sizes[-1]


# -- work -----------------------------------------------------------------------------------

def forward_work(shape: Shape, points: int) -> int:
    """The forward pass of ``points`` samples."""
    return points * (shape.weights + ACTIVATION_WORK * shape.neurons)


def iteration_work(shape: Shape, batch: int, compiled: bool) -> int:
    """One training iteration on a batch: forward, backward (W^T s, the derivatives), the
    gradient s a^T, the update of every parameter, and the calls' fixed cost."""
    per_sample = 3 * shape.weights + 2 * ACTIVATION_WORK * shape.neurons
    if compiled:
        return batch * per_sample * COMPILED_WORK_FACTOR + shape.parameters \
            + COMPILED_ITERATION_WORK * shape.depth
    return batch * per_sample + shape.parameters + NUMPY_ITERATION_WORK * shape.depth


def epoch_work(shape: Shape, n_train: int, batch: int, compiled: bool,
               evaluated: int) -> int:
    """One epoch: every batch of the training set, then the loss over ``evaluated`` samples
    (the training and test sets when the history records this epoch)."""
    full, rest = divmod(n_train, batch)
    work = full * iteration_work(shape, batch, compiled)
    if rest:
        work += iteration_work(shape, rest, compiled)
    return work + forward_work(shape, evaluated) + EPOCH_WORK


def grid_work(shape: Shape, resolution: int, neuron_resolution: int | None) -> int:
    """A boundary: the output over an R x R grid and, asked for, every neuron over an
    R' x R' one (the same pass when R' = R)."""
    work = forward_work(shape, resolution**2)
    if neuron_resolution is not None and neuron_resolution != resolution:
        work += forward_work(shape, neuron_resolution**2)
    return work


def surface_work(shape: Shape, samples: int, resolution: int, epochs: int,
                 minibatch: int) -> int:
    """An error surface: J (a forward pass of the training set) at each point of an R x R
    grid, and the paths of the three batch modes: each update an iteration on its batch and J
    at the point it reaches."""
    evaluation = forward_work(shape, samples) + EVALUATION_WORK * shape.depth
    work = resolution**2 * evaluation
    for m in (samples, 1, min(minibatch, samples)):
        updates = epochs * -(-samples // m)
        work += updates * (iteration_work(shape, m, compiled=False) + evaluation)
    return work


def surface_path_points(samples: int, epochs: int, minibatch: int) -> int:
    """The points of the three paths: the start and one per update."""
    return sum(1 + epochs * -(-samples // m) for m in (samples, 1, min(minibatch, samples)))


# -- bytes of answers and frames ------------------------------------------------------------

def grid_values(shape: Shape, resolution: int, neuron_resolution: int | None) -> int:
    """The values of a boundary answer: the output's grid and, asked for, every neuron's
    (the input features' too)."""
    values = shape.outputs * resolution**2
    if neuron_resolution is not None:
        values += (shape.inputs + shape.neurons) * neuron_resolution**2
    return values


def grid_bytes(shape: Shape, resolution: int, neuron_resolution: int | None,
               encoding: str) -> int:
    """A boundary's grids as base64 (4 bytes for 3) of float32 or uint8 values."""
    per_value = 4 if encoding == "float32" else 1
    return -(-grid_values(shape, resolution, neuron_resolution) * per_value // 3) * 4


def forward_answer_bytes(shape: Shape, points: int) -> int:
    """The answer of a forward step: x (a^0), n and a of every layer, the output, y."""
    return JSON_NUMBER_BYTES * points * (shape.inputs + 2 * shape.neurons + 2 * shape.outputs)


def backward_answer_bytes(shape: Shape, points: int) -> int:
    """The answer of a backward step: s and fdot of every layer."""
    return JSON_NUMBER_BYTES * points * 2 * shape.neurons


def step_answer_bytes(shape: Shape, points: int) -> int:
    """The largest answer of the three steps of a batch of ``points`` samples."""
    return max(forward_answer_bytes(shape, points), backward_answer_bytes(shape, points))


def predict_answer_bytes(shape: Shape, points: int) -> int:
    """The answer of a prediction: the outputs and the class of each point."""
    return JSON_NUMBER_BYTES * points * (shape.outputs + 1)


def surface_answer_bytes(resolution: int, path_points: int) -> int:
    """An error surface: the R x R values of J, the two axes, and each path's point (two
    values and J)."""
    return JSON_NUMBER_BYTES * (resolution**2 + 2 * resolution + 3 * path_points)


def weights_bytes(shape: Shape) -> int:
    """Every W and b as JSON text: what a state, a snapshot or a progress frame carries."""
    return JSON_NUMBER_BYTES * shape.parameters


# -- memory ---------------------------------------------------------------------------------

def network_bytes(shape: Shape, samples: int, history_points: int, answer_bytes: int) -> int:
    """The most that a network in memory holds: parameters with the update's vectors, its
    data as the network sees it (and the epoch's shuffled copy), the workspaces of training
    and evaluation (a block of samples at a time), a batch begun step by step (whose answers
    are at most ``answer_bytes``), the history, the objects around it. The
    boundary's grids are not in it: they are a cache, counted as drawn and dropped first."""
    p = shape.parameters
    parameters = 7 * p * FLOAT_BYTES
    per_sample = 2 * (shape.inputs + shape.outputs) + 2 + 3 + 2  # a^0 and y twice, x, y, ids
    data = samples * per_sample * FLOAT_BYTES
    rows = min(samples, BLOCK)
    # Two workspaces (a batch's block, and the smaller last batch of an epoch).
    training = 2 * rows * (shape.inputs + 4 * shape.neurons) * FLOAT_BYTES + p * FLOAT_BYTES
    # A batch begun step by step keeps its values (n, a, fdot, s): no more numbers than its
    # answers may carry, at 8 bytes each instead of up to 24.
    pending = answer_bytes
    evaluation = rows * (shape.inputs + 2 * shape.neurons) * FLOAT_BYTES \
        + samples * shape.outputs * FLOAT_BYTES
    chunk = 2**16 * FLOAT_BYTES + samples * (shape.inputs + shape.outputs) * FLOAT_BYTES \
        + 256 * (shape.inputs + 3 * shape.neurons) * FLOAT_BYTES
    history = history_points * HISTORY_POINT_BYTES
    return (parameters + data + training + pending + evaluation + chunk + history
            + ENTRY_OVERHEAD_BYTES)

