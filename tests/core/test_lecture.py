"""The lecture's examples, to the digit: hand-designed logic networks, the perceptron rule,
and the backpropagation worked example."""

import numpy as np
import pytest

from backend.core.experiment import Experiment
from backend.core.network import Network, backward, forward

LOGIC_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


@pytest.mark.parametrize(("b", "expected"), [(-1.5, [0, 0, 0, 1]), (-0.5, [0, 1, 1, 1])])
def test_hand_designed_slp_separates_and_or(b, expected):
    net = Network([2, 1], ["hardlim"], [{"W": [[1, 1]], "b": [b]}])
    assert forward(net, LOGIC_X).output[:, 0].tolist() == expected


def test_hand_designed_mlp_separates_xor():
    net = Network([2, 2, 1], ["hardlim", "hardlim"], [
        {"W": [[1, -1], [-1, 1]], "b": [-0.5, -0.5]},
        {"W": [[1, 1]], "b": [-0.5]},
    ])
    assert forward(net, LOGIC_X).output[:, 0].tolist() == [0, 1, 1, 0]


def test_no_slp_separates_xor_on_a_grid_of_weights():
    ws = np.linspace(-2, 2, 21)
    for w1 in ws:
        for w2 in ws:
            for b in ws:
                yhat = (LOGIC_X @ [w1, w2] + b >= 0).astype(int)
                assert yhat.tolist() != [0, 1, 1, 0]


def worked_example_network() -> Network:
    return Network([2, 2, 1], ["relu", "linear"], [
        {"W": [[1, 1], [1, 1]], "b": [0, 0]},
        {"W": [[1, 1]], "b": [0]},
    ])


def test_backprop_worked_example_to_the_digit():
    net = worked_example_network()
    p = forward(net, np.array([[1.0, 1.0]]))
    assert p.n[1].tolist() == [[2.0, 2.0]] and p.a[1].tolist() == [[2.0, 2.0]]
    assert p.output.tolist() == [[4.0]]
    backward(net, np.array([[0.0]]), p)
    assert p.s[2].tolist() == [[8.0]] and p.s[1].tolist() == [[8.0, 8.0]]
    assert p.fdot[2].tolist() == [[1.0]] and p.fdot[1].tolist() == [[1.0, 1.0]]


def test_worked_example_through_the_three_steps():
    exp = Experiment.create({"dataset": {"name": "and"}, "hidden": [2],
                             "activations": ["relu", "linear"], "learning_rate": 0.1})
    exp.net.set_parameters(worked_example_network().parameters())
    t = exp.trainer
    p = t.forward(np.array([[1.0, 1.0]]), np.array([[0.0]]))
    assert p.output.tolist() == [[4.0]]
    _, loss = t.backward()
    assert loss == 16.0
    dW, db = t.update()
    W1, W2 = exp.net.layers[0], exp.net.layers[1]
    assert np.allclose(W1.W, [[0.2, 0.2], [0.2, 0.2]], rtol=0, atol=1e-15)
    assert np.allclose(W1.b, [-0.8, -0.8], rtol=0, atol=1e-15)
    assert np.allclose(W2.W, [[-0.6, -0.6]], rtol=0, atol=1e-15)
    assert np.allclose(W2.b, [-0.8], rtol=0, atol=1e-15)
    assert np.allclose(dW[1], [[-1.6, -1.6]]) and np.allclose(db[0], [-0.8, -0.8])
    # The values the page shows, rounded as a person reads them:
    assert [round(v, 12) for v in W1.W.ravel()] == [0.2] * 4
    assert t.iteration == 1 and t.epoch == 0  # a batch given by hand does not move the epoch


@pytest.mark.parametrize(("name", "converges"), [("and", True), ("or", True), ("xor", False)])
def test_perceptron_rule_learns_and_or_never_xor(name, converges):
    exp = Experiment.create({"dataset": {"name": name}, "rule": "perceptron",
                             "learning_rate": 1.0})
    result = exp.trainer.run(epochs=200)
    yhat, classes = exp.predict(LOGIC_X)
    if converges:
        assert result.reason == "converged"
        assert classes.tolist() == exp.data.dataset.y.astype(int).tolist()
        assert exp.trainer.last_epoch_errors == 0
    else:
        assert result.reason == "not_converged" and result.epochs == 200
        assert "XOR" in result.message and "line" in result.message
        assert exp.trainer.last_epoch_errors > 0


def test_perceptron_update_is_the_lecture_rule():
    exp = Experiment.create({"dataset": {"name": "and"}, "rule": "perceptron",
                             "learning_rate": 0.5, "init": {"scheme": "zeros"}})
    t = exp.trainer
    t.forward(np.array([[1.0, 1.0]]), np.array([[0.0]]))  # yhat = hardlim(0) = 1, e = -1
    ws, _ = t.backward()
    assert ws.s[1].tolist() == [[1.0]]  # s = -e
    t.update()
    assert exp.net.layers[0].W.tolist() == [[-0.5, -0.5]]  # W + eta e x^T
    assert exp.net.layers[0].b.tolist() == [-0.5]  # b + eta e
