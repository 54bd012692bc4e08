"""The REST contract in-process: create, read, change, copy, delete, and every refusal."""

import base64
import json
import time

import numpy as np
import pytest

WORKED_EXAMPLE = {"layers": [{"W": [[1, 1], [1, 1]], "b": [0, 0]}, {"W": [[1, 1]], "b": [0]}]}


def test_empty_body_creates_a_working_default_network(make):
    net = make()
    state = net.answer["network"]
    assert state["spec"] == {
        "dataset": {"name": "circle", "n_samples": 200, "noise": 0.1, "train_fraction": 0.5,
                    "seed": 1},
        "features": ["x1", "x2"], "hidden": [4, 2], "activation": "tanh",
        "output_activation": "sigmoid", "activations": ["tanh", "tanh", "sigmoid"],
        "rule": "backprop", "learning_rate": 0.1, "batch": {"mode": "minibatch", "size": 10},
        "regularization": {"kind": "none", "rate": 0.0}, "init": {"scheme": "xavier", "seed": 0},
    }
    assert state["sizes"] == [2, 4, 2, 1]
    assert [np.shape(layer["W"]) for layer in state["layers"]] == [(4, 2), (2, 4), (1, 2)]
    assert [layer["activation"] for layer in state["layers"]] == ["tanh", "tanh", "sigmoid"]
    assert state["status"] == "idle" and state["epoch"] == 0 and state["iteration"] == 0
    assert 0 < state["metrics"]["train_loss"] < 1 and state["warnings"] == []
    assert len(net.id) == 32 and len(net.answer["token"]) >= 32
    data = net.get("/data")
    assert len(data["train"]["x"]) == 100 and len(data["test"]["x"]) == 100
    assert net.get() == {**state, "updated_at": net.get()["updated_at"]}


def test_logic_sets_are_four_points_all_for_training(make):
    data = make({"dataset": {"name": "xor", "n_samples": 500}}).get("/data")
    assert data["train"]["x"] == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert data["train"]["y"] == [0, 1, 1, 0] and data["test"]["x"] == []


@pytest.mark.parametrize(("body", "words"), [
    ({"rule": "perceptron", "hidden": [3]}, "perceptron rule trains a single-layer network"),
    ({"rule": "perceptron", "output_activation": "sigmoid"}, "hardlim or hardlims output"),
    ({"rule": "perceptron", "batch": {"mode": "batch"}}, "updates after every sample"),
    ({"rule": "perceptron", "batch": {"mode": "minibatch", "size": 4}},
     "got 'minibatch' of size 4"),
    ({"hidden": [3], "activations": ["tanh"]}, "one activation per layer"),
    ({"hidden": [100]}, "At most 64 neurons per layer"),
    ({"hidden": [2] * 9}, "At most 8 hidden layers"),
    ({"dataset": {"name": "circle", "n_samples": 20000}}, "At most 10000 samples"),
    ({"dataset": {"points": [[0, 0, 0], [1, 1, 2.5]], "task": "classification"}},
     "classification labels must be 0..K-1"),
])
def test_combinations_that_cannot_work_are_422_with_a_sentence(client, body, words):
    r = client.post("/api/networks", json=body)
    assert r.status_code == 422
    assert words.lower() in r.json()["detail"].lower()


@pytest.mark.parametrize("raw", [
    b'{"learning_rate": NaN}', b'{"learning_rate": Infinity}', b'{"learning_rate": "fast"}',
    b'{"hidden": [0]}', b'{"hidden": "4,2"}', b'{"bogus": 1}', b'{"activation": "softmax"}',
    b'{"dataset": {"name": "xor", "points": [[0, 0, 1]]}}', b'{"features": []}',
    b'{"batch": {"mode": "sometimes"}}', b'[1, 2]', b'{"dataset": {"name": "mnist"}}',
])
def test_shape_errors_are_422_and_never_echo_nan(client, raw):
    r = client.post("/api/networks", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422
    json.loads(r.text, parse_constant=lambda c: pytest.fail(f"{c} in the answer"))
    assert r.json()["detail"]


def test_k_classes_get_one_output_each(make):
    points = [[0, 0, 0], [1, 0, 1], [0, 1, 2], [1, 1, 2], [2, 2, 1]]
    net = make({"dataset": {"points": points}, "hidden": [3]})
    state = net.answer["network"]
    assert state["sizes"] == [2, 3, 3] and state["classes"] == 3
    assert net.post("/predict", {"x": [[0, 0]]})["classes"][0] in (0, 1, 2)


def test_hardlim_backprop_is_allowed_with_a_warning_and_training_says_why(make):
    net = make({"dataset": {"name": "xor"}, "hidden": [2], "activation": "hardlim",
                "output_activation": "hardlim"})
    assert net.answer["warnings"] and "derivative is 0" in net.answer["warnings"][0]
    assert net.get()["warnings"] == net.answer["warnings"]
    r = net.client.post(net.url + "/step", json={"epochs": 1}, headers=net.headers)
    assert r.status_code == 409 and "cannot train any of its layers" in r.json()["detail"]
    r = net.client.post(net.url + "/train", json={"epochs": 5}, headers=net.headers)
    assert r.status_code == 409


def test_worked_example_through_forward_backward_update(make):
    net = make({"dataset": {"name": "and"}, "hidden": [2], "activations": ["relu", "linear"],
                "learning_rate": 0.1})
    net.put("/parameters", WORKED_EXAMPLE)
    fwd = net.post("/forward", {"x": [[1, 1]], "y": [[0]]})
    assert fwd["x"] == [[1, 1]] and fwd["indices"] is None
    assert fwd["layers"][0] == {"n": [[2, 2]], "a": [[2, 2]]}
    assert fwd["output"] == [[4]]
    bwd = net.post("/backward", {})
    assert bwd["loss"] == 16
    assert bwd["layers"][1] == {"s": [[8]], "fdot": [[1]]}
    assert bwd["layers"][0] == {"s": [[8, 8]], "fdot": [[1, 1]]}
    upd = net.post("/update", {})
    rounded = [{k: np.round(v, 12).tolist() for k, v in layer.items()} for layer in upd["layers"]]
    assert rounded[0]["W"] == [[0.2, 0.2], [0.2, 0.2]] and rounded[0]["b"] == [-0.8, -0.8]
    assert rounded[1]["W"] == [[-0.6, -0.6]] and rounded[1]["b"] == [-0.8]
    assert rounded[1]["dW"] == [[-1.6, -1.6]] and rounded[1]["db"] == [-0.8]
    assert upd["iteration"] == 1 and upd["epoch"] == 0


def test_steps_out_of_order_are_409_naming_the_next(make):
    net = make()
    for path, expected in (("/backward", "forward"), ("/update", "forward")):
        r = net.client.post(net.url + path, json={}, headers=net.headers)
        assert r.status_code == 409 and r.json()["next_step"] == expected
        assert "next step is forward" in r.json()["detail"]
    fwd = net.post("/forward", {})
    assert len(fwd["indices"]) == 10 and len(fwd["y"]) == 10  # the mini-batch of the mode
    r = net.client.post(net.url + "/forward", json={}, headers=net.headers)
    assert r.status_code == 409 and r.json()["next_step"] == "backward"
    r = net.client.post(net.url + "/update", json={}, headers=net.headers)
    assert r.status_code == 409 and r.json()["next_step"] == "backward"
    net.post("/backward")
    r = net.client.post(net.url + "/step", json={"iterations": 1}, headers=net.headers)
    assert r.status_code == 409 and r.json()["next_step"] == "update"
    net.post("/update")
    assert net.get()["iteration"] == 1 and net.get()["next_step"] == "forward"


def test_perceptron_backward_is_the_error(make):
    net = make({"dataset": {"name": "and"}, "rule": "perceptron", "learning_rate": 1})
    net.post("/forward", {"x": [[1, 1]], "y": [[0]]})  # zeros: yhat = hardlim(0) = 1
    bwd = net.post("/backward")
    assert bwd["layers"] == [{"e": [[-1]]}] and bwd["errors"] == 1
    assert net.post("/update")["layers"][0]["W"] == [[-1, -1]]


def test_the_perceptron_rule_takes_one_sample_at_a_time(make):
    """The lecture's rule, never a batch mean: batches refused (create, PATCH, a forward of
    several points with their targets), a mini-batch of one accepted, as stochastic is."""
    net = make({"dataset": {"name": "and"}, "rule": "perceptron", "learning_rate": 1})
    assert net.get()["spec"]["batch"]["mode"] == "stochastic"
    refused = net.client.patch(net.url, json={"batch": {"mode": "batch"}}, headers=net.headers)
    assert refused.status_code == 422 and "'stochastic'" in refused.json()["detail"]
    assert net.get()["spec"]["batch"]["mode"] == "stochastic"  # nothing changed
    net.patch({"batch": {"mode": "minibatch", "size": 1}})
    r = net.client.post(net.url + "/forward", json={"x": [[0, 0], [1, 1]], "y": [[0], [1]]},
                        headers=net.headers)
    assert r.status_code == 422 and "one sample at a time" in r.json()["detail"]
    look = net.post("/forward", {"x": [[0, 0], [1, 1]]})  # several points without y: a look
    assert len(look["layers"][0]["a"]) == 2
    make({"dataset": {"name": "or"}, "rule": "perceptron",
          "batch": {"mode": "minibatch", "size": 1}})


def test_step_counts_and_refuses_zero(make):
    net = make({"dataset": {"name": "circle", "n_samples": 100, "train_fraction": 0.5}})
    assert net.post("/step", {"iterations": 3})["iteration"] == 3
    state = net.post("/step", {"epochs": 2})
    assert state["epoch"] == 2 and state["iteration"] == 10  # ceil(50 / 10) per epoch
    for body in ({"iterations": 0}, {"epochs": 0}, {}, {"iterations": 1, "epochs": 1}):
        net.post("/step", body, expect=422)


@pytest.mark.both_stores
def test_patch_changes_hyperparameters_and_keeps_weights(make):
    net = make()
    before = net.get()["layers"]
    state = net.patch({"learning_rate": 0.03, "batch": {"mode": "stochastic"},
                       "regularization": {"kind": "l2", "rate": 0.001}})
    assert state["spec"]["learning_rate"] == 0.03 and state["spec"]["batch"]["mode"] == \
        "stochastic" and state["spec"]["regularization"] == {"kind": "l2", "rate": 0.001}
    assert state["layers"] == before
    net.patch({"learning_rate": -1}, expect=422)
    net.patch({"rule": "perceptron"}, expect=422)
    net.patch({"hidden": [3]}, expect=422)
    assert net.post("/step", {"epochs": 1})["iteration"] == 100


@pytest.mark.both_stores
def test_reset_replays_with_the_same_seed(make):
    net = make()
    initial = net.get()["layers"]
    net.post("/step", {"epochs": 3})
    state = net.post("/reset", {})
    assert state["layers"] == initial and state["epoch"] == 0
    assert net.get("/history")["epoch"] == [0]
    assert net.post("/reset", {"seed": 7})["layers"] != initial
    assert net.get()["spec"]["init"]["seed"] == 7


def test_history_is_columns_per_epoch(make):
    net = make()
    net.post("/step", {"epochs": 4})
    h = net.get("/history")
    assert h["epoch"] == [0, 1, 2, 3, 4]
    assert len(h["train_loss"]) == len(h["test_accuracy"]) == 5
    assert h["train_loss"][-1] < h["train_loss"][0]


def decode(grid: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(grid["data"]), "<f4").reshape(grid["shape"])


def test_boundary_is_base64_float32_image_order(make):
    net = make({"dataset": {"name": "xor"}, "hidden": [], "activations": ["linear"],
                "features": ["x1", "x2"]})
    net.put("/parameters", {"layers": [{"W": [[1, 0]], "b": [0]}]})  # output = x1
    b = net.get("/boundary", resolution=5)
    out = decode(b["output"])
    assert b["output"]["shape"] == [1, 5, 5] and b["domain"]["x1"] == [-0.5, 1.5]
    assert np.allclose(out[0, 0], [-0.5, 0, 0.5, 1, 1.5])  # columns: x1 left to right
    net.put("/parameters", {"layers": [{"W": [[0, 1]], "b": [0]}]})  # output = x2
    out = decode(net.get("/boundary", resolution=5)["output"])
    assert np.allclose(out[0, :, 0], [1.5, 1, 0.5, 0, -0.5])  # rows: x2 top to bottom
    full = net.get("/boundary", resolution=3, neurons="true")
    assert [n["shape"] for n in full["neurons"]] == [[2, 3, 3], [1, 3, 3]]
    for r in (1, 201):
        net.get("/boundary", expect=422, resolution=r)


def test_boundary_in_uint8_and_small_neuron_grids(make):
    net = make({"dataset": {"name": "circle"}, "hidden": [3]})
    exact = net.get("/boundary", resolution=40, neurons="true")
    small = net.get("/boundary", resolution=40, neurons="true", neuron_resolution=10,
                    encoding="uint8")
    assert small["neuron_resolution"] == 10
    assert [n["shape"] for n in small["neurons"]] == [[2, 10, 10], [3, 10, 10], [1, 10, 10]]
    out = small["output"]
    codes = np.frombuffer(base64.b64decode(out["data"]), np.uint8).reshape(out["shape"])
    lo, hi = out["lo"][0], out["hi"][0]
    approx = lo + (hi - lo) * codes / 255.0
    assert np.abs(approx - decode(exact["output"])).max() <= (hi - lo) / 255
    net.get("/boundary", expect=422, encoding="png")


def test_the_boundary_follows_every_change_of_the_weights(make):
    """The page's grids after each of its steps: the same answer while no weight changed
    (forward, backward, a new learning rate; kept, not drawn again), a new one after an update,
    a step, a run, a reset or weights set by hand, always what the weights draw."""
    net = make({"dataset": {"name": "circle"}, "hidden": [3, 2]})
    page = {"resolution": 30, "neurons": "true", "neuron_resolution": 10}

    def grids():
        answer = net.client.get(net.url + "/boundary", params=page)
        assert answer.status_code == 200 and answer.headers["content-type"] == \
            "application/json"
        return answer.content

    first = grids()
    for unchanged in (lambda: net.patch({"learning_rate": 0.3}),
                      lambda: net.post("/forward", {}), lambda: net.post("/backward", {})):
        unchanged()
        assert grids() == first
    seen = [first]
    for change in (lambda: net.post("/update", {}), lambda: net.post("/step", {"epochs": 2}),
                   lambda: net.post("/reset", {"seed": 9}),
                   lambda: net.put("/parameters", WORKED_EXAMPLE_3_2)):
        change()
        seen.append(grids())
        assert seen[-1] != seen[-2]
    answer = json.loads(seen[-1])
    output, domain = decode(answer["output"]), answer["domain"]
    x1, x2 = np.meshgrid(np.linspace(*domain["x1"], 30), np.linspace(*domain["x2"][::-1], 30))
    hidden = np.tanh(np.stack([x1 + x2, x1 - x2, 0 * x1]))  # W^1 of WORKED_EXAMPLE_3_2
    expected = 1 / (1 + np.exp(-np.tanh(hidden.sum(axis=0)) * 2))
    assert np.allclose(output[0], expected, atol=1e-5)


WORKED_EXAMPLE_3_2 = {"layers": [{"W": [[1, 1], [1, -1], [0, 0]], "b": [0, 0, 0]},
                                 {"W": [[1, 1, 1], [1, 1, 1]], "b": [0, 0]},
                                 {"W": [[1, 1]], "b": [0]}]}


def test_predict_gives_outputs_and_classes(make):
    net = make({"dataset": {"name": "and"}, "rule": "perceptron"})
    net.put("/parameters", {"layers": [{"W": [[1, 1]], "b": [-1.5]}]})
    p = net.post("/predict", {"x": [[0, 0], [0, 1], [1, 0], [1, 1]]})
    assert p == {"y": [[0], [0], [0], [1]], "classes": [0, 0, 0, 1]}
    reg = make({"dataset": {"name": "plane"}})
    assert reg.post("/predict", {"x": [[1, 2]]})["classes"] is None


@pytest.mark.both_stores
def test_export_import_and_fork_copy_everything_with_new_ids(make, client):
    net = make({"dataset": {"name": "moons"}})
    net.post("/step", {"epochs": 2})
    document = net.get("/export")
    assert document["format"] == "nn-playground/1" and "data" in document
    imported = client.post("/api/networks/import", json=document)
    forked = client.post(net.url + "/fork")
    for r in (imported, forked):
        assert r.status_code == 201
        copy = r.json()
        assert copy["id"] != net.id and copy["token"] != net.answer["token"]
        assert copy["network"]["layers"] == net.get()["layers"]
        assert copy["network"]["epoch"] == 2
        assert client.get(f"/api/networks/{copy['id']}/history").json() == net.get("/history")
    bad = client.post("/api/networks/import", json={"format": "something else"})
    assert bad.status_code == 422 and "nn-playground/1" in bad.text


def test_put_parameters_checks_shapes(make):
    net = make({"hidden": [3]})
    r = net.client.put(net.url + "/parameters", headers=net.headers,
                       json={"layers": [{"W": [[1, 1]], "b": [0]}, {"W": [[1, 1, 1]], "b": [0]}]})
    assert r.status_code == 422 and "W^1 must be 3 x 2" in r.json()["detail"]
    r = net.client.put(net.url + "/parameters", headers=net.headers,
                       json={"layers": [{"W": [[1, 1]], "b": [0]}]})
    assert r.status_code == 422 and "Expected 2 layers" in r.json()["detail"]


@pytest.mark.both_stores
def test_delete_and_unknown_ids(make, client):
    net = make()
    r = client.delete(net.url, headers=net.headers)
    assert r.status_code == 204
    assert client.get(net.url).status_code == 404
    for url in ("/api/networks/nope", "/api/networks/" + "0" * 32 + "/history"):
        r = client.get(url)
        assert r.status_code == 404 and "No network with id" in r.json()["detail"]


def test_bodies_over_the_limit_are_413(client, settings):
    body = b'{"dataset": {"points": [' + b"[0, 0, 0]," * settings.max_body_bytes + b"]}}"
    r = client.post("/api/networks", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "larger than the limit" in r.json()["detail"]


def test_catalog_lists_choices_and_limits(client):
    c = client.get("/api/catalog").json()
    assert {a["name"] for a in c["activations"]} == {"hardlim", "hardlims", "relu", "linear",
                                                     "sigmoid", "tanh"}
    names = [d["name"] for d in c["datasets"]]
    for name in ("and", "or", "xor", "circle", "quadrants", "gaussians", "spiral", "moons",
                 "linear", "plane", "peaks"):
        assert name in names
    assert [f["name"] for f in c["features"]] == ["x1", "x2", "x1^2", "x2^2", "x1*x2",
                                                 "sin(x1)", "sin(x2)"]
    assert c["batch_modes"] == ["batch", "stochastic", "minibatch"]
    assert c["limits"]["hidden_layers"] >= 8 and c["limits"]["neurons_per_layer"] >= 64
    assert c["limits"]["samples"] >= 10000 and c["limits"]["epochs_per_run"] >= 1_000_000
    assert c["limits"]["boundary_resolution"] >= 200


@pytest.mark.parametrize("damage", [
    lambda d: d.pop("training"),
    lambda d: d["training"].update(order=[0, 0, 1]),
    lambda d: d["training"].update(cursor=10**6),
    lambda d: d["training"].update(rng={"bit_generator": "MT19937"}),
    lambda d: d["data"].update(train=[10**6]),
    lambda d: d["layers"][0].update(W=[[1.0]]),
    lambda d: d["spec"].update(hidden=[3, 3]),
    lambda d: d["training"]["history"].update(epoch=[0, 1]),
    lambda d: d["spec"].update(hidden=[100]),
])
def test_a_damaged_document_is_refused_with_a_sentence(make, client, damage):
    document = make({"dataset": {"name": "moons"}}).get("/export")
    damage(document)
    r = client.post("/api/networks/import", json=document)
    assert r.status_code == 422, r.text
    assert r.json()["detail"]


@pytest.mark.both_stores
def test_idle_networks_leave_memory_but_never_the_store(db):
    from fastapi.testclient import TestClient

    from backend.api.app import create_app
    from backend.settings import Settings

    with TestClient(create_app(Settings(db=db, max_memory_bytes=600_000)),
                    base_url="http://localhost") as c:
        ids = [c.post("/api/networks", json={"dataset": {"name": "xor"}}).json()["id"]
               for _ in range(5)]
        assert len(c.app.state.services.networks.entries()) == 2
        for network_id in ids:
            assert c.get(f"/api/networks/{network_id}").status_code == 200


def test_your_own_points_may_keep_the_plane_you_drew_them_on(make, client):
    points = [[0.5, 0.5, 1], [1, 1.5, 0]]
    net = make({"dataset": {"points": points, "domain": [[-6, 6], [-6, 6]]}, "hidden": []})
    assert net.get()["domain"] == {"x1": [-6, 6], "x2": [-6, 6]}
    assert net.get()["spec"]["dataset"]["domain"] == [[-6, 6], [-6, 6]]
    auto = make({"dataset": {"points": points}, "hidden": []}).get()
    assert auto["domain"]["x1"][0] > -6 and auto["spec"]["dataset"]["domain"] is None
    r = client.post("/api/networks", json={"dataset": {"points": points,
                                                       "domain": [[1, -1], [0, 1]]}})
    assert r.status_code == 422 and "lo < hi" in r.json()["detail"]


def test_neuron_maps_too_big_to_send_come_smaller_with_their_size_said(make, client):
    net = make({"hidden": [64] * 8})  # sizes 2-64x8-1: 515 maps with the inputs
    limit = client.get("/api/catalog").json()["limits"]["grid_values"]
    big = net.get("/boundary", resolution=200, neurons="true")
    r = big["neuron_resolution"]
    assert 8 <= r < 200
    assert 200**2 + 515 * r**2 <= limit < 200**2 + 515 * (r + 1) ** 2  # the largest that fits
    assert big["output"]["shape"] == [1, 200, 200]
    assert {tuple(n["shape"][1:]) for n in big["neurons"]} == {(r, r)}
    small = net.get("/boundary", resolution=200, neurons="true", neuron_resolution=32)
    assert small["neuron_resolution"] == 32 and len(small["neurons"]) == 10


def test_an_update_that_would_diverge_is_a_409_and_changes_nothing(make, client):
    net = make({"dataset": {"name": "circle"}, "hidden": [64] * 6, "activation": "linear",
                "output_activation": "linear", "learning_rate": 1e6})
    for _ in range(10):
        net.post("/forward", {})
        net.post("/backward")
        r = client.post(net.url + "/update", headers=net.headers)
        if r.status_code != 200:
            break
    assert r.status_code == 409 and "Diverged" in r.json()["detail"]
    before = net.get()
    assert before["next_step"] == "forward"  # the batch is over; the weights are the last good


def test_a_step_is_bounded_by_its_work_not_by_a_count(make, client):
    net = make({"dataset": {"name": "circle", "n_samples": 1000},
                "batch": {"mode": "stochastic"}})
    assert net.post("/step", {"epochs": 100})["epoch"] == 100  # 50,000 cheap iterations
    r = client.post(net.url + "/step", json={"epochs": 100_000}, headers=net.headers)
    assert r.status_code == 413
    detail = r.json()["detail"]
    assert "multiply-adds" in detail and f"(POST {net.url}/train)" in detail and "at most" in detail
    wide = make({"dataset": {"name": "circle", "n_samples": 1000}, "hidden": [64] * 4,
                 "batch": {"mode": "stochastic"}})
    r = client.post(wide.url + "/step", json={"epochs": 100}, headers=wide.headers)
    assert r.status_code == 413 and "epoch(s)" in r.json()["detail"]
    assert wide.get()["epoch"] == 0  # refused before anything was done


def test_a_refusal_names_the_operation_it_advises_with_this_networks_path(make, client):
    net = make({"dataset": {"name": "xor"}, "hidden": [3]})
    net.post("/train", {"epochs": 10**6}, expect=202)
    r = client.post(net.url + "/reset", headers=net.headers)
    assert r.status_code == 409
    assert r.json()["detail"] == ("This network is training: stop it first, then try again "
                                  f"(POST {net.url}/stop)")
    r = client.post(net.url + "/train", json={"epochs": 5}, headers=net.headers)
    assert r.status_code == 409
    assert r.json()["detail"].endswith(f"(POST {net.url}/stop; GET {net.url}/events)")
    net.post("/stop")


def test_a_reset_forgets_the_last_run(make):
    net = make({"dataset": {"name": "xor"}, "hidden": [3]})
    net.post("/step", {"epochs": 3})
    net.post("/train", {"epochs": 5}, expect=202)
    for _ in range(200):
        state = net.get()
        if state["status"] == "idle":
            break
        time.sleep(0.01)
    assert state["last_run"]["reason"] == "finished"
    assert net.post("/reset")["last_run"] is None
    assert net.get()["last_run"] is None
