"""Turns for heavy requests: work priced at a tenth of a request's budget or more (a step of
many epochs, a fine boundary of a wide network, thousands of points) computes a few requests
at a time; the others wait for their turn on the event loop, holding no thread, and give up
with a 503 after a while. Light requests never wait here, so a line of heavy ones leaves the
server answering everyone else."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi.concurrency import run_in_threadpool

from backend.services.errors import Busy


class WorkGate:
    def __init__(self, slots: int, wait_seconds: float):
        self.slots = slots
        self.wait_seconds = wait_seconds
        self._turns: asyncio.Semaphore | None = None
        self._waiting = 0

    async def run(self, heavy: bool, fn: Callable[..., Any], *args) -> Any:
        """``fn(*args)`` on a worker thread; a heavy one when its turn comes."""
        if not heavy:
            return await run_in_threadpool(fn, *args)
        if self._turns is None:
            self._turns = asyncio.Semaphore(self.slots)
        self._waiting += 1
        try:
            await asyncio.wait_for(self._turns.acquire(), self.wait_seconds)
        except TimeoutError:
            raise Busy(f"the server is busy with other large requests ({self._waiting} waiting "
                       f"for {self.slots} turns); try again in a few seconds, or ask for less "
                       "at a time", retry_after=self.wait_seconds) from None
        finally:
            self._waiting -= 1
        try:
            return await run_in_threadpool(fn, *args)
        finally:
            self._turns.release()
