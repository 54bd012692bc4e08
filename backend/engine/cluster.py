"""The Ray engine as an API replica sees it: Ray joined (or started on this machine) and the
hosts found by name, or started when this is the first replica."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable

from backend.engine import inprocess
from backend.engine.host import settle
from backend.services.networks import host_of
from backend.settings import ONE_BLAS_THREAD, Settings, database_file

log = logging.getLogger(__name__)

NAMESPACE = "nn-playground"
READY_SECONDS = 120.0  # hosts starting (their first start imports and warms up the core)
# Answers and polls up to 1 MB go back inside the reply (Ray's default is 100 kB): beyond it
# they go through the object store, which costs a page's boundary answer 2 ms more CPU (in
# the raylet). A Ray started here gets it; a cluster's head gets it from
# `ray start --head --system-config='{"max_direct_call_object_size": 1048576}'`.
RAY_SYSTEM_CONFIG = {"max_direct_call_object_size": 1 << 20}
# Ray calls under way from this replica to one host at a time: the requests that come in
# meanwhile wait for one to end and go together in the next (HostLine).
CALLS_PER_HOST = 2
RETRY_SECONDS = 15.0  # a read whose host died is asked again for this long (Ray restarts it)
# The hosts' processes: one BLAS thread, as the command line sets its own, and at most two
# malloc arenas (backend/allocator.py; read by the C library as it starts).
HOST_ENV = {**ONE_BLAS_THREAD, "MALLOC_ARENA_MAX": "2"}


def host_name(index: int) -> str:
    return f"host-{index}"


class HostDied(Exception):
    """The host of a network stopped while answering (Ray starts it again)."""


class Cluster:
    def __init__(self, hosts: list, started_ray: bool):
        self.hosts = hosts
        self.lines = [HostLine(host) for host in hosts]
        self.started_ray = started_ray
        self._turn = itertools.count()

    @classmethod
    def connect(cls, settings: Settings) -> Cluster:
        """Join ``settings.ray_address`` (or start Ray on this machine's cores) and find the
        hosts there, starting those missing; ready to serve when this returns."""
        import ray

        started = not settings.ray_address
        # "local": a Ray of its own, never one found running here (`ray start` leaves a note
        # of its cluster that a plain ray.init() would join).
        ray.init(address=settings.ray_address or "local", namespace=NAMESPACE,
                 include_dashboard=False, logging_level=logging.WARNING,
                 log_to_driver=True, configure_logging=False,
                 **({} if settings.ray_address else {"_system_config": RAY_SYSTEM_CONFIG}))
        cpus = max(1.0, ray.cluster_resources().get("CPU", 1.0))
        directory = ray.remote(Directory).options(
            name="directory", get_if_exists=True, lifetime="detached", num_cpus=0,
        ).remote(settings.hosts or int(cpus))
        count = ray.get(directory.hosts.remote())
        if settings.hosts and settings.hosts != count:
            log.warning("this cluster already has %d hosts (--hosts %d ignored)", count,
                        settings.hosts)
        hosts = [host_actor(settings, index, count, cpus) for index in range(count)]
        ray.get([h.ready.remote() for h in hosts], timeout=READY_SECONDS)
        return cls(hosts, started)

    def host_index(self, network_id: str | None) -> int:
        """The host of a network; for a new one, each host in turn."""
        return host_of(network_id, len(self.hosts)) if network_id else \
            next(self._turn) % len(self.hosts)

    async def handle(self, host: int, request: inprocess.Request) -> inprocess.Answer:
        """Host ``host``'s answer to ``request`` (sent with the others that came with it)."""
        return await self._retrying(request, lambda: self.lines[host].ask(request))

    async def open_stream(self, host: int, request: inprocess.Request,
                          relay: str) -> tuple[inprocess.Answer, str]:
        """Host ``host``'s opening of a stream for the relay ``relay`` (Host.open_stream)."""
        return await self._retrying(
            request, lambda: self.hosts[host].open_stream.remote(request, relay))

    async def _retrying(self, request: inprocess.Request, ask: Callable[[], Awaitable]):
        """``ask()``; a read is asked again while Ray restarts a host that died, a change is
        not (it may have been done): HostDied."""
        import ray

        loop = asyncio.get_running_loop()
        give_up = loop.time() + RETRY_SECONDS
        while True:
            try:
                return await ask()
            except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError,
                    HostDied):
                if request.method not in ("GET", "HEAD") or loop.time() > give_up:
                    raise HostDied from None
            await asyncio.sleep(0.25)

    def stopping(self) -> None:
        """This replica is stopping: when it started Ray, its hosts stop too (their runs and
        long steps end and save now, without waiting for an answer here)."""
        if self.started_ray:
            for host in self.hosts:
                host.shutdown.remote()

    def close(self) -> None:
        """Leave the cluster; the hosts of a Ray started here stop first (each run saves what
        it did), with it."""
        import ray

        if self.started_ray:
            try:
                ray.get([h.shutdown.remote() for h in self.hosts], timeout=20)
            except Exception:
                log.exception("stopping the hosts")
        ray.shutdown()


class HostLine:
    """One host's requests as this replica sends them: those that come in together (in one
    turn of the event loop, or while ``CALLS_PER_HOST`` calls are under way) go in one Ray
    call, which costs little more than a call for one of them (a call's own cost, about 1 ms
    of CPU in the host and 0.5 ms here, is paid once: ``python -m bench.calls``). An answer
    the host has not finished when the others of its call are ready comes with a call of its
    own (Host.collect): a long step never holds up the reads sent with it, nor the line."""

    def __init__(self, host):
        self.host = host
        self._waiting: list[tuple[inprocess.Request, asyncio.Future]] = []
        self._calls = 0  # under way

    def ask(self, request: inprocess.Request) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        if not self._waiting and self._calls < CALLS_PER_HOST:
            loop.call_soon(self._send)  # those that come in before this runs go with it
        answer = loop.create_future()
        self._waiting.append((request, answer))
        return answer

    def _send(self) -> None:
        if not self._waiting or self._calls >= CALLS_PER_HOST:
            return  # (the call under way that ends first sends them)
        batch, self._waiting = self._waiting, []
        self._calls += 1
        asyncio.ensure_future(self._answer(batch))

    async def _answer(self, batch: list[tuple[inprocess.Request, asyncio.Future]]) -> None:
        try:
            answers = await self.host.handle_many.remote([request for request, _ in batch])
        except Exception as exc:  # the host died (or the call could not be made)
            answers = [exc] * len(batch)
        finally:
            self._calls -= 1
            self._send()  # what came in meanwhile
        for (request, answer), got in zip(batch, answers, strict=True):
            if got is None:  # still being answered there
                asyncio.ensure_future(self._collect(request.id, answer))
            else:
                settle(answer, got)

    async def _collect(self, request_id: str, answer: asyncio.Future) -> None:
        try:
            got = await self.host.collect.remote(request_id)
        except Exception as exc:
            got = exc
        settle(answer, HostDied() if got is None else got)  # None: a host started again


class Directory:
    """How many hosts the cluster has: the first replica decides, the others follow (every
    replica must find a network at the same host)."""

    def __init__(self, hosts: int):
        self._hosts = hosts

    def hosts(self) -> int:
        return self._hosts


def host_actor(settings: Settings, index: int, count: int, cpus: float):
    import ray

    from backend.engine.host import FEED_CONCURRENCY, FEED_GROUP, Host

    share = min(1.0, cpus / count)
    return ray.remote(concurrency_groups={FEED_GROUP: FEED_CONCURRENCY})(Host).options(
        name=host_name(index), namespace=NAMESPACE, get_if_exists=True, lifetime="detached",
        max_restarts=-1, max_concurrency=1000, num_cpus=share,
        runtime_env={"env_vars": HOST_ENV},
    ).remote(host_settings(settings), index, count, share)


def host_settings(settings: Settings) -> Settings:
    """The settings a host runs with: a SQLite file named from where the replica runs (a
    Ray worker's directory is not the replica's)."""
    path = database_file(settings.db)
    return settings if path is None else settings.with_overrides(db=str(path.resolve()))
