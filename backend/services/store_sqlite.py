"""The store in one SQLite file (WAL mode): the default; one server per file, or the hosts of one
Ray engine (each holding its own networks).

One connection serves every thread, behind a lock.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from backend.services.store import ADDED_COLUMNS, INDEXES, SCHEMA, Store

WAL_SECONDS = 30.0  # at most, for another process to let go of a file it is setting up


class SQLiteStore(Store):
    def __init__(self, path: str):
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = self.location = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        with self._lock:
            if path != ":memory:":
                self._write_ahead_log()
            # In WAL mode NORMAL loses nothing on a process crash (only on power loss).
            self._db.execute("PRAGMA synchronous=NORMAL")
            # One process at a time makes or brings up to date the table (the Ray engine's
            # hosts open the file at once): the others wait, then find it done.
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(SCHEMA.format(document="TEXT"))
                present = {row[1] for row in self._db.execute("PRAGMA table_info(networks)")}
                for column, kind in ADDED_COLUMNS.items():
                    if column not in present:
                        self._db.execute(f"ALTER TABLE networks ADD COLUMN {column} {kind}")
                for index in INDEXES:
                    self._db.execute(index)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _write_ahead_log(self) -> None:
        """WAL mode. Switching to it takes the file for a moment, and a process opening the
        file meanwhile (the Ray engine's hosts start together) is told "database is locked"
        at once, without the busy timeout's wait: it tries again."""
        give_up = time.monotonic() + WAL_SECONDS
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > give_up:
                    raise
                time.sleep(0.05)

    def _rows(self, sql: str, params: Sequence = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _change(self, sql: str, params: Sequence = ()) -> int:
        with self._lock:
            return self._db.execute(sql, params).rowcount

    def _change_many(self, sql: str, params: Iterable[Sequence]) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(sql, params)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def size(self) -> int:
        """The bytes the networks take in the file (pages in use; freed pages are reused)."""
        with self._lock:
            pages = self._db.execute("PRAGMA page_count").fetchone()[0]
            free = self._db.execute("PRAGMA freelist_count").fetchone()[0]
            page = self._db.execute("PRAGMA page_size").fetchone()[0]
        return (pages - free) * page

    def integrity(self) -> str:
        with self._lock:
            return self._db.execute("PRAGMA integrity_check").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
