"""The random generator's state as a document keeps it.

The generator (PCG64) holds 128-bit numbers; a document writes them as decimal strings, which
every JSON reader keeps exactly (a JavaScript number keeps 53 bits).
"""

from __future__ import annotations

import numpy as np

PCG_NUMBERS = ("state", "inc")


class RandomStateError(ValueError):
    """A saved generator state that NumPy cannot take, with a sentence saying why."""


def rng_state(rng: np.random.Generator) -> dict:
    state = rng.bit_generator.state
    return {**state, "state": {k: str(v) for k, v in state["state"].items()}}


def restored_rng_state(saved: dict) -> dict:
    """A saved state back as NumPy takes it: its numbers as written by :func:`rng_state`, or
    as whole numbers (documents written before, or read by a program that made them floats)."""
    numbers = {key: whole_128(saved["state"][key], f"the random generator's {key}")
               for key in PCG_NUMBERS}
    return {**saved, "state": numbers}


def whole_128(value, name: str = "the number") -> int:
    """A 128-bit whole number written as decimal digits, or as a number (an int, or a float
    holding a whole number)."""
    digits = isinstance(value, str) and value.isdigit() and len(value) <= 39
    if digits or isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**128:
        raise RandomStateError(f"{name} must be a whole number from 0 to 2^128 - 1 (decimal "
                               "digits)")
    return value
