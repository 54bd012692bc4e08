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
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from backend.core.experiment import Experiment
from backend.core.network import Network
from backend.services import views
from backend.services.jsontext import dumps
from backend.services.store import Store, encode_with
from backend.services.streams import Channel


class NotFound(LookupError):
    pass


class Forbidden(PermissionError):
    pass


class Conflict(RuntimeError):
    pass


class LimitExceeded(ValueError):
    pass


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


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

    def drain(self, exp: Experiment, close: bool = False) -> None:
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
    epochs: int
    max_epochs_per_second: float | None
    stop: threading.Event = field(default_factory=threading.Event)
    mailbox: Mailbox = field(default_factory=Mailbox)
    finished: threading.Event = field(default_factory=threading.Event)
    status: str = "queued"  # queued, training, then ending (the last save and events)
    cancelled: bool = False  # stopped while queued: it never ran
    stop_reason: str = "stopped"
    frame_epoch: int = 0  # the epoch of the last progress frame
    painting: Future | None = None  # the progress frame being drawn off the run's thread
    painted: Network | None = None  # the copy of the network that frames are drawn from


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
    run: Run | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)
    last_used: float = field(default_factory=time.monotonic)

    @property
    def status(self) -> str:
        return "idle" if self.run is None or self.run.status == "ending" else self.run.status

    def end_run(self, reason: str, message: str) -> dict:
        """Record how a run (or a step) ended, at the network's counters: the `last_run`."""
        t = self.experiment.trainer
        self.last_run = {"reason": reason, "message": message, "epoch": t.epoch,
                         "iteration": t.iteration}
        return self.last_run

    def meta(self) -> dict:
        return {"id": self.id, "created_at": self.created_at, "updated_at": self.updated_at,
                "status": self.status, "last_run": self.last_run,
                "replaced_by": self.replaced_by}

    def call(self, fn: Callable[[Experiment], Any]):
        """Run ``fn(experiment)`` safely: here under the lock, or by the training thread."""
        while True:
            with self.lock:
                run = self.run
                if run is None or run.status == "queued":  # no thread owns it yet
                    return fn(self.experiment)
            try:
                return run.mailbox.call(fn)
            except _MailboxClosed:
                run.finished.wait(5)  # the run is ending: try again once it has

    def document(self) -> dict:
        """What the store keeps (everything but the data, which is stored once)."""
        return {**self.experiment.to_dict(with_data=False), "last_run": self.last_run,
                "status": self.status, "replaced_by": self.replaced_by}

    def check_token(self, token: str | None) -> None:
        if not hmac.compare_digest(hash_token(token or ""), self.token_hash):
            raise Forbidden("this token does not own this network")


class NetworkService:
    def __init__(self, store: Store, max_in_memory: int, loop=None):
        self.store = store
        self.max_in_memory = max_in_memory
        self.loop = loop
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()

    # -- making and finding networks ------------------------------------------------------

    def add(self, experiment: Experiment) -> tuple[Entry, str]:
        """A new network with a fresh id and token, stored before this returns."""
        token = secrets.token_urlsafe(32)
        stamp = now_iso()
        entry = Entry(secrets.token_hex(16), hash_token(token), experiment, stamp, stamp,
                      Channel(self.loop))
        self._save(entry, with_data=True)
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
        token_hash, doc, created_at, updated_at = loaded
        last_run = doc.get("last_run")
        if doc.get("status") in ("training", "queued"):
            last_run = {"reason": "server restarted", "epoch": doc["training"]["epoch"],
                        "iteration": doc["training"]["iteration"],
                        "message": "The server restarted during this run; the weights are "
                                   "those of its last checkpoint."}
        entry = Entry(network_id, token_hash, Experiment.from_dict(doc), created_at,
                      updated_at, Channel(self.loop), last_run=last_run,
                      replaced_by=doc.get("replaced_by"))
        with self._lock:
            existing = self._entries.get(network_id)
            if existing is not None:  # loaded twice at once: keep the first
                return existing
            self._remember_locked(entry)
        return entry

    def delete(self, entry: Entry) -> None:
        with self._lock:
            self._entries.pop(entry.id, None)
        self.store.delete(entry.id)
        entry.channel.close()

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
            self._save(entry)
            publish_snapshot(entry)
            return result

        return entry.call(apply)

    def replace(self, entry: Entry, successor: Entry) -> None:
        """Its owner moved on to ``successor``: viewers are sent there (a ``replaced`` event)
        and the state says so, for anyone who opens the old link later."""
        if successor.id == entry.id:
            raise Conflict("a network cannot replace itself")
        def mark(exp: Experiment) -> None:  # by whoever owns the network now (a run, maybe)
            entry.replaced_by = successor.id
            self.save(entry)

        entry.call(mark)
        entry.channel.publish("replaced", dumps({"id": entry.id, "by": successor.id}))

    def read(self, entry: Entry, fn: Callable[[Experiment], Any]):
        return entry.call(fn)

    # -- saving ---------------------------------------------------------------------------

    def save(self, entry: Entry) -> None:
        entry.updated_at = now_iso()
        self._save(entry)

    def _save(self, entry: Entry, with_data: bool = False) -> None:
        # The history, most of the document, is encoded once per change, not once per save.
        text = encode_with(entry.document(), ("training", "history"),
                           entry.experiment.trainer.history.to_json())
        data = entry.experiment.data_dict() if with_data else None
        self.store.save(entry.id, entry.token_hash, text, entry.created_at, entry.updated_at,
                        data=data)

    def _remember(self, entry: Entry) -> None:
        with self._lock:
            self._remember_locked(entry)

    def _remember_locked(self, entry: Entry) -> None:
        self._entries[entry.id] = entry
        self._evict_idle()

    def _evict_idle(self) -> None:
        """Leave memory (never the store) for the least recently used idle networks."""
        excess = len(self._entries) - self.max_in_memory
        for network_id in list(self._entries):
            if excess <= 0:
                return
            entry = self._entries[network_id]
            if entry.run is None and entry.channel.viewers == 0:
                del self._entries[network_id]
                excess -= 1


def _plausible_id(network_id: str) -> bool:
    return len(network_id) == 32 and all(c in "0123456789abcdef" for c in network_id)


def require_idle(entry: Entry) -> None:
    if entry.run is not None:
        raise Conflict("this network is training: stop it first (POST /stop), then try again")


def snapshot(entry: Entry) -> dict:
    return views.state(entry.experiment, entry.meta())


def publish_snapshot(entry: Entry) -> None:
    """Tell every viewer the whole state (after a change outside a run's epochs)."""
    if entry.channel.viewers:
        entry.channel.publish("snapshot", dumps(snapshot(entry)))
