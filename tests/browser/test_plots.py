"""The page's charts and plots: the pace a fresh page trains at, the loss chart's axes at any
epoch count, the keys of the boundary, and the one plotting module every chart draws with."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.server]

JS = Path(__file__).resolve().parents[2] / "frontend" / "js"


def label_value(label: str) -> float:
    """A tick label read back as a number: 250k, 1.5M, −0.5, 1e−4."""
    text = label.replace("−", "-")
    factor = {"k": 1e3, "M": 1e6}.get(text[-1], 1)
    return float(text[:-1] if factor != 1 else text) * factor


# A synthetic history of `n` epochs, thinned like the server's (at most 1,000 points): a loss
# that falls fast in the first epochs, then slowly. `shape` "spike" adds a blow-up to 20x the
# starting loss; "flat" keeps the loss at the top of its range.
HISTORY = """([n, shape]) => {
  const stride = Math.max(1, 2 ** Math.ceil(Math.log2(n / 1000)));
  const h = {epoch: [], iteration: [], train_loss: [], test_loss: [], train_accuracy: [],
             test_accuracy: []};
  const epochs = [];
  for (let e = 0; e < n; e += stride) epochs.push(e);
  epochs.push(n);  // the run's last epoch
  for (const e of epochs) {
    // (+ log10(n) / 1000: each n its own run, another loss at epoch 0)
    let loss = 0.25 * Math.exp(-e / 40) + 0.02 + 0.01 * Math.exp(-e / (n / 5))
      + 1e-3 * Math.log10(n);
    if (shape === "flat") loss = 0.25 - 0.0001 * Math.sin(e);
    if (shape === "spike" && e >= n / 2 && e < n / 2 + 4 * stride) loss = 5.4;
    h.epoch.push(e); h.iteration.push(e * 10);
    h.train_loss.push(loss); h.test_loss.push(loss * 1.1);
    h.train_accuracy.push(null); h.test_accuracy.push(null);
  }
  const chart = window.playgroundViews.chart;
  chart.setHistory(h);
  const L = chart.layout;
  const pick = (t) => ({value: t.value, label: t.label, at: t.at});
  return {area: L.area, clip: L.clip, key: L.key, xkind: L.x.kind, ykind: L.y.kind,
          ydomain: L.y.domain, xdomain: L.x.domain, x: L.ticks.x.map(pick), y: L.ticks.y.map(pick),
          max: Math.max(...h.train_loss, ...h.test_loss), last: h.epoch[h.epoch.length - 1]};
}"""

# Pixels of the chart's canvas that anything but the key and the caption painted in the band
# above the plot area (where they are), right of the y axis's labels.
STRAY_PIXELS = """() => {
  const chart = window.playgroundViews.chart;
  const {area, key, caption, width} = chart.layout;
  const inside = (box, x, y) => box && x >= box.x - 1 && x <= box.x + box.w + 1
    && y >= box.y - 1 && y <= box.y + box.h + 1;
  const canvas = chart.canvas;
  const k = canvas.width / width; // canvas pixels per unit drawn
  const rows = Math.floor((area.y - 1.5) * k);
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, rows).data;
  let stray = 0;
  for (let py = 0; py < rows; py++) {
    for (let px = Math.ceil(area.x * k); px < canvas.width; px++) {
      const x = px / k, y = py / k;
      if (inside(key, x, y) || inside(caption, x, y)) continue;
      if (data[(py * canvas.width + px) * 4 + 3] > 0) stray++;
    }
  }
  return [stray, chart.h.epoch[chart.h.epoch.length - 1]];
}"""


def open_settled(playground, page):
    """A page whose stream is live and whose chart holds the network's history, so that the
    history a test draws is not replaced by the page's own meanwhile."""
    playground.open("#dataset=circle")
    playground.wait_network("s.state.epoch === 0")
    playground.wait("() => document.getElementById('server-status').dataset.status === 'live' "
                    "&& window.playgroundViews.chart.h.epoch.length === 1")
    page.wait_for_timeout(300)


def check_linear_ticks(ticks, lo_px, hi_px, integer=False):
    values = [t["value"] for t in ticks]
    assert len(values) >= 2, ticks
    for t in ticks:
        assert label_value(t["label"]) == pytest.approx(t["value"], rel=1e-12, abs=1e-15), t
        assert lo_px - 0.5 <= t["at"] <= hi_px + 0.5, (t, lo_px, hi_px)
        if integer:
            assert float(t["value"]).is_integer(), t
    steps = {round(b - a, 12) for a, b in zip(values, values[1:], strict=False)}
    assert len(steps) == 1, values  # evenly stepped
    step = steps.pop()
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert round(mantissa, 9) in (1, 2, 2.5, 5), step  # a 1-2-5 step
    gaps = [b["at"] - a["at"] for a, b in zip(ticks, ticks[1:], strict=False)]
    assert max(gaps) - min(gaps) < 0.01, gaps


def test_a_fresh_page_trains_at_a_pace_to_watch(playground, page, output_dir):
    playground.open()
    speeds = page.eval_on_selector_all("#speed option",
                                       "os => os.map(o => [o.value, o.textContent])")
    assert speeds[-1] == ["0", "Full"]  # the fastest last
    rates = [float(v) for v, _ in speeds[:-1]]
    assert rates == sorted(rates) and len(rates) >= 4
    assert page.input_value("#speed") == "60"
    playground.wait("() => document.getElementById('server-status').dataset.status === 'live'")
    page.click("[data-testid=play]")
    playground.wait("() => window.playground.state.epoch >= 1", timeout=10_000)
    epochs, ms = playground.js("""async () => {
      const s = window.playground;
      const [e0, t0] = [s.state.epoch, performance.now()];
      await new Promise((done) => setTimeout(done, 2000));
      return [s.state.epoch - e0, performance.now() - t0];
    }""")
    page.click("[data-testid=play]")
    playground.wait_network("s.state.status === 'idle'")
    assert 20 <= epochs / ms * 1000 <= 90, (epochs, ms)  # about an epoch a frame (60 a second)
    epoch = playground.state["epoch"]
    assert 20 <= epoch <= 300, epoch  # tens to low hundreds after 2 s, not thousands
    # Full is a click away, and a run at Full goes far faster.
    page.select_option("#speed", "0")
    playground.wait("() => window.playground.config.speed === 0")
    page.click("[data-testid=play]")
    playground.wait(f"() => window.playground.state.epoch >= {epoch + 2000}", timeout=20_000)
    page.click("[data-testid=play]")
    playground.wait_network("s.state.status === 'idle'")
    assert page.console_errors == []


def test_the_loss_chart_axes_at_any_epoch_count(playground, page, output_dir):
    open_settled(playground, page)
    for n in (10, 1000, 1_000_000):
        layout = playground.js(HISTORY, [n, "fall"])
        area = layout["area"]
        left, right = area["x"], area["x"] + area["w"]
        top, bottom = area["y"], area["y"] + area["h"]
        # y: linear from 0 to a tick at the top of the axes, above every loss.
        check_linear_ticks(layout["y"], top, bottom)
        assert layout["y"][0]["value"] == 0
        assert layout["y"][-1]["at"] == pytest.approx(top, abs=0.01)
        assert layout["y"][-1]["value"] >= layout["max"]
        if n <= 1000:
            assert layout["xkind"] == "linear"
            check_linear_ticks(layout["x"], left, right, integer=True)
            assert layout["x"][-1]["value"] == n  # 10 and 1,000 are ticks of their axes
        else:
            # Past 1,000 epochs, a log axis of 1 + epoch: 0, then powers of ten, up to 1M.
            assert layout["xkind"] == "log1p"
            values = [t["value"] for t in layout["x"]]
            assert values[0] == 0 and values[-1] == 1_000_000
            assert all(b / a in (10, 100) for a, b in zip(values[1:], values[2:], strict=False))
            assert len({b / a for a, b in zip(values[1:], values[2:], strict=False)}) == 1
            for t in layout["x"]:
                assert label_value(t["label"]) == t["value"]
                expected = left + math.log10(1 + t["value"]) / math.log10(1 + n) * (right - left)
                assert t["at"] == pytest.approx(expected, abs=0.01)
            assert [t["label"] for t in layout["x"]][-1] == "1M"
            page.locator(".chart-wrap").screenshot(path=output_dir / "loss-chart-1e6-epochs.png")
        assert playground.js(STRAY_PIXELS) == [0, n]
    # Ticks of 0 to 1,000,000 on a linear axis: quarters with exact labels.
    labels = playground.js("""async () => {
      const plot = await import('./js/plot.js');
      return plot.niceTicks(0, 1e6, 4).map(plot.tickLabel);
    }""")
    assert labels == ["0", "250k", "500k", "750k", "1M"]


def test_the_loss_curve_stays_inside_its_axes(playground, page, output_dir):
    open_settled(playground, page)
    # A loss at the top of its range, and a blow-up far above the axis (capped at 3x the start).
    for shape in ("flat", "spike"):
        layout = playground.js(HISTORY, [800, shape])
        # The key above the area.
        assert layout["key"]["y"] + layout["key"]["h"] <= layout["area"]["y"]
        assert layout["clip"]["y"] >= layout["area"]["y"] - 1
        if shape == "flat":
            assert layout["y"][-1]["value"] >= layout["max"]
        else:
            assert layout["ydomain"][1] < layout["max"]  # the spike runs off the top: clipped
        assert playground.js(STRAY_PIXELS) == [0, 800]
        page.locator(".chart-wrap").screenshot(path=output_dir / f"loss-chart-{shape}.png")
    # On a log scale: decades, evenly spaced, their labels their values.
    page.check("#log-scale")
    playground.wait("() => window.playgroundViews.chart.logScale")
    layout = playground.js(HISTORY, [1000, "fall"])
    assert layout["ykind"] == "log"
    values = [t["value"] for t in layout["y"]]
    assert len(values) >= 2
    for t in layout["y"]:
        assert label_value(t["label"]) == pytest.approx(t["value"], rel=1e-12)
        assert math.log10(t["value"]) == pytest.approx(round(math.log10(t["value"])), abs=1e-12)
        area = layout["area"]
        assert area["y"] - 0.5 <= t["at"] <= area["y"] + area["h"] + 0.5
    gaps = [b["at"] - a["at"] for a, b in zip(layout["y"], layout["y"][1:], strict=False)]
    assert max(gaps) - min(gaps) < 0.01
    lo, hi = layout["ydomain"]
    assert lo <= 0.02 and hi >= layout["max"]
    assert playground.js(STRAY_PIXELS) == [0, 1000]
    page.locator(".chart-wrap").screenshot(path=output_dir / "loss-chart-log.png")
    # Hovering reads the nearest epoch's values out.
    area = layout["area"]
    page.hover("[data-testid=chart]", position={"x": area["x"] + area["w"] / 2,
                                                "y": area["y"] + area["h"] / 2})
    assert re.match(r"epoch 5\d\d · train 0\.0\d+ · test 0\.0\d+$",
                    page.inner_text("#chart-readout")), page.inner_text("#chart-readout")
    assert page.console_errors == []


def key_text(page) -> list[str]:
    return page.eval_on_selector_all("#output-key .key-item, #output-key .key-bar-labels span, "
                                     "#output-key .key-caption", "es => es.map(e => e.textContent)")


def three_clusters() -> str:
    points = []
    for k, (cx, cy) in enumerate([(-3, -3), (3, -3), (0, 3)]):
        for i in range(10):
            angle = 2 * math.pi * i / 10
            points.append(f"{cx + math.cos(angle):.3f}_{cy + math.sin(angle):.3f}_{k}")
    return "~".join(points)


def test_the_keys_say_what_the_colours_mean(playground, page, output_dir):
    # Two classes: both, and the output scale between them (sigmoid: 0 to 1, 0.5 the threshold).
    playground.open("#dataset=circle")
    playground.wait_network("s.state.epoch === 0")
    assert key_text(page) == ["class 0: output < 0.5", "class 1: output ≥ 0.5",
                              "Output", "0", "0.5", "1"]
    # A hard limit: each class is the output's exact value (hardlims: −1 and +1).
    playground.open("#dataset=and&hidden=&act=hardlim&rule=perceptron")
    playground.wait_network("s.state.spec.rule === 'perceptron'")
    assert key_text(page)[:2] == ["class 0: output = 0", "class 1: output = 1"]
    playground.open("#dataset=and&hidden=&act=hardlims&rule=perceptron")
    playground.wait_network("s.state.spec.activations[0] === 'hardlims'")
    assert key_text(page)[:2] == ["class 0: output = −1", "class 1: output = +1"]
    # Three classes: one colour each, no scale of −1 to +1.
    playground.open(f"#dataset=custom&points={three_clusters()}&ratio=1&hidden=4&act=tanh,sigmoid")
    playground.wait_network("s.state.spec.dataset.points && s.state.outputs === 3", timeout=30_000)
    assert key_text(page) == ["class 0", "class 1", "class 2"]
    colours = page.eval_on_selector_all("#output-key .key-dot",
                                        "es => es.map(e => e.style.background)")
    assert len(set(colours)) == 3
    page.locator(".col.output").screenshot(path=output_dir / "boundary-3-classes.png")
    # A regression: a scale of values, no classes.
    playground.open("#dataset=plane&hidden=4&act=tanh,linear")
    playground.wait_network("s.state.task === 'regression' && s.data.task === 'regression'",
                            timeout=30_000)
    assert key_text(page) == ["Value", "≤ −1", "0", "≥ +1"]
    page.locator(".col.output").screenshot(path=output_dir / "boundary-regression.png")
    assert page.console_errors == []


TICK_DEFINITION = re.compile(
    r"\bfunction\s+\w*(?:tick|Tick|decade|Decade)\w*\s*\("
    r"|\b(?:const|let|var)\s+\w*(?:tick|Tick|decade|Decade)\w*\s*=\s*(?:function\b|\([^)]*\)\s*=>|\w+\s*=>)")


OLD_TICK_IMPORT = re.compile(
    r'import \{[^}]*\b(niceTicks|logTicks|decades)\b[^}]*\} from "\./(?!plot\.js)')


def test_every_chart_and_plot_draws_with_the_plot_module():
    sources = {p.name: p.read_text() for p in JS.glob("*.js")}
    assert len(sources) >= 20 and "plot.js" in sources
    # The pattern finds tick functions: the plot module's own.
    defined = {name for name, text in sources.items() if TICK_DEFINITION.search(text)}
    assert "plot.js" in defined
    assert defined == {"plot.js"}, f"tick functions outside plot.js: {sorted(defined)}"
    for name in ("chart.js", "compare.js", "boundary.js", "perceptron.js"):
        assert re.search(r'^import \{[^}]+\} from "\./plot\.js";$', sources[name], re.M), name
    for name in ("chart.js", "compare.js"):
        assert "drawLineChart(" in sources[name], name
    for name in ("boundary.js", "perceptron.js", "compare.js"):
        assert "drawScatter(" in sources[name], name
    for name in ("boundary.js", "perceptron.js"):
        assert "drawPlaneAxes(" in sources[name], name
    # Nothing else imports ticks from elsewhere (the old copies lived in boundary.js).
    for name, text in sources.items():
        if name != "plot.js":
            assert not OLD_TICK_IMPORT.search(text), name


def test_a_watched_run_keeps_its_first_epochs(playground, page):
    """The server thins a long run's history evenly; the chart keeps the first epochs it saw
    live, for the log axis, unless the history is another network's."""
    open_settled(playground, page)
    kept = playground.js("""() => {
      const chart = window.playgroundViews.chart;
      const columns = (epochs, start) => ({epoch: epochs, iteration: epochs,
        train_loss: epochs.map((e) => start / (1 + e)), test_loss: epochs.map(() => null),
        train_accuracy: epochs.map(() => null), test_accuracy: epochs.map(() => null)});
      const coarse = [];
      for (let e = 0; e <= 1e6; e += 1024) coarse.push(e);
      chart.setHistory(columns([...Array(200).keys()], 0.3));
      chart.setHistory(columns(coarse, 0.3));
      const same = chart.h.epoch.slice(0, 5);
      const sorted = chart.h.epoch.every((e, i, a) => !i || a[i - 1] < e);
      chart.setHistory(columns([...Array(200).keys()], 0.3));
      chart.setHistory(columns(coarse, 0.4));  // another network: its history only
      return [same, sorted, chart.h.epoch.slice(0, 3), chart.h.epoch.length];
    }""")
    assert kept == [[0, 1, 2, 3, 4], True, [0, 1024, 2048], 977]
    assert page.console_errors == []
