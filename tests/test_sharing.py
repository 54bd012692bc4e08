"""The classroom addresses and their QR codes encode the URL the server serves, or the public
address (``PLAYGROUND_PUBLIC_URL``) when one is set."""

import re

import httpx
import pytest
import segno

from backend.__main__ import parse_args, startup_message
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


def test_a_public_url_is_printed_and_encoded_instead_of_the_listening_addresses():
    public = "https://playground.example.org"
    message = startup_message(Settings(host="0.0.0.0", port=8123, public_url=public))
    urls = re.findall(r"^  (\S+)$", message, re.M)
    assert urls == [public + "/"]  # not the container's (or this machine's) own addresses
    assert "127.0.0.1" not in message and ":8123" not in message
    assert f"open {public}/ or scan" in message
    printed = terminal_qr_to_matrix(message)
    expected = segno_matrix(public + "/", border=2)
    assert printed[:len(expected)] == expected


def test_a_public_url_on_loopback_gets_no_qr_code():
    message = startup_message(Settings(host="0.0.0.0", public_url="http://localhost:9000"))
    assert message.splitlines() == ["Neural-network playground: open", "  http://localhost:9000/"]


@pytest.mark.parametrize("given, used", [
    ("http://192.168.1.20:8000", "http://192.168.1.20:8000/"),
    ("HTTPS://playground.example.org/nn", "https://playground.example.org/nn/"),
    (" https://playground.example.org/ ", "https://playground.example.org/"),
    ("http://[2001:db8::1]:8000/", "http://[2001:db8::1]:8000/"),
    ("", ""),
])
def test_the_public_url_setting_reads_the_environment_and_ends_in_a_slash(given, used):
    settings = Settings.from_env({"PLAYGROUND_PUBLIC_URL": given})
    assert settings.public_url == given and settings.public_address == used
    assert Settings().public_address == ""  # unset by default: the listening address


@pytest.mark.parametrize("given, why", [
    ("192.168.1.20:8000", "http:// or https://"), ("playground.lan", "http:// or https://"),
    ("ftp://playground.lan/", "http:// or https://"), ("http://", "no host"),
    ("http://playground.lan:99999/", "Port"), ("http://playground.lan:port/", "Port"),
    ("http://me:secret@playground.lan/", "user name or password"),
    ("http://playground.lan/?a=1", "query"), ("http://playground.lan/#watch=1", "fragment"),
    ("http://play ground.lan/", "spaces"),
])
def test_a_public_url_that_is_no_http_address_is_refused_with_a_sentence(given, why):
    with pytest.raises(ValueError, match="PLAYGROUND_PUBLIC_URL must be") as error:
        Settings.from_env({"PLAYGROUND_PUBLIC_URL": given})
    assert why in str(error.value) and repr(given) in str(error.value)
    with pytest.raises(ValueError, match="PLAYGROUND_PUBLIC_URL"):
        parse_args(["--public-url", given], base=Settings())


def test_the_command_line_public_url_overrides_the_environment():
    base = Settings.from_env({"PLAYGROUND_PUBLIC_URL": "http://10.0.0.2:8000/"})
    assert parse_args([], base=base).public_address == "http://10.0.0.2:8000/"
    settings = parse_args(["--public-url", "https://nn.school.lan"], base=base)
    assert settings.public_address == "https://nn.school.lan/"


def test_the_public_url_host_name_is_answered():
    settings = Settings(public_url="https://NN.School.lan:8443/", allowed_hosts="other.lan")
    assert settings.host_names == ["other.lan", "nn.school.lan"]
    assert Settings(public_url="http://10.0.0.2:8000/").host_names == ["10.0.0.2"]
    assert Settings().host_names == []


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
