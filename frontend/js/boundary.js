// The big output canvas: the network's output over the input plane (the decision boundary),
// axes, the data points on top (train, and test when asked), a neuron's map while one is
// hovered in the graph, and clicks that add (or, with the right button, remove) points.
import { classColor, css, outputMapper } from "./colors.js";
import { drawHeatmap, drawClasses } from "./heatmap.js";
import { fmt } from "./graph.js";
import { look } from "./presenter.js";
import { fitCanvas } from "./dom.js";

const WASH = 0.32; // the background paler than the points, so points of either class stand out
const MARGIN = { left: 46, right: 10, top: 10, bottom: 38 };

export class BoundaryView {
  /** handlers: onAdd(x1, x2), onRemove(index in `points`, point), onHover(text | null). */
  constructor(canvas, handlers = {}) {
    this.canvas = canvas;
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

  toPlane(e) {
    const r = this.canvas.getBoundingClientRect();
    const p = this.plot;
    const u = ((e.clientX - r.left) / look.text - p.x) / p.w;
    const v = ((e.clientY - r.top) / look.text - p.y) / p.h;
    if (u < 0 || u > 1 || v < 0 || v > 1) return null;
    const [a, b] = this.domain.x1;
    const [c, d] = this.domain.x2;
    return { x1: a + u * (b - a), x2: d - v * (d - c), u, v };
  }

  toScreen(x1, x2) {
    const p = this.plot;
    const [a, b] = this.domain.x1;
    const [c, d] = this.domain.x2;
    return [p.x + ((x1 - a) / (b - a)) * p.w, p.y + ((d - x2) / (d - c)) * p.h];
  }

  // -- inputs -----------------------------------------------------------------------------

  setState(state) {
    this.state = state;
    if (state?.domain) this.setDomain(state.domain);
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
    this.draw();
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
    this.drawAxes(p);
    this.drawPoints(p);
  }

  drawAxes(p) {
    const { ctx } = this;
    ctx.strokeStyle = "rgba(0,0,0,0.35)";
    ctx.lineWidth = 1;
    ctx.strokeRect(p.x + 0.5, p.y + 0.5, p.w - 1, p.h - 1);
    ctx.fillStyle = "#55575c";
    ctx.font = "11px system-ui, sans-serif";
    const tick = (lo, hi) => niceTicks(lo, hi, 5);
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const t of tick(...this.domain.x1)) {
      const [x] = this.toScreen(t, 0);
      ctx.fillRect(x - 0.5, p.y + p.h, 1, 4);
      ctx.fillText(label(t), x, p.y + p.h + 6);
    }
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const t of tick(...this.domain.x2)) {
      const [, y] = this.toScreen(0, t);
      ctx.fillRect(p.x - 4, y - 0.5, 4, 1);
      ctx.fillText(label(t), p.x - 6, y);
    }
    ctx.font = "italic 13px system-ui, sans-serif";
    ctx.fillStyle = "#3a3d44";
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.fillText("x₁", p.x + p.w / 2, p.y + p.h + MARGIN.bottom - 1);
    ctx.save();
    ctx.translate(12, p.y + p.h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText("x₂", 0, 0);
    ctx.restore();
  }

  pointColor(label) {
    const d = this.data;
    if (d?.task === "regression") return css(Math.max(-1, Math.min(1, label)));
    if ((d?.classes ?? 2) > 2) return classColor(label);
    return label >= 0.5 ? classColor(1) : classColor(0);
  }

  drawPoints(p) {
    const d = this.data;
    if (!d) return;
    const { ctx } = this;
    const n = (d.train?.x.length || 0) + (this.showTest ? d.test?.x.length || 0 : 0);
    const r = n <= 12 ? 8 : n <= 60 ? 5.5 : n <= 400 ? 4 : n <= 1500 ? 3 : 2.2;
    ctx.save();
    ctx.beginPath();
    ctx.rect(p.x, p.y, p.w, p.h);
    ctx.clip();
    const sets = [["train", d.task === "regression" ? "rgba(0,0,0,0.35)" : "#ffffff", 1.2]];
    if (this.showTest) sets.push(["test", "#1d1d1f", 1.4]);
    for (const [name, stroke, width] of sets) {
      const set = d[name];
      if (!set) continue;
      ctx.lineWidth = width;
      ctx.strokeStyle = stroke;
      set.x.forEach((pt, i) => {
        const [x, y] = this.toScreen(pt[0], pt[1]);
        ctx.beginPath();
        ctx.arc(x, y, r, 0, 2 * Math.PI);
        ctx.fillStyle = this.pointColor(set.y[i]);
        ctx.fill();
        ctx.stroke();
      });
    }
    ctx.restore();
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

function label(t) {
  return Math.abs(t) < 1e-9 ? "0" : Number(t.toPrecision(3)).toString();
}

export function niceTicks(lo, hi, count) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count) || 10 * mag;
  const out = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + 1e-9; t += step) out.push(t);
  return out;
}
