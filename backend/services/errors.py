"""The services' refusals, each with a sentence that says what was wrong and what to do; the
API turns each kind into its HTTP status (backend/api/errors.py)."""

from __future__ import annotations


class NotFound(LookupError):
    pass


class Forbidden(PermissionError):
    pass


class Conflict(RuntimeError):
    pass


class LimitExceeded(ValueError):
    """A configuration over a limit: more layers, neurons, samples or epochs than allowed."""


class TooLarge(LimitExceeded):
    """One request asks for more work, or a larger answer, than a request may have: the same
    in smaller pieces is fine (the sentence says how small)."""


class Busy(RuntimeError):
    """The server has no room for this now (its memory, its run queue, its turns for heavy
    work, its store): the same request later may well succeed."""

    def __init__(self, message: str, retry_after: float = 5.0):
        super().__init__(message)
        self.retry_after = max(1, round(retry_after))


class TooManyRequests(Busy):
    """This client has made more of something than one client may in a while."""
