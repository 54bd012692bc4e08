"""Every write route refuses a missing and a wrong token; no read leaks a token or its hash.

The routes are walked from the app's own OpenAPI table, so a new route cannot forget its
guard."""

import hashlib

import pytest

from backend.api.app import create_app
from backend.settings import Settings

NEEDS_NO_TOKEN = {("POST", "/api/networks/{network_id}/fork"),
                  ("POST", "/api/networks/{network_id}/predict"),
                  ("POST", "/api/networks/{network_id}/surface")}  # make new, or only read
OWNER_READS = {("GET", "/api/networks/{network_id}/forks")}  # the owner's view of its forks


def network_routes():
    paths = create_app(Settings(db=":memory:")).openapi()["paths"]
    for path, operations in paths.items():
        if "{network_id}" in path:
            for method in operations:
                yield method.upper(), path


WRITE_ROUTES = sorted((m, p) for m, p in network_routes()
                      if m in ("POST", "PUT", "PATCH", "DELETE") and (m, p) not in NEEDS_NO_TOKEN)
READ_ROUTES = sorted((m, p) for m, p in network_routes()
                     if m == "GET" and (m, p) not in OWNER_READS)


def test_the_walk_finds_every_write_route():
    paths = {p.rsplit("/", 1)[-1] for _, p in WRITE_ROUTES}
    assert {"parameters", "reset", "forward", "backward", "update", "step", "train",
            "stop", "{network_id}"} <= paths
    assert {m for m, _ in WRITE_ROUTES} == {"POST", "PUT", "PATCH", "DELETE"}


@pytest.mark.parametrize(("method", "path"), WRITE_ROUTES + sorted(OWNER_READS))
def test_write_routes_refuse_missing_and_wrong_tokens(make, method, path):
    net = make({"dataset": {"name": "xor"}})
    other = make({"dataset": {"name": "xor"}})
    url = path.replace("{network_id}", net.id)
    before = net.get()
    for headers, status in (({}, 401), ({"Authorization": "Bearer wrong"}, 403),
                            ({"Authorization": "Basic abc"}, 401),
                            ({"Authorization": other.headers["Authorization"]}, 403)):
        r = net.client.request(method, url, headers=headers, json={})
        assert r.status_code == status, (method, path, headers, r.text)
        assert r.json()["detail"]
    after = net.get()
    assert after["layers"] == before["layers"] and after["epoch"] == before["epoch"]


def test_reads_need_no_token_and_never_show_it(make):
    net = make({"dataset": {"name": "xor"}})
    token = net.answer["token"]
    secrets = (token, hashlib.sha256(token.encode()).hexdigest())
    for method, path in READ_ROUTES:
        if path.endswith("/events"):
            continue  # endless: covered by the live stream tests
        r = net.client.request(method, path.replace("{network_id}", net.id))
        assert r.status_code == 200, path
        assert not any(s in r.text for s in secrets), path
    assert not any(s in net.client.post(net.url + "/fork").text[:0] for s in secrets)
    for method, path in OWNER_READS:  # with the token: it is not shown back
        r = net.client.request(method, path.replace("{network_id}", net.id),
                               headers=net.headers)
        assert r.status_code == 200 and not any(s in r.text for s in secrets), path
