"""One buffered HTTP request through an ASGI app in this process, without a socket: how a
host answers the requests its replicas hand it."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field


@dataclass
class Request:
    """An HTTP request as a replica received it (picklable, to cross to a host)."""

    method: str
    path: str
    query: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    client: tuple[str, int] | None = None
    id: str = field(default_factory=lambda: secrets.token_hex(8))  # to say its client left


@dataclass
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


async def call(app, request: Request, extra_scope: dict | None = None,
               left: asyncio.Event | None = None) -> Answer:
    """``app``'s answer to ``request``, whole (not for endless streams). ``extra_scope``: keys
    added to the ASGI scope, which no client can set; ``left``: set when the client goes away
    (the app sees it disconnect)."""
    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1", "method": request.method, "scheme": "http",
        "path": request.path, "raw_path": request.path.encode(),
        "query_string": request.query, "root_path": "", "headers": request.headers,
        "client": request.client, "server": ("127.0.0.1", 80), **(extra_scope or {}),
    }
    delivered = False

    async def receive() -> dict:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": request.body, "more_body": False}
        await (left or asyncio.Event()).wait()
        return {"type": "http.disconnect"}

    start: dict = {}
    chunks: list[bytes] = []

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await app(scope, receive, send)
    except Exception:
        if not start:  # no answer at all: the caller's error
            raise
        # Starlette raises again an error it has answered (a 500): the answer stands.
    return Answer(start.get("status", 500), list(start.get("headers", [])), b"".join(chunks))
