"""Is an error's ``detail`` the human sentence docs/API.md promises ("a sentence saying what was
wrong and what is allowed"), or pydantic's list of field errors?

A sentence here: it starts with a letter (or a quoted name); it has at least four words made
of letters (quoted values, paths and numbers are not words), at least two of them more than
filler ("invalid", "error", "value", "the", ...), so that neither a field name, nor "bad value
here", nor a generic "Invalid request." passes; no Python exception leaks through (a class name
such as ``ValueError``, a traceback). A 422's sentence also says what is allowed: a bound or a rule
("must", "at most", "needs", "expected ..., got ...", "from 2 to 200", ...).
"""

from __future__ import annotations

import re

MIN_WORDS = 4
MIN_CONTENT_WORDS = 2

# Framework defaults and catch-alls: each says that something failed, never what or why.
GENERIC_SENTENCES = {
    "invalid", "invalid request", "invalid input", "invalid value", "invalid body",
    "invalid parameters", "bad request", "error", "an error occurred", "unknown error",
    "validation error", "not found", "method not allowed", "internal server error",
    "unprocessable entity", "forbidden", "unauthorized", "conflict",
    "there was an error parsing the body", "something went wrong", "request failed",
}
FILLER = {
    # generic words of refusal
    "invalid", "error", "errors", "bad", "wrong", "failed", "fail", "failure", "value",
    "values", "input", "request", "field", "parameter", "parameters", "data", "unknown",
    "incorrect", "illegal", "problem", "not", "ok", "here", "there", "given", "occurred",
    # words that carry no meaning of their own
    "a", "an", "the", "this", "that", "it", "is", "are", "was", "be", "of", "in", "on", "at",
    "for", "to", "with", "and", "or", "no", "by", "as", "has", "have",
}
# What a validation error says is allowed: a rule, a bound, or what was expected instead.
ALLOWED = re.compile(
    r"\b(must|needs?|need to|at most|at least|allowed|allows|expected|expects|got|only|"
    r"one of|each|either|from \S+ to|between|up to|no more than|fewer|more than|below|"
    r"above|within|outside|past|beyond|cannot|can only|should|may|use|send|give|set|"
    r"required|lacks|missing|are:|is:)(?!\w)",
    re.IGNORECASE)
LEAKS = re.compile(r"Traceback|\b[A-Z][A-Za-z]*(Error|Exception)\b|NoneType|"
                   r"object has no attribute|object is not|unsupported operand")
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`|\S*/\S*|\S*[<>=\[\]{}()]\S*")
WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")

# Messages the server sends today that fall short, each a known fault to fix in the server:
# ``(status, the start of the message)``; delete an entry once its fault is fixed.
KNOWN_FAULTS: list[tuple[int, str]] = []


def words(text: str) -> list[str]:
    """The words of ``text`` made of letters: quoted values, paths and numbers left out."""
    return WORD.findall(QUOTED.sub(" ", text))


def why_not_a_sentence(detail, status: int | None = None) -> str | None:
    """None when ``detail`` is a sentence that will do (or pydantic's list of field errors,
    each with its place and message); otherwise what is missing."""
    if isinstance(detail, list):
        if not detail:
            return "an empty list of field errors"
        for item in detail:
            if not (isinstance(item, dict) and item.get("loc") and item.get("msg")):
                return f"a field error without its place or message: {item!r}"
        return None
    if not isinstance(detail, str):
        return f"not a sentence but {type(detail).__name__}"
    text = detail.strip()
    if not re.match(r"['\"`]?[A-Za-z]", text):
        return "it does not start with a letter (or a quoted name)"
    if text.lower().rstrip(".!") in GENERIC_SENTENCES:
        return "a generic message that says nothing of what was wrong"
    if LEAKS.search(text):
        return "a Python error leaks through"
    found = words(text)
    if len(found) < MIN_WORDS:
        return f"{len(found)} word(s): too few for a sentence (at least {MIN_WORDS})"
    content = {w.lower() for w in found} - FILLER
    if len(content) < MIN_CONTENT_WORDS:
        return "only generic words: it does not say what was wrong"
    if status == 422 and not ALLOWED.search(text):
        return "a refused value, without what is allowed"
    return None


def known_fault(detail, status: int | None) -> bool:
    return isinstance(detail, str) and any(
        status == known_status and detail.startswith(start)
        for known_status, start in KNOWN_FAULTS)


def assert_sentence(detail, status: int | None = None) -> None:
    why = why_not_a_sentence(detail, status)
    if why is not None and not known_fault(detail, status):
        raise AssertionError(f"not a sentence ({why}): {detail!r}")
