"""Backpropagation against central finite differences of the loss the lecture defines.

For a batch of m samples the loss is L = mean over the samples of J, J = sum over the outputs of
(y - yhat)^2; backward() + gradients() must give dL/dW^k and dL/db^k (Pass.gW, Pass.gb).
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from backend.core.network import Network, Pass, backward, forward, gradients, mse

DIFFERENTIABLE = ("relu", "linear", "sigmoid", "tanh")
H = 1e-6  # finite-difference step
KINK = 1e-3  # relu: skip samples with a net input this close to 0 (the derivative jumps there)


def batch_loss(net: Network, x: np.ndarray, y: np.ndarray) -> float:
    """The mean over the batch of J, straight from the forward pass."""
    return mse(y, forward(net, x).output)


def finite_difference(net: Network, x: np.ndarray, y: np.ndarray):
    """Central differences of the batch loss for every weight and bias, layer by layer."""
    gW, gb = [], []
    for layer in net.layers:
        for param, out in ((layer.W, gW), (layer.b, gb)):
            grad = np.empty_like(param)
            for idx in np.ndindex(param.shape):
                saved = param[idx]
                param[idx] = saved + H
                up = batch_loss(net, x, y)
                param[idx] = saved - H
                down = batch_loss(net, x, y)
                param[idx] = saved
                grad[idx] = (up - down) / (2 * H)
            out.append(grad)
    return gW, gb


def assert_close(analytic: np.ndarray, numeric: np.ndarray, what: str) -> None:
    # ~1e-6 relative to the size of the gradient; the absolute floor covers the rounding of
    # the finite difference itself (about eps * L / H).
    scale = max(1.0, float(np.abs(numeric).max()))
    err = float(np.abs(analytic - numeric).max())
    assert err <= 1e-6 * scale, f"{what}: max |backprop - finite difference| = {err:g}"


@st.composite
def shapes(draw):
    """Layer sizes with 0 to 3 hidden layers, a batch size (1 or several) and a seed."""
    depth = draw(st.integers(0, 3))
    sizes = [draw(st.integers(1, 4))]
    sizes += [draw(st.integers(1, 6)) for _ in range(depth)]
    sizes.append(draw(st.integers(1, 3)))
    m = draw(st.sampled_from([1, 2, 3, 7]))
    seed = draw(st.integers(0, 2**32 - 1))
    return sizes, m, seed


@pytest.mark.parametrize("output", DIFFERENTIABLE)
@pytest.mark.parametrize("hidden", DIFFERENTIABLE)
@settings(max_examples=10, deadline=None)
@given(case=shapes())
def test_backprop_gradients_match_finite_differences(hidden, output, case):
    sizes, m, seed = case
    activations = [hidden] * (len(sizes) - 2) + [output]
    rng = np.random.default_rng(seed)
    net = Network.initialised(sizes, activations, "uniform", rng=rng)
    for layer in net.layers:  # larger weights than "uniform" gives, so saturation shows up too
        layer.W *= 3.0
        layer.b *= 2.0
    x = rng.normal(0.0, 1.0, (m, sizes[0]))
    y = rng.normal(0.0, 1.0, (m, sizes[-1]))

    p = forward(net, x)
    if "relu" in activations:
        assume(all(np.abs(n).min() > KINK for n, act in zip(p.n[1:], activations, strict=True)
                   if act == "relu"))
    backward(net, y, p)
    gradients(net, p)

    # The preallocated workspace of the fast loop must give the very same numbers.
    ws = Pass.allocate(net, m)
    forward(net, x, ws)
    backward(net, y, ws)
    gradients(net, ws)

    fd_W, fd_b = finite_difference(net, x, y)
    for k in range(1, net.depth + 1):
        assert p.gW[k].shape == net.layers[k - 1].W.shape
        assert p.gb[k].shape == net.layers[k - 1].b.shape
        assert_close(p.gW[k], fd_W[k - 1], f"gW^{k} {sizes} {activations} m={m}")
        assert_close(p.gb[k], fd_b[k - 1], f"gb^{k} {sizes} {activations} m={m}")
        np.testing.assert_allclose(ws.gW[k], p.gW[k], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(ws.gb[k], p.gb[k], rtol=1e-13, atol=1e-15)


def test_gradient_is_the_batch_mean_not_the_sum():
    """Doubling the batch with a copy of itself leaves the mean gradient unchanged."""
    rng = np.random.default_rng(3)
    net = Network.initialised([2, 3, 1], ["tanh", "linear"], "uniform", rng=rng)
    x = rng.normal(size=(4, 2))
    y = rng.normal(size=(4, 1))
    one = gradients(net, backward(net, y, forward(net, x)))
    two = gradients(net, backward(net, np.vstack([y, y]), forward(net, np.vstack([x, x]))))
    for k in (1, 2):
        np.testing.assert_allclose(two.gW[k], one.gW[k], rtol=1e-14)
        np.testing.assert_allclose(two.gb[k], one.gb[k], rtol=1e-14)
