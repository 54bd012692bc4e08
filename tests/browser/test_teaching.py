"""The teaching views (issue 6) in a real Chromium, against the real server: the backprop
lab on the lecture's worked example, the perceptron rule on AND and XOR, the truth table and
batch vs stochastic vs mini-batch."""

from __future__ import annotations

import json

import httpx
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.server]


def open_lesson(playground, page, lesson: str):
    """The page with the teaching panel open and `lesson` set up (network made, weights set)."""
    if not page.locator("#teach").is_visible():
        page.click("[data-testid=teach-toggle]")
    page.click("[data-testid=teach-tab-lessons]")
    page.click(f"[data-testid=lesson-{lesson}]")
    page.wait_for_selector(f"#teach[data-lesson-ready={lesson}]", timeout=15_000)
    playground.wait_network("true")


def value(page, testid: str):
    return json.loads(page.locator(f"[data-testid={testid}]").get_attribute("data-value"))


def lab_step(page, step: str):
    page.click(f"[data-testid=lab-{step}]")
    page.wait_for_selector(f"[data-testid=lab][data-phase={step}]", timeout=10_000)


def test_worked_example_lesson_gives_the_lectures_numbers(playground, page, output_dir):
    playground.open()
    open_lesson(playground, page, "worked-example")
    assert page.locator("#teach").get_attribute("data-tab") == "lab"
    assert playground.state["sizes"] == [2, 2, 1]

    lab_step(page, "forward")
    assert value(page, "lab-a0") == [1, 1]
    assert value(page, "lab-n1") == [2, 2]
    assert value(page, "lab-a1") == [2, 2]
    assert value(page, "lab-yhat") == 4
    # In symbols, then with the numbers, in the browser's MathML.
    n1 = page.locator("[data-testid=lab-n1] math")
    assert n1.count() == 1
    assert n1.locator("mtable.mat").count() >= 3  # W1, a0, b1 and the result
    # The graph carries n and a on the neurons.
    assert page.locator(".node .lab-badge.forward").count() == 5  # 2 inputs, 2 hidden, output
    assert "ŷ 4" in page.locator(".node.output .lab-badge").inner_text().replace("\n", " ")
    page.screenshot(path=output_dir / "teaching-lab-forward.png")

    lab_step(page, "backward")
    assert value(page, "lab-J") == 16
    assert value(page, "lab-s2") == 8
    assert value(page, "lab-s1") == [8, 8]
    s2 = page.locator("[data-testid=lab-s2]").inner_text()
    assert "8" in s2 and "4" in s2  # −2 × (0 − 4) × 1 = 8
    assert page.locator(".node .lab-badge.backward").count() == 3
    page.screenshot(path=output_dir / "teaching-lab-backward.png")

    lab_step(page, "update")
    assert value(page, "lab-W1") == [[0.2, 0.2], [0.2, 0.2]]
    assert value(page, "lab-b1") == [-0.8, -0.8]
    assert value(page, "lab-W2") == [[-0.6, -0.6]]
    assert value(page, "lab-b2") == -0.8
    shown = page.locator("[data-testid=lab-W1]").inner_text()
    assert "0.2" in shown and "0.19999" not in shown  # rounded for reading
    assert page.locator(".lab-delta").count() == 6  # every weight's change on its link
    page.screenshot(path=output_dir / "teaching-lab-update.png")

    # The page's numbers are the server's.
    layers = httpx.get(f"{playground.server.url}/api/networks/{playground.id}").json()["layers"]
    assert [w for row in layers[0]["W"] for w in row] == pytest.approx([0.2] * 4)
    assert layers[1]["W"][0] == pytest.approx([-0.6, -0.6])
    assert layers[1]["b"] == pytest.approx([-0.8])
    # The steps come in order: the next one is forward again.
    assert page.locator("[data-testid=lab-forward]").is_enabled()
    assert page.locator("[data-testid=lab-backward]").is_disabled()
    assert page.console_errors == []


def test_perceptron_converges_on_and_not_on_xor(playground, page, output_dir):
    playground.open()
    open_lesson(playground, page, "perceptron-and")
    assert page.locator("#teach").get_attribute("data-tab") == "perceptron"
    for _ in range(2):
        before = playground.state["iteration"]
        page.click("[data-testid=pc-step]")
        playground.wait(f"() => window.playground.state.iteration === {before + 1} "
                        "&& !document.querySelector('[data-testid=pc-step]').disabled")
    # The last sample's error and the update written out with its numbers.
    e = value(page, "pc-e")
    assert e in ([0], [1], [-1])
    assert page.locator("[data-testid=pc-W] math").count() == 1
    page.screenshot(path=output_dir / "teaching-perceptron-steps.png")

    page.select_option("[data-testid=pc-speed]", "10")
    page.click("[data-testid=pc-run]")
    page.wait_for_selector("[data-testid=perceptron][data-verdict=converged]", timeout=20_000)
    verdict = page.locator("[data-testid=pc-verdict]").inner_text()
    assert "Converged" in verdict and "linearly separable" in verdict
    errors = json.loads(page.locator("[data-testid=pc-errors]").get_attribute("data-errors"))
    assert errors and errors[-1][1] == 0  # the last epoch had no error
    playground.wait_network("s.state.perceptron && s.state.perceptron.converged === true")
    page.screenshot(path=output_dir / "teaching-perceptron-and.png")

    open_lesson(playground, page, "xor-no-line")
    page.select_option("[data-testid=pc-epochs]", "10")
    page.select_option("[data-testid=pc-speed]", "10")
    page.click("[data-testid=pc-run]")
    page.wait_for_selector("[data-testid=perceptron][data-verdict=not_converged]", timeout=20_000)
    verdict = page.locator("[data-testid=pc-verdict]").inner_text()
    assert "no line separates" in verdict and "XOR" in verdict
    assert page.locator(".banner:not([hidden])").count() == 0  # said once, in place
    errors = json.loads(page.locator("[data-testid=pc-errors]").get_attribute("data-errors"))
    assert all(n != 0 for _, n in errors)  # never an epoch without error
    page.screenshot(path=output_dir / "teaching-perceptron-xor.png")
    assert page.console_errors == []


def test_truth_table_marks_misclassified_rows(playground, page, output_dir):
    playground.open()
    open_lesson(playground, page, "and-by-hand")
    table = page.locator("[data-testid=truth-table]")
    page.wait_for_selector("[data-testid=truth][data-errors='0']")
    assert table.locator("tbody tr").count() == 4
    assert table.locator("tbody tr.right").count() == 4
    assert "All 4 rows right" in page.locator("[data-testid=truth-summary]").inner_text()
    page.screenshot(path=output_dir / "teaching-truth-and.png")

    # OR's weights on the AND data: (0, 1) and (1, 0) come out 1, and are marked wrong.
    layers = [{"W": [[1, 1]], "b": [-0.5]}]
    playground.js("(layers) => window.playground.putLayers(layers, 'test')", layers)
    page.wait_for_selector("[data-testid=truth][data-errors='2']")
    wrong = table.locator("tbody tr.wrong")
    assert wrong.count() == 2
    assert sorted(wrong.nth(i).locator("td").nth(0).inner_text() for i in range(2)) == ["0", "1"]
    assert "2 of 4 rows misclassified" in page.locator("[data-testid=truth-summary]").inner_text()
    page.screenshot(path=output_dir / "teaching-truth-wrong.png")

    open_lesson(playground, page, "xor-hidden")
    page.wait_for_selector("[data-testid=truth][data-errors='0']")
    assert table.locator("th.hidden-col").count() == 2  # the hidden neurons' outputs
    page.screenshot(path=output_dir / "teaching-truth-xor-hidden.png")
    assert page.console_errors == []


def test_batch_stochastic_minibatch_side_by_side(playground, page, output_dir):
    playground.open()
    open_lesson(playground, page, "batch-modes")
    assert page.locator("#teach").get_attribute("data-tab") == "compare"
    # The lecture's section in numbers: 100 training samples, mini-batches of 10, a 2-4-1 network
    # (per sample 2 inputs + n, a, s of 4 + 1 neurons = 17 numbers, 8 bytes each).
    facts = page.locator("[data-testid=cmp-facts]")
    facts.wait_for()
    cells = lambda mode: facts.locator(f"td[data-mode={mode}]").all_inner_texts()  # noqa: E731
    assert cells("batch") == ["1", "100", "13.3 KB", "0.00"]
    assert cells("stochastic") == ["100", "1", "136 B", "1.00"]
    assert cells("minibatch") == ["10", "10", "1.3 KB", f"{(90 / (10 * 99)) ** 0.5:.2f}"]
    page.fill(".cmp-size input", "64")
    assert "from 2 to 32" in page.locator("[data-testid=cmp-advice]").inner_text()
    page.fill(".cmp-size input", "10")
    page.select_option("[data-testid=cmp-epochs]", "20")
    page.select_option("[data-testid=cmp-speed]", "25")
    page.click("[data-testid=cmp-run]")
    page.wait_for_selector("[data-testid=compare][data-state=training]", timeout=15_000)
    page.wait_for_timeout(400)
    page.screenshot(path=output_dir / "teaching-compare-training.png")
    page.wait_for_selector("[data-testid=compare][data-state=done]", timeout=30_000)
    assert page.locator("[data-testid=compare]").get_attribute("data-curves") == "3"
    for chart in ("cmp-chart-epochs", "cmp-chart-updates"):
        points = json.loads(page.locator(f"[data-testid={chart}]").get_attribute("data-points"))
        assert len(points) == 3 and all(n >= 10 for n in points)
    page.screenshot(path=output_dir / "teaching-compare-done.png")
    page.locator(".cmp-charts").screenshot(path=output_dir / "compare-charts.png")
    page.locator(".cmp-legend").screenshot(path=output_dir / "compare-key.png")

    # Three networks on the server: the same start, 1 / 100 / 10 updates per epoch.
    runs = playground.js("() => window.playgroundTeaching.compare.runs.map(r => [r.mode, r.id])")
    histories = {mode: httpx.get(f"{playground.server.url}/api/networks/{nid}/history").json()
                 for mode, nid in runs}
    starts = {h["train_loss"][0] for h in histories.values()}
    assert len(starts) == 1  # the same data and initial weights: the same loss at epoch 0
    updates = {mode: h["iteration"][-1] for mode, h in histories.items()}
    assert updates == {"batch": 20, "stochastic": 2000, "minibatch": 200}
    assert page.console_errors == []


def test_a_lessons_note_leaves_with_its_network(playground, page, output_dir):
    """Lesson 4's hard-limit network comes with a note (no gradient through hardlim); lesson 6's
    network has no such thing, so the note goes with lesson 4 and does not sit over lesson 6."""
    playground.open()
    open_lesson(playground, page, "xor-hidden")
    banner = page.locator("#banner")
    banner.wait_for(state="visible")
    assert "derivative is 0" in banner.inner_text()
    open_lesson(playground, page, "perceptron-and")  # lesson 5: hard limit too, its own note
    open_lesson(playground, page, "worked-example")
    playground.wait_network("!(s.state.warnings || []).length")
    assert banner.is_hidden() or "derivative" not in banner.inner_text()
    page.screenshot(path=output_dir / "lesson-6-after-4.png")
    assert page.console_errors == []
