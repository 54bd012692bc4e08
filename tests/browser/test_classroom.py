"""Classroom and sharing in a real Chromium against the real server: a follower watches the
teacher's network live and follows it to new networks, cannot change it, forks it; presenter
mode and hide= links; export and import, the boundary PNG, and the code snippets (run)."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.server]

# Counts the EventSource streams a page opens (and which are still open).
COUNT_STREAMS = """(() => {
  const Native = window.EventSource;
  window.__streams = [];
  window.EventSource = class extends Native {
    constructor(...args) { super(...args); window.__streams.push(this); }
  };
})();"""
OPEN_STREAMS = "() => window.__streams.filter((s) => s.readyState !== 2).length"


def settled(condition: str = "true") -> str:
    """A page function: the page's network is shown (and `condition` holds, `s` the session)."""
    return ("() => { const s = window.playground; return !!(s && s.state && s.data && s.id "
            f"&& !s.gridsInFlight && ({condition})); }}")


# Every control that would change the network, as the follower's page must show it.
WRITE_CONTROLS_DISABLED = [
    "[data-testid=play]", "[data-testid=step]", "[data-testid=step-epoch]", "#reset", "#lr",
    "#batch-mode", "#reg", "#rule", "#speed", "#ratio", "#noise", "#samples",
    "[data-testid=add-layer]", "[data-testid=remove-layer]",
]
WRITE_CONTROLS_HIDDEN = ["#class-picker", "#clear-points", "label:has(#import)", "#regenerate"]


def boundary_image(page) -> str:
    return page.evaluate("() => document.querySelector('[data-testid=boundary]').toDataURL()")


def errors_of(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def boxes_overlap(a, b) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def test_a_follower_watches_follows_and_forks(playground, page, browser, live_server,
                                              output_dir):
    page.add_init_script(COUNT_STREAMS)
    playground.open("#dataset=gaussians&hidden=3&act=tanh,sigmoid&lr=0.1")
    playground.wait_network("s.state.epoch === 0")
    teacher_id = playground.id
    link = playground.js("() => window.playground.watchLink()")

    follower = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    follower.add_init_script(COUNT_STREAMS)
    errors = errors_of(follower)
    try:
        follower.goto(link)
        follower.wait_for_function(settled("s.readOnly"), timeout=15_000)
        follower.wait_for_function(settled())
        assert follower.evaluate("() => window.playground.id") == teacher_id
        bar = follower.locator("[data-testid=watching]")
        assert bar.is_visible() and "Watching live" in bar.inner_text()
        assert "Gaussians data" in bar.inner_text()

        # No write control works: disabled, hidden, and the keys and clicks do nothing.
        for selector in WRITE_CONTROLS_DISABLED:
            assert follower.locator(selector).is_disabled(), selector
        for selector in [".dataset", ".act-select", ".neuron-btns button"]:
            controls = follower.locator(selector)
            assert controls.count() > 0
            assert all(controls.nth(i).is_disabled() for i in range(controls.count())), selector
        for selector in WRITE_CONTROLS_HIDDEN:
            assert not follower.locator(selector).is_visible(), selector
        follower.locator("[data-testid=boundary]").click(position={"x": 200, "y": 200})
        follower.locator(".node.input").nth(2).click()  # x1^2: a feature switch
        follower.locator("body").press("Space")
        follower.locator("body").press("ArrowRight")
        follower.mouse.move(700, 5)  # off the feature: the big plot shows the output again
        follower.wait_for_timeout(400)
        state = httpx.get(f"{live_server.url}/api/networks/{teacher_id}").json()
        assert (state["epoch"], state["iteration"], state["status"]) == (0, 0, "idle")
        assert state["spec"]["features"] == ["x1", "x2"]
        assert follower.evaluate("() => window.playground.id") == teacher_id
        assert len(httpx.get(f"{live_server.url}/api/networks/{teacher_id}/data")
                   .json()["train"]["x"]) == 100
        # The server refuses writes without the owner's token anyway.
        train = f"{live_server.url}/api/networks/{teacher_id}/train"
        assert httpx.post(train, json={"epochs": 5}).status_code == 401
        assert httpx.post(train, json={"epochs": 5},
                          headers={"Authorization": "Bearer not-the-token"}).status_code == 403

        # The teacher trains: the follower sees the epochs advance and the boundary change.
        before = boundary_image(follower)
        page.click("[data-testid=play]")
        follower.wait_for_function("() => window.playground.state.epoch >= 40", timeout=15_000)
        follower.wait_for_function("(b) => document.querySelector('[data-testid=boundary]')"
                                   ".toDataURL() !== b", arg=before, timeout=10_000)
        epoch_text = follower.locator("[data-testid=epoch]").inner_text()
        assert int(epoch_text.replace(",", "")) >= 40
        page.click("[data-testid=play]")
        playground.wait_network("s.state.status === 'idle'")
        follower.wait_for_function("() => window.playground.state.status === 'idle'")
        follower.wait_for_selector(".banner:not([hidden])")  # "The owner paused at epoch N."
        assert "paused" in follower.locator(".banner").inner_text()
        # One message at a time, and none over the watching bar.
        assert follower.locator(".banner:visible").count() == 1
        assert not boxes_overlap(follower.locator(".banner").bounding_box(), bar.bounding_box())
        follower.screenshot(path=output_dir / "classroom-follower-watching.png")

        # The teacher switches dataset (a new network): the follower follows, URL included.
        page.click(".dataset[data-name=xor]")
        playground.wait_network("s.state.spec.dataset.name === 'xor' "
                                "&& s.data.train.x.length === 4")
        new_id = playground.id
        assert new_id != teacher_id
        follower.wait_for_function("(id) => window.playground.id === id && window.playground.data"
                                   " && window.playground.data.train.x.length === 4",
                                   arg=new_id, timeout=10_000)
        assert follower.evaluate("() => location.hash") == f"#watch={new_id}"
        assert follower.evaluate("() => window.playground.readOnly")
        assert "XOR data" in bar.inner_text()
        follower.wait_for_function(settled())
        follower.screenshot(path=output_dir / "classroom-follower-followed.png")
        # The old link leads to the new network too (replaced_by), on one stream per page.
        late = follower.context.new_page()
        late.add_init_script(COUNT_STREAMS)
        late.goto(link)
        late.wait_for_function(settled("s.readOnly"), timeout=15_000)
        assert late.evaluate("() => window.playground.id") == new_id
        assert late.evaluate(OPEN_STREAMS) == 1
        late.close()
        assert follower.evaluate(OPEN_STREAMS) == 1
        assert follower.evaluate("() => window.__streams.length") == 2  # the old one closed
        assert page.evaluate(OPEN_STREAMS) == 1

        # Fork: the follower's own network, which it can train.
        follower.get_by_role("button", name="Fork it").click()
        follower.locator("[data-testid=fork-confirm]").click()  # no name: it is optional
        follower.wait_for_function("() => !window.playground.readOnly && window.playground.token")
        own = follower.evaluate("() => window.playground.id")
        assert own != new_id
        assert not bar.is_visible()
        assert "watch=" not in follower.evaluate("() => location.hash")
        assert not follower.locator("[data-testid=play]").is_disabled()
        assert follower.locator("#clear-points").is_visible()
        follower.click("[data-testid=play]")
        follower.wait_for_function("() => window.playground.state.epoch >= 20", timeout=15_000)
        follower.click("[data-testid=play]")
        follower.wait_for_function("() => window.playground.state.status === 'idle'")
        assert httpx.get(f"{live_server.url}/api/networks/{new_id}").json()["epoch"] == 0
        assert follower.evaluate(OPEN_STREAMS) == 1
        assert errors == []
    finally:
        follower.context.close()
    assert page.console_errors == []


def run_python(code: str, tmp_path, name: str) -> str:
    script = tmp_path / name
    script.write_text(code)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def printed_layers(output: str) -> list[dict]:
    """The "W1 = [...]" and "b1 = [...]" lines a snippet prints."""
    found = dict(re.findall(r"^([Wb]\d+) = (.+)$", output, re.M))
    return [{"W": ast.literal_eval(found[f"W{k}"]), "b": ast.literal_eval(found[f"b{k}"])}
            for k in range(1, len(found) // 2 + 1)]


def assert_same_layers(got, expected, tol=1e-9):
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert len(g["W"]) == len(e["W"])
        for row, want in zip(g["W"], e["W"], strict=True):
            assert row == pytest.approx(want, abs=tol)
        assert g["b"] == pytest.approx(e["b"], abs=tol)


def test_export_import_png_and_code(playground, page, live_server, output_dir, tmp_path):
    playground.open("#dataset=circle&samples=120&hidden=4&act=tanh,sigmoid&lr=0.3&bs=8")
    playground.wait_network("s.state.epoch === 0")
    # 25 epochs on the owner's token (whole epochs, so a script can replay exactly this run).
    network_id, token = playground.js("() => [window.playground.id, window.playground.token]")
    api = f"{live_server.url}/api/networks/{network_id}"
    step = httpx.post(f"{api}/step", json={"epochs": 25},
                      headers={"Authorization": f"Bearer {token}"})
    assert step.status_code == 200
    playground.wait_network("s.state.epoch === 25")
    layers = playground.state["layers"]

    # Save: the API's JSON document; Open: a new network with the very same weights.
    with page.expect_download() as saved:
        page.click("#export")
    path = saved.value.path()
    document = json.loads(Path(path).read_text())
    assert document["format"] == "nn-playground/1"
    assert_same_layers(document["layers"], layers, tol=0)
    page.set_input_files("#import", path)
    playground.wait_network(f"s.id !== '{network_id}' && s.state.epoch === 25")
    assert_same_layers(playground.state["layers"], layers, tol=0)
    assert playground.js("() => !window.playground.readOnly && !!window.playground.token")

    # The boundary as a PNG, as drawn on the canvas.
    with page.expect_download() as png:
        page.click("#export-png")
    assert png.value.suggested_filename.endswith(".png")
    data = Path(png.value.path()).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert [width, height] == playground.js(
        "() => { const c = document.querySelector('[data-testid=boundary]'); "
        "return [c.width, c.height]; }")

    # The code dialog: the Python (httpx) script and the scikit-learn one.
    page.click("#export-code")
    dialog = page.locator("#code-dialog")
    dialog.wait_for(state="visible")
    python_code = dialog.locator("[data-testid=code-text]").inner_text()
    assert "httpx" in python_code and "EPOCHS = 25" in python_code
    dialog.get_by_role("tab", name="scikit-learn").click()
    sklearn_code = dialog.locator("[data-testid=code-text]").inner_text()
    assert "MLPClassifier(" in sklearn_code and 'solver="sgd"' in sklearn_code
    assert "batch_size=8" in sklearn_code and "momentum=0.0" in sklearn_code
    assert "log-loss" in sklearn_code and "hidden_layer_sizes=(4,)" in sklearn_code
    page.screenshot(path=output_dir / "classroom-code-dialog.png")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    dialog.locator("[data-testid=code-copy]").click()
    page.wait_for_function("() => document.querySelector('#code-dialog .code-status')"
                           ".textContent === 'Copied.'", timeout=5_000)
    assert page.evaluate("() => navigator.clipboard.readText()") == sklearn_code
    page.keyboard.press("Escape")

    # The Python script recreates and trains the same network: the same weights come out.
    base = f'BASE = "{live_server.url}/api"'
    python_code = re.sub(r'^BASE = ".*"$', base, python_code, flags=re.M)
    output = run_python(python_code, tmp_path, "api_snippet.py")
    assert "run finished" in output and "epoch 25, iteration" in output
    assert "test points classified right" in output
    assert_same_layers(printed_layers(output), layers, tol=1e-9)

    # The scikit-learn code is Python; it runs where scikit-learn is installed. The other
    # models too: the perceptron (its tie rule) and the regressor (learning rate x 2).
    snippets = {"classifier": sklearn_code}
    for name, body in {
        "perceptron": {"dataset": {"name": "and"}, "rule": "perceptron", "hidden": [],
                       "activations": ["hardlim"], "learning_rate": 0.5},
        "regressor": {"dataset": {"name": "plane", "n_samples": 60}, "hidden": [3],
                      "activations": ["relu", "linear"], "learning_rate": 0.01,
                      "batch": {"mode": "batch"},
                      "regularization": {"kind": "l2", "rate": 0.001}},
    }.items():
        made = httpx.post(f"{live_server.url}/api/networks", json=body).json()
        data = httpx.get(f"{live_server.url}/api/networks/{made['id']}/data").json()
        snippets[name] = page.evaluate(
            "async ([state, data]) => (await import('./js/export.js'))"
            ".sklearnSnippet({ state, data })", [made["network"], data])
    assert "Perceptron(" in snippets["perceptron"] and "w.x + b > 0" in snippets["perceptron"]
    # With the page's catalog, a logic set goes by its name in capitals, and its create body is
    # the name alone (the catalog says its points are fixed; no sampling fields).
    python_and = page.evaluate(
        "async (state) => (await import('./js/export.js')).pythonSnippet("
        "{ state, base: 'http://x/api', catalog: window.playground.catalog })",
        httpx.post(f"{live_server.url}/api/networks",
                   json={"dataset": {"name": "and"}, "hidden": []}).json()["network"])
    assert "the AND data" in python_and
    assert '"dataset": {"name": "and"}' in python_and
    assert "n >= 0" in snippets["perceptron"]
    assert "MLPRegressor(" in snippets["regressor"]
    assert "learning_rate_init=0.02" in snippets["regressor"]
    assert "batch_size=30" in snippets["regressor"]  # the whole training half of 60
    for name, code in snippets.items():
        compile(code, f"sklearn_{name}.py", "exec")
        if importlib.util.find_spec("sklearn"):
            assert "accuracy" in run_python(code, tmp_path, f"sklearn_{name}.py") or \
                name == "regressor"
    assert page.console_errors == []


def test_presenter_mode_and_a_hide_link(playground, page, browser, output_dir):
    page.set_viewport_size({"width": 1920, "height": 1080})
    playground.open("#dataset=spiral&samples=300&noise=0&hidden=8,6&act=tanh,tanh,sigmoid"
                    "&lr=0.03&features=x1,x2,sin(x1),sin(x2)")
    playground.wait_network("s.state.epoch === 0")
    width_before = float(page.locator(".link").first.get_attribute("stroke-width"))
    font_before = page.evaluate("() => parseFloat(getComputedStyle(document.documentElement)"
                                ".fontSize)")

    page.click("[data-testid=presenter]")
    assert page.evaluate("() => document.documentElement.classList.contains('presenter')")
    assert "presenter=1" in page.evaluate("() => location.hash")
    page.wait_for_function("(w) => parseFloat(document.querySelector('.link')"
                           ".getAttribute('stroke-width')) > 1.5 * w", arg=width_before)
    assert page.evaluate("() => parseFloat(getComputedStyle(document.documentElement)"
                         ".fontSize)") >= font_before * 1.15
    width_after = float(page.locator(".link").first.get_attribute("stroke-width"))
    assert width_after == pytest.approx(width_before * 1.9, rel=0.02)
    for hidden in [".field:has(#reg)", ".keys", "#class-picker", "#export", "#chart-readout"]:
        assert not page.locator(hidden).is_visible(), hidden
    for shown in ["[data-testid=play]", "#lr", "#rule", ".dataset[data-name=spiral]",
                  "[data-testid=boundary]", "[data-testid=chart]"]:
        assert page.locator(shown).is_visible(), shown
    page.select_option("#speed", "0")  # Full: 150 epochs at once
    playground.wait("() => window.playground.config.speed === 0")
    page.click("[data-testid=play]")
    playground.wait("() => window.playground.state.epoch >= 150", timeout=20_000)
    page.click("[data-testid=play]")
    playground.wait_network("s.state.status === 'idle'")
    page.wait_for_selector(".banner:not([hidden])")  # "Paused at epoch N": closed for the picture
    page.click(".banner-close")
    page.wait_for_selector(".banner", state="hidden")
    page.mouse.move(960, 5)
    page.wait_for_timeout(200)
    page.screenshot(path=output_dir / "presenter-1920x1080.png")
    page.reload()  # kept in the URL
    playground.wait_ready()
    assert page.evaluate("() => document.documentElement.classList.contains('presenter')")

    # The Share dialog hides chosen controls in the students' link.
    page.click("#share")
    page.click(".share-options summary")
    for name in ["lr", "reg", "speed", "datasets"]:
        page.check(f"[data-hide={name}]")
    link = page.locator("#share-link").input_value()
    assert re.search(r"#watch=[0-9a-f]+&hide=datasets,lr,reg,speed$", link), link
    assert "presenter" not in link
    assert page.locator("#share-qr").get_attribute("src").endswith(quote(link, safe=""))
    page.screenshot(path=output_dir / "classroom-share-dialog.png")
    page.check("[data-testid=share-kind-copy]")
    copy_link = page.locator("#share-link").input_value()
    assert "#dataset=spiral" in copy_link and copy_link.endswith("&hide=datasets,lr,reg,speed")
    page.keyboard.press("Escape")

    student = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    errors = errors_of(student)
    try:
        student.goto(link)
        student.wait_for_function(settled("s.readOnly"), timeout=15_000)
        for hidden in ["#lr", "#reg", "#speed", "#datasets"]:
            assert not student.locator(hidden).is_visible(), hidden
        for shown in ["#rule", "#batch-mode", "[data-testid=play]", "[data-testid=watching]"]:
            assert student.locator(shown).is_visible(), shown
        assert not student.evaluate("() => document.documentElement.classList"
                                    ".contains('presenter')")
        student.screenshot(path=output_dir / "classroom-student-hidden.png")
        # A copy link: the student's own network from the same setup, the same controls hidden.
        student.goto("about:blank")
        student.goto(copy_link)
        student.wait_for_function(settled("!s.readOnly"), timeout=15_000)
        assert student.evaluate("() => window.playground.state.spec.dataset.name") == "spiral"
        assert not student.locator("#lr").is_visible()
        assert "hide=datasets,lr,reg,speed" in student.evaluate("() => location.hash")
        assert errors == []
    finally:
        student.context.close()

    page.click("[data-testid=presenter]")  # back to the normal page
    assert not page.evaluate("() => document.documentElement.classList.contains('presenter')")
    assert "presenter=1" not in page.evaluate("() => location.hash")
    assert page.console_errors == []
