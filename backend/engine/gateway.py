"""An API replica of the Ray engine: every request about a network goes to the host that
holds it; event streams are relayed, one subscription per network per replica, fanned out
here to the replica's viewers. Everything else (the page, the catalog, the docs) is served
by the replica itself."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections import Counter

from starlette.responses import JSONResponse, Response, StreamingResponse

from backend.engine import inprocess
from backend.engine.cluster import Cluster, HostDied
from backend.services.streams import Channel

log = logging.getLogger(__name__)

PREFIX = "/api/networks"
POLL_SECONDS = 5.0  # a relay's long poll waits this long for an event
LINGER_SECONDS = 10.0  # a relay without viewers stays this long (a page reconnecting)
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class Gateway:
    """What a replica keeps: the cluster's hosts and its relays. The app puts ``middleware``
    (``ToHosts``, below) in front of its routes."""

    def __init__(self, cluster: Cluster, keepalive_seconds: float):
        self.cluster = cluster
        self.keepalive_seconds = keepalive_seconds
        self.name = secrets.token_hex(6)  # this replica, as the hosts count its viewers
        self.relays: dict[str, Relay] = {}
        self.middleware = ToHosts

    def on_exit(self) -> None:
        """At shutdown: every viewer's stream ends (the page reconnects to another replica);
        the hosts of a Ray started here stop their runs and long steps now."""
        for relay in list(self.relays.values()):
            relay.channel.close()
        self.cluster.stopping()

    async def serve(self, scope, receive, send) -> None:
        path = scope["path"]
        parts = path[len(PREFIX):].strip("/").split("/")
        network_id = parts[0] if parts[0] not in ("", "import") else None
        request = inprocess.Request(scope["method"], path, scope.get("query_string", b""),
                                    list(scope.get("headers", [])), await _body(receive),
                                    tuple(scope["client"]) if scope.get("client") else None)
        if network_id and parts[1:] == ["events"] and request.method == "GET":
            response = await self.stream(network_id, request)
        else:
            try:
                answer = await self.answer(network_id, request, receive)
                response = Response(answer.body, answer.status)
                response.raw_headers = answer.headers
            except HostDied:
                response = host_died()
        await response(scope, receive, send)

    async def answer(self, network_id: str | None, request: inprocess.Request, receive):
        """The host's answer; if the client leaves first, the host is told (as a client
        leaving the local engine is noticed: a long step ends at its next batch)."""
        answering = asyncio.ensure_future(self.cluster.handle(network_id, request))
        leaving = asyncio.ensure_future(receive())  # the body is read: next is the disconnect
        try:
            await asyncio.wait({answering, leaving}, return_when=asyncio.FIRST_COMPLETED)
            if not answering.done():
                self.cluster.host_for(network_id).client_left.remote(request.id)
            return await answering
        finally:
            leaving.cancel()

    async def stream(self, network_id: str, request: inprocess.Request) -> Response:
        try:
            answer, incarnation = await self.cluster.handle(network_id, request,
                                                             "open_stream")
        except HostDied:
            return host_died()
        if answer.status != 200:
            response = Response(answer.body, answer.status)
            response.raw_headers = answer.headers
            return response
        opening = json.loads(answer.body)
        variant = tuple(opening["variant"]) if opening["variant"] is not None else None
        relay = self.relays.get(network_id)
        if relay is None or relay.incarnation != incarnation or relay.channel.closed:
            relay = self.relays[network_id] = Relay(self, network_id, incarnation,
                                                     opening["after"])
        relay.join(variant)

        async def events():
            try:
                yield opening["snapshot"].encode()
                async for item in relay.channel.listen(variant, opening["after"]):
                    if item is not None:  # None: never here (a relay that loses events ends)
                        yield item
            finally:
                relay.leave(variant)

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers=STREAM_HEADERS)


class ToHosts:
    """ASGI middleware in front of the app: ``/api/networks...`` is the hosts' business."""

    def __init__(self, app, gateway: Gateway):
        self.app = app
        self.gateway = gateway

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == PREFIX or path.startswith(PREFIX + "/")):
            return await self.gateway.serve(scope, receive, send)
        return await self.app(scope, receive, send)


class Relay:
    """One network's events for this replica's viewers: a long poll on its host, published
    here to a channel the viewers listen to (the bytes as the host encoded them)."""

    def __init__(self, gateway: Gateway, network_id: str, incarnation: str, after: int):
        self.gateway = gateway
        self.network_id = network_id
        self.incarnation = incarnation
        self.channel = Channel(asyncio.get_running_loop(), gateway.keepalive_seconds)
        self.variants: Counter = Counter()
        self._task = asyncio.create_task(self._follow(after))

    def join(self, variant) -> None:
        self.variants[variant] += 1

    def leave(self, variant) -> None:
        self.variants[variant] -= 1
        if self.variants[variant] <= 0:
            del self.variants[variant]

    async def _follow(self, after: int) -> None:
        cluster = self.gateway.cluster
        idle_since = None
        loop = asyncio.get_running_loop()
        try:
            while True:
                host = cluster.host_for(self.network_id)
                answer = await host.poll.remote(self.network_id, self.gateway.name, after,
                                                dict(self.variants), POLL_SECONDS)
                if answer["incarnation"] != self.incarnation or answer["closed"] or \
                        answer["lost"]:
                    return  # the viewers reconnect and start again from a snapshot
                for seq, name, payloads in answer["events"]:
                    self.channel.publish_encoded(name, payloads, seq)
                    after = seq
                if self.variants:
                    idle_since = None
                elif idle_since is None:
                    idle_since = loop.time()
                elif loop.time() - idle_since > LINGER_SECONDS:
                    host.poll.remote(self.network_id, self.gateway.name, after, {}, 0)
                    return
                if not self.variants:
                    await asyncio.sleep(1.0)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the host died: the viewers reconnect (it restarts)
            log.info("relay of %s ended: %s", self.network_id, exc)
        finally:
            self.channel.close()
            if self.gateway.relays.get(self.network_id) is self:
                del self.gateway.relays[self.network_id]


def host_died() -> Response:
    return JSONResponse(
        {"detail": "The server that holds this network stopped while answering and is "
                   "starting again: the network comes back from its last checkpoint. Try "
                   "again in a few seconds.", "retry_after": 2},
        status_code=503, headers={"Retry-After": "2"})


async def _body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)
