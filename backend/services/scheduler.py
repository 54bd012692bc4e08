"""Training runs take turns on a few threads, in two lanes.

Short runs (priced small by the cost model: a student's few hundred epochs) go in a lane of
their own, first come first served, each trained to its end: they never wait behind long
ones for more than the rest of a time slice. Long runs (a million epochs, the widest
networks) take turns in time slices on the threads the short lane leaves them: at least one
whenever a long run waits, all of them when no short run does, so that a few huge runs can
neither hold every thread nor be starved. With a single thread (a Ray host's share of a
machine may be one run), the lanes take turns: a short run, then a long run's slice. The line
is bounded in all.

A run slowed down to be watched sleeps between its slices without holding a thread; runs of
large layers (NumPy's path, which holds the interpreter lock between its many small calls)
are fewer at once than the others, so that they cannot crowd out the threads that answer
requests.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from backend.services.errors import Busy


@dataclass(frozen=True)
class Again:
    """The task wants another slice as soon as its turn comes."""


@dataclass(frozen=True)
class Later:
    """The task wants its next slice at ``due`` (time.monotonic), not before."""

    due: float


@dataclass(frozen=True)
class Done:
    """The task has ended."""


AGAIN, DONE = Again(), Done()
MAX_WAIT = 60.0  # seconds a thread waits at most before it looks at the line again
Outcome = Again | Later | Done


class Task(Protocol):
    @property
    def large(self) -> bool:
        """Whether the task holds the interpreter lock as it works (it takes a large slot)."""

    @property
    def short(self) -> bool:
        """Whether what is left of the task is short (it goes in the short lane)."""

    def run_slice(self, seconds: float | None) -> Outcome:
        """Work for about ``seconds`` (None: as long as it likes), then say what comes
        next."""


class Scheduler:
    def __init__(self, slots: int, large_slots: int, slice_seconds: float, max_tasks: int,
                 initializer: Callable[[], None] | None = None, name: str = "training"):
        self.slots = slots
        self.large_slots = large_slots
        self.slice_seconds = slice_seconds
        self.max_tasks = max_tasks
        self._short: deque[Task] = deque()  # first come, first served
        self._long: deque[Task] = deque()  # in turn
        self._later: list[tuple[float, int, Task]] = []
        self._order = itertools.count()
        self._tasks: set[Task] = set()  # every task submitted and not done
        self._running: dict[Task, tuple[bool, bool]] = {}  # on a thread now: (large, short)
        self._short_last = False  # whether the last task taken was a short one
        self._cv = threading.Condition()
        self._closed = False
        self._initializer = initializer
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
                         for i in range(slots)]
        for thread in self._threads:
            thread.start()

    def submit(self, task: Task) -> None:
        """Add a task to its lane (see :meth:`_enqueue`); Busy if the line is full."""
        with self._cv:
            if len(self._tasks) >= self.max_tasks:
                raise Busy(f"the server already has {len(self._tasks)} training runs queued or "
                           f"training, as many as it takes at once ({self.max_tasks}); try "
                           "again in a moment", retry_after=self._wait_estimate())
            self._tasks.add(task)
            self._enqueue(task, new=True)
            self._cv.notify()

    def wake(self, task: Task) -> None:
        """A task with news (a stop) waiting for a later slice: to the front of its lane."""
        with self._cv:
            for i, (_, _, waiting) in enumerate(self._later):
                if waiting is task:
                    self._later[i] = self._later[-1]
                    self._later.pop()
                    heapq.heapify(self._later)
                    break
            else:
                for lane in (self._short, self._long):
                    if task in lane:
                        lane.remove(task)
                        break
                else:
                    return  # on a thread now, or done
            (self._short if task.short else self._long).appendleft(task)
            self._cv.notify()

    def _enqueue(self, task: Task, new: bool = False) -> None:
        """Into its lane: a short task at the end for its first slice, at the front for the
        next (it goes on to its end); a long one at the front for its first, at the back for
        the next (its turn comes round again)."""
        if task.short:
            self._short.append(task) if new else self._short.appendleft(task)
        else:
            self._long.appendleft(task) if new else self._long.append(task)

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()

    # -- the threads -------------------------------------------------------------------------

    def _work(self) -> None:
        if self._initializer is not None:
            self._initializer()
        while True:
            with self._cv:
                task = self._take()
                if task is None:
                    return
            outcome: Outcome = DONE
            short = self._running[task][1]
            try:  # a short task goes on to its end: nobody waits for its thread
                outcome = task.run_slice(None if short else self.slice_seconds)
            finally:
                with self._cv:
                    del self._running[task]
                    if isinstance(outcome, Again):
                        self._enqueue(task)
                    elif isinstance(outcome, Later):
                        heapq.heappush(self._later, (outcome.due, next(self._order), task))
                    else:
                        self._tasks.discard(task)
                    self._cv.notify_all()

    def _take(self) -> Task | None:
        """The next task this thread may run (called holding the condition), waiting for one;
        None once closed."""
        while not self._closed:
            now = time.monotonic()
            while self._later and self._later[0][0] <= now:
                self._enqueue(heapq.heappop(self._later)[2])
            task = self._pick()
            if task is not None:
                self._running[task] = (task.large, task.short)
                return task
            # Woken by news anyway; a bounded wait also survives a due time far away.
            timeout = min(self._later[0][0] - now, MAX_WAIT) if self._later else MAX_WAIT
            self._cv.wait(timeout)
        return None

    def _pick(self) -> Task | None:
        large = sum(large for large, _ in self._running.values())
        short = sum(short for _, short in self._running.values())
        long_waits = any(self._allowed(t, large) for t in self._long)
        if self.slots == 1:  # one thread for both lanes: they take turns while both wait
            short_first = not long_waits or not self._short_last
        else:  # one thread stays with the long lane
            short_first = not long_waits or short < self.slots - 1
        if short_first:
            for task in self._short:
                if self._allowed(task, large):
                    self._short.remove(task)
                    self._short_last = True
                    return task
        for task in self._long:
            if self._allowed(task, large):
                self._long.remove(task)
                self._short_last = False
                return task
        return None

    def _allowed(self, task: Task, large_running: int) -> bool:
        return not task.large or large_running < self.large_slots

    def _wait_estimate(self) -> float:
        """Seconds until a place in the line is likely to free up (a rough guess)."""
        return max(1.0, self.slice_seconds * len(self._tasks) / max(1, self.slots))
