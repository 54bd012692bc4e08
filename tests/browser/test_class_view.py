"""The teacher's view of the class in a real Chromium: two students fork the teacher's network
(with names) and train, the class view lists them best first with the challenge marked, and
"Show on projector" hands the teacher's page and followers over to a student and back."""

from __future__ import annotations

import httpx
import pytest

from tests.browser.test_classroom import errors_of, settled

pytestmark = [pytest.mark.browser, pytest.mark.server]

TRICKY_NAME = "Ada <b>&amp;</b> Co"  # shown as typed, never as markup


def student_forks(browser, link: str, name: str):
    """A student's page: opens the teacher's link, forks it under `name`; (page, errors)."""
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    errors = errors_of(page)
    page.goto(link)
    page.wait_for_function(settled("s.readOnly"), timeout=15_000)
    page.get_by_role("button", name="Fork it").click()
    page.locator("[data-testid=fork-name]").fill(name)
    page.locator("[data-testid=fork-confirm]").click()
    page.wait_for_function("() => !window.playground.readOnly && window.playground.token")
    page.wait_for_function(settled())
    return page, errors


def train_to(page, epochs: int) -> None:
    page.click("[data-testid=play]")
    page.wait_for_function(f"() => window.playground.state.epoch >= {epochs}", timeout=20_000)
    page.click("[data-testid=play]")
    page.wait_for_function("() => window.playground.state.status === 'idle'", timeout=15_000)


def cards(page) -> list[dict]:
    return page.evaluate("""() => [...document.querySelectorAll('[data-testid=class-card]')]
      .map((c) => ({ id: c.dataset.id, name: c.querySelector('.class-name').textContent,
                     markup: c.querySelectorAll('b').length,
                     met: !!c.querySelector('[data-testid=challenge-badge]') }))""")


def test_the_class_view_lists_marks_and_projects_the_forks(playground, page, browser,
                                                          live_server, output_dir):
    playground.open("#dataset=gaussians&hidden=3&act=tanh,sigmoid&lr=0.3")
    teacher_id = playground.id
    link = playground.js("() => window.playground.watchLink()")
    assert page.locator("[data-testid=class-view]").is_visible()

    ada, ada_errors = student_forks(browser, link, TRICKY_NAME)
    bo, bo_errors = student_forks(browser, link, "  Bo  ")
    follower = browser.new_context(viewport={"width": 1024, "height": 768}).new_page()
    follower_errors = errors_of(follower)
    try:
        ada_id = ada.evaluate("() => window.playground.id")
        assert ada.locator("[data-testid=class-view]").is_hidden()  # a fork has no class
        train_to(ada, 60)
        # Bo widens the hidden layer (a new network in place of the fork: still in the class).
        bo.get_by_role("button", name="Add a neuron to hidden layer 1").click()
        bo.wait_for_function("() => window.playground.state.sizes[1] === 4 "
                             "&& !window.playground.readOnly", timeout=15_000)
        bo.wait_for_function(settled())
        bo_id = bo.evaluate("() => window.playground.id")
        bo.click("[data-testid=step-epoch]")
        bo.wait_for_function("() => window.playground.state.epoch === 1")

        page.set_viewport_size({"width": 1024, "height": 768})
        page.click("[data-testid=class-view]")
        dialog = page.locator("[data-testid=class-dialog]")
        dialog.wait_for(state="visible")
        page.wait_for_function("() => document.querySelectorAll('[data-testid=class-card]')"
                               ".length === 2", timeout=10_000)
        owner = {"Authorization": "Bearer " + playground.js("() => window.playground.token")}
        listed = httpx.get(f"{live_server.url}/api/networks/{teacher_id}/forks",
                           headers=owner).json()["forks"]
        losses = {f["id"]: f["test_loss"] for f in listed}
        neurons = {f["id"]: f["hidden_neurons"] for f in listed}
        assert set(losses) == {ada_id, bo_id} and neurons == {ada_id: 3, bo_id: 4}
        best, worst = sorted(losses, key=losses.get)
        shown = cards(page)
        assert [c["id"] for c in shown] == [best, worst]  # best test loss first
        names = {c["id"]: c["name"] for c in shown}
        assert names[ada_id].endswith(TRICKY_NAME) and names[bo_id].endswith(". Bo")
        assert all(c["markup"] == 0 for c in shown)

        # The challenge: a loss between the two, any size; then too few neurons for both.
        page.fill("#challenge-neurons", "10")
        page.fill("#challenge-loss", f"{(losses[best] + losses[worst]) / 2:.6f}")
        assert {c["id"]: c["met"] for c in cards(page)} == {best: True, worst: False}
        assert page.locator("[data-testid=challenge-met]").inner_text() == "1 of 2 met it"
        page.screenshot(path=output_dir / "class-view-1024.png")
        page.fill("#challenge-neurons", "2")
        assert not any(c["met"] for c in cards(page))
        page.fill("#challenge-neurons", "3")
        assert {c["id"]: c["met"] for c in cards(page)} == {
            best: neurons[best] <= 3, worst: False}

        # Live: Ada trains on, and the open view follows without a click.
        before = next(f["epoch"] for f in listed if f["id"] == ada_id)
        train_to(ada, before + 20)
        page.wait_for_function(
            "([id, e]) => { const c = document.querySelector(`[data-id='${id}']`);"
            " const m = c && c.textContent.match(/epoch ([\\d,]+)/);"
            " return !!m && Number(m[1].replace(/,/g, '')) >= e; }",
            arg=[ada_id, before + 20], timeout=10_000)

        # A follower of the teacher; the teacher puts Ada's network on the projector.
        follower.goto(link)
        follower.wait_for_function(settled("s.readOnly"), timeout=15_000)
        assert not follower.locator("[data-testid=class-view]").is_visible()  # owners' only
        page.locator(f"[data-id='{ada_id}'] [data-testid=show-on-projector]").click()
        playground.wait_network(f"s.id === '{ada_id}' && s.readOnly && s.projecting")
        follower.wait_for_function(f"() => window.playground.id === '{ada_id}'",
                                   timeout=10_000)
        follower.wait_for_function(settled())
        assert ada.evaluate("() => window.playground.id") == ada_id
        assert not ada.evaluate("() => window.playground.readOnly")
        banner = page.locator(".banner")
        assert "On the projector:" in banner.inner_text() and TRICKY_NAME in banner.inner_text()
        # A reload keeps the projector as it was (the teacher's network still replaced by it).
        page.reload()
        playground.wait_network(f"s.id === '{ada_id}' && s.projecting === '{ada_id}'")

        # The class view says what is on the projector, and takes everyone back.
        page.click("[data-testid=class-view]")
        dialog.wait_for(state="visible")
        page.wait_for_function(f"() => document.querySelector(\"[data-id='{ada_id}']\")"
                               "?.classList.contains('shown')")
        assert TRICKY_NAME in page.locator(".projecting").inner_text()
        # The challenge set before the reload is still the one marked.
        assert page.input_value("#challenge-neurons") == "3"
        page.screenshot(path=output_dir / "class-view-projecting-1024.png")
        page.click("[data-testid=back-home]")
        playground.wait_network(f"s.id === '{teacher_id}' && !s.readOnly && !s.projecting")
        assert "Back on your network" in banner.inner_text()
        follower.wait_for_function(f"() => window.playground.id === '{teacher_id}'",
                                   timeout=10_000)
        follower.wait_for_function(settled("s.readOnly"))
        ada.wait_for_timeout(500)
        assert ada.evaluate("() => window.playground.id") == ada_id  # Ada stays on her own
        assert not ada.evaluate("() => window.playground.readOnly")
        state = httpx.get(f"{live_server.url}/api/networks/{teacher_id}").json()
        assert state["replaced_by"] is None
        assert ada_errors == [] and bo_errors == [] and follower_errors == []
    finally:
        for p in (ada, bo, follower):
            p.context.close()
    assert page.console_errors == []
