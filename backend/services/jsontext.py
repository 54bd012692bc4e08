"""Strict, compact JSON text: what the store saves and what the streams send. NaN and
infinities are refused (the views turn them into null first)."""

from __future__ import annotations

import json


def dumps(value) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"))
