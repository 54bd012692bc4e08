"""The error surface tab (issue 16) in a real Chromium, against the real server: J over two
parameters of the worked example's network and of an AND network, the three paths on it."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.browser.test_teaching import open_lesson

pytestmark = [pytest.mark.browser, pytest.mark.server]


def open_surface(page):
    page.click("[data-testid=teach-tab-surface]")
    page.wait_for_selector("[data-testid=surface][data-state=drawn]", timeout=15_000)


def test_the_worked_examples_surface_and_its_three_paths(playground, page, output_dir):
    page.set_viewport_size({"width": 1024, "height": 768})
    playground.open()
    open_lesson(playground, page, "worked-example")
    layers = playground.state["layers"]
    open_surface(page)
    # The default: the first two weights of the last layer, w²₁,₁ and w²₁,₂.
    assert page.locator("[data-testid=surface-param-1]").input_value() == "1,W,0,0"
    assert page.locator("[data-testid=surface-param-2]").input_value() == "1,W,0,1"
    # The XOR data's four points: 30 epochs are 30, 120 and 60 updates (and the starts).
    paths = json.loads(page.locator("[data-testid=surface-plot]").get_attribute("data-paths"))
    assert paths == [31, 121, 61]
    notes = page.locator("[data-testid=surface-notes]").inner_text()
    assert "Smooth (batch)" in notes and "Noisy (stochastic)" in notes
    assert "In between (mini-batch)" in notes
    page.locator("[data-testid=surface-plot]").scroll_into_view_if_needed()
    page.screenshot(path=output_dir / "surface-worked-example-1024x768.png")
    page.locator("[data-testid=surface-plot]").screenshot(path=output_dir / "surface-plot.png")
    page.locator("[data-testid=surface-notes]").screenshot(path=output_dir / "surface-notes.png")

    # A weight and a bias of the hidden layer: drawn again, the network left as it was.
    page.select_option("[data-testid=surface-param-1]", "0,W,1,0")
    page.select_option("[data-testid=surface-param-2]", "0,b,1")
    page.wait_for_function("() => document.querySelector('[data-testid=surface-status]')"
                           ".textContent.includes('w¹₂,₁ and b¹₂')", timeout=15_000)
    page.wait_for_selector("[data-testid=surface][data-state=drawn]")
    page.locator("[data-testid=surface-plot]").screenshot(
        path=output_dir / "surface-hidden-weight-bias.png")
    state = httpx.get(f"{playground.server.url}/api/networks/{playground.id}").json()
    assert state["layers"] == layers and state["iteration"] == 0

    # The network steps: the surface follows, from its new weights.
    page.click("[data-testid=step]")
    playground.wait_network("s.state.iteration === 1")
    new = playground.state["layers"]
    playground.wait("(w) => { const v = window.playgroundTeaching.surface.surface; "
                    "return v && v.start[0] === w[0] && v.start[1] === w[1]; }",
                    [new[0]["W"][1][0], new[0]["b"][1]])
    assert page.console_errors == []


def test_an_and_network_by_the_perceptron_rule_says_the_paths_cannot_move(
        playground, page, output_dir):
    playground.open()
    open_lesson(playground, page, "and-by-hand")
    open_surface(page)
    status = page.locator("[data-testid=surface-status]").inner_text()
    assert "derivative is 0" in status
    page.locator("[data-testid=surface-plot]").scroll_into_view_if_needed()
    page.screenshot(path=output_dir / "surface-and-hardlim.png")
    assert page.console_errors == []
