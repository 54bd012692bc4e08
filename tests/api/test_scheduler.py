"""The training scheduler's lanes with tasks of its own: short runs never wait behind a long
one for more than its slice, and a long one is never starved, even on one thread."""

import threading
import time

from backend.services.scheduler import AGAIN, DONE, Scheduler


class Task:
    large = False

    def __init__(self, name: str, short: bool, slices: int, log: list):
        self.name, self.short, self.left, self.log = name, short, slices, log
        self.finished = threading.Event()

    def run_slice(self, seconds):
        self.log.append(self.name)
        time.sleep(0.002)
        self.left -= 1
        if self.left == 0:
            self.finished.set()
            return DONE
        return AGAIN


def test_on_one_thread_short_runs_take_turns_with_a_long_one_that_never_ends():
    log: list[str] = []
    scheduler = Scheduler(slots=1, large_slots=1, slice_seconds=0.01, max_tasks=10)
    try:
        endless = Task("long", short=False, slices=10**9, log=log)
        scheduler.submit(endless)
        time.sleep(0.05)
        shorts = [Task(f"short {i}", short=True, slices=1, log=log) for i in range(3)]
        for task in shorts:
            scheduler.submit(task)
        for task in shorts:
            assert task.finished.wait(10), f"{task.name} never ran: {log[-5:]}"
        after = log[log.index("short 0"):]
        # each short run went between two of the long run's slices
        assert after[:6] == ["short 0", "long", "short 1", "long", "short 2", "long"]
    finally:
        scheduler.close()


def test_on_several_threads_one_stays_with_the_long_lane():
    log: list[str] = []
    scheduler = Scheduler(slots=2, large_slots=2, slice_seconds=0.01, max_tasks=20)
    try:
        endless = Task("long", short=False, slices=10**9, log=log)
        scheduler.submit(endless)
        shorts = [Task(f"short {i}", short=True, slices=20, log=log) for i in range(4)]
        for task in shorts:
            scheduler.submit(task)
        for task in shorts:
            assert task.finished.wait(10)
        assert log.count("long") >= 20  # it kept a thread while the short ones ran
    finally:
        scheduler.close()
