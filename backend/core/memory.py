"""Bytes held by arrays, for a caller that budgets memory: views are counted once, with the
array whose memory they share."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def nbytes(*arrays) -> int:
    """The bytes of these arrays (and of arrays inside lists, tuples, dicts and objects with
    a ``__dict__`` of them, such as a Pass), each block of memory once."""
    seen: set[int] = set()
    total = 0
    for array in _arrays(arrays):
        owner = array
        while isinstance(owner.base, np.ndarray):
            owner = owner.base
        if id(owner) not in seen:
            seen.add(id(owner))
            total += owner.nbytes
    return total


def _arrays(values) -> Iterable[np.ndarray]:
    for value in values:
        if isinstance(value, np.ndarray):
            yield value
        elif isinstance(value, list | tuple):
            yield from _arrays(value)
        elif isinstance(value, dict):
            yield from _arrays(value.values())
        elif hasattr(value, "__dict__"):
            yield from _arrays(vars(value).values())
