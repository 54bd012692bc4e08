"""The C allocator's habits, set so that memory freed is given back to the system (glibc).

By default glibc raises its threshold for serving large blocks from fresh pages each time
such a block is freed, after which blocks of that size come from its heaps and stay with the
process when freed; and each thread may get a heap of its own. A server whose networks come
and go then keeps growing. A fixed threshold, two heaps and a trim after networks leave keep
the process within its memory budget (docs/RELIABILITY.md, "Budgets"). Elsewhere (no glibc)
these do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD = 128 * 1024  # glibc's initial value, kept fixed
TRIM_EVERY_SECONDS = 2.0

_libc = None
_last_trim = 0.0
_lock = threading.Lock()


def _glibc():
    global _libc
    if _libc is None:
        name = ctypes.util.find_library("c")
        try:
            libc = ctypes.CDLL(name) if name else None
            _libc = libc if libc is not None and hasattr(libc, "malloc_trim") else False
        except OSError:
            _libc = False
    return _libc or None


def tune() -> bool:
    """Set the habits (before the server's threads start); False where there is no glibc."""
    libc = _glibc()
    if libc is None:
        return False
    libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    libc.mallopt(M_TRIM_THRESHOLD, 4 * MMAP_THRESHOLD)
    libc.mallopt(M_ARENA_MAX, 2)
    return True


def give_back() -> None:
    """Return the free memory at the top of the heaps to the system (at most every
    TRIM_EVERY_SECONDS: it walks the heaps)."""
    global _last_trim
    libc = _glibc()
    if libc is None:
        return
    with _lock:
        now = time.monotonic()
        if now - _last_trim < TRIM_EVERY_SECONDS:
            return
        _last_trim = now
    libc.malloc_trim(0)
