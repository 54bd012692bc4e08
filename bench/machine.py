"""What the numbers were measured on: the CPU, NumPy and the BLAS kernel that runs."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import numpy as np

SLOW_OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, and how many logical CPUs there are."""
    names, count = [], 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                names.append(value.strip())
            elif key.strip() == "processor":
                count += 1
    except OSError:
        pass
    name = names[0] if names else (platform.processor() or platform.machine() or "unknown CPU")
    count = count or os.cpu_count() or 0
    return f"{name} ({count} logical CPUs)" if count else name


def blas_lines() -> list[str]:
    """One line per BLAS library loaded in this process (threadpoolctl's threadpool_info())."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ["threadpoolctl is not installed: pip install threadpoolctl (the 'bench' extra)"]
    lines = []
    for lib in threadpool_info():
        if lib.get("user_api") != "blas":
            continue
        path = lib.get("filepath") or ""
        owner = "numpy" if f"{os.sep}numpy" in path else (
            "scipy" if f"{os.sep}scipy" in path else Path(path).name)
        lines.append(f"{lib.get('internal_api')} {lib.get('version')} ({owner}): "
                     f"kernel {lib.get('architecture', '?')}, "
                     f"{lib.get('num_threads')} thread(s), {lib.get('threading_layer', '?')}")
    return lines or ["no BLAS library reported by threadpoolctl"]


def environment_notes() -> list[str]:
    """A warning when OpenBLAS is told to use another kernel or cache size than it would pick."""
    found = [f"{name}={os.environ[name]}" for name in SLOW_OPENBLAS_VARIABLES
             if name in os.environ]
    if not found:
        return []
    return [
        f"note: {' and '.join(found)} set in the environment: this forces OpenBLAS's choice of "
        "kernel or cache size and slows NumPy down. For the machine's own numbers run",
        "      env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m bench",
    ]


def describe() -> list[str]:
    return [f"CPU:    {cpu_model()}",
            f"Python: {platform.python_version()}, numpy {np.__version__}",
            *(f"BLAS:   {line}" for line in blas_lines()),
            *environment_notes()]
