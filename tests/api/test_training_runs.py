"""Background runs in-process: 202 at once, one run per network, stop, PATCH mid-run,
divergence kept out of JSON."""

import json
import time

import numpy as np
import pytest


def wait_idle(net, timeout=20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = net.get()
        if state["status"] == "idle" and state["last_run"]:
            return state
        time.sleep(0.02)
    pytest.fail("the run did not end")


def strict(text: str):
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))


def test_train_answers_202_then_finishes(make):
    net = make({"dataset": {"name": "xor"}, "hidden": [4], "learning_rate": 0.5})
    answer = net.post("/train", {"epochs": 500}, expect=202)
    assert answer["status"] in ("queued", "training")
    state = wait_idle(net)
    assert state["epoch"] == 500 and state["last_run"]["reason"] == "finished"
    assert state["metrics"]["train_accuracy"] == 1.0


def test_one_run_at_a_time_and_stop(make):
    net = make()
    net.post("/train", {"epochs": 1_000_000, "max_epochs_per_second": 50}, expect=202)
    r = net.client.post(net.url + "/train", json={"epochs": 5}, headers=net.headers)
    assert r.status_code == 409 and "already training" in r.json()["detail"]
    for path, body in (("/step", {"iterations": 1}), ("/forward", {}), ("/reset", {})):
        r = net.client.post(net.url + path, json=body, headers=net.headers)
        assert r.status_code == 409 and "training" in r.json()["detail"]
    state = net.patch({"learning_rate": 0.05})  # handed to the run, applied between epochs
    assert state["spec"]["learning_rate"] == 0.05
    time.sleep(0.2)
    stopped = net.post("/stop")
    assert stopped["status"] == "idle" and stopped["last_run"]["reason"] == "stopped"
    assert 0 < stopped["epoch"] < 1000
    epoch = stopped["epoch"]
    time.sleep(0.1)
    assert net.get()["epoch"] == epoch  # it really stopped
    net.post("/step", {"iterations": 1})  # and the network is free again


def test_perceptron_run_converges_or_says_why_not(make):
    for name, reason in (("and", "converged"), ("xor", "not_converged")):
        net = make({"dataset": {"name": name}, "rule": "perceptron", "learning_rate": 1})
        net.post("/train", {"epochs": 100}, expect=202)
        last = wait_idle(net)["last_run"]
        assert last["reason"] == reason and last["message"]
        errors = net.get("/history")["errors"]
        assert errors[0] is None and all(isinstance(e, int) for e in errors[1:])
        assert (errors[-1] == 0) == (reason == "converged")


def test_a_diverging_run_keeps_json_strict(make, client):
    net = make({"dataset": {"name": "plane"}, "hidden": [8], "activation": "relu",
                "learning_rate": 1000, "init": {"scheme": "uniform"}})
    net.post("/train", {"epochs": 1000}, expect=202)
    state = wait_idle(net)
    assert state["last_run"]["reason"] == "diverged"
    assert "learning rate" in state["last_run"]["message"]
    for path in ("", "/history", "/export", "/boundary?neurons=true"):
        strict(client.get(net.url + path).text)
    strict(client.post(net.url + "/predict", json={"x": [[1, 1]]}).text)


def test_a_diverging_step_is_refused_and_keeps_the_last_good_weights(make, client):
    net = make({"dataset": {"name": "plane"}, "hidden": [8], "activation": "linear",
                "learning_rate": 1e5})
    r = client.post(net.url + "/step", json={"epochs": 50}, headers=net.headers)
    assert r.status_code == 409 and "Diverged" in r.json()["detail"]
    state = strict(client.get(net.url).text)
    assert state["last_run"]["reason"] == "diverged"
    assert all(np.isfinite(np.asarray(layer["W"])).all() for layer in state["layers"])
    assert state["metrics"]["train_loss"] is not None  # the kept weights still compute
    strict(client.get(net.url + "/history").text)
    strict(client.get(net.url + "/export").text)


def test_a_queued_run_leaves_its_network_answering_and_stops_at_once(tmp_path):
    from fastapi.testclient import TestClient

    from backend.api.app import create_app
    from backend.settings import Settings
    from tests.api.conftest import Owned

    # One training thread, whose slices last long: the second run waits for the first's.
    with TestClient(create_app(Settings(db=str(tmp_path / "q.db"), max_concurrent_runs=1,
                                        run_slice_seconds=60)),
                    base_url="http://localhost") as client:
        busy, waiting = (Owned(client, client.post("/api/networks", json={}).json())
                         for _ in range(2))
        busy.post("/train", {"epochs": 10**6}, expect=202)
        time.sleep(0.1)  # its slice has begun
        assert waiting.post("/train", {"epochs": 10}, expect=202)["status"] == "queued"
        started = time.monotonic()
        assert waiting.get()["status"] == "queued"
        assert waiting.patch({"learning_rate": 0.5})["spec"]["learning_rate"] == 0.5
        stopped = waiting.post("/stop")
        assert stopped["status"] == "idle" and stopped["last_run"]["reason"] == "stopped"
        assert stopped["epoch"] == 0
        assert time.monotonic() - started < 5  # not a timing test: a hang takes 30 s
        busy.post("/stop")
        time.sleep(0.2)
        assert waiting.get()["epoch"] == 0  # the cancelled run never started
        waiting.post("/train", {"epochs": 3}, expect=202)
        assert wait_idle(waiting)["epoch"] == 3
