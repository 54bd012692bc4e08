"""A classroom against one server: ``python -m bench.load`` (``make load``).

Starts the real server on loopback, then 40 simulated students each open the page's calls on a
network of their own (create, read it, follow its stream as the page does), step it by hand
(forward, backward, update, step, PATCH, each followed by the page's refresh of the boundary and
history), train it and watch the run to its end, again and again with a little thinking time,
while a teacher's network trains all the time and streams to all 40 students. Bounded in time
(``--seconds``, 30 by default) and in count (``--cycles`` per student).

Reported: requests per second, p50/p99 latency of writes (and reads), frames per second per
stream (min and median; a student's own stream counted over the time its network trained),
errors, how long runs waited for a training slot, and the server's peak memory and CPU (from
/proc). Targets on a 2-core machine: no errors, every stream >= 5 frames/s, p99 of writes
< 250 ms. The load generator runs on the same machine, so its own CPU is reported too, and
how late its event loop ran (what it adds to the latencies it measures: at 150 students, a
p99 of about 80 ms). ``--processes`` spreads the students over several processes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

# httpcore asks sniffio which async library runs, at every request; where sniffio is not
# installed (anyio no longer needs it) that is a failed import each time, a search of the
# whole path. Marked absent, the import fails at once and httpcore assumes asyncio, as it does
# without it anyway.
sys.modules.setdefault("sniffio", None)

REPO = Path(__file__).resolve().parent.parent
PAGE_STREAM = "?boundary=100&neurons=true&neuron_resolution=50&encoding=uint8"  # as the page
DATASETS = ["circle", "xor", "moons", "gaussians", "spiral", "quadrants", "linear", "and"]
ENGINES = ("local", "ray")
# The targets by the size of the class: (at most this many students, p99 of writes in ms).
# Every class: no errors, every stream >= 5 frames/s.
P99_WRITE_MS_BY_STUDENTS = ((40, 250.0), (200, 500.0))
TARGET_FPS = 5.0
CONNECTIONS_PER_STUDENT = 10  # its pool of 8 for calls, and its two streams


def targets(students: int, engine: str = "local") -> dict:
    """The targets of a class of ``students``; on the Ray engine, more than one core too."""
    p99 = next((ms for most, ms in P99_WRITE_MS_BY_STUDENTS if students <= most),
               P99_WRITE_MS_BY_STUDENTS[-1][1])
    return {"fps": TARGET_FPS, "p99_write_ms": p99,
            "min_cores": 1.0 if engine == "ray" else None}


TARGETS = targets(40)  # the figures of the default class


def server_env(students: int) -> dict[str, str]:
    """What the load test sets: every student comes from 127.0.0.1, so the limits per client
    address are raised to the class's size times a student's (as docs/RELIABILITY.md advises
    for a class behind a proxy), and the run queue holds every student's run. ``--env``
    overrides any of these."""
    connections = CONNECTIONS_PER_STUDENT * (students + 2)
    return {"PLAYGROUND_MAX_CONNECTIONS_PER_CLIENT": str(max(250, connections)),
            "PLAYGROUND_MAX_CONNECTIONS": str(max(1_000, connections)),
            "PLAYGROUND_MAX_CREATES_PER_CLIENT_PER_HOUR": str(max(600, 4 * students)),
            "PLAYGROUND_MAX_QUEUED_RUNS": str(max(64, students + 8))}


def start(tmp: Path, env: dict[str, str], engine: str = "local"):
    sys.path.insert(0, str(REPO))
    from tests.conftest import start_server

    return start_server(tmp / "load.db", tmp / "server.log", env=env, engine=engine)


# -- measuring the server from outside -------------------------------------------------------

def children_of(pid: int) -> list[int]:
    """The child processes of ``pid``, from /proc/<pid>/task/*/children (every thread's)."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (children, their children...)."""
    seen, todo = [], [pid]
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.append(p)
            todo += children_of(p)
    return seen


class ProcessWatch:
    """Samples the server's /proc entries: resident memory (and its peak), CPU time. With
    ``tree`` (the default), the server is its process and every process below it (on the Ray
    engine: the replica, raylet, gcs_server, the ``ray::Host`` workers...), found again at each
    sample as processes come and go; CPU is their sum, memory the sum of their RSS."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, pid: int, tree: bool = True):
        from backend.services.training import TRAINING_NICENESS

        self.training_niceness = TRAINING_NICENESS
        self.pid = pid
        self.tree = tree
        self.samples: list[tuple[float, float, int]] = []  # (time, cpu seconds, rss kB)
        # Each process seen: (pid, start time) -> [CPU seconds when first seen, latest, name]
        self.seen: dict[tuple[int, int], list] = {}
        # Each training thread seen (at the training threads' niceness): (tid, start time) ->
        # [CPU seconds when first seen, latest]
        self.training: dict[tuple[int, int], list] = {}
        self.counts: list[int] = []  # processes at each sample

    @staticmethod
    def stat(pid: int, path: str | None = None) -> tuple[str, int, float, int] | None:
        """(name, start time in ticks, CPU seconds, niceness) of a process (or of the thread
        whose stat file is ``path``), None when it is gone."""
        try:
            text = Path(path or f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        return (name, int(fields[19]), (int(fields[11]) + int(fields[12])) / ProcessWatch.TICK,
                int(fields[16]))

    def training_threads(self, pid: int, first: bool) -> None:
        """Keeps the CPU of ``pid``'s threads that run at the training threads' niceness:
        training takes whatever the requests leave (it yields to them), so the server's CPU
        says how busy it was, and its CPU besides training what the class's requests and
        streams cost."""
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            return
        for tid in tids:
            found = self.stat(int(tid), f"/proc/{pid}/task/{tid}/stat")
            if found is not None and found[3] == self.training_niceness:
                entry = self.training.setdefault((int(tid), found[1]),
                                                 [found[2] if first else 0.0, found[2]])
                entry[1] = found[2]

    def cpu_seconds(self, pid: int | None = None) -> float:
        found = self.stat(self.pid if pid is None else pid)
        return found[2] if found else 0.0

    def status(self, name: str, pid: int | None = None) -> int:
        try:
            lines = Path(f"/proc/{self.pid if pid is None else pid}/status").read_text()
        except OSError:
            return 0
        for line in lines.splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
        return 0

    def sample(self) -> tuple[float, float, int]:
        """CPU seconds the server's processes used since the watch began (a process born
        since counts from 0; one gone keeps what it used until its last sample) and their
        summed RSS now."""
        first = not self.samples
        pids = descendants(self.pid) if self.tree else [self.pid]
        rss, count = 0, 0
        for pid in pids:
            found = self.stat(pid)
            if found is None:
                continue
            name, started, cpu, _ = found
            entry = self.seen.setdefault((pid, started), [cpu if first else 0.0, cpu, name])
            entry[1], entry[2] = cpu, name
            self.training_threads(pid, first)
            rss += self.status("VmRSS", pid)
            count += 1
        self.counts.append(count)
        return time.monotonic(), sum(b - a for a, b, _ in self.seen.values()), rss

    def alive(self) -> list[int]:
        """The processes seen that still run (the same pid and start time)."""
        return [pid for pid, started in self.seen
                if (found := self.stat(pid)) is not None and found[1] == started]

    @staticmethod
    def machine_busy_seconds() -> float:
        """CPU seconds every process of the machine has used (all cores), from /proc/stat."""
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
        return (user + nice + system + irq + softirq + steal) / ProcessWatch.TICK

    async def run(self, stop: asyncio.Event, every: float = 0.5) -> None:
        self.machine = [(time.monotonic(), self.machine_busy_seconds())]
        self.loadavg = [Path("/proc/loadavg").read_text().split()[0]]
        while not stop.is_set():
            self.samples.append(self.sample())
            try:
                await asyncio.wait_for(stop.wait(), every)
            except TimeoutError:
                pass
        self.samples.append(self.sample())
        self.machine.append((time.monotonic(), self.machine_busy_seconds()))
        self.loadavg.append(Path("/proc/loadavg").read_text().split()[0])

    def report(self) -> dict:
        (t0, c0, _), (t1, c1, _) = self.samples[0], self.samples[-1]
        (m0, b0), (m1, b1) = self.machine
        peaks = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(self.samples, self.samples[1:],
                                                                   strict=False)]
        mean = (c1 - c0) / (t1 - t0)
        training = sum(b - a for a, b in self.training.values()) / (t1 - t0)
        names: dict[str, int] = {}
        by_name: dict[str, float] = {}  # CPU over the watch, % of one core, by process name
        for (pid, _), (first, last, name) in self.seen.items():
            names[name] = names.get(name, 0) + 1
            name = "replica" if pid == self.pid and self.tree else name
            by_name[name] = by_name.get(name, 0.0) + 100 * (last - first) / (t1 - t0)
        return {"cpu_mean_percent": 100 * mean,
                "cpu_peak_percent": 100 * max(peaks, default=0.0),
                "cores_mean": mean,
                "training_cores_mean": training,
                # the root's own peak (VmHWM) or, for a tree, the largest summed sample
                "rss_peak_mb": max(self.status("VmHWM") / 1024,
                                   max((s[2] for s in self.samples), default=0) / 1024),
                "rss_end_mb": self.samples[-1][2] / 1024,
                "threads_end": self.status("Threads"),
                "processes_peak": max(self.counts, default=1),
                "process_names": dict(sorted(names.items())),
                "cpu_percent_by_name": dict(sorted(by_name.items(), key=lambda kv: -kv[1])),
                "machine_busy_percent": 100 * (b1 - b0) / (m1 - m0),
                "loadavg_start_end": self.loadavg}


# -- the clients ---------------------------------------------------------------------------

@dataclass
class Stats:
    requests: list[tuple[str, str, int, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    queue_waits: list[float] = field(default_factory=list)
    unstarted: int = 0  # runs still queued when the lesson ended (stopped before training)

    async def call(self, client: httpx.AsyncClient, method: str, url: str, label: str,
                   expect: int = 200, read: bool = False, **kwargs) -> dict | None:
        """The answer's JSON if ``read`` (else {}: a page's grids are not worth decoding
        here), None on an error, which is counted."""
        began = time.perf_counter()
        try:
            r = await client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            self.errors.append(f"{label}: {type(exc).__name__} {exc}")
            return None
        self.requests.append((method, label, r.status_code, time.perf_counter() - began))
        if r.status_code != expect:
            self.errors.append(f"{label}: {r.status_code} {r.text[:160]}")
            return None
        return r.json() if read and r.content else {}


class Stream:
    """Follows one network's events like the page: counts progress frames (with their time),
    reads snapshots and dones, and says when a run begins training and when it is done.

    It reads as little as it can: a progress frame (tens of kilobytes, the bulk of the bytes)
    is counted where it starts and never copied out, since on these two cores what the load
    generator spends is taken from the server it measures."""

    def __init__(self, client: httpx.AsyncClient, url: str, stats: Stats, name: str):
        self.client, self.url, self.stats, self.name = client, url, stats, name
        self.frames: list[float] = []
        self.bytes = 0
        self.snapshots = 0
        self.training_since: float | None = None
        self.done = asyncio.Event()
        self.closing = False
        self._buffer = bytearray()
        self._searched = 0  # the buffer holds no event end before this
        self.task = asyncio.create_task(self.run())

    async def run(self) -> None:
        try:
            async with self.client.stream("GET", self.url) as response:
                if response.status_code != 200:
                    self.stats.errors.append(f"stream {self.name}: {response.status_code}")
                    return
                async for chunk in response.aiter_raw():
                    self.bytes += len(chunk)
                    self.read(chunk)
        except (httpx.HTTPError, asyncio.CancelledError) as exc:
            if not self.closing:
                self.stats.errors.append(f"stream {self.name} broke: {type(exc).__name__}")
            return
        if not self.closing:
            self.stats.errors.append(f"stream {self.name} ended early")

    def read(self, chunk: bytes) -> None:
        """The events that ``chunk`` completes (an event ends with a blank line)."""
        buffer = self._buffer
        buffer += chunk
        start, i = 0, self._searched
        # Line breaks are few (an event's JSON has none), and one byte is found at memchr's
        # speed, where a two-byte search crawls through a frame's base64.
        while (i := buffer.find(b"\n", i)) >= 0 and i + 1 < len(buffer):
            if buffer[i + 1] == 0x0A:
                self.event(buffer, start, i)
                start = i = i + 2
            else:
                i += 1
        del buffer[:start]
        self._searched = max(0, len(buffer) - 1)  # a blank line may straddle two chunks

    def event(self, buffer: bytearray, start: int, end: int) -> None:
        now = time.monotonic()
        if buffer.startswith(b"event: progress\n", start):
            self.frames.append(now)
        elif buffer.startswith(b"event: snapshot\n", start):
            self.snapshots += 1
            data = bytes(buffer[start:end]).partition(b"\ndata: ")[2]
            if json.loads(data)["status"] == "training" and self.training_since is None:
                self.training_since = now
        elif buffer.startswith(b"event: done\n", start):
            self.done.set()
        # anything else (a keep-alive comment, an event the load test does not follow): skipped

    async def close(self) -> None:
        self.closing = True
        self.task.cancel()
        try:
            await self.task
        except asyncio.CancelledError:
            pass


@dataclass
class Student:
    index: int
    own: Stream | None = None
    teacher: Stream | None = None
    trained: float = 0.0  # seconds its network spent training (first frame to done)
    trained_frames: int = 0
    cycles: int = 0


async def page_refresh(stats: Stats, client, url: str) -> None:
    """What the page asks after every change: the grids of every neuron, and the history."""
    await asyncio.gather(
        stats.call(client, "GET", url + "/boundary?resolution=100&neurons=true"
                   "&neuron_resolution=50", "GET /boundary"),
        stats.call(client, "GET", url + "/history", "GET /history"))


async def student(s: Student, base: str, teacher_url: str, stats: Stats, deadline: float,
                  cycles: int, epochs: int, speed: float | None) -> None:
    rng = random.Random(s.index)
    limits = httpx.Limits(max_connections=8)
    timeout = httpx.Timeout(30, read=60)
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client, \
            httpx.AsyncClient(timeout=timeout) as streams:
        await asyncio.sleep(rng.uniform(0, 3))  # they do not all sit down at the same second
        body = {"dataset": {"name": DATASETS[s.index % len(DATASETS)]},
                "hidden": [rng.choice([2, 3, 4, 6]), 2], "learning_rate": 0.1}
        made = await stats.call(client, "POST", base + "/api/networks", "POST /networks",
                                expect=201, read=True, json=body)
        if made is None:
            return
        url = f"{base}/api/networks/{made['id']}"
        owner = {"Authorization": f"Bearer {made['token']}"}
        await asyncio.gather(stats.call(client, "GET", url, "GET /network"),
                             stats.call(client, "GET", url + "/data", "GET /data"),
                             page_refresh(stats, client, url))
        s.own = Stream(streams, url + "/events" + PAGE_STREAM, stats, f"own {s.index}")
        s.teacher = Stream(streams, teacher_url + "/events" + PAGE_STREAM, stats,
                           f"teacher->{s.index}")

        async def write(method: str, path: str, label: str, expect: int = 200, **kwargs):
            result = await stats.call(client, method, url + path, label, expect=expect,
                                      headers=owner, **kwargs)
            await page_refresh(stats, client, url)
            await asyncio.sleep(rng.uniform(0.1, 0.4))  # a student reads what changed
            return result

        while s.cycles < cycles and time.monotonic() < deadline:
            for path in ("/forward", "/backward", "/update"):
                await write("POST", path, f"POST {path}", json={})
            await write("POST", "/step", "POST /step", json={"iterations": 5})
            await write("PATCH", "", "PATCH /network",
                        json={"learning_rate": rng.choice([0.03, 0.1, 0.3])})
            if time.monotonic() > deadline:
                break
            s.own.done.clear()
            s.own.training_since = None
            asked, before = time.monotonic(), len(s.own.frames)
            answer = await stats.call(client, "POST", url + "/train", "POST /train",
                                      expect=202, headers=owner,
                                      json={"epochs": epochs, "max_epochs_per_second": speed})
            if answer is None:
                break
            try:  # watched to its end, or stopped when the lesson is over
                await asyncio.wait_for(s.own.done.wait(), max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                await stats.call(client, "POST", url + "/stop", "POST /stop", headers=owner)
                try:
                    await asyncio.wait_for(s.own.done.wait(), 15)
                except TimeoutError:
                    stats.errors.append(f"student {s.index}: no done after its stop")
                if s.own.training_since is None:  # never left the queue
                    stats.unstarted += 1
                    break
            finished = time.monotonic()
            began = s.own.training_since or asked
            stats.queue_waits.append(began - asked)
            s.trained += finished - began
            s.trained_frames += len(s.own.frames) - before
            await page_refresh(stats, client, url)
            await asyncio.sleep(rng.uniform(0.3, 1.0))
            s.cycles += 1
        while time.monotonic() < deadline:  # keeps watching the teacher to the end
            await asyncio.sleep(0.2)
        await s.own.close()
        await s.teacher.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


@dataclass
class Part:
    """What one process of the load generator measured, as plain data (it crosses processes)."""

    requests: list[tuple[str, str, int, float]]
    errors: list[str]
    queue_waits: list[float]
    unstarted: int
    teacher_frames: list[list[float]]  # per student: when each frame of the teacher's came
    own: list[tuple[float, int]]  # per student: seconds its network trained, frames meanwhile
    stream_bytes: int
    cpu_seconds: float
    lags: list[float]  # how late its event loop ran a timer: what it adds to every figure


def run_part(base: str, teacher_url: str, indices: list[int], deadline: float, cycles: int,
             epochs: int, speed: float | None) -> Part:
    """These students, to ``deadline`` (time.monotonic(), the same clock in every process),
    in a process of their own."""
    return asyncio.run(part(base, teacher_url, indices, deadline, cycles, epochs, speed))


async def part(base: str, teacher_url: str, indices: list[int], deadline: float, cycles: int,
               epochs: int, speed: float | None) -> Part:
    stats, pupils, lags = Stats(), [Student(i) for i in indices], []
    cpu0 = time.process_time()
    ticking = asyncio.create_task(loop_lag(lags, deadline))
    await asyncio.gather(*(student(p, base, teacher_url, stats, deadline, cycles, epochs,
                                   speed) for p in pupils))
    await ticking
    return Part(stats.requests, stats.errors, stats.queue_waits, stats.unstarted,
                [p.teacher.frames for p in pupils if p.teacher],
                [(p.trained, p.trained_frames) for p in pupils],
                sum(p.own.bytes + p.teacher.bytes for p in pupils if p.own and p.teacher),
                time.process_time() - cpu0, lags)


async def loop_lag(lags: list[float], deadline: float, every: float = 0.01) -> None:
    while time.monotonic() < deadline:
        began = time.perf_counter()
        await asyncio.sleep(every)
        lags.append(time.perf_counter() - began - every)


async def classroom(base: str, pid: int, students: int, seconds: float, cycles: int,
                    epochs: int, speed: float | None, engine: str = "local",
                    watch: ProcessWatch | None = None, processes: int = 1) -> dict:
    stats = Stats()
    watch, stop_watch = watch or ProcessWatch(pid), asyncio.Event()
    watcher = asyncio.create_task(watch.run(stop_watch))
    async with httpx.AsyncClient(timeout=30) as client:
        made = await stats.call(client, "POST", base + "/api/networks", "POST /networks",
                                expect=201, read=True,
                                json={"dataset": {"name": "spiral"}, "hidden": [8, 8]})
        teacher = f"{base}/api/networks/{made['id']}"
        owner = {"Authorization": f"Bearer {made['token']}"}
        await stats.call(client, "POST", teacher + "/train", "POST /train", expect=202,
                         headers=owner, json={"epochs": 1_000_000,
                                              "max_epochs_per_second": speed})
        loop = asyncio.get_running_loop()
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(processes, mp_context=spawn) as pool:
            # Started (imports done) before the lesson's clock starts.
            await asyncio.gather(*(loop.run_in_executor(pool, time.sleep, 0.2)
                                   for _ in range(processes)))
            began = time.monotonic()
            deadline = began + seconds
            cpu0 = time.process_time()
            indices = list(range(students))
            parts: list[Part] = await asyncio.gather(*(
                loop.run_in_executor(pool, run_part, base, teacher, indices[k::processes],
                                     deadline, cycles, epochs, speed)
                for k in range(processes)))
            elapsed = time.monotonic() - began
            generator_cpu = time.process_time() - cpu0 + sum(got.cpu_seconds for got in parts)
        await stats.call(client, "POST", teacher + "/stop", "POST /stop", headers=owner)
    stop_watch.set()
    await watcher
    for got in parts:
        stats.requests += got.requests
        stats.errors += got.errors
        stats.queue_waits += got.queue_waits
        stats.unstarted += got.unstarted

    window = (began + min(4.0, seconds / 2), began + seconds)  # all are in after 3 s
    teacher_fps = [sum(window[0] <= t <= window[1] for t in frames) / (window[1] - window[0])
                   for got in parts for frames in got.teacher_frames]
    own_fps = [frames / trained for got in parts for trained, frames in got.own if trained > 0]
    lags = [lag for got in parts for lag in got.lags]
    writes = [d for m, _, _, d in stats.requests if m != "GET"]
    reads = [d for m, _, _, d in stats.requests if m == "GET"]
    by_call: dict[str, list[float]] = {}
    for _, label, _, d in stats.requests:
        by_call.setdefault(label, []).append(d)
    return {
        "engine": engine, "students": students, "seconds": round(elapsed, 1), "speed": speed,
        "requests": len(stats.requests),
        "requests_per_second": len(stats.requests) / elapsed,
        "write_ms": {"count": len(writes), "p50": 1000 * percentile(writes, 50),
                     "p99": 1000 * percentile(writes, 99), "max": 1000 * max(writes)},
        "read_ms": {"count": len(reads), "p50": 1000 * percentile(reads, 50),
                    "p99": 1000 * percentile(reads, 99), "max": 1000 * max(reads)},
        "by_call_ms": {k: {"n": len(v), "p50": 1000 * percentile(v, 50),
                           "p99": 1000 * percentile(v, 99)} for k, v in sorted(by_call.items())},
        "teacher_stream_fps": frame_rates(teacher_fps),
        "own_stream_fps_while_training": frame_rates(own_fps),
        "runs": len(stats.queue_waits),
        "runs_never_started": stats.unstarted,
        "queue_wait_s": {"p50": percentile(stats.queue_waits, 50),
                         "max": max(stats.queue_waits, default=0.0)},
        "stream_mb_received": sum(got.stream_bytes for got in parts) / 1e6,
        "errors": stats.errors,
        "server": watch.report(),
        "load_generator_cpu_percent": 100 * generator_cpu / elapsed,
        "load_generator": {"processes": processes,
                           "loop_lag_ms": {"p50": 1000 * percentile(lags, 50),
                                           "p99": 1000 * percentile(lags, 99)}},
    }


def frame_rates(fps: list[float]) -> dict:
    """The streams' count, slowest and median frame rate. No stream at all (on a machine too
    slow for any student's run to leave the queue) shows 0 frames/s: a missed target."""
    return {"streams": len(fps), "min": min(fps, default=0.0),
            "median": statistics.median(fps) if fps else 0.0}


def verdict(r: dict) -> list[str]:
    lines = []
    goal = targets(r["students"], r.get("engine", "local"))
    worst = min(r["teacher_stream_fps"]["min"], r["own_stream_fps_while_training"]["min"])
    checks = [
        (not r["errors"], f"errors: {len(r['errors'])}"),
        (worst >= goal["fps"], f"slowest stream {worst:.1f} frames/s "
                               f"(target >= {goal['fps']:.0f})"),
        (r["write_ms"]["p99"] < goal["p99_write_ms"],
         f"p99 write latency {r['write_ms']['p99']:.0f} ms "
         f"(target < {goal['p99_write_ms']:.0f})"),
    ]
    if goal["min_cores"] is not None:
        cores = r["server"]["cores_mean"]
        checks.append((cores > goal["min_cores"], f"server's processes use {cores:.2f} cores "
                                                  f"(target > {goal['min_cores']:.0f})"))
    for ok, text in checks:
        lines.append(f"  {'met   ' if ok else 'MISSED'} {text}")
    return lines


def met(r: dict) -> bool:
    return not r["errors"] and all(line.startswith("  met") for line in verdict(r))


def server_line(r: dict) -> str:
    s = r["server"]
    if r.get("engine", "local") == "local":
        return (f"server: CPU mean {s['cpu_mean_percent']:.0f} %, peak "
                f"{s['cpu_peak_percent']:.0f} % (of one core; 200 % = both), peak RSS "
                f"{s['rss_peak_mb']:.0f} MB, {s['threads_end']} threads at the end")
    seen = sum(s["process_names"].values())
    return (f"server CPU: {s['cpu_mean_percent']:.0f}% of one core (peak "
            f"{s['cpu_peak_percent']:.0f}%), {s['cores_mean']:.2f} cores: the replica and every "
            f"process below it ({seen - 1} of Ray's seen, {s['processes_peak']} processes at "
            f"most at once); peak summed RSS {s['rss_peak_mb']:.0f} MB (pages shared between "
            f"them counted in each), {s['threads_end']} threads in the replica at the end\n"
            f"  CPU by process (% of one core): " + ", ".join(
                f"{name} {cpu:.0f}" for name, cpu in s["cpu_percent_by_name"].items()
                if cpu >= 0.5))


def show(r: dict) -> str:
    from bench.machine import cpu_model

    s, generator = r["server"], r["load_generator"]
    others = max(0.0, s["machine_busy_percent"] - s["cpu_mean_percent"]
                 - r["load_generator_cpu_percent"])
    out = [
        f"machine: {cpu_model()}, Python {sys.version.split()[0]}, engine "
        f"{r.get('engine', 'local')}",
        f"{r['students']} students + 1 teacher for {r['seconds']} s, runs at "
        f"{r['speed'] or 'full'} epochs/s: {r['requests']} requests, "
        f"{r['requests_per_second']:.0f}/s, {r['runs']} student runs",
        f"writes: n={r['write_ms']['count']} p50 {r['write_ms']['p50']:.1f} ms, "
        f"p99 {r['write_ms']['p99']:.1f} ms, max {r['write_ms']['max']:.0f} ms",
        f"reads:  n={r['read_ms']['count']} p50 {r['read_ms']['p50']:.1f} ms, "
        f"p99 {r['read_ms']['p99']:.1f} ms, max {r['read_ms']['max']:.0f} ms",
        f"teacher's stream at each student: min {r['teacher_stream_fps']['min']:.1f}, "
        f"median {r['teacher_stream_fps']['median']:.1f} frames/s "
        f"({r['teacher_stream_fps']['streams']} streams)",
        f"own stream while its network trains: min "
        f"{r['own_stream_fps_while_training']['min']:.1f}, median "
        f"{r['own_stream_fps_while_training']['median']:.1f} frames/s "
        f"({r['own_stream_fps_while_training']['streams']} streams)",
        f"runs waiting for a training slot: p50 {r['queue_wait_s']['p50']:.2f} s, "
        f"max {r['queue_wait_s']['max']:.2f} s; {r['runs_never_started']} still queued at "
        f"the end (stopped)",
        f"streams delivered {r['stream_mb_received']:.0f} MB",
        server_line(r),
        f"load generator (same machine, {generator['processes']} process"
        f"{'es' if generator['processes'] > 1 else ''}): CPU "
        f"{r['load_generator_cpu_percent']:.0f} %, its event loops late by p50 "
        f"{generator['loop_lag_ms']['p50']:.1f} / p99 {generator['loop_lag_ms']['p99']:.1f} ms "
        f"(added to the latencies above); the "
        f"whole machine: {s['machine_busy_percent']:.0f} % of 200 % busy, so other processes "
        f"~{others:.0f} %; load average {' -> '.join(s['loadavg_start_end'])}",
        besides_training(r),
        "per call (p50 / p99 ms):",
        *(f"  {k:<16} n={v['n']:<5} {v['p50']:7.1f} / {v['p99']:7.1f}"
          for k, v in r["by_call_ms"].items()),
        f"errors: {len(r['errors'])}", *(f"  {e}" for e in r["errors"][:20]),
        "targets:", *verdict(r),
    ]
    return "\n".join(out)


def besides_training(r: dict) -> str:
    """What the class's calls and streams cost, per student: the server's CPU besides
    training (which takes whatever is left) and the load generator's."""
    s, n = r["server"], r["students"]
    besides = s["cores_mean"] - s["training_cores_mean"]
    generator = r["load_generator_cpu_percent"] / 100
    return (f"the class's CPU besides training: server {besides:.2f} cores (training took "
            f"{s['training_cores_mean']:.2f} more), load generator {generator:.2f}; per "
            f"student {1000 * besides / n:.1f} + {1000 * generator / n:.1f} ms a second")


COMPARED = [  # (label, how to read it from a result, format)
    ("requests/s", lambda r: r["requests_per_second"], "{:.0f}"),
    ("student runs", lambda r: r["runs"], "{:.0f}"),
    ("writes p50 ms", lambda r: r["write_ms"]["p50"], "{:.1f}"),
    ("writes p99 ms", lambda r: r["write_ms"]["p99"], "{:.1f}"),
    ("reads p50 ms", lambda r: r["read_ms"]["p50"], "{:.1f}"),
    ("reads p99 ms", lambda r: r["read_ms"]["p99"], "{:.1f}"),
    ("teacher fps min", lambda r: r["teacher_stream_fps"]["min"], "{:.1f}"),
    ("teacher fps median", lambda r: r["teacher_stream_fps"]["median"], "{:.1f}"),
    ("own fps min", lambda r: r["own_stream_fps_while_training"]["min"], "{:.1f}"),
    ("own fps median", lambda r: r["own_stream_fps_while_training"]["median"], "{:.1f}"),
    ("queue wait p50 s", lambda r: r["queue_wait_s"]["p50"], "{:.2f}"),
    ("queue wait max s", lambda r: r["queue_wait_s"]["max"], "{:.2f}"),
    ("stream MB", lambda r: r["stream_mb_received"], "{:.0f}"),
    ("server CPU mean %", lambda r: r["server"]["cpu_mean_percent"], "{:.0f}"),
    ("server CPU peak %", lambda r: r["server"]["cpu_peak_percent"], "{:.0f}"),
    ("server cores", lambda r: r["server"]["cores_mean"], "{:.2f}"),
    ("server cores besides training",
     lambda r: r["server"]["cores_mean"] - r["server"]["training_cores_mean"], "{:.2f}"),
    ("server processes", lambda r: r["server"]["processes_peak"], "{:.0f}"),
    ("server peak RSS MB", lambda r: r["server"]["rss_peak_mb"], "{:.0f}"),
    ("load generator CPU %", lambda r: r["load_generator_cpu_percent"], "{:.0f}"),
    ("its loop lag p99 ms", lambda r: r["load_generator"]["loop_lag_ms"]["p99"], "{:.1f}"),
    ("machine busy %", lambda r: r["server"]["machine_busy_percent"], "{:.0f}"),
    ("errors", lambda r: len(r["errors"]), "{:.0f}"),
]


def compare(local: dict, ray: dict) -> str:
    """The two engines side by side, with ray / local, and each one's verdict."""
    width = max(len(label) for label, _, _ in COMPARED)
    out = [f"{local['students']} students + 1 teacher, local {local['seconds']} s, "
           f"ray {ray['seconds']} s",
           f"{'':<{width}}  {'local':>9}  {'ray':>9}  {'ray/local':>9}"]
    for label, read, form in COMPARED:
        a, b = read(local), read(ray)
        ratio = f"{b / a:.2f}" if a else "-"
        out.append(f"{label:<{width}}  {form.format(a):>9}  {form.format(b):>9}  {ratio:>9}")
    for name, r in (("local", local), ("ray", ray)):
        out.append(f"targets, {name} engine: {'all met' if met(r) else 'MISSED'}")
        out += verdict(r)
    return "\n".join(out)


def measure(engine: str, args, env: dict[str, str]) -> tuple[dict, str]:
    """One classroom on a server of ``engine`` started for it, then stopped with every process
    of its own (Ray's too). The figures, and the server's log."""
    if engine == "ray":
        # A Ray of its own on this machine. Without an address Ray joins the cluster named in
        # /tmp/ray/ray_current_cluster, which the last `ray start` wrote and which may be gone
        # (its GCS then never answers): "local" starts a new one whatever that file says.
        env = {"RAY_ADDRESS": "local", **env}
    with tempfile.TemporaryDirectory() as tmp:
        server = start(Path(tmp), env, engine)  # 127.0.0.1, a free port: nothing leaves here
        print(f"{engine} engine: server pid {server.process.pid} at {server.url}",
              file=sys.stderr, flush=True)
        watch = ProcessWatch(server.process.pid)
        try:
            result = asyncio.run(classroom(server.url, server.process.pid, args.students,
                                           args.seconds, args.cycles, args.epochs,
                                           args.speed or None, engine, watch,
                                           args.processes))
        finally:
            tree = descendants(server.process.pid)  # before the replica stops: Ray's too
            for pid in tree:
                if (found := ProcessWatch.stat(pid)) is not None:
                    watch.seen.setdefault((pid, found[1]), [0.0, found[2], found[0]])
            server.stop(timeout=10 if engine == "local" else 40)
            log = server.log.read_text(errors="replace")
            left = reap(watch)
            if left:
                print(f"{engine} engine: killed {len(left)} of its processes left after the "
                      f"server stopped: {left}", file=sys.stderr, flush=True)
    return result, log


def reap(watch: ProcessWatch, wait: float = 15.0) -> list[int]:
    """The server's processes still running once it stopped: given ``wait`` seconds to end,
    then killed (only those seen as the server's, the same pid and start time)."""
    deadline = time.monotonic() + wait
    while (left := watch.alive()) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return left


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--students", type=int, default=40)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--cycles", type=int, default=20, help="at most this many train cycles "
                   "per student")
    p.add_argument("--epochs", type=int, default=500, help="epochs of each student's run")
    p.add_argument("--speed", type=float, default=0, help="max epochs per second of every run "
                   "(0: full speed, the page's fastest choice)")
    p.add_argument("--processes", type=int, default=1,
                   help="of the load generator, its students spread over them (on two cores, "
                        "more take CPU from the server: its figures get worse)")
    p.add_argument("--engine", choices=[*ENGINES, "both"], default="local",
                   help="the server's engine; both: the same classroom on the local engine, "
                        "then on the Ray engine, and the two side by side")
    p.add_argument("--json", help="also write the figures to this file")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="an environment variable for the server, e.g. "
                        "PLAYGROUND_MAX_CONCURRENT_RUNS=2 (repeatable)")
    args = p.parse_args(argv)
    if not 1 <= args.students <= 200 or not 1 <= args.seconds <= 600 or \
            not 1 <= args.processes <= 16:
        p.error("--students 1..200, --seconds 1..600 and --processes 1..16")
    env = {**server_env(args.students), **dict(item.split("=", 1) for item in args.env)}
    engines = ENGINES if args.engine == "both" else (args.engine,)
    results = {}
    for engine in engines:
        result, log = measure(engine, args, env)
        results[engine] = result
        if len(engines) > 1:
            print(f"== {engine} engine ==")
        print(show(result))
        if "Traceback" in log or "ERROR" in log:
            print("server log:\n" + log[-4000:])
        if len(engines) > 1:
            print(flush=True)
    if len(engines) > 1:
        print("== both engines: the same classroom ==")
        print(compare(results["local"], results["ray"]))
    if args.json:
        Path(args.json).write_text(json.dumps(results if len(engines) > 1
                                              else results[engines[0]], indent=1))
    return 0 if all(met(r) for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
