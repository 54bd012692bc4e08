"""The store: every network as one JSON document, in SQLite (the default, one server per
file) or in PostgreSQL (``--db postgresql://...``: replicas on several machines).

``Store`` holds what both share: the statements (one text for both, ``?`` for parameters)
and the methods the services call. ``store_sqlite.py`` and ``store_postgres.py`` each run
them on their database and add what only it has (its schema's types, its size, its checks).
``open_store(db)`` opens the one ``db`` names. A write returns only once the database has
committed it, so an answered request survives a crash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from backend.services.jsontext import dumps, join

POSTGRES_SCHEMES = ("postgresql://", "postgres://")

# The table; ``{document}`` is the type of the documents (TEXT in SQLite; JSON in PostgreSQL,
# which keeps the text as it was given and reads fields from it).
SCHEMA = """
CREATE TABLE IF NOT EXISTS networks (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    document {document} NOT NULL,
    data {document} NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
)
"""
# Columns added since the first version of the table (a store made then gains them on open):
# who made a network (a hash of the client's address, for the hourly cap) and when it was
# last loaded or changed (for pruning), and the network it was forked from.
ADDED_COLUMNS = {"creator": "TEXT", "used_at": "TEXT", "parent": "TEXT"}
INDEXES = (
    "CREATE INDEX IF NOT EXISTS networks_by_creator ON networks (creator, created_at)",
    "CREATE INDEX IF NOT EXISTS networks_by_use ON networks (used_at)",
    "CREATE INDEX IF NOT EXISTS networks_by_parent ON networks (parent, updated_at)",
)

# ``document ->> 'replaced_by'``: the field as SQL (NULL when absent or null), in both.
INSERT = (
    "INSERT INTO networks (id, token_hash, document, data, created_at, updated_at, creator, "
    "used_at, parent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
    "token_hash = excluded.token_hash, document = excluded.document, data = excluded.data, "
    "created_at = excluded.created_at, updated_at = excluded.updated_at, "
    "creator = excluded.creator, used_at = excluded.used_at, parent = excluded.parent")
UPDATE = ("UPDATE networks SET document = ?, updated_at = ?, used_at = ?, "
          "parent = COALESCE(?, parent) WHERE id = ?")
LOAD = ("SELECT token_hash, document, data, created_at, updated_at FROM networks "
        "WHERE id = ?")
FORKS = ("SELECT id FROM networks WHERE parent = ? AND document ->> 'replaced_by' IS NULL "
         "ORDER BY updated_at DESC LIMIT ?")
TOUCH = "UPDATE networks SET used_at = ? WHERE id = ?"
DELETE = "DELETE FROM networks WHERE id = ?"
COUNT = "SELECT COUNT(*) FROM networks"
CREATED_BY = "SELECT COUNT(*) FROM networks WHERE creator = ? AND created_at >= ?"
PRUNABLE = ("SELECT id FROM networks WHERE COALESCE(used_at, updated_at) < ? OR "
            "(COALESCE(used_at, updated_at) < ? AND document ->> 'replaced_by' IS NOT NULL)")


class Store:
    """The networks' documents. Subclasses run statements (``_rows``, ``_change``,
    ``_change_many``) and measure their database (``size``, ``integrity``, ``close``)."""

    location: str

    # -- what each database does its own way ----------------------------------------------

    def _rows(self, sql: str, params: Sequence = ()) -> list[tuple]:
        raise NotImplementedError

    def _change(self, sql: str, params: Sequence = ()) -> int:
        """Run one write (committed when it returns); the rows it changed."""
        raise NotImplementedError

    def _change_many(self, sql: str, params: Iterable[Sequence]) -> None:
        """Run one write for each of ``params``, all committed together."""
        raise NotImplementedError

    def size(self) -> int:
        """The bytes the networks take in the database."""
        raise NotImplementedError

    def integrity(self) -> str:
        """``ok``, or what is wrong with the database."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # -- shared -----------------------------------------------------------------------------

    def save(self, network_id: str, token_hash: str, document: dict | str, created_at: str,
             updated_at: str, data: dict | None = None, client: str | None = None,
             parent: str | None = None) -> None:
        """Insert or update a network (its document as a dict, or as JSON text already);
        ``data`` (its points, which never change) is written with the first save and left
        alone by later ones, as is ``client`` (who made it: an address, kept only as a hash);
        ``parent``: the network it was forked from (kept once given)."""
        text = document if isinstance(document, str) else dumps(document)
        if data is not None:
            self._change(INSERT, (network_id, token_hash, text, dumps(data), created_at,
                                  updated_at, client_key(client), updated_at, parent))
        else:
            self._change(UPDATE, (text, updated_at, updated_at, parent, network_id))

    def load(self, network_id: str) -> tuple[str, dict, str, str] | None:
        """(token_hash, document with its data, created_at, updated_at), or None."""
        rows = self._rows(LOAD, (network_id,))
        if not rows:
            return None
        row = rows[0]
        return row[0], {**json.loads(row[1]), "data": json.loads(row[2])}, row[3], row[4]

    def forks(self, parent: str, limit: int) -> list[str]:
        """The ids of the networks forked from ``parent`` (and not replaced by their owner
        since): the ``limit`` last changed."""
        return [row[0] for row in self._rows(FORKS, (parent, limit))]

    def touch(self, network_id: str, when: str | None = None) -> None:
        """The network was used (loaded into memory): it is not idle."""
        self._change(TOUCH, (when or now_iso(), network_id))

    def delete(self, network_id: str) -> bool:
        return self._change(DELETE, (network_id,)) > 0

    def count(self) -> int:
        return self._rows(COUNT)[0][0]

    def created_by(self, client: str | None, since: str) -> int:
        """How many of the networks in the store ``client`` made since ``since``."""
        return self._rows(CREATED_BY, (client_key(client), since))[0][0]

    def prune(self, idle_before: str, replaced_before: str, keep: set[str]) -> int:
        """Delete the networks last used before ``idle_before``, and those replaced by their
        owner and last used before ``replaced_before`` (but none of ``keep``); how many."""
        rows = self._rows(PRUNABLE, (idle_before, replaced_before))
        gone = [(row[0],) for row in rows if row[0] not in keep]
        if gone:
            self._change_many(DELETE, gone)
        return len(gone)


def is_postgres(db: str) -> bool:
    return db.startswith(POSTGRES_SCHEMES)


def open_store(db: str) -> Store:
    """The store ``db`` names: a ``postgresql://`` URL, else a SQLite file (or :memory:)."""
    if is_postgres(db):
        from backend.services.store_postgres import PostgresStore

        return PostgresStore(db)
    from backend.services.store_sqlite import SQLiteStore

    return SQLiteStore(db)


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
    nested_text = join(dumps(nested), inner, encoded)
    return join(dumps({k: v for k, v in document.items() if k != outer}), outer, nested_text)
