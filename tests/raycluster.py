"""A throwaway Ray cluster for the tests (a head on a free port, in its own process group),
and the processes of a Ray engine found by their titles."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import RAY_QUIET, free_port


@dataclass
class RayHead:
    address: str
    process: subprocess.Popen
    env: dict  # what a process that joins it needs: its token


    def stop(self) -> None:
        """Every process of the cluster at once (Ray's own stop drains for half a minute)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)


def start_head(log: Path) -> RayHead:
    port = free_port()
    env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16)}
    ray = Path(sys.executable).with_name("ray")
    process = subprocess.Popen(
        [str(ray), "start", "--head", f"--port={port}", "--num-cpus=2",
         "--include-dashboard=false", "--disable-usage-stats", "--block"],
        stdout=open(log, "ab"), stderr=subprocess.STDOUT,  # noqa: SIM115 (closed with it)
        env={**os.environ, **RAY_QUIET, **env}, start_new_session=True)
    address = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Ray head exited:\n{log.read_text()}")
        if "--block" in log.read_text() and "Ray runtime started" in log.read_text():
            return RayHead(address, process, env)
        time.sleep(0.2)
    RayHead(address, process, env).stop()
    raise RuntimeError(f"the Ray head did not start within 60 s:\n{log.read_text()}")


def processes_titled(prefix: str, under: int | None = None) -> list[int]:
    """The pids of the processes whose title starts with ``prefix`` (Ray names an actor's
    process ``ray::<class>``); ``under``: only descendants of that process."""
    parents, titles = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            titles[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])

    def descends(pid: int) -> bool:
        while pid > 1:
            if pid == under:
                return True
            pid = parents.get(pid, 0)
        return False

    return [pid for pid, title in titles.items() if title.decode(errors="replace")
            .startswith(prefix) and (under is None or descends(pid))]
