"""Hand-written bad inputs for every route: each is a 4xx whose message says what is allowed,
the answer is strict JSON, and afterwards the server answers, the network it was aimed at is
unchanged and so is another network (state, history and export compared before and after).

The victim is ``xor`` with one hidden layer of 3 (sizes 2-3-1); calls that change a network
carry its owner's token, so what is tested is the input, not the access (tests/api/test_access).
"""

from __future__ import annotations

import functools
import json

import pytest
from fastapi.testclient import TestClient

from backend.api.app import create_app
from backend.settings import Settings
from tests.api.conftest import Owned

VICTIM = {"dataset": {"name": "xor"}, "hidden": [3], "learning_rate": 0.5}
BYSTANDER = {"dataset": {"name": "moons", "n_samples": 60}, "hidden": [4]}
MAX_BODY = Settings().max_body_bytes


@functools.cache
def routes() -> list[tuple[str, str]]:
    paths = create_app(Settings(db=":memory:")).openapi()["paths"]
    return sorted((method.upper(), path) for path, ops in paths.items() for method in ops)


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def raw(text: str) -> bytes:
    return text.encode()


N = "/api/networks/{network_id}"
LAYERS_3_2 = [{"W": [[1, 1], [1, 1]], "b": [0, 0]}, {"W": [[1, 1]], "b": [0]}]  # 2-2-1: wrong

# (method, path, body: a JSON value, raw bytes or None, status, words the message must hold)
CASES = [
    # -- create ----------------------------------------------------------------------------
    ("POST", "/api/networks", {"learning_rate": "0.5"}, 422, "valid number"),
    ("POST", "/api/networks", {"hidden": [True]}, 422, "valid integer"),
    ("POST", "/api/networks", {"hidden": [2.5]}, 422, "valid integer"),
    ("POST", "/api/networks", {"hidden": "4,2"}, 422, "valid list"),
    ("POST", "/api/networks", raw('{"learning_rate": NaN}'), 422, "finite number"),
    ("POST", "/api/networks", raw('{"learning_rate": -Infinity}'), 422, "finite number"),
    ("POST", "/api/networks", raw('{"dataset": {"points": [[0, 0, NaN], [1, 1, 1]]}}'), 422,
     "finite number"),
    ("POST", "/api/networks", {"hidden": [5000]}, 422, "less than or equal to 4096"),
    ("POST", "/api/networks", {"hidden": [65]}, 422, "at most 64 neurons per layer"),
    ("POST", "/api/networks", {"hidden": [2] * 9}, 422, "at most 8 hidden layers"),
    ("POST", "/api/networks", {"hidden": [1] * 65}, 422, "at most 64 items"),
    ("POST", "/api/networks", {"dataset": {"points": [[0, 0, 0]] * 100_001}}, 422,
     "at most 100000 items"),
    ("POST", "/api/networks", {"dataset": {"points": [[0, 0, 0], [1, 1, 1]] * 6000}}, 422,
     "at most 10000 samples"),
    ("POST", "/api/networks", {"dataset": {"points": [[0, 0]]}}, 422, "field required"),
    ("POST", "/api/networks", {"hidden": [3], "activations": ["tanh"]}, 422,
     "one activation per layer"),
    ("POST", "/api/networks", raw('{"hidden": ' + deep(10_000) + "}"), 400, "nests lists"),
    ("POST", "/api/networks", raw('{"hidden": ' + deep(800) + "}"), 422, "valid integer"),
    ("POST", "/api/networks", b"\xff\xfe{}", 400, "valid json"),
    ("POST", "/api/networks", b'{"hidden": [4,', 400, "valid json"),
    ("POST", "/api/networks", [1, 2], 422, "valid dictionary"),
    # -- import ----------------------------------------------------------------------------
    ("POST", "/api/networks/import", {"format": "nn-playground/1"}, 422, "field required"),
    ("POST", "/api/networks/import", {"format": "v2", "spec": {}}, 422, "nn-playground/1"),
    # -- read a network --------------------------------------------------------------------
    ("GET", N, None, 404, "no network with id"),
    ("GET", N + "/data", None, 404, "no network with id"),
    ("GET", N + "/history", None, 404, "no network with id"),
    ("GET", N + "/export", None, 404, "no network with id"),
    ("GET", N + "/boundary?resolution=1000", None, 422, "from 2 to 200"),
    ("GET", N + "/boundary?resolution=1", None, 422, "greater than or equal to 2"),
    ("GET", N + "/boundary?resolution=abc", None, 422, "valid integer"),
    ("GET", N + "/boundary?neurons=maybe", None, 422, "valid boolean"),
    ("GET", N + "/events?boundary=500", None, 422, "from 2 to 200"),
    ("GET", N + "/events?boundary=0", None, 422, "greater than or equal to 2"),
    ("POST", N + "/predict", {"x": [[1]]}, 422, "field required"),
    ("POST", N + "/predict", {"x": [["1", "2"]]}, 422, "valid number"),
    ("POST", N + "/predict", {"x": [[1e7, 0]]}, 422, "less than or equal to 1000000"),
    ("POST", N + "/predict", raw('{"x": [[Infinity, 0]]}'), 422, "finite number"),
    ("POST", N + "/predict", {"x": [[0, 0]] * 100_001}, 422, "at most 100000 items"),
    ("POST", N + "/predict", {"x": []}, 422, "at least 1 item"),
    ("POST", N + "/predict", raw('{"x": ' + deep(10_000) + "}"), 400, "nests lists"),
    ("POST", N + "/surface", {"parameters": [[0, "W", 0, 0], [0, "W", 0, 0]]}, 422,
     "two different parameters"),
    ("POST", N + "/surface", {"parameters": [[1, "W", 0, 3], [1, "b", 0]]}, 422,
     "j must be from 0 to 2"),
    ("POST", N + "/surface", {"parameters": [[2, "b", 0], [1, "b", 0]]}, 422,
     "layer 2 does not exist"),
    ("POST", N + "/surface", {"parameters": [[0, "V", 0, 0], [0, "b", 0]]}, 422,
     "input should be"),
    ("POST", N + "/surface", {"resolution": 1}, 422, "greater than or equal to 2"),
    ("POST", N + "/surface", {"resolution": 201}, 422, "from 2 to 200"),
    ("POST", N + "/surface", {"epochs": 10**9}, 413, "one request may do"),
    ("POST", N + "/surface", {"range": [[1, 0], [0, 1]]}, 422, "lo < hi"),
    ("POST", N + "/surface", raw('{"learning_rate": NaN}'), 422, "finite number"),
    ("POST", N + "/fork", None, 404, "no network with id"),
    ("POST", N + "/fork", {"name": "x" * 41}, 422, "at most 40 characters"),
    ("POST", N + "/fork", {"name": "a\tb"}, 422, "no control or invisible characters"),
    ("POST", N + "/fork", {"name": ["Ada"]}, 422, "valid string"),
    ("POST", N + "/fork", {"nick": "Ada"}, 422, "extra inputs"),
    ("GET", N + "/forks", None, 404, "no network with id"),
    ("POST", N + "/replaced", {}, 422, "field required"),
    ("POST", N + "/replaced", {"by": ""}, 422, "at least 1 character"),
    ("POST", N + "/replaced", {"by": 12}, 422, "valid string"),
    ("POST", N + "/replaced", {"by": "f" * 65}, 422, "at most 64 characters"),
    # -- change a network (with the owner's token) ------------------------------------------
    ("PATCH", N, {"learning_rate": 0}, 422, "greater than 0"),
    ("PATCH", N, raw('{"learning_rate": NaN}'), 422, "finite number"),
    ("PATCH", N, {"batch": {"size": "10"}}, 422, "valid integer"),
    ("PATCH", N, {"hidden": [3]}, 422, "extra inputs are not permitted"),
    ("PATCH", N, {"rule": "perceptron"}, 422, "single-layer network"),
    ("PATCH", N, {"batch": {"mode": "sometimes"}}, 422, "'minibatch'"),
    ("PUT", N + "/parameters", {"layers": LAYERS_3_2}, 422, "W^1 must be 3 x 2"),
    ("PUT", N + "/parameters", {"layers": [{"W": [[1, 1]] * 3, "b": [0] * 3}]}, 422,
     "expected 2 layers"),
    ("PUT", N + "/parameters", {"layers": [{"W": [["1"]], "b": [0]}]}, 422, "valid number"),
    ("PUT", N + "/parameters", raw('{"layers": [{"W": [[NaN]], "b": [0]}]}'), 422,
     "finite number"),
    ("PUT", N + "/parameters", {"layers": [{"W": [[0, 0]] * 4097, "b": [0]}]}, 422,
     "at most 4096 items"),
    ("PUT", N + "/parameters", {"layers": []}, 422, "at least 1 item"),
    ("PUT", N + "/parameters", raw('{"layers": ' + deep(10_000) + "}"), 400, "nests lists"),
    ("POST", N + "/reset", {"seed": -1}, 422, "greater than or equal to 0"),
    ("POST", N + "/reset", {"seed": "1"}, 422, "valid integer"),
    ("POST", N + "/reset", {"seed": 2**40}, 422, "less than or equal to 4294967295"),
    ("POST", N + "/forward", {"x": [[1, 2, 3]]}, 422, "at most 2 items"),
    ("POST", N + "/forward", {"x": [[1, 2]], "y": [[1, 2, 3]]}, 422,
     "needs 1 target value(s)"),
    ("POST", N + "/forward", {"x": [[1, 2]], "y": [[1], [0]]}, 422, "one target row per point"),
    ("POST", N + "/forward", {"y": [[1]]}, 422, "needs the points 'x'"),
    ("POST", N + "/forward", {"x": [["0", "0"]]}, 422, "valid number"),
    ("POST", N + "/forward", raw('{"x": [[0, -Infinity]]}'), 422, "finite number"),
    ("POST", N + "/backward", {}, 409, "next step is forward"),
    ("POST", N + "/backward", {"loss": 1}, 422, "extra inputs are not permitted"),
    ("POST", N + "/update", {}, 409, "next step is forward"),
    ("POST", N + "/update", {"W": [[1]]}, 422, "extra inputs are not permitted"),
    ("POST", N + "/step", {"iterations": 0}, 422, "greater than or equal to 1"),
    ("POST", N + "/step", {"iterations": True}, 422, "valid integer"),
    ("POST", N + "/step", {"epochs": "1"}, 422, "valid integer"),
    ("POST", N + "/step", {"epochs": 1.5}, 422, "valid integer"),
    ("POST", N + "/step", {"iterations": 10**9}, 413, "ask for at most"),
    ("POST", N + "/step", {}, 422, "exactly one of 'iterations' or 'epochs'"),
    ("POST", N + "/train", {}, 422, "field required"),
    ("POST", N + "/train", {"epochs": 10**7}, 422, "at most 1000000 epochs"),
    ("POST", N + "/train", {"epochs": "10"}, 422, "valid integer"),
    ("POST", N + "/train", raw('{"epochs": 5, "max_epochs_per_second": Infinity}'), 422,
     "finite number"),
    ("POST", N + "/train", {"epochs": 5, "max_epochs_per_second": 0}, 422, "greater than 0"),
    ("POST", N + "/stop", {"now": True}, 422, "extra inputs are not permitted"),
    ("DELETE", N, None, 404, "no network with id"),
    # -- the rest ----------------------------------------------------------------------------
    ("GET", "/api/qr?text=", None, 422, "at least 1 character"),
    ("GET", "/api/qr?text=" + "a" * 1001, None, 422, "at most 1000 characters"),
    ("GET", "/api/health", raw("x" * (MAX_BODY + 1)), 413, f"limit of {MAX_BODY} bytes"),
    ("GET", "/api/catalog", raw("x" * (MAX_BODY + 1)), 413, f"limit of {MAX_BODY} bytes"),
    ("GET", "/api/share", raw("x" * (MAX_BODY + 1)), 413, f"limit of {MAX_BODY} bytes"),
    ("POST", "/api/networks", raw("[" + "0," * MAX_BODY + "0]"), 413, "larger than the limit"),
    ("POST", "/api/nothing", {}, 404, "no /api/nothing in this API"),
    ("POST", "/api/health", {}, 405, "allows GET, HEAD"),
]
UNKNOWN = "0" * 32  # a plausible id that names no network (the 404 cases above)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """One app for the whole table (a new one per case would be most of the time)."""
    db = tmp_path_factory.mktemp("bad_inputs") / "api.db"
    with TestClient(create_app(Settings(db=str(db))), base_url="http://localhost") as client:
        yield client


@pytest.fixture(scope="module")
def bystander(api) -> Owned:
    """Another network, trained a little, that no bad input may touch."""
    net = Owned(api, api.post("/api/networks", json=BYSTANDER).json())
    net.post("/step", {"epochs": 2})
    return net


@pytest.fixture
def make(api):
    def make(body: dict) -> Owned:
        r = api.post("/api/networks", json=body)
        assert r.status_code == 201, r.text
        return Owned(api, r.json())

    return make


def case_id(case) -> str:
    method, path, body, status, _ = case
    shown = body[:30].decode(errors="replace") if isinstance(body, bytes) else json.dumps(body)
    return f"{method} {path.replace(N, '{id}')[:40]} {shown[:40]} -> {status}"


def strict(text: str):
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in an answer"))


def message(answer: dict) -> str:
    detail = answer["detail"]
    if isinstance(detail, list):  # pydantic's list: every field's message, with its place
        return " ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in detail)
    return detail


def looks(client, owned) -> dict:
    """Everything a reader can see of a network."""
    return {path: client.get(owned.url + path).json() for path in ("", "/history", "/export")}


def send(client, method: str, url: str, body, headers: dict):
    if isinstance(body, bytes):
        return client.request(method, url, content=body,
                              headers={**headers, "content-type": "application/json"})
    if body is None:
        return client.request(method, url, headers=headers)
    return client.request(method, url, json=body, headers=headers)


def test_every_route_has_bad_inputs():
    covered = {(m, p.split("?")[0]) for m, p, *_ in CASES}
    assert set(routes()) <= covered, sorted(set(routes()) - covered)


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_a_bad_input_is_a_4xx_that_says_what_is_allowed(api, make, bystander, case):
    client = api
    method, path, body, status, words = case
    victim = make(VICTIM)
    network_id = UNKNOWN if status == 404 else victim.id
    before = looks(client, victim), looks(client, bystander)

    r = send(client, method, path.replace("{network_id}", network_id), body, victim.headers)

    assert r.status_code == status, r.text[:500]
    answer = strict(r.text)
    assert words.lower() in message(answer).lower(), message(answer)[:500]
    assert client.get("/api/health").json()["status"] == "ok"
    assert (looks(client, victim), looks(client, bystander)) == before
    victim.post("/step", {"iterations": 1})  # and the network still works


def test_a_chunked_body_over_the_limit_is_413_before_it_is_read_whole(api, make):
    client = api
    """No Content-Length to refuse up front: the body is counted as it arrives."""
    victim = make(VICTIM)
    before = looks(client, victim)
    chunk = b"[0, 0]," * 10_000

    def body():
        yield b'{"x": ['
        for _ in range(MAX_BODY // len(chunk) + 2):
            yield chunk
        yield b"[0, 0]]}"

    r = client.post(victim.url + "/predict", content=body(),
                    headers={"content-type": "application/json"})
    assert r.status_code == 413 and "larger than the limit" in r.json()["detail"]
    assert looks(client, victim) == before


@pytest.mark.parametrize("bad_id", ["nope", "0" * 31, "g" * 32, "A" * 32, "a" * 10_000,
                                    "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "%00", "..."])
def test_unknown_and_malformed_ids_are_404_on_every_network_route(api, make, bad_id):
    client = api
    owner = make(VICTIM).headers  # a real token: the id is refused before the token is read
    for method, path in routes():
        if "{network_id}" not in path:
            continue
        r = client.request(method, path.replace("{network_id}", bad_id), headers=owner,
                           json={} if method != "GET" else None)
        assert r.status_code == 404, (method, path, bad_id, r.text[:200])
        assert message(strict(r.text))


def test_out_of_order_steps_are_409_naming_the_next_call(api, make, bystander):
    client = api
    victim = make(VICTIM)
    before = looks(client, bystander)
    sequence = [  # (call, body, status, next step named in the answer)
        ("/update", {}, 409, "forward"),
        ("/backward", {}, 409, "forward"),
        ("/forward", {}, 200, None),
        ("/forward", {}, 409, "backward"),
        ("/update", {}, 409, "backward"),
        ("/step", {"iterations": 1}, 409, "backward"),
        ("/train", {"epochs": 5}, 409, "backward"),
        ("/backward", {}, 200, None),
        ("/backward", {}, 409, "update"),
        ("/forward", {"x": [[0, 0]]}, 409, "update"),
        ("/step", {"epochs": 1}, 409, "update"),
        ("/update", {}, 200, None),
        ("/update", {}, 409, "forward"),
    ]
    for path, body, status, next_step in sequence:
        r = client.post(victim.url + path, json=body, headers=victim.headers)
        assert r.status_code == status, (path, r.text)
        if next_step:
            assert next_step in r.json()["detail"], (path, r.json())
            assert client.get(victim.url).json()["next_step"] == next_step
    assert client.get(victim.url).json()["iteration"] == 1
    assert looks(client, bystander) == before


def test_while_training_every_change_but_patch_and_stop_is_409(api, make, bystander):
    client = api
    victim = make(VICTIM)
    before = looks(client, bystander)
    victim.post("/train", {"epochs": 1_000_000, "max_epochs_per_second": 100}, expect=202)
    for method, path, body in (("POST", "/train", {"epochs": 5}), ("POST", "/forward", {}),
                               ("POST", "/step", {"iterations": 1}), ("POST", "/reset", {}),
                               ("PUT", "/parameters", {"layers": LAYERS_3_2})):
        r = client.request(method, victim.url + path, json=body, headers=victim.headers)
        assert r.status_code == 409, (path, r.text)
        assert "training" in r.json()["detail"] and "stop" in r.json()["detail"].lower()
    stopped = victim.post("/stop")
    assert stopped["status"] == "idle" and stopped["last_run"]["reason"] == "stopped"
    assert looks(client, bystander) == before


BIG = 2**63  # one past NumPy's int64


@pytest.mark.parametrize(("damage", "words"), [
    (lambda d: d["data"].update(train=[BIG]), "less than 100000"),
    (lambda d: d["data"].update(test=[-1]), "greater than or equal to 0"),
    (lambda d: d["training"].update(order=[BIG, 0, 1, 2]), "less than 100000"),
    (lambda d: d["training"].update(epoch=BIG), "less than or equal to 9007199254740992"),
    (lambda d: d["training"].update(iteration=1e308), "valid integer"),
    (lambda d: d["training"].update(cursor=-1), "greater than or equal to 0"),
    (lambda d: d["training"]["rng"].update(uinteger=-1), "greater than or equal to 0"),
    (lambda d: d["training"]["rng"].update(has_uint32=BIG), "less than or equal to 1"),
    (lambda d: d["layers"][0].update(W=[[float("nan")] * 2] * 3), "finite number"),
    (lambda d: d["data"].update(points=[[0, 0, float("inf")]] * 4), "finite number"),
])
def test_an_export_with_numbers_out_of_range_is_a_422(api, make, bystander, damage, words):
    """The import takes a whole document: every number in it is bounded before the core
    sees it (NumPy's int64 would overflow into a 500)."""
    source = make(VICTIM)
    source.post("/step", {"epochs": 2})
    document = source.get("/export")
    damage(document)
    before = looks(api, bystander)
    text = json.dumps(document)  # NaN and Infinity as the tokens Python writes
    r = api.post("/api/networks/import", content=text.encode(),
                 headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text[:300]
    assert words.lower() in message(strict(r.text)).lower(), message(strict(r.text))[:300]
    assert looks(api, bystander) == before
