"""The page on the screens a classroom has, and from the keyboard, in a real Chromium.

Every layout: where the train button, the network graph and the output plot are; no sideways
scrolling; no control drawn over another; the top bar's training row on screen. The keyboard:
a weight edited without the mouse, the datasets as one radio group, a point added from the
form. Text: nothing under 11 px, contrast at least 4.5:1. Each test saves its screenshots to
test-output/ and fails on any console error.
"""

from __future__ import annotations

import json

import httpx
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.server]

# The boxes of what must be where: [left, top, right, bottom] in the viewport.
BOXES = """() => {
  const box = (selector) => {
    const e = document.querySelector(selector);
    if (!e) return null;
    const r = e.getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom];
  };
  const data = document.querySelector('.col.data');
  return {
    play: box('[data-testid=play]'), graph: box('.graph-body'), boundary: box('#boundary'),
    topbar: box('.topbar'), data: box('.col.data'),
    dataShown: getComputedStyle(data).visibility === 'visible'
      && getComputedStyle(data).display !== 'none',
    scrollWidth: document.documentElement.scrollWidth, innerWidth, innerHeight, scrollY,
  };
}"""

# Every pair of controls (of one group) whose boxes cross: [a, b] as short descriptions.
OVERLAPS = """(selectors) => {
  const name = (e) => e.id || e.getAttribute('aria-label') || e.className || e.tagName;
  const shown = (e) => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility === 'visible';
  };
  const out = [];
  for (const selector of selectors) {
    const items = [...document.querySelectorAll(selector)].filter(shown);
    for (let a = 0; a < items.length; a++) {
      for (let b = a + 1; b < items.length; b++) {
        if (items[a].contains(items[b]) || items[b].contains(items[a])) continue;
        const p = items[a].getBoundingClientRect();
        const q = items[b].getBoundingClientRect();
        const dx = Math.min(p.right, q.right) - Math.max(p.left, q.left);
        const dy = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
        if (dx > 1 && dy > 1) out.push([name(items[a]), name(items[b])]);
      }
    }
  }
  return out;
}"""

TOP_BAR_CONTROLS = (".topbar h1, .topbar .server-status, .topbar button, .topbar select, "
                    ".topbar input, .topbar .field-label, .topbar #epoch, .topbar .iteration")
GRAPH_HEADERS = ".col-head .act-select, .col-head .col-title, .col-head .col-sub, " \
                ".col-head .icon-btn, .layers-bar"

# Text smaller than 11 px, and text under 4.5:1 against what is behind it, among the visible
# elements of `root` (disabled controls are exempt, as in WCAG).
TEXT_PROBLEMS = """(root) => {
  const rgba = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (e) => {
    // The first opaque background behind e, with the translucent ones above it blended in.
    const layers = [];
    for (let n = e; n; n = n.parentElement) {
      const c = rgba(getComputedStyle(n).backgroundColor);
      const alpha = c.length === 4 ? c[3] : 1;
      if (alpha > 0) layers.push([...c.slice(0, 3), alpha]);
      if (alpha >= 1) break;
    }
    let rgb = [255, 255, 255];
    for (const [r, g, b, a] of layers.reverse()) {
      rgb = [r * a + rgb[0] * (1 - a), g * a + rgb[1] * (1 - a), b * a + rgb[2] * (1 - a)];
    }
    return rgb;
  };
  const faded = (e) => {
    for (let n = e; n; n = n.parentElement) {
      if (n.disabled || n.getAttribute('aria-disabled') === 'true') return true;
      if (Number(getComputedStyle(n).opacity) < 1) return true;
    }
    return false;
  };
  const problems = [];
  const base = document.querySelector(root);
  const candidates = [...base.querySelectorAll('*')].filter((e) =>
    ['SELECT', 'INPUT', 'BUTTON'].includes(e.tagName) ||
    [...e.childNodes].some((t) => t.nodeType === 3 && t.textContent.trim()));
  for (const e of candidates) {
    if (e.closest('svg, canvas, option, optgroup, [hidden], .sr-only')) continue;
    const r = e.getBoundingClientRect();
    const style = getComputedStyle(e);
    if (!r.width || !r.height || style.visibility !== 'visible') continue;
    if (e.tagName === 'INPUT' && ['checkbox', 'radio', 'range', 'file'].includes(e.type)) continue;
    const text = (e.tagName === 'SELECT' ? e.selectedOptions[0]?.textContent
      : e.textContent || e.value || '').trim().slice(0, 40);
    if (!text) continue; // an icon: no text to read
    const size = parseFloat(style.fontSize);
    if (size < 11) problems.push(`${text || e.tagName}: ${size.toFixed(1)} px`);
    if (faded(e)) continue;
    const fg = rgba(style.color);
    const bg = background(e);
    const alpha = fg.length === 4 ? fg[3] : 1;
    const color = fg.slice(0, 3).map((v, i) => v * alpha + bg[i] * (1 - alpha));
    const [hi, lo] = [lum(color), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    if (ratio < 4.5) problems.push(`${text || e.tagName}: contrast ${ratio.toFixed(2)}:1`);
  }
  return problems;
}"""

DRAWER_IS = ("() => getComputedStyle(document.querySelector('.col.data')).visibility "
             "=== '{}'")

# Positions measured at each size, written to test-output/layout-positions.json.
POSITIONS: dict[str, dict] = {}


@pytest.fixture(scope="module", autouse=True)
def write_positions(output_dir):
    yield
    if POSITIONS:
        (output_dir / "layout-positions.json").write_text(json.dumps(POSITIONS, indent=1))


def inside(box, width, height) -> bool:
    left, top, right, bottom = box
    return left >= 0 and top >= 0 and right <= width + 0.5 and bottom <= height + 0.5


def open_at(playground, page, width, height, hash_=""):
    page.set_viewport_size({"width": width, "height": height})
    playground.open(hash_)
    playground.wait_network("s.state.epoch === 0 && !!window.playgroundViews.graph.lastGrids")
    page.wait_for_timeout(300)  # the ResizeObservers' last layout


def record(name, boxes):
    POSITIONS[name] = {key: [round(v) for v in boxes[key]] for key in ("play", "graph", "boundary")}
    POSITIONS[name]["topbar_bottom"] = round(boxes["topbar"][3])


def check_no_overlaps_and_no_sideways_scroll(page, boxes):
    assert boxes["scrollWidth"] <= boxes["innerWidth"], boxes
    assert page.evaluate(OVERLAPS, [TOP_BAR_CONTROLS, GRAPH_HEADERS]) == []


@pytest.mark.parametrize("width,height", [(1366, 768), (1024, 768)])
def test_wide_screens_show_train_graph_and_boundary_at_once(playground, page, output_dir,
                                                            width, height):
    open_at(playground, page, width, height)
    page.screenshot(path=output_dir / f"layout-{width}x{height}.png")
    boxes = page.evaluate(BOXES)
    record(f"{width}x{height}", boxes)
    for what in ("play", "graph", "boundary"):
        assert inside(boxes[what], width, height), (what, boxes)
    check_no_overlaps_and_no_sideways_scroll(page, boxes)
    graph, boundary = boxes["graph"], boxes["boundary"]
    assert graph[2] <= boundary[0], "the graph and the boundary side by side"
    if width >= 1280:  # three columns: the data column on the left
        assert boxes["dataShown"] and boxes["data"][2] <= graph[0]
    else:  # the data column is a drawer, closed
        assert not boxes["dataShown"]
        assert page.get_by_test_id("data-toggle").is_visible()
    assert not page.get_by_test_id("bar-loss").is_visible()  # the output shows it
    # The page itself does not scroll: the columns scroll inside, the top bar stays.
    page.mouse.move(width / 2, height - 20)
    page.mouse.wheel(0, 800)
    page.wait_for_timeout(200)
    assert page.evaluate("() => scrollY") == 0
    assert inside(page.evaluate(BOXES)["play"], width, height)
    assert page.console_errors == []


@pytest.mark.parametrize("width,height", [(768, 1024), (390, 844)])
def test_one_column_keeps_the_training_row_on_screen(playground, page, output_dir, width,
                                                     height):
    # Three hidden layers: five columns of headers to fit side by side.
    open_at(playground, page, width, height,
            "#dataset=circle&hidden=4,3,2&act=tanh,relu,sigmoid,sigmoid")
    page.screenshot(path=output_dir / f"layout-{width}x{height}.png")
    boxes = page.evaluate(BOXES)
    record(f"{width}x{height}", boxes)
    assert inside(boxes["play"], width, height)
    assert boxes["graph"][1] < height, "the graph starts on the first screen"
    assert boxes["boundary"][1] >= boxes["graph"][3], "one column: the plot under the graph"
    assert not boxes["dataShown"]
    check_no_overlaps_and_no_sideways_scroll(page, boxes)
    # The graph scrolls inside its card when it is wider than the screen.
    card = page.evaluate("() => document.querySelector('.col.network')"
                         ".getBoundingClientRect().right")
    assert card <= width
    if width < 500:
        assert page.evaluate("() => { const g = document.querySelector('.graph-body'); "
                             "return g.scrollWidth > g.clientWidth; }")
    # Scrolled down to the plot: the training row (train, steps, epoch) is still on screen.
    page.evaluate("() => window.scrollTo(0, scrollY - 200 "
                  "+ document.getElementById('boundary').getBoundingClientRect().top)")
    page.wait_for_timeout(300)
    scrolled = page.evaluate(BOXES)
    assert scrolled["scrollY"] > 300
    assert inside(scrolled["play"], width, height), scrolled
    assert inside(_ltrb(page.locator("#epoch").bounding_box()), width, height)
    assert scrolled["topbar"][1] < 0, "the fields scroll away; the training row stays"
    # The row shows the training loss too (the output's numbers are off screen).
    bar_loss = page.get_by_test_id("bar-loss")
    assert bar_loss.is_visible()
    assert inside(_ltrb(bar_loss.bounding_box()), width, height)
    assert bar_loss.inner_text() == page.get_by_test_id("train-loss").inner_text() != "—"
    assert scrolled["boundary"][1] >= scrolled["topbar"][3] - 1, "the bar does not cover the plot"
    page.screenshot(path=output_dir / f"layout-{width}x{height}-scrolled.png")
    assert page.console_errors == []


def _ltrb(b):
    return b["x"], b["y"], b["x"] + b["width"], b["y"] + b["height"]


def test_presenter_mode_fits_a_1024x768_projector(playground, page, output_dir):
    open_at(playground, page, 1024, 768, "#presenter=1")
    assert page.evaluate("() => document.documentElement.classList.contains('presenter')")
    page.screenshot(path=output_dir / "presenter-1024x768.png")
    boxes = page.evaluate(BOXES)
    record("presenter 1024x768", boxes)
    for what in ("play", "graph", "boundary"):
        assert inside(boxes[what], 1024, 768), (what, boxes)
    check_no_overlaps_and_no_sideways_scroll(page, boxes)
    assert page.evaluate(TEXT_PROBLEMS, "body") == []
    assert page.console_errors == []


def test_lessons_open_keep_the_graph_and_the_boundary_on_screen(playground, page, output_dir):
    open_at(playground, page, 1024, 768)
    page.get_by_test_id("teach-toggle").click()
    page.wait_for_selector("[data-testid=teach]:not([hidden])")
    page.wait_for_timeout(400)
    page.screenshot(path=output_dir / "lessons-1024x768.png")
    boxes = page.evaluate(BOXES)
    record("lessons 1024x768", boxes)
    teach = page.locator("[data-testid=teach]").bounding_box()
    assert inside(_ltrb(teach), 1024, 768)
    for what in ("play", "graph", "boundary"):
        assert inside(boxes[what], 1024, 768), (what, boxes)
    assert teach["x"] + teach["width"] <= boxes["graph"][0] <= boxes["boundary"][0]
    check_no_overlaps_and_no_sideways_scroll(page, boxes)
    assert page.console_errors == []


def test_the_data_drawer_opens_chooses_and_closes_from_the_keyboard(playground, page,
                                                                    output_dir):
    open_at(playground, page, 1024, 768)
    toggle = page.get_by_test_id("data-toggle")
    toggle.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(DRAWER_IS.format("visible"))
    assert toggle.get_attribute("aria-expanded") == "true"
    # The focus is on the chosen dataset; → chooses the next one.
    assert page.evaluate("() => document.activeElement.dataset.name") == "circle"
    page.wait_for_timeout(250)  # the drawer's slide
    page.screenshot(path=output_dir / "drawer-1024x768.png")
    page.keyboard.press("ArrowRight")
    playground.wait_network("s.state.spec.dataset.name === 'quadrants'")
    page.keyboard.press("Escape")
    page.wait_for_function(DRAWER_IS.format("hidden"))
    assert page.evaluate("() => document.activeElement.id") == "data-toggle"
    assert toggle.get_attribute("aria-expanded") == "false"
    assert page.console_errors == []


def test_the_datasets_are_one_radio_group(playground, page, output_dir):
    playground.open()
    playground.wait_network("s.state.spec.dataset.name === 'circle'")
    stops = page.evaluate("() => [...document.querySelectorAll('#datasets [role=radio]')]"
                          ".filter((b) => b.tabIndex === 0).map((b) => b.dataset.name)")
    assert stops == ["circle"]
    # Tab goes from the chosen dataset out of the group; Shift+Tab comes back to it.
    page.locator(".dataset[data-name=circle]").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("() => !document.activeElement.closest('#datasets')")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("() => document.activeElement.dataset.name") == "circle"
    # The arrows choose: → the next set, ← back; the focus and the tab stop follow.
    first = playground.id
    page.keyboard.press("ArrowRight")
    playground.wait_network("s.state.spec.dataset.name === 'quadrants'")
    assert playground.id != first
    assert page.evaluate("() => document.activeElement.dataset.name") == "quadrants"
    assert page.locator(".dataset[data-name=quadrants]").get_attribute("aria-checked") == "true"
    page.keyboard.press("ArrowLeft")
    playground.wait_network("s.state.spec.dataset.name === 'circle'")
    stops = page.evaluate("() => [...document.querySelectorAll('#datasets [role=radio]')]"
                          ".filter((b) => b.tabIndex === 0).map((b) => b.dataset.name)")
    assert stops == ["circle"]
    assert page.evaluate("() => document.activeElement.dataset.name") == "circle"
    # No dataset's name is cut.
    cut = page.evaluate("() => [...document.querySelectorAll('.dataset span')]"
                        ".filter((s) => s.scrollWidth > s.clientWidth + 1)"
                        ".map((s) => s.textContent)")
    assert cut == []
    assert page.console_errors == []


def test_edit_a_weight_from_the_keyboard(playground, page, output_dir):
    playground.open("#dataset=xor&hidden=3&act=tanh,sigmoid")
    playground.wait_network("JSON.stringify(s.state.sizes) === '[2,3,1]'")
    image_before = playground.boundary_image()
    # Tab from the output's activation menu into the graph: one stop for every weight and bias.
    page.get_by_label("Activation of the output layer").focus()
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.dataset.param !== undefined"):
            break
    focused = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    bias = playground.state["layers"][0]["b"][0]
    assert focused.startswith("Bias b1 1 of neuron 1 of hidden layer 1: ")
    assert float(focused.rsplit(": ", 1)[1]) == pytest.approx(bias, rel=1e-5)
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    assert focused.startswith("Weight w1 1,1 from input x")
    # End: the last weight, w2 1,3 (from neuron 3 of hidden layer 1 into the output).
    page.keyboard.press("End")
    focused = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    old = playground.state["layers"][1]["W"][0][2]
    assert focused.startswith("Weight w2 1,3 from neuron 3 of hidden layer 1 into the output: ")
    assert float(focused.rsplit(": ", 1)[1]) == pytest.approx(old, rel=1e-5)
    assert page.locator(".tooltip:not([hidden])").count() == 1  # the value shown, too
    assert page.evaluate("() => window.playground.state.epoch") == 0  # the arrows did not step
    page.keyboard.press("Enter")
    editor = page.get_by_test_id("param-input")
    assert page.evaluate("() => document.activeElement.dataset.testid") == "param-input"
    page.screenshot(path=output_dir / "keyboard-weight-editor.png")
    editor.fill("-2.5")
    page.keyboard.press("Enter")
    playground.wait_network("s.state.layers[1].W[0][2] === -2.5")
    playground.wait_boundary_changed(image_before)
    server = httpx.get(f"{playground.server.url}/api/networks/{playground.id}").json()
    assert server["layers"][1]["W"][0][2] == -2.5
    # The focus is back on the weight, whose name now says the new value.
    focused = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    assert focused.endswith("into the output: -2.5")
    page.screenshot(path=output_dir / "keyboard-weight-edited.png")
    assert page.console_errors == []


def test_add_a_point_from_the_form(playground, page, output_dir):
    playground.open("#dataset=xor&hidden=2&act=tanh,sigmoid")
    playground.wait_network("s.data.train.x.length === 4")
    page.get_by_role("radio", name="Add points of class 1").click()
    page.get_by_test_id("point-x1").fill("0.5")
    page.get_by_test_id("point-x2").fill("0.25")
    page.keyboard.press("Enter")
    playground.wait_network("s.state.spec.dataset.points && s.data.train.x.length === 5")
    points = playground.state["spec"]["dataset"]["points"]
    assert [0.5, 0.25, 1] in points
    page.get_by_role("button", name="Add point").click()  # the button adds it again
    playground.wait_network("s.data.train.x.length === 6")
    page.screenshot(path=output_dir / "point-form.png")
    assert page.console_errors == []


@pytest.mark.parametrize("width,height", [(1366, 768), (390, 844)])
def test_text_is_large_enough_and_contrasted(playground, page, output_dir, width, height):
    open_at(playground, page, width, height)
    assert page.evaluate(TEXT_PROBLEMS, "body") == []
    if width < 1280:
        page.get_by_test_id("data-toggle").click()
        page.wait_for_timeout(300)
        assert page.evaluate(TEXT_PROBLEMS, ".col.data") == []
    # An inactive input feature's name is readable too (the graph has five of them off).
    assert page.locator(".node.input.off .feature-name").count() > 0
    if width >= 1280:  # the lessons and labs, tab by tab, and a lesson's card
        page.get_by_test_id("teach-toggle").click()
        tabs = page.locator(".teach-tab")
        for i in range(tabs.count()):
            tabs.nth(i).click()
            page.wait_for_timeout(300)
            assert page.evaluate(TEXT_PROBLEMS, "#teach") == [], tabs.nth(i).inner_text()
        tabs.nth(0).click()
        page.get_by_test_id("lesson-worked-example").click()  # its card, the backprop lab
        page.wait_for_selector("[data-testid=lesson-card]:not([hidden])")
        page.wait_for_timeout(500)
        assert page.evaluate(TEXT_PROBLEMS, "body") == []
    assert page.console_errors == []


def test_a_banner_never_covers_the_page(playground, page, output_dir):
    open_at(playground, page, 1024, 768)
    page.get_by_test_id("teach-toggle").click()
    page.wait_for_selector("[data-testid=teach]:not([hidden])")
    page.get_by_test_id("play").click()
    playground.wait("() => window.playground.state.epoch >= 5")
    page.get_by_test_id("play").click()
    page.wait_for_selector(".banner:not([hidden])")
    page.wait_for_timeout(300)
    page.screenshot(path=output_dir / "banner-1024x768.png")
    covered = page.evaluate("""() => {
      const b = document.querySelector('.banner').getBoundingClientRect();
      return [...document.querySelectorAll('.topbar, main > .col')].filter((c) => {
        const r = c.getBoundingClientRect();
        if (!r.width || getComputedStyle(c).display === 'none') return false;
        return Math.min(r.bottom, b.bottom) - Math.max(r.top, b.top) > 0
          && Math.min(r.right, b.right) - Math.max(r.left, b.left) > 0;
      }).map((c) => c.className);
    }""")
    assert covered == []
    # The columns moved down for it: the boundary is still on the screen.
    assert inside(page.evaluate(BOXES)["boundary"], 1024, 768)
    assert page.console_errors == []


def test_on_a_phone_a_message_is_seen_where_you_are(playground, page, output_dir):
    """One column, scrolled down to the plot: a message from something done there (the last
    input feature turned off) shows under the training row, not at the page's top unseen."""
    open_at(playground, page, 390, 844)
    page.locator(".node.input[data-feature=x2]").click()
    playground.wait_network("s.state.spec.features.length === 1")
    page.evaluate("() => window.scrollTo(0, scrollY - 200 "
                  "+ document.getElementById('boundary').getBoundingClientRect().top)")
    page.wait_for_timeout(300)
    assert page.evaluate("() => scrollY") > 300
    page.evaluate("() => document.querySelector('.node.input[data-feature=x1]').click()")
    banner = page.locator(".banner")
    banner.wait_for(state="visible")
    assert "At least one input feature" in banner.inner_text()
    page.wait_for_timeout(300)
    boxes = page.evaluate("""() => {
      const r = (e) => { const b = e.getBoundingClientRect(); return [b.top, b.bottom]; };
      return { banner: r(document.querySelector('.banner')),
               runbar: r(document.querySelector('.runbar')) };
    }""")
    assert boxes["banner"][0] >= 0 and boxes["banner"][1] <= 844, boxes
    assert boxes["banner"][0] >= boxes["runbar"][1], "under the training row, not over it"
    page.screenshot(path=output_dir / "banner-390x844-scrolled.png")
    assert page.console_errors == []
