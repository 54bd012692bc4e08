"""The playground page in a real Chromium, against the real server."""

from __future__ import annotations

import httpx
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.server]


def test_page_loads_without_console_errors(playground, page, output_dir):
    playground.open()
    assert page.title() == "Neural-network playground"
    # The three columns are there: datasets with previews, the graph, the output.
    assert page.locator(".dataset canvas").count() >= 12
    assert page.locator(".node.input").count() == 7
    assert page.locator(".link").count() > 0
    assert page.locator("[data-testid=epoch]").inner_text() == "000,000"
    playground.wait_network("s.state.epoch === 0")
    page.screenshot(path=output_dir / "playground-1400x900.png")
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_timeout(300)
    page.screenshot(path=output_dir / "playground-1920x1080.png")
    assert page.console_errors == []


def test_xor_with_a_hidden_layer_learns(playground, page, output_dir):
    playground.open()
    page.click(".dataset[data-name=xor]")
    playground.wait_network("s.state.spec.dataset.name === 'xor' && s.data.train.x.length === 4")
    # Down to a single-layer network, then one hidden layer back.
    page.click("[data-testid=remove-layer]")
    playground.wait_network("s.state.sizes.length === 3")
    page.click("[data-testid=remove-layer]")
    playground.wait_network("s.state.sizes.length === 2")
    assert page.locator("[data-testid=layer-count]").inner_text().lower() == "0 hidden layers"
    page.click("[data-testid=add-layer]")
    playground.wait_network("s.state.sizes.length === 3")
    page.locator(".neuron-btns button[aria-label^='Add a neuron']").first.click()
    playground.wait_network("JSON.stringify(s.state.sizes) === '[2,3,1]'")
    page.select_option("#lr", "1")
    playground.wait_network("s.state.spec.learning_rate === 1")

    page.select_option("#speed", "0")  # Full: 300 epochs at once
    playground.wait("() => window.playground.config.speed === 0")

    loss_before = playground.state["metrics"]["train_loss"]
    image_before = playground.boundary_image()
    page.click("[data-testid=play]")
    playground.wait("() => window.playground.state.epoch >= 300", timeout=20_000)
    page.wait_for_timeout(400)  # a few live frames
    page.screenshot(path=output_dir / "xor-training.png")
    # The live frames' grids decode to what the activations can produce (sigmoid output in
    # [0, 1], tanh hidden layer in [-1, 1]): the stream's encoding is read right.
    ranges = playground.js("""() => {
      const range = (v) => [Math.min(...v), Math.max(...v)];
      const views = window.playgroundViews;
      return [range(views.boundary.grid.values), range(views.graph.lastGrids.grids[1].values)];
    }""")
    (out_lo, out_hi), (hid_lo, hid_hi) = ranges
    assert 0 <= out_lo < out_hi <= 1 and out_hi - out_lo > 0.5
    assert -1 <= hid_lo < hid_hi <= 1
    page.keyboard.press("Space")  # pause
    playground.wait_network("s.state.status === 'idle'")
    page.wait_for_selector(".banner[data-kind=info]")

    state = playground.state
    assert state["epoch"] >= 300
    epoch_text = page.locator("[data-testid=epoch]").inner_text()
    assert int(epoch_text.replace(",", "")) == state["epoch"]
    assert state["metrics"]["train_loss"] < loss_before / 2
    assert float(page.locator("[data-testid=train-loss]").inner_text()) < loss_before / 2
    playground.wait_boundary_changed(image_before)
    assert playground.js("() => window.playground.follower.frames") >= 5  # drawn live
    page.screenshot(path=output_dir / "xor-trained.png")
    assert page.console_errors == []


def test_edit_a_weight_by_clicking_and_undo(playground, page, output_dir):
    playground.open("#dataset=xor&hidden=3&act=tanh,sigmoid")
    playground.wait_network("JSON.stringify(s.state.sizes) === '[2,3,1]'")
    image_before = playground.boundary_image()
    old = playground.state["layers"][1]["W"][0][0]
    # The links into the output are the last layer's; click the first one (W[0][0]).
    link = page.locator(".link-hit").nth(6)
    link.hover()
    page.wait_for_selector(".tooltip:not([hidden])")
    page.screenshot(path=output_dir / "weight-tooltip.png")
    link.click()
    editor = page.locator("[data-testid=param-input]")
    editor.fill("8")
    editor.press("Enter")
    playground.wait_network("s.state.layers[1].W[0][0] === 8")
    playground.wait_boundary_changed(image_before)
    server = httpx.get(f"{playground.server.url}/api/networks/{playground.id}").json()
    assert server["layers"][1]["W"][0][0] == 8
    page.screenshot(path=output_dir / "weight-edited.png")
    # Undo puts the old value back on the server.
    page.get_by_role("button", name="Undo").click()
    playground.wait_network(f"s.state.layers[1].W[0][0] === {old!r}")
    server = httpx.get(f"{playground.server.url}/api/networks/{playground.id}").json()
    assert server["layers"][1]["W"][0][0] == old
    assert page.console_errors == []


def test_add_a_point_by_clicking(playground, page, output_dir):
    playground.open("#dataset=xor&hidden=2&act=tanh,sigmoid")
    playground.wait_network("s.data.train.x.length === 4")
    page.get_by_role("radio", name="Add points of class 1").click()
    # Where (0.5, 0.5) of the logic sets' plane is on the screen.
    x, y = page.evaluate("""() => {
      const view = window.playgroundViews.boundary;
      const [x, y] = view.toScreen(0.5, 0.5);
      const r = view.canvas.getBoundingClientRect();
      return [r.left + x, r.top + y];
    }""")
    page.mouse.click(x, y)
    playground.wait_network("s.state.spec.dataset.points && s.data.train.x.length === 5")
    points = playground.state["spec"]["dataset"]["points"]
    added = [p for p in points if p not in ([0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0])]
    assert len(added) == 1 and added[0][2] == 1
    assert abs(added[0][0] - 0.5) < 0.02 and abs(added[0][1] - 0.5) < 0.02
    assert "dataset=custom" in page.url
    page.screenshot(path=output_dir / "point-added.png")
    assert page.console_errors == []


def test_the_perceptron_rule_is_offered_one_sample_at_a_time(playground, page):
    # A link asking for the perceptron rule in batches opens it sample by sample instead.
    playground.open("#dataset=and&hidden=&act=hardlim&rule=perceptron&batch=batch")
    playground.wait_network("s.state.spec.rule === 'perceptron'")
    assert playground.state["spec"]["batch"]["mode"] == "stochastic"
    disabled = page.eval_on_selector_all(
        "[data-testid=batch-mode] option", "os => os.filter(o => o.disabled).map(o => o.value)")
    assert sorted(disabled) == ["batch", "minibatch"]
    # Back to backprop: every mode again; a mini-batch of one is named stochastic.
    page.select_option("[data-testid=rule]", "backprop")
    playground.wait_network("s.state.spec.rule === 'backprop'")
    page.select_option("[data-testid=batch-mode]", "minibatch")
    playground.wait_network("s.state.spec.batch.mode === 'minibatch'")
    page.fill("#batch-size", "1")
    page.press("#batch-size", "Enter")
    playground.wait_network("s.state.spec.batch.mode === 'stochastic'")
    assert page.locator("[data-testid=batch-mode]").input_value() == "stochastic"
    assert page.console_errors == []


def test_switch_dataset_and_batch_mode(playground, page, output_dir):
    playground.open()
    first = playground.id
    page.click(".dataset[data-name=spiral]")
    playground.wait_network("s.state.spec.dataset.name === 'spiral'")
    assert playground.id != first
    page.select_option("[data-testid=batch-mode]", "batch")
    playground.wait_network("s.state.spec.batch.mode === 'batch'")
    assert page.locator("#batch-size").is_disabled()
    server = httpx.get(f"{playground.server.url}/api/networks/{playground.id}").json()
    assert server["spec"]["dataset"]["name"] == "spiral"
    assert server["spec"]["batch"]["mode"] == "batch"
    assert "dataset=spiral" in page.url and "batch=batch" in page.url
    page.screenshot(path=output_dir / "spiral-batch.png")
    assert page.console_errors == []


def test_reload_restores_the_network(playground, page, output_dir):
    playground.open()
    page.click("[data-testid=step-epoch]")
    playground.wait_network("s.state.epoch === 1")
    page.keyboard.press("ArrowRight")  # one more iteration
    playground.wait_network("s.state.iteration === 11")
    network_id = playground.id
    page.reload()
    playground.wait_ready()
    assert playground.id == network_id
    assert playground.state["iteration"] == 11
    assert page.locator("[data-testid=epoch]").inner_text() == "000,001"
    assert page.console_errors == []


def test_a_diverging_run_says_so(playground, page, output_dir):
    playground.open("#dataset=plane&hidden=8,8&act=relu,relu,linear&lr=10")
    playground.wait_network("s.state.spec.learning_rate === 10")
    page.click("[data-testid=play]")
    page.wait_for_selector(".banner[data-kind=error]", timeout=20_000)
    text = page.locator(".banner").inner_text()
    assert "Diverged" in text and "epoch" in text and "learning rate" in text
    playground.wait_network("s.state.status === 'idle'")
    page.screenshot(path=output_dir / "diverged.png")
    assert page.console_errors == []


def test_a_shared_link_follows_live_and_forks(playground, page, browser, output_dir):
    playground.open("#dataset=gaussians")
    link = playground.js("() => window.playground.watchLink()")
    watcher = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    errors = []
    watcher.on("console", lambda m: m.type == "error" and errors.append(m.text))
    try:
        watcher.goto(link)
        watcher.wait_for_function("() => window.playground && window.playground.state "
                                  "&& window.playground.readOnly")
        assert watcher.locator("[data-testid=play]").is_disabled()
        page.click("[data-testid=play]")
        watcher.wait_for_function("() => window.playground.state.epoch >= 20", timeout=15_000)
        watcher.screenshot(path=output_dir / "watching.png")
        page.click("[data-testid=play]")
        watcher.get_by_role("button", name="Fork it").click()
        watcher.locator("[data-testid=fork-confirm]").click()  # the name is optional
        watcher.wait_for_function("() => !window.playground.readOnly && window.playground.token")
        assert watcher.evaluate("() => window.playground.id") != playground.id
        assert not watcher.locator("[data-testid=play]").is_disabled()
        assert errors == []
    finally:
        watcher.context.close()
    assert page.console_errors == []


def test_the_largest_network_it_offers_draws_and_trains_without_an_error(playground, page,
                                                                          output_dir):
    """Eight hidden layers of 64 on 1,000 spiral points: every neuron's map fits the server's
    budgets (smaller maps, as the server says), the stream is live, a run trains, and it stops
    when paused: the page shows it stopped from then on, however late it reads the frames, and
    the maps drawn again bring no error either."""
    page.set_viewport_size({"width": 1024, "height": 768})
    layers = ",".join(["64"] * 8)
    playground.open(f"#dataset=spiral&samples=1000&hidden={layers}"
                    f"&act={','.join(['tanh'] * 8)},sigmoid")
    playground.wait_network("JSON.stringify(s.state.sizes) === "
                            "'[2,64,64,64,64,64,64,64,64,1]' && !!window.playgroundViews"
                            ".graph.lastGrids")
    assert page.locator(".banner:visible").count() == 0
    playground.wait("() => document.getElementById('server-status').dataset.status === 'live'")
    page.click("[data-testid=play]")
    playground.wait("() => window.playground.state.epoch >= 3", timeout=30_000)
    page.wait_for_timeout(1500)  # progress frames, with grids when the budget allows
    page.evaluate("""() => {  // what the page shows from the pause on, until the run's done
      window.shown = [];
      window.playground.on("state", (s) => window.shown.push([s.status, s.epoch]));
      window.playground.on("done", () => { window.runDone = true; });
    }""")
    page.keyboard.press("Space")
    playground.wait("() => window.runDone === true", timeout=60_000)
    playground.wait_network("!s.training", timeout=30_000)
    shown = page.evaluate("() => window.shown")
    paused = next(i for i, (status, _) in enumerate(shown) if status == "idle")
    # The frames the page reads late (it draws slower than they come) do not take it back.
    assert all(status == "idle" for status, _ in shown[paused:]), shown
    epochs = [epoch for _, epoch in shown]
    assert epochs == sorted(epochs), shown
    page.screenshot(path=output_dir / "largest-network-1024x768.png", full_page=True)
    banners = page.locator(".banner:visible").all_inner_texts()  # the notice may be gone by now
    assert all("Paused" in text for text in banners), banners
    assert not any("failed" in e.lower() for e in page.console_errors), page.console_errors
    assert page.console_errors == []
