"""One broadcast channel per network: events published once, read by any number of viewers.

Each event is encoded once, JSON and Server-Sent-Events framing together (per variant: a viewer
may ask for the boundary in its progress frames), by whoever publishes it, usually the training
thread; viewers only copy bytes. A slow
viewer never holds anything up: it skips progress frames it had no time for (only the newest
is sent) but never a snapshot or a done.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Hashable
from dataclasses import dataclass

from backend.settings import Settings

Variant = Hashable  # None (no boundary) or (resolution, neurons, neuron_resolution, encoding)

KEEPALIVE = b": ping\n\n"  # a comment line: keeps proxies and browsers from timing out
RELAY_HOLD_SECONDS = 20.0  # a relay's viewers count this long after it last said so


def sse(name: str, data: str) -> bytes:
    """One event on the wire. JSON text (as json.dumps writes it) holds no line break, so it
    is one ``data:`` line."""
    return b"event: " + name.encode() + b"\ndata: " + data.encode() + b"\n\n"


@dataclass(frozen=True)
class Event:
    seq: int
    name: str
    payloads: dict  # variant -> the event's bytes; None: the plain one every viewer can use

    def payload(self, variant: Variant) -> bytes:
        return self.payloads.get(variant, self.payloads[None])

    @property
    def nbytes(self) -> int:
        return sum(len(p) for p in self.payloads.values())


class Channel:
    KEEP = 64  # events kept for viewers that are behind
    KEEP_BYTES = 4_000_000  # and at most this many bytes of them (the newest is always kept)

    def __init__(self, keepalive_seconds: float = Settings.keepalive_seconds):
        """``keepalive_seconds``: a quiet stream sends a keep-alive comment this often (the
        setting ``keepalive_seconds``, which whoever makes the channel passes on). Events are
        published from any thread; a viewer waits on its own event loop, whichever it is."""
        self.keepalive_seconds = keepalive_seconds
        self._events: deque[Event] = deque()
        self._bytes = 0
        self._seq = itertools.count(1)
        self._last_seq = 0
        self._evicted = 0  # the newest event pushed out of the buffer (not a pruned frame)
        self._waiters: set[asyncio.Future] = set()
        self._variants: Counter = Counter()
        # Viewers elsewhere (another process relays this channel to them): key -> (their
        # count per variant, until when that holds unless renewed).
        self._remote: dict[Hashable, tuple[dict, float]] = {}
        self._lock = threading.Lock()
        self.closed = False

    @property
    def viewers(self) -> int:
        return sum(self.viewers_by_variant().values())

    def viewers_by_variant(self) -> dict[Variant, int]:
        """How many viewers follow each variant right now, here and through relays."""
        with self._lock:
            counts = Counter(self._variants)
            now = time.monotonic()
            for key, (variants, until) in list(self._remote.items()):
                if until < now:
                    del self._remote[key]
                else:
                    counts.update(variants)
            return {v: count for v, count in counts.items() if count > 0}

    def hold_remote(self, key: Hashable, variants: dict[Variant, int],
                    seconds: float = RELAY_HOLD_SECONDS) -> None:
        """``variants``: the viewers a relay (``key``) serves, counted for ``seconds``."""
        with self._lock:
            if variants:
                self._remote[key] = (dict(variants), time.monotonic() + seconds)
            else:
                self._remote.pop(key, None)

    def add_remote(self, key: Hashable, variant: Variant,
                   seconds: float = RELAY_HOLD_SECONDS) -> None:
        """One more viewer of ``variant`` at a relay (``key``), until the relay says again."""
        with self._lock:
            variants = dict(self._remote.get(key, ({}, 0.0))[0])
            variants[variant] = variants.get(variant, 0) + 1
            self._remote[key] = (variants, time.monotonic() + seconds)

    @property
    def nbytes(self) -> int:
        """The bytes of the events kept for viewers that are behind."""
        with self._lock:
            return self._bytes

    def publish(self, name: str, payloads: dict | str) -> None:
        """Add an event, JSON text per variant (from any thread); viewers are woken on the
        event loop."""
        if isinstance(payloads, str):
            payloads = {None: payloads}
        self.publish_encoded(name, {variant: sse(name, text) for variant, text in
                                    payloads.items()})

    def publish_encoded(self, name: str, encoded: dict, seq: int | None = None) -> None:
        """Add an event already on the wire (``sse`` bytes per variant); ``seq``: the number it
        has in the channel it is relayed from (it keeps it here), else the next one."""
        with self._lock:
            event = Event(next(self._seq) if seq is None else seq, name, encoded)
            if name == "progress":  # only the newest frame is worth keeping (they are big)
                kept = [e for e in self._events if e.name != "progress"]
                if len(kept) != len(self._events):
                    self._events = deque(kept)
                    self._bytes = sum(e.nbytes for e in kept)
            self._events.append(event)
            self._bytes += event.nbytes
            while len(self._events) > self.KEEP or (self._bytes > self.KEEP_BYTES
                                                     and len(self._events) > 1):
                oldest = self._events.popleft()  # a viewer still before it lost events
                self._bytes -= oldest.nbytes
                self._evicted = oldest.seq
            self._last_seq = event.seq
        self._wake()

    def close(self) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        """Wake the viewers waiting, each on its own loop (a Ray host's feed has a loop of its
        own, so that it never waits behind the requests)."""
        with self._lock:
            waiters, self._waiters = self._waiters, set()
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future]] = {}
        for fut in waiters:
            by_loop.setdefault(fut.get_loop(), []).append(fut)
        for loop, futures in by_loop.items():
            with contextlib.suppress(RuntimeError):  # the loop is closed or shutting down
                loop.call_soon_threadsafe(_resolve, futures)

    @property
    def last_seq(self) -> int:
        return self._last_seq

    async def wait_after(self, seq: int, timeout: float) -> bool:
        """Wait until an event after ``seq`` is published or the channel closes (True), or
        ``timeout`` seconds pass (False)."""
        return await wait_any([(self, seq)], timeout)

    def _ahead(self, seq: int) -> bool:
        return self._last_seq > seq or self.closed

    def since(self, seq: int) -> tuple[list[Event], bool]:
        """Events after ``seq`` (progress coalesced to the newest), and whether some were lost."""
        with self._lock:
            pending = [e for e in self._events if e.seq > seq]
            lost = seq < self._evicted
        last_progress = max((e.seq for e in pending if e.name == "progress"), default=None)
        return [e for e in pending if e.name != "progress" or e.seq == last_progress], lost

    async def listen(self, variant: Variant, after: int) -> AsyncIterator[bytes | None]:
        """Yield every event after ``after``, as bytes to send; KEEPALIVE after a quiet
        while; None when the viewer fell so far behind that events were lost (it should be
        sent a fresh snapshot)."""
        with self._lock:
            self._variants[variant] += 1
        try:
            seq = after
            while not self.closed:
                if self._last_seq <= seq:  # below: a relay's channel catching up
                    if not await self.wait_after(seq, self.keepalive_seconds):
                        yield KEEPALIVE
                    continue
                events, lost = self.since(seq)
                seq = max(seq, self._last_seq if not events else events[-1].seq)
                if lost:
                    yield None
                for event in events:
                    yield event.payload(variant)
        finally:
            with self._lock:
                self._variants[variant] -= 1
                if self._variants[variant] <= 0:
                    del self._variants[variant]


async def wait_any(channels: list[tuple[Channel, int]], timeout: float) -> bool:
    """Wait until one of the ``(channel, seq)`` has an event after ``seq`` or closes (True),
    or ``timeout`` seconds pass (False). The channels' loop is the running one."""
    if any(channel._ahead(seq) for channel, seq in channels):
        return True
    fut = asyncio.get_running_loop().create_future()
    for channel, _ in channels:
        with channel._lock:
            channel._waiters.add(fut)
    try:
        if any(channel._ahead(seq) for channel, seq in channels):
            return True
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            return False
        return True
    finally:  # also when the waiter is cancelled
        for channel, _ in channels:
            with channel._lock:
                channel._waiters.discard(fut)


def _resolve(futures: list[asyncio.Future]) -> None:
    for fut in futures:
        if not fut.done():
            fut.set_result(None)
