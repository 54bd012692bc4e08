"""The embedded store: every network as one JSON document in SQLite (WAL mode).

A write returns only once SQLite has committed it, so an answered request survives a crash.
One connection serves every thread, behind a lock.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

from backend.services.jsontext import dumps

SCHEMA = """
CREATE TABLE IF NOT EXISTS networks (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    document TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""
# Columns added since the first version of the table (a store made then gains them on open):
# who made a network (a hash of the client's address, for the hourly cap) and when it was
# last loaded or changed (for pruning), and the network it was forked from.
ADDED_COLUMNS = {"creator": "TEXT", "used_at": "TEXT", "parent": "TEXT"}
INDEXES = """
CREATE INDEX IF NOT EXISTS networks_by_creator ON networks (creator, created_at);
CREATE INDEX IF NOT EXISTS networks_by_use ON networks (used_at);
CREATE INDEX IF NOT EXISTS networks_by_parent ON networks (parent, updated_at);
"""


class Store:
    def __init__(self, path: str):
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        with self._lock:
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL loses nothing on a process crash (only on power loss).
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            present = {row[1] for row in self._db.execute("PRAGMA table_info(networks)")}
            for column, kind in ADDED_COLUMNS.items():
                if column not in present:
                    self._db.execute(f"ALTER TABLE networks ADD COLUMN {column} {kind}")
            self._db.executescript(INDEXES)

    def save(self, network_id: str, token_hash: str, document: dict | str, created_at: str,
             updated_at: str, data: dict | None = None, client: str | None = None,
             parent: str | None = None) -> None:
        """Insert or update a network (its document as a dict, or as JSON text already);
        ``data`` (its points, which never change) is written with the first save and left
        alone by later ones, as is ``client`` (who made it: an address, kept only as a hash);
        ``parent``: the network it was forked from (kept once given)."""
        text = document if isinstance(document, str) else dumps(document)
        with self._lock:
            if data is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO networks (id, token_hash, document, data, "
                    "created_at, updated_at, creator, used_at, parent) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (network_id, token_hash, text, dumps(data), created_at, updated_at,
                     client_key(client), updated_at, parent),
                )
            else:
                self._db.execute(
                    "UPDATE networks SET document = ?, updated_at = ?, used_at = ?, "
                    "parent = COALESCE(?, parent) WHERE id = ?",
                    (text, updated_at, updated_at, parent, network_id),
                )

    def load(self, network_id: str) -> tuple[str, dict, str, str] | None:
        """(token_hash, document with its data, created_at, updated_at), or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT token_hash, document, data, created_at, updated_at "
                "FROM networks WHERE id = ?",
                (network_id,),
            ).fetchone()
        if row is None:
            return None
        return row[0], {**json.loads(row[1]), "data": json.loads(row[2])}, row[3], row[4]

    def forks(self, parent: str, limit: int) -> list[str]:
        """The ids of the networks forked from ``parent`` (and not replaced by their owner
        since): the ``limit`` last changed."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM networks WHERE parent = ? AND json_extract(document, "
                "'$.replaced_by') IS NULL ORDER BY updated_at DESC LIMIT ?",
                (parent, limit)).fetchall()
        return [row[0] for row in rows]

    def touch(self, network_id: str, when: str | None = None) -> None:
        """The network was used (loaded into memory): it is not idle."""
        with self._lock:
            self._db.execute("UPDATE networks SET used_at = ? WHERE id = ?",
                             (when or now_iso(), network_id))

    def delete(self, network_id: str) -> bool:
        with self._lock:
            return self._db.execute("DELETE FROM networks WHERE id = ?",
                                    (network_id,)).rowcount > 0

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM networks").fetchone()[0]

    def created_by(self, client: str | None, since: str) -> int:
        """How many of the networks in the store ``client`` made since ``since``."""
        with self._lock:
            return self._db.execute(
                "SELECT COUNT(*) FROM networks WHERE creator = ? AND created_at >= ?",
                (client_key(client), since)).fetchone()[0]

    def size(self) -> int:
        """The bytes the networks take in the file (pages in use; freed pages are reused)."""
        with self._lock:
            pages = self._db.execute("PRAGMA page_count").fetchone()[0]
            free = self._db.execute("PRAGMA freelist_count").fetchone()[0]
            page = self._db.execute("PRAGMA page_size").fetchone()[0]
        return (pages - free) * page

    def prune(self, idle_before: str, replaced_before: str, keep: set[str]) -> int:
        """Delete the networks last used before ``idle_before``, and those replaced by their
        owner and last used before ``replaced_before`` (but none of ``keep``); how many."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM networks WHERE COALESCE(used_at, updated_at) < ? OR "
                "(COALESCE(used_at, updated_at) < ? AND json_extract(document, "
                "'$.replaced_by') IS NOT NULL)", (idle_before, replaced_before)).fetchall()
            gone = [(row[0],) for row in rows if row[0] not in keep]
            self._db.executemany("DELETE FROM networks WHERE id = ?", gone)
        return len(gone)

    def integrity(self) -> str:
        with self._lock:
            return self._db.execute("PRAGMA integrity_check").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def client_key(client: str | None) -> str | None:
    """A client's address as the store keeps it: a hash (the address itself is not kept)."""
    if client is None:
        return None
    return hashlib.sha256(b"nn-playground client " + client.encode()).hexdigest()[:32]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def encode_with(document: dict, path: tuple[str, str], encoded: str) -> str:
    """The document as JSON text, its value at ``path`` (two keys deep) given already encoded:
    the same text as encoding it whole, without encoding that part again."""
    outer, inner = path
    nested = {key: value for key, value in document[outer].items() if key != inner}
    nested_text = _join(dumps(nested), inner, encoded)
    return _join(dumps({k: v for k, v in document.items() if k != outer}), outer, nested_text)


def _join(obj_text: str, key: str, value_text: str) -> str:
    """``{...}`` with one more member, ``"key": value_text``, at its end."""
    comma = "," if obj_text != "{}" else ""
    return f"{obj_text[:-1]}{comma}{json.dumps(key)}:{value_text}}}"
