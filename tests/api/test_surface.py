"""POST /api/networks/{id}/surface: the answer's shape, refusals with a sentence, the budget,
no NaN in the JSON, and a network left unchanged."""

from __future__ import annotations

import json

import numpy as np
import pytest

AND_SIGMOID = {"dataset": {"name": "and"}, "hidden": [], "activations": ["sigmoid"],
               "learning_rate": 0.5}


def test_the_surface_and_its_three_paths(make):
    net = make(AND_SIGMOID)
    before = net.get()
    answer = net.post("/surface", {"resolution": 9, "epochs": 4})
    assert [p["name"] for p in answer["parameters"]] == ["W^1[0,0]", "W^1[0,1]"]
    assert answer["start"] == before["layers"][0]["W"][0]
    assert answer["resolution"] == 9 and len(answer["J"]) == 9
    assert all(len(row) == 9 for row in answer["J"])
    (lo1, hi1), (lo2, hi2) = answer["range"]
    assert lo1 < answer["start"][0] < hi1 and lo2 < answer["start"][1] < hi2
    assert answer["learning_rate"] == 0.5 and answer["epochs"] == 4
    assert answer["seed"] == before["spec"]["init"]["seed"]
    paths = {p["mode"]: p for p in answer["paths"]}
    assert set(paths) == {"batch", "stochastic", "minibatch"}
    # Four samples: 1 update an epoch in batch, 4 stochastic, 2 in mini-batches of 2.
    assert [paths[m]["updates"] for m in ("batch", "stochastic", "minibatch")] == [4, 16, 8]
    assert paths["minibatch"]["batch_size"] == 2
    for p in paths.values():
        assert p["points"][0] == answer["start"] and not p["diverged"]
        assert len(p["points"]) == len(p["J"]) == p["updates"] + 1
    after = net.get()  # a read: nothing of the network changed
    assert after["layers"] == before["layers"] and after["iteration"] == before["iteration"]
    assert after["updated_at"] == before["updated_at"]


def test_chosen_parameters_range_and_learning_rate(make):
    net = make({"dataset": {"name": "xor"}, "hidden": [2]})
    answer = net.post("/surface", {"parameters": [[0, "W", 1, 0], [1, "b", 0]],
                                   "range": [[-1, 1], [-2, 2]], "resolution": 5,
                                   "epochs": 2, "learning_rate": 0.25, "seed": 7,
                                   "minibatch": 3})
    assert [p["name"] for p in answer["parameters"]] == ["W^1[1,0]", "b^2[0]"]
    assert answer["range"] == [[-1, 1], [-2, 2]]
    assert answer["learning_rate"] == 0.25 and answer["seed"] == 7
    assert {p["mode"]: p["batch_size"] for p in answer["paths"]}["minibatch"] == 3


@pytest.mark.parametrize(("parameters", "words"), [
    ([[0, "W", 0, 2], [0, "b", 0]], "j must be from 0 to 1"),
    ([[0, "W", 1, 0], [0, "b", 0]], "i must be from 0 to 0"),
    ([[2, "W", 0, 0], [0, "b", 0]], "layer 2 does not exist"),
    ([[0, "b", 0], [0, "b", 0]], "two different parameters"),
])
def test_parameters_that_do_not_fit_are_refused_with_a_sentence(make, parameters, words):
    net = make(AND_SIGMOID)
    r = net.client.post(net.url + "/surface", json={"parameters": parameters})
    assert r.status_code == 422
    assert words in r.json()["detail"].lower()


def test_over_the_budget_is_a_413_that_says_what_fits(make):
    net = make({"dataset": {"name": "circle", "n_samples": 2000}, "hidden": [8, 8]})
    r = net.client.post(net.url + "/surface", json={"resolution": 200, "epochs": 50})
    assert r.status_code == 413
    detail = r.json()["detail"]
    assert "one request may do" in detail and "resolution 41 with" in detail
    r = net.client.post(net.url + "/surface", json={"resolution": 500})
    assert r.status_code == 422 and "from 2 to 200" in r.json()["detail"]


def test_a_diverging_path_is_cut_short_with_a_flag_and_no_nan(make):
    net = make({"dataset": {"name": "plane", "n_samples": 40}, "hidden": [],
                "activations": ["linear"], "learning_rate": 50.0})
    r = net.client.post(net.url + "/surface", json={"resolution": 5, "epochs": 200,
                                                    "range": [[-1, 1], [-1, 1]]})
    assert r.status_code == 200
    assert "NaN" not in r.text and "Infinity" not in r.text
    answer = json.loads(r.text)
    assert any(p["diverged"] for p in answer["paths"])
    for p in answer["paths"]:
        if p["diverged"]:
            assert "learning rate" in p["message"] and p["updates"] < 200 * 40
        assert np.isfinite(np.array(p["points"], dtype=float)).all()
        assert all(v is not None for v in p["J"])


def test_anyone_who_can_watch_can_ask(make, client):
    net = make(AND_SIGMOID)
    r = client.post(net.url + "/surface", json={"resolution": 3, "epochs": 1})
    assert r.status_code == 200
