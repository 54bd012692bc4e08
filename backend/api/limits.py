"""Refuse request bodies over the size limit with a 413, before they are read whole: up front
by their Content-Length, or, for a chunked body, as soon as the bytes received pass the limit
(whatever the app made of the interrupted read: FastAPI would call it a 400)."""

from __future__ import annotations

import contextlib
import json


class BodySizeLimit:
    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return await self._refuse(send)
        received = 0
        refused = started = False

        async def limited_receive():
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = not started  # too late for a 413 once an answer has begun
                    raise _TooLarge
            return message

        async def guarded_send(message):
            nonlocal started
            if not refused:  # the app may turn _TooLarge into an answer of its own: not sent
                started = True
                await send(message)

        with contextlib.suppress(_TooLarge):
            await self.app(scope, limited_receive, guarded_send)
        if refused:
            await self._refuse(send)

    async def _refuse(self, send):
        body = json.dumps({"detail": f"The request body is larger than the limit of "
                                     f"{self.max_bytes} bytes."}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
