"""Numerical blow-ups through the real server: every activation that backprop can train, as the
hidden and as the output layer, with the largest learning rate the API takes (1e6), trained in
the background and stepped. Each run ends as ``diverged`` (with finite weights kept and a
sentence saying why) or runs out its epochs; either way every answer (state, history,
boundary, export, data, predict) and every event is strict JSON: no NaN, no Infinity.

Saturating outputs (sigmoid, tanh) and a relu output that dies may just stop learning; a
linear output, whose weights really explode, must end ``diverged``.
"""

from __future__ import annotations

import json
import threading

import httpx
import numpy as np
import pytest

pytestmark = [pytest.mark.server, pytest.mark.both_engines]
BACKPROP = ["relu", "linear", "sigmoid", "tanh"]
HUGE = 1e6  # the largest learning rate the API accepts


def strict(text: str):
    def refuse(token):
        raise AssertionError(f"{token} in JSON: {text[:200]}")

    return json.loads(text, parse_constant=refuse)


class RawEvents:
    """Reads a network's stream in a thread and keeps each event's raw data text (parsed later
    by the strict parser), until a ``done`` arrives."""

    def __init__(self, url: str):
        self.events: list[tuple[str, str]] = []
        self.done = threading.Event()
        self.connected = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(5, read=30))
        self._thread = threading.Thread(target=self._read, args=(url,), daemon=True)
        self._thread.start()
        assert self.connected.wait(10), "the stream did not open"

    def _read(self, url: str) -> None:
        name, data = "message", []
        try:
            with self._client.stream("GET", url) as response:
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        name = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].lstrip())
                    elif line == "" and data:
                        self.events.append((name, "\n".join(data)))
                        self.connected.set()
                        if name == "done":
                            self.done.set()
                            return
                        name, data = "message", []
        except httpx.HTTPError:
            pass
        finally:
            self.connected.set()

    def close(self) -> None:
        self._client.close()


def create(server, body: dict) -> tuple[str, dict]:
    r = httpx.post(server.url + "/api/networks", json=body)
    assert r.status_code == 201, r.text
    answer = strict(r.text)
    return f"{server.url}/api/networks/{answer['id']}", {
        "Authorization": f"Bearer {answer['token']}"}


def every_answer(url: str) -> dict:
    """Every read of the network, each parsed strictly."""
    answers = {path: httpx.get(url + path, timeout=30)
               for path in ("", "/history", "/export", "/data",
                            "/boundary?resolution=24&neurons=true")}
    answers["/predict"] = httpx.post(url + "/predict", json={"x": [[0, 0], [5, -5], [1e6, 1e6]]})
    for path, r in answers.items():
        assert r.status_code == 200, (path, r.text[:300])
    parsed = {path: strict(r.text) for path, r in answers.items()}
    grid = parsed["/boundary?resolution=24&neurons=true"]["output"]
    if grid.get("encoding", "float32") == "float32" and "data" in grid:
        import base64

        values = np.frombuffer(base64.b64decode(grid["data"]), "<f4")
        assert np.isfinite(values).all()
    return parsed


def check_the_end(state: dict, output: str) -> None:
    assert state["status"] == "idle"
    reason = state["last_run"]["reason"]
    assert reason in ("diverged", "finished"), state["last_run"]
    if output == "linear":
        assert reason == "diverged", state["last_run"]
    if reason == "diverged":
        assert "learning rate" in state["last_run"]["message"]
    for layer in state["layers"]:  # the weights kept are numbers, every one of them
        for row in layer["W"]:
            assert all(isinstance(w, float | int) for w in row), row
        assert all(isinstance(b, float | int) for b in layer["b"])


CASES = [(h, o) for h in BACKPROP for o in BACKPROP]


@pytest.mark.parametrize(("hidden", "output"), CASES)
def test_a_huge_learning_rate_diverges_or_stays_finite_everywhere(module_server, hidden, output):
    server = module_server
    dataset = "plane" if output in ("linear", "relu") else "circle"
    body = {"dataset": {"name": dataset, "n_samples": 100}, "hidden": [6],
            "activations": [hidden, output], "learning_rate": HUGE}
    url, owner = create(server, body)
    stream = RawEvents(url + "/events?boundary=16&neurons=true")
    r = httpx.post(url + "/train", json={"epochs": 150}, headers=owner)
    assert r.status_code == 202, r.text
    assert stream.done.wait(30), f"no done event: {[n for n, _ in stream.events][-5:]}"
    stream.close()
    names = [name for name, _ in stream.events]
    assert names[0] == "snapshot" and names[-1] == "done"
    events = [(name, strict(data)) for name, data in stream.events]
    done = events[-1][1]
    state = every_answer(url)[""]
    assert done["reason"] == state["last_run"]["reason"] and done["epoch"] == state["epoch"]
    check_the_end(state, output)

    # The same network stepped by hand: a diverging step is a 409 with the sentence.
    url, owner = create(server, body)
    r = httpx.post(url + "/step", json={"epochs": 30}, headers=owner)
    assert r.status_code in (200, 409), r.text
    answer = strict(r.text)
    if r.status_code == 409:
        assert "learning rate" in answer["detail"]
    state = every_answer(url)[""]
    if state["last_run"] is not None:
        check_the_end(state, output)
    elif output == "linear":
        pytest.fail(f"a linear output with learning rate {HUGE} did not diverge")


@pytest.mark.parametrize("output", ["hardlim", "hardlims"])
def test_the_perceptron_rule_with_a_huge_rate_stays_finite(module_server, output):
    server = module_server
    url, owner = create(server, {"dataset": {"name": "xor"}, "rule": "perceptron",
                                 "output_activation": output, "learning_rate": HUGE})
    stream = RawEvents(url + "/events?boundary=16")
    assert httpx.post(url + "/train", json={"epochs": 300}, headers=owner).status_code == 202
    assert stream.done.wait(30)
    stream.close()
    for _, data in stream.events:
        strict(data)
    state = every_answer(url)[""]
    assert state["last_run"]["reason"] == "not_converged"  # XOR: never, but never infinite
