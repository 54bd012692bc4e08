"""Median throughput of chunks of work over several timed repeats."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

Chunk = Callable[[int], int]  # chunk(k) does k steps and returns the units (samples, grids) done

CALIBRATE_SECONDS = 0.05


def _size(chunk: Chunk, seconds: float) -> int:
    """How many steps make one call last about ``seconds``.

    After a first call that warms up, k starts at 1 and doubles until a call takes
    CALIBRATE_SECONDS, then is scaled to ``seconds``. 1 when ``seconds`` is 0.
    """
    if seconds <= 0:
        return 1
    chunk(1)  # first calls load compiled code and build workspaces: not what is measured
    k = 1
    while k < 2**40:  # a chunk that takes no time at all must not loop forever
        start = time.perf_counter()
        chunk(k)
        elapsed = time.perf_counter() - start
        if elapsed >= min(CALIBRATE_SECONDS, seconds):
            return max(1, round(k * seconds / elapsed))
        k *= 2
    return k


def rates(chunks: list[Chunk], seconds: float = 0.3, repeats: int = 5) -> list[float]:
    """Units per second of each chunk: the median of ``repeats`` timed calls of ~``seconds``.

    The chunks take turns (a, b, a, b, ...), so that a change of load on the machine during
    the measurement weighs on all of them alike and their ratio stays fair.
    """
    sizes = [_size(chunk, seconds) for chunk in chunks]
    measured: list[list[float]] = [[] for _ in chunks]
    for _ in range(max(1, repeats)):
        for chunk, k, out in zip(chunks, sizes, measured, strict=True):
            start = time.perf_counter()
            units = chunk(k)
            elapsed = time.perf_counter() - start
            out.append(units / elapsed if elapsed > 0 else float("inf"))
    return [statistics.median(r) for r in measured]


def rate(chunk: Chunk, seconds: float = 0.3, repeats: int = 5) -> float:
    return rates([chunk], seconds, repeats)[0]
