"""The app in-process (FastAPI's TestClient, lifespan included) and helpers for its API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backend.api.app import create_app
from backend.settings import Settings


@pytest.fixture
def settings(db) -> Settings:
    return Settings(db=db)


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings), base_url="http://localhost") as c:
        yield c


class Owned:
    """A network made through the API, with its owner's headers."""

    def __init__(self, client, answer: dict):
        self.client = client
        self.answer = answer
        self.id = answer["id"]
        self.headers = {"Authorization": f"Bearer {answer['token']}"}
        self.url = f"/api/networks/{self.id}"

    def post(self, path: str, json=None, expect: int = 200):
        r = self.client.post(self.url + path, json=json, headers=self.headers)
        assert r.status_code == expect, r.text
        return r.json() if r.content else None

    def put(self, path: str, json, expect: int = 200):
        r = self.client.put(self.url + path, json=json, headers=self.headers)
        assert r.status_code == expect, r.text
        return r.json()

    def patch(self, json, expect: int = 200):
        r = self.client.patch(self.url, json=json, headers=self.headers)
        assert r.status_code == expect, r.text
        return r.json()

    def get(self, path: str = "", expect: int = 200, **params):
        r = self.client.get(self.url + path, params=params)
        assert r.status_code == expect, r.text
        return r.json()


@pytest.fixture
def make(client):
    def make(body: dict | None = None, expect: int = 201) -> Owned:
        r = client.post("/api/networks", json=body or {})
        assert r.status_code == expect, r.text
        return Owned(client, r.json())

    return make
