// The error surface (issue 16): J over two parameters of the page's network, every other one
// fixed, as a heat map with contour lines, and the paths batch, stochastic and mini-batch
// gradient descent take on it from the same start with only those two trained. The server
// computes both (POST /surface); this view picks the parameters and draws.
import { MODES } from "./compare.js";
import { drawHeatmap } from "./heatmap.js";
import { rgb } from "./colors.js";
import { FONT, clipped, drawAxes, drawPolyline, renderKey, scale, startDrawing, tickLabel } from "./plot.js";
import { sub, sup } from "./graph.js";
import { el } from "./dom.js";

const RESOLUTION = 41;
const LEVELS = 9; // contour lines
const WASH = 0.2;
// J is mapped through a square root onto the scale: the valley, where the paths end, keeps
// its detail next to the steep walls.
const shade = (u) => Math.sqrt(Math.max(0, Math.min(1, u)));
const PATH_ORDER = ["stochastic", "minibatch", "batch"]; // drawn in this order: batch on top

/** "w²₁,₂" or "b²₁" for [layer, kind, i, j] (indices from 0, the lecture's from 1). */
export function parameterLabel([layer, kind, i, j]) {
  return kind === "W" ? `w${sup(layer + 1)}${sub(i + 1)},${sub(j + 1)}` : `b${sup(layer + 1)}${sub(i + 1)}`;
}

/** Every parameter of a network of `sizes`, and the two the view starts with: the first two
 * weights of the last layer (its first weight and bias when it has one input). */
export function parameterList(sizes) {
  const all = [];
  for (let k = 1; k < sizes.length; k++) {
    for (let i = 0; i < sizes[k]; i++) {
      for (let j = 0; j < sizes[k - 1]; j++) all.push([k - 1, "W", i, j]);
      all.push([k - 1, "b", i]);
    }
  }
  const last = sizes.length - 2;
  const defaults = [[last, "W", 0, 0], sizes[last] >= 2 ? [last, "W", 0, 1] : [last, "b", 0]];
  return { all, defaults };
}

const key = (p) => p.join(",");

export class SurfaceView {
  /** ctx: {api, session, onError(err, what)} */
  constructor(host, ctx) {
    this.host = host;
    this.ctx = ctx;
    this.surface = null;
    this.drawnFor = null; // the network (id and updated_at) of the surface shown
    this.sizes = null;
    this.build();
  }

  get session() { return this.ctx.session; }

  build() {
    const host = this.host;
    host.replaceChildren();
    host.classList.add("surface");
    host.setAttribute("data-testid", "surface");
    host.append(el("p", { class: "teach-intro", text: "J, the training loss, over two parameters (every other one "
      + "fixed), and the paths of batch, stochastic and mini-batch gradient descent training only those two." }));
    const bar = el("div", { class: "surface-controls" });
    this.pickers = [0, 1].map((n) => {
      const select = el("select", { "aria-label": `Parameter ${n + 1}`, "data-testid": `surface-param-${n + 1}` });
      select.addEventListener("change", () => this.draw());
      return select;
    });
    this.epochsSel = el("select", { "aria-label": "Epochs of each path", "data-testid": "surface-epochs" });
    for (const n of [5, 10, 30, 100]) this.epochsSel.append(el("option", { value: n, text: `${n} epochs` }));
    this.epochsSel.value = "30";
    this.epochsSel.addEventListener("change", () => this.draw());
    this.drawBtn = el("button", { class: "btn primary", type: "button", "data-testid": "surface-draw" }, "Draw");
    this.drawBtn.addEventListener("click", () => this.draw());
    bar.append(el("label", { class: "surface-pick" }, "x ", this.pickers[0]),
      el("label", { class: "surface-pick" }, "y ", this.pickers[1]), this.epochsSel, this.drawBtn);
    this.status = el("p", { class: "surface-status", role: "status", "data-testid": "surface-status" });
    this.key = el("div", { class: "surface-key", "aria-hidden": "true" });
    this.canvas = el("canvas", { class: "surface-plot", role: "img", "data-testid": "surface-plot",
      "aria-label": "The error surface J over the two parameters, with the three paths" });
    this.notes = el("ul", { class: "surface-notes", "data-testid": "surface-notes" });
    host.append(bar, this.status, this.key, this.canvas, this.notes);
    new ResizeObserver(() => this.paint()).observe(this.canvas);
    this.say("Pick two parameters: the surface and the paths are drawn when this tab is open.");
  }

  say(text, kind = "") {
    this.status.textContent = text;
    this.status.className = `surface-status ${kind}`;
  }

  /** The page's network changed: new pickers for new shapes; a new surface when shown. */
  onState(state) {
    if (!state) return;
    const sizes = state.sizes ?? [];
    if (key(sizes) !== key(this.sizes ?? [])) this.fillPickers(sizes);
    if (this.shownNow) this.refresh();
  }

  fillPickers(sizes) {
    this.sizes = sizes;
    const { all, defaults } = parameterList(sizes);
    this.pickers.forEach((select, n) => {
      select.replaceChildren(...all.map((p) => el("option", { value: key(p), text: parameterLabel(p) })));
      select.value = key(defaults[n]);
    });
    this.surface = null;
    this.drawnFor = null;
  }

  /** The tab became visible. */
  shown() {
    this.shownNow = true;
    this.refresh();
    this.paint();
  }

  hidden() { this.shownNow = false; }

  /** Draw again when the network is not the one drawn (and is not training: a run changes it
   * many times a second; the surface follows when it stops). */
  refresh() {
    const s = this.session;
    const st = s?.state;
    if (!st || !s.id || s.training || this.pending) return;
    if (this.drawnFor !== `${s.id}@${st.updated_at}`) this.draw();
  }

  chosen() {
    return this.pickers.map((select) => select.value.split(",").map((v) => (/^-?\d+$/.test(v) ? Number(v) : v)));
  }

  async draw() {
    const s = this.session;
    if (!s?.id || !s.state) return;
    const parameters = this.chosen();
    if (key(parameters[0]) === key(parameters[1])) {
      this.say("Pick two different parameters.", "warn");
      return;
    }
    const asked = `${s.id}@${s.state.updated_at}`;
    const ticket = (this.ticket ?? 0) + 1;
    this.ticket = ticket;
    this.pending = true;
    this.host.dataset.state = "drawing";
    this.say("Computing J over the grid and the three paths…");
    try {
      const surface = await this.ctx.api.surface(s.id, {
        parameters, resolution: RESOLUTION, epochs: Number(this.epochsSel.value) });
      if (ticket !== this.ticket) return;
      this.surface = surface;
      this.drawnFor = asked;
      this.paint();
      this.describe();
      this.host.dataset.state = "drawn";
      this.pending = false;
      this.refresh(); // the network may have changed while this was computed
    } catch (err) {
      if (ticket !== this.ticket) return;
      this.host.dataset.state = "error";
      this.say(err.message, "error");
      this.ctx.onError?.(err, "Drawing the error surface");
    } finally {
      if (ticket === this.ticket) this.pending = false;
    }
  }

  // -- words ----------------------------------------------------------------------------------

  describe() {
    const sf = this.surface;
    const byMode = Object.fromEntries(sf.paths.map((p) => [p.mode, p]));
    const last = (p) => p.J[p.J.length - 1];
    const n = byMode.batch.batch_size;
    const texts = {
      batch: `Smooth (batch): every update uses all ${n} training samples, so each step goes straight down J.`,
      stochastic: `Noisy (stochastic): each update follows one sample's own slope, ${n} updates an epoch, so the path zigzags.`,
      minibatch: `In between (mini-batch): ${byMode.minibatch.batch_size} samples an update, less noise than one, more updates than batch.`,
    };
    this.notes.replaceChildren(...MODES.map((m) => {
      const p = byMode[m.mode];
      const mark = el("i", { class: "key-line" });
      mark.style.borderTop = `2.5px ${m.dash.length ? "dashed" : "solid"} ${m.color}`;
      const numbers = `${p.updates} updates, J ${fmt(p.J[0])} → ${fmt(last(p))}`;
      return el("li", { "data-mode": m.mode }, mark, el("span", { text: `${texts[m.mode]} ${numbers}.` }),
        p.diverged ? el("span", { class: "surface-warn", text: ` ${p.message}` }) : null);
    }));
    const warn = sf.warnings?.[0];
    this.say(warn || `J over ${parameterLabel(this.chosen()[0])} and ${parameterLabel(this.chosen()[1])}, `
      + `η = ${sf.learning_rate}, ${sf.epochs} epochs of each path from the same start (the white dot).`, warn ? "warn" : "");
    const [lo, hi] = range(sf.J);
    renderKey(this.key, {
      items: [...MODES.map((m) => ({ label: m.label, color: m.color, shape: "line", dash: m.dash.length > 0 })),
        { label: "start", color: "#fff", shape: "dot" }],
      scale: { gradient: `linear-gradient(to right, ${[0, 0.25, 0.5, 0.75, 1].map((u) => washed(shade(u))).join(", ")})`,
        labels: [fmt(lo), fmt((lo + hi) / 2), fmt(hi)], caption: "J" },
    });
  }

  // -- the plot -------------------------------------------------------------------------------

  paint() {
    const sf = this.surface;
    if (!sf) return;
    const drawing = startDrawing(this.canvas);
    if (!drawing) return;
    const { ctx, width, height } = drawing;
    const size = 11;
    const side = Math.max(40, Math.min(width - 58, height - 44));
    const area = { x: 48 + Math.max(0, (width - 58 - side) / 2), y: 6, w: side, h: side };
    const R = sf.resolution;
    const [[x0, x1], [y0, y1]] = sf.range;
    const sx = scale("linear", [x0, x1], [area.x, area.x + area.w]);
    const sy = scale("linear", [y0, y1], [area.y + area.h, area.y]);
    const [lo, hi] = range(sf.J);
    const u = (v) => (v == null ? 1 : (v - lo) / (hi - lo || 1));
    // Grid points sit on the range's ends: each pixel of the R x R image is centred on one.
    const dx = (sx.map(x1) - sx.map(x0)) / (R - 1);
    const dy = (sy.map(y0) - sy.map(y1)) / (R - 1);
    const values = Float32Array.from(sf.J.flat(), u);
    clipped(ctx, area, () => drawHeatmap(this.canvas, values, R, R, {
      mapper: { map: (v) => shade(v), dynamic: false }, wash: WASH,
      rect: { x: area.x - dx / 2, y: area.y - dy / 2, w: area.w + dx, h: area.h + dy },
    }));
    const at = (c, r) => [area.x + (c * area.w) / (R - 1), area.y + (r * area.h) / (R - 1)];
    clipped(ctx, area, () => contours(ctx, sf.J.map((row) => row.map((v) => shade(u(v)))), at));
    drawAxes(ctx, area, {
      x: { scale: sx, ticks: sx.ticks(5) }, y: { scale: sy, ticks: sy.ticks(5) }, marks: true, frame: "box", size,
    });
    const [p1, p2] = sf.parameters.map((p) => parameterLabel([p.layer, p.kind, p.i, p.j]));
    ctx.font = `italic ${size + 2}px ${FONT}`;
    ctx.fillStyle = "#3a3d44";
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.fillText(p1, area.x + area.w / 2, area.y + area.h + 34);
    ctx.save();
    ctx.translate(area.x - 36, area.y + area.h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText(p2, 0, 0);
    ctx.restore();
    const byMode = Object.fromEntries(sf.paths.map((p) => [p.mode, p]));
    const modes = Object.fromEntries(MODES.map((m) => [m.mode, m]));
    const toPx = ([a, b]) => [sx.map(a), sy.map(b)];
    for (const mode of PATH_ORDER) {
      const p = byMode[mode];
      const m = modes[mode];
      const points = p.points.map(toPx);
      drawPolyline(ctx, points, { color: "rgba(255,255,255,0.7)", width: mode === "stochastic" ? 3 : 4.5, clip: area });
      drawPolyline(ctx, points, { color: m.color, width: mode === "stochastic" ? 1.4 : 2.5, dash: m.dash, clip: area });
      const [ex, ey] = points[points.length - 1];
      clipped(ctx, area, () => dot(ctx, ex, ey, 3.5, m.color, "#fff"));
    }
    const [sx0, sy0] = toPx(sf.start);
    clipped(ctx, area, () => dot(ctx, sx0, sy0, 5.5, "#fff", "#222"));
    this.canvas.dataset.paths = JSON.stringify(sf.paths.map((p) => p.points.length));
  }
}

/** The colour drawHeatmap gives t, paled by WASH (for the key). */
function washed(t) {
  const [r, g, b] = rgb(t).map((c) => Math.round(255 - (255 - c) * (1 - WASH)));
  return `rgb(${r},${g},${b})`;
}

function dot(ctx, x, y, radius, fill, stroke) {
  ctx.beginPath();
  ctx.arc(x, y, radius, 0, 2 * Math.PI);
  ctx.fillStyle = fill;
  ctx.fill();
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = stroke;
  ctx.stroke();
}

function range(J) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of J) for (const v of row) if (v != null) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return Number.isFinite(lo) ? [lo, hi] : [0, 1];
}

function fmt(v) {
  if (v == null) return "–";
  return tickLabel(Number(v.toPrecision(3)));
}

/** Contour lines of `grid` (values in [0, 1], rows top to bottom) at LEVELS evenly spaced
 * levels, by marching squares; at(c, r) gives a grid point's position. */
function contours(ctx, grid, at) {
  const rows = grid.length;
  const cols = grid[0].length;
  ctx.strokeStyle = "rgba(255,255,255,0.75)";
  ctx.lineWidth = 0.9;
  ctx.beginPath();
  for (let level = 1; level < LEVELS; level++) {
    const t = level / LEVELS;
    for (let r = 0; r + 1 < rows; r++) {
      for (let c = 0; c + 1 < cols; c++) {
        // Corners in order round the cell: top left, top right, bottom right, bottom left.
        const corners = [[c, r], [c + 1, r], [c + 1, r + 1], [c, r + 1]];
        const v = corners.map(([cc, rr]) => grid[rr][cc]);
        const crossings = [];
        for (let e = 0; e < 4; e++) {
          const a = v[e];
          const b = v[(e + 1) % 4];
          if ((a < t) === (b < t)) continue;
          const f = (t - a) / (b - a);
          const [ca, ra] = corners[e];
          const [cb, rb] = corners[(e + 1) % 4];
          crossings.push(at(ca + f * (cb - ca), ra + f * (rb - ra)));
        }
        for (let k = 0; k + 1 < crossings.length; k += 2) {
          ctx.moveTo(...crossings[k]);
          ctx.lineTo(...crossings[k + 1]);
        }
      }
    }
  }
  ctx.stroke();
}
