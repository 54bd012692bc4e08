"""Training speed as a user sees it: a run on the real server next to the tuned NumPy loop
doing the same work in this process; epochs per second alone and with viewers following its
stream (boundary and every neuron, as the page asks); the latency of POST /step. Run by
``python -m bench.serve`` (``make bench`` runs it after the core figures).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench import workloads
from bench.load import PAGE_STREAM

REPO = Path(__file__).resolve().parent.parent


def start(tmp: Path):
    sys.path.insert(0, str(REPO))
    from tests.conftest import start_server

    return start_server(tmp / "bench.db", tmp / "server.log")


ODD_VIEWERS = [f"?boundary={200 - i}&neurons=true&neuron_resolution={64 - i}&encoding=float32"
               for i in range(10)]  # ten viewers, each asking for grids nobody else wants


def follow(url: str, stop: threading.Event, frames: list, query: str = PAGE_STREAM) -> None:
    """A viewer: like the page (the boundary grid of every neuron), or as ``query`` asks. It
    only counts the frames as the bytes arrive: on these two cores, a viewer that parsed them
    would take the processor from the server it measures."""
    marker = b"event: progress"
    with httpx.Client(timeout=httpx.Timeout(5, read=30)) as client, \
            client.stream("GET", url + "/events" + query) as stream:
        tail = b""
        for chunk in stream.iter_raw(1 << 16):
            seen = tail + chunk
            frames.extend([time.monotonic()] * seen.count(marker))
            tail = seen[-len(marker) + 1:]
            if stop.is_set():
                return


def epochs_per_second(server, w: workloads.Workload, seconds: float, viewers: int,
                      queries: list[str] | None = None) -> tuple:
    spec = w.spec()
    answer = httpx.post(server.url + "/api/networks", json=spec).json()
    url = f"{server.url}/api/networks/{answer['id']}"
    owner = {"Authorization": f"Bearer {answer['token']}"}
    queries = queries or [PAGE_STREAM] * viewers
    stop, frames = threading.Event(), [[] for _ in queries]
    threads = [threading.Thread(target=follow, args=(url, stop, f, q), daemon=True)
               for f, q in zip(frames, queries, strict=True)]
    for t in threads:
        t.start()
    time.sleep(0.3 if viewers else 0)
    httpx.post(url + "/train", json={"epochs": 10**6}, headers=owner).raise_for_status()
    time.sleep(0.5)  # past the start
    first = httpx.get(url).json()
    began = time.monotonic()
    time.sleep(seconds)
    last = httpx.get(url).json()
    elapsed = time.monotonic() - began
    httpx.post(url + "/stop", headers=owner)
    stop.set()
    rate = (last["epoch"] - first["epoch"]) / elapsed
    fps = [sum(1 for t in f if began <= t <= began + elapsed) / elapsed for f in frames]
    return rate, fps


class ApiRun:
    """A network of workload ``w`` on the server, trained in turns: each ``measure`` starts a
    run, times its epochs over ``seconds`` and stops it."""

    def __init__(self, server, w: workloads.Workload):
        answer = httpx.post(server.url + "/api/networks", json=w.spec()).json()
        self.url = f"{server.url}/api/networks/{answer['id']}"
        self.owner = {"Authorization": f"Bearer {answer['token']}"}
        self.n_train = w.n_train

    def measure(self, seconds: float) -> float:
        """Training samples per second (whole epochs x the training points)."""
        httpx.post(self.url + "/train", json={"epochs": 10**6},
                   headers=self.owner).raise_for_status()
        time.sleep(0.3)  # past the start
        first = httpx.get(self.url).json()
        began = time.monotonic()
        time.sleep(seconds)
        last = httpx.get(self.url).json()
        elapsed = time.monotonic() - began
        httpx.post(self.url + "/stop", headers=self.owner)
        while httpx.get(self.url).json()["status"] != "idle":
            time.sleep(0.05)
        return (last["epoch"] - first["epoch"]) * self.n_train / elapsed


def reference_rate(loop, seconds: float) -> float:
    """The tuned loop's training samples per second over about ``seconds``, on one BLAS
    thread as the server's runs have."""
    with one_blas_thread():
        began, samples = time.perf_counter(), 0
        while time.perf_counter() - began < seconds:
            samples += loop.epoch()
        return samples / (time.perf_counter() - began)


def one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the bench extra is not installed: the BLAS's own setting
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def through_the_api(server, seconds: float, repeats: int) -> None:
    """W1 to W4 trained by a run on the server and by the tuned loop here, in turns (the
    server idle while the loop runs): the median of the rounds' ratios."""
    print(f"{'':3} {'workload':<42} {'API':>10} {'NumPy loop':>10} {'api/np':>7}  "
          f"{'rounds':<20}")
    for w in workloads.TRAINING:
        api, loop = ApiRun(server, w), workloads.reference_loop(w)
        reference_rate(loop, 0.2)  # buffers made, caches warm
        rounds = [(api.measure(seconds), reference_rate(loop, seconds))
                  for _ in range(repeats)]
        ratio = statistics.median(a / r for a, r in rounds)
        spread = ", ".join(f"{a / r:.2f}" for a, r in rounds)
        print(f"{w.key:3} {w.label:<42} {statistics.median(a for a, _ in rounds):>10,.0f} "
              f"{statistics.median(r for _, r in rounds):>10,.0f} {ratio:>7.2f}  {spread}  "
              "samples/s")
    print("API: POST /train, epochs counted from GET /api/networks/{id} over the seconds; "
          "NumPy loop: bench/reference.py in this process (same data, test set and history "
          "epochs), one BLAS thread, while the server is idle.")
    print()


def step_latency(server, n: int = 200) -> float:
    answer = httpx.post(server.url + "/api/networks", json={}).json()
    url = f"{server.url}/api/networks/{answer['id']}/step"
    owner = {"Authorization": f"Bearer {answer['token']}"}
    times = []
    with httpx.Client() as client:
        for _ in range(n):
            began = time.perf_counter()
            client.post(url, json={"iterations": 1}, headers=owner).raise_for_status()
            times.append(time.perf_counter() - began)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.serve", description=__doc__)
    p.add_argument("--seconds", type=float, default=3.0, help="length of each run")
    p.add_argument("--viewers", type=int, default=3, help="viewers in the followed runs")
    p.add_argument("--repeats", type=int, default=3,
                   help="rounds of alone, followed and odd runs, taken in turns: the ratios "
                        "are the median of each round's (the machine's speed drifts)")
    p.add_argument("--api-only", action="store_true",
                   help="only the table of the API against the NumPy loop")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        server = start(Path(tmp))
        try:
            through_the_api(server, min(args.seconds, 2.0), max(args.repeats, 3))
            if args.api_only:
                return 0
            print(f"{'':3} {'workload':<42} {'alone':>10} {'followed':>10} {'ratio':>6} "
                  f"{'frames/s per viewer':>20}")
            for w in (*workloads.TRAINING[:2], workloads.TRAINING[-1]):
                rounds = []
                for _ in range(args.repeats):
                    alone, _ = epochs_per_second(server, w, args.seconds, 0)
                    followed, fps = epochs_per_second(server, w, args.seconds, args.viewers)
                    odd, odd_fps = epochs_per_second(server, w, args.seconds,
                                                     len(ODD_VIEWERS), ODD_VIEWERS)
                    rounds.append((alone, followed, odd, fps, odd_fps))
                alone = statistics.median(r[0] for r in rounds)
                followed = statistics.median(r[1] for r in rounds)
                odd = statistics.median(r[2] for r in rounds)
                ratio = statistics.median(r[1] / r[0] for r in rounds)
                odd_ratio = statistics.median(r[2] / r[0] for r in rounds)
                fps = [f for r in rounds for f in r[3]]
                odd_fps = [f for r in rounds for f in r[4]]
                spread = ", ".join(f"{r[2] / r[0]:.2f}" for r in rounds)
                print(f"{w.key:3} {w.label:<42} {alone:>10,.0f} {followed:>10,.0f} "
                      f"{ratio:>6.2f} {min(fps):>9.1f} to {max(fps):.1f}  epochs/s")
                print(f"{'':3} {'... with ten odd viewers (capped grids)':<42} {'':>10} "
                      f"{odd:>10,.0f} {odd_ratio:>6.2f} "
                      f"{min(odd_fps):>9.1f} to {max(odd_fps):.1f}  (rounds: {spread})")
            print(f"POST /step (one iteration, default network): median "
                  f"{step_latency(server) * 1000:.2f} ms over loopback")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
