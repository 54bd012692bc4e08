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
from collections.abc import Callable

from starlette.responses import JSONResponse, Response, StreamingResponse

from backend.engine import inprocess
from backend.engine.cluster import Cluster, HostDied
from backend.engine.host import FEED_GROUP, first
from backend.services.streams import Channel

log = logging.getLogger(__name__)

PREFIX = "/api/networks"
POLL_SECONDS = 5.0  # a feed's long poll waits this long for an event
IDLE_POLL_SECONDS = 1.0  # a feed whose networks nobody watches asks this often
LINGER_SECONDS = 10.0  # a relay without viewers stays this long (a page reconnecting)
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class Gateway:
    """What a replica keeps: the cluster's hosts and its relays. The app puts ``middleware``
    (``ToHosts``, below) in front of its routes."""

    def __init__(self, cluster: Cluster, keepalive_seconds: float):
        self.cluster = cluster
        self.keepalive_seconds = keepalive_seconds
        self.name = secrets.token_hex(6)  # this replica, as the hosts count its viewers
        self.feeds: dict[int, HostFeed] = {}  # by host
        self.middleware = ToHosts

    def on_exit(self) -> None:
        """At shutdown: every viewer's stream ends (the page reconnects to another replica);
        the hosts of a Ray started here stop their runs and long steps now."""
        for feed in self.feeds.values():
            feed.close()
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
                response = as_response(await self.answer(network_id, request, receive))
            except HostDied:
                response = host_died()
        await response(scope, receive, send)

    async def answer(self, network_id: str | None, request: inprocess.Request, receive):
        """The host's answer; if the client leaves first, the host is told (as a client
        leaving the local engine is noticed: a long step ends at its next batch)."""
        host = self.cluster.host_index(network_id)  # one for a new network too
        answering = asyncio.ensure_future(self.cluster.handle(host, request))
        # The body is read: what receive() gives next is the disconnect.
        if not await first(answering, receive()):
            self.cluster.hosts[host].client_left.remote(request.id)
        return await answering

    async def stream(self, network_id: str, request: inprocess.Request) -> Response:
        host = self.cluster.host_index(network_id)
        feed = self.feed(host)
        for _ in range(3):
            try:
                answer, incarnation = await self.cluster.open_stream(host, request, self.name)
            except HostDied:
                return host_died()
            if answer.status != 200:
                return as_response(answer)
            opening = json.loads(answer.body)
            relay = feed.relay(network_id, incarnation, opening["after"])
            if opening["after"] >= relay.began:  # its relay has every event after it
                break  # (else an opening answered before the relay's began: ask again)
        else:
            return host_died()
        variant = tuple(opening["variant"]) if opening["variant"] is not None else None

        async def events():
            relay.join(variant)  # here: a viewer gone before its stream began never counts
            try:
                yield opening["snapshot"].encode()
                async for item in relay.channel.listen(variant, opening["after"]):
                    if item is None:  # it fell behind and events were lost: it reconnects
                        return  # (and starts again from a snapshot)
                    yield item
            finally:
                relay.leave(variant)

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers=STREAM_HEADERS)

    def feed(self, host: int) -> HostFeed:
        if host not in self.feeds:
            self.feeds[host] = HostFeed(self, host)
        return self.feeds[host]


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
    """One network's events for this replica's viewers: a channel they listen to, fed by its
    host's feed with the bytes as the host encoded them."""

    def __init__(self, network_id: str, incarnation: str, after: int, keepalive: float,
                 on_new_variant: Callable[[], None]):
        """``on_new_variant``: called when a viewer asks for a variant no other one here
        follows (the feed must carry it from now on)."""
        self.network_id = network_id
        self.incarnation = incarnation
        self.began = after  # its channel holds the events after this one
        self.after = after  # the last event received
        self.channel = Channel(keepalive)
        self.variants: Counter = Counter()  # this replica's viewers, per frame variant
        self.idle_since: float | None = None
        self._on_new_variant = on_new_variant

    def join(self, variant) -> None:
        self.variants[variant] += 1
        if self.variants[variant] == 1:
            self._on_new_variant()

    def leave(self, variant) -> None:
        self.variants[variant] -= 1
        if self.variants[variant] <= 0:
            del self.variants[variant]


class HostFeed:
    """This replica's subscription to one host: a single long poll at a time carries the
    events of every network its viewers follow there (one subscription per network, however
    many viewers), and each goes to that network's relay."""

    def __init__(self, gateway: Gateway, host: int):
        self.gateway = gateway
        self.host = host
        self.relays: dict[str, Relay] = {}
        self.released: set[str] = set()  # relays gone: the host hears it once
        self._changed = asyncio.Event()
        self._task: asyncio.Task | None = None

    def relay(self, network_id: str, incarnation: str, after: int) -> Relay:
        """The network's relay, made (and followed) if there is none for this incarnation."""
        relay = self.relays.get(network_id)
        if relay is None or relay.incarnation != incarnation or relay.channel.closed:
            if relay is not None:
                self._drop(relay)
            relay = self.relays[network_id] = Relay(network_id, incarnation, after,
                                                    self.gateway.keepalive_seconds,
                                                    self._changed.set)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._follow())
        return relay

    def close(self) -> None:
        for relay in list(self.relays.values()):
            self._drop(relay)

    def _drop(self, relay: Relay) -> None:
        relay.channel.close()  # its viewers reconnect (and start again from a snapshot)
        if self.relays.get(relay.network_id) is relay:
            del self.relays[relay.network_id]
            self.released.add(relay.network_id)

    async def _follow(self) -> None:
        host = self.gateway.cluster.hosts[self.host]
        loop = asyncio.get_running_loop()
        try:
            while self.relays or self.released:
                self._changed.clear()
                follows = {nid: (r.after, dict(r.variants)) for nid, r in self.relays.items()}
                follows.update({nid: (0, {}) for nid in self.released - set(follows)})
                self.released.clear()
                ref = host.poll.options(concurrency_group=FEED_GROUP).remote(
                    self.gateway.name, follows, POLL_SECONDS)
                polled = asyncio.ensure_future(ref)
                if not await first(polled, self._changed.wait()):
                    # A variant to carry that the poll under way does not know: it answers
                    # now, and the next one asks for it. (Not cancelled: while viewers arrive
                    # one after another, polls cancelled for each would carry nothing.)
                    host.nudge.options(concurrency_group=FEED_GROUP).remote(self.gateway.name)
                answer = await polled
                for network_id, got in answer["networks"].items():
                    relay = self.relays.get(network_id)
                    if relay is None:
                        continue
                    if answer["incarnation"] != relay.incarnation or got["closed"] or \
                            got["lost"]:
                        self._drop(relay)
                        continue
                    for seq, name, payloads in got["events"]:
                        relay.channel.publish_encoded(name, payloads, seq)
                        relay.after = seq
                self._let_go_of_unwatched(loop.time())
                if not any(r.variants for r in self.relays.values()):
                    # Nobody watches now: no need to ask often, until a viewer comes.
                    await first(asyncio.sleep(IDLE_POLL_SECONDS), self._changed.wait())
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the host died: its viewers reconnect (Ray restarts it)
            log.info("the feed of host %d ended: %s", self.host, exc)
            self.close()
            self.released.clear()  # a host started again knows none of them

    def _let_go_of_unwatched(self, now: float) -> None:
        for relay in list(self.relays.values()):
            if relay.variants:
                relay.idle_since = None
            elif relay.idle_since is None:
                relay.idle_since = now
            elif now - relay.idle_since > LINGER_SECONDS:
                self._drop(relay)


def as_response(answer: inprocess.Answer) -> Response:
    """A host's answer as this replica sends it on, headers and all."""
    response = Response(answer.body, answer.status)
    response.raw_headers = answer.headers
    return response


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
