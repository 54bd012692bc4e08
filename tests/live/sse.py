"""A small Server-Sent Events reader over httpx, for the live tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import httpx


def events(response: httpx.Response) -> Iterator[tuple[str, dict]]:
    """(event name, parsed data) for each event of a streaming response; comments skipped."""
    name, data = "message", []
    for line in response.iter_lines():
        if line == "":
            if data:
                yield name, json.loads("\n".join(data),
                                       parse_constant=lambda c: _fail(f"{c} in an event"))
            name, data = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())


def _fail(message: str):
    raise AssertionError(message)


class Follower:
    """Follows a network's events in a thread and keeps everything it received."""

    def __init__(self, url: str, query: str = "", may_drop: bool = False):
        """``may_drop``: the server may go away mid-stream (a fault test): the stream then
        ends (see ``ended``) instead of failing the test."""
        self.may_drop = may_drop
        self.received: list[tuple[str, dict, float]] = []
        self.status: int | None = None
        self.content_type = ""
        self._stop = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(5, read=60))
        self._thread = threading.Thread(target=self._follow, args=(url + "/events" + query,),
                                        daemon=True)
        self._thread.start()

    def _follow(self, url: str) -> None:
        try:
            with self._client.stream("GET", url) as response:
                self.status = response.status_code
                self.content_type = response.headers.get("content-type", "")
                for name, data in events(response):
                    self.received.append((name, data, time.monotonic()))
                    if self._stop.is_set():
                        return
        except (httpx.HTTPError, RuntimeError):
            if not self._stop.is_set() and not self.may_drop:
                raise

    @property
    def ended(self) -> bool:
        """The stream is over (the server ended it, or went away)."""
        return not self._thread.is_alive()

    def names(self) -> list[str]:
        return [name for name, _, _ in self.received]

    def of(self, name: str) -> list[dict]:
        return [data for n, data, _ in self.received if n == name]

    def mark(self) -> int:
        """Where the stream is now: take it before the call whose events you mean, then ask
        for them with ``next(..., after=mark)``."""
        return len(self.received)

    def since(self, mark: int) -> list[tuple[str, dict]]:
        """(name, data) of every event received from ``mark`` on."""
        return [(name, data) for name, data, _ in self.received[mark:]]

    def next(self, name: str, where: Callable[[dict], bool] | None = None, after: int = 0,
             timeout: float = 20.0) -> dict:
        """The first ``name`` event received from position ``after`` on (see :meth:`mark`)
        whose data ``where`` accepts, waiting for it. Tests wait for the event they mean this
        way, not by counting events: the stream may send more of a kind than a test expects
        (docs/API.md, "Events")."""
        deadline = time.monotonic() + timeout
        seen = after
        while True:
            received = self.received[seen:]
            for n, data, _ in received:
                if n == name and (where is None or where(data)):
                    return data
            seen += len(received)
            if time.monotonic() >= deadline:
                raise AssertionError(f"no {name!r} event as asked within {timeout} s after "
                                     f"event {after}: {self.names()[after:][-10:]}")
            time.sleep(0.01)

    def wait_for(self, name: str, count: int = 1, timeout: float = 20.0) -> list[dict]:
        """Every ``name`` event so far, once there are ``count`` of them. Counting fits only
        events whose number is certain (the snapshot on connect, the ``done`` of each run);
        otherwise wait for the event meant with :meth:`next`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.of(name)) >= count:
                return self.of(name)
            time.sleep(0.01)
        raise AssertionError(f"no {count} {name!r} event(s) within {timeout} s: "
                             f"{self.names()[-10:]}")

    def close(self) -> None:
        self._stop.set()
        self._client.close()
