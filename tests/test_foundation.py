"""The foundation: the server starts, answers /api/health, serves the page; Docker runs the same."""

import re
from pathlib import Path

import httpx
import pytest

from backend.__main__ import parse_args
from backend.netinfo import addresses_to_open
from backend.settings import Settings

REPO = Path(__file__).resolve().parent.parent


def test_settings_come_from_environment_and_command_line():
    base = Settings.from_env({"PLAYGROUND_PORT": "9001", "PLAYGROUND_MAX_SAMPLES": "50"})
    assert base.port == 9001 and base.max_samples == 50
    settings = parse_args(["--port", "9002", "--db", ":memory:"], base=base)
    assert (settings.port, settings.db, settings.max_samples) == (9002, ":memory:", 50)


def test_bad_environment_value_says_what_is_wrong():
    with pytest.raises(ValueError, match="PLAYGROUND_PORT='eighty' is not a valid int"):
        Settings.from_env({"PLAYGROUND_PORT": "eighty"})


def test_wildcard_host_lists_loopback_and_lan():
    urls = addresses_to_open("0.0.0.0", 8123)
    assert urls[0] == "http://127.0.0.1:8123/"
    assert all(re.fullmatch(r"http://[\d.]+:8123/", u) for u in urls)
    assert addresses_to_open("127.0.0.1", 80) == ["http://127.0.0.1:80/"]


@pytest.mark.server
def test_real_server_answers_health_and_page(live_server):
    health = httpx.get(live_server.url + "/api/health").json()
    assert health["status"] == "ok"
    page = httpx.get(live_server.url + "/")
    assert page.status_code == 200 and "Neural-network playground" in page.text
    assert "http://127.0.0.1:" in live_server.log.read_text()


def test_docker_runs_the_command_the_tests_start():
    dockerfile = (REPO / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.M).group(1)
    import json

    assert json.loads(cmd) == ["python", "-m", "backend", "--host", "0.0.0.0", "--port", "8000",
                               "--db", "/data/playground.db"]
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)
    assert "EXPOSE 8000" in dockerfile and "/api/health" in dockerfile
    compose = (REPO / "docker-compose.yml").read_text()
    assert "8000:8000" in compose and "/data" in compose and "/api/health" in compose
    settings = parse_args(json.loads(cmd)[3:], base=Settings())
    assert (settings.host, settings.port, settings.db) == ("0.0.0.0", 8000, "/data/playground.db")


@pytest.mark.browser
def test_page_loads_in_chromium_without_errors(live_server, page, output_dir):
    page.goto(live_server.url + "/")
    # The page says "server ok" once /api/health answers, then "live" once its stream is open.
    page.wait_for_function(
        "() => document.getElementById('server-status').dataset.status === 'live'")
    page.screenshot(path=str(output_dir / "foundation.png"))
    assert page.console_errors == []


def test_settings_that_cannot_work_are_refused_with_a_sentence():
    with pytest.raises(ValueError, match="stream_fps .PLAYGROUND_STREAM_FPS. must be above 0"):
        Settings.from_env({"PLAYGROUND_STREAM_FPS": "0"})
    with pytest.raises(ValueError, match="port must be from 0 to 65535"):
        parse_args(["--port", "70000"], base=Settings())
