"""The datasets: the logic points, the built-ins' shapes and determinism, user points, the split."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.core.datasets import (
    BUILTINS,
    N_SAMPLES_MIN,
    NOISE_RANGE,
    DatasetError,
    from_points,
    make_dataset,
    split,
)

LOGIC = ["and", "or", "xor"]
SAMPLED = [name for name, info in BUILTINS.items() if not info.fixed_points]
CLASSIFIERS = [name for name in SAMPLED if BUILTINS[name].task == "classification"]
REGRESSIONS = [name for name in SAMPLED if BUILTINS[name].task == "regression"]


def test_catalog_lists_the_builtins_in_order():
    assert list(BUILTINS) == ["and", "or", "xor", "circle", "quadrants", "gaussians", "spiral",
                              "moons", "linear", "plane", "peaks"]
    assert [name for name, info in BUILTINS.items() if info.fixed_points] == LOGIC
    assert REGRESSIONS == ["plane", "peaks"]
    for name, info in BUILTINS.items():
        assert info.name == name and info.description.endswith(".")
        assert info.classes == (2 if info.task == "classification" else 0)
    assert NOISE_RANGE == (0.0, 1.0) and N_SAMPLES_MIN == 4


@pytest.mark.parametrize(("name", "labels"), [("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]),
                                              ("xor", [0, 1, 1, 0])])
def test_logic_sets_are_the_four_corners(name, labels):
    for n_samples, noise, seed in [(200, 0.1, 1), (4, 1.0, 99), (10_000, 0.0, 0)]:
        data = make_dataset(name, n_samples, noise, seed)
        assert data.x.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
        assert data.y.tolist() == labels
        assert data.x.dtype == data.y.dtype == np.float64
        assert (data.task, data.classes) == ("classification", 2)
        assert data.domain == ((-0.5, 1.5), (-0.5, 1.5))


@pytest.mark.parametrize("name", SAMPLED)
@pytest.mark.parametrize("n_samples", [4, 5, 201])
def test_builtin_shapes_and_values(name, n_samples):
    data = make_dataset(name, n_samples, noise=0.5, seed=3)
    info = BUILTINS[name]
    assert data.x.shape == (n_samples, 2) and data.y.shape == (n_samples,)
    assert data.x.dtype == data.y.dtype == np.float64 and data.x.flags.c_contiguous
    assert (data.task, data.classes) == (info.task, info.classes)
    assert data.domain == ((-6.0, 6.0), (-6.0, 6.0))
    assert np.isfinite(data.x).all() and np.isfinite(data.y).all()
    assert (np.abs(data.x) <= 6.0).all()
    if info.task == "classification":
        counts = np.bincount(data.y.astype(int), minlength=2)
        assert set(data.y.tolist()) <= {0.0, 1.0}
        assert sorted(counts) == [n_samples // 2, n_samples - n_samples // 2]
    else:
        assert (np.abs(data.y) < 2.0).all()


@pytest.mark.parametrize("name", SAMPLED)
def test_builtin_is_a_pure_function_of_its_arguments(name):
    first, again = make_dataset(name, 50, 0.3, 7), make_dataset(name, 50, 0.3, 7)
    assert first.x.tobytes() == again.x.tobytes() and first.y.tobytes() == again.y.tobytes()
    other = make_dataset(name, 50, 0.3, 8)
    assert not np.array_equal(first.x, other.x)


@pytest.mark.parametrize("name", SAMPLED)
def test_noise_changes_the_data(name):
    clean, noisy = make_dataset(name, 100, 0.0, 1), make_dataset(name, 100, 1.0, 1)
    changed = clean.y if name in REGRESSIONS else clean.x
    assert not np.array_equal(changed, noisy.y if name in REGRESSIONS else noisy.x)


@pytest.mark.parametrize("name", REGRESSIONS)
def test_clean_regression_targets_fill_about_minus_one_to_one(name):
    data = make_dataset(name, 2000, 0.0, 1)
    assert -1.0 <= data.y.min() < -0.5 and 0.7 < data.y.max() <= 1.0


def test_clean_sets_have_their_shapes():
    circle = make_dataset("circle", 200, 0.0, 1)
    radius = np.hypot(*circle.x.T)
    assert radius[circle.y == 0].max() < radius[circle.y == 1].min()

    quadrants = make_dataset("quadrants", 200, 0.0, 1)
    assert np.array_equal(quadrants.y, (np.sign(quadrants.x[:, 0]) != np.sign(quadrants.x[:, 1])))

    linear = make_dataset("linear", 200, 0.0, 1)
    assert np.array_equal(linear.y, linear.x[:, 1] > 0.5 * linear.x[:, 0])

    plane = make_dataset("plane", 50, 0.0, 1)
    assert np.allclose(plane.y, (2 * plane.x[:, 0] + plane.x[:, 1]) / 15)


def test_dataset_arrays_are_read_only():
    data = make_dataset("circle", 10)
    with pytest.raises(ValueError, match="read-only"):
        data.x[0, 0] = 1.0


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(SAMPLED), n_samples=st.integers(N_SAMPLES_MIN, 300),
       noise=st.floats(0.0, 1.0), seed=st.integers(0, 2**32))
def test_any_valid_arguments_give_finite_points_in_the_domain(name, n_samples, noise, seed):
    data = make_dataset(name, n_samples, noise, seed)
    assert data.x.shape == (n_samples, 2)
    assert np.isfinite(data.y).all() and (np.abs(data.x) <= 6.0).all()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": "blobs"}, "unknown dataset 'blobs'; the built-ins are: and, or, xor, circle"),
    ({"name": "circle", "n_samples": 3}, "n_samples must be a whole number >= 4; got 3"),
    ({"name": "circle", "n_samples": 10.5}, "n_samples must be a whole number >= 4"),
    ({"name": "circle", "noise": 1.5}, "noise must be a number from 0.0 to 1.0; got 1.5"),
    ({"name": "circle", "noise": -0.1}, "noise must be a number from 0.0 to 1.0"),
    ({"name": "circle", "noise": float("nan")}, "noise must be a number from 0.0 to 1.0"),
    ({"name": "circle", "noise": float("inf")}, "noise must be a number from 0.0 to 1.0"),
    ({"name": "circle", "noise": "loud"}, "noise must be a number from 0.0 to 1.0"),
    ({"name": "circle", "seed": -1}, "seed must be a whole number >= 0"),
])
def test_bad_arguments_say_what_is_allowed(kwargs, message):
    with pytest.raises(DatasetError) as error:
        make_dataset(**kwargs)
    assert message in str(error.value)


# --- user points ---------------------------------------------------------------------------


def test_points_with_labels_zero_and_one_are_binary_classification():
    data = from_points([[0, 0, 0], [1, 1, 1], [2, 0, 1]])
    assert (data.task, data.classes) == ("classification", 2)
    assert data.x.tolist() == [[0, 0], [1, 1], [2, 0]] and data.y.tolist() == [0, 1, 1]
    assert data.x.dtype == data.y.dtype == np.float64


def test_points_detect_the_number_of_classes():
    assert from_points([[0, 0, 0], [1, 1, 2], [2, 2, 1.0]]).classes == 3
    assert from_points(np.array([[0, 0, 0], [1, 1, 7]])).classes == 8  # classes 1..6 empty
    assert from_points([[0, 0, 0], [1, 1, 8]]).task == "regression"  # 9 classes is too many
    assert from_points([[0, 0, 3], [1, 1, 3]]).classes == 4  # whole labels are class indices


@pytest.mark.parametrize("labels", [[0.5, 1], [0, -1], [0, 0], [9, 9], [0.1, 0.2, -0.7]])
def test_points_with_other_labels_are_regression(labels):
    data = from_points([[i, 0, label] for i, label in enumerate(labels)])
    assert (data.task, data.classes) == ("regression", 0)
    assert data.y.tolist() == labels


def test_asked_task_wins_or_says_why_not():
    assert from_points([[0, 0, 0], [1, 1, 1]], task="regression").task == "regression"
    assert from_points([[0, 0, 0], [1, 1, 1]], task="classification").classes == 2
    with pytest.raises(DatasetError, match=r"points\[1\] has label 0.5, which is no class index"):
        from_points([[0, 0, 0], [1, 1, 0.5]], task="classification")
    with pytest.raises(DatasetError, match=r"largest label is 8, but at most 8 classes"):
        from_points([[0, 0, 0], [1, 1, 8]], task="classification")
    with pytest.raises(DatasetError, match="needs at least the classes 0 and 1"):
        from_points([[0, 0, 0], [1, 1, 0]], task="classification")
    with pytest.raises(DatasetError, match="task must be classification or regression"):
        from_points([[0, 0, 0], [1, 1, 1]], task="clustering")


@pytest.mark.parametrize(("points", "message"), [
    ([[0, 0, 0], [1, 1]],
     r"points\[1\] must be \[x1, x2, label\], three finite numbers; got \[1, 1\]"),
    ([[0, 0, 0], [1, 1, 1], [1, 2, 3, 4]], r"points\[2\] must be"),
    ([[0, 0, 0], [1, float("nan"), 1]], r"points\[1\] must be"),
    ([[0, 0, 0], [1, 1, float("inf")]], r"points\[1\] must be"),
    ([[0, "a", 0], [1, 1, 1]], r"points\[0\] must be"),
    ([[0, 0, True], [1, 1, 1]], r"points\[0\] must be"),
    ([[0, 0, 0], 5], r"points\[1\] must be"),
    ([[0, 0, 0], [1, 1, 10**400]], r"points\[1\] must be"),
    ([[0, 0, 0]], "at least 2 rows"),
    ([], "at least 2 rows"),
    ("0,0,0", "must be a list of"),
])
def test_bad_points_name_the_row(points, message):
    with pytest.raises(DatasetError, match=message):
        from_points(points)


def test_points_domain_is_the_bounding_box_with_a_margin():
    assert from_points([[0, 0, 0], [10, 2, 1]]).domain == ((-1.0, 11.0), (-0.5, 2.5))
    assert from_points([[3, -2, 0], [3, -2, 1]]).domain == ((2.0, 4.0), (-3.0, -1.0))


# --- the split -----------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "fraction", "n_train"), [
    (200, 0.5, 100), (10, 0.75, 8), (10, 1.0, 10), (3, 0.1, 1), (1, 0.5, 1),
])
def test_split_sizes(n, fraction, n_train):
    train, test = split(n, fraction, seed=1)
    assert len(train) == n_train and len(test) == n - n_train
    assert train.dtype.kind == test.dtype.kind == "i"
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(n))


def test_split_is_seeded():
    first, again, other = split(50, 0.5, 4), split(50, 0.5, 4), split(50, 0.5, 5)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("fraction", [0, -0.5, 1.01, float("nan"), "half"])
def test_split_fraction_must_be_in_zero_to_one(fraction):
    with pytest.raises(DatasetError, match="train_fraction must be more than 0 and at most 1"):
        split(10, fraction, 1)
