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

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import checks

from backend.api.app import create_app
from backend.settings import Settings

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
    # sentence, which the response schema check and the check below make sure of.
    response = case.call_and_validate(excluded_checks=[checks.positive_data_acceptance])
    if 400 <= response.status_code < 500:
        detail = response.json()["detail"]
        assert isinstance(detail, list) and detail or len(detail.split()) >= 3, detail
