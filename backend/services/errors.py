"""The services' refusals, each with a sentence that says what was wrong and what to do; the
API turns each kind into its HTTP status (backend/api/errors.py).

A sentence advises in words ("stop it first"); ``see`` names the operations that do so
(``stop``, ``train``, ``step``, ``events``, ``configure``), which the API spells as its
methods and paths: the services know no URL."""

from __future__ import annotations


class ServiceError(Exception):
    def __init__(self, message: str = "", *, see: tuple[str, ...] = ()):
        super().__init__(message)
        self.see = see


class NotFound(ServiceError, LookupError):
    pass


class Forbidden(ServiceError, PermissionError):
    pass


class Conflict(ServiceError, RuntimeError):
    pass


class LimitExceeded(ServiceError, ValueError):
    """A configuration over a limit: more layers, neurons, samples or epochs than allowed."""


class TooLarge(LimitExceeded):
    """One request asks for more work, or a larger answer, than a request may have: the same
    in smaller pieces is fine (the sentence says how small)."""


class Busy(ServiceError, RuntimeError):
    """The server has no room for this now (its memory, its run queue, its turns for heavy
    work, its store): the same request later may well succeed."""

    def __init__(self, message: str, retry_after: float = 5.0, *, see: tuple[str, ...] = ()):
        super().__init__(message, see=see)
        self.retry_after = max(1, round(retry_after))


class TooManyRequests(Busy):
    """This client has made more of something than one client may in a while."""
