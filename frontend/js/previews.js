// Small pictures of the built-in datasets for the picker, drawn locally (an illustration of
// what each set looks like; the server makes the real points).
import { classColor, css } from "./colors.js";
import { drawHeatmap, sampleFunction } from "./heatmap.js";

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gauss(r) {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}


function points(name, n = 70) {
  const r = rng(7);
  const out = [];
  for (let i = 0; i < n; i++) {
    const y = i % 2;
    let x1;
    let x2;
    switch (name) {
      case "circle": {
        const radius = (y === 0 ? r() * 0.5 : 0.7 + r() * 0.3) * 5;
        const a = r() * 2 * Math.PI;
        [x1, x2] = [radius * Math.cos(a), radius * Math.sin(a)];
        break;
      }
      case "quadrants": {
        const s1 = r() < 0.5 ? -1 : 1;
        const s2 = y === 0 ? s1 : -s1;
        [x1, x2] = [s1 * (0.3 + r() * 4.7), s2 * (0.3 + r() * 4.7)];
        break;
      }
      case "gaussians": {
        const c = y === 0 ? -2 : 2;
        [x1, x2] = [c + gauss(r), c + gauss(r)];
        break;
      }
      case "spiral": {
        const t = r();
        const radius = 5 * t;
        const a = 1.75 * 2 * Math.PI * t + Math.PI * y;
        [x1, x2] = [radius * Math.sin(a), radius * Math.cos(a)];
        break;
      }
      case "moons": {
        const t = r() * Math.PI;
        const m = y === 0 ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)];
        [x1, x2] = [3 * (m[0] - 0.5), 3 * (m[1] - 0.25)];
        break;
      }
      default: { // linear
        x1 = r() * 10 - 5;
        x2 = r() * 10 - 5;
        const side = x2 - 0.5 * x1 >= 0 ? 1 : 0;
        if (side !== y) { x1 = -x1; x2 = -x2; }
      }
    }
    out.push([x1, x2, y]);
  }
  return out;
}

function peaks(u, v) {
  return 3 * (1 - u) ** 2 * Math.exp(-(u ** 2) - (v + 1) ** 2)
    - 10 * (u / 5 - u ** 3 - v ** 5) * Math.exp(-(u ** 2) - v ** 2)
    - Math.exp(-((u + 1) ** 2) - v ** 2) / 3;
}

const REGRESSION = {
  plane: (x1, x2) => (2 * x1 + x2) / 15,
  peaks: (x1, x2) => peaks((3 * x1) / 5, (3 * x2) / 5) / 8.1,
};

/** Draw the preview of dataset `name` on `canvas` (its pixel size already set). */
// `dataset`: the catalog's entry (the logic sets' points come from there).
export function drawPreview(canvas, dataset) {
  const { name } = dataset;
  const ctx = canvas.getContext("2d");
  const W = canvas.width;
  ctx.clearRect(0, 0, W, W);
  ctx.fillStyle = "#f6f7f8";
  ctx.fillRect(0, 0, W, W);
  if (REGRESSION[name]) {
    const values = sampleFunction(REGRESSION[name], { x1: [-6, 6], x2: [-6, 6] }, 24, 24);
    drawHeatmap(canvas, values, 24, 24, { mapper: { map: (v) => v, dynamic: false } });
    return;
  }
  if (dataset.points) {
    const pad = W * 0.25;
    ctx.strokeStyle = "rgba(0,0,0,0.12)";
    ctx.strokeRect(pad, pad, W - 2 * pad, W - 2 * pad);
    for (const [a, b, label] of dataset.points) {
      ctx.beginPath();
      ctx.arc(pad + a * (W - 2 * pad), W - pad - b * (W - 2 * pad), W * 0.09, 0, 2 * Math.PI);
      ctx.fillStyle = classColor(label);
      ctx.fill();
    }
    return;
  }
  if (name === "custom") {
    ctx.fillStyle = "#9a9ca3";
    ctx.font = `${Math.round(W * 0.42)}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText("✎", W / 2, W / 2 + 1);
    return;
  }
  const r = W * 0.035;
  for (const [x1, x2, y] of points(name)) {
    const px = ((x1 + 6) / 12) * W;
    const py = ((6 - x2) / 12) * W;
    ctx.beginPath();
    ctx.arc(px, py, Math.max(1.3, r), 0, 2 * Math.PI);
    ctx.fillStyle = classColor(y);
    ctx.fill();
  }
  void css;
}
