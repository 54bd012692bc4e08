"""A network's forks: named copies that remember their parent, listed for the parent's owner
(the teacher's view of the class), and the owner showing one of them to its viewers."""

import base64
import json

import pytest
from fastapi.testclient import TestClient

from backend.api.app import create_app
from tests.api.conftest import Owned

pytestmark = pytest.mark.both_stores


def fork(client, parent: Owned, body=None, expect: int = 201) -> Owned | dict:
    r = client.post(parent.url + "/fork", json=body)
    assert r.status_code == expect, r.text
    return Owned(client, r.json()) if expect == 201 else r.json()


def test_a_fork_keeps_its_name_and_parent(make, client):
    teacher = make({"dataset": {"name": "moons"}, "hidden": [3]})
    ada = fork(client, teacher, {"name": "  Ada & <b>Bo</b>  "})
    assert ada.answer["network"]["name"] == "Ada & <b>Bo</b>"  # trimmed, kept as typed
    assert ada.get()["parent"] == teacher.id and ada.get()["name"] == "Ada & <b>Bo</b>"
    plain = fork(client, teacher)
    assert plain.get()["name"] is None and plain.get()["parent"] == teacher.id
    blank = fork(client, teacher, {"name": "   "})
    assert blank.get()["name"] is None
    assert teacher.get()["parent"] is None and teacher.get()["name"] is None


@pytest.mark.parametrize(("name", "words"), [
    ("x" * 41, "at most 40 characters"),
    ("Ada\nBo", "no control or invisible characters"),
    ("Ada\u202eBo", "no control or invisible characters"),
    ("Ada\x00", "no control or invisible characters"),
])
def test_a_bad_name_is_a_422_that_says_what_a_name_may_be(make, client, name, words):
    teacher = make()
    answer = fork(client, teacher, {"name": name}, expect=422)
    assert words in answer["detail"] and answer["detail"][0].isupper()
    assert fork(client, teacher, {"name": 7}, expect=422)["detail"]  # not text at all
    assert client.get(teacher.url + "/forks", headers=teacher.headers).json()["forks"] == []


def test_the_owner_lists_the_forks_with_their_progress(make, client):
    teacher = make({"dataset": {"name": "circle", "n_samples": 100}, "hidden": [4, 2]})
    ada = fork(client, teacher, {"name": "Ada"})
    ada.post("/step", {"epochs": 3})
    bo = fork(client, teacher, {"name": "Bo"})
    bo.post("/step", {"epochs": 1})
    fork(client, ada, {"name": "Ada's own"})  # a fork of a fork: not the teacher's
    make()  # not a fork at all

    listing = client.get(teacher.url + "/forks", headers=teacher.headers)
    assert listing.status_code == 200
    body = listing.json()
    assert body["parent"] == teacher.id and body["resolution"] == 16
    cards = {card["name"]: card for card in body["forks"]}
    assert set(cards) == {"Ada", "Bo"}
    assert cards["Ada"]["id"] == ada.id and cards["Ada"]["epoch"] == 3
    assert cards["Bo"]["epoch"] == 1 and cards["Ada"]["hidden_neurons"] == 6
    state = ada.get()
    assert cards["Ada"]["test_loss"] == state["metrics"]["test_loss"]
    assert cards["Ada"]["train_loss"] == state["metrics"]["train_loss"]
    thumbnail = cards["Ada"]["thumbnail"]["output"]
    assert thumbnail["shape"] == [1, 16, 16] and thumbnail["dtype"] == "uint8"
    assert len(base64.b64decode(thumbnail["data"])) == 256
    assert "NaN" not in listing.text and "Infinity" not in listing.text


def test_a_logic_set_fork_has_no_test_loss_null_not_nan(make, client):
    teacher = make({"dataset": {"name": "xor"}, "hidden": [2]})
    fork(client, teacher, {"name": "X"})
    (card,) = client.get(teacher.url + "/forks", headers=teacher.headers).json()["forks"]
    assert card["test_loss"] is None and card["train_loss"] is not None


def test_only_the_owner_lists_the_forks(make, client):
    teacher = make()
    student = fork(client, teacher, {"name": "Ada"})
    url = teacher.url + "/forks"
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": "Bearer nope"}).status_code == 403
    assert client.get(url, headers=student.headers).status_code == 403
    assert "token" in client.get(url).json()["detail"]


def test_the_names_and_parents_survive_a_restart(tmp_path, settings):
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        teacher = Owned(client, client.post("/api/networks", json={}).json())
        student = fork(client, teacher, {"name": "Ada Lovelace"})
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        state = client.get(student.url).json()
        assert state["name"] == "Ada Lovelace" and state["parent"] == teacher.id
        listing = client.get(teacher.url + "/forks", headers=teacher.headers).json()
        assert [c["name"] for c in listing["forks"]] == ["Ada Lovelace"]


def test_showing_a_fork_and_coming_back(make, client):
    teacher = make()
    student = fork(client, teacher, {"name": "Ada"})
    outsider = make()
    shown = teacher.post("/replaced", {"by": student.id})
    assert shown["replaced_by"] == student.id
    back = teacher.post("/replaced", {"by": teacher.id})
    assert back["replaced_by"] is None
    # Only a network that was replaced can be "back"; it calls back from its own forks only.
    teacher.post("/replaced", {"by": teacher.id}, expect=409)
    teacher.post("/replaced", {"by": outsider.id})
    assert teacher.post("/replaced", {"by": teacher.id})["replaced_by"] is None
    assert json.loads(json.dumps(student.get()))["replaced_by"] is None


def test_a_new_network_in_a_forks_place_stays_in_the_class(make, client):
    teacher = make()
    ada = fork(client, teacher, {"name": "Ada"})
    wider = make({"hidden": [8]})  # Ada changed the shape: a new network replaces her fork
    ada.post("/replaced", {"by": wider.id})
    assert wider.get()["parent"] == teacher.id and wider.get()["name"] == "Ada"
    (card,) = client.get(teacher.url + "/forks", headers=teacher.headers).json()["forks"]
    assert card["id"] == wider.id and card["hidden_neurons"] == 8
    older = make()  # made before: not a successor, stays out of the class
    before = fork(client, teacher, {"name": "Bo"})
    before.post("/replaced", {"by": older.id})
    assert older.get()["parent"] is None
