// Drawing on canvas for every chart and plot of the page: the canvas fitted to its box, scales
// (linear, logarithmic, and log of 1 + v for counts that start at 0) with nice ticks and exact
// labels, axes, lines and points clipped to the plot area, and keys (on a canvas or in HTML).
import { fitCanvas, el } from "./dom.js";

export const FONT = "system-ui, sans-serif";
const INK = { label: "#55575c", title: "#3a3d44", grid: "#e6e6e9", axis: "#c9c9ce", frame: "rgba(0,0,0,0.35)" };

/** Fit `canvas` to its box; a cleared context that draws in CSS pixels times `zoom` (presenter
 * mode draws everything larger), and the size in those units. Null while the canvas is hidden. */
export function startDrawing(canvas, zoom = 1) {
  fitCanvas(canvas);
  if (!canvas.width || !canvas.height || !canvas.clientWidth) return null;
  const ratio = (window.devicePixelRatio || 1) * zoom;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const width = canvas.width / ratio;
  const height = canvas.height / ratio;
  ctx.clearRect(0, 0, width, height);
  return { ctx, width, height };
}

// -- ticks ------------------------------------------------------------------------------------

/** `v` without the float noise of sums and products (0.1 * 3 is 0.3). */
export function exact(v) {
  return Number(v.toPrecision(12));
}

/** The 1-2-5 step (2.5 too: quarters such as 250k) giving at most `count` intervals over
 * `span`; with `integer`, a whole number of at least 1. */
export function niceStep(span, count, { integer = false } = {}) {
  const raw = span / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) {
    const step = exact(m * magnitude);
    if (integer && !Number.isInteger(step)) continue;
    if (span / step <= count + 1e-9) return step;
  }
  return exact(10 * magnitude);
}

/** The multiples of a nice step inside [lo, hi] (at most `count` + 1 of them). */
export function niceTicks(lo, hi, count, options = {}) {
  if (!(hi > lo)) return [exact(lo)];
  const step = niceStep(hi - lo, count, options);
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  const out = [];
  for (let k = first; k <= last; k++) out.push(exact(k * step));
  return out;
}

/** `hi` raised to the next multiple of the step niceTicks(0, hi, count) takes: the top of an
 * axis that starts at 0, with a tick at the top. */
export function niceCeil(hi, count, options = {}) {
  if (!(hi > 0)) return 1;
  let step = niceStep(hi, count, options);
  let top = exact(Math.ceil(hi / step - 1e-9) * step);
  // Rounding up can add an interval: take the step for the rounded top.
  step = niceStep(top, count, options);
  top = exact(Math.ceil(hi / step - 1e-9) * step);
  return top;
}

/** The powers of ten inside [lo, hi]; when more than `most`, every k-th (10^(k j)) only. */
export function decadeTicks(lo, hi, most = 6) {
  const from = Math.ceil(Math.log10(lo) - 1e-9);
  const to = Math.floor(Math.log10(hi) + 1e-9);
  const every = Math.max(1, Math.ceil((to - from + 1) / most));
  const out = [];
  for (let p = from; p <= to; p++) if (p % every === 0) out.push(exact(10 ** p));
  return out;
}

/** A tick's label, equal to its value: 250k is 250,000, 1.5M is 1,500,000, 1e−4 is 0.0001. */
export function tickLabel(value) {
  const v = exact(value);
  if (v === 0) return "0";
  const sign = v < 0 ? "−" : "";
  const a = Math.abs(v);
  let text;
  if (a >= 1e9 || a < 1e-3) text = a.toExponential().replace("e+", "e").replace("e-", "e−");
  else if (a >= 1e6) text = `${exact(a / 1e6)}M`;
  else if (a >= 1e3) text = `${exact(a / 1e3)}k`;
  else text = String(a);
  return sign + text;
}

// -- scales -----------------------------------------------------------------------------------

const TRANSFORMS = {
  linear: (v) => v,
  log: (v) => Math.log10(v),
  log1p: (v) => Math.log10(1 + v), // counts from 0 (epochs) on a log axis: 0 stays on it
};

/**
 * A scale from data [lo, hi] to pixels [from, to] (to < from for a y axis): `map(v)`,
 * `invert(px)`, and `ticks(count)` (nice values inside the domain).
 * kind: "linear", "log" (lo > 0) or "log1p" (a log axis of 1 + v, for v from 0).
 */
export function scale(kind, [lo, hi], [from, to], { integer = false } = {}) {
  const f = TRANSFORMS[kind];
  const f0 = f(lo);
  const f1 = f(hi);
  const span = f1 - f0 || 1;
  return {
    kind,
    domain: [lo, hi],
    range: [from, to],
    map: (v) => from + ((f(v) - f0) / span) * (to - from),
    invert(px) {
      const u = f0 + ((px - from) / (to - from)) * span;
      return kind === "linear" ? u : kind === "log" ? 10 ** u : 10 ** u - 1;
    },
    ticks(count) {
      if (kind === "linear") return niceTicks(lo, hi, count, { integer });
      if (kind === "log") return decadeTicks(lo, hi, count + 1);
      return [0, ...decadeTicks(Math.max(10, lo), hi, count)].filter((t) => t >= lo);
    },
  };
}

/**
 * The domain of an axis over `values`: linear from 0 (or `min`) up to a tick; log in whole
 * decades (at least one); log1p from 0. `top` caps a linear axis (a blow-up that would
 * flatten the curve); `least` is the smallest top.
 */
export function axisDomain(kind, values, { min = 0, least = 1, top = Infinity, count = 4, integer = false } = {}) {
  const finite = values.filter((v) => v != null && Number.isFinite(v));
  if (kind === "log") {
    const positive = finite.filter((v) => v > 0);
    let hi = positive.length ? Math.max(...positive) : least;
    let lo = positive.length ? Math.min(...positive) : hi / 10;
    hi = 10 ** Math.ceil(Math.log10(hi) - 1e-9);
    lo = Math.min(10 ** Math.floor(Math.log10(lo) + 1e-9), hi / 10);
    return [exact(lo), exact(hi)];
  }
  const hi = Math.min(top, Math.max(least, ...finite));
  if (kind === "log1p") return [0, hi];
  return [min, min + niceCeil(hi - min, count, { integer })];
}

// -- axes, lines, points ----------------------------------------------------------------------

/** Draw inside `rect` only. */
export function clipped(ctx, rect, draw) {
  ctx.save();
  ctx.beginPath();
  ctx.rect(rect.x, rect.y, rect.w, rect.h);
  ctx.clip();
  try {
    draw();
  } finally {
    ctx.restore();
  }
}

/**
 * Axes of a plot area: labels outside it, grid lines across it (`grid`: "x", "y", "xy"),
 * tick marks (`marks`), and a frame ("box" or "corner": left and bottom). x and y:
 * {scale, ticks: values}. Returns the ticks drawn, [{value, label, at}] per axis.
 */
export function drawAxes(ctx, area, { x, y, grid = "", marks = false, frame = "corner", size = 11 }) {
  ctx.font = `${size}px ${FONT}`;
  ctx.lineWidth = 1;
  const drawn = { x: [], y: [] };
  const bottom = area.y + area.h;
  for (const value of y?.ticks ?? []) {
    const at = y.scale.map(value);
    const py = Math.round(at) + 0.5;
    if (grid.includes("y")) line(ctx, INK.grid, area.x, py, area.x + area.w, py);
    if (marks) line(ctx, INK.label, area.x - 4, py, area.x, py);
    const label = tickLabel(value);
    text(ctx, label, area.x - (marks ? 6 : 5), at, "right", "middle");
    drawn.y.push({ value, label, at });
  }
  for (const value of x?.ticks ?? []) {
    const at = x.scale.map(value);
    const px = Math.round(at) + 0.5;
    if (grid.includes("x")) line(ctx, INK.grid, px, area.y, px, bottom);
    if (marks) line(ctx, INK.label, px, bottom, px, bottom + 4);
    const label = tickLabel(value);
    text(ctx, label, at, bottom + (marks ? 6 : 4), "center", "top");
    drawn.x.push({ value, label, at });
  }
  if (frame === "box") {
    ctx.strokeStyle = INK.frame;
    ctx.strokeRect(area.x + 0.5, area.y + 0.5, area.w - 1, area.h - 1);
  } else if (frame === "corner") {
    ctx.strokeStyle = INK.axis;
    ctx.beginPath();
    ctx.moveTo(area.x + 0.5, area.y);
    ctx.lineTo(area.x + 0.5, bottom + 0.5);
    ctx.lineTo(area.x + area.w, bottom + 0.5);
    ctx.stroke();
  }
  return drawn;
}

function line(ctx, color, x0, y0, x1, y1) {
  ctx.strokeStyle = color;
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1, y1);
  ctx.stroke();
}

function text(ctx, value, x, y, align, baseline, color = INK.label) {
  ctx.fillStyle = color;
  ctx.textAlign = align;
  ctx.textBaseline = baseline;
  ctx.fillText(value, x, y);
}

/** A line through [px, py] points (null breaks it), clipped to `clip`. */
export function drawPolyline(ctx, points, { color, width = 2, dash = [], clip }) {
  clipped(ctx, clip, () => {
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.setLineDash(dash);
    ctx.beginPath();
    let pen = false;
    for (const p of points) {
      if (!p) { pen = false; continue; }
      if (pen) ctx.lineTo(p[0], p[1]); else ctx.moveTo(p[0], p[1]);
      pen = true;
    }
    ctx.stroke();
    ctx.setLineDash([]);
  });
}

/** The radius of a data point when `count` points are shown. */
export function pointRadius(count) {
  return count <= 12 ? 7.5 : count <= 60 ? 5.5 : count <= 400 ? 4 : count <= 1500 ? 3 : 2.2;
}

/** Data points as dots, clipped to `clip`: at(point) -> [px, py], color(i) -> a CSS colour. */
export function drawScatter(ctx, points, { at, color, radius, stroke = "#fff", lineWidth = 1.2, clip }) {
  clipped(ctx, clip, () => {
    ctx.lineWidth = lineWidth;
    ctx.strokeStyle = stroke;
    points.forEach((p, i) => {
      const [px, py] = at(p);
      ctx.beginPath();
      ctx.arc(px, py, radius, 0, 2 * Math.PI);
      ctx.fillStyle = color(i);
      ctx.fill();
      if (stroke) ctx.stroke();
    });
  });
}

// -- the input plane --------------------------------------------------------------------------

/** Scales of the input plane (x₁ to the right, x₂ up) drawn in the square `rect`. */
export function planeScales(domain, rect) {
  return {
    x: scale("linear", domain.x1, [rect.x, rect.x + rect.w]),
    y: scale("linear", domain.x2, [rect.y + rect.h, rect.y]),
  };
}

/** The plane's frame, ticks and the names x₁ and x₂ (`titleAt`: their distance from the
 * square, below and to the left). */
export function drawPlaneAxes(ctx, rect, scales, { count = 5, size = 11, titleAt = { below: 34, left: 34 } } = {}) {
  drawAxes(ctx, rect, {
    x: { scale: scales.x, ticks: scales.x.ticks(count) },
    y: { scale: scales.y, ticks: scales.y.ticks(count) },
    marks: true, frame: "box", size,
  });
  ctx.font = `italic ${size + 2}px ${FONT}`;
  text(ctx, "x₁", rect.x + rect.w / 2, rect.y + rect.h + titleAt.below, "center", "bottom", INK.title);
  ctx.save();
  ctx.translate(rect.x - titleAt.left, rect.y + rect.h / 2);
  ctx.rotate(-Math.PI / 2);
  text(ctx, "x₂", 0, 0, "center", "middle", INK.title);
  ctx.restore();
}

// -- line charts ------------------------------------------------------------------------------

/**
 * A chart of lines: series [{points: [[x, y]], label, color, width, dash}] (the first listed
 * first in the key and drawn on top), each axis {kind, label,
 * integer, top, least}, a key of the series' labels on the top right and a caption on the top
 * left, in a band above the plot area (so no line crosses them). Points outside an axis's
 * domain (y above a capped top) are drawn clipped to the area. Returns the layout: area, clip
 * rectangle, x and y scales, the ticks drawn, the key's and the caption's boxes, the points
 * drawn of each series.
 */
export function drawLineChart(canvas, { series, x, y, caption = "", zoom = 1, size = 11 }) {
  const drawing = startDrawing(canvas, zoom);
  if (!drawing) return null;
  const { ctx, width, height } = drawing;
  const keyed = series.filter((s) => s.label);
  const band = keyed.length || caption ? size + 7 : Math.ceil(size / 2) + 2; // room for the top label
  // A point is drawn when both its values are numbers its axes can show (> 0 on a log axis).
  const shows = (kind, v) => v != null && Number.isFinite(v) && (kind !== "log" || v > 0);
  const plottable = (p) => p && shows(x.kind, p[0]) && shows(y.kind, p[1]);
  const points = series.flatMap((s) => s.points.filter(plottable));
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const yCount = Math.max(2, Math.min(4, Math.floor((height - band - size - 8) / 22)));
  const yDomain = axisDomain(y.kind, ys, { least: y.least ?? 0.1, top: y.top, count: yCount });
  ctx.font = `${size}px ${FONT}`;
  const yLabels = scale(y.kind, yDomain, [0, 1]).ticks(yCount).map(tickLabel);
  const left = Math.ceil(Math.max(18, ...yLabels.map((t) => ctx.measureText(t).width)) + 9);
  const area = { x: left, y: band, w: width - left - 10, h: height - band - size - 8 };
  if (area.w < 20 || area.h < 20) return null;
  const xCount = Math.max(2, Math.min(6, Math.floor(area.w / 64)));
  const xDomain = x.kind === "log"
    ? [1, axisDomain("log", xs, { least: 10 })[1]]
    : [x.min ?? 0, Math.max((x.min ?? 0) + (x.least ?? 1), ...xs)];
  const sx = scale(x.kind, xDomain, [area.x, area.x + area.w], { integer: x.integer });
  const sy = scale(y.kind, yDomain, [area.y + area.h, area.y]);
  const ticks = drawAxes(ctx, area, {
    x: { scale: sx, ticks: sx.ticks(xCount) }, y: { scale: sy, ticks: sy.ticks(yCount) }, grid: "y", size,
  });
  const clip = { x: area.x, y: area.y - 1, w: area.w + 1, h: area.h + 2 };
  const shown = series.map((s) => s.points.map((p) => (plottable(p) ? [sx.map(p[0]), sy.map(p[1])] : null)));
  for (let k = series.length - 1; k >= 0; k--) {
    const s = series[k];
    drawPolyline(ctx, shown[k], { color: s.color, width: s.width ?? 2, dash: s.dash ?? [], clip });
  }
  const key = keyed.length ? drawLineKey(ctx, area.x + area.w, band / 2, keyed, size) : null;
  let captionBox = null;
  if (caption) {
    ctx.font = `${size}px ${FONT}`;
    text(ctx, caption, area.x, band / 2, "left", "middle");
    captionBox = { x: area.x, y: band / 2 - size / 2 - 2, w: ctx.measureText(caption).width, h: size + 4 };
  }
  const drawn = shown.map((points) => points.filter(Boolean).length);
  return { ctx, area, clip, x: sx, y: sy, ticks, key, caption: captionBox, drawn, width, height };
}

/** A key of line samples in a row ending at `right`, centred on `middle`: [{label, color,
 * dash, width}]. Returns its box {x, y, w, h}. */
export function drawLineKey(ctx, right, middle, items, size = 11) {
  ctx.font = `${size}px ${FONT}`;
  const sample = 16;
  const widths = items.map((s) => sample + 4 + ctx.measureText(s.label).width);
  const total = widths.reduce((a, b) => a + b, 0) + 10 * (items.length - 1);
  let at = right - total;
  items.forEach((s, i) => {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = s.width ?? 2;
    ctx.setLineDash(s.dash ?? []);
    ctx.beginPath();
    ctx.moveTo(at, middle);
    ctx.lineTo(at + sample, middle);
    ctx.stroke();
    ctx.setLineDash([]);
    text(ctx, s.label, at + sample + 4, middle, "left", "middle");
    at += widths[i] + 10;
  });
  return { x: right - total, y: middle - size / 2 - 2, w: total, h: size + 4 };
}

// -- keys in HTML -----------------------------------------------------------------------------

/**
 * A key (legend) in `host`: `items` [{label, color, shape: "dot" | "line", dash}], and a colour
 * `scale` {gradient (CSS), labels: [low, middle, high], caption} drawn as a bar with its
 * labels. Replaces what the host held.
 */
export function renderKey(host, { items = [], scale: bar = null, note = "" } = {}) {
  host.replaceChildren();
  host.classList.add("key");
  for (const item of items) {
    const mark = el("i", { class: item.shape === "line" ? "key-line" : "key-dot" });
    if (item.shape === "line") mark.style.borderTop = `2.5px ${item.dash ? "dashed" : "solid"} ${item.color}`;
    else mark.style.background = item.color;
    host.append(el("span", { class: "key-item" }, mark, item.label));
  }
  if (bar) {
    const strip = el("span", { class: "key-bar" });
    strip.style.background = bar.gradient;
    const labels = el("span", { class: "key-bar-labels" }, ...bar.labels.map((t) => el("span", { text: t })));
    host.append(el("span", { class: "key-scale" },
      bar.caption ? el("span", { class: "key-caption", text: bar.caption }) : null,
      el("span", { class: "key-bar-wrap" }, strip, labels)));
  }
  if (note) host.append(el("span", { class: "key-note", text: note }));
}
