"""A throwaway PostgreSQL server for the tests: ``initdb`` into a temporary directory and
``pg_ctl start`` on a free port, listening only on a unix socket in that directory (run as
the ``postgres`` system user when the tests run as root). Stopped and deleted at the end.

Without PostgreSQL's programs (or psycopg) the tests that need it skip, saying why; with
``PLAYGROUND_REQUIRE_POSTGRES=1`` (CI) they fail instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

import pytest

from tests.conftest import free_port

REQUIRE = "PLAYGROUND_REQUIRE_POSTGRES"


def unavailable(reason: str):
    """Skip, or fail when PostgreSQL is required."""
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{reason}, and {REQUIRE}=1 asks for the PostgreSQL tests to run")
    pytest.skip(f"{reason} (apt-get install -y postgresql; pip install -e '.[postgres]')")


def find_programs() -> Path | None:
    """The directory of ``initdb`` and ``pg_ctl``: on PATH, else the newest of
    /usr/lib/postgresql/*/bin (where Debian puts them)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl", path=str(Path(found).resolve().parent)):
        return Path(found).resolve().parent
    dirs = [Path(d) for d in glob.glob("/usr/lib/postgresql/*/bin")
            if (Path(d) / "initdb").exists() and (Path(d) / "pg_ctl").exists()]
    dirs.sort(key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)
    return dirs[-1] if dirs else None


def as_postgres() -> list[str]:
    """The prefix that runs a command as the ``postgres`` user when we are root (PostgreSQL
    refuses to run as root); nothing otherwise."""
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--"]
    return ["su", "postgres", "-s", "/bin/sh", "-c", '"$0" "$@"']


@dataclass
class PostgresServer:
    programs: Path
    base: Path
    port: int
    prefix: list[str]
    _names: count = field(default_factory=lambda: count(1))

    @property
    def data(self) -> Path:
        return self.base / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.base}&port={self.port}"

    def run(self, program: str, *args: str) -> None:
        result = subprocess.run([*self.prefix, str(self.programs / program), *args],
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            log = self.base / "server.log"
            raise RuntimeError(f"{program} failed ({result.returncode}): {result.stdout}"
                               f"{result.stderr}{log.read_text() if log.exists() else ''}")

    def start(self) -> None:
        self.run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                 "--locale=C", "--no-sync")
        options = (f"-p {self.port} -k {self.base} -c listen_addresses='' -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.base / "server.log"), "-w",
                 "-t", "30", "-o", options, "start")

    def stop(self) -> None:
        try:
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def new_database(self) -> str:
        """A fresh empty database; its URL."""
        import psycopg

        name = f"test_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        import psycopg

        name = url.split("/")[3].split("?")[0]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def start_postgres() -> PostgresServer:
    """A running throwaway server, or a skip (a failure when required) saying what lacks."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed")
    programs = find_programs()
    if programs is None:
        unavailable("PostgreSQL's programs (initdb, pg_ctl) are not installed")
    prefix = as_postgres()
    base = Path(tempfile.mkdtemp(prefix="playground-pg-"))
    if prefix:
        import pwd

        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
    server = PostgresServer(programs, base, free_port(), prefix)
    try:
        server.start()
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise
    return server
