"""Datasets of the input plane (x1, x2): the built-ins, user-given points, the train/test split.

A built-in dataset is a pure function of (name, n_samples, noise, seed): every random choice
comes from ``np.random.default_rng(seed)``, so the same arguments give bit-identical arrays.
"""

from __future__ import annotations

import math
import operator
import reprlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

CLASSIFICATION = "classification"
REGRESSION = "regression"
TASKS = (CLASSIFICATION, REGRESSION)

NOISE_RANGE = (0.0, 1.0)
N_SAMPLES_MIN = 4
MAX_CLASSES = 8

Domain = tuple[tuple[float, float], tuple[float, float]]
LOGIC_DOMAIN: Domain = ((-0.5, 1.5), (-0.5, 1.5))
BUILTIN_DOMAIN: Domain = ((-6.0, 6.0), (-6.0, 6.0))
EXTENT = 5.0  # the clean built-in points lie in [-EXTENT, EXTENT]^2


class DatasetError(ValueError):
    """A sentence that says what was wrong and what is allowed."""


@dataclass(frozen=True, eq=False)
class Dataset:
    x: np.ndarray  # (N, 2) float64: points of the input plane (x1, x2)
    y: np.ndarray  # (N,) float64: class index 0..K-1 (classification) or a real target
    task: str  # "classification" or "regression"
    classes: int  # K >= 2 for classification, 0 for regression
    domain: Domain  # ((x1_lo, x1_hi), (x2_lo, x2_hi)): the plane shown and drawn


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    task: str
    classes: int
    description: str  # one sentence for a student
    fixed_points: bool  # True for and/or/xor: n_samples, noise and split do not apply


def _info(name: str, task: str, description: str, fixed_points: bool = False) -> DatasetInfo:
    classes = 2 if task == CLASSIFICATION else 0
    return DatasetInfo(name, task, classes, description, fixed_points)


BUILTINS: dict[str, DatasetInfo] = {
    info.name: info
    for info in [
        _info("and", CLASSIFICATION,
              "The four corners of the unit square, labelled 1 only at (1, 1): logical AND.", True),
        _info("or", CLASSIFICATION,
              "The four corners of the unit square, labelled 1 unless both inputs are 0: "
              "logical OR.", True),
        _info("xor", CLASSIFICATION,
              "The four corners of the unit square, labelled 1 when exactly one input is 1: "
              "no single line separates them.", True),
        _info("circle", CLASSIFICATION,
              "A disc of one class inside a ring of the other."),
        _info("quadrants", CLASSIFICATION,
              "Class 1 where x1 and x2 have opposite signs: the XOR pattern on the plane."),
        _info("gaussians", CLASSIFICATION,
              "Two round clouds of points, one per class."),
        _info("spiral", CLASSIFICATION,
              "Two spirals wound around each other, one per class."),
        _info("moons", CLASSIFICATION,
              "Two interlocking half-moons, one per class."),
        _info("linear", CLASSIFICATION,
              "Two classes on either side of a tilted straight line."),
        _info("plane", REGRESSION,
              "A real target that rises steadily across the plane: a tilted flat surface."),
        _info("peaks", REGRESSION,
              "A real target shaped like hills and valleys (MATLAB's peaks surface)."),
    ]
}

_LOGIC_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
_LOGIC_Y = {
    "and": [0.0, 0.0, 0.0, 1.0],
    "or": [0.0, 1.0, 1.0, 1.0],
    "xor": [0.0, 1.0, 1.0, 0.0],
}

# Standard deviation of the Gaussian jitter at noise = 1, per set (in units of the plane,
# or of the target for regression); noise scales it linearly, noise = 0 is clean.
JITTER = {
    "circle": 1.0,
    "quadrants": 1.0,
    "gaussians": 1.5,
    "spiral": 0.5,
    "moons": 0.6,
    "linear": 1.0,
    "plane": 0.2,
    "peaks": 0.2,
}


def _frozen(x: np.ndarray, y: np.ndarray, task: str, classes: int, domain: Domain) -> Dataset:
    x = np.array(x, dtype=np.float64, order="C")  # a copy of its own, so freezing it is safe
    y = np.array(y, dtype=np.float64, order="C")
    x.flags.writeable = False
    y.flags.writeable = False
    return Dataset(x, y, task, classes, domain)


# --- built-ins -------------------------------------------------------------------------------


def _class_labels(n: int) -> np.ndarray:
    """Half 0s then half 1s; for odd n class 0 gets the extra point."""
    n1 = n // 2
    return np.repeat([0.0, 1.0], [n - n1, n1])


def _unit_normal(rng: np.random.Generator, n: int) -> np.ndarray:
    # Drawn whatever the noise, so one seed gives the same clean points at every noise level
    # and moving the noise only moves the points further from them.
    return rng.standard_normal((n, 2))


def _circle(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    y = _class_labels(n)
    radius = np.where(y == 0, rng.uniform(0.0, 0.5, n), rng.uniform(0.7, 1.0, n)) * EXTENT
    angle = rng.uniform(0.0, 2 * np.pi, n)
    x = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return x + noise * JITTER["circle"] * _unit_normal(rng, n), y


def _quadrants(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    y = _class_labels(n)
    magnitude = rng.uniform(0.3, EXTENT, (n, 2))  # kept off the axes so clean labels are clear
    sign1 = rng.choice([-1.0, 1.0], n)
    sign2 = np.where(y == 0, sign1, -sign1)
    x = magnitude * np.column_stack([sign1, sign2])
    return x + noise * JITTER["quadrants"] * _unit_normal(rng, n), y


def _gaussians(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    y = _class_labels(n)
    centre = np.where(y[:, None] == 0, -2.0, 2.0)
    x = centre + rng.standard_normal((n, 2))
    return x + noise * JITTER["gaussians"] * _unit_normal(rng, n), y


def _spiral(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    y = _class_labels(n)
    along = rng.uniform(0.0, 1.0, n)  # 0 at the centre, 1 at the outer end
    radius = EXTENT * along
    angle = 1.75 * 2 * np.pi * along + np.pi * y  # the second spiral is the first turned by pi
    x = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
    return x + noise * JITTER["spiral"] * _unit_normal(rng, n), y


def _moons(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    y = _class_labels(n)
    t = rng.uniform(0.0, np.pi, n)
    upper = np.column_stack([np.cos(t), np.sin(t)])
    lower = np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
    moons = np.where(y[:, None] == 0, upper, lower)
    x = 3.0 * (moons - [0.5, 0.25])  # centre the pair ([-1, 2] x [-0.5, 1]) and fill the plane
    return x + noise * JITTER["moons"] * _unit_normal(rng, n), y


def _linear(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    y = _class_labels(n)
    normal = np.array([-0.5, 1.0]) / math.hypot(0.5, 1.0)  # class 1 lies above x2 = 0.5 x1
    side = 2 * y - 1
    x = rng.uniform(-EXTENT, EXTENT, (n, 2))
    # The line passes through the origin, so -x is in the square and on the other side.
    x = np.where((x @ normal * side < 0)[:, None], -x, x)
    x = x + 0.25 * side[:, None] * normal  # a clear margin between the classes when clean
    return x + noise * JITTER["linear"] * _unit_normal(rng, n), y


def _plane(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-EXTENT, EXTENT, (n, 2))
    y = (2.0 * x[:, 0] + x[:, 1]) / (3.0 * EXTENT)  # exactly [-1, 1] on the square
    return x, y + noise * JITTER["plane"] * rng.standard_normal(n)


PEAKS_MAX = 8.1062  # the largest value of MATLAB's peaks on [-3, 3]^2 (its least is about -6.55)


def peaks(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """MATLAB's peaks surface, meant for u, v in [-3, 3]."""
    return (3 * (1 - u) ** 2 * np.exp(-(u**2) - (v + 1) ** 2)
            - 10 * (u / 5 - u**3 - v**5) * np.exp(-(u**2) - v**2)
            - np.exp(-((u + 1) ** 2) - v**2) / 3)


def _peaks(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-EXTENT, EXTENT, (n, 2))
    u, v = (3.0 / EXTENT) * x.T
    y = peaks(u, v) / PEAKS_MAX
    return x, y + noise * JITTER["peaks"] * rng.standard_normal(n)


Sampler = Callable[[np.random.Generator, int, float], tuple[np.ndarray, np.ndarray]]
_SAMPLERS: dict[str, Sampler] = {
    "circle": _circle,
    "quadrants": _quadrants,
    "gaussians": _gaussians,
    "spiral": _spiral,
    "moons": _moons,
    "linear": _linear,
    "plane": _plane,
    "peaks": _peaks,
}


def _whole_number(value: object, what: str, least: int) -> int:
    try:
        number = operator.index(value)
    except TypeError:
        number = None
    if number is None or number < least:
        raise DatasetError(f"{what} must be a whole number >= {least}; got {value!r}")
    return number


def _as_float(value: object) -> float:
    """float(value), or NaN when value is no number (so every range check fails)."""
    if isinstance(value, str):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return math.nan


def _number_in(value: object, what: str, allowed: tuple[float, float]) -> float:
    lo, hi = allowed
    number = _as_float(value)
    if not lo <= number <= hi:  # also false for NaN
        raise DatasetError(f"{what} must be a number from {lo} to {hi}; got {value!r}")
    return number


def fixed_points(name: str) -> list[list[float]]:
    """The points of a logic dataset as rows x1, x2, label (the catalog sends them)."""
    return [[*x, y] for x, y in zip(_LOGIC_X.tolist(), _LOGIC_Y[name], strict=True)]


def make_dataset(name: str, n_samples: int = 200, noise: float = 0.1, seed: int = 1) -> Dataset:
    """The built-in dataset `name`: n_samples points (the logic sets: always their four)."""
    info = BUILTINS.get(name) if isinstance(name, str) else None
    if info is None:
        raise DatasetError(f"unknown dataset {name!r}; the built-ins are: {', '.join(BUILTINS)}")
    if info.fixed_points:
        return _frozen(_LOGIC_X, _LOGIC_Y[name], info.task, info.classes, LOGIC_DOMAIN)

    n = _whole_number(n_samples, "n_samples", N_SAMPLES_MIN)
    seed = _whole_number(seed, "seed", 0)
    noise = _number_in(noise, "noise", NOISE_RANGE)

    rng = np.random.default_rng(seed)
    x, y = _SAMPLERS[name](rng, n, noise)
    (x1_lo, x1_hi), (x2_lo, x2_hi) = BUILTIN_DOMAIN
    x = np.clip(x, [x1_lo, x2_lo], [x1_hi, x2_hi])
    order = rng.permutation(n)  # mix the classes, which the samplers draw one after the other
    return _frozen(x[order], y[order], info.task, info.classes, BUILTIN_DOMAIN)


# --- user-given points -----------------------------------------------------------------------


def _is_finite_number(value: object) -> bool:
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def _rows(points: object) -> np.ndarray:
    if isinstance(points, np.ndarray):
        points = points.tolist()
    if not isinstance(points, list | tuple):
        raise DatasetError("points must be a list of [x1, x2, label] rows")
    if len(points) < 2:
        raise DatasetError(f"points needs at least 2 rows [x1, x2, label]; got {len(points)}")
    for i, row in enumerate(points):
        if (not isinstance(row, list | tuple) or len(row) != 3
                or not all(_is_finite_number(v) for v in row)):
            raise DatasetError(f"points[{i}] must be [x1, x2, label], three finite numbers; "
                               f"got {reprlib.repr(row)}")
    return np.array(points, dtype=np.float64)


def _class_count(labels: np.ndarray) -> tuple[int | None, str]:
    """K when the labels can be class indices 0..K-1 with 2 <= K <= MAX_CLASSES, else why not."""
    not_index = np.flatnonzero((labels != np.round(labels)) | (labels < 0))
    if not_index.size:
        i = not_index[0]
        return None, f"points[{i}] has label {labels[i]:g}, which is no class index 0, 1, 2, ..."
    largest = labels.max()
    if largest > MAX_CLASSES - 1:
        return None, (f"the largest label is {largest:g}, but at most {MAX_CLASSES} classes "
                      f"(labels 0..{MAX_CLASSES - 1}) are allowed")
    if largest == 0:
        return None, "every label is 0, but classification needs at least the classes 0 and 1"
    return int(largest) + 1, ""


def _bounding_domain(x: np.ndarray) -> Domain:
    """The points' bounding box with a 10% margin (at least 0.5); +-1 on an axis with no extent."""
    sides = []
    for lo, hi in zip(x.min(axis=0), x.max(axis=0), strict=True):
        margin = 1.0 if lo == hi else max(0.1 * (hi - lo), 0.5)
        sides.append((float(lo - margin), float(hi + margin)))
    return sides[0], sides[1]


def _checked_domain(domain: object) -> Domain:
    """((x1_lo, x1_hi), (x2_lo, x2_hi)) with finite numbers and lo < hi on each axis."""
    try:
        (a, b), (c, d) = domain  # type: ignore[misc]
        sides = ((_as_float(a), _as_float(b)), (_as_float(c), _as_float(d)))
    except (TypeError, ValueError):
        raise DatasetError("domain must be [[x1_lo, x1_hi], [x2_lo, x2_hi]]") from None
    if not all(math.isfinite(v) for side in sides for v in side) or \
            not all(lo < hi for lo, hi in sides):
        raise DatasetError("domain must be [[x1_lo, x1_hi], [x2_lo, x2_hi]] of finite numbers "
                           "with lo < hi on each axis")
    return sides


def from_points(points: object, task: str | None = None,
                domain: object | None = None) -> Dataset:
    """A dataset of the user's [x1, x2, label] rows.

    task None detects it: classification when the labels are class indices 0..K-1 with
    2 <= K <= 8 (K = largest label + 1; a class may have no point), regression otherwise.
    """
    if task is not None and task not in TASKS:
        raise DatasetError(f"task must be {' or '.join(TASKS)} (or left out to detect it); "
                           f"got {task!r}")
    rows = _rows(points)
    x, labels = rows[:, :2], rows[:, 2]
    domain = _bounding_domain(x) if domain is None else _checked_domain(domain)
    if task == REGRESSION:
        return _frozen(x, labels, REGRESSION, 0, domain)
    k, why_not = _class_count(labels)
    if k is not None:
        return _frozen(x, labels, CLASSIFICATION, k, domain)
    if task == CLASSIFICATION:
        raise DatasetError(f"classification labels must be 0..K-1 with 2 <= K <= {MAX_CLASSES}; "
                           f"{why_not}")
    return _frozen(x, labels, REGRESSION, 0, domain)


def restored(points: object, task: object, classes: object, domain: object) -> Dataset:
    """A saved dataset (an export's), checked as strictly as the user's own points: finite
    rows, a plane with lo < hi, and labels that are what the task and its classes say."""
    rows = _rows(points)
    domain = _checked_domain(domain)
    if task not in TASKS:
        raise DatasetError(f"task must be {' or '.join(TASKS)}; got {reprlib.repr(task)}")
    labels = rows[:, 2]
    if task == REGRESSION:
        if classes != 0:
            raise DatasetError(f"a regression dataset has 0 classes; got {classes!r}")
        return _frozen(rows[:, :2], labels, REGRESSION, 0, domain)
    if not (isinstance(classes, int) and 2 <= classes <= MAX_CLASSES):
        raise DatasetError(f"a classification dataset has 2 to {MAX_CLASSES} classes; got "
                           f"{reprlib.repr(classes)}")
    wrong = np.flatnonzero((labels != np.round(labels)) | (labels < 0) | (labels >= classes))
    if wrong.size:
        i = wrong[0]
        raise DatasetError(f"points[{i}] has label {labels[i]:g}; with {classes} classes a label "
                           f"is a class index from 0 to {classes - 1}")
    return _frozen(rows[:, :2], labels, CLASSIFICATION, classes, domain)


# --- train/test split ------------------------------------------------------------------------

# The split draws from a stream of its own: were it default_rng(seed), with the same seed as
# the points it would reuse the very draws that placed them.
_SPLIT_STREAM = 1


def split(n: int, train_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train_idx, test_idx): a seeded permutation of range(n) cut after round(n * fraction).

    The training part has at least one point; the test part may be empty (fraction 1).
    """
    n = _whole_number(n, "the number of points", 1)
    seed = _whole_number(seed, "seed", 0)
    fraction = _as_float(train_fraction)
    if not 0.0 < fraction <= 1.0:  # also false for NaN
        raise DatasetError("train_fraction must be more than 0 and at most 1; "
                           f"got {train_fraction!r}")
    n_train = max(1, round(n * fraction))
    order = np.random.default_rng([_SPLIT_STREAM, seed]).permutation(n)
    return order[:n_train], order[n_train:]
