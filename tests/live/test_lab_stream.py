"""The teaching steps on the stream: a follower of the network gets every step's numbers (a
`lab` event) from the real server on a real port, for the lecture's worked example."""

import httpx
import pytest

from tests.live.sse import Follower

pytestmark = [pytest.mark.server, pytest.mark.both_engines]

# The worked-example lesson's network (frontend/js/lessons.js): 2-2-1, ReLU then Linear.
WORKED_EXAMPLE = {"dataset": {"name": "xor"}, "hidden": [2], "activations": ["relu", "linear"],
                  "rule": "backprop", "learning_rate": 0.1, "batch": {"mode": "stochastic"}}
LAYERS = [{"W": [[1, 1], [1, 1]], "b": [0, 0]}, {"W": [[1, 1]], "b": [0]}]


def test_a_follower_gets_each_step_of_the_worked_example_with_its_numbers(live_server):
    created = httpx.post(live_server.url + "/api/networks", json=WORKED_EXAMPLE).json()
    url = f"{live_server.url}/api/networks/{created['id']}"
    owner = {"Authorization": "Bearer " + created["token"]}
    assert httpx.put(url + "/parameters", json={"layers": LAYERS}, headers=owner).is_success
    follower = Follower(url)
    follower.wait_for("snapshot")

    answers = {}
    for step, body in (("forward", {"x": [[1, 1]], "y": [[0]]}), ("backward", {}),
                       ("update", {})):
        mark = follower.mark()
        r = httpx.post(f"{url}/{step}", json=body, headers=owner)
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        answers[step] = r.json()
        lab = follower.next("lab", after=mark)
        assert lab["step"] == step
        assert lab["answer"] == answers[step]  # the very numbers the teacher's lab shows
        assert lab["sample"] == {"x": [[1, 1]], "y": [[0]], "indices": None}
        # The step's snapshot comes first: a follower's state is already the step's.
        names = [n for n, _ in follower.since(mark)]
        assert names.index("snapshot") < names.index("lab")

    forward, backward, update = answers["forward"], answers["backward"], answers["update"]
    assert forward["layers"][0]["n"] == [[2, 2]] and forward["layers"][0]["a"] == [[2, 2]]
    assert forward["output"] == [[4]]
    assert backward["loss"] == 16
    assert backward["layers"][1]["s"] == [[8]] and backward["layers"][0]["s"] == [[8, 8]]
    assert backward["layers"][0]["fdot"] == [[1, 1]] and backward["layers"][1]["fdot"] == [[1]]
    assert [w for row in update["layers"][0]["W"] for w in row] == pytest.approx([0.2] * 4)
    assert update["layers"][0]["b"] == pytest.approx([-0.8, -0.8])
    assert update["layers"][1]["W"] == [pytest.approx([-0.6, -0.6])]
    assert update["layers"][1]["dW"] == [pytest.approx([-1.6, -1.6])]
    assert update["iteration"] == 1
    follower.close()


def test_a_training_sample_is_named_by_its_index_and_a_refused_step_sends_nothing(live_server):
    created = httpx.post(live_server.url + "/api/networks", json=WORKED_EXAMPLE).json()
    url = f"{live_server.url}/api/networks/{created['id']}"
    owner = {"Authorization": "Bearer " + created["token"]}
    data = httpx.get(url + "/data").json()["train"]
    follower = Follower(url)
    follower.wait_for("snapshot")
    mark = follower.mark()
    forward = httpx.post(url + "/forward", json={}, headers=owner).json()
    lab = follower.next("lab", after=mark)
    (i,) = lab["sample"]["indices"]
    assert forward["indices"] == [i]
    assert lab["sample"]["x"] == [data["x"][i]] and lab["sample"]["y"] == [[data["y"][i]]]
    mark = follower.mark()
    assert httpx.post(url + "/update", headers=owner).status_code == 409  # backward comes next
    backward = httpx.post(url + "/backward", headers=owner).json()
    lab = follower.next("lab", after=mark)
    assert lab["step"] == "backward" and lab["answer"] == backward
    assert lab["sample"]["indices"] == [i]  # the batch the forward began
    assert [n for n, _ in follower.since(mark)].count("lab") == 1
    follower.close()
