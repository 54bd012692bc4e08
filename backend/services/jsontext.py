"""Strict, compact JSON text: what the store saves and what the streams send. NaN and
infinities are refused (the views turn them into null first)."""

from __future__ import annotations

import json

import pydantic_core


def dumps(value) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"))


def dumps_grids(value) -> bytes:
    """Compact JSON of an answer made mostly of long base64 text (the boundary's grids), which
    pydantic's encoder copies twice as fast as ``json``. The views leave no NaN in one; were
    one there, it would become null, never invalid JSON."""
    return pydantic_core.to_json(value, inf_nan_mode="null")


def join(obj_text: str, key: str, value_text: str) -> str:
    """An object's JSON text with one more member, ``"key": value_text``, at its end: a part
    encoded once joined to the rest without encoding it again."""
    comma = "," if obj_text != "{}" else ""
    return f"{obj_text[:-1]}{comma}{json.dumps(key)}:{value_text}}}"
