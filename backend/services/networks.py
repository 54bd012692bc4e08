"""The live networks: created, loaded from the store, changed under a lock, saved, evicted.

While a training run owns a network, the run's thread is the only one that touches it:
every other call on that network is handed to the run (:meth:`Entry.call`) and carried out
between two epochs, so nothing ever sees half an update.
"""

from __future__ import annotations

import hashlib
import hmac
import queue
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from backend import allocator
from backend.core.experiment import Experiment
from backend.services import costs, views
from backend.services.errors import Busy, Conflict, Forbidden, NotFound, TooManyRequests
from backend.services.jsontext import dumps
from backend.services.store import Store, encode_with, now_iso
from backend.services.streams import Channel
from backend.settings import Settings

MAX_HOPS = 32  # along replaced_by: as far as a page follows (frontend/js/watch.js)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Mailbox:
    """Calls waiting for a running training thread to carry them out between epochs."""

    def __init__(self):
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._lock = threading.Lock()

    def call(self, fn: Callable[[Experiment], Any], timeout: float = 30.0):
        done = threading.Event()
        box: dict = {}
        with self._lock:
            if self._closed:
                raise _MailboxClosed
            self._calls.put((fn, box, done))
        if not done.wait(timeout):
            with self._lock:
                if not done.is_set():  # too late: the run must not carry it out after all
                    box["cancelled"] = True
                    raise Conflict("the training run did not answer in time; try again")
        if "error" in box:
            raise box["error"]
        return box["result"]

    @property
    def waiting(self) -> bool:
        return not self._calls.empty()

    def open(self) -> None:
        """Take calls again (a run's next slice has begun)."""
        with self._lock:
            self._closed = False

    def drain(self, exp: Experiment, close: bool = False) -> None:
        """Carry out the waiting calls; ``close``: refuse new ones first (they go elsewhere)."""
        with self._lock:
            if close:
                self._closed = True
        while True:
            try:
                fn, box, done = self._calls.get_nowait()
            except queue.Empty:
                return
            with self._lock:
                if box.get("cancelled"):
                    continue
            try:
                box["result"] = fn(exp)
            except Exception as exc:  # handed back to the caller's thread
                box["error"] = exc
            with self._lock:
                done.set()


class _MailboxClosed(Exception):
    pass


@dataclass
class Run:
    """A background run: its epochs, and where it is in them. Between two of its time slices
    (``parked``) no thread trains it, and calls on its network are carried out at once."""

    epochs: int
    max_epochs_per_second: float | None
    stop: threading.Event = field(default_factory=threading.Event)
    mailbox: Mailbox = field(default_factory=Mailbox)
    finished: threading.Event = field(default_factory=threading.Event)
    status: str = "queued"  # queued; training (on a thread) or parked; ending (its last save)
    cancelled: bool = False  # stopped while queued: it never ran
    stop_reason: str = "stopped"
    done: int = 0  # epochs trained so far
    started: float | None = None  # time.monotonic() of its first slice
    last_checkpoint: float = 0.0
    frames: Any = None  # the stream's pacing of its progress frames (services.training)


@dataclass(eq=False)
class Entry:
    id: str
    token_hash: str
    experiment: Experiment
    created_at: str
    updated_at: str
    channel: Channel
    last_run: dict | None = None
    replaced_by: str | None = None  # the network its owner moved on to (followers go along)
    parent: str | None = None  # the network this one was forked from
    name: str | None = None  # a display name its owner gave it (when forking)
    run: Run | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)
    last_used: float = field(default_factory=time.monotonic)
    held: int = 0  # bytes in memory when last counted (services.networks.held_bytes)
    samples: dict | None = None  # those of the batch begun step by step (views.samples)

    @property
    def status(self) -> str:
        """idle, queued or training (a run between its slices is training too)."""
        if self.run is None or self.run.status == "ending":
            return "idle"
        return "queued" if self.run.status == "queued" else "training"

    def end_run(self, reason: str, message: str) -> dict:
        """Record how a run (or a step) ended, at the network's counters: the `last_run`."""
        t = self.experiment.trainer
        self.last_run = {"reason": reason, "message": message, "epoch": t.epoch,
                         "iteration": t.iteration}
        return self.last_run

    def meta(self) -> dict:
        return {"id": self.id, "created_at": self.created_at, "updated_at": self.updated_at,
                "status": self.status, "last_run": self.last_run,
                "replaced_by": self.replaced_by, "parent": self.parent, "name": self.name}

    def call(self, fn: Callable[[Experiment], Any]):
        """Run ``fn(experiment)`` safely: here under the lock, or by the training thread."""
        while True:
            with self.lock:
                run = self.run
                if run is None or run.status in ("queued", "parked"):  # no thread owns it now
                    return fn(self.experiment)
            try:
                return run.mailbox.call(fn)
            except _MailboxClosed:  # the run is parking (try again) or ending (wait for it)
                if run.status == "ending":
                    run.finished.wait(5)

    def document(self) -> dict:
        """What the store keeps (everything but the data, which is stored once)."""
        return {**self.experiment.to_dict(with_data=False), "last_run": self.last_run,
                "status": self.status, "replaced_by": self.replaced_by, "parent": self.parent,
                "name": self.name}

    def check_token(self, token: str | None) -> None:
        if not hmac.compare_digest(hash_token(token or ""), self.token_hash):
            raise Forbidden("this token does not own this network")


class NetworkService:
    """The networks: in memory while in use, within a budget of bytes, and in the store.

    Every network's bytes are counted (its arrays, the events kept for its viewers and a fixed
    overhead) after each call that may change them. Over the budget, the least recently used
    networks first give up their caches (grids, workspaces: made again when needed), then
    leave memory (never the store): idle ones first, then those only watched (their viewers'
    streams end; the page reconnects and finds it again). Running networks stay; when they
    alone fill the budget, a network that would need room is refused for now (Busy).
    """

    def __init__(self, store: Store, settings: Settings,
                 shard: Shard | None = None, peers: Peers | None = None):
        """``shard``: the networks this process holds (all of them by default); ``peers``:
        how to reach the processes that hold the others (the Ray engine's hosts)."""
        self.store = store
        self.settings = settings
        self.shard = shard or Shard()
        self.peers = peers
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._reclaiming = threading.Lock()

    # -- making and finding networks ------------------------------------------------------

    def add(self, experiment: Experiment, client: str | None = None,
            parent: str | None = None, name: str | None = None,
            network_id: str | None = None) -> tuple[Entry, str]:
        """A new network with a fresh id and token, stored before this returns. ``client``:
        the address it comes from, which may make only so many networks an hour; ``parent``
        and ``name``: the network it is a fork of, and what its owner calls it; ``network_id``:
        the id it gets (one of this service's shard), else a fresh one."""
        if network_id is not None and not self.shard.owns(network_id):
            raise RuntimeError(f"network {network_id} belongs to another host")
        self.check_quotas(client)
        token = secrets.token_urlsafe(32)
        stamp = now_iso()
        entry = Entry(network_id or self.shard.new_id(), hash_token(token), experiment,
                      stamp, stamp, Channel(self.settings.keepalive_seconds),
                      parent=parent, name=name)
        entry.held = held_bytes(entry)
        self.make_room(entry.held)
        self._save(entry, with_data=True, client=client)
        self._remember(entry)
        return entry, token

    def in_memory(self, network_id: str) -> Entry | None:
        """The network if it is in memory (never blocks on the store), else None."""
        with self._lock:
            entry = self._entries.get(network_id)
            if entry is not None:
                self._entries.move_to_end(network_id)
                entry.last_used = time.monotonic()
            return entry

    def get(self, network_id: str) -> Entry:
        entry = self.in_memory(network_id)
        if entry is not None:
            return entry
        loaded = self.store.load(network_id) if _plausible_id(network_id) else None
        if loaded is None:
            raise NotFound(f"no network with id {network_id!r}")
        if not self.shard.owns(network_id):  # a second live copy would diverge from the first
            raise RuntimeError(f"network {network_id} belongs to host "
                               f"{self.shard.host_of(network_id)}, not to this one")
        token_hash, doc, created_at, updated_at = loaded
        last_run = doc.get("last_run")
        if doc.get("status") in ("training", "queued"):
            last_run = {"reason": "server restarted", "epoch": doc["training"]["epoch"],
                        "iteration": doc["training"]["iteration"],
                        "message": "The server restarted during this run; the weights are "
                                   "those of its last checkpoint."}
        entry = Entry(network_id, token_hash, Experiment.from_dict(doc), created_at,
                      updated_at, Channel(self.settings.keepalive_seconds),
                      last_run=last_run,
                      replaced_by=doc.get("replaced_by"), parent=doc.get("parent"),
                      name=doc.get("name"))
        entry.held = held_bytes(entry)
        self.make_room(entry.held)
        with self._lock:
            existing = self._entries.get(network_id)
            if existing is not None:  # loaded twice at once: keep the first
                return existing
            self._entries[network_id] = entry
        self.store.touch(network_id)
        return entry

    def delete(self, entry: Entry) -> None:
        with self._lock:
            self._entries.pop(entry.id, None)
        self.store.delete(entry.id)
        entry.channel.close()
        allocator.give_back()

    def entries(self) -> list[Entry]:
        with self._lock:
            return list(self._entries.values())

    # -- changing -------------------------------------------------------------------------

    def change(self, entry: Entry, fn: Callable[[Experiment], Any]):
        """Apply ``fn`` to the network, store the result and show it to every viewer, all
        before any other change can come in between."""
        def apply(exp: Experiment):
            before, entry.updated_at = entry.updated_at, now_iso()  # as the answer shows it
            try:
                result = fn(exp)
            except Exception:
                entry.updated_at = before  # nothing changed
                raise
            finally:
                entry.held = held_bytes(entry)
            self._save(entry)
            publish_snapshot(entry)
            return result

        try:
            return entry.call(apply)
        finally:
            self.reclaim()

    def reset(self, entry: Entry, seed: int | None = None) -> dict:
        """New initial weights (the same seed, or ``seed``), counters and history cleared, and
        no ``last_run`` (it told of a run of the weights now gone); the new state."""
        def reset(exp: Experiment) -> dict:
            require_idle(entry)
            exp.reset(seed)
            entry.last_run = None
            return snapshot(entry)

        return self.change(entry, reset)

    def replace(self, entry: Entry, successor_id: str) -> None:
        """Its owner moved on to ``successor_id``: viewers are sent there (a ``replaced``
        event) and the state says so, for anyone who opens the old link later.

        ``successor_id`` may be ``entry``'s own id when it was replaced by one of its forks (a
        teacher showing a student's network): its owner is back, and the viewers it sent to
        the fork are called back (a ``replaced`` event on the fork, marked ``back``: the
        fork's own owner stays)."""
        if successor_id == entry.id and not entry.replaced_by:
            raise Conflict("a network cannot replace itself")
        successor = self.on(successor_id, describe)  # NotFound when there is none
        away = entry.replaced_by if successor_id == entry.id else None

        def mark(exp: Experiment) -> None:  # by whoever owns the network now (a run, maybe)
            entry.replaced_by = None if away else successor_id
            self.save(entry)

        entry.call(mark)
        if not away:
            self._inherit(entry, successor)
            entry.channel.publish("replaced", dumps({"id": entry.id, "by": successor_id}))
            return
        # The fork's owner may have moved on since (new data or shape): its viewers with them.
        for _ in range(MAX_HOPS):
            if not away:
                return
            away = self.on(away, call_back, entry.id)

    def _inherit(self, entry: Entry, successor: dict) -> None:
        """A fork's owner who made a new network in its place (new data or a new shape) is
        still one of the parent's class: the new network (made after it, forked from
        nothing) becomes the fork, with its name."""
        if entry.parent is None or successor["parent"] is not None or \
                successor["created_at"] <= entry.created_at:
            return
        self.on(successor["id"], adopt, entry.parent, entry.name)

    def on(self, network_id: str, fn: Callable[..., Any], *args):
        """``fn(service, network_id, *args)`` by the service that holds the network: this one,
        or a peer's (``fn`` a module-level function, so that it can be sent there)."""
        if self.peers is None or self.shard.owns(network_id):
            return fn(self, network_id, *args)
        return self.peers.call(self.shard.host_of(network_id), fn, network_id, *args)

    def read(self, entry: Entry, fn: Callable[[Experiment], Any]):
        def look(exp: Experiment):
            try:
                return fn(exp)
            finally:
                entry.held = held_bytes(entry)

        try:
            return entry.call(look)
        finally:
            self.reclaim()

    # -- the store's quotas -----------------------------------------------------------------

    def check_quotas(self, client: str | None) -> None:
        """Room in the store, and this client under its hourly number of new networks."""
        s = self.settings
        hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="milliseconds")
        made = self.store.created_by(client, hour_ago) if client is not None else 0
        if made >= s.max_creates_per_client_per_hour:
            raise TooManyRequests(
                f"this address has made {made} networks in the last hour, as many as one "
                f"client may (the teacher can raise PLAYGROUND_MAX_CREATES_PER_CLIENT_PER_HOUR)"
                "; reuse a network (reset it, or change its settings), or try again later",
                retry_after=600, see=("configure",))
        size = self.store.size()
        if size >= s.max_store_bytes:
            raise Busy(f"the server's store is full ({_mb(size)} of {_mb(s.max_store_bytes)}):"
                       f" networks unused for {s.prune_idle_days:g} days leave it on their own;"
                       " delete networks you no longer need, or ask the teacher to raise "
                       "PLAYGROUND_MAX_STORE_BYTES", retry_after=3600)

    def prune(self) -> int:
        """Delete from the store the networks nobody has used for a long while (none that is
        in memory): unused for ``prune_idle_days``, or replaced by their owner and unused for
        ``prune_replaced_days``. Returns how many."""
        s = self.settings
        now = datetime.now(UTC)

        def before(days: float) -> str:
            return (now - timedelta(days=days)).isoformat(timespec="milliseconds")

        with self._lock:
            keep = set(self._entries)
        return self.store.prune(before(s.prune_idle_days), before(s.prune_replaced_days), keep)

    # -- memory ---------------------------------------------------------------------------

    @property
    def held(self) -> int:
        with self._lock:
            return sum(e.held for e in self._entries.values())

    def make_room(self, needed: int) -> None:
        """Room for a network of ``needed`` bytes, or Busy if even letting go of every
        network that can leave would not make it."""
        self.reclaim(needed)
        budget = self.settings.max_memory_bytes
        if self.held + needed > budget:
            raise Busy(f"the server's memory for networks ({_mb(budget)}) is "
                       f"taken by networks that are training or in use right now; this one "
                       f"needs {_mb(needed)}. Try again in a minute, or stop a run",
                       retry_after=30)

    def reclaim(self, needed: int = 0) -> None:
        """Within the budget again (with ``needed`` bytes to spare): caches first, then
        networks leave memory, least recently used first."""
        budget = self.settings.max_memory_bytes
        if self.held + needed <= budget:
            return
        with self._reclaiming:  # one thread reclaims at a time; the others find it done
            try:
                for step in (self._drop_caches, self._evict_unwatched, self._evict_watched):
                    for entry in self._least_recently_used():
                        if self.held + needed <= budget:
                            return
                        step(entry)
            finally:
                allocator.give_back()

    def _least_recently_used(self) -> list[Entry]:
        with self._lock:  # oldest first; a run's network stays
            return [e for e in self._entries.values() if e.run is None]

    def _drop_caches(self, entry: Entry) -> None:
        with entry.lock:
            if entry.run is None:  # nobody else touches it while the lock is held
                entry.experiment.drop_caches()
                entry.held = held_bytes(entry)

    def _evict_unwatched(self, entry: Entry) -> None:
        if entry.channel.viewers == 0:
            self._evict(entry)

    def _evict_watched(self, entry: Entry) -> None:
        self._evict(entry)

    def _evict(self, entry: Entry) -> None:
        with entry.lock:
            if entry.run is not None:
                return
            with self._lock:
                if self._entries.get(entry.id) is entry:
                    del self._entries[entry.id]
            entry.channel.close()  # its viewers' streams end: they come back for it

    # -- saving ---------------------------------------------------------------------------

    def save(self, entry: Entry) -> None:
        entry.updated_at = now_iso()
        self._save(entry)

    def _save(self, entry: Entry, with_data: bool = False, client: str | None = None) -> None:
        # The history, most of the document, is encoded once per change, not once per save.
        text = encode_with(entry.document(), ("training", "history"),
                           entry.experiment.trainer.history.to_json())
        data = entry.experiment.data_dict() if with_data else None
        self.store.save(entry.id, entry.token_hash, text, entry.created_at, entry.updated_at,
                        data=data, client=client, parent=entry.parent)

    def _remember(self, entry: Entry) -> None:
        with self._lock:
            self._entries[entry.id] = entry


def held_bytes(entry: Entry) -> int:
    """What a network in memory holds: its arrays, the events kept for its viewers, the copy
    of its weights that frames are drawn from, and its objects (a fixed overhead)."""
    exp = entry.experiment
    painted = 0
    if entry.run is not None and entry.run.frames is not None and \
            entry.run.frames.painted is not None:
        painted = entry.run.frames.painted.theta.nbytes * 2
    return (sum(exp.memory().values()) + entry.channel.nbytes + painted
            + costs.ENTRY_OVERHEAD_BYTES)


def _mb(count: int) -> str:
    return f"{count / 1e6:.0f} MB"


def _plausible_id(network_id: str) -> bool:
    return len(network_id) == 32 and all(c in "0123456789abcdef" for c in network_id)


def require_idle(entry: Entry) -> None:
    if entry.run is not None:
        raise Conflict("this network is training: stop it first, then try again", see=("stop",))


def created(entry: Entry, token: str) -> dict:
    """The answer that makes a network known to its owner: its id, token and state."""
    return {"id": entry.id, "token": token, "network": snapshot(entry),
            "warnings": list(entry.experiment.warnings)}


def snapshot(entry: Entry) -> dict:
    return views.state(entry.experiment, entry.meta())


def publish_snapshot(entry: Entry) -> None:
    """Tell every viewer the whole state (after a change outside a run's epochs)."""
    if entry.channel.viewers:
        entry.channel.publish("snapshot", dumps(snapshot(entry)))


# -- what one network's service does for another's (NetworkService.on) ------------------------

def describe(networks: NetworkService, network_id: str) -> dict:
    entry = networks.get(network_id)
    return {"id": entry.id, "created_at": entry.created_at, "parent": entry.parent}


def adopt(networks: NetworkService, network_id: str, parent: str, name: str | None) -> None:
    """The network becomes a fork of ``parent`` (see NetworkService._inherit)."""
    entry = networks.get(network_id)

    def mark(exp: Experiment) -> None:
        entry.parent, entry.name = parent, entry.name or name
        networks.save(entry)

    entry.call(mark)


def call_back(networks: NetworkService, fork_id: str, parent_id: str) -> str | None:
    """The viewers that ``parent_id`` sent to its fork ``fork_id`` go back to it; the network
    the fork's owner moved on to since (they may be there), if any."""
    fork = networks.in_memory(fork_id)
    if fork is None or fork.parent != parent_id:
        return None
    fork.channel.publish("replaced", dumps({"id": fork.id, "by": parent_id, "back": True}))
    return fork.replaced_by


# -- which process holds which network ------------------------------------------------------

@dataclass(frozen=True)
class Shard:
    """The networks one process holds: those whose id falls to host ``index`` of ``count``
    (the Ray engine's hosts). The default, one of one, holds them all."""

    index: int = 0
    count: int = 1

    def host_of(self, network_id: str) -> int:
        return host_of(network_id, self.count)

    def owns(self, network_id: str) -> bool:
        return self.count == 1 or self.host_of(network_id) == self.index

    @staticmethod
    def any_id() -> str:
        """A fresh random id, of whichever host it falls to."""
        return secrets.token_hex(16)

    def new_id(self) -> str:
        """A fresh random id of this shard (``count`` tries on average)."""
        while True:
            network_id = self.any_id()
            if self.owns(network_id):
                return network_id


def host_of(network_id: str, count: int) -> int:
    """The host of ``count`` that holds a network (an id that is none: the first, which
    answers that there is no such network)."""
    return int(network_id[:8], 16) % count if _plausible_id(network_id) else 0


class Peers:
    """How a host reaches the others: ``call(host, fn, network_id, *args)`` runs
    ``fn(their service, network_id, *args)`` there and returns what it returns."""

    def call(self, host: int, fn: Callable[..., Any], network_id: str, *args):
        raise NotImplementedError
