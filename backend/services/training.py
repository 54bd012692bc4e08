"""Background training runs: off the event loop, taking turns in time slices, stoppable.

Runs take turns on a few threads (backend/services/scheduler.py). In its slice a run's thread
owns its network: it trains epoch after epoch, carries out the calls other requests handed it
between two chunks of epochs and, as often as the stream's budgets allow, publishes one
progress frame for every viewer; it saves a checkpoint every ``checkpoint_seconds``. Between
its slices the run is parked: calls on its network are carried out at once by their own
thread. A frame's numbers are taken by the run; its weights and grids are drawn and encoded
by a painter thread from a copy of the weights, while the run trains on.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from backend.core.experiment import Experiment
from backend.core.network import Network
from backend.services import costs, views
from backend.services.budgets import Budgets
from backend.services.costs import Shape
from backend.services.errors import Conflict
from backend.services.jsontext import dumps, dumps_grids, join
from backend.services.networks import (
    Entry,
    NetworkService,
    Run,
    held_bytes,
    publish_snapshot,
)
from backend.services.scheduler import AGAIN, DONE, Later, Outcome, Scheduler
from backend.settings import Settings

log = logging.getLogger(__name__)

CORES = os.cpu_count() or 1
PAINTERS = 2  # threads drawing the runs' frames (their NumPy work mostly leaves the lock)
TRAINING_NICENESS = 10
BUSY_RETRY_SECONDS = 0.01  # a network busy with a quick call: its slice comes back this soon


class TrainingService:
    def __init__(self, settings: Settings, networks: NetworkService):
        self.settings = settings
        self.networks = networks
        self.budgets = Budgets(settings)
        self.scheduler = Scheduler(settings.max_concurrent_runs, settings.max_large_runs,
                                   settings.run_slice_seconds, settings.max_queued_runs,
                                   initializer=_lower_priority)
        self._painters = ThreadPoolExecutor(PAINTERS, thread_name_prefix="frames")
        self._tasks: dict[Entry, RunTask] = {}
        self._lock = threading.Lock()

    def start(self, entry: Entry, epochs: int, max_epochs_per_second: float | None) -> Run:
        with entry.lock:
            if entry.run is not None:
                raise Conflict("this network is already training; stop it first, or follow "
                               "its events", see=("stop", "events"))
            entry.experiment.trainer.check_can_learn()
            if entry.experiment.trainer.next_step != "forward":
                raise Conflict(f"a batch was begun step by step: call "
                               f"{entry.experiment.trainer.next_step} first, then train")
            run = Run(epochs, max_epochs_per_second)
            task = RunTask(self, entry, run)
            self.scheduler.submit(task)  # Busy when the line is full: nothing has changed
            entry.run = run
            with self._lock:
                self._tasks[entry] = task
        self.networks.save(entry)
        publish_snapshot(entry)
        return run

    def stop(self, entry: Entry, reason: str = "stopped", wait: float = 10.0) -> None:
        """Stop the network's run: a queued one at once, a training one at its next chunk."""
        with entry.lock:
            run = entry.run
            if run is None:
                return
            run.stop_reason = reason
            run.stop.set()
            if run.status == "queued":  # no thread has had it yet: it ends here, never starts
                run.cancelled = True
                entry.run = None
                done = entry.end_run(reason, "Stopped before it started.")
                self._forget(entry)
                if reason != "deleted":
                    self.networks.save(entry)
                    entry.channel.publish("done", dumps(done))
                run.finished.set()
                return
        with self._lock:
            task = self._tasks.get(entry)
        if task is not None:
            self.scheduler.wake(task)  # a parked run ends in its next slice, which is now
        run.finished.wait(wait)

    def shutdown(self, wait: float = 5.0) -> None:
        """Stop every run (each saves its last checkpoint), then the workers."""
        with self._lock:
            tasks = list(self._tasks.values())
        for task in tasks:
            task.run.stop_reason = "server stopped"
            task.run.stop.set()
            self.scheduler.wake(task)
        deadline = time.monotonic() + wait
        for task in tasks:
            task.run.finished.wait(max(0.0, deadline - time.monotonic()))
        self.scheduler.close()
        self._painters.shutdown(wait=False, cancel_futures=True)

    @property
    def active(self) -> int:
        with self._lock:
            return len(self._tasks)

    def _forget(self, entry: Entry) -> None:
        with self._lock:
            self._tasks.pop(entry, None)

    # -- a slice of a run (on a scheduler thread) ------------------------------------------------

    def _slice(self, task: RunTask, seconds: float | None) -> Outcome:
        entry, run, exp = task.entry, task.run, task.entry.experiment
        if not entry.lock.acquire(blocking=False):  # a quick call has the network: soon
            return Later(time.monotonic() + BUSY_RETRY_SECONDS)
        try:
            if run.cancelled:
                return DONE
            first = run.status == "queued"
            run.status = "training"
            run.mailbox.open()
        finally:
            entry.lock.release()
        try:
            if first:
                run.started = time.monotonic()
                run.last_checkpoint = run.started
                run.frames = FramePacer(self.settings, Shape.of(exp.net.sizes), exp.trainer.epoch)
                publish_snapshot(entry)
            ended = self._train(entry, run, exp, seconds)
        except Exception as exc:  # never leave a run hanging: report and free the network
            log.exception("training run of %s failed", entry.id)
            ended = ("error", f"The run failed: {exc}")
        if ended is None:
            return self._park(entry, run, exp)
        self._end(entry, run, exp, *ended)
        return DONE

    def _train(self, entry: Entry, run: Run, exp: Experiment,
               seconds: float | None) -> tuple[str, str] | None:
        """Train until the slice is over (None: to the end); (reason, message) if the run has
        ended."""
        if run.stop.is_set():
            return run.stop_reason, ("Stopped before it started." if run.done == 0
                                     else f"Stopped at epoch {exp.trainer.epoch}.")
        target = self._due(run)
        if target <= 0:
            return None
        deadline = math.inf if seconds is None else time.monotonic() + seconds

        def between() -> None:  # a handed-over call waits a chunk (milliseconds), not a slice
            if run.mailbox.waiting:
                run.mailbox.drain(exp)

        def on_tick(_trainer) -> None:
            run.mailbox.drain(exp)
            self._publish_progress(entry, run, exp)
            self._checkpoint(entry, run)

        result = exp.trainer.run(
            target, should_stop=lambda: run.stop.is_set() or time.monotonic() >= deadline,
            on_tick=on_tick, tick_seconds=1.0 / self.settings.stream_fps,
            between_epochs=between)
        run.done += result.epochs
        if result.reason in ("converged", "diverged", "cannot_learn"):
            return result.reason, result.message
        if run.stop.is_set():
            reason = run.stop_reason
            message = f"Stopped at epoch {exp.trainer.epoch}."
            return reason, message if reason == "stopped" else f"{message} ({reason})"
        if run.done >= run.epochs:
            if exp.trainer.config.rule == "perceptron":
                return "not_converged", exp.trainer.not_converged_message(run.done)
            return "finished", f"Finished {run.epochs} epoch(s) at epoch {exp.trainer.epoch}."
        return None

    def _due(self, run: Run) -> int:
        """Epochs this run may train now: the rest of them, or those a slowed-down run is due
        (epoch k + 1 starts k / rate seconds after the run's start)."""
        left = run.epochs - run.done
        rate = run.max_epochs_per_second
        if not rate:
            return left
        elapsed = time.monotonic() - run.started
        return min(left, math.floor(elapsed * rate) + 1 - run.done)

    def _park(self, entry: Entry, run: Run, exp: Experiment) -> Outcome:
        """Between two slices: the calls handed over are carried out, then the network answers
        calls itself until the next slice."""
        self._publish_progress(entry, run, exp)
        self._checkpoint(entry, run)
        with entry.lock:
            run.mailbox.drain(exp, close=True)
            entry.held = held_bytes(entry)  # counted by its owner, before it lets go
            run.status = "parked"
        self.networks.reclaim()
        if run.stop.is_set():
            return AGAIN
        if run.max_epochs_per_second and run.done < run.epochs:
            due = run.started + run.done / run.max_epochs_per_second
            if due > time.monotonic():
                return Later(min(due, time.monotonic() + 1.0 / self.settings.stream_fps)
                             if run.frames.waiting else due)
        return AGAIN

    def _checkpoint(self, entry: Entry, run: Run) -> None:
        now = time.monotonic()
        if now - run.last_checkpoint >= self.settings.checkpoint_seconds:
            self.networks.save(entry)
            run.last_checkpoint = now

    def _end(self, entry: Entry, run: Run, exp: Experiment, reason: str, message: str) -> None:
        try:  # still the owner: the last checkpoint and events come before anyone else
            run.status = "ending"
            done = entry.end_run(reason, message)
            if reason != "deleted":
                self.networks.save(entry)
                self._publish_progress(entry, run, exp, last=True)
                entry.channel.publish("done", dumps(done))
        except Exception:
            log.exception("the end of the run of %s failed", entry.id)
        finally:
            with entry.lock:
                entry.run = None
                run.mailbox.drain(exp, close=True)
                entry.held = held_bytes(entry)
            self._forget(entry)
            run.finished.set()
            self.networks.reclaim()

    # -- progress frames --------------------------------------------------------------------------

    def _publish_progress(self, entry: Entry, run: Run, exp: Experiment,
                          last: bool = False) -> None:
        """A progress frame, when the stream's budgets say one is due: its numbers taken now,
        its weights and grids drawn and encoded by a painter from a copy of the weights while
        the run goes on. A frame still being drawn makes this one wait (a viewer wants the
        newest, not all); the ``last`` frame waits for it and is drawn here, so that it comes
        before the run's "done"."""
        channel, pacer = entry.channel, run.frames
        if not channel.viewers or pacer is None:
            return
        if pacer.painting is not None and not pacer.painting.done():
            if not last:
                pacer.waiting = True
                return
            pacer.painting.result()
        now = time.monotonic()
        viewers = channel.viewers_by_variant()
        if not last and not pacer.due(now, viewers):
            pacer.waiting = True
            return
        pacer.waiting = False
        variants = pacer.choose(viewers, now, last)
        frame = progress_numbers(entry, exp, since_epoch=pacer.epoch)
        pacer.epoch = exp.trainer.epoch
        if pacer.painted is None:
            pacer.painted = exp.net.copy()
        np.copyto(pacer.painted.theta, exp.net.theta)
        if last or self.active >= CORES:
            paint(entry, exp, pacer.painted, frame, variants)
        else:
            pacer.painting = self._painters.submit(paint, entry, exp, pacer.painted, frame,
                                                   variants)


@dataclass(eq=False)
class RunTask:
    """A run as the scheduler sees it."""

    service: TrainingService
    entry: Entry
    run: Run

    @property
    def large(self) -> bool:
        t = self.entry.experiment.trainer
        return not t.compiled_fits(t.batch_length)

    @property
    def short(self) -> bool:
        """What is left of the run (for a slowed-down one: what is due now) is priced at
        most ``short_run_work``."""
        service, run = self.service, self.run
        left = run.epochs - run.done if run.started is None or not run.max_epochs_per_second \
            else max(1, service._due(run))
        _, per_epoch = service.budgets.training_work(self.entry.experiment)
        return left * per_epoch <= service.settings.short_run_work

    def run_slice(self, seconds: float | None) -> Outcome:
        return self.service._slice(self, seconds)


@dataclass
class FramePacer:
    """When a run's next progress frame is due, and which viewers' grids it carries, within
    the stream's budgets per second: the bytes of frames (the weights of a large network and
    fine grids are big to encode) and the work of drawing grids. The most watched grids come
    first; the others take turns with what that leaves (they never take what the next of the
    most watched needs). A frame without the grids still goes to everyone."""

    settings: Settings
    shape: Shape
    epoch: int  # the epoch of the last frame
    last: float = 0.0  # time.monotonic() of the last frame
    work: float = 0.0  # grid work that may be spent now
    bytes: float = 0.0  # bytes that may be encoded now
    refilled: float = field(default_factory=time.monotonic)
    drawn: dict = field(default_factory=dict)  # variant -> when its grids were last drawn
    waiting: bool = False  # a frame was due but not sent: send one at the next chance
    painting: object = None  # the frame being drawn (a Future)
    painted: Network | None = None  # the copy of the weights that frames are drawn from

    @property
    def plain_bytes(self) -> int:
        """A frame without grids: the weights, the metrics, a little history."""
        return costs.weights_bytes(self.shape) + 2_000

    def due(self, now: float, viewers: dict) -> bool:
        """A frame is due: its time has come (``stream_fps``) and the budgets have room for
        it with the most watched grids."""
        wanted = [v for v in viewers if v is not None]
        self._refill(now, wanted)
        if now - self.last < 1.0 / self.settings.stream_fps:
            return False
        main = self.main(viewers)
        work, size = self.cost(main) if main is not None else (0, 0)
        return self.bytes >= self.plain_bytes + size and self.work >= work

    def main(self, viewers: dict):
        """The grid settings most viewers follow (the longest undrawn among equals)."""
        wanted = [v for v in viewers if v is not None]
        if not wanted:
            return None
        return max(wanted, key=lambda v: (viewers[v], -self.drawn.get(v, 0.0)))

    def choose(self, viewers: dict, now: float, last: bool) -> list:
        """The variants (grid settings) this frame draws; the others get the frame without
        grids and their turn later."""
        wanted = [v for v in viewers if v is not None]
        self._refill(now, wanted)
        self.last = now
        self.bytes -= self.plain_bytes
        if not wanted:
            return []
        main = self.main(viewers)
        others = sorted((v for v in wanted if v != main), key=lambda v: self.drawn.get(v, 0.0))
        main_work, main_bytes = self.cost(main)
        chosen = []
        if last or (self.work >= main_work and self.bytes >= main_bytes):
            chosen.append(main)
            self.work -= main_work
            self.bytes -= main_bytes
        for variant in others:
            work, size = self.cost(variant)
            if self.work - work >= main_work and self.bytes - size >= main_bytes:
                chosen.append(variant)
                self.work -= work
                self.bytes -= size
        for variant in chosen:
            self.drawn[variant] = now
        return chosen

    def _refill(self, now: float, wanted: list) -> None:
        """A second's worth of each budget at most (or one drawing of the costliest grids,
        if that is more: they come seldom, not never)."""
        s = self.settings
        elapsed, self.refilled = now - self.refilled, now
        largest = [self.cost(v) for v in wanted]
        work_cap = max([s.max_frame_work_per_second] + [w for w, _ in largest])
        bytes_cap = max([s.max_frame_bytes_per_second] + [b + self.plain_bytes
                                                          for _, b in largest])
        self.work = min(self.work + elapsed * s.max_frame_work_per_second, work_cap)
        self.bytes = min(self.bytes + elapsed * s.max_frame_bytes_per_second, bytes_cap)

    def cost(self, variant) -> tuple[int, int]:
        """The work and the bytes of one drawing of a variant's grids."""
        resolution, neurons, neuron_resolution, encoding = variant
        neuron_resolution = neuron_resolution if neurons else None
        return (costs.grid_work(self.shape, resolution, neuron_resolution),
                costs.grid_bytes(self.shape, resolution, neuron_resolution, encoding))


def _lower_priority() -> None:
    """Training threads yield the processor to the threads that answer requests and write the
    streams: runs at full speed would otherwise take every core's fair share from them (on
    Linux, a thread has a niceness of its own; raising it needs no privilege)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), TRAINING_NICENESS)
    except (AttributeError, OSError):  # not Linux: the threads keep the process's priority
        pass


def progress_numbers(entry: Entry, exp: Experiment, since_epoch: int | None) -> dict:
    """A progress frame's numbers, taken by the run: counters, metrics, the history since the
    last frame (the weights and grids are added by the painter)."""
    t = exp.trainer
    return {
        "epoch": t.epoch,
        "iteration": t.iteration,
        "status": entry.status,
        "metrics": views.recorded_metrics(exp),
        "history": views.history(exp, since_epoch=since_epoch),
    }


def paint(entry: Entry, exp: Experiment, net: Network, frame: dict, variants: list) -> None:
    """The frame with the weights and the grids of each variant (from ``net``, a copy of the
    network's weights), each encoded once for all its viewers, then published."""
    try:
        frame = {**frame, "layers": [{"W": layer.W.tolist(), "b": layer.b.tolist()}
                                     for layer in net.layers]}
        plain = dumps(frame)
        payloads = {None: plain}
        for variant in variants:  # the plain frame's text, and the grids after it
            grids = dumps_grids(views.boundary(exp, *variant, net=net)).decode()
            payloads[variant] = join(plain, "boundary", grids)
        entry.channel.publish("progress", payloads)
    except Exception:  # a frame lost is no reason to stop: the next one comes soon
        log.exception("a progress frame of %s failed", entry.id)
