"""The embedded store: every network as one JSON document in SQLite (WAL mode).

A write returns only once SQLite has committed it, so an answered request survives a crash.
One connection serves every thread, behind a lock.
"""

from __future__ import annotations

import json
import sqlite3
import threading
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

    def save(self, network_id: str, token_hash: str, document: dict | str, created_at: str,
             updated_at: str, data: dict | None = None) -> None:
        """Insert or update a network (its document as a dict, or as JSON text already);
        ``data`` (its points, which never change) is written with the first save and left
        alone by later ones."""
        text = document if isinstance(document, str) else dumps(document)
        with self._lock:
            if data is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO networks "
                    "(id, token_hash, document, data, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (network_id, token_hash, text, dumps(data), created_at, updated_at),
                )
            else:
                self._db.execute(
                    "UPDATE networks SET document = ?, updated_at = ? WHERE id = ?",
                    (text, updated_at, network_id),
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

    def delete(self, network_id: str) -> bool:
        with self._lock:
            return self._db.execute("DELETE FROM networks WHERE id = ?",
                                    (network_id,)).rowcount > 0

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM networks").fetchone()[0]

    def integrity(self) -> str:
        with self._lock:
            return self._db.execute("PRAGMA integrity_check").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


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
