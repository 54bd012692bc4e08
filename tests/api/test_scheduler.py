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


def beside_an_endless_run(slots: int, shorts: int, slices: int) -> list[str]:
    """The order of the slices when ``shorts`` short runs of ``slices`` slices each come to a
    scheduler of ``slots`` threads that already trains a run that never ends."""
    log: list[str] = []
    scheduler = Scheduler(slots=slots, large_slots=slots, slice_seconds=0.01, max_tasks=20)
    try:
        scheduler.submit(Task("long", short=False, slices=10**9, log=log))
        time.sleep(0.05)
        tasks = [Task(f"short {i}", short=True, slices=slices, log=log) for i in range(shorts)]
        for task in tasks:
            scheduler.submit(task)
        for task in tasks:
            assert task.finished.wait(10), f"{task.name} never ran: {log[-5:]}"
        return list(log)
    finally:
        scheduler.close()


def test_on_one_thread_short_runs_take_turns_with_a_long_one_that_never_ends():
    log = beside_an_endless_run(slots=1, shorts=3, slices=1)
    # each short run went between two of the long run's slices
    after = log[log.index("short 0"):]
    assert after[:6] == ["short 0", "long", "short 1", "long", "short 2", "long"]


def test_on_several_threads_one_stays_with_the_long_lane():
    log = beside_an_endless_run(slots=2, shorts=4, slices=20)
    after = log[log.index("short 0"):log.index("short 3") + 1]
    assert after.count("long") >= 10  # it kept a thread while the short ones ran
