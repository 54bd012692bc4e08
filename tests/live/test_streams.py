"""Streams through the real server on a real port, read with httpx."""

import base64
import time

import httpx
import numpy as np
import pytest

from tests.live.sse import Follower

pytestmark = pytest.mark.server


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
    early.wait_for("done")
    late = Follower(url)
    state = late.wait_for("snapshot")[0]
    assert state["epoch"] == 50 and state["last_run"]["reason"] == "finished"
    httpx.post(url + "/train", json={"epochs": 30}, headers=owner)
    for viewer in (early, late):
        assert viewer.wait_for("done", count=2 if viewer is early else 1)[-1]["epoch"] == 80
    # A change outside a run reaches every viewer as a snapshot.
    httpx.post(url + "/reset", json={}, headers=owner)
    assert late.wait_for("snapshot", count=2)[-1]["epoch"] == 0
    early.close()
    late.close()


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
