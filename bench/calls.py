"""What one request costs the server: ``python -m bench.calls``.

The calls the page makes, one at a time on an idle server, first on the local engine (the
reference), then on the Ray engine: the wall time of each and the CPU time it takes in every
server process (from /proc: the replica, the hosts, Ray's own). Then a bare Ray actor call
with a small payload, the floor under every request on the Ray engine. Where a classroom's
requests go (``bench.load``) is this times their number: these figures are what the capacity
estimates in docs/SCALING.md are made of.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.load import ENGINES, ProcessWatch, descendants, start

PAGE_BOUNDARY = "/boundary?resolution=100&neurons=true&neuron_resolution=50"


def calls(client: httpx.Client, base: str) -> dict[str, Callable[[], httpx.Response]]:
    """The page's calls on a network of its own (made here)."""
    made = client.post(base + "/api/networks", json={"dataset": {"name": "circle"},
                                                     "hidden": [4, 2]}).json()
    url = f"{base}/api/networks/{made['id']}"
    owner = {"Authorization": f"Bearer {made['token']}"}
    return {
        "GET /network": lambda: client.get(url),
        "GET /history": lambda: client.get(url + "/history"),
        "GET /boundary (page)": lambda: client.get(url + PAGE_BOUNDARY),
        "POST /step": lambda: client.post(url + "/step", json={"iterations": 1},
                                          headers=owner),
        "PATCH /network": lambda: client.patch(url, json={"learning_rate": 0.1},
                                               headers=owner),
        "GET /api/catalog": lambda: client.get(base + "/api/catalog"),
    }


def cpu_by_process(pids: list[int]) -> dict[tuple[int, int], tuple[str, float]]:
    """(pid, start time) -> (name, CPU seconds) of the processes still there."""
    found = {}
    for pid in pids:
        stat = ProcessWatch.stat(pid)
        if stat is not None:
            found[(pid, stat[1])] = (stat[0], stat[2])
    return found


def measure_engine(engine: str, count: int) -> dict[str, dict]:
    """Per call: wall ms and CPU ms in each kind of server process (summed by name)."""
    env = {"RAY_ADDRESS": "local"} if engine == "ray" else {}
    with tempfile.TemporaryDirectory() as tmp:
        server = start(Path(tmp), env, engine)
        try:
            with httpx.Client(timeout=30) as client:
                figures = {}
                for label, call in calls(client, server.url).items():
                    for _ in range(max(5, count // 10)):  # warm: caches, the first host call
                        call().raise_for_status()
                    pids = descendants(server.process.pid)
                    before, began = cpu_by_process(pids), time.perf_counter()
                    for _ in range(count):
                        call()
                    wall = time.perf_counter() - began
                    after = cpu_by_process(pids)
                    by_name: dict[str, float] = {}
                    for key, (name, cpu) in after.items():
                        if key in before:
                            name = "replica" if key[0] == server.process.pid else name
                            by_name[name] = by_name.get(name, 0.0) + \
                                1000 * (cpu - before[key][1]) / count
                    figures[label] = {"wall_ms": 1000 * wall / count, "cpu_ms": by_name}
                return figures
        finally:
            server.stop(timeout=10 if engine == "local" else 40)


def bare_ray_call(count: int) -> dict[str, float]:
    """An async actor's method that returns its 2 kB argument, awaited one at a time."""
    import asyncio
    import os

    import ray

    ray.init(address="local", include_dashboard=False, logging_level="ERROR",
             log_to_driver=False)
    try:
        @ray.remote(max_concurrency=1000)
        class Echo:
            async def echo(self, payload):
                return payload

            def pid(self) -> int:
                return os.getpid()

        echo = Echo.remote()
        pid = ray.get(echo.pid.remote())
        payload = b"x" * 2000

        async def run() -> dict[str, float]:
            for _ in range(max(5, count // 10)):
                await echo.echo.remote(payload)
            actor0, caller0 = ProcessWatch.stat(pid)[2], time.process_time()
            began = time.perf_counter()
            for _ in range(count):
                await echo.echo.remote(payload)
            wall = time.perf_counter() - began
            return {"wall_ms": 1000 * wall / count,
                    "actor_cpu_ms": 1000 * (ProcessWatch.stat(pid)[2] - actor0) / count,
                    "caller_cpu_ms": 1000 * (time.process_time() - caller0) / count}

        return asyncio.run(run())
    finally:
        ray.shutdown()


def show(results: dict[str, dict]) -> str:
    out = []
    for engine, figures in results.items():
        out.append(f"== {engine} engine: ms per call, one at a time on an idle server ==")
        for label, f in figures.items():
            total = sum(f["cpu_ms"].values())
            parts = ", ".join(f"{name} {ms:.2f}" for name, ms in
                              sorted(f["cpu_ms"].items(), key=lambda kv: -kv[1]) if ms >= 0.05)
            out.append(f"  {label:<20} wall {f['wall_ms']:6.2f}  CPU {total:6.2f}  ({parts})")
    if len(results) == 2:
        local, ray = results["local"], results["ray"]
        out.append("== ray / local ==")
        for label in local:
            a, b = local[label], ray[label]
            out.append(f"  {label:<20} wall {b['wall_ms'] / a['wall_ms']:5.2f}x  CPU "
                       f"{sum(b['cpu_ms'].values()) / sum(a['cpu_ms'].values()):5.2f}x")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.calls", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--engine", choices=[*ENGINES, "both"], default="both")
    p.add_argument("--calls", type=int, default=300, help="of each kind, per engine")
    args = p.parse_args(argv)
    if not 1 <= args.calls <= 100_000:
        p.error("--calls 1..100000")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.machine import cpu_model

    print(f"machine: {cpu_model()}, Python {sys.version.split()[0]}")
    engines = ENGINES if args.engine == "both" else (args.engine,)
    results = {engine: measure_engine(engine, args.calls) for engine in engines}
    print(show(results))
    if "ray" in engines:
        floor = bare_ray_call(max(args.calls, 200))
        print(f"a bare Ray actor call (2 kB there and back): wall {floor['wall_ms']:.2f} ms, "
              f"CPU {floor['caller_cpu_ms']:.2f} ms in the caller + "
              f"{floor['actor_cpu_ms']:.2f} ms in the actor")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
