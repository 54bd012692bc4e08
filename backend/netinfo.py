"""Which addresses a person should open to reach the server."""

from __future__ import annotations

import socket

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


def lan_urls(urls: list[str]) -> list[str]:
    """The addresses other machines can open (not loopback)."""
    return [u for u in urls if not u.startswith("http://127.")]


def addresses_to_open(host: str, port: int) -> list[str]:
    hosts = ["127.0.0.1", *lan_addresses()] if host in WILDCARDS else [host]
    return [f"http://{h}:{port}/" for h in hosts]
