"""Streams through the real server on a real port, read with httpx."""

import base64
import time

import httpx
import numpy as np
import pytest

from tests.conftest import start_server
from tests.live.sse import Follower

pytestmark = [pytest.mark.server, pytest.mark.both_engines]


def create(server, body: dict) -> tuple[str, dict]:
    answer = httpx.post(server.url + "/api/networks", json=body).json()
    return server.url + "/api/networks/" + answer["id"], {
        "Authorization": "Bearer " + answer["token"]}


def test_a_viewer_gets_a_snapshot_then_progress_then_done(live_server):
    url, owner = create(live_server, {"dataset": {"name": "circle"}})
    viewer = Follower(url, "?boundary=20")
    snapshot = viewer.wait_for("snapshot")[0]
    assert snapshot["epoch"] == 0 and snapshot["status"] == "idle"
    r = httpx.post(url + "/train", json={"epochs": 400, "max_epochs_per_second": 1000},
                   headers=owner)
    assert r.status_code == 202
    done = viewer.wait_for("done")[0]
    assert done["reason"] == "finished" and done["epoch"] == 400
    progress = viewer.of("progress")
    epochs = [p["epoch"] for p in progress]
    assert len(progress) >= 3 and epochs == sorted(epochs) and epochs[-1] == 400
    assert progress[0]["epoch"] < 400  # events arrived while it trained
    times = [t for n, _, t in viewer.received if n == "progress"]
    assert len(progress) <= (times[-1] - times[0]) * 25 + 2  # about 20 a second at most
    grid = progress[-1]["boundary"]["output"]
    assert grid["shape"] == [1, 20, 20] and grid["dtype"] == "uint8"  # streams: compact
    codes = np.frombuffer(base64.b64decode(grid["data"]), np.uint8)
    assert codes.size == 400 and codes.min() == 0 and codes.max() == 255
    assert 0 <= grid["lo"][0] < grid["hi"][0] <= 1  # a sigmoid output
    history_epochs = [e for p in progress for e in p["history"]["epoch"]]
    assert history_epochs == sorted(set(history_epochs)) and history_epochs[-1] == 400
    viewer.close()


def test_the_stream_stays_open_across_runs_and_a_late_viewer_starts_right(live_server):
    url, owner = create(live_server, {"dataset": {"name": "xor"}, "hidden": [3]})
    early = Follower(url)
    early.wait_for("snapshot")
    httpx.post(url + "/train", json={"epochs": 50}, headers=owner)
    assert early.next("done")["epoch"] == 50
    late = Follower(url)
    state = late.wait_for("snapshot")[0]
    assert late.names()[0] == "snapshot"  # a stream opens with the state
    assert state["epoch"] == 50 and state["status"] == "idle"
    assert state["last_run"]["reason"] == "finished"
    # Waits are for the event meant, never a count: starting a run sends snapshots too.
    marks = {viewer: viewer.mark() for viewer in (early, late)}
    assert httpx.post(url + "/train", json={"epochs": 30}, headers=owner).status_code == 202
    for viewer in (early, late):
        done = viewer.next("done", after=marks[viewer])
        assert done["reason"] == "finished" and done["epoch"] == 80
    # A change outside a run reaches every viewer as a snapshot.
    marks = {viewer: viewer.mark() for viewer in (early, late)}
    reset = httpx.post(url + "/reset", json={}, headers=owner).json()
    assert reset["epoch"] == 0
    for viewer in (early, late):
        shown = viewer.next("snapshot", after=marks[viewer], where=lambda s: s["epoch"] == 0)
        assert shown["updated_at"] == reset["updated_at"] and shown["layers"] == reset["layers"]
        assert shown["iteration"] == 0 and shown["status"] == "idle"
    early.close()
    late.close()


def test_a_queued_run_shows_each_status_as_a_snapshot_in_order(tmp_path, engine):
    """The events docs/API.md lists for a run, in their order, on a server with one training
    thread held by another run (so that the run is sure to wait in the queue; on the Ray
    engine, one host holds every network)."""
    server = start_server(tmp_path / "playground.db", tmp_path / "server.log", engine=engine,
                          env={"PLAYGROUND_MAX_CONCURRENT_RUNS": "1",
                               "PLAYGROUND_RUN_SLICE_SECONDS": "60", "PLAYGROUND_HOSTS": "1"})
    try:
        busy_url, busy_owner = create(server, {"dataset": {"name": "spiral"}, "hidden": [8, 8]})
        assert httpx.post(busy_url + "/train", json={"epochs": 1_000_000},
                          headers=busy_owner).status_code == 202
        deadline = time.monotonic() + 20
        while httpx.get(busy_url).json()["status"] != "training":  # it has the thread now
            assert time.monotonic() < deadline, "the first run never started"
            time.sleep(0.01)
        url, owner = create(server, {"dataset": {"name": "xor"}, "hidden": [3]})
        cancelled_url, cancelled_owner = create(server, {"dataset": {"name": "and"}})
        viewer, other = Follower(url), Follower(cancelled_url)
        viewer.wait_for("snapshot")
        other.wait_for("snapshot")

        mark = viewer.mark()
        r = httpx.post(url + "/train", json={"epochs": 1000, "max_epochs_per_second": 40},
                       headers=owner)
        assert r.status_code == 202 and r.json()["status"] == "queued"
        queued = viewer.next("snapshot", after=mark)
        assert queued["status"] == "queued" and queued["epoch"] == 0

        # A run stopped in the queue ends there: its viewers get a done, and no snapshot.
        other_mark = other.mark()
        httpx.post(cancelled_url + "/train", json={"epochs": 10}, headers=cancelled_owner)
        assert other.next("snapshot", after=other_mark)["status"] == "queued"
        stopped = httpx.post(cancelled_url + "/stop", headers=cancelled_owner).json()
        assert stopped["status"] == "idle" and stopped["epoch"] == 0
        done = other.next("done", after=other_mark)
        assert done["reason"] == "stopped" and done["message"] == "Stopped before it started."
        assert [n for n, _ in other.since(other_mark)] == ["snapshot", "done"]

        # The thread is free: the run starts (a snapshot, "training", before any progress).
        httpx.post(busy_url + "/stop", headers=busy_owner)
        started = viewer.next("snapshot", after=mark, where=lambda s: s["status"] != "queued")
        assert started["status"] == "training" and started["epoch"] == 0
        viewer.next("progress", after=mark, where=lambda p: p["epoch"] >= 2)
        # A change during the run (handed to it between two epochs): a snapshot, "training".
        patched_mark = viewer.mark()
        assert httpx.patch(url, json={"learning_rate": 0.375},
                           headers=owner).status_code == 200
        patched = viewer.next("snapshot", after=patched_mark)
        assert patched["spec"]["learning_rate"] == 0.375 and patched["status"] == "training"
        stopped = httpx.post(url + "/stop", headers=owner).json()
        done = viewer.next("done", after=mark)
        assert done["reason"] == "stopped" and done["epoch"] == stopped["epoch"] > 0

        events = viewer.since(mark)
        names = [n for n, _ in events]
        run = events[:names.index("done") + 1]
        snapshots = [data["status"] for n, data in run if n == "snapshot"]
        assert snapshots == ["queued", "training", "training"]  # queued, started, patched
        first_progress = names.index("progress")
        assert names.index("snapshot") < first_progress
        assert [n for n, _ in run[:first_progress]] == ["snapshot", "snapshot"]
        progress = [data for n, data in run if n == "progress"]
        assert [p["epoch"] for p in progress] == sorted(p["epoch"] for p in progress)
        assert run[-2][0] == "progress" and run[-2][1]["epoch"] == done["epoch"]
        assert run[-2][1]["status"] == "idle"  # the run's last frame: it has ended
        assert all(p["status"] == "training" for p in progress[:-1])
        viewer.close()
        other.close()
    finally:
        server.stop()


def test_many_viewers_share_one_run_and_stop_ends_it(live_server):
    url, owner = create(live_server, {"dataset": {"name": "spiral"}, "hidden": [8, 8]})
    viewers = [Follower(url, "?boundary=30" if i % 2 else "") for i in range(12)]
    for v in viewers:
        v.wait_for("snapshot")
    httpx.post(url + "/train", json={"epochs": 1_000_000}, headers=owner)
    for v in viewers:
        v.wait_for("progress", count=3)
    stopped = httpx.post(url + "/stop", headers=owner).json()
    assert stopped["last_run"]["reason"] == "stopped"
    for i, v in enumerate(viewers):
        done = v.wait_for("done")[0]
        assert done["reason"] == "stopped" and done["epoch"] == stopped["epoch"]
        assert ("boundary" in v.of("progress")[-1]) == bool(i % 2)
        v.close()


def test_answers_stay_fast_while_networks_train(live_server):
    runs = [create(live_server, {"dataset": {"name": "circle"}, "hidden": [8, 8]})
            for _ in range(3)]
    for url, owner in runs:
        httpx.post(url + "/train", json={"epochs": 1_000_000}, headers=owner)
    time.sleep(0.3)
    url, owner = create(live_server, {"dataset": {"name": "xor"}})
    started = time.monotonic()
    for _ in range(20):
        assert httpx.post(url + "/step", json={"iterations": 1}, headers=owner).status_code == 200
    elapsed = time.monotonic() - started
    for run_url, run_owner in runs:
        httpx.post(run_url + "/stop", headers=run_owner)
    # Not a timing assertion on speed: a stalled event loop would take seconds per call.
    assert elapsed < 10


def test_viewers_are_sent_on_when_the_owner_replaces_the_network(live_server):
    old_url, owner = create(live_server, {"dataset": {"name": "xor"}})
    new_url, _ = create(live_server, {"dataset": {"name": "circle"}})
    new_id = new_url.rsplit("/", 1)[1]
    viewer = Follower(old_url)
    viewer.wait_for("snapshot")
    r = httpx.post(old_url + "/replaced", json={"by": new_id}, headers=owner)
    assert r.status_code == 200 and r.json()["replaced_by"] == new_id
    assert viewer.wait_for("replaced")[0] == {"id": old_url.rsplit("/", 1)[1], "by": new_id}
    assert httpx.get(old_url).json()["replaced_by"] == new_id  # for later visitors too
    assert httpx.post(old_url + "/replaced", json={"by": "nope"},
                      headers=owner).status_code == 404
    assert httpx.post(old_url + "/replaced", json={"by": new_id}).status_code == 401
    viewer.close()


def test_the_owner_shows_a_fork_and_calls_its_viewers_back(live_server):
    teacher_url, owner = create(live_server, {"dataset": {"name": "xor"}})
    teacher_id = teacher_url.rsplit("/", 1)[1]
    made = httpx.post(teacher_url + "/fork", json={"name": "Ada"}).json()
    fork_url = f"{live_server.url}/api/networks/{made['id']}"
    viewer = Follower(teacher_url)
    viewer.wait_for("snapshot")
    r = httpx.post(teacher_url + "/replaced", json={"by": made["id"]}, headers=owner)
    assert r.status_code == 200
    assert viewer.wait_for("replaced")[0] == {"id": teacher_id, "by": made["id"]}
    viewer.close()
    on_fork = Follower(fork_url)  # the viewer followed to the fork
    on_fork.wait_for("snapshot")
    r = httpx.post(teacher_url + "/replaced", json={"by": teacher_id}, headers=owner)
    assert r.status_code == 200 and r.json()["replaced_by"] is None
    assert on_fork.wait_for("replaced")[0] == {"id": made["id"], "by": teacher_id,
                                               "back": True}
    assert httpx.get(fork_url).json()["replaced_by"] is None  # the fork itself is not replaced

    # Shown again, and Ada moves on to a new network meanwhile: her viewers come back too.
    httpx.post(teacher_url + "/replaced", json={"by": made["id"]}, headers=owner)
    wider_url, _ = create(live_server, {"dataset": {"name": "xor"}, "hidden": [5]})
    ada = {"Authorization": "Bearer " + made["token"]}
    wider_id = wider_url.rsplit("/", 1)[1]
    httpx.post(fork_url + "/replaced", json={"by": wider_id}, headers=ada)
    on_wider = Follower(wider_url)
    on_wider.wait_for("snapshot")
    mark = on_fork.mark()
    httpx.post(teacher_url + "/replaced", json={"by": teacher_id}, headers=owner)
    assert on_wider.wait_for("replaced")[0] == {"id": wider_id, "by": teacher_id, "back": True}
    assert on_fork.next("replaced", after=mark)["back"]
    on_fork.close()
    on_wider.close()
