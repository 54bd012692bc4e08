"""/api/share: the address to give a class is PLAYGROUND_PUBLIC_URL when it is set (behind
Docker or a proxy, the listening address is nobody else's to open), else the listening one."""

import pytest
from fastapi.testclient import TestClient

from backend.api.app import create_app
from backend.netinfo import lan_addresses
from backend.settings import Settings


@pytest.fixture
def app_with(tmp_path):
    """A client of an app with these settings (and its own store)."""
    clients = []

    def start(**values) -> TestClient:
        client = TestClient(create_app(Settings(db=str(tmp_path / f"{len(clients)}.db"),
                                                **values)), base_url="http://localhost")
        clients.append(client.__enter__())
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def test_share_gives_the_public_url_alone_when_it_is_set(app_with):
    client = app_with(host="0.0.0.0", port=8000, public_url="http://192.168.1.20:8080")
    share = client.get("/api/share").json()
    assert share == {"urls": ["http://192.168.1.20:8080/"], "classroom": True}


def test_share_gives_a_public_url_with_its_path(app_with):
    client = app_with(host="127.0.0.1", public_url="https://school.example.org/playground")
    share = client.get("/api/share").json()
    # Others can open it although the server itself listens on loopback (behind a proxy).
    assert share == {"urls": ["https://school.example.org/playground/"], "classroom": True}


def test_a_public_url_on_loopback_is_no_classroom(app_with):
    client = app_with(host="0.0.0.0", public_url="http://localhost:9000/")
    assert client.get("/api/share").json() == {"urls": ["http://localhost:9000/"],
                                               "classroom": False}


def test_without_a_public_url_share_gives_the_listening_addresses(app_with):
    client = app_with(host="127.0.0.1", port=8123)
    assert client.get("/api/share").json() == {"urls": ["http://127.0.0.1:8123/"],
                                               "classroom": False}
    client = app_with(host="0.0.0.0", port=8123)
    share = client.get("/api/share").json()
    lan = [f"http://{a}:8123/" for a in lan_addresses()]
    assert share == {"urls": [*lan, "http://127.0.0.1:8123/"], "classroom": True}


def test_the_public_url_host_name_is_served_and_its_qr_code_drawn(app_with):
    client = app_with(public_url="https://playground.school.lan:8443/")
    r = client.get("/api/share", headers={"Host": "playground.school.lan:8443"})
    assert r.status_code == 200 and r.json()["urls"] == ["https://playground.school.lan:8443/"]
    # Other names are still refused (DNS rebinding).
    assert client.get("/api/share", headers={"Host": "evil.example"}).status_code == 400
    svg = client.get("/api/qr", params={"text": r.json()["urls"][0] + "#watch=abc"})
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert "https://playground.school.lan:8443/#watch=abc" in svg.text  # its title
