"""Background training runs: off the event loop, a bounded number at once, stoppable.

A run's thread owns its network: it trains epoch after epoch, carries out the calls other
requests handed it between two epochs and, about ``stream_fps`` times a second, publishes one
progress frame for every viewer and saves a checkpoint every ``checkpoint_seconds``. A frame's
boundary grids (what viewers asked for, each computed once) are drawn by a painter thread
from a copy of the weights, while the run trains on.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from backend.core.experiment import Experiment
from backend.services import views
from backend.services.jsontext import dumps
from backend.services.networks import (
    Conflict,
    Entry,
    NetworkService,
    Run,
    publish_snapshot,
)
from backend.settings import Settings

log = logging.getLogger(__name__)


class TrainingService:
    def __init__(self, settings: Settings, networks: NetworkService):
        self.settings = settings
        self.networks = networks
        self._pool = ThreadPoolExecutor(settings.max_concurrent_runs,
                                        thread_name_prefix="training",
                                        initializer=_lower_priority)
        self._painters = ThreadPoolExecutor(PAINTERS, thread_name_prefix="frames")
        self._runs: set[Entry] = set()
        self._lock = threading.Lock()

    def start(self, entry: Entry, epochs: int, max_epochs_per_second: float | None) -> Run:
        with entry.lock:
            if entry.run is not None:
                raise Conflict("this network is already training; stop it first "
                               "(POST /stop), or follow it on /events")
            entry.experiment.trainer.check_can_learn()
            if entry.experiment.trainer.next_step != "forward":
                raise Conflict(f"a batch was begun step by step: call "
                               f"{entry.experiment.trainer.next_step} first, then train")
            run = entry.run = Run(epochs, max_epochs_per_second)
        with self._lock:
            self._runs.add(entry)
        self.networks.save(entry)
        publish_snapshot(entry)
        self._pool.submit(self._execute, entry, run)
        return run

    def stop(self, entry: Entry, reason: str = "stopped", wait: float = 10.0) -> None:
        """Stop the network's run: a queued one at once, a training one at its next epoch."""
        with entry.lock:
            run = entry.run
            if run is None:
                return
            run.stop_reason = reason
            run.stop.set()
            if run.status == "queued":  # no thread has it yet: it ends here, never starts
                run.cancelled = True
                entry.run = None
                done = entry.end_run(reason, "Stopped before it started.")
                with self._lock:
                    self._runs.discard(entry)
                if reason != "deleted":
                    self.networks.save(entry)
                    entry.channel.publish("done", dumps(done))
                run.finished.set()
                return
        run.finished.wait(wait)

    def shutdown(self, wait: float = 5.0) -> None:
        """Stop every run (each saves its last checkpoint), then the workers."""
        with self._lock:
            entries = list(self._runs)
        for entry in entries:
            if entry.run is not None:
                entry.run.stop_reason = "server stopped"
                entry.run.stop.set()
        deadline = time.monotonic() + wait
        for entry in entries:
            run = entry.run
            if run is not None:
                run.finished.wait(max(0.0, deadline - time.monotonic()))
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._painters.shutdown(wait=False, cancel_futures=True)

    @property
    def active(self) -> int:
        with self._lock:
            return len(self._runs)

    # -- the run's thread -----------------------------------------------------------------

    def _execute(self, entry: Entry, run: Run) -> None:
        exp = entry.experiment
        with entry.lock:  # from here on this thread owns the network
            if run.cancelled:
                return
            run.status = "training"
        try:
            publish_snapshot(entry)
            if run.stop.is_set():
                reason, message = run.stop_reason, "Stopped before it started."
            else:
                reason, message = self._train(entry, run, exp)
        except Exception as exc:  # never leave a run hanging: report and free the network
            log.exception("training run of %s failed", entry.id)
            reason, message = "error", f"The run failed: {exc}"
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
            with self._lock:
                self._runs.discard(entry)
            run.finished.set()

    def _train(self, entry: Entry, run: Run, exp: Experiment) -> tuple[str, str]:
        settings = self.settings
        last_checkpoint = time.monotonic()
        run.frame_epoch = exp.trainer.epoch

        def between_epochs() -> None:  # a handed-over call waits one epoch, not a tick
            if run.mailbox.waiting:
                run.mailbox.drain(exp)

        def on_tick(_trainer) -> None:
            nonlocal last_checkpoint
            run.mailbox.drain(exp)
            self._publish_progress(entry, run, exp)
            if time.monotonic() - last_checkpoint >= settings.checkpoint_seconds:
                self.networks.save(entry)
                last_checkpoint = time.monotonic()

        result = exp.trainer.run(
            run.epochs, should_stop=run.stop.is_set, on_tick=on_tick,
            tick_seconds=1.0 / settings.stream_fps,
            max_epochs_per_second=run.max_epochs_per_second, between_epochs=between_epochs,
        )
        if result.reason == "stopped":
            reason = run.stop_reason
            return reason, (result.message if reason == "stopped"
                            else f"{result.message} ({reason})")
        return result.reason, result.message

    def _publish_progress(self, entry: Entry, run: Run, exp: Experiment,
                          last: bool = False) -> None:
        """A progress frame: its numbers taken now, its grids drawn by a painter from a copy of
        the weights while the run goes on, when a core is free for it (fewer runs than
        cores); else here, between epochs. A frame still being drawn makes this one skip (a
        viewer wants the newest, not all); the ``last`` frame waits for it and is drawn here,
        so that it comes before the run's "done"."""
        channel = entry.channel
        if not channel.viewers:
            return
        if run.painting is not None and not run.painting.done():
            if not last:
                return
            run.painting.result()
        frame = progress_frame(entry, exp, since_epoch=run.frame_epoch)
        run.frame_epoch = exp.trainer.epoch
        variants = channel.wanted_variants()
        if run.painted is None:
            run.painted = exp.net.copy()
        np.copyto(run.painted.theta, exp.net.theta)
        if last or not variants or self.active >= CORES:
            paint(entry, exp, run.painted, frame, variants)
        else:
            run.painting = self._painters.submit(paint, entry, exp, run.painted, frame,
                                                 variants)


CORES = os.cpu_count() or 1
PAINTERS = 2  # threads drawing the runs' frames (their NumPy work mostly leaves the lock)
TRAINING_NICENESS = 10


def _lower_priority() -> None:
    """Training threads yield the processor to the threads that answer requests and write the
    streams: runs at full speed would otherwise take every core's fair share from them (on
    Linux, a thread has a niceness of its own; raising it needs no privilege)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), TRAINING_NICENESS)
    except (AttributeError, OSError):  # not Linux: the threads keep the process's priority
        pass


def progress_frame(entry: Entry, exp: Experiment, since_epoch: int | None) -> dict:
    """A progress frame's numbers: counters, metrics, weights, the history since the last."""
    t = exp.trainer
    return {
        "epoch": t.epoch,
        "iteration": t.iteration,
        "status": entry.status,
        "metrics": views.recorded_metrics(exp),
        "layers": [{"W": layer.W.tolist(), "b": layer.b.tolist()} for layer in exp.net.layers],
        "history": views.history(exp, since_epoch=since_epoch),
    }


def paint(entry: Entry, exp: Experiment, net, frame: dict, variants: list) -> None:
    """The frame with the grids of each variant (from ``net``, a copy of the network's
    weights), each encoded once for all its viewers, then published."""
    try:
        payloads = {None: dumps(frame)}
        for variant in variants:
            payloads[variant] = dumps({**frame, "boundary": views.boundary(exp, *variant,
                                                                           net=net)})
        entry.channel.publish("progress", payloads)
    except Exception:  # a frame lost is no reason to stop: the next one comes in 50 ms
        log.exception("a progress frame of %s failed", entry.id)
