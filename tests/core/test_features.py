"""The input features: their values on known points, the matrix, and the names allowed."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from backend.core.features import FEATURES, FeatureError, feature_matrix, validate_features

POINTS = np.array([[0.0, 0.0], [1.0, 2.0], [-3.0, 0.5], [math.pi / 2, -math.pi / 2]])
EXPECTED = {
    "x1": [0.0, 1.0, -3.0, math.pi / 2],
    "x2": [0.0, 2.0, 0.5, -math.pi / 2],
    "x1^2": [0.0, 1.0, 9.0, math.pi**2 / 4],
    "x2^2": [0.0, 4.0, 0.25, math.pi**2 / 4],
    "x1*x2": [0.0, 2.0, -1.5, -math.pi**2 / 4],
    "sin(x1)": [0.0, math.sin(1.0), math.sin(-3.0), 1.0],
    "sin(x2)": [0.0, math.sin(2.0), math.sin(0.5), -1.0],
}


def test_features_in_order_with_labels():
    assert list(FEATURES) == list(EXPECTED)
    assert [f.label for f in FEATURES.values()] == ["x₁", "x₂", "x₁²", "x₂²", "x₁x₂", "sin(x₁)",
                                                     "sin(x₂)"]
    assert all(name == feature.name for name, feature in FEATURES.items())


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_feature_on_known_points(name):
    assert np.allclose(feature_matrix([name], POINTS)[:, 0], EXPECTED[name])


def test_matrix_columns_follow_the_names():
    names = ["sin(x2)", "x1", "x1*x2"]
    matrix = feature_matrix(names, POINTS)
    assert matrix.shape == (4, 3) and matrix.dtype == np.float64 and matrix.flags.c_contiguous
    assert np.allclose(matrix, np.column_stack([EXPECTED[name] for name in names]))


def test_matrix_of_x1_x2_is_the_points_themselves_as_a_copy():
    matrix = feature_matrix(["x1", "x2"], POINTS)
    assert np.array_equal(matrix, POINTS) and not np.shares_memory(matrix, POINTS)
    assert feature_matrix(["x1"], [[1, 2]]).tolist() == [[1.0]]  # lists and ints are fine
    assert feature_matrix(["x1"], np.empty((0, 2))).shape == (0, 1)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(0, 20), st.just(2)),
              elements=st.floats(-6, 6)))
def test_matrix_matches_each_feature_row_by_row(x):
    matrix = feature_matrix(list(FEATURES), x)
    for i, (x1, x2) in enumerate(x):
        row = [feature.f(np.array([x1]), np.array([x2]))[0] for feature in FEATURES.values()]
        assert np.allclose(matrix[i], row)


@pytest.mark.parametrize(("names", "message"), [
    ([], "features must be a non-empty list of names from: x1, x2, x1^2, x2^2, x1*x2, sin(x1), "
         "sin(x2)"),
    ("x1", "features must be a non-empty list"),
    (["x1", "x3"], "unknown feature 'x3'; the features are: x1, x2, x1^2"),
    (["x1", 1], "unknown feature 1"),
    (["x1", "x2", "x1"], "feature 'x1' is listed twice; each may be chosen once"),
])
def test_bad_names_say_what_is_allowed(names, message):
    with pytest.raises(FeatureError) as error:
        validate_features(names)
    assert message in str(error.value)


def test_validate_returns_the_names_as_a_list():
    assert validate_features(("x2", "x1")) == ["x2", "x1"]


@pytest.mark.parametrize("x", [np.zeros(4), np.zeros((3, 3)), np.zeros((2, 2, 2))])
def test_matrix_wants_points_of_the_plane(x):
    with pytest.raises(FeatureError, match=r"points must have shape \(N, 2\)"):
        feature_matrix(["x1"], x)
