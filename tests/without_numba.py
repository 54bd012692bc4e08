"""Numba hidden, as on a machine without it: ``HIDE_NUMBA=1 pytest tests/core`` runs the core's
tests on the NumPy path alone (``make test`` does, after the whole suite)."""

from __future__ import annotations

import importlib.abc
import os
import sys

HIDE = "HIDE_NUMBA"


class NumbaHidden(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "numba" or name.startswith("numba."):
            raise ModuleNotFoundError(f"No module named {name!r} ({HIDE}=1)", name=name)
        return None


def hide_numba_if_asked() -> bool:
    if os.environ.get(HIDE) != "1":
        return False
    if "numba" in sys.modules:
        raise RuntimeError(f"{HIDE}=1, but numba is already imported")
    sys.meta_path.insert(0, NumbaHidden())
    return True


def hidden() -> bool:
    return any(isinstance(finder, NumbaHidden) for finder in sys.meta_path)
