"""A host: the Ray actor that holds the live networks whose ids fall to it (its shard).

It runs the same app as the local engine, in-process: a replica hands it each request for
one of its networks (:meth:`Host.handle`), so both engines answer alike. Within the host
every network's calls are serialised as in one process (its lock, or its run's thread), and
training runs here, off the replicas. Each replica follows a network's events with one long
poll (:meth:`Host.poll`) and fans them out to its own viewers; the frames are encoded here,
once per network.

When its process dies (killed, or by Ray's memory monitor), Ray starts the host again on a
worker: its networks come back from the store when next asked for, with the weights of
their last checkpoint.
"""

from __future__ import annotations

import asyncio
import math
import os
import secrets
from collections.abc import Callable
from typing import Any

import anyio
from fastapi.concurrency import run_in_threadpool

from backend import allocator
from backend.api.routes.training import RELAY_SCOPE_KEY
from backend.engine import inprocess
from backend.services.networks import Peers, Shard
from backend.services.streams import wait_any
from backend.settings import Settings

# After the first network a poll finds an event for, the others' events this soon after come
# along: one poll carries a moment of every followed network's frames.
GATHER_SECONDS = 0.02
# The polls run on an event loop of their own (a Ray concurrency group), so that frames never
# wait behind the requests queued on the host's main loop; this many at once (each replica
# has one poll at a time here, and its nudges).
FEED_GROUP = "feed"
FEED_CONCURRENCY = 64


# A network's answer in a poll when its stream ended here: its viewers reconnect.
CLOSED = {"closed": True, "lost": False, "events": []}


# The answers of one call (Host.handle_many) go back once none has come for this long; any
# not ready then (a long step) is collected by a call of its own.
STRAGGLER_SECONDS = 0.03
# ... or at once when none came in this long: a replica sends its next requests to this host
# when a call ends (cluster.CALLS_PER_HOST), and long steps alone must not hold them.
FIRST_ANSWER_SECONDS = 0.1
COLLECT_SECONDS = 60.0  # an answer left for collecting is kept this long (its replica died)
SHUTDOWN_SECONDS = 5.0  # at most, for the requests being answered to end at a shutdown
PEER_SECONDS = 60.0  # at most, for another host's answer


class Host:
    def __init__(self, settings: Settings, index: int, count: int, cpus: float = 1.0):
        """``cpus``: the cores Ray gave this host, of its machine's. A run at full speed keeps
        a core busy (its kernel leaves the interpreter lock), so a host trains at most one run
        per core it has, and no more than its share of the runs the machine would train at
        once (``max_concurrent_runs``); at least one. More would take the core its requests
        need: two runs per host on two cores doubled the writes' p50 (docs/SCALING.md)."""
        allocator.tune()  # as the command line does for its process: freed memory goes back
        share = cpus / (os.cpu_count() or 1)
        runs = max(1, min(math.ceil(settings.max_concurrent_runs * share), math.floor(cpus)))
        self.settings = settings.with_overrides(
            max_concurrent_runs=runs, max_large_runs=min(settings.max_large_runs, runs))
        self.shard = Shard(index, count)
        self.incarnation = secrets.token_hex(8)  # a new one each time Ray starts it again
        self._app = None
        self._lifespan = None
        self._requests: dict[str, asyncio.Event] = {}  # being answered, by id
        self._late: dict[str, asyncio.Future] = {}  # answers to collect, by request id
        self._stopping: asyncio.Future | None = None
        self._nudges: dict[str, asyncio.Event] = {}  # by relay: set when it follows more
        self._tasks = KeptTasks()  # where requests are answered

    async def _started(self):
        await self._tasks.start()
        if self._app is None:  # the first call (Ray runs an actor's __init__ without a loop)
            from backend.api.app import create_app

            app = create_app(self.settings, self.shard, RayPeers(asyncio.get_running_loop()))
            lifespan = app.router.lifespan_context(app)
            await lifespan.__aenter__()
            if self._app is None:
                self._app, self._lifespan = app, lifespan
            else:  # two first calls at once: keep the one that finished first
                await lifespan.__aexit__(None, None, None)
        return self._app

    async def ready(self) -> dict:
        await self._started()
        return {"incarnation": self.incarnation, "pid": os.getpid(), "index": self.shard.index}

    async def handle(self, request: inprocess.Request) -> inprocess.Answer:
        """The app's answer to one request (a replica sends its requests with handle_many)."""
        await self._started()
        return await self._tasks.spawn(self._answer(request))

    async def _answer(self, request: inprocess.Request) -> inprocess.Answer:
        left = self._requests[request.id] = asyncio.Event()
        try:
            return await inprocess.call(self._app, request, left=left)
        finally:
            del self._requests[request.id]

    async def handle_many(self, requests: list[inprocess.Request]) -> list:
        """The answers to ``requests``, sent together by a replica (cluster.HostLine), in
        their order: each an Answer or the error it raised, or None for one still being
        answered when this returns (:meth:`collect` gives it). It returns once they are all
        ready, or ``STRAGGLER_SECONDS`` after the last one ready, or after
        ``FIRST_ANSWER_SECONDS`` with none ready."""
        await self._started()
        answering = [self._tasks.spawn(self._answer(request)) for request in requests]
        done, pending = await asyncio.wait(answering, timeout=FIRST_ANSWER_SECONDS,
                                           return_when=asyncio.FIRST_COMPLETED)
        while pending and done:  # the rest as long as they keep coming
            done, pending = await asyncio.wait(pending, timeout=STRAGGLER_SECONDS,
                                               return_when=asyncio.FIRST_COMPLETED)
        loop = asyncio.get_running_loop()
        outcomes = []
        for request, a in zip(requests, answering, strict=True):
            if a.done():
                outcomes.append(a.exception() or a.result())
                continue
            self._late[request.id] = a
            a.add_done_callback(lambda _, request_id=request.id: loop.call_later(
                COLLECT_SECONDS, self._late.pop, request_id, None))
            outcomes.append(None)
        return outcomes

    async def collect(self, request_id: str) -> inprocess.Answer | None:
        """The answer to a request of :meth:`handle_many` not ready when it returned; None if
        this host never had it (it was started again since)."""
        answering = self._late.pop(request_id, None)
        return None if answering is None else await answering

    async def client_left(self, request_id: str) -> None:
        """The client of a request being answered went away (a long step ends early)."""
        left = self._requests.get(request_id)
        if left is not None:
            left.set()

    async def open_stream(self, request: inprocess.Request,
                          relay: str) -> tuple[inprocess.Answer, str]:
        """Where the relay ``relay`` of a replica starts ``GET /events``: the app's JSON answer
        (variant, sequence number and the first snapshot) or its error; and this host's
        incarnation. The viewer counts here from now on."""
        await self._started()
        answer = await self._tasks.spawn(
            inprocess.call(self._app, request, {RELAY_SCOPE_KEY: relay}))
        return answer, self.incarnation

    async def poll(self, relay: str, follows: dict[str, tuple[int, dict]],
                   wait: float) -> dict:
        """The events of the networks the relay ``relay`` follows, ``{network_id: (after,
        {variant: viewers})}``, after ``after`` each: as soon as one has some (and what the
        others have a moment later), or after ``wait`` seconds with none. Per network:
        ``closed``, its stream ended here (the network left memory or was deleted: the viewers
        reconnect); ``lost``, events were dropped before the relay got them; ``events``, with
        the payloads of the variants asked for only. Networks with nothing new are left out.
        Following with no viewers lets go of a network. Runs on the feed's loop
        (``FEED_GROUP``): it touches the networks only through their channels' locks."""
        if self._app is None:  # started again, and not asked anything yet: nothing is here
            return {"incarnation": self.incarnation,
                    "networks": {network_id: CLOSED for network_id in follows}}
        networks = self._app.state.services.networks
        answer, followed = {}, []
        for network_id, (after, variants) in follows.items():
            entry = networks.in_memory(network_id)
            # A channel behind the relay: the network left memory and came back (a new one).
            if entry is None or entry.channel.closed or after > entry.channel.last_seq:
                answer[network_id] = CLOSED
                continue
            entry.channel.hold_remote(relay, variants)
            if variants:
                followed.append((network_id, entry.channel, after, variants))
        nudged = self._nudges.setdefault(relay, asyncio.Event())
        if followed and not answer and not nudged.is_set():
            news = asyncio.ensure_future(
                wait_any([(channel, after) for _, channel, after, _ in followed], wait))
            try:
                if await first(news, nudged.wait()) and news.result():
                    await asyncio.sleep(GATHER_SECONDS)
            finally:
                news.cancel()
        nudged.clear()
        for network_id, channel, after, variants in followed:
            events, lost = channel.since(after)
            if events or lost or channel.closed:
                answer[network_id] = {"closed": channel.closed, "lost": lost, "events": [
                    (e.seq, e.name, {v: p for v, p in e.payloads.items()
                                     if v is None or v in variants}) for e in events]}
        return {"incarnation": self.incarnation, "networks": answer}

    async def nudge(self, relay: str) -> None:
        """The relay ``relay`` follows something new: its poll under way answers now (or the
        next one does, if this comes first). On the feed's loop, as the polls."""
        self._nudges.setdefault(relay, asyncio.Event()).set()

    async def peer(self, fn: Callable[..., Any], network_id: str, *args):
        """``fn(service, network_id, *args)`` for another host (NetworkService.on)."""
        app = await self._started()
        return await self._tasks.spawn(
            run_in_threadpool(fn, app.state.services.networks, network_id, *args))

    async def shutdown(self) -> None:
        """Stop the runs and the long steps (each saves what it did) and end the streams,
        before Ray stops: the requests being answered end first (they save their work). A
        second call waits for the first to finish."""
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._shutdown())
        await asyncio.shield(self._stopping)

    async def _shutdown(self) -> None:
        if self._lifespan is None:
            return
        app, lifespan = self._app, self._lifespan
        app.state.on_exit()
        loop = asyncio.get_running_loop()
        give_up = loop.time() + SHUTDOWN_SECONDS
        while self._requests and loop.time() < give_up:
            await asyncio.sleep(0.05)
        await lifespan.__aexit__(None, None, None)
        self._tasks.stop()


class KeptTasks:
    """Tasks under one long-lived AnyIO task group, where the host answers requests. AnyIO
    ties the worker threads that run the app's sync routes to the outermost task of their
    task tree: a request answered in a task of Ray's own started a thread and stopped it when
    it ended; under this group the threads are kept for the next requests."""

    def __init__(self):
        self._group = None
        self._holder: asyncio.Future | None = None
        self._ready: asyncio.Future | None = None

    async def start(self) -> None:
        if self._ready is None:
            self._ready = asyncio.get_running_loop().create_future()
            self._holder = asyncio.ensure_future(self._hold())
        await self._ready

    async def _hold(self) -> None:
        async with anyio.create_task_group() as group:
            self._group = group
            self._ready.set_result(None)
            await anyio.sleep_forever()

    def spawn(self, coroutine) -> asyncio.Future:
        """``coroutine`` run in the group (started): the future of its outcome."""
        outcome = asyncio.get_running_loop().create_future()

        async def run() -> None:
            try:
                settle(outcome, await coroutine)
            except asyncio.CancelledError:  # the group ends (the host stops)
                outcome.cancel()
                raise
            except Exception as exc:
                settle(outcome, exc)

        self._group.start_soon(run)
        return outcome

    def stop(self) -> None:
        if self._holder is not None:
            self._holder.cancel()


def settle(future: asyncio.Future, outcome) -> None:
    """``future`` ends with ``outcome``: its result, or the error it is; unless it has ended
    already (given up by its waiter)."""
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


async def first(awaited, other) -> bool:
    """Wait for ``awaited`` or ``other``, whichever ends first; ``other`` is cancelled if it
    has not ended (``awaited`` never is). Whether ``awaited`` ended."""
    awaited, other = asyncio.ensure_future(awaited), asyncio.ensure_future(other)
    try:
        await asyncio.wait({awaited, other}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        other.cancel()
    return awaited.done()


class RayPeers(Peers):
    """The other hosts, found by name in the cluster. Called from a request's thread; the
    answer is awaited on the host's event loop (a blocking ray.get there would hold it)."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop

    def call(self, host: int, fn: Callable[..., Any], network_id: str, *args):
        import ray

        from backend.engine.cluster import NAMESPACE, host_name

        handle = ray.get_actor(host_name(host), namespace=NAMESPACE)  # here: it may wait

        async def ask():
            return await handle.peer.remote(fn, network_id, *args)

        try:
            return asyncio.run_coroutine_threadsafe(ask(), self.loop).result(PEER_SECONDS)
        except ray.exceptions.RayTaskError as exc:
            raise (exc.cause or exc) from None
