"""kill -9 of the real server while it trains, streams and answers writes, twice in a row on
the same SQLite file: nothing acknowledged is lost, every training run comes back from a
checkpoint no older than about 2 seconds (the default ``checkpoint_seconds``), and the file
passes ``PRAGMA integrity_check`` as the crash left it and after each restart.

(tests/live/test_persistence.py has the gentle restart, the kill right after one write, and
SIGTERM with open streams; this one crashes a busy server.)
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from urllib.parse import urlsplit

import httpx
import pytest

from backend.settings import Settings
from tests.conftest import start_server

pytestmark = pytest.mark.server
CHECKPOINT = Settings().checkpoint_seconds  # the default: 2 s
SLACK = 1.0  # seconds of scheduling on a busy 2-core machine, on top of the checkpoint period
RATE = 100  # epochs per second of the runs (max_epochs_per_second)
CREATES = 15  # networks the writer makes per cycle (each is read back after the restart)


def integrity(db) -> str:
    with sqlite3.connect(db) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


class Writer(threading.Thread):
    """Creates networks (up to CREATES) and changes one, as fast as answers come, until the
    server dies; keeps what was acknowledged."""

    def __init__(self, url: str, target: str, owner: dict):
        super().__init__(daemon=True)
        self.url, self.target, self.owner = url, target, owner
        self.created: list[str] = []
        self.learning_rate: float | None = None  # the last one acknowledged
        self.in_flight: float | None = None  # sent, perhaps stored, never answered

    def run(self) -> None:
        with httpx.Client(timeout=5) as client:
            for i in range(2_000):  # bounded: the server is killed long before
                try:
                    if i % 4 == 1 and len(self.created) < CREATES:
                        r = client.post(self.url + "/api/networks",
                                        json={"dataset": {"name": "xor"}, "hidden": [2]})
                        if r.status_code == 201:
                            self.created.append(r.json()["id"])
                    else:
                        rate = self.in_flight = round(0.001 + i / 10_000, 4)
                        r = client.patch(self.target, json={"learning_rate": rate},
                                         headers=self.owner)
                        if r.status_code == 200:
                            self.learning_rate = rate
                except httpx.HTTPError:
                    return


def create(url: str, body: dict) -> tuple[str, dict]:
    answer = httpx.post(url + "/api/networks", json=body).json()
    return answer["id"], {"Authorization": f"Bearer {answer['token']}"}


def epochs(server, runs) -> dict[str, int]:
    return {i: httpx.get(f"{server.url}/api/networks/{i}").json()["epoch"] for i, _ in runs}


def test_kill_9_of_a_busy_server_twice_loses_nothing_acknowledged(tmp_path):
    db, log = tmp_path / "playground.db", tmp_path / "server.log"
    server = start_server(db, log)
    try:
        address = (urlsplit(server.url).hostname, urlsplit(server.url).port)
        runs = [create(server.url, {"dataset": {"name": name}, "hidden": [6]})
                for name in ("circle", "moons", "spiral")]
        target, target_owner = create(server.url, {"dataset": {"name": "xor"}})
        acknowledged: set[str] = {network_id for network_id, _ in runs} | {target}

        for cycle in range(2):
            for network_id, owner in runs:
                r = httpx.post(f"{server.url}/api/networks/{network_id}/train",
                               json={"epochs": 1_000_000, "max_epochs_per_second": RATE},
                               headers=owner)
                assert r.status_code == 202, r.text
            viewer = socket.create_connection(address, timeout=5)  # a stream open at the kill
            viewer.sendall(f"GET /api/networks/{runs[0][0]}/events?boundary=30 HTTP/1.1\r\n"
                           f"Host: {address[0]}\r\n\r\n".encode())
            writer = Writer(server.url, f"{server.url}/api/networks/{target}", target_owner)
            writer.start()
            time.sleep(CHECKPOINT + 0.6)  # at least one checkpoint after the run's start
            first = epochs(server, runs)
            started = time.monotonic()
            time.sleep(0.5)
            last = epochs(server, runs)
            rates = {i: (last[i] - first[i]) / (time.monotonic() - started) for i in first}
            server.stop("kill")
            writer.join(10)
            viewer.close()
            acknowledged |= set(writer.created)
            assert writer.created and writer.learning_rate is not None  # it was busy when killed
            assert integrity(db) == "ok"  # the file as the crash left it

            server = start_server(db, log, port=address[1])
            for network_id in acknowledged:
                r = httpx.get(f"{server.url}/api/networks/{network_id}")
                assert r.status_code == 200, (cycle, network_id, r.text)
            state = httpx.get(f"{server.url}/api/networks/{target}").json()
            assert state["spec"]["learning_rate"] in (writer.learning_rate, writer.in_flight)
            for network_id, _ in runs:
                state = httpx.get(f"{server.url}/api/networks/{network_id}").json()
                assert state["status"] == "idle"
                assert state["last_run"]["reason"] == "server restarted"
                rate = max(rates[network_id], 1.0)
                # No older than its last checkpoint, and never newer than when it was killed.
                assert state["epoch"] >= last[network_id] - rate * (CHECKPOINT + SLACK), \
                    (cycle, last[network_id], state["epoch"], rate)
                assert state["epoch"] <= last[network_id] + rate * SLACK
                assert state["epoch"] > 0
            assert integrity(db) == "ok"
    finally:  # never leave a server behind, even when an assertion failed
        server.stop()
    assert integrity(db) == "ok"
