"""The backprop lab for the whole class and its "why": a watcher's lab shows the teacher's
steps live (two browser contexts, the real server), and the chain rule's derivation carries the
lecture's worked example's numbers."""

from __future__ import annotations

import pytest

from tests.browser.test_classroom import errors_of, settled
from tests.browser.test_teaching import lab_step, open_lesson, value

pytestmark = [pytest.mark.browser, pytest.mark.server]

SMALL = {"width": 1024, "height": 768}


def open_lab(page):
    if not page.locator("#teach").is_visible():
        page.click("[data-testid=teach-toggle]")
    page.click("[data-testid=teach-tab-lab]")


def open_why(page):
    page.click("[data-testid=lab-why-toggle]")
    page.wait_for_selector("[data-testid=lab-why] .eqn", timeout=5_000)


def test_a_watcher_sees_the_teachers_lab_step_by_step(playground, page, browser, output_dir):
    page.set_viewport_size(SMALL)
    teacher_errors = errors_of(page)
    playground.open()
    open_lesson(playground, page, "worked-example")
    link = playground.js("() => window.playground.watchLink()")

    follower = browser.new_context(viewport=SMALL).new_page()
    errors = errors_of(follower)
    try:
        follower.goto(link)
        follower.wait_for_function(settled("s.readOnly"), timeout=15_000)
        assert follower.evaluate("() => window.playground.id") == playground.id
        open_lab(follower)
        assert follower.locator("[data-testid=lab-forward]").is_disabled()
        assert "watching" in follower.locator("[data-testid=lab-status]").inner_text()

        lab_step(page, "forward")
        follower.wait_for_selector("[data-testid=lab][data-phase=forward]", timeout=10_000)
        assert follower.locator("[data-testid=lab-sample]").inner_text() == "x = (1, 1), y = 0"
        mode = follower.locator("[data-testid=lab-sample-mode]")
        assert mode.is_disabled() and "owner" in mode.locator("option:checked").inner_text()
        assert value(follower, "lab-a0") == [1, 1]
        assert value(follower, "lab-n1") == [2, 2]
        assert value(follower, "lab-a1") == [2, 2]
        assert value(follower, "lab-yhat") == 4
        assert value(follower, "lab-y") == 0
        follower.screenshot(path=output_dir / "lab-watcher-forward.png")

        lab_step(page, "backward")
        follower.wait_for_selector("[data-testid=lab][data-phase=backward]", timeout=10_000)
        assert value(follower, "lab-J") == 16
        assert value(follower, "lab-s2") == 8
        assert value(follower, "lab-s1") == [8, 8]
        # The watcher's "why" has the same numbers.
        open_why(follower)
        assert value(follower, "lab-why-s2") == 8
        assert value(follower, "lab-why-s1") == [8, 8]

        lab_step(page, "update")
        follower.wait_for_selector("[data-testid=lab][data-phase=update]", timeout=10_000)
        for testid, expected in (("lab-W1", [[0.2, 0.2], [0.2, 0.2]]), ("lab-b1", [-0.8, -0.8]),
                                 ("lab-W2", [[-0.6, -0.6]]), ("lab-b2", -0.8)):
            assert value(follower, testid) == value(page, testid) == expected
        follower.wait_for_function(settled("s.state.iteration === 1"))
        assert "moved on" not in follower.locator("[data-testid=lab-status]").inner_text()
        follower.locator("[data-testid=lab-update]").scroll_into_view_if_needed()
        follower.screenshot(path=output_dir / "lab-watcher-update.png")
        page.screenshot(path=output_dir / "lab-teacher-update.png")
        # The watcher's lab never steps the network itself.
        assert follower.locator("[data-testid=lab-update]").is_disabled()
        assert errors == [] and teacher_errors == []
    finally:
        follower.context.close()


def test_the_why_view_derives_the_worked_examples_sensitivities(playground, page, output_dir):
    page.set_viewport_size(SMALL)
    errors = errors_of(page)
    playground.open()
    open_lesson(playground, page, "worked-example")
    open_why(page)
    # Before any step: the symbols alone.
    assert page.locator("[data-testid=lab-why-chain] math").count() == 1
    assert page.locator("[data-testid=lab-why-s1]").get_attribute("data-value") is None

    lab_step(page, "forward")
    lab_step(page, "backward")
    assert value(page, "lab-why-s2") == 8  # −2 Ḟ²(n²)(y − a²) = −2 × 1 × (0 − 4)
    shown = page.locator("[data-testid=lab-why-s2]").inner_text()
    assert "∂" in shown and "4" in shown and "8" in shown
    assert value(page, "lab-why-jac1") == [[1, 1]]  # ∂n²/∂n¹ = W² Ḟ¹(n¹) = [1 1] diag(1, 1)
    assert value(page, "lab-why-s1") == [8, 8]  # (∂n²/∂n¹)ᵀ s² = Ḟ¹(n¹)(W²)ᵀ s²
    assert value(page, "lab-why-grad1") == [[8, 8], [8, 8]]  # s¹ (a⁰)ᵀ
    assert value(page, "lab-why-grad2") == [[16, 16]]  # s² (a¹)ᵀ
    assert value(page, "lab-why-gradb1") == [8, 8] and value(page, "lab-why-gradb2") == 8
    # Each line: the symbols first, then the numbers (MathML).
    s1 = page.locator("[data-testid=lab-why-s1] math")
    assert s1.locator("mfrac").count() >= 1 and s1.locator("mtable.mat").count() >= 2
    page.locator("[data-testid=lab-why]").scroll_into_view_if_needed()
    page.screenshot(path=output_dir / "lab-why.png")
    page.locator("[data-testid=lab-why]").screenshot(path=output_dir / "lab-why-lines.png")

    # And what the update then does is η times these.
    lab_step(page, "update")
    assert value(page, "lab-W1") == [[0.2, 0.2], [0.2, 0.2]]
    assert value(page, "lab-why-grad1") == [[8, 8], [8, 8]]  # still the last backward's
    assert errors == []


def test_the_why_view_goes_down_every_layer_of_a_deeper_network(playground, page):
    playground.open("#dataset=xor&hidden=3,2&act=tanh,tanh,sigmoid&lr=0.5&batch=stochastic")
    playground.wait_network("s.state.sizes.length === 4")
    open_lab(page)
    lab_step(page, "forward")
    lab_step(page, "backward")
    open_why(page)
    for k in (1, 2, 3):
        assert value(page, f"lab-why-s{k}") == value(page, f"lab-s{k}")
    assert page.locator("[data-testid^=lab-why-jac]").count() == 2  # ∂n³/∂n², ∂n²/∂n¹
    jac = value(page, "lab-why-jac2")  # W³ Ḟ²(n²): 1 x 2
    assert len(jac) == 1 and len(jac[0]) == 2
    grad = value(page, "lab-why-grad2")  # s² (a¹)ᵀ: 2 x 3
    assert len(grad) == 2 and len(grad[0]) == 3


def test_a_watcher_walks_the_owners_batch_and_one_who_comes_late_still_gets_the_update(
        playground, page, browser):
    playground.open("#dataset=xor&hidden=2&act=tanh,sigmoid&lr=0.5&batch=batch")
    playground.wait_network("s.state.spec.batch.mode === 'batch'")
    open_lab(page)
    page.select_option("[data-testid=lab-sample-mode]", "batch")
    link = playground.js("() => window.playground.watchLink()")
    early = browser.new_context(viewport=SMALL).new_page()
    errors = errors_of(early)
    late = None
    try:
        early.goto(link)
        early.wait_for_function(settled("s.readOnly"), timeout=15_000)
        open_lab(early)
        lab_step(page, "forward")
        early.wait_for_selector("[data-testid=lab][data-phase=forward]", timeout=10_000)
        assert early.locator("[data-testid=lab-sample]").inner_text().startswith("sample 1 of 4, #")
        assert value(early, "lab-n1") == value(page, "lab-n1")
        early.click("[aria-label='Next sample']")
        page.click("[aria-label='Next sample']")
        assert early.locator("[data-testid=lab-sample]").inner_text().startswith("sample 2 of 4, #")
        assert value(early, "lab-yhat") == value(page, "lab-yhat")

        # One who opens the link in the middle of the batch sees the rest of it.
        late = browser.new_context(viewport=SMALL).new_page()
        late_errors = errors_of(late)
        late.goto(link)
        late.wait_for_function(settled("s.readOnly && s.state.next_step === 'backward'"),
                               timeout=15_000)
        open_lab(late)
        lab_step(page, "backward")
        late.wait_for_selector("[data-testid=lab][data-phase=backward]", timeout=10_000)
        assert value(early, "lab-s1") == value(page, "lab-s1")  # both on sample 2
        early.click("[aria-label='Previous sample']")  # the late one starts at sample 1
        assert value(late, "lab-s1") == value(early, "lab-s1")
        lab_step(page, "update")
        for watcher in (early, late):
            watcher.wait_for_selector("[data-testid=lab][data-phase=update]", timeout=10_000)
            for k in (1, 2):
                assert value(watcher, f"lab-W{k}") == value(page, f"lab-W{k}")
                assert value(watcher, f"lab-b{k}") == value(page, f"lab-b{k}")
        assert errors == [] and late_errors == []
    finally:
        early.context.close()
        if late:
            late.context.close()
