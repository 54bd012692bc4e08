// The big output canvas: the network's output over the input plane (the decision boundary),
// axes, the data points on top (train, and test when asked), a neuron's map while one is
// hovered in the graph, clicks that add (or, with the right button, remove) points, and the
// key of its colours (the data's classes, or a scale of values).
import { classColor, classCount, gradientCss, outputMapper, pointColors } from "./colors.js";
import { drawHeatmap, drawClasses } from "./heatmap.js";
import { fmt } from "./graph.js";
import { look } from "./presenter.js";
import { fitCanvas } from "./dom.js";
import { drawPlaneAxes, drawScatter, planeScales, pointRadius, renderKey, tickLabel } from "./plot.js";

const WASH = 0.32; // the background paler than the points, so points of either class stand out
const MARGIN = { left: 46, right: 10, top: 10, bottom: 38 };

export class BoundaryView {
  /** handlers: onAdd(x1, x2), onRemove(index in `points`, point), onHover(text | null);
   * key: the element that shows what the colours mean. */
  constructor(canvas, handlers = {}, { key = null } = {}) {
    this.canvas = canvas;
    this.key = key;
    this.handlers = handlers;
    this.ctx = canvas.getContext("2d");
    this.background = document.createElement("canvas"); // the heatmap, kept between redraws
    this.state = null;
    this.grid = null; // decoded output grid
    this.override = null; // {values, rows, cols, mapper, label}
    this.data = null;
    this.domain = { x1: [-6, 6], x2: [-6, 6] };
    this.showTest = false;
    this.discretise = false;
    this.editable = true;
    this.dirty = true;

    new ResizeObserver(() => this.resize()).observe(canvas);
    canvas.addEventListener("click", (e) => this.click(e));
    canvas.addEventListener("contextmenu", (e) => this.rightClick(e));
    canvas.addEventListener("mousemove", (e) => this.hover(e));
    canvas.addEventListener("mouseleave", () => this.handlers.onHover?.(null));
  }

  resize() {
    if (fitCanvas(this.canvas)) {
      this.dirty = true;
      this.draw();
    }
  }

  get plot() {
    const dpr = (window.devicePixelRatio || 1) * look.text; // presenter mode: all drawn larger
    const W = this.canvas.width / dpr;
    const H = this.canvas.height / dpr;
    const size = Math.min(W - MARGIN.left - MARGIN.right, H - MARGIN.top - MARGIN.bottom);
    return { x: MARGIN.left, y: MARGIN.top, w: size, h: size, dpr };
  }

  /** The point of the plane under a mouse event (u, v: its place in the square, 0 to 1). */
  toPlane(e) {
    const r = this.canvas.getBoundingClientRect();
    const p = this.plot;
    const px = (e.clientX - r.left) / look.text;
    const py = (e.clientY - r.top) / look.text;
    const u = (px - p.x) / p.w;
    const v = (py - p.y) / p.h;
    if (u < 0 || u > 1 || v < 0 || v > 1) return null;
    const plane = planeScales(this.domain, p);
    return { x1: plane.x.invert(px), x2: plane.y.invert(py), u, v };
  }

  toScreen(x1, x2) {
    const plane = planeScales(this.domain, this.plot);
    return [plane.x.map(x1), plane.y.map(x2)];
  }

  // -- inputs -----------------------------------------------------------------------------

  setState(state) {
    const targets = JSON.stringify(this.state?.targets);
    this.state = state;
    if (state?.domain) this.setDomain(state.domain);
    if (JSON.stringify(state?.targets) !== targets) this.showKey();
  }

  setDomain(domain) {
    if (JSON.stringify(domain) !== JSON.stringify(this.domain)) {
      this.domain = domain;
      this.dirty = true;
    }
  }

  /** The decoded output grid {p, rows, cols, values}. */
  setGrid(grid) {
    this.grid = grid;
    this.dirty = true;
    this.draw();
  }

  setData(data) {
    this.data = data;
    if (data?.domain) this.setDomain(data.domain);
    this.showKey();
    this.draw();
  }

  showKey() {
    if (this.key) renderKey(this.key, outputKey(this.data, this.state));
  }

  setOptions({ showTest, discretise }) {
    if (showTest !== undefined) this.showTest = showTest;
    if (discretise !== undefined && discretise !== this.discretise) {
      this.discretise = discretise;
      this.dirty = true;
    }
    this.draw();
  }

  /** Show one neuron's map large (hovered in the graph), or null to go back to the output. */
  setOverride(override) {
    this.override = override;
    this.dirty = true;
    this.draw();
  }

  // -- drawing ----------------------------------------------------------------------------

  paintBackground() {
    const p = this.plot;
    const bg = this.background;
    const w = Math.round(p.w * p.dpr);
    if (bg.width !== w || bg.height !== w) { bg.width = w; bg.height = w; }
    const ctx = bg.getContext("2d");
    ctx.clearRect(0, 0, w, w);
    const o = this.override;
    if (o) {
      drawHeatmap(bg, o.values, o.rows, o.cols, { mapper: o.mapper, discretise: this.discretise, wash: WASH });
    } else if (this.grid) {
      const st = this.state;
      if (this.grid.p > 1) {
        drawClasses(bg, this.grid, { low: st?.targets?.low ?? 0, high: st?.targets?.high ?? 1,
          discretise: this.discretise, wash: WASH });
      } else {
        drawHeatmap(bg, this.grid.channel(0), this.grid.rows, this.grid.cols,
          { mapper: outputMapper(st), discretise: this.discretise, wash: WASH });
      }
    } else {
      ctx.fillStyle = "#f3f4f5";
      ctx.fillRect(0, 0, w, w);
    }
    this.dirty = false;
  }

  draw() {
    const { ctx } = this;
    if (!this.canvas.width) return;
    const p = this.plot;
    if (this.dirty) this.paintBackground();
    ctx.setTransform(p.dpr, 0, 0, p.dpr, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(this.background, p.x, p.y, p.w, p.h);
    if (this.override) {
      ctx.fillStyle = "rgba(255,255,255,0.85)";
      ctx.font = "600 12px system-ui, sans-serif";
      ctx.textAlign = "left";
      ctx.textBaseline = "alphabetic";
      const text = this.override.label;
      const tw = ctx.measureText(text).width;
      ctx.fillRect(p.x + 6, p.y + 6, tw + 12, 20);
      ctx.fillStyle = "#1d1d1f";
      ctx.fillText(text, p.x + 12, p.y + 20);
    }
    drawPlaneAxes(this.ctx, p, planeScales(this.domain, p), { titleAt: { below: MARGIN.bottom - 1, left: MARGIN.left - 12 } });
    this.drawPoints(p);
  }

  drawPoints(p) {
    const d = this.data;
    if (!d) return;
    const sets = [["train", d.task === "regression" ? "rgba(0,0,0,0.35)" : "#ffffff", 1.2]];
    if (this.showTest) sets.push(["test", "#1d1d1f", 1.4]);
    const radius = pointRadius(sets.reduce((n, [name]) => n + (d[name]?.x.length || 0), 0));
    const plane = planeScales(this.domain, p);
    for (const [name, stroke, lineWidth] of sets) {
      const set = d[name];
      if (!set) continue;
      drawScatter(this.ctx, set.x, { at: ([x1, x2]) => [plane.x.map(x1), plane.y.map(x2)], color: pointColors(d, set.y),
        radius, stroke, lineWidth, clip: p });
    }
  }

  // -- mouse ------------------------------------------------------------------------------

  click(e) {
    if (!this.editable) return;
    const q = this.toPlane(e);
    if (q) this.handlers.onAdd?.(q.x1, q.x2, e);
  }

  rightClick(e) {
    if (!this.editable) return;
    e.preventDefault();
    const q = this.toPlane(e);
    if (!q || !this.data) return;
    // The nearest shown point within 12 px.
    let best = null;
    let bestD = 12;
    const sets = this.showTest ? ["train", "test"] : ["train"];
    for (const name of sets) {
      this.data[name]?.x.forEach((pt, i) => {
        const [x, y] = this.toScreen(pt[0], pt[1]);
        const r = this.canvas.getBoundingClientRect();
        const dd = Math.hypot(x - (e.clientX - r.left) / look.text, y - (e.clientY - r.top) / look.text);
        if (dd < bestD) { bestD = dd; best = { set: name, index: i, point: pt }; }
      });
    }
    if (best) this.handlers.onRemove?.(best);
  }

  hover(e) {
    const q = this.toPlane(e);
    if (!q) { this.handlers.onHover?.(null); return; }
    let value = null;
    const g = this.override ? { values: this.override.values, rows: this.override.rows,
      cols: this.override.cols, p: 1 } : this.grid;
    if (g) {
      const r = Math.min(g.rows - 1, Math.round(q.v * (g.rows - 1)));
      const c = Math.min(g.cols - 1, Math.round(q.u * (g.cols - 1)));
      const n = g.rows * g.cols;
      value = [];
      for (let k = 0; k < (g.p || 1); k++) value.push(g.values[k * n + r * g.cols + c]);
    }
    const what = this.override ? this.override.label : "output";
    const v = value ? value.map((x) => fmt(x)).join(", ") : "—";
    this.handlers.onHover?.(`x₁ ${q.x1.toFixed(2)}, x₂ ${q.x2.toFixed(2)} → ${what} ${v}`);
  }
}

/** What the boundary's colours mean for `data`: a scale of values (regression), the two
 * classes with the output scale between them, or one colour for each of three or more classes. */
export function outputKey(data, state) {
  if (!data) return {};
  if (data.task === "regression") {
    return { scale: { gradient: gradientCss(), labels: ["≤ −1", "0", "≥ +1"], caption: "Value" } };
  }
  const classes = classCount(data);
  const items = Array.from({ length: classes }, (_, k) => ({ label: `class ${k}`, color: classColor(k), shape: "dot" }));
  if (classes > 2) return { items, note: "Background: the class the network picks, paler where it is less sure." };
  const threshold = state?.targets?.threshold ?? 0.5;
  const high = state?.targets?.high ?? 1;
  const low = state?.targets?.low ?? 0;
  // Each class by the output value it really has: a hard limit gives exactly its low or high
  // value; a smooth output is read against the threshold.
  const hard = ["hardlim", "hardlims"].includes(state?.spec?.activations?.at(-1));
  const values = hard ? [`= ${tickLabel(low)}`, `= ${low < 0 ? "+" : ""}${tickLabel(high)}`]
    : [`< ${tickLabel(threshold)}`, `≥ ${tickLabel(threshold)}`];
  items.forEach((item, k) => { item.label = `class ${k}: output ${values[k]}`; });
  return { items, scale: { gradient: gradientCss(), caption: "Output",
    labels: [tickLabel(2 * threshold - high), tickLabel(threshold), tickLabel(high)] } };
}
