"""Serving the app with Uvicorn, guarded at the connection: a connection must send its request
line and headers within ``request_head_seconds`` (and a kept-alive one its next request
within ``idle_connection_seconds`` more), open connections are capped in all and per client
address, and the process may open enough files for them. Without this, sockets that send
nothing, or a header line every few seconds, stay open for ever and exhaust the server's
files (then nobody is answered, and the log fills with "Too many open files")."""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import socket
import time
from collections import Counter

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from backend.settings import Settings

log = logging.getLogger("backend.serve")

FILES_RESERVED = 200  # descriptors kept for the store, the logs, the page's files...
LOG_EVERY_SECONDS = 60.0


class ConnectionGuard:
    """The open connections, counted in all and per client address, and the rate-limited
    report of those refused (one log line a minute at most, however many)."""

    def __init__(self, settings: Settings, max_connections: int):
        self.head_seconds = settings.request_head_seconds
        self.idle_seconds = settings.idle_connection_seconds
        self.max_connections = max_connections
        self.per_client = settings.max_connections_per_client
        self.open: Counter = Counter()
        self.total = 0
        self.refused = 0
        self._logged = 0.0

    def admit(self, client: str) -> bool:
        if self.total >= self.max_connections or self.open[client] >= self.per_client:
            self.refused += 1
            now = time.monotonic()
            if now - self._logged >= LOG_EVERY_SECONDS:
                log.warning("connections refused: %d in the last minute (open: %d of %d in "
                            "all; a client may have %d)", self.refused, self.total,
                            self.max_connections, self.per_client)
                self._logged, self.refused = now, 0
            return False
        self.open[client] += 1
        self.total += 1
        return True

    def release(self, client: str) -> None:
        self.total -= 1
        self.open[client] -= 1
        if self.open[client] <= 0:
            del self.open[client]


def closing_answer(status: str, body: dict | None = None, headers: str = "") -> bytes:
    """A whole HTTP answer written straight to a connection, which closes after it."""
    content = json.dumps(body).encode() if body is not None else b""
    kind = "Content-Type: application/json\r\n" if body is not None else ""
    return (f"HTTP/1.1 {status}\r\n{kind}{headers}Connection: close\r\n"
            f"Content-Length: {len(content)}\r\n\r\n").encode() + content


REFUSED = closing_answer("503 Service Unavailable", {
    "detail": "The server has as many connections open as it takes; try again in a few "
              "seconds.", "retry_after": 5}, "Retry-After: 5\r\n")
TOO_SLOW = closing_answer("408 Request Timeout")
# A request's line and headers, at most (h11 allowed 16 kB; httptools has no limit of its own).
MAX_HEAD_BYTES = 16 * 1024
TOO_LARGE = closing_answer("431 Request Header Fields Too Large", {
    "detail": f"A request's line and headers may take at most {MAX_HEAD_BYTES // 1024} kB."})


def guarded_protocol(guard: ConnectionGuard) -> type[HttpToolsProtocol]:
    """Uvicorn's HTTP/1.1 protocol on httptools, with the guard's cap and deadlines."""

    class GuardedProtocol(HttpToolsProtocol):
        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._client = self.client[0] if self.client else ""
            self._admitted = guard.admit(self._client)
            self._head_timer = None
            self._seen = None  # the request whose head arrived last
            self._head_bytes, self._in_body = 0, False
            if not self._admitted:
                self._close_with(REFUSED)
                return
            self._await_head(guard.head_seconds)

        def data_received(self, data: bytes) -> None:
            # Counted outside bodies: what the parser may be holding of a head not complete
            # yet. (Where a body ends and the next head begins in one chunk, that head's
            # first bytes go uncounted: one chunk more at most, still bounded.)
            heading = not self._in_body
            if heading:
                self._head_bytes += len(data)
            super().data_received(data)
            if heading and not self._in_body and self._head_too_large():
                if self.cycle is None or self.cycle.response_complete:
                    self._close_with(TOO_LARGE)
                else:  # the answer under way goes first (its request may have changed things)
                    self.transport.pause_reading()

        def on_headers_complete(self) -> None:
            self._head_bytes, self._in_body = 0, True
            super().on_headers_complete()
            if self.cycle is not self._seen and self.cycle is not None:  # a head arrived
                self._seen = self.cycle
                self._stop_head_timer()

        def on_message_complete(self) -> None:
            self._in_body = False
            super().on_message_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self._head_too_large():
                self._close_with(TOO_LARGE)
            elif not self.transport.is_closing() and (self.cycle is self._seen):
                # Idle first (Uvicorn closes an idle connection at its keep-alive timeout),
                # then a complete head: a client trickling bytes does not keep it open.
                self._await_head(guard.idle_seconds + guard.head_seconds)

        def connection_lost(self, exc) -> None:
            self._stop_head_timer()
            if self._admitted:
                self._admitted = False
                guard.release(self._client)
            super().connection_lost(exc)

        def _head_too_large(self) -> bool:
            return self._head_bytes > MAX_HEAD_BYTES and not self.transport.is_closing()

        def _close_with(self, answer: bytes) -> None:
            """``answer`` (a whole HTTP answer), and the connection closed after it."""
            self._stop_head_timer()
            self.transport.write(answer)
            self.transport.close()

        def _await_head(self, seconds: float) -> None:
            self._stop_head_timer()
            self._head_timer = self.loop.call_later(seconds, self._head_too_slow)

        def _stop_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_too_slow(self) -> None:
            self._head_timer = None
            waiting = self.cycle is self._seen and (self.cycle is None
                                                    or self.cycle.response_complete)
            if waiting and not self.transport.is_closing():  # for a head that never came
                self._close_with(TOO_SLOW)

    return GuardedProtocol


def raise_file_limit(wanted: int) -> int:
    """Let this process open up to ``wanted`` files if the system allows; the limit it has."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def quiet_accept_errors(loop: asyncio.AbstractEventLoop) -> None:
    """If the files run out anyway, asyncio reports each failed accept: one line a minute."""
    default = loop.get_exception_handler()
    last = [0.0]

    def handler(loop, context):
        if "out of system resource" in str(context.get("message", "")):
            now = time.monotonic()
            if now - last[0] < LOG_EVERY_SECONDS:
                return
            last[0] = now
        if default is not None:
            default(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


class Server(uvicorn.Server):
    """Ends the endless event streams as soon as a shutdown is asked for, so that the server
    does not wait for viewers to leave before it checkpoints and exits."""

    async def startup(self, sockets=None) -> None:
        quiet_accept_errors(asyncio.get_running_loop())
        await super().startup(sockets)

    def handle_exit(self, sig, frame) -> None:
        on_exit = getattr(self.config.app.state, "on_exit", None)
        if on_exit is not None:
            on_exit()
        super().handle_exit(sig, frame)


def serve(app, settings: Settings, listener: socket.socket | None = None) -> None:
    """Serve ``app`` until Ctrl+C or SIGTERM; on ``listener`` when given (a socket bound to
    the settings' address beforehand, so that a port in use is found before the start),
    else on a socket Uvicorn binds."""
    files = raise_file_limit(settings.max_connections + FILES_RESERVED)
    max_connections = min(settings.max_connections, max(16, files - FILES_RESERVED))
    if max_connections < settings.max_connections:
        log.warning("this process may open %d files: serving at most %d connections",
                    files, max_connections)
    guard = ConnectionGuard(settings, max_connections)
    config = uvicorn.Config(app, host=settings.host, port=settings.port,
                            log_level=settings.log_level, timeout_graceful_shutdown=3,
                            http=guarded_protocol(guard),
                            timeout_keep_alive=settings.idle_connection_seconds)
    try:
        Server(config).run(sockets=[listener] if listener is not None else None)
    except KeyboardInterrupt:  # Ctrl+C: the server has shut down cleanly already
        pass
