"""Which addresses a person should open to reach the server."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

WILDCARDS = {"0.0.0.0", "::", ""}


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback, best guess first."""
    found: list[str] = []
    # The address the default route would use (no packet is sent by a UDP connect).
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            found.append(probe.getsockname()[0])
    except OSError:
        pass
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(info[4][0])
    except OSError:
        pass
    unique = []
    for address in found:
        if not address.startswith("127.") and address not in unique:
            unique.append(address)
    return unique


def is_loopback(url: str) -> bool:
    """Whether ``url`` names this machine only (localhost, 127.x, ::1)."""
    host = (urlsplit(url).hostname or "").rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def lan_urls(urls: list[str]) -> list[str]:
    """The addresses other machines can open (not loopback)."""
    return [u for u in urls if not is_loopback(u)]


def addresses_to_open(host: str, port: int, public_url: str = "") -> list[str]:
    """The addresses to open: ``public_url`` alone when it is set (the server may listen on an
    address nobody else can reach, a container's), else those the server listens on."""
    if public_url:
        return [public_url]
    hosts = ["127.0.0.1", *lan_addresses()] if host in WILDCARDS else [host]
    return [f"http://[{h}]:{port}/" if ":" in h else f"http://{h}:{port}/" for h in hosts]
