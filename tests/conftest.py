"""Shared fixtures: the app in-process, the real server on a free port, a real Chromium."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.browser_check import find_chromium
from tests.without_numba import hide_numba_if_asked

hide_numba_if_asked()

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "test-output"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    db: Path
    process: subprocess.Popen
    log: Path

    def stop(self, sig: str = "term", timeout: float = 10) -> int:
        if self.process.poll() is None:
            self.process.kill() if sig == "kill" else self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_server(db: Path, log: Path, port: int | None = None, env: dict | None = None,
                 host: str = "127.0.0.1", engine: str = "local",
                 ray_address: str | None = None) -> LiveServer:
    """Start ``python -m backend`` (the command the Dockerfile runs) and wait for /api/health;
    ``engine`` ray: an API replica of the Ray engine (on a Ray of its own, or joining
    ``ray_address``)."""
    port = port or free_port()
    command = [sys.executable, "-m", "backend", "--host", host, "--port", str(port),
               "--db", str(db), "--log-level", "warning", "--engine", engine]
    if ray_address:
        command += ["--ray-address", ray_address]
    out = open(log, "ab")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                               env={**os.environ, **RAY_QUIET, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + (30 if engine == "local" else 120)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                return LiveServer(url, db, process, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"server did not answer within 30 s:\n{log.read_text()}")


@pytest.fixture
def live_server(tmp_path, engine, request) -> Iterator[LiveServer]:
    """A server of its own for the test; on the Ray engine, one shared by the session's tests
    (a Ray start takes seconds)."""
    if engine == "ray":
        yield request.getfixturevalue("ray_server")
        return
    server = start_server(tmp_path / "playground.db", tmp_path / "server.log")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def module_server(tmp_path_factory, engine) -> Iterator[LiveServer]:
    """A server on the default settings shared by a module's tests, where each test measures
    from its own start and stops what it starts (a Ray start takes seconds)."""
    folder = tmp_path_factory.mktemp("module-server")
    server = start_server(folder / "playground.db", folder / "server.log", engine=engine)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ray_server(tmp_path_factory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("ray-server")
    server = start_server(folder / "playground.db", folder / "server.log", engine="ray")
    yield server
    server.stop(timeout=30)


# -- the two engines ------------------------------------------------------------------------
# A test marked ``both_engines`` that uses a live server (``live_server``, or ``engine`` passed
# to start_server) runs once on the local engine and once on the Ray engine.

ENGINES = ("local", "ray")
RAY_QUIET = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_DEDUP_LOGS": "0"}


@pytest.fixture(scope="session")
def engine(request) -> str:
    name = getattr(request, "param", "local")
    if name == "ray" and importlib.util.find_spec("ray") is None:
        message = "Ray is not installed (pip install -e '.[ray]')"
        if os.environ.get("PLAYGROUND_REQUIRE_RAY") == "1":
            pytest.fail(message + ": PLAYGROUND_REQUIRE_RAY=1 says the Ray tests must run")
        pytest.skip(message)
    return name


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT.mkdir(exist_ok=True)
    return OUTPUT


@pytest.fixture(scope="session")
def browser():
    executable = find_chromium()
    if executable is None:
        message = "no Chromium installed (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + ": under CI=true the browser tests must run")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    yield page
    context.close()


# -- the two stores -------------------------------------------------------------------------
# A test marked ``both_stores`` that uses the ``db`` fixture (directly, or through ``settings``,
# ``client``, ``make``, ``app_with``) runs once on SQLite and once on PostgreSQL.

STORES = ("sqlite", "postgres")


def pytest_configure(config):
    config.addinivalue_line("markers", "both_stores: runs on SQLite and on PostgreSQL")
    config.addinivalue_line("markers", "both_engines: runs on the local and the Ray engine")


def pytest_generate_tests(metafunc):
    if metafunc.definition.get_closest_marker("both_stores") and "db" in metafunc.fixturenames:
        metafunc.parametrize("db", STORES, indirect=True)
    if metafunc.definition.get_closest_marker("both_engines") and \
            "engine" in metafunc.fixturenames:
        metafunc.parametrize("engine", ENGINES, indirect=True, scope="module")


@pytest.fixture(scope="session")
def postgres_server():
    from tests.pgserver import start_postgres

    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture
def postgres_db(postgres_server) -> Iterator[str]:
    """The URL of a new empty database on the throwaway server."""
    url = postgres_server.new_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture
def db(request, tmp_path) -> str:
    """The store a test's app uses: a SQLite file, or (parametrized) a PostgreSQL URL."""
    if getattr(request, "param", "sqlite") == "postgres":
        return request.getfixturevalue("postgres_db")
    return str(tmp_path / "api.db")
