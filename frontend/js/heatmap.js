// Float32 grids (the API's base64, little-endian, C order) drawn onto canvases.
import { LUT, lutIndex, CLASS_COLORS, NEUTRAL } from "./colors.js";

/**
 * {shape: [p, R, C], data: base64, dtype?} -> {p, rows, cols, values: Float32Array, channel(i)}.
 * dtype "float32" (the default): little-endian float32. dtype "uint8": one byte per value,
 * 0..255 mapping each grid k from lo[k] to hi[k] (the server's compact stream encoding).
 */
export function decodeGrid(grid) {
  const binary = atob(grid.data);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const [p, rows, cols] = grid.shape.length === 3 ? grid.shape : [1, ...grid.shape];
  let values;
  if (grid.dtype === "uint8") {
    values = new Float32Array(bytes.length);
    const n = rows * cols;
    for (let k = 0; k < p; k++) {
      const lo = grid.lo?.[k] ?? 0;
      const step = ((grid.hi?.[k] ?? lo) - lo) / 255;
      for (let i = k * n; i < (k + 1) * n; i++) values[i] = lo + bytes[i] * step;
    }
  } else {
    values = new Float32Array(bytes.buffer, 0, bytes.length >> 2);
  }
  return {
    p, rows, cols, values,
    channel(i) { return values.subarray(i * rows * cols, (i + 1) * rows * cols); },
  };
}

/** The largest |v| of a channel (at least `floor`), for layers with unbounded values. */
export function maxAbs(values, floor = 1) {
  let m = floor;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]);
    if (a > m) m = a;
  }
  return m;
}

const scratch = new WeakMap();

function offscreen(target, cols, rows) {
  let s = scratch.get(target);
  if (!s || s.canvas.width !== cols || s.canvas.height !== rows) {
    const canvas = document.createElement("canvas");
    canvas.width = cols;
    canvas.height = rows;
    const ctx = canvas.getContext("2d");
    s = { canvas, ctx, image: ctx.createImageData(cols, rows) };
    scratch.set(target, s);
  }
  return s;
}

/**
 * Paint `values` (rows x cols, row 0 at the top) into `target` (a canvas), mapping each value
 * v to t = mapper.map(v, scale) in [-1, 1] on the diverging scale. `discretise` keeps only the
 * side (t <= 0 or t > 0). `wash` (0..1) pales the colours towards white, for a background under points.
 */
export function drawHeatmap(target, values, rows, cols, { mapper, discretise = false,
  wash = 0, rect = null } = {}) {
  const s = offscreen(target, cols, rows);
  const px = s.image.data;
  const scale = mapper.dynamic ? maxAbs(values) : 1;
  const keep = 1 - wash;
  for (let i = 0, o = 0; i < values.length; i++, o += 4) {
    let t = mapper.map(values[i], scale);
    if (discretise) t = t > 0 ? 1 : -1; // a ReLU's 0 (off) falls on the negative side
    const j = lutIndex(t);
    px[o] = 255 - (255 - LUT[j]) * keep;
    px[o + 1] = 255 - (255 - LUT[j + 1]) * keep;
    px[o + 2] = 255 - (255 - LUT[j + 2]) * keep;
    px[o + 3] = 255;
  }
  blit(target, s, rect);
}

/** K outputs (one-hot classes): each pixel the colour of the arg-max class, paler when unsure. */
export function drawClasses(target, grid, { low = 0, high = 1, discretise = false, wash = 0,
  rect = null } = {}) {
  const { p, rows, cols } = grid;
  const s = offscreen(target, cols, rows);
  const px = s.image.data;
  const n = rows * cols;
  const keep = 1 - wash;
  for (let i = 0, o = 0; i < n; i++, o += 4) {
    let best = 0;
    let bestValue = -Infinity;
    for (let k = 0; k < p; k++) {
      const v = grid.values[k * n + i];
      if (v > bestValue) { bestValue = v; best = k; }
    }
    let u = discretise ? 1 : Math.min(1, Math.max(0, (bestValue - low) / (high - low || 1)));
    u = 0.25 + 0.75 * u;
    const c = CLASS_COLORS[best % CLASS_COLORS.length];
    for (let ch = 0; ch < 3; ch++) {
      const v = NEUTRAL[ch] + (c[ch] - NEUTRAL[ch]) * u;
      px[o + ch] = 255 - (255 - v) * keep;
    }
    px[o + 3] = 255;
  }
  blit(target, s, rect);
}

function blit(target, s, rect) {
  s.ctx.putImageData(s.image, 0, 0);
  const ctx = target.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  const r = rect || { x: 0, y: 0, w: target.width, h: target.height };
  ctx.drawImage(s.canvas, r.x, r.y, r.w, r.h);
}

/** Sample f(x1, x2) over a domain as a rows x cols grid (row 0 = largest x2). */
export function sampleFunction(f, domain, rows = 40, cols = rows) {
  const [x1lo, x1hi] = domain.x1;
  const [x2lo, x2hi] = domain.x2;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const x2 = x2hi - ((x2hi - x2lo) * r) / (rows - 1);
    for (let c = 0; c < cols; c++) {
      const x1 = x1lo + ((x1hi - x1lo) * c) / (cols - 1);
      out[r * cols + c] = f(x1, x2);
    }
  }
  return out;
}
