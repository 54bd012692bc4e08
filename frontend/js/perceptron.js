// The perceptron learning rule, one sample at a time (the API's forward, backward and update
// on a single-layer hard-limit network): the sample highlighted on a plot of the data, e = y − ŷ,
// the update W¹ = W¹ + η (y − ŷ) x, b¹ = b¹ + η (y − ŷ) written out with the numbers, the boundary line
// moving (the old one dashed), the errors of every epoch, and the server's verdict at the end of
// a run: converged, or no line separates the data.
import * as M from "./mathml.js";
import { pointColors } from "./colors.js";
import { featureFunction } from "./features.js";
import { el } from "./dom.js";
import { activationLabel } from "./catalog.js";
import { clipped, drawAxes, drawPlaneAxes, drawScatter, planeScales, pointRadius, scale, startDrawing } from "./plot.js";

const ERR_COLOR = "#b3261e";

export class PerceptronView {
  /** ctx: {api, session, onError(err, what)} */
  constructor(host, ctx) {
    this.host = host;
    this.ctx = ctx;
    this.errors = new Map(); // completed epoch -> misclassified samples during it
    this.networkId = null;
    this.last = null; // the last step: {x, a0, y, n, yhat, e, before: {W, b}, after: {W, b}, index}
    this.previous = null; // the line before the last update {W, b}
    this.verdict = null; // {reason, message}
    this.build();
  }

  get session() { return this.ctx.session; }
  get api() { return this.ctx.api; }

  build() {
    this.host.replaceChildren();
    this.host.classList.add("perceptron");
    this.host.setAttribute("data-testid", "perceptron");
    const error = () => M.paren(M.bf("y"), M.minus(), M.hat(M.bf("y")));
    this.intro = el("p", { class: "teach-intro" },
      "The perceptron learning rule, for each sample (the lecture's equations 6 and 7): ",
      M.math(M.row(M.sym("W", 1), M.eq(), M.sym("W", 1), M.plus(), M.mi("η"), error(), M.bf("x"), M.mo(","),
        M.space(0.6), M.sym("b", 1), M.eq(), M.sym("b", 1), M.plus(), M.mi("η"), error()), { display: "inline" }),
      ", with x the sample as a row (a⁰ = xᵀ). The weights change only when the sample is misclassified.");
    this.notice = el("div", { class: "teach-notice", hidden: true });

    const bar = el("div", { class: "pc-buttons" });
    this.stepBtn = el("button", { class: "btn primary", type: "button", "data-testid": "pc-step" }, "Next sample");
    this.runBtn = el("button", { class: "btn", type: "button", "data-testid": "pc-run" }, "Run the rule");
    this.resetBtn = el("button", { class: "btn", type: "button", title: "Back to zero weights, counters cleared" }, "Start over");
    this.epochsSel = el("select", { "aria-label": "Epochs at most", "data-testid": "pc-epochs" });
    for (const n of [10, 20, 50, 200]) this.epochsSel.append(el("option", { value: n, text: String(n) }));
    this.epochsSel.value = "20";
    this.speedSel = el("select", { "aria-label": "Speed of the run", "data-testid": "pc-speed" });
    // At most 10 epochs a second: the view reads each epoch's errors from the state as it goes.
    for (const [v, t] of [[2, "2 per second"], [5, "5 per second"], [10, "10 per second"], [0, "full speed"]]) {
      this.speedSel.append(el("option", { value: v, text: t }));
    }
    this.speedSel.value = "5";
    this.speedSel.title = "At full speed some epochs go by between two looks: their errors are not shown";
    bar.append(this.stepBtn, this.runBtn, this.resetBtn);
    const how = el("div", { class: "pc-how" }, "The run: at most ", this.epochsSel, " epochs, ", this.speedSel,
      " (the server stops it at the first epoch without an error).");
    this.stepBtn.addEventListener("click", () => this.step());
    this.runBtn.addEventListener("click", () => (this.training ? this.stop() : this.run()));
    this.resetBtn.addEventListener("click", () => this.startOver());

    const top = el("div", { class: "pc-top" });
    this.canvas = el("canvas", { class: "pc-plot", role: "img", "aria-label": "The data and the perceptron's line", "data-testid": "pc-plot" });
    const side = el("div", { class: "pc-side" });
    this.counter = el("p", { class: "pc-counter", "data-testid": "pc-counter" });
    this.chart = el("canvas", { class: "pc-errors", role: "img", "aria-label": "Errors per epoch", "data-testid": "pc-errors" });
    side.append(el("div", { class: "field-label", text: "Errors per epoch" }), this.chart, this.counter);
    top.append(this.canvas, side);
    this.verdictBox = el("div", { class: "pc-verdict", hidden: true, role: "status", "data-testid": "pc-verdict" });
    this.stepBox = el("div", { class: "pc-step", "data-testid": "pc-equations" });
    this.host.append(this.intro, this.notice, bar, how, top, this.verdictBox, this.stepBox);
    new ResizeObserver(() => this.draw()).observe(this.canvas);
    new ResizeObserver(() => this.refitEquations()).observe(this.stepBox);
    this.sync();
  }

  // -- what the network allows ----------------------------------------------------------------

  get training() {
    const s = this.session?.state?.status;
    return s === "training" || s === "queued";
  }

  /** Why the rule cannot be stepped here (or null). */
  problem() {
    const st = this.session?.state;
    if (!st) return "No network yet.";
    if (this.session.readOnly) return "You are watching someone else's network: fork it to train it yourself.";
    if (st.spec?.rule !== "perceptron") return "rule";
    return null;
  }

  sync() {
    const st = this.session?.state;
    const problem = this.problem();
    const busy = this.busy;
    this.stepBtn.disabled = !!problem || busy || this.training;
    this.runBtn.disabled = !!problem || busy;
    this.resetBtn.disabled = !!problem || busy || this.training;
    this.runBtn.textContent = this.training ? "Stop" : "Run the rule";
    this.runBtn.classList.toggle("primary", this.training);
    this.notice.hidden = !problem;
    this.notice.replaceChildren();
    if (problem === "rule") {
      const b = el("button", { class: "btn small", type: "button", text: "Use the perceptron rule here" });
      b.addEventListener("click", () => this.session.change({ rule: "perceptron" }));
      this.notice.append("The perceptron rule trains a single layer of hard-limit neurons; this network uses backprop. ", b);
    } else if (problem) {
      this.notice.textContent = problem;
    } else if (st?.spec?.batch?.mode !== "stochastic") {
      this.notice.hidden = false;
      this.notice.textContent = "The rule takes one sample at a time: “Next sample” sets the batch mode to Stochastic.";
    }
    const p = st?.perceptron;
    this.counter.textContent = st ? `${st.epoch} epoch${st.epoch === 1 ? "" : "s"} done · epoch ${st.epoch + 1} so far: `
      + `${p?.epoch_errors ?? 0} error${p?.epoch_errors === 1 ? "" : "s"}` : "";
    this.host.dataset.converged = String(!!p?.converged);
  }

  // -- from the page --------------------------------------------------------------------------

  onState(state) {
    if (!state) return;
    if (this.session.id !== this.networkId) {
      this.networkId = this.session.id;
      this.errors = new Map();
      this.last = null;
      this.previous = null;
      this.verdict = state.last_run && ["converged", "not_converged"].includes(state.last_run.reason) ? state.last_run : null;
      this.host.dataset.verdict = this.verdict?.reason ?? "";
      this.renderStep();
    }
    this.record(state);
    this.sync();
    this.draw();
    this.showVerdict();
  }

  onFrame() {
    this.draw();
  }

  onData() {
    this.draw();
  }

  onDone(result) {
    if (["converged", "not_converged", "stopped", "finished"].includes(result.reason)
      && this.session.state?.spec?.rule === "perceptron") {
      this.verdict = result;
      this.host.dataset.verdict = result.reason;
      this.showVerdict();
    }
    clearInterval(this.poll);
    this.poll = null;
    this.refresh();
  }

  /** The errors of each completed epoch from the state's perceptron counters. */
  record(state) {
    const p = state?.perceptron;
    // The counters are those of the epoch they were read at (a frame's state keeps older ones).
    const epoch = p?.epoch ?? state?.epoch;
    if (!p || epoch == null) return;
    if (epoch > 0 && p.last_epoch_errors != null && this.errors.get(epoch) == null) {
      // Epochs that went by between two looks are unknown (null): drawn as a grey mark.
      const known = [...this.errors.keys()];
      const last = known.length ? Math.max(...known) : epoch - 1;
      for (let e = last + 1; e < epoch; e++) if (!this.errors.has(e)) this.errors.set(e, null);
      this.errors.set(epoch, p.last_epoch_errors);
    }
  }

  async refresh() {
    if (!this.session.id) return;
    try {
      const state = await this.api.get(this.session.id);
      this.record(state);
      this.drawErrors();
    } catch { /* the next state will do */ }
  }

  // -- actions --------------------------------------------------------------------------------

  async ensureStochastic() {
    const st = this.session.state;
    if (st?.spec?.batch?.mode === "stochastic") return;
    await this.session.patch({ batch: { mode: "stochastic", size: 1 } });
  }

  async step() {
    const id = this.session.id;
    if (!id || this.busy) return;
    this.busy = true;
    this.sync();
    try {
      await this.ensureStochastic();
      const before = this.session.state.layers.map((l) => ({ W: l.W.map((r) => [...r]), b: [...l.b] }));
      const eta = this.session.state.spec.learning_rate;
      const post = (what) => this.session.teachingStep(what);
      // A batch half done elsewhere (the backprop lab): finish it first, then go on.
      const pending = this.session.state?.next_step;
      if (pending === "backward") await post("backward");
      if (pending === "backward" || pending === "update") await post("update");
      const fw = await post("forward");
      const bw = await post("backward");
      const up = await post("update");
      const after = up.layers.map((l) => ({ W: l.W, b: l.b }));
      this.previous = before[0];
      this.last = {
        index: fw.indices?.[0] ?? null,
        a0: fw.x[0],
        y: fw.y[0],
        n: fw.layers[0].n[0],
        yhat: fw.layers[0].a[0],
        e: bw.layers[0].e[0],
        before: before[0],
        after: after[0],
        eta,
        epoch: up.epoch,
      };
      this.renderStep();
      await this.refresh();
      this.session.reload();
      this.session.refreshSoon();
    } catch (err) {
      this.ctx.onError?.(err, "The perceptron step");
    } finally {
      this.busy = false;
      this.sync();
      this.draw();
    }
  }

  async run() {
    const id = this.session.id;
    if (!id) return;
    this.busy = true;
    this.sync();
    try {
      await this.ensureStochastic();
      this.verdict = null;
      this.host.dataset.verdict = "";
      this.showVerdict();
      const speed = Number(this.speedSel.value) || null;
      if (!(await this.session.train({ epochs: Number(this.epochsSel.value), max_epochs_per_second: speed },
        "Starting the perceptron rule"))) return;
      this.previous = null;
      this.last = null;
      this.renderStep();
      clearInterval(this.poll);
      // The errors of each epoch as the run goes (the state's perceptron counters).
      this.poll = setInterval(() => this.refresh(), speed ? Math.max(20, Math.min(100, 400 / speed)) : 50);
    } catch (err) {
      this.ctx.onError?.(err, "Starting the perceptron rule");
    } finally {
      this.busy = false;
      this.sync();
    }
  }

  async stop() {
    await this.session.pause();
    this.sync();
  }

  async startOver() {
    if (!this.session.id) return;
    try {
      if (!(await this.session.reset(this.session.state?.spec?.init?.seed ?? 0))) return;
      this.errors = new Map();
      this.last = null;
      this.previous = null;
      this.verdict = null;
      this.host.dataset.verdict = "";
      this.renderStep();
      this.showVerdict();
    } catch (err) {
      this.ctx.onError?.(err, "Starting over");
    }
  }

  // -- the equations of the last step ------------------------------------------------------------

  renderStep() {
    const box = this.stepBox;
    box.replaceChildren();
    const s = this.last;
    if (!s) {
      box.append(el("p", { class: "hint", text: "Press “Next sample”: the next training sample (in this epoch's shuffled order) goes through W x + b, and the rule corrects the weights if the answer is wrong." }));
      return;
    }
    const data = this.session.data?.train;
    const n = data?.x.length ?? 0;
    const f = (v) => M.fmt(v);
    const point = s.index != null && data ? data.x[s.index] : null;
    const wrong = s.e.some((v) => v !== 0);
    box.append(el("p", { class: "pc-sample" },
      el("b", { text: s.index != null ? `Sample #${s.index + 1} of ${n}` : "The sample" }),
      point ? `: x = (${point.map(f).join(", ")}), target y = ${s.y.map(f).join(", ")}` : ""));
    const one = s.n.length === 1;
    const W = s.before.W;
    const add = (id, lhs, steps, value, opts = {}) => {
      const wrap = el("div", { class: "eqn", "data-testid": `pc-${id}` });
      if (value != null) wrap.dataset.value = JSON.stringify(value);
      box.append(wrap);
      M.fitted(wrap, lhs, steps, opts);
      return wrap;
    };
    const res = (node) => { const r = M.row(node); r.setAttribute("class", "result"); return r; };
    const col = (v) => M.column(v);
    // The lecture's names: a single neuron's weights are a row w¹, its n¹, b¹ and ŷ numbers.
    const error = () => M.row(M.mi("y"), M.minus(), M.hat(M.mi("y"))); // e = y − ŷ
    const w1 = () => M.sym(one ? "w" : "W", 1);
    const b1 = () => M.sym("b", 1, { scalar: one });
    add("n", M.sym("n", 1, { scalar: one }), [
      M.row(w1(), M.sym("a", 0), M.plus(), b1()),
      M.row(M.matrix(W), col(s.a0), ...(one ? M.signed(s.before.b[0]) : [M.plus(), col(s.before.b)])),
      res(col(s.n)),
    ], M.plain(s.n));
    const name = this.session.state?.layers?.[0]?.activation ?? "hardlim";
    const act = activationLabel(name, this.session.catalog);
    add("yhat", one ? M.hat(M.mi("y")) : M.hat(M.bf("y")), [
      M.row(M.up(act), M.paren(M.sym("n", 1, { scalar: one }))),
      M.row(M.up(act), M.paren(col(s.n))),
      res(col(s.yhat)),
    ], M.plain(s.yhat));
    const eWrap = add("e", one ? M.mi("e") : M.bf("e"), [
      error(),
      one ? M.row(M.num(s.y[0]), M.minus(), M.num(s.yhat[0], { paren: true })) : M.row(col(s.y), M.minus(), col(s.yhat)),
      res(col(s.e)),
    ], M.plain(s.e));
    eWrap.append(el("span", { class: `pc-tag ${wrong ? "wrong" : "right"}`,
      text: wrong ? "misclassified: the line moves" : "right: nothing changes" }));
    const eNode = () => (one ? M.num(s.e[0], { paren: true }) : col(s.e));
    add("W", w1(), [
      M.row(w1(), M.plus(), M.mi("η"), M.paren(error()), M.bf("x")),
      M.row(M.matrix(W), M.plus(), M.num(s.eta), M.times(), eNode(), M.times(), M.rowVector(s.a0, { scalar: true })),
      res(M.matrix(s.after.W, { scalar: false })),
    ], M.plain(s.after.W));
    add("b", b1(), [
      M.row(b1(), M.plus(), M.mi("η"), M.paren(error())),
      M.row(col(s.before.b), M.plus(), M.num(s.eta), M.times(), eNode()),
      res(col(s.after.b)),
    ], M.plain(s.after.b));
    this.refitEquations();
  }

  refitEquations() {
    for (const wrap of this.stepBox.querySelectorAll(".eqn")) M.refit(wrap);
  }

  showVerdict() {
    const v = this.verdict;
    const box = this.verdictBox;
    box.hidden = !v;
    if (!v) return;
    box.className = `pc-verdict ${v.reason}`;
    box.replaceChildren();
    const titles = {
      converged: "Converged: a line separates the data.",
      not_converged: "Not converged: no line separates this data.",
      stopped: "Stopped.",
      finished: "Finished.",
    };
    box.append(el("strong", { text: titles[v.reason] || v.reason }), " ", v.message || "");
  }

  // -- drawing ------------------------------------------------------------------------------

  draw() {
    this.drawPlot();
    this.drawErrors();
  }

  drawPlot() {
    const c = startDrawing(this.canvas);
    if (!c) return;
    const { ctx, width: W, height: H } = c;
    const st = this.session?.state;
    const data = this.session?.data;
    if (!st || !data) return;
    const dom = st.domain || data.domain || { x1: [-6, 6], x2: [-6, 6] };
    const pad = { l: 40, r: 8, t: 8, b: 30 };
    const size = Math.min(W - pad.l - pad.r, H - pad.t - pad.b);
    const rect = { x: pad.l, y: pad.t, w: size, h: size };
    const plane = planeScales(dom, rect);
    const X = plane.x.map;
    const Y = plane.y.map;
    const layer = st.layers?.[0];
    const features = st.spec?.features || ["x1", "x2"];
    const single = st.layers?.length === 1;
    // The two sides of the line, shaded (computed here: n = W a0 + b of the first output).
    if (layer && single) {
      const R = 80;
      const fs = features.map(featureFunction);
      const off = this.offscreen || (this.offscreen = document.createElement("canvas"));
      off.width = R;
      off.height = R;
      const octx = off.getContext("2d");
      const img = octx.createImageData(R, R);
      for (let r = 0; r < R; r++) {
        for (let q = 0; q < R; q++) {
          const x1 = dom.x1[0] + ((q + 0.5) / R) * (dom.x1[1] - dom.x1[0]);
          const x2 = dom.x2[1] - ((r + 0.5) / R) * (dom.x2[1] - dom.x2[0]);
          let n = layer.b[0];
          fs.forEach((fn, j) => { n += layer.W[0][j] * fn(x1, x2); });
          const c = n >= 0 ? [214, 230, 243] : [253, 233, 210]; // pale blue / pale orange
          img.data.set([...c, 255], (r * R + q) * 4);
        }
      }
      octx.putImageData(img, 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(off, pad.l, pad.t, size, size);
      ctx.imageSmoothingEnabled = true;
    }
    drawPlaneAxes(ctx, rect, plane, { count: 4, size: 11, titleAt: { below: H - pad.t - size, left: pad.l - 9 } });
    // The lines: before the last update (dashed) and now.
    const linear = features.length === 2 && features[0] === "x1" && features[1] === "x2";
    const line = (l, style, dash, width) => {
      if (!l || !linear) return;
      const [w1, w2] = l.W[0];
      const b = l.b[0];
      let p;
      if (Math.abs(w2) > 1e-12) {
        p = [[dom.x1[0], -(w1 * dom.x1[0] + b) / w2], [dom.x1[1], -(w1 * dom.x1[1] + b) / w2]];
      } else if (Math.abs(w1) > 1e-12) {
        p = [[-b / w1, dom.x2[0]], [-b / w1, dom.x2[1]]];
      } else return; // W = 0: no line (every point on one side)
      ctx.strokeStyle = style;
      ctx.lineWidth = width;
      ctx.setLineDash(dash);
      ctx.beginPath();
      ctx.moveTo(X(p[0][0]), Y(p[0][1]));
      ctx.lineTo(X(p[1][0]), Y(p[1][1]));
      ctx.stroke();
      ctx.setLineDash([]);
    };
    clipped(ctx, rect, () => {
      if (single && this.previous && this.last) line(this.previous, "rgba(40,40,50,0.45)", [5, 4], 1.5);
      if (single && layer) line(layer, "#1d1d1f", [], 2.2);
    });
    if (single && layer && linear && layer.W[0].every((w) => Math.abs(w) < 1e-12)) {
      const text = "W = 0: no line, all on one side";
      ctx.font = "11px system-ui, sans-serif";
      const w = Math.min(size - 8, ctx.measureText(text).width + 12);
      ctx.fillStyle = "rgba(255,255,255,0.88)";
      ctx.fillRect(pad.l + (size - w) / 2, pad.t + 6, w, 20);
      ctx.fillStyle = "#3a3d44";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText(text, pad.l + size / 2, pad.t + 16, size - 12);
    }
    // The points; the current sample ringed.
    const set = data.train;
    const r = pointRadius(set.x.length);
    drawScatter(ctx, set.x, { at: ([x1, x2]) => [X(x1), Y(x2)], color: pointColors(data, set.y), radius: r,
      lineWidth: 1.5, clip: { x: 0, y: 0, w: W, h: H } });
    const s = this.last;
    if (s && s.index != null && set.x[s.index]) {
      const pt = set.x[s.index];
      const wrong = s.e.some((v) => v !== 0);
      ctx.beginPath();
      ctx.arc(X(pt[0]), Y(pt[1]), r + 5, 0, 2 * Math.PI);
      ctx.strokeStyle = wrong ? ERR_COLOR : "#1b7f4b";
      ctx.lineWidth = 2.5;
      ctx.stroke();
    }
  }

  drawErrors() {
    const c = startDrawing(this.chart);
    if (!c) return;
    const { ctx, width: W, height: H } = c;
    const n = this.session?.data?.train?.x.length ?? 4;
    const epochs = [...this.errors.keys()].sort((a, b) => a - b);
    this.chart.dataset.errors = JSON.stringify(epochs.map((e) => [e, this.errors.get(e)]));
    const area = { x: 26, y: 7, w: W - 32, h: H - 26 };
    const top = Math.max(1, n, ...epochs.map((e) => this.errors.get(e) ?? 0));
    const count = Math.max(10, epochs[epochs.length - 1] ?? 0);
    // Epoch e is the bar from e - 0.5 to e + 0.5.
    const x = scale("linear", [0.5, count + 0.5], [area.x, area.x + area.w], { integer: true });
    const y = scale("linear", [0, top], [area.y + area.h, area.y]);
    drawAxes(ctx, area, {
      x: { scale: x, ticks: epochs.length ? x.ticks(Math.max(2, Math.floor(area.w / 34))).filter((e) => e >= 1) : [] },
      y: { scale: y, ticks: [0, top] },
    });
    if (!epochs.length) {
      ctx.textAlign = "center";
      ctx.fillText("no epoch completed yet", area.x + area.w / 2, area.y + area.h / 2);
      return;
    }
    const bw = area.w / count;
    const base = y.map(0);
    for (const e of epochs) {
      const v = this.errors.get(e);
      const left = x.map(e - 0.5);
      if (v == null) { // an epoch that went by between two looks
        ctx.fillStyle = "#c9ccd2";
        ctx.fillRect(left + bw * 0.35, base - 3, bw * 0.3, 3);
        continue;
      }
      const bh = Math.max(base - y.map(v), v === 0 ? 2 : 0);
      ctx.fillStyle = v === 0 ? "#1b7f4b" : "#c0564b";
      ctx.fillRect(left + bw * 0.15, base - bh, bw * 0.7, bh);
    }
  }
}
