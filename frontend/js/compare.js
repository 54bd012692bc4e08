// Batch vs stochastic vs mini-batch, side by side: three networks forked from the page's one
// (POST /fork), each given its batch mode (PATCH), reset to the same initial weights (the
// page's network's, PUT /parameters) and trained for the same number of epochs; their loss
// curves overlaid against epochs and against updates, and their boundaries next to each other.
import { Follower } from "./stream.js";
import { decodeGrid, drawHeatmap } from "./heatmap.js";
import { outputMapper, pointColors } from "./colors.js";
import { fmtLoss } from "./chart.js";
import { el } from "./dom.js";
import { drawLineChart, drawScatter, planeScales, renderKey } from "./plot.js";
import { batchFacts, sizeAdvice, updatesPerEpoch } from "./batchmodes.js";

const RES = 56; // boundary grid of each small plot
export const MODES = [
  { mode: "batch", label: "Batch", color: "#1f3a5f", dash: [] },
  { mode: "stochastic", label: "Stochastic", color: "#d55e00", dash: [] },
  { mode: "minibatch", label: "Mini-batch", color: "#009e73", dash: [6, 3] },
];

export class CompareView {
  /** ctx: {api, session, onError(err, what)} */
  constructor(host, ctx) {
    this.host = host;
    this.ctx = ctx;
    this.runs = []; // [{mode, label, color, id, token, state, history, grid, follower, done}]
    this.logY = false;
    this.build();
  }

  get session() { return this.ctx.session; }
  get api() { return this.ctx.api; }

  build() {
    const host = this.host;
    host.replaceChildren();
    host.classList.add("compare");
    host.setAttribute("data-testid", "compare");
    host.append(el("p", { class: "teach-intro", text: "Three copies of this network, the same data and the same initial "
      + "weights: an update uses every training sample (batch), one (stochastic) or a few (mini-batch); stochastic and "
      + "mini-batch reshuffle the data every epoch." }));
    const bar = el("div", { class: "cmp-controls" });
    this.runBtn = el("button", { class: "btn primary", type: "button", "data-testid": "cmp-run" }, "Compare the three");
    this.epochsSel = el("select", { "aria-label": "Epochs", "data-testid": "cmp-epochs" });
    for (const n of [20, 50, 100, 300]) this.epochsSel.append(el("option", { value: n, text: `${n} epochs` }));
    this.epochsSel.value = "100";
    this.sizeIn = el("input", { type: "number", min: "1", step: "1", value: "10", "aria-label": "Mini-batch size", title: "Samples per mini-batch" });
    this.speedSel = el("select", { "aria-label": "Speed", "data-testid": "cmp-speed" });
    for (const [v, t] of [[25, "25 epochs/s"], [60, "60 epochs/s"], [0, "full speed"]]) this.speedSel.append(el("option", { value: v, text: t }));
    this.speedSel.value = "60";
    const logBox = el("input", { type: "checkbox" });
    logBox.addEventListener("change", () => { this.logY = logBox.checked; this.drawCharts(); });
    bar.append(this.runBtn, this.epochsSel, el("label", { class: "cmp-size" }, "mini-batch ", this.sizeIn),
      this.speedSel, el("label", { class: "cmp-log" }, logBox, " log loss"));
    this.runBtn.addEventListener("click", () => this.run());
    this.status = el("p", { class: "cmp-status", role: "status", "data-testid": "cmp-status" });

    const legend = el("div", { class: "cmp-legend", "aria-hidden": "true" });
    renderKey(legend, { items: MODES.map((m) => ({ label: m.label, color: m.color, shape: "line", dash: m.dash.length > 0 })) });
    const charts = el("div", { class: "cmp-charts" });
    this.byEpoch = el("canvas", { role: "img", "aria-label": "Training loss against epochs", "data-testid": "cmp-chart-epochs" });
    this.byUpdate = el("canvas", { role: "img", "aria-label": "Training loss against updates", "data-testid": "cmp-chart-updates" });
    charts.append(
      el("figure", {}, el("figcaption", { text: "Training loss against epochs" }), this.byEpoch),
      el("figure", {}, el("figcaption", { text: "… against updates (log scale)" }), this.byUpdate));
    this.plots = el("div", { class: "cmp-plots" });
    this.cards = MODES.map((m) => {
      const canvas = el("canvas", { role: "img", "aria-label": `Boundary after ${m.label.toLowerCase()} training` });
      const title = el("div", { class: "cmp-title" }, el("i", { style: `background:${m.color}` }), m.label);
      const sub = el("div", { class: "cmp-sub" });
      const card = el("figure", { class: "cmp-card", "data-mode": m.mode }, title, canvas, sub);
      this.plots.append(card);
      return { canvas, sub, card };
    });
    this.facts = el("table", { class: "cmp-facts", "data-testid": "cmp-facts" });
    this.advice = el("p", { class: "cmp-advice", "data-testid": "cmp-advice" });
    const lecture = el("details", { class: "cmp-lecture" },
      el("summary", { text: "What the lecture says" }),
      el("ul", {},
        el("li", { text: "Batch: every update uses all the training data. It makes the most of parallel computing and "
          + "needs no shuffling, but holds all the data in memory and processes all of it for one update: for small datasets." }),
        el("li", { text: "Stochastic: one sample per update. Little memory and an update after every sample, but the "
          + "least parallel computing and a reshuffle every epoch: for large datasets." }),
        el("li", { text: "Mini-batch: a few samples per update, in between: some parallel computing, some of the data "
          + "in memory, a reshuffle every epoch. Good practice: small batches, from 2 to 32 samples." })));
    this.sizeIn.addEventListener("input", () => this.showFacts());
    host.append(bar, this.status, this.facts, this.advice, lecture, legend, charts, this.plots);
    new ResizeObserver(() => this.drawAll()).observe(charts);
    this.say("Press “Compare the three”: three copies of this network train side by side.");
    this.drawAll();
  }

  say(text, kind = "") {
    this.status.textContent = text;
    this.status.className = `cmp-status ${kind}`;
  }

  onState() {
    const st = this.session?.state;
    const problem = !st ? "No network yet." : st.spec?.rule === "perceptron"
      ? "The comparison is for backprop: this network uses the perceptron rule." : null;
    this.runBtn.disabled = !!problem || this.running;
    if (problem && !this.running) this.say(problem, "warn");
    if (st && !this.running && !this.runs.length) {
      this.sizeIn.value = String(st.spec?.batch?.size ?? 10);
    }
    this.showFacts();
  }

  get miniBatchSize() {
    return Math.max(1, Math.round(Number(this.sizeIn.value) || 10));
  }

  /** The three modes side by side for this network and its data: the lecture's section in numbers. */
  showFacts() {
    const sizes = this.session?.state?.sizes;
    const n = this.session?.data?.train?.x.length ?? 0;
    if (!sizes || !n) { this.facts.replaceChildren(); this.advice.textContent = ""; return; }
    const size = this.miniBatchSize;
    const facts = MODES.map((m) => batchFacts(m.mode, { n, size, sizes }));
    const row = (label, cell) => el("tr", {}, el("th", { scope: "row", text: label }),
      ...facts.map((f, i) => el("td", { "data-mode": MODES[i].mode, text: cell(f) })));
    this.facts.replaceChildren(
      el("caption", { text: `Per update, with ${n} training samples` }),
      el("tr", {}, el("td"), ...MODES.map((m) => el("th", { scope: "col", text: m.label }))),
      row("updates per epoch", (f) => f.updates.toLocaleString("en-US")),
      row("samples in memory", (f) => f.samples.toLocaleString("en-US")),
      row("memory (n, a, s)", (f) => formatBytes(f.bytes)),
      row("gradient noise", (f) => f.noise.toFixed(2)));
    this.advice.textContent = ["Gradient noise: the spread of an update's gradient around the whole set's, "
      + "relative to one sample's.", sizeAdvice(size)].filter(Boolean).join(" ");
  }

  // -- running ------------------------------------------------------------------------------

  async run() {
    const base = this.session.state;
    const baseId = this.session.id;
    if (!base || !baseId || this.running) return;
    this.running = true;
    this.runBtn.disabled = true;
    this.host.dataset.state = "starting";
    this.close(true);
    const epochs = Number(this.epochsSel.value);
    const size = this.miniBatchSize;
    const speed = Number(this.speedSel.value) || null;
    const n = this.session.data?.train?.x.length ?? 0;
    const layers = base.layers.map((l) => ({ W: l.W, b: l.b }));
    const seed = base.spec?.init?.seed ?? 0;
    this.say("Making three copies of this network…");
    try {
      this.runs = await Promise.all(MODES.map(async (m) => {
        const made = await this.api.fork(baseId);
        await this.api.patch(made.id, { batch: { mode: m.mode, size: m.mode === "minibatch" ? size : (base.spec?.batch?.size ?? 10) } }, made.token);
        await this.api.reset(made.id, seed, made.token);
        const state = await this.api.setParameters(made.id, layers, made.token);
        const perEpoch = updatesPerEpoch(m.mode, n, size);
        return { ...m, id: made.id, token: made.token, state, perEpoch, size,
          history: { epoch: [0], iteration: [0], train_loss: [state.metrics?.train_loss ?? null] }, grid: null, done: false };
      }));
      for (const r of this.runs) this.follow(r);
      await Promise.all(this.runs.map((r) => this.grid(r)));
      this.drawAll();
      this.host.dataset.state = "training";
      this.say(`Training all three for ${epochs} epochs…`);
      await Promise.all(this.runs.map((r) => this.api.train(r.id,
        { epochs, max_epochs_per_second: speed }, r.token)));
    } catch (err) {
      this.running = false;
      this.runBtn.disabled = false;
      this.host.dataset.state = "error";
      this.say(err.message, "error");
      this.ctx.onError?.(err, "The comparison");
    }
  }

  follow(r) {
    r.follower = new Follower({
      onProgress: (frame) => this.append(r, frame.history),
      onFrame: (frame) => {
        if (frame.boundary?.output) r.grid = decodeGrid(frame.boundary.output);
        this.drawAll();
      },
      onDone: (result) => this.finished(r, result),
    });
    r.follower.follow(this.api.eventsUrl(r.id, RES, false));
  }

  append(r, columns) {
    if (!columns?.epoch?.length) return;
    const h = r.history;
    const last = h.epoch[h.epoch.length - 1];
    columns.epoch.forEach((e, i) => {
      if (e <= last) return;
      h.epoch.push(e);
      h.iteration.push(columns.iteration?.[i] ?? null);
      h.train_loss.push(columns.train_loss?.[i] ?? null);
    });
  }

  async grid(r) {
    try {
      const g = await this.api.boundary(r.id, { resolution: RES });
      r.grid = decodeGrid(g.output);
    } catch { /* drawn without */ }
  }

  async finished(r, result) {
    r.done = true;
    r.result = result;
    try {
      const [history, state] = await Promise.all([
        this.api.history(r.id),
        this.api.get(r.id),
        this.grid(r),
      ]);
      r.history = history;
      r.state = state;
    } catch { /* keep what the stream gave */ }
    r.follower?.close();
    this.drawAll();
    if (this.runs.every((x) => x.done)) {
      this.running = false;
      this.runBtn.disabled = false;
      this.host.dataset.state = "done";
      const diverged = this.runs.filter((x) => x.result?.reason === "diverged");
      this.say(diverged.length
        ? `Done. ${diverged.map((x) => x.label).join(", ")} diverged: try a smaller learning rate.`
        : "Done. Compare the curves per epoch (left) and per update (right), and the three boundaries.",
      diverged.length ? "warn" : "good");
    }
  }

  /** Stop and forget the three networks (deleted: they were only for this comparison). */
  close(remove = false) {
    for (const r of this.runs) {
      r.follower?.close();
      if (remove) this.api.remove(r.id, r.token).catch(() => {});
    }
    this.runs = [];
  }

  // -- drawing ------------------------------------------------------------------------------

  drawAll() {
    this.drawCharts();
    this.drawPlots();
  }

  drawCharts() {
    const series = (xKey) => this.runs.map((r) => ({ color: r.color, dash: r.dash, width: 2,
      points: r.history[xKey].map((x, i) => [x, r.history.train_loss[i]]) }));
    const y = { kind: this.logY ? "log" : "linear" };
    const charts = [
      [this.byEpoch, drawLineChart(this.byEpoch, { series: series("epoch"), x: { kind: "linear", integer: true, least: 1 }, y })],
      [this.byUpdate, drawLineChart(this.byUpdate, { series: series("iteration"), x: { kind: "log" }, y })],
    ];
    for (const [canvas, layout] of charts) if (layout) canvas.dataset.points = JSON.stringify(layout.drawn);
    this.host.dataset.curves = String(this.runs.filter((r) => r.history.train_loss.filter((v) => v != null).length >= 2).length);
    this.byEpoch.dataset.series = JSON.stringify(this.runs.map((r) => r.history.epoch.length));
  }

  drawPlots() {
    const data = this.session?.data;
    MODES.forEach((m, i) => {
      const { canvas, sub } = this.cards[i];
      const r = this.runs[i];
      const dpr = window.devicePixelRatio || 1;
      const size = Math.round(canvas.clientWidth * dpr);
      if (!size) return;
      if (canvas.width !== size) { canvas.width = size; canvas.height = size; }
      const ctx = canvas.getContext("2d");
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.fillStyle = "#f3f4f5";
      ctx.fillRect(0, 0, size, size);
      const st = r?.state ?? this.session?.state;
      if (r?.grid) drawHeatmap(canvas, r.grid.channel(0), r.grid.rows, r.grid.cols, { mapper: outputMapper(st), wash: 0.3 });
      const dom = st?.domain ?? data?.domain;
      if (data?.train && dom) {
        const rect = { x: 0, y: 0, w: size, h: size };
        const plane = planeScales(dom, rect);
        drawScatter(ctx, data.train.x, { at: ([x1, x2]) => [plane.x.map(x1), plane.y.map(x2)],
          color: pointColors(data, data.train.y), radius: Math.max(1.6, size / 110),
          lineWidth: Math.max(0.8, dpr * 0.6), clip: rect });
      }
      if (!r) {
        sub.textContent = `${m.mode === "batch" ? "every sample" : m.mode === "stochastic" ? "one sample" : "a few samples"} per update`;
        return;
      }
      const h = r.history;
      const loss = h.train_loss[h.train_loss.length - 1];
      const ep = h.epoch[h.epoch.length - 1] ?? 0;
      const it = h.iteration[h.iteration.length - 1] ?? 0;
      sub.replaceChildren(`${r.perEpoch} update${r.perEpoch === 1 ? "" : "s"} per epoch`, el("br"),
        `epoch ${ep} · ${it.toLocaleString("en-US")} updates`, el("br"), el("b", { text: `loss ${fmtLoss(loss)}` }));
    });
  }
}

function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
}
