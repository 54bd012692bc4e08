// The loss chart: train and test loss per epoch, a hover readout with the exact values and
// accuracy, and a log-scale toggle.
import { niceTicks } from "./boundary.js";
import { look } from "./presenter.js";
import { fitCanvas } from "./dom.js";

const COLUMNS = ["epoch", "iteration", "train_loss", "test_loss", "train_accuracy", "test_accuracy"];
const TRAIN = "#2b2d42";
const TEST = "#8d8f99";

export class LossChart {
  /** onHover(text | null): the readout under the chart. */
  constructor(canvas, { onHover } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.onHover = onHover;
    this.logScale = false;
    this.hoverIndex = null;
    this.clear();
    new ResizeObserver(() => this.resize()).observe(canvas);
    canvas.addEventListener("mousemove", (e) => this.hover(e));
    canvas.addEventListener("mouseleave", () => { this.hoverIndex = null; this.onHover?.(null); this.draw(); });
  }

  clear() {
    this.h = Object.fromEntries(COLUMNS.map((c) => [c, []]));
    this.draw();
  }

  /** Replace everything with a GET /history answer. */
  setHistory(history) {
    this.h = Object.fromEntries(COLUMNS.map((c) => [c, [...(history?.[c] || [])]]));
    this.draw();
  }

  /** Append columns received since the last frame (a progress event's `history`). False
   * when points are missing in between (frames skipped by a slow page): refetch it all. */
  append(columns) {
    if (!columns?.epoch?.length) return true;
    const last = this.h.epoch[this.h.epoch.length - 1];
    if (last != null && columns.epoch[0] > last + (columns.stride || 1)) return false;
    columns.epoch.forEach((epoch, i) => {
      if (last != null && epoch <= last) return;
      for (const c of COLUMNS) this.h[c].push(columns[c]?.[i] ?? null);
    });
    // Keep the curve light: at most ~2000 points, every other one dropped when over.
    if (this.h.epoch.length > 2000) {
      for (const c of COLUMNS) this.h[c] = this.h[c].filter((_, i) => i % 2 === 0 || i === this.h[c].length - 1);
    }
    return true;
  }

  setLogScale(on) {
    this.logScale = on;
    this.draw();
  }

  resize() {
    if (fitCanvas(this.canvas)) this.draw();
  }

  get area() {
    const dpr = (window.devicePixelRatio || 1) * look.text; // presenter mode: all drawn larger
    const W = this.canvas.width / dpr;
    const H = this.canvas.height / dpr;
    return { x: 40, y: 8, w: W - 48, h: H - 26, dpr, W, H };
  }

  scales() {
    const { epoch, train_loss: tr, test_loss: te } = this.h;
    const values = [...tr, ...te].filter((v) => v != null && Number.isFinite(v));
    const x0 = epoch[0] ?? 0;
    const x1 = Math.max(x0 + 1, epoch[epoch.length - 1] ?? 1);
    let y0;
    let y1;
    if (this.logScale) {
      const pos = values.filter((v) => v > 0);
      y0 = pos.length ? Math.min(...pos) : 1e-3;
      y1 = pos.length ? Math.max(...pos) : 1;
      if (y1 / y0 < 10) { y0 = y1 / 10; }
      y0 = 10 ** Math.floor(Math.log10(y0));
      y1 = 10 ** Math.ceil(Math.log10(y1));
    } else {
      y0 = 0;
      y1 = values.length ? Math.max(...values) : 1;
      // A run that blew up would flatten the whole curve: clip at 3x the starting loss (the
      // hover readout and the log scale still show every value).
      const start = Math.max(tr.find((v) => v != null) ?? 0, te.find((v) => v != null) ?? 0);
      if (start > 0 && y1 > 3 * start) y1 = 3 * start;
      if (!(y1 > 0)) y1 = 1;
      y1 *= 1.05;
    }
    const a = this.area;
    const sx = (e) => a.x + ((e - x0) / (x1 - x0)) * a.w;
    const sy = this.logScale
      ? (v) => a.y + a.h - ((Math.log10(Math.max(v, y0)) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0))) * a.h
      : (v) => a.y + a.h - ((v - y0) / (y1 - y0)) * a.h;
    return { x0, x1, y0, y1, sx, sy };
  }

  draw() {
    const { ctx } = this;
    if (!this.canvas.width) return;
    const a = this.area;
    ctx.setTransform(a.dpr, 0, 0, a.dpr, 0, 0);
    ctx.clearRect(0, 0, a.W, a.H);
    const s = this.scales();
    // grid and y labels
    ctx.font = "10.5px system-ui, sans-serif";
    ctx.fillStyle = "#6b6b70";
    ctx.strokeStyle = "#e6e6e9";
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    const yt = this.logScale ? logTicks(s.y0, s.y1) : niceTicks(s.y0, s.y1, 3);
    for (const t of yt) {
      const y = Math.round(s.sy(t)) + 0.5;
      ctx.beginPath(); ctx.moveTo(a.x, y); ctx.lineTo(a.x + a.w, y); ctx.stroke();
      ctx.fillText(short(t), a.x - 5, y);
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const t of niceTicks(s.x0, s.x1, 4).filter((t) => Number.isInteger(t))) {
      ctx.fillText(short(t), s.sx(t), a.y + a.h + 4);
    }
    ctx.strokeStyle = "#c9c9ce";
    ctx.beginPath(); ctx.moveTo(a.x + 0.5, a.y); ctx.lineTo(a.x + 0.5, a.y + a.h + 0.5);
    ctx.lineTo(a.x + a.w, a.y + a.h + 0.5); ctx.stroke();
    if (!this.h.epoch.length) return;
    this.line(s, "test_loss", TEST, [4, 3]);
    this.line(s, "train_loss", TRAIN, []);
    if (this.hoverIndex != null) {
      const i = this.hoverIndex;
      const x = s.sx(this.h.epoch[i]);
      ctx.strokeStyle = "rgba(0,0,0,0.35)";
      ctx.setLineDash([]);
      ctx.beginPath(); ctx.moveTo(x, a.y); ctx.lineTo(x, a.y + a.h); ctx.stroke();
      for (const [c, color] of [["train_loss", TRAIN], ["test_loss", TEST]]) {
        const v = this.h[c][i];
        if (v == null) continue;
        ctx.fillStyle = color;
        ctx.beginPath(); ctx.arc(x, s.sy(v), 3, 0, 2 * Math.PI); ctx.fill();
      }
    }
  }

  line(s, column, color, dash) {
    const { ctx } = this;
    const ys = this.h[column];
    const a = this.area;
    ctx.save();
    ctx.beginPath();
    ctx.rect(a.x, a.y - 2, a.w + 2, a.h + 4);
    ctx.clip();
    ctx.strokeStyle = color;
    ctx.lineWidth = column === "train_loss" ? 2 : 1.6;
    ctx.setLineDash(dash);
    ctx.beginPath();
    let pen = false;
    this.h.epoch.forEach((e, i) => {
      const v = ys[i];
      if (v == null || !Number.isFinite(v)) { pen = false; return; }
      const x = s.sx(e);
      const y = s.sy(v);
      if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      pen = true;
    });
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.restore();
  }

  hover(e) {
    const n = this.h.epoch.length;
    if (!n) return;
    const r = this.canvas.getBoundingClientRect();
    const s = this.scales();
    const x = (e.clientX - r.left) / look.text;
    let best = 0;
    let bestD = Infinity;
    for (let i = 0; i < n; i++) {
      const d = Math.abs(s.sx(this.h.epoch[i]) - x);
      if (d < bestD) { bestD = d; best = i; }
    }
    this.hoverIndex = best;
    const h = this.h;
    const pct = (v) => (v == null ? null : `${(100 * v).toFixed(1)}%`);
    const parts = [`epoch ${h.epoch[best]}`, `train ${fmtLoss(h.train_loss[best])}`];
    if (h.test_loss[best] != null) parts.push(`test ${fmtLoss(h.test_loss[best])}`);
    if (h.train_accuracy[best] != null) {
      parts.push(`accuracy ${pct(h.train_accuracy[best])}${h.test_accuracy[best] != null ? ` / ${pct(h.test_accuracy[best])}` : ""}`);
    }
    this.onHover?.(parts.join(" · "));
    this.draw();
  }
}

export function fmtLoss(v) {
  if (v == null || !Number.isFinite(v)) return "—";
  if (v === 0) return "0";
  if (v < 0.001 || v >= 10000) return v.toExponential(2);
  return v.toFixed(4);
}

function short(t) {
  if (t === 0) return "0";
  const a = Math.abs(t);
  if (a >= 10000 || a < 0.001) return t.toExponential(0).replace("e+", "e");
  if (a >= 1000) return `${Number((t / 1000).toPrecision(3))}k`;
  return Number(t.toPrecision(3)).toString();
}

function logTicks(lo, hi) {
  const out = [];
  for (let p = Math.round(Math.log10(lo)); p <= Math.round(Math.log10(hi)); p++) out.push(10 ** p);
  return out.length > 5 ? out.filter((_, i) => i % Math.ceil(out.length / 5) === 0) : out;
}
