"""What every answer carries and every request must pass, as ASGI middleware: the Host
allow-list, the security headers, and HEAD wherever GET works."""

from __future__ import annotations

import ipaddress
import json

# The page and the API docs load nothing from elsewhere, run no inline script and are never
# framed: a page of another site can neither frame them nor read what they hold.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class HostAllowList:
    """Answer only requests addressed to this server by a name it knows: localhost, an IP
    address (the classroom's LAN address, loopback) or a configured name. Any other Host is a
    page of another site resolving its own name to this server (DNS rebinding), which must
    not reach the API: a 400 (421 would invite a retry elsewhere)."""

    def __init__(self, app, names: list[str]):
        self.app = app
        self.names = {name.lower() for name in names}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
        if allowed_host(host, self.names):
            return await self.app(scope, receive, send)
        body = json.dumps({"detail": f"This server does not answer to the host name "
                                     f"{_shown(host)}: open it by its IP address or as "
                                     "localhost, or ask whoever runs it to add the name to "
                                     "PLAYGROUND_ALLOWED_HOSTS."}).encode()
        await send({"type": "http.response.start", "status": 400,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                *SECURITY_HEADERS]})
        await send({"type": "http.response.body", "body": body})


def allowed_host(host: str, names: set[str]) -> bool:
    """``host`` is a Host header: a name or an address, with a port or not."""
    host = host.strip().lower()
    if host.startswith("["):  # [IPv6]:port
        address, _, _ = host[1:].partition("]")
        return _is_ip(address)
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name.endswith("."):
        name = name[:-1]
    return (name == "localhost" or name.endswith(".localhost") or _is_ip(name)
            or name in names)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _shown(host: str) -> str:
    return repr(host[:80]) if host else "(none)"


class SecurityHeaders:
    """The security headers on every answer (the app's own take precedence)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


class HeadAsGet:
    """HEAD wherever GET works: the GET's status and headers, without its body (and without
    waiting for the end of an endless one, such as an event stream)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def headers_only(message):
            if message["type"] == "http.response.start":
                await send(message)
            elif message["type"] == "http.response.body":
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                raise _Answered

        try:
            await self.app({**scope, "method": "GET"}, receive, headers_only)
        except _Answered:
            pass


class _Answered(Exception):
    pass
