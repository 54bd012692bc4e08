"""Property-based fuzzing of the whole API with Schemathesis, against the app's own OpenAPI
schema, in-process (ASGI): no answer is a 5xx, every answer matches the schema it declares.

The endless event stream is left out. Paths that name a network get, most of the time, one of
a few real networks (with its owner's token, no token or a wrong one), so the generated bodies
reach the routes' own checks, not only the 404. The run's limits are small settings (a few
hundred epochs per run) so that a generated `train` cannot keep the CPU busy for the rest of
the suite. ``FUZZ_EXAMPLES`` raises the number of examples per operation (``make fuzz``).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import checks

from backend.api.app import create_app
from backend.settings import Settings
from tests.reliability.sentences import assert_sentence, why_not_a_sentence

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
LONG_RUN = "FUZZ_EXAMPLES" in os.environ  # make fuzz: new random examples every run
SETTINGS = Settings(db=":memory:", max_epochs_per_run=200, max_request_work=20_000_000,
                    max_samples=400, max_memory_bytes=50_000_000, allowed_hosts="testserver")
APP = create_app(SETTINGS)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).exclude(path_regex=r"/events$")

BODIES = [
    {"dataset": {"name": "xor"}, "hidden": [3], "learning_rate": 0.5},
    {"dataset": {"name": "and"}, "rule": "perceptron"},
    {"dataset": {"name": "plane", "n_samples": 40}, "hidden": [4], "activation": "relu"},
]
_networks: dict[int, tuple[str, str]] = {}


def network(slot: int) -> tuple[str, str]:
    """(id, token) of real network number ``slot``, made again if the fuzzing deleted it."""
    client = TestClient(APP)  # no lifespan of its own: the app already runs (Schemathesis)
    known = _networks.get(slot)
    if known is None or client.get(f"/api/networks/{known[0]}").status_code == 404:
        answer = client.post("/api/networks", json=BODIES[slot]).json()
        known = _networks[slot] = (answer["id"], answer["token"])
    return known


CALLERS = ["owner", "owner", "nobody", "stranger"]


def as_caller(case, slot: int | None, who: str):
    """The case on real network ``slot`` (None: the generated id) as ``who``."""
    if slot is not None:
        network_id, token = network(slot)
        case.path_parameters["network_id"] = network_id
        headers = {k: v for k, v in (case.headers or {}).items()
                   if k.lower() != "authorization"}
        if who == "owner":
            headers["Authorization"] = f"Bearer {token}"
        elif who == "stranger":
            headers["Authorization"] = "Bearer not-the-token"
        case.headers = headers
    return case


@schema.hook
def flatmap_case(context, case):
    if "network_id" not in (case.path_parameters or {}):
        return st.just(case)
    return st.builds(as_caller, st.just(case), st.sampled_from([None, 0, 1, 2]),
                     st.sampled_from(CALLERS))


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=not LONG_RUN, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_server_error_and_every_answer_matches_its_schema(case):
    # A schema-valid body may still be a 422: the API refuses combinations that JSON Schema
    # cannot express (one activation per layer, weights of the network's shapes, the server's
    # limits, which are settings). Such a refusal must still be a documented Problem with a
    # sentence (tests/reliability/sentences.py), which the response schema check and the
    # check below make sure of.
    response = case.call_and_validate(excluded_checks=[checks.positive_data_acceptance])
    if 400 <= response.status_code < 500:
        assert_sentence(response.json()["detail"], response.status_code)


# The rule itself: what the server says today passes, terse or generic refusals do not.
SENTENCES = [
    (404, "No network with id '8a8150f72c4a8e3908b5a27321fa56b1'"),
    (401, "the Authorization header must read 'Bearer <token>'"),
    (422, "Expected 2 layers of parameters, got 1"),
    (422, "At most 64 neurons per layer are allowed; got 100"),
    (422, "Data.train holds an index outside the 200 points"),
    (422, "'activations' needs one activation per layer with weights: 2 for 1 hidden layer(s) "
          "and the output, got 1"),
    (422, "The document does not describe a valid network: the history's epoch must never "
          "decrease"),
    (405, "PATCH is not allowed on this path; it allows POST."),
    (409, "Update cannot come now: the next step is forward; forward, backward and update come "
          "in that order for each batch"),
    (400, "The body is not valid JSON (Expecting value): send UTF-8 JSON text, for example {}."),
    (422, [{"loc": ["body", "epochs"], "msg": "Input should be greater than 0"}]),
]
NOT_SENTENCES = [
    (422, "bad value here"),
    (422, "Invalid request."),
    (400, "There was an error parsing the body"),
    (404, "Not Found"),
    (422, "learning_rate"),
    (422, "Invalid value for the field"),
    (422, "The learning rate is bad"),  # a 422 says what is allowed
    (422, "ValueError: could not convert string to float: 'x'"),
    (422, "Setting an array element with a sequence. The requested array has an inhomogeneous "
          "shape after 1 dimensions."),
    (409, "3 is wrong"),
    (422, ""),
    (422, []),
    (422, [{"loc": [], "msg": "Field required"}]),
    (422, None),
]


@pytest.mark.parametrize(("status", "detail"), SENTENCES)
def test_the_servers_sentences_pass_the_rule(status, detail):
    assert why_not_a_sentence(detail, status) is None


@pytest.mark.parametrize(("status", "detail"), NOT_SENTENCES)
def test_terse_or_generic_refusals_fail_the_rule(status, detail):
    assert why_not_a_sentence(detail, status) is not None


def test_weights_in_rows_of_different_lengths_are_refused_with_a_sentence():
    with TestClient(create_app(SETTINGS)) as client:
        made = client.post("/api/networks", json=BODIES[0]).json()
        r = client.put(f"/api/networks/{made['id']}/parameters",
                       headers={"Authorization": f"Bearer {made['token']}"},
                       json={"layers": [{"W": [[1, 2], [3], [4, 5]], "b": [0, 0, 0]},
                                        {"W": [[1, 1, 1]], "b": [0]}]})
        assert r.status_code == 422
        assert why_not_a_sentence(r.json()["detail"], 422) is None, r.json()["detail"]
