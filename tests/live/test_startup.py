"""Starting ``python -m backend`` for real: a port in use and a database in use are refused
with a sentence before any "open" line, PLAYGROUND_PUBLIC_URL is what the start and
/api/share give, and --help needs none of the app's dependencies."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, free_port, start_server


def backend(*args: str, env: dict | None = None, timeout: float = 30,
            python: list[str] | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m backend ARGS`` to its end (a refused start ends at once)."""
    return subprocess.run([*(python or [sys.executable, "-m", "backend"]), *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def refused(result: subprocess.CompletedProcess) -> str:
    """The message of a start that was refused: status 1, a sentence, no address to open."""
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert output.startswith("python -m backend: "), output
    assert "Neural-network playground: open" not in output, output
    assert not re.search(r"^\s+https?://", output, re.M), output
    assert "Traceback" not in output, output
    return output


@pytest.mark.server
def test_a_port_in_use_is_refused_before_any_address_is_printed(live_server, tmp_path):
    port = int(live_server.url.rsplit(":", 1)[1])
    result = backend("--port", str(port), "--db", str(tmp_path / "other.db"))
    message = refused(result)
    assert f"port {port} is already in use" in message
    assert "another server" in message
    assert f"--port {port + 1}" in message and f"make run PORT={port + 1}" in message
    assert not (tmp_path / "other.db").exists()  # refused before the store was opened
    # The server already there goes on serving.
    assert httpx.get(live_server.url + "/api/health").status_code == 200


def test_a_port_held_by_any_program_is_refused(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        message = refused(backend("--port", str(port), "--db", ":memory:"))
    assert f"port {port} is already in use on 127.0.0.1" in message


@pytest.mark.server
def test_a_second_server_on_the_same_database_is_refused(tmp_path):
    db, log = tmp_path / "playground.db", tmp_path / "server.log"
    server = start_server(db, log)
    try:
        message = refused(backend("--port", str(free_port()), "--db", str(db)))
        assert f"the database {db} is in use by another running server" in message
        assert f"process {server.process.pid}" in message  # which one
        assert "overwrite each other's changes" in message  # why
        assert "--db" in message and "make run DB=" in message  # what to do
        assert httpx.get(server.url + "/api/health").status_code == 200
        # Stopped, even by kill -9, the server leaves the database free for the next one.
        server.stop("kill")
        server = start_server(db, log)
        server.stop()
        server = start_server(db, log)
    finally:
        server.stop()


@pytest.mark.server
def test_servers_on_memory_databases_run_side_by_side(tmp_path):
    first = start_server(Path(":memory:"), tmp_path / "first.log")
    try:
        second = start_server(Path(":memory:"), tmp_path / "second.log")
        try:
            for server in (first, second):
                assert httpx.get(server.url + "/api/health").status_code == 200
        finally:
            second.stop()
    finally:
        first.stop()
    assert not Path(REPO / ":memory:.lock").exists()


@pytest.mark.server
def test_the_public_url_is_what_the_start_and_share_give(tmp_path):
    public = "http://playground.school.lan:8080"
    server = start_server(tmp_path / "db", tmp_path / "log", host="0.0.0.0",
                          env={"PLAYGROUND_PUBLIC_URL": public})
    try:
        printed = server.log.read_text()
        assert f"open\n  {public}/\n" in printed
        assert "127.0.0.1" not in printed  # not the listening addresses
        assert f"open {public}/ or scan" in printed  # and its QR code
        share = httpx.get(server.url + "/api/share").json()
        assert share == {"urls": [public + "/"], "classroom": True}
        # The page is served under the public name (a proxy or port mapping passes it on).
        page = httpx.get(server.url + "/", headers={"Host": "playground.school.lan:8080"})
        assert page.status_code == 200
    finally:
        server.stop()


def test_a_public_url_that_is_no_address_stops_the_start_with_a_sentence():
    result = backend("--port", str(free_port()), "--db", ":memory:",
                     env={"PLAYGROUND_PUBLIC_URL": "playground.school.lan:8080"})
    message = refused(result)
    assert "PLAYGROUND_PUBLIC_URL must be" in message
    assert "'playground.school.lan:8080': it must start with http:// or https://" in message


# Importing any of these fails, as in a Python where the app was never installed.
WITHOUT_DEPENDENCIES = """
import runpy, sys
for name in ("segno", "numpy", "numba", "fastapi", "starlette", "uvicorn", "pydantic",
             "httpx", "swagger_ui_bundle"):
    sys.modules[name] = None
sys.argv[0] = "backend"
runpy.run_module("backend", run_name="__main__", alter_sys=True)
"""


def test_help_works_before_the_app_is_installed():
    result = backend("--help", python=[sys.executable, "-c", WITHOUT_DEPENDENCIES])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m backend")
    for option in ("--host", "--port", "--db", "--public-url", "--log-level"):
        assert option in result.stdout
    assert "pip install -e ." in result.stdout


def test_a_start_before_the_app_is_installed_says_to_install_it():
    result = backend("--port", str(free_port()), "--db", ":memory:",
                     python=[sys.executable, "-c", WITHOUT_DEPENDENCIES])
    message = refused(result)
    assert "is missing: install the app first" in message
    assert "make run" in message and "pip install -e ." in message


def test_the_listening_socket_is_tcp_so_that_answers_are_not_delayed():
    """asyncio turns Nagle's algorithm off only on the connections of a socket that names
    IPPROTO_TCP; with it on, every answer on a kept-alive connection (its head, then its body)
    waited for the client's delayed ACK, 40 ms."""
    from backend.__main__ import bind_port
    from backend.settings import Settings

    listener = bind_port(Settings(port=0))
    try:
        assert listener.proto == socket.IPPROTO_TCP
        client = socket.create_connection(listener.getsockname())
        accepted, _ = listener.accept()
        with client, accepted:
            assert accepted.proto == socket.IPPROTO_TCP
    finally:
        listener.close()
