"""PLAYGROUND_KEEPALIVE_SECONDS reaches the streams of the real server: an idle stream sends
its keep-alive comment that often (15 s by default)."""

import time

import httpx
import pytest

from tests.conftest import start_server

pytestmark = pytest.mark.server


def test_an_idle_stream_sends_keepalives_as_often_as_the_setting_says(tmp_path):
    server = start_server(tmp_path / "db", tmp_path / "log",
                          env={"PLAYGROUND_KEEPALIVE_SECONDS": "0.2"})
    try:
        network = httpx.post(server.url + "/api/networks", json={}).json()["id"]
        url = f"{server.url}/api/networks/{network}/events"
        pings = []
        with httpx.stream("GET", url, timeout=httpx.Timeout(5, read=3)) as stream:
            began = time.monotonic()
            for line in stream.iter_lines():
                if line.startswith(":"):
                    pings.append(time.monotonic() - began)
                    if len(pings) == 3:
                        break
        # Three within about 0.6 s (the default would send the first after 15 s: the read
        # times out first).
        assert pings[0] >= 0.15 and pings[-1] < 2.5, pings
    finally:
        server.stop()
