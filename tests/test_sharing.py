"""The classroom addresses and their QR codes encode the URL the server serves."""

import re

import httpx
import pytest
import segno

from backend.__main__ import startup_message
from backend.netinfo import lan_addresses
from backend.settings import Settings
from tests.conftest import start_server

# segno draws light modules as full blocks (for dark terminals), two rows per character.
HALF_BLOCKS = {"█": (False, False), " ": (True, True), "▀": (False, True), "▄": (True, False)}


def terminal_qr_to_matrix(text: str) -> list[list[bool]]:
    """Dark modules (True) of a QR code printed with segno's compact terminal output."""
    rows: list[list[bool]] = []
    for line in text.splitlines():
        if not line or any(c not in HALF_BLOCKS for c in line):
            continue
        pairs = [HALF_BLOCKS[c] for c in line]
        rows.append([top for top, _ in pairs])
        rows.append([bottom for _, bottom in pairs])
    return rows


def segno_matrix(url: str, border: int) -> list[list[bool]]:
    code = segno.make(url, error="m", micro=False)
    size = len(code.matrix) + 2 * border
    grid = [[False] * size for _ in range(size)]
    for i, row in enumerate(code.matrix):
        for j, dark in enumerate(row):
            grid[i + border][j + border] = bool(dark)
    return grid


def test_classroom_start_prints_lan_addresses_and_a_qr_code_of_the_first():
    message = startup_message(Settings(host="0.0.0.0", port=8123))
    urls = re.findall(r"^  (http://\S+)$", message, re.M)
    assert urls[0] == "http://127.0.0.1:8123/"
    lan = [f"http://{a}:8123/" for a in lan_addresses()]
    assert urls[1:] == lan
    if not lan:
        pytest.skip("this machine has no LAN address")
    assert f"open {lan[0]} or scan" in message
    printed = terminal_qr_to_matrix(message)
    expected = segno_matrix(lan[0], border=2)
    assert printed[:len(expected)] == expected


def test_loopback_start_prints_no_qr_code():
    message = startup_message(Settings(host="127.0.0.1", port=8000))
    assert message.splitlines() == ["Neural-network playground: open", "  http://127.0.0.1:8000/"]


@pytest.mark.server
def test_the_real_server_on_all_interfaces_serves_what_it_prints(tmp_path):
    server = start_server(tmp_path / "db", tmp_path / "log", host="0.0.0.0")
    try:
        port = server.url.rsplit(":", 1)[1]
        printed = server.log.read_text()
        assert f"http://127.0.0.1:{port}/" in printed
        for address in lan_addresses():
            assert f"http://{address}:{port}/" in printed
        share = httpx.get(server.url + "/api/share").json()
        assert share["classroom"] is True
        assert all(u.endswith(f":{port}/") for u in share["urls"])
        assert share["urls"][-1] == f"http://127.0.0.1:{port}/"
        svg = httpx.get(server.url + "/api/qr", params={"text": share["urls"][0]})
        assert svg.headers["content-type"].startswith("image/svg+xml")
        assert "<svg" in svg.text and share["urls"][0] in svg.text  # its title
        assert httpx.get(server.url + "/api/qr", params={"text": ""}).status_code == 422
    finally:
        server.stop()
