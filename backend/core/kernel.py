"""The compiled training loop: the three steps of backpropagation for many batches in one call.

The teaching steps (:mod:`backend.core.network`) do one batch with a handful of NumPy calls per
layer, which is what a student should read. Training at speed does the same arithmetic
thousands of times a second on layers of a few neurons, where each NumPy call costs more than
its arithmetic. Here the same equations are loops compiled by Numba: no call costs, no
temporaries, and the interpreter lock released while they run, so that a server training many
networks keeps answering.

Layout, as in :class:`backend.core.network.Network`: ``theta`` holds W^1, b^1, W^2, b^2, ...
(each ``W^k`` row-major, ``(p^k, p^(k-1))``). A workspace for batches of up to ``m`` samples
holds every ``a^k`` one after the other in ``a`` (rows of samples, ``a^0`` first), every ``n^k``
in ``n`` and every ``s^k`` in ``s`` (k = 1..l), and ``wt`` room for one transposed ``W^k``.
Sums run in the order the lecture writes them (over the previous layer's neurons, then the
bias), so one step matches the NumPy steps to the last bit or two (over many steps the
differences grow, as between any two implementations).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from backend.core.update import DIVERGED, OK

# The activations by number, in the order of backend.core.activations.ACTIVATIONS.
CODES = {"hardlim": 0, "hardlims": 1, "relu": 2, "linear": 3, "sigmoid": 4, "tanh": 5}

EVALUATION_BLOCK = 256  # samples evaluated at once: the workspace stays small for any set

_jit = njit(nogil=True, cache=True)


@dataclass
class Workspace:
    """Room for batches of up to m samples of a network of these sizes."""

    sizes: np.ndarray  # p^0 .. p^l, int64
    codes: np.ndarray  # each layer's activation (CODES), int64
    a: np.ndarray
    n: np.ndarray
    s: np.ndarray
    wt: np.ndarray

    @classmethod
    def allocate(cls, sizes: list[int], activations: list[str], m: int) -> Workspace:
        neurons = sum(sizes[1:])
        return cls(np.asarray(sizes, np.int64),
                   np.asarray([CODES[name] for name in activations], np.int64),
                   np.empty(m * (sizes[0] + neurons)), np.empty(m * neurons),
                   np.empty(m * neurons),
                   np.empty(max(p * q for q, p in zip(sizes[:-1], sizes[1:], strict=True))))


@_jit
def f(code, n):
    if code == 0:
        return 1.0 if n >= 0.0 else 0.0
    if code == 1:
        return 1.0 if n >= 0.0 else -1.0
    if code == 2:
        return 0.0 if n < 0.0 else n  # NaN stays NaN, as np.maximum(n, 0)
    if code == 4:
        return 1.0 / (1.0 + math.exp(-n))
    if code == 5:
        return math.tanh(n)
    return n


@_jit
def fdot(code, n, a):
    if code == 2:
        return 1.0 if n > 0.0 else 0.0
    if code == 3:
        return 1.0
    if code == 4:
        return (1.0 - a) * a
    if code == 5:
        return 1.0 - a * a
    return 0.0  # hardlim, hardlims


@_jit
def forward(theta, sizes, acts, m, a, n, wt):
    """``n^k = W^k a^(k-1) + b^k``, ``a^k = f^k(n^k)`` for the first m rows; a^0 given."""
    l = len(sizes) - 1
    w = 0  # offset of W^k in theta
    ap = 0  # offset of a^(k-1) in a
    nk = 0  # offset of n^k in n
    for k in range(1, l + 1):
        q, p = sizes[k - 1], sizes[k]
        bo = w + p * q
        ak = ap + m * q
        for r in range(q):  # W^k transposed, so that the inner loop runs along contiguous rows
            for j in range(p):
                wt[r * p + j] = theta[w + j * q + r]
        for i in range(m):
            row = nk + i * p
            for j in range(p):
                n[row + j] = 0.0
            for r in range(q):
                x = a[ap + i * q + r]
                for j in range(p):
                    n[row + j] += x * wt[r * p + j]
            for j in range(p):
                v = n[row + j] + theta[bo + j]
                n[row + j] = v
                a[ak + i * p + j] = f(acts[k - 1], v)
        w = bo + p
        ap = ak
        nk += m * p


@_jit
def backward(theta, sizes, acts, m, a, n, s, y, y0, perceptron):
    """``s^l = 2 (yhat - y) fdot^l`` (the perceptron rule: ``s = yhat - y``), then
    ``s^k = fdot^k (W^(k+1))^T s^(k+1)``. Returns the rows whose output was wrong (s^l != 0)."""
    l = len(sizes) - 1
    a_off = np.empty(l + 1, np.int64)
    n_off = np.empty(l + 1, np.int64)
    w_off = np.empty(l + 1, np.int64)
    ao = no = wo = 0
    for k in range(l + 1):
        a_off[k] = ao
        ao += m * sizes[k]
        if k >= 1:
            n_off[k] = no
            no += m * sizes[k]
            w_off[k] = wo
            wo += sizes[k] * sizes[k - 1] + sizes[k]
    p = sizes[l]
    wrong = 0
    for i in range(m):
        row_wrong = False
        for j in range(p):
            at = i * p + j
            e = a[a_off[l] + at] - y[(y0 + i) * p + j]
            if perceptron:
                s[n_off[l] + at] = e
                row_wrong = row_wrong or e != 0.0
            else:
                e *= 2.0
                if acts[l - 1] != 3:
                    e *= fdot(acts[l - 1], n[n_off[l] + at], a[a_off[l] + at])
                s[n_off[l] + at] = e
        if row_wrong:
            wrong += 1
    for k in range(l - 1, 0, -1):
        p, pn = sizes[k], sizes[k + 1]
        wn = w_off[k + 1]
        for i in range(m):
            row = n_off[k] + i * p
            for j in range(p):
                s[row + j] = 0.0
            for r in range(pn):
                x = s[n_off[k + 1] + i * pn + r]
                for j in range(p):
                    s[row + j] += x * theta[wn + r * p + j]
            if acts[k - 1] != 3:
                for j in range(p):
                    s[row + j] *= fdot(acts[k - 1], n[row + j], a[a_off[k] + i * p + j])
    return wrong


@_jit
def gradient_sums(sizes, m, a, s, g):
    """g: the sums over the batch of ``s^k (a^(k-1))^T`` and of ``s^k``, laid out as theta."""
    l = len(sizes) - 1
    w = ap = sk = 0
    for k in range(1, l + 1):
        q, p = sizes[k - 1], sizes[k]
        bo = w + p * q
        for t in range(w, bo + p):
            g[t] = 0.0
        for i in range(m):
            for j in range(p):
                x = s[sk + i * p + j]
                for r in range(q):
                    g[w + j * q + r] += x * a[ap + i * q + r]
                g[bo + j] += x
        w = bo + p
        ap += m * q
        sk += m * p


@_jit
def step_parameters(theta, g, m, eta, regularization, rate, mask, d, theta_new):
    """``theta <- theta - eta (g / m + regularization)``, only if every new parameter is finite.
    The step is left in d. Returns DIVERGED (and changes nothing) when the sum of squares of
    the new parameters is not finite: a NaN, an infinity or a parameter beyond 1e154."""
    size = theta.shape[0]
    if regularization == 0 or rate == 0.0:
        c = -eta / m
        for t in range(size):
            d[t] = g[t] * c
    else:
        inv = 1.0 / m
        for t in range(size):
            gt = g[t] * inv if m != 1 else g[t]
            if regularization == 2:
                r = theta[t] * mask[t]
            else:
                r = (0.0 if theta[t] == 0.0 else math.copysign(1.0, theta[t])) * mask[t]
            d[t] = (r * rate + gt) * -eta
    total = 0.0
    for t in range(size):
        v = theta[t] + d[t]
        theta_new[t] = v
        total += v * v
    if not math.isfinite(total):
        return DIVERGED
    for t in range(size):
        theta[t] = theta_new[t]
    return OK


@_jit
def train(theta, sizes, acts, X, Y, cursor, batch, iterations, eta, regularization, rate, mask,
          perceptron, a, n, s, wt, g, d, theta_new):
    """Whole iterations on consecutive batches of X, Y (this epoch's order) from ``cursor``, at
    most ``iterations`` and no further than the epoch's end. Returns (iterations done, samples
    used, misclassified samples (perceptron), OK or DIVERGED: the update of the next iteration
    would have made a parameter non-finite, and was not applied)."""
    N, p0 = X.shape
    done = used = wrong = 0
    flat_y = Y.reshape(-1)
    while done < iterations and cursor < N:
        m = min(batch, N - cursor)
        for i in range(m):
            for j in range(p0):
                a[i * p0 + j] = X[cursor + i, j]
        forward(theta, sizes, acts, m, a, n, wt)
        errors = backward(theta, sizes, acts, m, a, n, s, flat_y, cursor, perceptron)
        gradient_sums(sizes, m, a, s, g)
        if step_parameters(theta, g, m, eta, regularization, rate, mask, d, theta_new) != OK:
            return done, used, wrong, DIVERGED
        wrong += errors
        done += 1
        used += m
        cursor += m
    return done, used, wrong, OK


@_jit
def evaluate(theta, sizes, acts, X, Y, a, n, wt, classes, threshold):
    """The forward pass over a whole set, EVALUATION_BLOCK samples at a time (a workspace of
    that many rows): (sum over its samples of J = sum of (y - yhat)^2, samples classified as
    their target says). ``classes``: 0 for regression (no count), 1 for one output decided
    at ``threshold``, K > 1 for the arg-max of K outputs."""
    N, p0 = X.shape
    l = len(sizes) - 1
    p = sizes[l]
    loss = 0.0
    correct = 0
    for start in range(0, N, EVALUATION_BLOCK):
        m = min(EVALUATION_BLOCK, N - start)
        for i in range(m):
            for j in range(p0):
                a[i * p0 + j] = X[start + i, j]
        forward(theta, sizes, acts, m, a, n, wt)
        out = 0
        for k in range(l):
            out += m * sizes[k]
        for i in range(m):
            row = out + i * p
            y = Y[start + i]
            J = 0.0
            for j in range(p):
                e = y[j] - a[row + j]
                J += e * e
            loss += J
            if classes == 1:
                same = (a[row] >= threshold) == (y[0] >= threshold)
            else:
                same = classes > 1 and _argmax(a, row, p) == _argmax(y, 0, p)
            if same:
                correct += 1
    return loss, correct


@_jit
def _argmax(values, start, count):
    """As np.argmax: the first largest, or the first NaN."""
    best = 0
    for j in range(count):
        v = values[start + j]
        if v != v:
            return j
        if v > values[start + best]:
            best = j
    return best


@_jit
def train_epochs(theta, sizes, acts, X, Y, orders, Xs, Ys, batch, eta, regularization, rate,
                 mask, perceptron, a, n, s, wt, g, d, theta_new,
                 evaluated, X_test, Y_test, ea, en, classes, threshold, metrics, errors):
    """Whole epochs, epoch e on the training set in the order ``orders[e]``, and after each
    epoch whose ``evaluated[e]`` is set, the loss sums and counts of the training and test sets
    into ``metrics[e]`` (train loss, train correct, test loss, test correct); the perceptron's
    misclassified samples of each epoch into ``errors[e]``. Stops after an epoch without
    error under the perceptron rule. Returns (epochs done, and of the epoch under way when
    an update diverged: iterations done, samples used, misclassified samples of the batches
    done; then OK or DIVERGED)."""
    N, p0 = X.shape
    q = Y.shape[1]
    for e in range(orders.shape[0]):
        for i in range(N):
            r = orders[e, i]
            for j in range(p0):
                Xs[i, j] = X[r, j]
            for j in range(q):
                Ys[i, j] = Y[r, j]
        done, used, wrong, status = train(theta, sizes, acts, Xs, Ys, 0, batch, 2**62, eta,
                                          regularization, rate, mask, perceptron,
                                          a, n, s, wt, g, d, theta_new)
        if status != OK:
            return e, done, used, wrong, status
        errors[e] = wrong
        if evaluated[e]:
            metrics[e, 0], metrics[e, 1] = evaluate(theta, sizes, acts, X, Y, ea, en, wt,
                                                    classes, threshold)
            if X_test.shape[0]:
                metrics[e, 2], metrics[e, 3] = evaluate(theta, sizes, acts, X_test, Y_test,
                                                        ea, en, wt, classes, threshold)
        if perceptron and wrong == 0:
            return e + 1, 0, 0, 0, OK
    return orders.shape[0], 0, 0, 0, OK


def warm_up() -> None:
    """Compile the loops (or load them from Numba's cache) now, not in the first training:
    with the argument types the trainer passes, so that nothing compiles later."""
    sizes = [2, 2, 1]
    ws = Workspace.allocate(sizes, ["tanh", "linear"], 2)
    theta, g, d, theta_new, mask = (np.zeros(9) for _ in range(5))
    X, Y = np.zeros((2, 2)), np.zeros((2, 1))
    train(theta, ws.sizes, ws.codes, X, Y, 0, 2, 1, 0.1, 0, 0.0, mask, False,
          ws.a, ws.n, ws.s, ws.wt, g, d, theta_new)
    step_parameters(theta, g, 1, 0.1, 0, 0.0, mask, d, theta_new)
    orders = np.zeros((1, 2), np.int64)
    train_epochs(theta, ws.sizes, ws.codes, X, Y, orders, X.copy(), Y.copy(), 2, 0.1, 0, 0.0,
                 mask, False, ws.a, ws.n, ws.s, ws.wt, g, d, theta_new,
                 np.ones(1, np.bool_), X, Y, ws.a, ws.n, 1, 0.5, np.zeros((1, 4)),
                 np.zeros(1, np.int64))
