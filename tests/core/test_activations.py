"""The activations f and their derivatives fdot against the lecture's formulas."""

import math
import warnings

import numpy as np
import pytest

from backend.core.activations import ACTIVATIONS, ActivationError, get_activation

N = np.array([-1000.0, -710.0, -40.0, -3.0, -1.0, -0.5, -1e-300, 0.0, 1e-300, 0.25, 1.0,
              2.5, 40.0, 710.0, 1000.0])


def sigmoid_formula(n: float) -> float:
    """1 / (1 + e^-n), with e^-n taken as infinite where it overflows."""
    try:
        return 1.0 / (1.0 + math.exp(-n))
    except OverflowError:
        return 0.0


FORMULAS = {
    "hardlim": (lambda n: 1.0 if n >= 0 else 0.0, lambda n: 0.0),
    "hardlims": (lambda n: 1.0 if n >= 0 else -1.0, lambda n: 0.0),
    "relu": (lambda n: n if n >= 0 else 0.0, lambda n: 1.0 if n > 0 else 0.0),
    "linear": (lambda n: n, lambda n: 1.0),
    "sigmoid": (sigmoid_formula, lambda n: sigmoid_formula(n) * (1 - sigmoid_formula(n))),
    "tanh": (lambda n: 2 * sigmoid_formula(2 * n) - 1,
             lambda n: 1 - (2 * sigmoid_formula(2 * n) - 1) ** 2),
}


def test_every_activation_has_a_formula_here():
    assert set(FORMULAS) == set(ACTIVATIONS)


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_values_and_derivatives_follow_the_formulas(name):
    act = get_activation(name)
    f, fdot = FORMULAS[name]
    a = act.f(N)
    d = act.fdot(N, a)
    assert a.dtype == np.float64 and d.dtype == np.float64
    assert a.shape == N.shape and d.shape == N.shape
    for n, got_a, got_d in zip(N, a, d, strict=True):
        assert got_a == pytest.approx(f(n), rel=1e-12, abs=1e-15), f"{name}({n})"
        assert got_d == pytest.approx(fdot(n), rel=1e-12, abs=1e-15), f"{name}'({n})"


@pytest.mark.parametrize("name", ["relu", "linear", "sigmoid", "tanh"])
def test_derivative_is_the_slope_of_f(name):
    act = get_activation(name)
    n = np.array([-3.0, -1.2, -0.3, 0.4, 1.1, 2.7])
    h = 1e-6
    slope = (act.f(n + h) - act.f(n - h)) / (2 * h)
    np.testing.assert_allclose(act.fdot(n, act.f(n)), slope, rtol=1e-7, atol=1e-9)


def test_kinks_and_steps_at_zero():
    zero = np.array([0.0, -0.0])
    assert get_activation("hardlim").f(zero).tolist() == [1.0, 1.0]  # 1 if n >= 0
    assert get_activation("hardlims").f(zero).tolist() == [1.0, 1.0]
    assert get_activation("relu").f(zero).tolist() == [0.0, 0.0]
    relu = get_activation("relu")
    assert relu.fdot(zero, relu.f(zero)).tolist() == [0.0, 0.0]  # 1 if n > 0 else 0
    assert get_activation("sigmoid").f(np.array([0.0])).tolist() == [0.5]
    assert get_activation("tanh").f(np.array([0.0])).tolist() == [0.0]


def test_sigmoid_saturates_exactly_without_a_warning():
    sigmoid = get_activation("sigmoid")
    n = np.array([-1000.0, -710.0, 710.0, 1000.0, -np.inf, np.inf])
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        a = sigmoid.f(n)
        out = sigmoid.f(n, out=np.empty_like(n))
        d = sigmoid.fdot(n, a)
    assert a[0] == 0.0 and a[1] == 0.0 and a[4] == 0.0
    assert a[2] == 1.0 and a[3] == 1.0 and a[5] == 1.0
    assert out.tolist() == a.tolist()
    assert d.tolist() == [0.0] * 6
    assert not np.isnan(a).any()


def test_sigmoid_does_not_change_its_input():
    n = np.array([-2.0, 0.0, 3.0])
    get_activation("sigmoid").f(n)
    assert n.tolist() == [-2.0, 0.0, 3.0]


def test_tanh_is_two_sigmoids_minus_one():
    n = np.linspace(-20, 20, 401)
    sig, tanh = get_activation("sigmoid"), get_activation("tanh")
    np.testing.assert_allclose(tanh.f(n), 2 * sig.f(2 * n) - 1, rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", sorted(FORMULAS))
@pytest.mark.parametrize("shape", [(15,), (3, 5)])
def test_out_path_gives_the_allocating_values(name, shape):
    act = get_activation(name)
    n = N.reshape(shape)
    a = act.f(n)
    d = act.fdot(n, a)
    out_a = np.full(shape, np.nan)
    out_d = np.full(shape, np.nan)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        returned_a = act.f(n, out=out_a)
        returned_d = act.fdot(n, out_a, out=out_d)
    assert returned_a is out_a and returned_d is out_d
    np.testing.assert_array_equal(out_a, a)
    np.testing.assert_array_equal(out_d, d)


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_allocating_path_returns_a_new_array(name):
    act = get_activation(name)
    n = np.array([-1.0, 0.5])
    a = act.f(n)
    a[...] = 7.0  # writing into the result must not touch the input
    assert n.tolist() == [-1.0, 0.5]


def test_backprop_flags_and_output_ranges():
    assert {name for name, a in ACTIVATIONS.items() if not a.can_backprop} == {
        "hardlim", "hardlims"}
    assert {name for name, a in ACTIVATIONS.items() if a.symmetric} == {"hardlims", "tanh"}


def test_unknown_activation_names_the_allowed_ones():
    with pytest.raises(ActivationError, match="allowed: .*sigmoid"):
        get_activation("softmax")
