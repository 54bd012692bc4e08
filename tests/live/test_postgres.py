"""The real server on PostgreSQL (``--db postgresql://...``): replicas share one database."""

import httpx
import pytest

from backend.__main__ import check_postgres_driver, lock_path
from tests.conftest import start_server

pytestmark = pytest.mark.server


def test_two_servers_share_one_database_and_a_restart_keeps_everything(tmp_path, postgres_db):
    assert lock_path(postgres_db) is None  # the lock file is for SQLite files only
    first = start_server(postgres_db, tmp_path / "first.log")
    second = start_server(postgres_db, tmp_path / "second.log")  # not refused: no lock
    try:
        answer = httpx.post(first.url + "/api/networks",
                            json={"dataset": {"name": "xor"}, "hidden": [3]}).json()
        url, owner = f"/api/networks/{answer['id']}", {"Authorization": "Bearer " +
                                                       answer["token"]}
        httpx.post(first.url + url + "/step", json={"epochs": 5},
                   headers=owner).raise_for_status()
        made = {path: httpx.get(first.url + url + path).json()
                for path in ("", "/history", "/data", "/export")}
        for path, saved in made.items():  # the other replica reads it from the database
            assert httpx.get(second.url + url + path).json() == saved, path
        fork = httpx.post(second.url + url + "/fork", json={"name": "Ada"}, headers=owner)
        assert fork.status_code == 201, fork.text
        first.stop()
        first = start_server(postgres_db, tmp_path / "first.log")
        listing = httpx.get(first.url + url + "/forks", headers=owner).json()
        assert [f["name"] for f in listing["forks"]] == ["Ada"]
        for path, saved in made.items():
            now = httpx.get(first.url + url + path).json()
            if path == "":
                now.pop("updated_at"), saved.pop("updated_at")
            assert now == saved, path
    finally:
        first.stop()
        second.stop()


def test_a_database_it_cannot_open_stops_the_start_with_a_sentence(postgres_server):
    import subprocess
    import sys

    from tests.conftest import REPO, free_port

    url = postgres_server.url("no_such_database")
    result = subprocess.run([sys.executable, "-m", "backend", "--port", str(free_port()),
                             "--db", url], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    message = result.stderr.strip()
    assert message.startswith("python -m backend: cannot open the PostgreSQL database")
    assert '"no_such_database" does not exist' in message and "Traceback" not in message


def test_a_postgresql_url_without_psycopg_says_what_to_install(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SystemExit) as exc:
        check_postgres_driver("postgresql://db.example/playground")
    assert "pip install -e '.[postgres]'" in str(exc.value)
    check_postgres_driver("data/playground.db")  # SQLite needs nothing more
