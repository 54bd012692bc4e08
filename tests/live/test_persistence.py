"""The real SQLite file across restarts of the real server, gentle and brutal."""

import signal
import sqlite3
import time

import httpx
import pytest

from tests.conftest import start_server

pytestmark = pytest.mark.server
GRACEFUL = (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has shut down cleanly


def create(server, body: dict) -> tuple[str, dict]:
    answer = httpx.post(server.url + "/api/networks", json=body).json()
    return answer["id"], {"Authorization": "Bearer " + answer["token"]}


def test_a_restart_brings_every_network_back(tmp_path):
    db, log = tmp_path / "playground.db", tmp_path / "server.log"
    server = start_server(db, log)
    made = {}
    for body in ({}, {"dataset": {"name": "xor"}, "hidden": [3]},
                 {"dataset": {"points": [[0, 0, 0], [1, 1, 1], [2, 0, 1]]}, "hidden": []}):
        network_id, owner = create(server, body)
        httpx.post(f"{server.url}/api/networks/{network_id}/step", json={"epochs": 3},
                   headers=owner)
        made[network_id] = (owner, {path: httpx.get(
            f"{server.url}/api/networks/{network_id}{path}").json()
            for path in ("", "/history", "/data")})
    assert server.stop() in GRACEFUL
    server = start_server(db, log, port=int(server.url.rsplit(":", 1)[1]))
    for network_id, (owner, before) in made.items():
        for path, saved in before.items():
            now = httpx.get(f"{server.url}/api/networks/{network_id}{path}").json()
            if path == "":
                now.pop("updated_at"), saved.pop("updated_at")
            assert now == saved, path
        r = httpx.post(f"{server.url}/api/networks/{network_id}/step",
                       json={"iterations": 1}, headers=owner)
        assert r.status_code == 200  # the token still owns it
    server.stop()
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_kill_9_right_after_an_answered_write_loses_nothing(tmp_path):
    db, log = tmp_path / "playground.db", tmp_path / "server.log"
    server = start_server(db, log)
    network_id, owner = create(server, {"dataset": {"name": "and"}, "rule": "perceptron"})
    url = f"{server.url}/api/networks/{network_id}"
    r = httpx.put(url + "/parameters", json={"layers": [{"W": [[1, 1]], "b": [-1.5]}]},
                  headers=owner)
    assert r.status_code == 200
    patched = httpx.patch(url, json={"learning_rate": 0.25}, headers=owner)
    assert patched.status_code == 200
    server.stop("kill")
    server = start_server(db, log)
    state = httpx.get(f"{server.url}/api/networks/{network_id}").json()
    assert state["layers"][0]["W"] == [[1, 1]] and state["layers"][0]["b"] == [-1.5]
    assert state["spec"]["learning_rate"] == 0.25
    server.stop()
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_run_killed_mid_training_comes_back_stopped_from_its_last_checkpoint(tmp_path):
    db, log = tmp_path / "playground.db", tmp_path / "server.log"
    server = start_server(db, log, env={"PLAYGROUND_CHECKPOINT_SECONDS": "0.2"})
    network_id, owner = create(server, {"dataset": {"name": "circle"}})
    url = f"{server.url}/api/networks/{network_id}"
    httpx.post(url + "/train", json={"epochs": 1_000_000, "max_epochs_per_second": 200},
               headers=owner)
    time.sleep(1.0)
    before_kill = httpx.get(url).json()["epoch"]
    server.stop("kill")
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    server = start_server(db, log)
    state = httpx.get(f"{server.url}/api/networks/{network_id}").json()
    assert state["status"] == "idle"
    assert state["last_run"]["reason"] == "server restarted"
    assert 0 < state["epoch"] <= before_kill + 100
    assert before_kill - state["epoch"] <= 200 * 0.2 * 3  # no older than its last checkpoint
    r = httpx.post(f"{server.url}/api/networks/{network_id}/step", json={"iterations": 1},
                   headers=owner)
    assert r.status_code == 200
    server.stop()


def test_sigterm_during_training_with_open_streams_checkpoints_and_exits(tmp_path):
    db, log = tmp_path / "playground.db", tmp_path / "server.log"
    server = start_server(db, log)
    network_id, owner = create(server, {"dataset": {"name": "spiral"}})
    url = f"{server.url}/api/networks/{network_id}"
    httpx.post(url + "/train", json={"epochs": 1_000_000}, headers=owner)
    clients = [httpx.Client(timeout=10) for _ in range(3)]
    streams = [c.stream("GET", url + "/events").__enter__() for c in clients]
    time.sleep(0.5)
    started = time.monotonic()
    assert server.stop() in GRACEFUL
    assert time.monotonic() - started < 5
    for c in clients:
        c.close()
    server = start_server(db, log)
    state = httpx.get(f"{server.url}/api/networks/{network_id}").json()
    assert state["epoch"] > 0 and state["last_run"]["reason"] == "server stopped"
    server.stop()
    del streams
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
