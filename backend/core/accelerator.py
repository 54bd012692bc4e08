"""Numba, when it is installed: the compiled loop for small layers (:mod:`backend.core.kernel`).

The core needs only NumPy. Numba is an accelerator: imported the first time training asks
for it (not when the core is imported), and when it is missing the NumPy path trains every
network, to the same results.
"""

from __future__ import annotations

from types import ModuleType

_kernel: ModuleType | None = None
_tried = False
_warm = False


def kernel() -> ModuleType | None:
    """:mod:`backend.core.kernel`, or None when Numba cannot be imported."""
    global _kernel, _tried
    if not _tried:
        try:
            from backend.core import kernel as compiled
        except ImportError as exc:
            if not (exc.name or "").startswith("numba"):
                raise
            compiled = None
        _kernel, _tried = compiled, True
    return _kernel


def available() -> bool:
    return kernel() is not None


def warm_up() -> bool:
    """Compile the loops (or load them from Numba's cache) now rather than in a first run;
    False when there is no Numba (nothing to compile)."""
    global _warm
    compiled = kernel()
    if compiled is None:
        return False
    if not _warm:  # the command line warms up before serving, the app when it starts: once
        compiled.warm_up()
        _warm = True
    return True
