"""A tampered export, field by field: every document an import takes passes the same limits
as a create and the same checks as the field it replaces; anything else is a 4xx with a
sentence, stores nothing, and leaves the server answering. What an import accepts trains."""

from __future__ import annotations

import time

import pytest

from tests.api.conftest import Owned


def at(document: dict, path: str):
    """The container and key that ``path`` (dots, list indices) names in ``document``."""
    *parents, last = path.split(".")
    node = document
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node, (int(last) if isinstance(node, list) else last)


def setting(path: str, value):
    def tamper(document: dict) -> None:
        node, key = at(document, path)
        node[key] = value(node[key]) if callable(value) else value
    return tamper


def dropping(path: str):
    def tamper(document: dict) -> None:
        node, key = at(document, path)
        del node[key]
    return tamper


def many_points(document: dict) -> None:
    n = 100_000  # compact enough to pass the body's size limit
    document["data"].update(points=[[0, 0, i % 2] for i in range(n)], train=list(range(n)),
                            test=[])
    document["training"].update(cursor=0, order=None)


def history_of(length: int, counters: bool = True):
    """A history of ``length`` epochs (and counters that have got that far, if asked)."""
    def tamper(document: dict) -> None:
        if counters:
            training = document["training"]
            training["epoch"] = max(training["epoch"], length)
            training["iteration"] = max(training["iteration"], length)
        h = document["training"]["history"]
        for column in ("epoch", "iteration"):
            h[column] = list(range(length))
        for column in ("train_loss", "test_loss", "train_accuracy", "test_accuracy", "errors"):
            h[column] = [None] * length
    return tamper


REFUSED = [
    ("format", setting("format", "nn-playground/2")),
    ("a spec over the layer limit", setting("spec.hidden", [2] * 9)),
    ("a spec over the neuron limit", setting("spec.hidden", [65])),
    ("a spec over the sample limit", setting("spec.dataset.n_samples", 50_000)),
    ("100,000 points", many_points),
    ("a point that is a string", setting("data.points.0", ["0", 0, 1])),
    ("a point of two numbers", setting("data.points.0", [0, 0])),
    ("a task that is none", setting("data.task", "clustering")),
    ("nine classes", setting("data.classes", 9)),
    ("one class", setting("data.classes", 1)),
    ("a label past the classes", setting("data.points.0", [0, 0, 5])),
    ("a label that is not a class", setting("data.points.0", [0, 0, 0.5])),
    ("classes for regression", setting("data.task", "regression")),
    ("an empty plane", setting("data.domain", [[1, 1], [0, 1]])),
    ("a training index past the points", setting("data.train.0", 99_999)),
    ("a negative index", setting("data.train.0", -1)),
    ("a point trained twice", setting("data.train", lambda t: t + t[:1])),
    ("a point in both sets", setting("data.test", lambda t: t + [0])),
    ("no training point", setting("data.train", [])),
    ("weights of the wrong shape", setting("layers.0.W", [[1, 1, 1]])),
    ("a weight that is a string", setting("layers.0.b.0", "1")),
    ("an activation that is none", setting("layers.0.activation", "swish")),
    ("a layer too many", setting("layers", lambda layers: layers + layers[-1:])),
    ("a negative epoch", setting("training.epoch", -1)),
    ("an epoch past 2^53", setting("training.epoch", 2**60)),
    ("an epoch as a string", setting("training.epoch", "5")),
    ("a cursor past the data", setting("training.cursor", 10_000)),
    ("an order that is no permutation", setting("training.order", [0] * 100)),
    ("a generator state of 2^200", setting("training.rng.state.state", 2**200)),
    ("a generator increment of 2^128", setting("training.rng.state.inc", 2**128)),
    ("another generator", setting("training.rng.bit_generator", "MT19937")),
    ("no generator", dropping("training.rng")),
    ("has_uint32 of 2", setting("training.rng.has_uint32", 2)),
    ("a history keeping 10^12 points", setting("training.history.max_points", 10**12)),
    ("a history longer than it keeps", history_of(1001)),
    ("a history past the counters", history_of(10, counters=False)),
    ("history epochs that are strings", setting("training.history.epoch",
                                                lambda e: [str(v) for v in e])),
    ("history losses that are strings", setting("training.history.train_loss",
                                                lambda e: ["low" for _ in e])),
    ("history columns of two lengths", setting("training.history.epoch", lambda e: e[:-1])),
    ("history epochs going back", setting("training.history.epoch", lambda e: e[::-1])),
    ("a stride of 0", setting("training.history.stride", 0)),
    ("no history", dropping("training.history")),
]

ACCEPTED = [
    ("an empty history", history_of(0)),
    ("a history of 1000 points", history_of(1000)),
    ("no order (the next epoch draws one)", setting("training.order", None)),
    ("other weights", setting("layers.0.b.0", 0.25)),
    ("a generator written as numbers (older documents)",
     setting("training.rng.state", lambda state: {k: int(v) for k, v in state.items()})),
]


@pytest.fixture
def document(make):
    net = make({"dataset": {"name": "circle", "n_samples": 200}, "hidden": [4]})
    net.post("/step", {"iterations": 25})  # mid-epoch: an order, a cursor, a history
    return net.get("/export")


def test_the_generator_survives_a_reader_that_keeps_53_bits(client, document):
    """The page reads a document with JavaScript's numbers: the generator's 128-bit numbers
    are decimal strings, so a saved and reopened network replays exactly."""
    def as_javascript(value):  # a number keeps 53 bits of its digits
        if isinstance(value, dict):
            return {k: as_javascript(v) for k, v in value.items()}
        if isinstance(value, list):
            return [as_javascript(v) for v in value]
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
            return float(value)
        return value

    assert all(isinstance(v, str) for v in document["training"]["rng"]["state"].values())
    as_javascript = as_javascript(document)
    copies = [Owned(client, client.post("/api/networks/import", json=doc).json())
              for doc in (document, as_javascript)]
    states = [net.post("/step", {"epochs": 5})["layers"] for net in copies]
    assert states[0] == states[1]


@pytest.mark.parametrize("name, tamper", REFUSED, ids=[name for name, _ in REFUSED])
def test_a_tampered_document_is_refused_with_a_sentence(client, document, name, tamper):
    tamper(document)
    stored = client.app.state.services.networks.store.count()
    r = client.post("/api/networks/import", json=document)
    assert 400 <= r.status_code < 500, (name, r.status_code, r.text[:300])
    detail = r.json()["detail"]
    assert detail if isinstance(detail, list) else len(detail.split()) >= 4, detail
    assert client.app.state.services.networks.store.count() == stored
    assert client.get("/api/health").json()["status"] == "ok"


@pytest.mark.parametrize("name, tamper", ACCEPTED, ids=[name for name, _ in ACCEPTED])
def test_what_an_import_accepts_trains(client, document, name, tamper):
    tamper(document)
    r = client.post("/api/networks/import", json=document)
    assert r.status_code == 201, r.text[:300]
    net = Owned(client, r.json())
    net.post("/step", {"epochs": 3})
    net.post("/train", {"epochs": 20}, expect=202)
    deadline = time.monotonic() + 20
    while net.get()["status"] != "idle" and time.monotonic() < deadline:
        time.sleep(0.02)
    state, history = net.get(), net.get("/history")
    assert state["last_run"]["reason"] == "finished"
    assert state["epoch"] - history["stride"] < history["epoch"][-1] <= state["epoch"]
