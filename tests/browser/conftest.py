"""Helpers for the playground page tests: open it on the live server and wait for a network."""

from __future__ import annotations

import pytest

READY = """() => {
  const s = window.playground;
  return !!(s && s.state && s.data && s.id && document.querySelectorAll('.node').length);
}"""


class Playground:
    """The page under test, with waits on what the page's session reports."""

    def __init__(self, page, server):
        self.page = page
        self.server = server

    def open(self, hash_: str = "") -> Playground:
        self.page.goto(self.server.url + "/" + hash_)
        self.page.wait_for_function(READY, timeout=15_000)
        return self

    def js(self, expression: str, arg=None):
        return self.page.evaluate(expression, arg)

    def wait(self, expression: str, arg=None, timeout: float = 15_000):
        self.page.wait_for_function(expression, arg=arg, timeout=timeout)

    def wait_ready(self):
        self.wait(READY)

    @property
    def id(self) -> str:
        return self.js("() => window.playground.id")

    @property
    def state(self) -> dict:
        return self.js("() => window.playground.state")

    def boundary_image(self) -> str:
        return self.js("() => document.querySelector('[data-testid=boundary]').toDataURL()")

    def wait_boundary_changed(self, before: str, timeout: float = 10_000):
        self.wait("(before) => document.querySelector('[data-testid=boundary]').toDataURL() "
                  "!== before", before, timeout)

    def wait_network(self, condition: str, timeout: float = 15_000):
        """Wait until `condition` (JS, with `s` the session) holds and the page is settled: no
        grid or step waiting for its answer (the stream may bring a step's state first)."""
        self.wait(f"() => {{ const s = window.playground; return !!(s && s.state && s.data && "
                  f"!s.gridsInFlight && !s.stepping && ({condition})); }}", timeout=timeout)


@pytest.fixture
def playground(page, live_server) -> Playground:
    return Playground(page, live_server)
