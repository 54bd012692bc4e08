// The truth table of the logic datasets (AND, OR, XOR, or any small set of points): the
// inputs, the target, the network's output live (POST /predict, throttled while it trains) and
// its class, misclassified rows marked. A network without hidden layer also shows its net input
// n = W x + b per row; a small hidden layer shows its neurons' outputs (computed here from the
// weights, as the lecture does by hand).
import * as M from "./mathml.js";
import { featureFunction } from "./features.js";
import { el } from "./dom.js";
import { activationLabel, datasetLabel, isFixedPoints } from "./catalog.js";

const MAX_ROWS = 16;
const THROTTLE_MS = 200;

const ACT = {
  hardlim: (n) => (n >= 0 ? 1 : 0),
  hardlims: (n) => (n >= 0 ? 1 : -1),
  relu: (n) => (n >= 0 ? n : 0),
  linear: (n) => n,
  sigmoid: (n) => 1 / (1 + Math.exp(-n)),
  tanh: (n) => Math.tanh(n),
};

export class TruthTable {
  /** ctx: {api, session} */
  constructor(host, ctx) {
    this.host = host;
    this.ctx = ctx;
    this.prediction = null;
    this.pending = false;
    this.last = 0;
    host.classList.add("truth");
    host.setAttribute("data-testid", "truth");
    this.intro = el("p", { class: "teach-intro" });
    this.table = el("table", { class: "truth-table", "data-testid": "truth-table" });
    this.summary = el("p", { class: "truth-summary", role: "status", "data-testid": "truth-summary" });
    this.formula = el("div", { class: "truth-formula" });
    host.append(this.intro, this.formula, this.table, this.summary);
  }

  get session() { return this.ctx.session; }

  rows() {
    const d = this.session?.data;
    if (!d?.train) return null;
    const x = d.train.x;
    if (!x.length || x.length > MAX_ROWS || d.task !== "classification") return null;
    return x.map((p, i) => ({ x: p, y: d.train.y[i] }));
  }

  onState() { this.schedule(); }
  onFrame() { this.schedule(); }
  onData() { this.prediction = null; this.schedule(true); }

  /** A new prediction at most every THROTTLE_MS (the table is live while training). */
  schedule(now = false) {
    if (this.host.closest("[hidden]")) { this.stale = true; return; }
    const wait = now ? 0 : Math.max(0, THROTTLE_MS - (performance.now() - this.last));
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.predict(), wait);
  }

  shown() {
    if (this.stale) { this.stale = false; this.schedule(true); }
  }

  async predict() {
    const rows = this.rows();
    const id = this.session?.id;
    if (!rows || !id) { this.render(); return; }
    if (this.pending) { this.again = true; return; }
    this.pending = true;
    this.last = performance.now();
    try {
      const answer = await this.ctx.api.predict(id, rows.map((r) => r.x));
      if (id === this.session.id) this.prediction = { id, ...answer };
    } catch {
      this.prediction = null;
    } finally {
      this.pending = false;
      this.render();
      if (this.again) { this.again = false; this.schedule(); }
    }
  }

  /** The hidden layers' outputs at a point, from the current weights (small networks only). */
  hiddenOutputs(point) {
    const st = this.session.state;
    const features = st?.spec?.features || ["x1", "x2"];
    let a = features.map((f) => featureFunction(f)(point[0], point[1]));
    const out = [];
    for (const layer of st.layers.slice(0, -1)) {
      const f = ACT[layer.activation] || ((n) => n);
      a = layer.W.map((row, i) => f(row.reduce((s, w, j) => s + w * a[j], layer.b[i])));
      out.push(a);
    }
    return out;
  }

  render() {
    const st = this.session?.state;
    const rows = this.rows();
    this.table.replaceChildren();
    this.formula.replaceChildren();
    if (!rows || !st) {
      this.intro.textContent = "The truth table is for the logic datasets (AND, OR, XOR) and other small sets of points: pick one in the Data column or a lesson.";
      this.summary.textContent = "";
      this.host.dataset.errors = "";
      return;
    }
    const name = st.spec?.dataset?.name;
    const info = this.session.catalog.datasets.find((d) => d.name === name);
    this.intro.textContent = isFixedPoints(info)
      ? `Logic ${datasetLabel(name, this.session.catalog)}: every input pair, its target, and what this network answers.`
      : "Every training point, its target, and what this network answers.";
    const features = st.spec?.features || ["x1", "x2"];
    const single = st.layers.length === 1 && st.outputs === 1;
    const hiddenCount = st.sizes.slice(1, -1).reduce((a, b) => a + b, 0);
    const showHidden = !single && hiddenCount > 0 && hiddenCount <= 4;
    const threshold = st.targets?.threshold ?? 0.5;
    // The single layer's formula: yhat = f(w1 x1 + w2 x2 + b), with the numbers.
    if (single) {
      const L = st.layers[0];
      const terms = [];
      L.W[0].forEach((w, j) => {
        if (j) terms.push(w < 0 ? M.minus() : M.plus());
        const c = j === 0 ? w : Math.abs(w);
        const coef = c === 1 ? [] : c === -1 ? [M.mo("−")] : [M.num(c)];
        terms.push(M.row(...coef, M.sub(M.mi("x"), j + 1)));
      });
      terms.push(L.b[0] < 0 ? M.minus() : M.plus(), M.num(Math.abs(L.b[0])));
      this.formula.append(M.math(M.row(M.hat(M.mi("y")), M.eq(), M.up(activationLabel(L.activation, this.session.catalog)),
        M.paren(M.sym("n", 1, { scalar: true })), M.mo(","), M.space(0.8), M.sym("n", 1, { scalar: true }), M.eq(),
        M.sym("w", 1), M.sym("a", 0), M.plus(), M.sym("b", 1, { scalar: true }), M.eq(), ...terms), { display: "block" }));
    }
    // A small multi-layer network: each layer's formula with its weights, as the lecture designs it.
    if (!single && showHidden && st.outputs === 1) {
      const rowsOf = [];
      st.layers.forEach((layer, k) => {
        const last = k === st.layers.length - 1;
        const one = layer.b.length === 1;
        const lhs = last ? M.hat(M.mi("y")) : M.sym("a", k + 1);
        rowsOf.push(M.math(M.row(lhs, M.eq(), M.up(activationLabel(layer.activation, this.session.catalog)), M.paren(
          M.matrix(layer.W, { scalar: false }), M.sym("a", k),
          ...(one ? [layer.b[0] < 0 ? M.minus() : M.plus(), M.num(Math.abs(layer.b[0]))] : [M.plus(), M.column(layer.b)]))),
        { display: "block" }));
      });
      this.formula.append(...rowsOf);
    }
    const head = el("tr", {}, el("th", { scope: "col", text: "x₁" }), el("th", { scope: "col", text: "x₂" }));
    head.append(el("th", { scope: "col", class: "target", text: "target y" }));
    if (single) head.append(el("th", { scope: "col", text: "n = W x + b" }));
    if (showHidden) {
      st.sizes.slice(1, -1).forEach((p, k) => {
        for (let i = 0; i < p; i++) head.append(el("th", { scope: "col", class: "hidden-col", text: `a${sup(k + 1)}${sub(i + 1)}` }));
      });
    }
    head.append(el("th", { scope: "col", text: "output ŷ" }), el("th", { scope: "col", text: "class" }), el("th", { scope: "col", text: "" }));
    this.table.append(el("thead", {}, head));
    const body = el("tbody");
    const pred = this.prediction?.id === this.session.id ? this.prediction : null;
    let wrongCount = 0;
    rows.forEach((r, i) => {
      const tr = el("tr", { "data-row": String(i) });
      tr.append(el("td", { text: M.fmt(r.x[0]) }), el("td", { text: M.fmt(r.x[1]) }),
        el("td", { class: "target", text: M.fmt(r.y) }));
      if (single) {
        const L = st.layers[0];
        const a0 = features.map((f) => featureFunction(f)(r.x[0], r.x[1]));
        const n = L.W[0].reduce((s, w, j) => s + w * a0[j], L.b[0]);
        tr.append(el("td", { class: "num", text: M.fmt(n) }));
      }
      if (showHidden) {
        for (const layer of this.hiddenOutputs(r.x)) for (const v of layer) tr.append(el("td", { class: "hidden-col", text: M.fmt(v) }));
      }
      const y = pred?.y?.[i];
      const cls = pred?.classes?.[i];
      const out = y ? (y.length === 1 ? M.fmt(y[0]) : `(${y.map((v) => M.fmt(v, 3)).join(", ")})`) : "…";
      const known = cls != null;
      const wrong = known && cls !== r.y;
      if (wrong) wrongCount++;
      tr.classList.toggle("wrong", wrong);
      tr.classList.toggle("right", known && !wrong);
      tr.append(el("td", { class: "num out", text: out }), el("td", { class: "num", text: known ? String(cls) : "…" }),
        el("td", { class: "mark", text: known ? (wrong ? "✗ wrong" : "✓") : "", "aria-label": wrong ? "misclassified" : "right" }));
      body.append(tr);
    });
    this.table.append(body);
    if (pred) {
      const n = rows.length;
      this.summary.textContent = wrongCount
        ? `${wrongCount} of ${n} row${wrongCount === 1 ? "" : "s"} misclassified (class 1 when ŷ ≥ ${M.fmt(threshold)}).`
        : `All ${n} rows right (class 1 when ŷ ≥ ${M.fmt(threshold)}).`;
      this.summary.className = `truth-summary ${wrongCount ? "bad" : "good"}`;
      this.host.dataset.errors = String(wrongCount);
    }
  }
}

const SUB = "₀₁₂₃₄₅₆₇₈₉";
const SUP = "⁰¹²³⁴⁵⁶⁷⁸⁹";
const sub = (n) => String(n).split("").map((d) => SUB[d]).join("");
const sup = (n) => String(n).split("").map((d) => SUP[d]).join("");
