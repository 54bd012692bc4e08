"""The Ray engine's faults: a host's process killed mid-run, an API replica killed while its
viewers follow a run. Real servers on real ports, a real Ray cluster."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest

from backend.services.networks import host_of
from tests.conftest import start_server
from tests.live.sse import Follower
from tests.raycluster import processes_titled, start_head

pytestmark = [pytest.mark.server, pytest.mark.parametrize("engine", ["ray"], indirect=True)]


def create(url: str, body: dict) -> tuple[str, dict]:
    r = httpx.post(url + "/api/networks", json=body, timeout=30)
    assert r.status_code == 201, r.text
    answer = r.json()
    return f"{url}/api/networks/{answer['id']}", {"Authorization": f"Bearer {answer['token']}"}


def wait_until(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = condition()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {seconds} s")


def test_a_host_killed_mid_run_brings_its_networks_back_from_the_store(tmp_path, engine):
    server = start_server(tmp_path / "playground.db", tmp_path / "server.log", engine="ray",
                          env={"PLAYGROUND_CHECKPOINT_SECONDS": "0.5"})
    try:
        url, owner = create(server.url, {"dataset": {"name": "circle"}, "hidden": [6]})
        others = [create(server.url, {"dataset": {"name": "xor"}}) for _ in range(3)]
        viewer = Follower(url, may_drop=True)
        viewer.wait_for("snapshot")
        assert httpx.post(url + "/train", json={"epochs": 1_000_000, "max_epochs_per_second":
                                                200}, headers=owner).status_code == 202
        time.sleep(1.5)  # checkpoints were saved
        before = httpx.get(url).json()["epoch"]
        hosts = processes_titled("ray::Host", under=server.process.pid)
        assert len(hosts) == 2, hosts  # one per core of this machine
        killed = time.monotonic()
        for pid in hosts:
            os.kill(pid, signal.SIGKILL)

        state = wait_until(lambda: (r := httpx.get(url, timeout=5)).status_code == 200
                           and r.json(), 20, "the network back")
        back_after = time.monotonic() - killed
        assert state["status"] == "idle" and state["last_run"]["reason"] == "server restarted"
        # What the last checkpoint (every 0.5 s) had: at most 2 s of training lost.
        assert state["epoch"] >= before - 200 * 2
        for other_url, _ in others:
            assert httpx.get(other_url).status_code == 200
        assert back_after < 20
        assert set(processes_titled("ray::Host", under=server.process.pid)) & set(hosts) == set()

        # The stream of the old host ended; a new one works, and so does the next run.
        wait_until(lambda: viewer.ended, 10, "the old stream to end")
        again = Follower(url)
        again.wait_for("snapshot")
        assert httpx.post(url + "/train", json={"epochs": 300, "max_epochs_per_second": 300},
                          headers=owner).status_code == 202
        done = again.wait_for("done")[0]
        assert done["reason"] == "finished" and again.of("progress")
        r = httpx.patch(url, json={"learning_rate": 0.05}, headers=owner)
        assert r.status_code == 200 and r.json()["spec"]["learning_rate"] == 0.05
    finally:
        server.stop(timeout=30)


def test_any_replica_serves_any_network_and_viewers_move_on_when_one_dies(tmp_path, engine):
    head = start_head(tmp_path / "head.log")
    replicas = []
    try:
        for name in ("a", "b"):
            replicas.append(start_server(tmp_path / "playground.db", tmp_path / f"{name}.log",
                                         engine="ray", ray_address=head.address,
                                         env=head.env))
        a, b = replicas
        url, owner = create(a.url, {"dataset": {"name": "spiral"}, "hidden": [8]})
        path = url.removeprefix(a.url)
        # Made through a, changed through b, read through both alike.
        assert httpx.patch(b.url + path, json={"learning_rate": 0.2},
                           headers=owner).status_code == 200
        assert httpx.get(a.url + path).json()["spec"]["learning_rate"] == 0.2
        on_a, on_b = Follower(a.url + path, may_drop=True), Follower(b.url + path)
        on_a.wait_for("snapshot")
        on_b.wait_for("snapshot")
        assert httpx.post(b.url + path + "/train", json={"epochs": 1_000_000,
                                                       "max_epochs_per_second": 100},
                          headers=owner).status_code == 202
        on_a.next("progress")
        on_b.next("progress")

        a.stop("kill")
        wait_until(lambda: on_a.ended, 10, "the stream of the dead replica to end")
        # The run goes on in its host; the viewer, back through the replica that answers,
        # finds it there.
        moved = Follower(b.url + path)
        first = moved.wait_for("snapshot")[0]
        assert first["status"] == "training"
        mark = moved.mark()
        assert moved.next("progress", after=mark)["epoch"] > first["epoch"]
        assert httpx.post(b.url + path + "/stop", headers=owner).json()["status"] == "idle"
    finally:
        for replica in replicas:
            replica.stop(timeout=30)
        head.stop()


def test_a_class_of_forks_spreads_over_the_hosts_and_its_teacher_sees_all(ray_server, engine):
    url, owner = create(ray_server.url, {"dataset": {"name": "xor"}, "hidden": [3]})
    forks = []
    for i in range(16):
        r = httpx.post(url + "/fork", json={"name": f"student {i}"})
        assert r.status_code == 201, r.text
        forks.append(r.json())
    # Each fork lives at the host its id falls to, not all at the parent's.
    assert {host_of(f["id"], 2) for f in forks} == {0, 1}
    student = f"{ray_server.url}/api/networks/{forks[0]['id']}"
    assert httpx.post(student + "/step", json={"epochs": 3}, headers={
        "Authorization": f"Bearer {forks[0]['token']}"}).json()["epoch"] == 3
    listed = httpx.get(url + "/forks", headers=owner).json()["forks"]  # from both hosts
    assert sorted(f["name"] for f in listed) == sorted(f"student {i}" for i in range(16))
    assert {f["id"]: f["epoch"] for f in listed}[forks[0]["id"]] == 3
    assert all(f["thumbnail"] is not None for f in listed)
