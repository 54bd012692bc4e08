// The loss chart: train and test loss per epoch, a hover readout with the exact values and
// accuracy, and a log-scale toggle.
import { look } from "./presenter.js";
import { fitCanvas } from "./dom.js";
import { clipped, drawLineChart, scale } from "./plot.js";

const COLUMNS = ["epoch", "iteration", "train_loss", "test_loss", "train_accuracy", "test_accuracy"];
const TRAIN = "#2b2d42";
const TEST = "#8d8f99";
// Up to this many epochs the x axis is linear; past it, a log axis (of 1 + epoch), so that a
// long run shows both its first epochs, where the loss falls fast, and the slow end.
const LINEAR_EPOCHS = 1000;
// The points the chart keeps: past that, thinned evenly along the log axis.
const MAX_POINTS = 2000;
const GAP = 0.1; // a stretch of the x axis with no point in it, drawn dotted (of its width)

export class LossChart {
  /** onHover(text | null): the readout under the chart. */
  constructor(canvas, { onHover } = {}) {
    this.canvas = canvas;
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

  /** Show a GET /history answer. The server thins a long run's history evenly (a point every
   * 1,024 epochs at a million); points this chart received live between those, from the
   * same run, are kept, so that the first epochs stay on the log axis. */
  setHistory(history) {
    const next = Object.fromEntries(COLUMNS.map((c) => [c, [...(history?.[c] || [])]]));
    this.h = sameRun(this.h, next) ? merge(this.h, next) : next;
    if (this.h.epoch.length > MAX_POINTS) this.thin();
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
    if (this.h.epoch.length > MAX_POINTS) this.thin();
    return true;
  }

  /** Keep one point per 1/1000 of the log axis, and the last: the first epochs stay whole. */
  thin() {
    const { epoch } = this.h;
    const end = Math.log10(1 + epoch[epoch.length - 1]);
    let bucket = -1;
    const keep = [];
    epoch.forEach((e, i) => {
      const b = Math.floor((Math.log10(1 + e) / end) * (MAX_POINTS / 2));
      if (b !== bucket || i === epoch.length - 1) keep.push(i);
      bucket = b;
    });
    for (const c of COLUMNS) this.h[c] = keep.map((i) => this.h[c][i]);
  }

  setLogScale(on) {
    this.logScale = on;
    this.draw();
  }

  resize() {
    if (fitCanvas(this.canvas)) this.draw();
  }

  /** Draw the chart; the layout it used (area, scales, ticks, key) is kept in `layout`. */
  draw() {
    if (!this.canvas.width) return;
    const { epoch } = this.h;
    const last = epoch[epoch.length - 1] ?? 0;
    const logX = last > LINEAR_EPOCHS;
    const kind = logX ? "log1p" : "linear";
    // Where the history has no points over a long stretch of the axis (the server thins a long
    // run's history evenly: on the log axis, the first epochs), the curve is a dotted bridge.
    const along = scale(kind, [0, Math.max(1, last)], [0, 1]);
    const bridged = epoch.map((e, i) => i > 0 && along.map(e) - along.map(epoch[i - 1]) > GAP);
    const series = [];
    for (const [column, label, color, dash, width] of [["train_loss", "train", TRAIN, [], 2],
      ["test_loss", "test", TEST, [4, 3], 1.6]]) {
      if (!this.h[column].some((v) => v != null)) continue;
      const points = epoch.map((e, i) => [e, this.h[column][i]]);
      series.push({ label, color, dash, width, points: points.flatMap((p, i) => (bridged[i] ? [null, p] : [p])) });
      if (bridged.some(Boolean)) {
        series.push({ color, dash: [1, 3], width: 1.2,
          points: points.flatMap((p, i) => (bridged[i] ? [points[i - 1], p, null] : [])) });
      }
    }
    const logs = [logX && "epochs", this.logScale && "loss"].filter(Boolean);
    this.layout = drawLineChart(this.canvas, {
      series,
      x: { kind, integer: true, least: 10 },
      y: { kind: this.logScale ? "log" : "linear", top: this.lossCap() },
      caption: logs.length ? `${logs.join(" and ")} on a log scale` : "",
      zoom: look.text,
    });
    if (this.layout && this.hoverIndex != null) this.drawHover(this.layout);
  }

  /** A run that blew up would flatten the whole curve: the linear axis stops at 3x the starting
   * loss (the hover readout and the log scale still show every value). */
  lossCap() {
    const first = (column) => this.h[column].find((v) => v != null && Number.isFinite(v)) ?? 0;
    const start = Math.max(first("train_loss"), first("test_loss"));
    return start > 0 ? 3 * start : Infinity;
  }

  drawHover({ ctx, area, clip, x, y }) {
    const i = this.hoverIndex;
    const at = x.map(this.h.epoch[i]);
    clipped(ctx, clip, () => {
      ctx.strokeStyle = "rgba(0,0,0,0.35)";
      ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(at, area.y); ctx.lineTo(at, area.y + area.h); ctx.stroke();
      for (const [column, color] of [["train_loss", TRAIN], ["test_loss", TEST]]) {
        const v = this.h[column][i];
        if (v == null || !Number.isFinite(v) || (this.logScale && v <= 0)) continue;
        ctx.fillStyle = color;
        ctx.beginPath(); ctx.arc(at, y.map(v), 3, 0, 2 * Math.PI); ctx.fill();
      }
    });
  }

  hover(e) {
    const n = this.h.epoch.length;
    if (!n || !this.layout) return;
    const r = this.canvas.getBoundingClientRect();
    const x = (e.clientX - r.left) / look.text;
    let best = 0;
    let bestD = Infinity;
    for (let i = 0; i < n; i++) {
      const d = Math.abs(this.layout.x.map(this.h.epoch[i]) - x);
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

/** Both histories start from the same network at epoch 0. */
function sameRun(a, b) {
  return a.epoch[0] === 0 && b.epoch[0] === 0 && a.train_loss[0] === b.train_loss[0] && b.epoch.length > 1;
}

/** `next`, with the points of `kept` at epochs it skipped (before its last). */
function merge(kept, next) {
  const known = new Set(next.epoch);
  const end = next.epoch[next.epoch.length - 1];
  const extra = kept.epoch.map((e, i) => i).filter((i) => kept.epoch[i] < end && !known.has(kept.epoch[i]));
  if (!extra.length) return next;
  const rows = [...next.epoch.map((e, i) => [next, i]), ...extra.map((i) => [kept, i])]
    .sort(([h, i], [g, j]) => h.epoch[i] - g.epoch[j]);
  return Object.fromEntries(COLUMNS.map((c) => [c, rows.map(([h, i]) => h[c][i])]));
}

export function fmtLoss(v) {
  if (v == null || !Number.isFinite(v)) return "—";
  if (v === 0) return "0";
  if (v < 0.001 || v >= 10000) return v.toExponential(2);
  return v.toFixed(4);
}
