"""A saved document with its history encoded once: the same JSON as encoding it whole."""

import json

from backend.core.experiment import Experiment
from backend.core.history import History
from backend.services.jsontext import dumps, dumps_grids, join
from backend.services.store import encode_with


def test_a_document_with_an_encoded_part_is_the_same_json():
    exp = Experiment.create({"dataset": {"name": "xor"}, "hidden": [3]})
    exp.trainer.run(30)
    doc = exp.to_dict(with_data=False)
    text = encode_with(doc, ("training", "history"), exp.trainer.history.to_json())
    assert json.loads(text) == doc
    assert len(text) == len(dumps(doc))  # as compact


def test_encoding_into_empty_objects():
    assert encode_with({"a": {}}, ("a", "b"), "[1]") == '{"a":{"b":[1]}}'
    assert encode_with({"a": {"b": 0, "c": 1}, "d": 2}, ("a", "b"), "null") == \
        '{"d":2,"a":{"c":1,"b":null}}'


def test_the_history_text_is_encoded_again_only_after_a_change():
    history = History(max_points=4)
    first = history.to_json()
    assert history.to_json() is first
    history.record(0, 0, lambda: {"train_loss": 1.0})
    second = history.to_json()
    assert second is not first and json.loads(second) == history.to_dict()
    assert not history.record(1, 1, lambda: {}) or history.to_json() is not second
    for epoch in range(1, 8):  # thinning changes the stride and drops points
        history.record(epoch, epoch, lambda: {"train_loss": float("inf")})
        assert json.loads(history.to_json()) == history.to_dict()
    history.clear()
    assert json.loads(history.to_json()) == history.to_dict()


def test_grids_are_encoded_as_json_would_and_never_as_nan():
    """The grids' faster encoder writes the same JSON as ``dumps``; a NaN (the views leave
    none) would be null, not invalid JSON; and a part encoded so joins any object's text."""
    grids = {"output": {"shape": [1, 2, 2], "data": "QUJDRA==", "lo": [-0.5], "hi": [1.25]},
             "domain": {"x1": [-6.0, 6.0]}}
    assert json.loads(dumps_grids(grids)) == json.loads(dumps(grids))
    assert dumps_grids({"lo": [float("nan")]}) == b'{"lo":[null]}'
    frame = {"epoch": 3, "layers": [{"W": [[1.5]], "b": [0.0]}]}
    text = join(dumps(frame), "boundary", dumps_grids(grids).decode())
    assert json.loads(text) == {**frame, "boundary": grids}
    assert join("{}", "a", "[1]") == '{"a":[1]}'
