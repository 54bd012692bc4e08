"""The store in PostgreSQL (``--db postgresql://...``): one database for replicas of the
server on several machines.

A pool of connections serves the threads, each statement committed on its own (autocommit),
as SQLite commits each. The documents are JSON columns: PostgreSQL keeps their text as it was
given (``jsonb`` would rewrite numbers and the order of keys) and reads ``replaced_by`` from
them in the statements both stores share. Needs the ``postgres`` extra:
``pip install -e '.[postgres]'``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import psycopg
from psycopg.types.string import TextLoader
from psycopg_pool import ConnectionPool

from backend.services.store import ADDED_COLUMNS, INDEXES, SCHEMA, Store

POOL_SIZE = 8  # connections at most; threads beyond wait for one (up to POOL_WAIT_SECONDS)
POOL_WAIT_SECONDS = 30.0
OPEN_SECONDS = 10.0
SCHEMA_LOCK = 0x706C6179  # an advisory lock: replicas starting together make the table once


def _configure(conn: psycopg.Connection) -> None:
    # JSON columns come back as their text, which the shared code parses (as SQLite's do).
    conn.adapters.register_loader("json", TextLoader)


def unreachable(url: str) -> str | None:
    """Why the database at ``url`` cannot be used (PostgreSQL's own words), or None."""
    try:
        psycopg.connect(url, connect_timeout=int(OPEN_SECONDS)).close()
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        return (f"cannot open the PostgreSQL database ({reason}): check the URL given to --db "
                "(postgresql://user:password@host:port/database), that the server runs and "
                "that the database exists")
    return None


class PostgresStore(Store):
    def __init__(self, url: str, pool_size: int = POOL_SIZE):
        self.location = url
        problem = unreachable(url)
        if problem is not None:  # the reason, rather than the pool's time-out
            raise ConnectionError(problem)
        self._sql: dict[str, str] = {}
        self._pool = ConnectionPool(url, min_size=1, max_size=pool_size, open=False,
                                    kwargs={"autocommit": True}, configure=_configure,
                                    timeout=POOL_WAIT_SECONDS, name="playground-store")
        self._pool.open(wait=True, timeout=OPEN_SECONDS)
        try:
            self._create_schema()
        except BaseException:
            self._pool.close()
            raise

    def _create_schema(self) -> None:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            conn.execute(SCHEMA.format(document="JSON"))
            present = {row[0] for row in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = 'networks'")}
            for column, kind in ADDED_COLUMNS.items():
                if column not in present:
                    conn.execute(f"ALTER TABLE networks ADD COLUMN {column} {kind}")
            for index in INDEXES:
                conn.execute(index)

    def _text(self, sql: str) -> str:
        """The shared statement with psycopg's placeholders (``%s`` for ``?``)."""
        text = self._sql.get(sql)
        if text is None:
            text = self._sql[sql] = sql.replace("%", "%%").replace("?", "%s")
        return text

    def _rows(self, sql: str, params: Sequence = ()) -> list[tuple]:
        with self._pool.connection() as conn:
            return conn.execute(self._text(sql), params).fetchall()

    def _change(self, sql: str, params: Sequence = ()) -> int:
        with self._pool.connection() as conn:
            return conn.execute(self._text(sql), params).rowcount

    def _change_many(self, sql: str, params: Iterable[Sequence]) -> None:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.executemany(self._text(sql), list(params))

    def size(self) -> int:
        """The bytes the table takes: its rows, their long values (TOAST) and its indexes."""
        return self._rows("SELECT pg_total_relation_size('networks')")[0][0]

    def integrity(self) -> str:
        """PostgreSQL checks its pages itself; ``ok`` when the table answers."""
        self._rows("SELECT COUNT(*) FROM networks")
        return "ok"

    def close(self) -> None:
        self._pool.close()
