// The backprop lab: one batch (one sample by default) through the API's three steps, POST
// /forward, /backward and /update, each shown as the lecture writes it: the equation in
// symbols, then this network's numbers put in, then the result, for every layer. The graph
// highlights the layer being computed and carries the values (n and a, then s, then the change
// of every weight). "Why?" opens the chain rule behind the backward pass, with the same numbers.
// A watcher's lab (a shared link, read only) shows the owner's steps as the stream brings them.
import * as M from "./mathml.js";
import { ApiError } from "./api.js";
import { el } from "./dom.js";
import { writeDerivation } from "./derivation.js";

const STEP_MS = 420; // the pause between two layers while a pass is shown
// The activations as the lecture's equations write them (eqs 1-5; hardlims is its symmetric twin).
const ACT = { hardlim: "HardLimit", hardlims: "HardLims", relu: "ReLU", linear: "Linear",
  sigmoid: "σ", tanh: "tanh" };
const STEPS = ["forward", "backward", "update"];

const reduceMotion = () => window.matchMedia?.("(prefers-reduced-motion: reduce)").matches;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The activation's name as the lecture writes it, upright: ReLU, Linear, σ. */
const fName = (act) => M.up(ACT[act] || act);
const fPrime = (act) => M.up(`${ACT[act] || act}′`);

export class BackpropLab {
  /** ctx: {api, session, marks (GraphMarks), onError(err, what)} */
  constructor(host, ctx) {
    this.host = host;
    this.ctx = ctx;
    this.sample = { kind: "train", index: 0 };
    this.shown = 0; // which sample of a batch the equations show
    this.full = false; // show every value of large vectors
    this.expanded = new Set();
    this.reset();
    this.build();
  }

  get session() { return this.ctx.session; }
  get api() { return this.ctx.api; }

  reset() {
    this.given = null; // a lesson's sample belongs to the lesson's network
    if (this.sample?.kind === "given") this.sample = { kind: "train", index: 0 };
    this.fw = null;
    this.bw = null;
    this.up = null;
    this.before = null;
    this.watched = null; // the owner's samples, in a watcher's lab
    this.phase = "idle"; // idle | forward | backward | update (the last step shown)
    this.message = null;
    this.host.classList.remove("stale");
    this.networkId = this.session?.id ?? null;
    this.ctx.marks?.clear();
  }

  // -- the frame ---------------------------------------------------------------------------

  build() {
    this.host.replaceChildren();
    this.host.classList.add("lab");
    this.host.setAttribute("data-testid", "lab");
    this.intro = el("p", { class: "teach-intro" },
      "One step of backpropagation as in the lecture: ",
      el("b", { text: "Forward" }), ", ", el("b", { text: "Backward" }), ", ",
      el("b", { text: "Update" }), ". Each line: the equation, this network's numbers, the result.");

    // Which data goes through: one training sample (default), or the network's next batch.
    const pick = el("div", { class: "lab-sample" });
    this.sampleMode = el("select", { "aria-label": "What goes through the network", "data-testid": "lab-sample-mode" });
    this.samplePrev = el("button", { class: "icon-btn small", type: "button", "aria-label": "Previous sample", text: "‹" });
    this.sampleText = el("span", { class: "lab-sample-text", "data-testid": "lab-sample" });
    this.sampleNext = el("button", { class: "icon-btn small", type: "button", "aria-label": "Next sample", text: "›" });
    pick.append(el("span", { class: "field-label", text: "Input" }), this.sampleMode,
      el("span", { class: "lab-sample-nav" }, this.samplePrev, this.sampleText, this.sampleNext));
    this.sampleMode.addEventListener("change", () => {
      const v = this.sampleMode.value;
      if (v === "batch") this.sample = { kind: "batch" };
      else if (v === "given") this.sample = this.given ? { kind: "given", ...this.given } : { kind: "train", index: 0 };
      else this.sample = { kind: "train", index: this.sample.index ?? 0 };
      this.showSample();
    });
    this.samplePrev.addEventListener("click", () => this.moveSample(-1));
    this.sampleNext.addEventListener("click", () => this.moveSample(1));

    // The three buttons.
    const bar = el("div", { class: "lab-buttons", role: "group", "aria-label": "Backpropagation steps" });
    this.buttons = {};
    STEPS.forEach((step, i) => {
      if (i) bar.append(el("span", { class: "lab-arrow", "aria-hidden": "true", text: "→" }));
      const b = el("button", { class: "btn lab-btn", type: "button", "data-testid": `lab-${step}` },
        el("span", { class: "lab-num", text: String(i + 1) }), step.charAt(0).toUpperCase() + step.slice(1));
      b.addEventListener("click", () => this.run(step));
      this.buttons[step] = b;
      bar.append(b);
    });
    this.fullBox = el("input", { type: "checkbox" });
    this.fullBox.addEventListener("change", () => { this.full = this.fullBox.checked; this.render(); });
    const full = el("label", { class: "lab-full", title: "Large layers are shortened to their first and last values" },
      this.fullBox, " every value");

    this.status = el("p", { class: "lab-status", role: "status", "data-testid": "lab-status" });
    this.sections = {};
    const titles = {
      forward: ["Forward pass", "From the input up to the output: each layer's net input n, then its output a."],
      backward: ["Backward pass", "From the output back down: each layer's sensitivity s = ∂J/∂n."],
      update: ["Gradient descent", "Each layer's weights and biases take a step against their gradient."],
    };
    const body = el("div", { class: "lab-steps" });
    STEPS.forEach((step, i) => {
      const section = el("section", { class: "lab-step", "data-step": step });
      const head = el("h4", {}, el("span", { class: "lab-num", text: String(i + 1) }), titles[step][0]);
      const general = el("div", { class: "lab-general" });
      const lines = el("div", { class: "lab-lines" });
      section.append(head, el("p", { class: "lab-what", text: titles[step][1] }), general, lines);
      this.sections[step] = { section, general, lines };
      body.append(section);
    });
    this.whyOpen = false;
    this.whyToggle = el("button", { class: "link-btn lab-why-toggle", type: "button", "aria-expanded": "false",
      "data-testid": "lab-why-toggle", text: "Why? The chain rule behind these lines, with their numbers" });
    this.whyLines = el("div", { class: "lab-lines lab-why", "data-testid": "lab-why", hidden: true });
    this.whyToggle.addEventListener("click", () => {
      this.whyOpen = !this.whyOpen;
      this.whyToggle.setAttribute("aria-expanded", String(this.whyOpen));
      this.whyLines.hidden = !this.whyOpen;
      this.render();
    });
    this.sections.backward.section.append(this.whyToggle, this.whyLines);
    this.bar = el("div", { class: "lab-bar" }, pick, bar, el("div", { class: "lab-status-row" }, this.status, full));
    this.host.append(this.intro, this.bar, body);
    new ResizeObserver(() => {
      clearTimeout(this.fitTimer);
      this.fitTimer = setTimeout(() => this.fit(), 60);
    }).observe(this.host);
    this.renderGeneral();
    this.showSample();
    this.sync();
  }

  /** The general equations (symbols only) at the top of each step, as in the lecture's summary. */
  renderGeneral() {
    const k = "k";
    const l = "l";
    const m = (...kids) => M.math(M.row(...kids), { display: "inline" });
    const range = (...kids) => m(M.mtext("for"), M.space(0.3), ...kids);
    this.sections.forward.general.replaceChildren(
      m(M.sym("a", 0), M.eq(), M.T(M.bf("x"))),
      m(M.sym("n", k), M.eq(), M.sym("W", k), M.sym("a", k, { off: -1 }), M.plus(), M.sym("b", k)),
      m(M.sym("a", k), M.eq(), M.sym("f", k), M.paren(M.sym("n", k))),
      range(M.mn(1), M.mo("≤"), M.mi(k), M.mo("≤"), M.mi(l)));
    const y = M.bf("y");
    this.sections.backward.general.replaceChildren(
      m(M.mi("J"), M.eq(), M.sup(M.paren(y, M.minus(), M.hat(M.bf("y"))), 2)),
      m(M.sym("s", l), M.eq(), M.mn(-2), M.paren(M.bf("y"), M.minus(), M.hat(M.bf("y"))),
        M.sup(M.dot(M.bf("f")), M.mi(l)), M.paren(M.sym("n", l))),
      m(M.sym("s", k), M.eq(), M.sup(M.dot(M.bf("F")), M.mi(k)), M.paren(M.sym("n", k)),
        M.T(M.paren(M.sym("W", k, { off: 1 }))), M.sym("s", k, { off: 1 }), M.space(0.9),
        M.mtext("for"), M.space(0.3), M.mi(l), M.minus(), M.mn(1), M.mo("≥"), M.mi(k), M.mo("≥"), M.mn(1)));
    this.sections.update.general.replaceChildren(
      m(M.sym("W", k), M.eq(), M.sym("W", k), M.minus(), M.mi("η"), M.sym("s", k),
        M.T(M.paren(M.sym("a", k, { off: -1 })))),
      m(M.sym("b", k), M.eq(), M.sym("b", k), M.minus(), M.mi("η"), M.sym("s", k)),
      range(M.mn(1), M.mo("≤"), M.mi(k), M.mo("≤"), M.mi(l)));
  }

  // -- the input ---------------------------------------------------------------------------

  /** A fixed sample (the lecture's example): x a point of the plane, y the target vector. */
  setGiven(x, y, label) {
    this.given = { x, y, label };
    this.sample = { kind: "given", x, y, label };
    this.showSample();
  }

  clearGiven() {
    this.given = null;
    if (this.sample.kind === "given") this.sample = { kind: "train", index: 0 };
    this.showSample();
  }

  moveSample(delta) {
    if ((this.sample.kind === "batch" || this.watched) && this.fw) {
      const m = this.fw.x.length;
      this.shown = (this.shown + delta + m) % m;
      this.render();
      this.showMarks();
      this.showSample();
      return;
    }
    const n = this.session.data?.train?.x.length ?? 0;
    if (!n) return;
    this.sample = { kind: "train", index: ((this.sample.index ?? 0) + delta + n) % n };
    this.showSample();
  }

  targetOf(label) {
    const st = this.session.state;
    const low = st?.targets?.low ?? 0;
    const high = st?.targets?.high ?? 1;
    if (st?.task === "regression") return [label];
    const k = st?.outputs ?? 1;
    if (k > 1) return Array.from({ length: k }, (_, i) => (i === label ? high : low));
    return [label >= 0.5 ? high : low];
  }

  showSample() {
    const data = this.session.data;
    const st = this.session.state;
    const options = [["train", "One training sample"]];
    if (this.given) options.unshift(["given", this.given.label ? cap(this.given.label) : "A given sample"]);
    const batchMode = st?.spec?.batch?.mode;
    const size = batchMode === "batch" ? (data?.train?.x.length ?? "all")
      : batchMode === "minibatch" ? st?.spec?.batch?.size : 1;
    options.push(["batch", `The next batch (${batchMode === "stochastic" ? "1 sample" : `${size} samples`})`]);
    let current = this.sample.kind;
    if (this.session.readOnly) { // what the owner sends through, never chosen here
      options.splice(0, options.length, ["owner", "The owner's input"]);
      current = "owner";
    }
    this.sampleMode.replaceChildren(...options.map(([v, t]) => el("option", { value: v, text: t })));
    this.sampleMode.value = current;
    const f = (v) => M.fmt(v, 3);
    let text = "";
    let arrows = false;
    if (this.watched) {
      const w = this.watched;
      const i = Math.min(this.shown, w.x.length - 1);
      const which = w.x.length > 1 ? `sample ${i + 1} of ${w.x.length}` : "";
      const index = w.indices ? `#${w.indices[i] + 1}` : "";
      text = `${[which, index].filter(Boolean).join(", ")}${which || index ? ": " : ""}`
        + `x = (${w.x[i].map(f).join(", ")})${w.y ? `, y = ${w.y[i].map(f).join(", ")}` : ""}`;
      arrows = w.x.length > 1;
    } else if (this.sample.kind === "given") {
      text = `x = (${this.sample.x.map(f).join(", ")}), y = ${this.sample.y.map(f).join(", ")}`;
    } else if (this.sample.kind === "train") {
      const n = data?.train?.x.length ?? 0;
      const i = Math.min(this.sample.index ?? 0, Math.max(0, n - 1));
      this.sample.index = i;
      if (n) {
        const x = data.train.x[i];
        text = `#${i + 1} of ${n}: x = (${x.map(f).join(", ")}), y = ${f(data.train.y[i])}`;
        arrows = n > 1;
      }
    } else if (this.fw && this.fw.x.length > 1) {
      text = `showing sample ${this.shown + 1} of ${this.fw.x.length}`;
      arrows = true;
    } else {
      text = "the samples the batch mode picks next";
    }
    this.sampleText.textContent = text;
    this.samplePrev.hidden = !arrows;
    this.sampleNext.hidden = !arrows;
    const locked = this.phase === "forward" || this.phase === "backward";
    this.sampleMode.disabled = locked || !!this.session.readOnly;
    if (locked && this.sample.kind !== "batch" && !this.watched) { this.samplePrev.hidden = true; this.sampleNext.hidden = true; }
  }

  forwardBody() {
    const s = this.sample;
    if (s.kind === "given") return { x: [s.x], y: [s.y] };
    if (s.kind === "train") {
      const d = this.session.data?.train;
      if (!d?.x.length) return {};
      return { x: [d.x[s.index]], y: [this.targetOf(d.y[s.index])] };
    }
    return {};
  }

  // -- the steps ---------------------------------------------------------------------------

  /** Buttons and status from the server's next step (the authority) and the page's state. */
  sync() {
    const st = this.session?.state;
    const next = st?.next_step ?? "forward";
    const training = st?.status === "training" || st?.status === "queued";
    const reason = !st ? "No network yet."
      : this.session.readOnly ? null
        : training ? "Training in the background: pause it first (the server takes no steps during a run)."
          : st.spec?.rule === "perceptron" ? "This network uses the perceptron rule: see the Perceptron tab, or choose the rule Backprop."
            : null;
    const watching = !!st && this.session.readOnly; // the owner's steps come by the stream
    for (const step of STEPS) {
      const b = this.buttons[step];
      b.disabled = !!reason || watching || this.busy || step !== next;
      b.classList.toggle("primary", !reason && step === next);
      b.title = step === next ? "" : `Next comes ${next}: forward, backward and update go in that order.`;
    }
    if (reason) this.say(reason, "warn");
    else if (watching) {
      this.say("You are watching someone else's network: their steps show here as they take them "
        + "(fork it to step it yourself).");
    } else if (!this.busy && !this.message) this.say(this.hint(next));
    this.host.dataset.next = next;
  }

  hint(next) {
    if (next === "forward") return this.phase === "update"
      ? `Done: the weights moved. Forward again to see the new output${this.sample.kind === "train" ? " (on the next sample)" : ""}.`
      : "Press Forward to send the input through the network.";
    if (next === "backward") return this.fw ? "Press Backward: the sensitivities, from the output down."
      : "A forward pass is waiting on the server (made elsewhere): press Backward to go on.";
    return "Press Update: every weight and bias takes its step.";
  }

  say(text, kind = "") {
    this.status.textContent = text;
    this.status.className = `lab-status ${kind}`;
  }

  async run(step) {
    const id = this.session.id;
    if (!id || this.busy) return;
    this.busy = true;
    this.message = null;
    this.host.classList.remove("stale");
    this.sync();
    try {
      if (step === "forward") {
        const state = await this.api.get(id);
        this.before = weightsOf(state.layers);
        this.eta = state.spec.learning_rate;
        this.seenIteration = state.iteration;
        this.reg = state.spec.regularization || { kind: "none", rate: 0 };
        this.networkId = id; // before the step: the state it announces is this network's
        const fw = await this.session.teachingStep("forward", this.forwardBody());
        this.fw = fw;
        this.bw = null;
        this.up = null;
        this.shown = 0;
        this.phase = "forward";
      } else if (step === "backward") {
        this.bw = await this.session.teachingStep("backward");
        this.up = null;
        this.phase = "backward";
      } else {
        this.up = await this.session.teachingStep("update");
        this.seenIteration = this.up.iteration;
        this.phase = "update";
        if (this.sample.kind === "train") {
          const n = this.session.data?.train?.x.length ?? 0;
          this.nextIndex = n ? ((this.sample.index ?? 0) + 1) % n : 0;
        }
      }
      this.render();
      this.host.dataset.phase = `${step}-running`;
      await this.animate(step);
      this.host.dataset.phase = step;
      if (step === "update") {
        this.session.reload();
        this.session.refreshSoon();
      }
    } catch (err) {
      this.message = err.message;
      this.say(err.message, "error");
      if (!(err instanceof ApiError && err.status === 409)) this.ctx.onError?.(err, `The ${step} step`);
    } finally {
      this.busy = false;
      this.sync();
      this.showSample();
    }
  }

  /** Walk the graph's layers in the pass's order, lighting each one and its lines. */
  async animate(step) {
    const L = this.before?.length ?? this.session.state?.layers?.length ?? 0;
    const order = step === "forward" ? Array.from({ length: L + 1 }, (_, k) => k)
      : step === "backward" ? Array.from({ length: L }, (_, i) => L - i)
        : Array.from({ length: L }, (_, i) => i + 1);
    const marks = this.ctx.marks;
    const quick = reduceMotion() || this.instant;
    const lines = this.sections[step].lines;
    const mine = {};
    this.animation = mine; // a newer step (from the stream) cuts this one short
    this.reveal(step);
    lines.querySelectorAll(".eqn").forEach((e) => e.classList.add("waiting"));
    for (let i = 0; i < order.length; i++) {
      const k = order[i];
      marks?.setFocus(k, step);
      this.showMarks(step, order.slice(0, i + 1));
      lines.querySelectorAll(`.eqn[data-layer="${k}"], .eqn[data-layer="all"]`).forEach((e) => {
        e.classList.remove("waiting");
        e.classList.add("live");
      });
      if (!quick) await sleep(STEP_MS);
      if (this.animation !== mine) return;
      lines.querySelectorAll(".eqn.live").forEach((e) => e.classList.remove("live"));
    }
    lines.querySelectorAll(".eqn").forEach((e) => e.classList.remove("waiting"));
    marks?.setFocus(null);
    this.showMarks(step);
    if (this.nextIndex != null && step === "update") {
      this.sample = { kind: "train", index: this.nextIndex };
      this.nextIndex = null;
    }
  }

  /** Scroll the step's section to the top of the panel, under the sticky buttons. */
  reveal(step) {
    const section = this.sections[step].section;
    const scroller = this.host.closest(".teach-body");
    if (!scroller || !section.offsetParent) return;
    const top = section.getBoundingClientRect().top - scroller.getBoundingClientRect().top + scroller.scrollTop;
    scroller.scrollTo({ top: Math.max(0, top - this.bar.offsetHeight - 8), behavior: reduceMotion() ? "auto" : "smooth" });
  }

  /** The values of the last step on the graph's neurons (and links after an update). */
  showMarks(step = this.phase, layers = null) {
    const marks = this.ctx.marks;
    if (!marks) return;
    const L = this.before?.length ?? 0;
    const si = this.shown;
    const on = (k) => !layers || layers.includes(k);
    if (step === "forward" && this.fw) {
      const columns = [on(0) ? this.fw.x[si].map((v) => ({ lines: [["x", v]] })) : null];
      for (let k = 1; k <= L; k++) {
        const { n, a } = this.fw.layers[k - 1];
        columns.push(on(k) ? n[si].map((v, i) => ({ lines: [["n", v], [k === L ? "ŷ" : "a", a[si][i]]] })) : null);
      }
      marks.setDeltas(null);
      marks.setValues({ kind: "forward", columns });
    } else if (step === "backward" && this.bw) {
      const columns = [null];
      for (let k = 1; k <= L; k++) {
        columns.push(on(k) ? this.bw.layers[k - 1].s[si].map((v) => ({ lines: [["s", v]] })) : null);
      }
      marks.setDeltas(null);
      marks.setValues({ kind: "backward", columns });
    } else if (step === "update" && this.up) {
      const columns = [null];
      const deltas = [];
      for (let k = 1; k <= L; k++) {
        const u = this.up.layers[k - 1];
        columns.push(on(k) ? u.db.map((v) => ({ lines: [["Δb", v]] })) : null);
        deltas.push(on(k) ? u : null);
      }
      marks.setValues({ kind: "update", columns });
      marks.setDeltas(deltas);
    }
  }

  // -- state from the page -----------------------------------------------------------------

  onState(state) {
    if (!state) return;
    if (this.session.id !== this.networkId) {
      this.reset();
      this.render();
      this.host.dataset.phase = "idle";
    } else if (!this.busy && this.phase !== "idle"
      && (state.status === "training" || (this.phase === "update" && state.iteration !== this.seenIteration))) {
      // The network moved on (trained or stepped): these numbers are history now.
      this.ctx.marks?.clear();
      this.host.classList.add("stale");
      this.message = "The network has moved on since these numbers (it was trained or stepped): press Forward for a fresh pass.";
      this.say(this.message, "warn");
    }
    if (!this.busy) this.sync();
  }

  /** A step the owner took (a `lab` event of the stream): a watcher's lab shows its numbers. */
  onLab({ step, sample, answer }) {
    const st = this.session.state;
    if (!this.session.readOnly || !st || !STEPS.includes(step)) return;
    if (this.session.id !== this.networkId) this.reset();
    if (step === "forward") {
      this.before = weightsOf(st.layers); // a forward changes no weight: the state holds the ones it used
      this.fw = answer;
      this.bw = null;
      this.up = null;
      this.shown = 0;
    } else if (step === "backward") {
      this.bw = answer;
      this.up = null;
    } else {
      this.up = answer;
      this.seenIteration = answer.iteration;
      // Joined in the middle of a batch: the weights before are the new ones less the change.
      this.before ??= answer.layers.map((l, k) => ({ W: l.W.map((r, i) => r.map((w, j) => w - l.dW[i][j])),
        b: l.b.map((v, i) => v - l.db[i]), activation: st.layers[k]?.activation }));
    }
    if (step === "forward" || !this.eta) {
      this.eta = st.spec?.learning_rate;
      this.reg = st.spec?.regularization || { kind: "none", rate: 0 };
    }
    this.watched = sample;
    this.phase = step;
    this.message = null;
    this.host.classList.remove("stale");
    this.render();
    this.showSample();
    this.sync();
    if (!this.host.offsetParent) { // the lab is not on screen: no walk over the graph
      this.animation = null;
      this.host.dataset.phase = step;
      return;
    }
    this.host.dataset.phase = `${step}-running`;
    this.animate(step).then(() => {
      if (this.phase === step) this.host.dataset.phase = step;
    });
  }

  onData() {
    this.showSample();
  }

  // -- the equations -----------------------------------------------------------------------

  render() {
    for (const step of STEPS) this.sections[step].lines.replaceChildren();
    const s = this.sections;
    STEPS.forEach((step) => s[step].section.classList.toggle("done",
      (step === "forward" && !!this.fw) || (step === "backward" && !!this.bw) || (step === "update" && !!this.up)));
    if (this.fw && this.before) this.renderForward();
    if (this.bw) this.renderBackward();
    if (this.up && this.before) this.renderUpdate();
    this.renderWhy();
    this.fit();
  }

  opts(id) {
    return { full: this.full || this.expanded.has(id) };
  }

  /** One equation line: HTML wrapper (for tests, the layer highlight and "show all"). */
  line(target, id, layer, lhs, steps, { value = null, rel = "=" } = {}) {
    const wrap = el("div", { class: "eqn", "data-layer": String(layer), "data-testid": `lab-${id}` });
    if (value != null) wrap.dataset.value = JSON.stringify(value);
    M.fitted(wrap, lhs, steps, { rel });
    if (M.hasCompact(wrap) || this.expanded.has(id)) {
      const open = this.expanded.has(id);
      const more = el("button", { class: "link-btn lab-more", type: "button",
        text: open ? "shorten" : "show all values" });
      more.addEventListener("click", () => {
        if (open) this.expanded.delete(id); else this.expanded.add(id);
        this.render();
        this.showMarks();
      });
      wrap.append(more);
    }
    const kind = target === this.sections.backward.lines || target === this.whyLines ? "backward"
      : target === this.sections.update.lines ? "update" : "forward";
    wrap.addEventListener("mouseenter", () => this.ctx.marks?.setFocus(typeof layer === "number" ? layer : null, kind));
    wrap.addEventListener("mouseleave", () => this.ctx.marks?.setFocus(null));
    target.append(wrap);
    return wrap;
  }

  /** Each equation on one line where it fits, else aligned on "=". */
  fit() {
    for (const wrap of this.host.querySelectorAll(".eqn")) M.refit(wrap);
  }

  note(target, text, layer = "all") {
    target.append(el("p", { class: "lab-note", "data-layer": String(layer), text }));
  }

  /** A column of layer values as MathML (a single value stays a number), and its plain value. */
  vec(values, id) {
    return M.column(values, this.opts(id));
  }

  renderForward() {
    const t = this.sections.forward.lines;
    const L = this.before.length;
    const si = this.shown;
    const fw = this.fw;
    const a0 = fw.x[si];
    const features = this.session.state?.spec?.features || [];
    if (features.length && (features.length !== 2 || features[0] !== "x1" || features[1] !== "x2")) {
      this.note(t, `The input features (${features.join(", ")}) of the point make a⁰.`, 0);
    }
    this.line(t, "a0", 0, M.sym("a", 0), [M.T(M.bf("x")), M.row(this.vec(a0, "a0"))], { value: M.flat(a0) });
    for (let k = 1; k <= L; k++) {
      const { W, b, activation } = this.before[k - 1];
      const n = fw.layers[k - 1].n[si];
      const a = fw.layers[k - 1].a[si];
      const prev = k === 1 ? a0 : fw.layers[k - 2].a[si];
      const one = n.length === 1;
      this.line(t, `n${k}`, k, M.sym("n", k, { scalar: one }), [
        M.row(M.sym("W", k), M.sym("a", k - 1, { scalar: prev.length === 1 }), M.plus(), M.sym("b", k, { scalar: one })),
        M.row(M.matrix(W, this.opts(`n${k}`)), this.vec(prev, `n${k}`),
          ...(one ? M.signed(b[0]) : [M.plus(), this.vec(b, `n${k}`)])),
        M.row(M.result(this.vec(n, `n${k}`))),
      ], { value: M.flat(n) });
      const last = k === L;
      const lhs = last ? M.row(M.hat(one ? M.mi("y") : M.bf("y")), M.eq(), M.sym("a", k, { scalar: one }))
        : M.sym("a", k, { scalar: one });
      this.line(t, last ? "yhat" : `a${k}`, k, lhs, [
        M.row(M.sym("f", k, { scalar: one }), M.paren(M.sym("n", k, { scalar: one }))),
        M.row(fName(activation), M.paren(this.vec(n, `a${k}`))),
        M.row(M.result(this.vec(a, `a${k}`))),
      ], { value: M.flat(a) });
    }
    if (fw.y?.[si]) {
      const y = fw.y[si];
      this.line(t, "y", L, y.length === 1 ? M.mi("y") : M.bf("y"), [M.row(this.vec(y, "y"))],
        { value: M.flat(y) }).classList.add("target");
    }
  }

  renderBackward() {
    const t = this.sections.backward.lines;
    const L = this.bw.layers.length;
    const si = this.shown;
    const fw = this.fw;
    const haveForward = !!fw && !!this.before;
    const sOf = (k) => this.bw.layers[k - 1].s[si];
    const fdotOf = (k) => this.bw.layers[k - 1].fdot?.[si];
    const m = fw?.x.length ?? 1;
    if (haveForward && fw.y?.[si]) {
      const y = fw.y[si];
      const yhat = fw.layers[L - 1].a[si];
      const one = y.length === 1;
      const J = y.reduce((acc, v, i) => acc + (v - yhat[i]) ** 2, 0);
      const diffs = y.map((v, i) => M.sup(M.paren(M.num(v), M.minus(), M.num(yhat[i], { paren: true })), 2));
      const numbers = [];
      diffs.forEach((d, i) => { if (i) numbers.push(M.plus()); numbers.push(d); });
      this.line(t, "J", L, M.mi("J"), [
        one ? M.sup(M.paren(M.mi("y"), M.minus(), M.hat(M.mi("y"))), 2)
          : M.row(M.h("munder", {}, M.mo("∑"), M.mi("i")), M.sup(M.paren(M.sub(M.mi("y"), M.mi("i")), M.minus(), M.sub(M.hat(M.mi("y")), M.mi("i"))), 2)),
        M.row(...numbers),
        M.row(M.result(M.num(J))),
      ], { value: M.plain(J) });
      if (m > 1) this.note(t, `The loss of the batch is the mean of J over its ${m} samples: ${M.fmt(this.bw.loss)}.`, L);
    }
    // Output layer: fdot and s^l.
    const act = (k) => this.before?.[k - 1]?.activation ?? this.session.state?.layers?.[k - 1]?.activation;
    const sl = sOf(L);
    const fl = fdotOf(L);
    const oneL = sl.length === 1;
    if (fl && haveForward) {
      const nl = fw.layers[L - 1].n[si];
      this.line(t, `fdot${L}`, L, M.row(M.sup(M.dot(oneL ? M.mi("f") : M.bf("f")), L), M.paren(M.sym("n", L, { scalar: oneL }))), [
        M.row(fPrime(act(L)), M.paren(this.vec(nl, `fdot${L}`))),
        M.row(M.result(this.vec(fl, `fdot${L}`))),
      ], { value: M.flat(fl) });
    }
    if (haveForward && fw.y?.[si]) {
      const y = fw.y[si];
      const yhat = fw.layers[L - 1].a[si];
      const symbols = M.row(M.mn(-2), M.paren(oneL ? M.mi("y") : M.bf("y"), M.minus(), M.hat(oneL ? M.mi("y") : M.bf("y"))),
        M.sup(M.dot(oneL ? M.mi("f") : M.bf("f")), L), M.paren(M.sym("n", L, { scalar: oneL })));
      const numbers = oneL
        ? M.row(M.mn(-2), M.times(), M.paren(M.num(y[0]), M.minus(), M.num(yhat[0], { paren: true })), M.times(), M.num(fl?.[0] ?? 1, { paren: true }))
        : M.row(M.mn(-2), M.paren(this.vec(y, `s${L}`), M.minus(), this.vec(yhat, `s${L}`)), M.mo("⊙"), this.vec(fl ?? [], `s${L}`));
      this.line(t, `s${L}`, L, M.sym("s", L, { scalar: oneL }), [symbols, numbers, M.row(M.result(this.vec(sl, `s${L}`)))],
        { value: M.flat(sl) });
    } else {
      this.line(t, `s${L}`, L, M.sym("s", L, { scalar: oneL }), [M.row(M.result(this.vec(sl, `s${L}`)))], { value: M.flat(sl) });
    }
    if (act(L) === "hardlim" || act(L) === "hardlims") {
      this.note(t, "The hard limit's derivative is 0: no gradient comes back, so backpropagation cannot train this network.", L);
    }
    // Hidden layers, from the last down to the first.
    for (let k = L - 1; k >= 1; k--) {
      const sk = sOf(k);
      const fk = fdotOf(k);
      const next = sOf(k + 1);
      const one = sk.length === 1;
      const nk = haveForward ? fw.layers[k - 1].n[si] : null;
      if (fk) {
        this.line(t, `fdot${k}`, k, M.row(M.sup(M.dot(M.bf("F")), k), M.paren(M.sym("n", k, { scalar: one }))), [
          ...(nk ? [M.row(M.mi("diag"), M.paren(fPrime(act(k)), M.paren(this.vec(nk, `fdot${k}`))))] : []),
          M.row(M.result(M.diagonal(fk, this.opts(`fdot${k}`)))),
        ], { value: M.flat(fk) });
      }
      const Wn = this.before?.[k]?.W;
      const steps = [M.row(M.sup(M.dot(M.bf("F")), k), M.paren(M.sym("n", k, { scalar: one })),
        M.T(M.paren(M.sym("W", k + 1))), M.sym("s", k + 1, { scalar: next.length === 1 }))];
      if (fk && Wn) {
        const WT = Wn[0].map((_, j) => Wn.map((r) => r[j]));
        steps.push(next.length === 1
          ? M.row(M.diagonal(fk, this.opts(`s${k}`)), M.matrix(WT, this.opts(`s${k}`)), M.times(), M.num(next[0], { paren: true }))
          : M.row(M.diagonal(fk, this.opts(`s${k}`)), M.matrix(WT, this.opts(`s${k}`)), this.vec(next, `s${k}`)));
      }
      steps.push(M.row(M.result(this.vec(sk, `s${k}`))));
      this.line(t, `s${k}`, k, M.sym("s", k, { scalar: one }), steps, { value: M.flat(sk) });
    }
  }

  renderWhy() {
    this.whyLines.replaceChildren();
    if (!this.whyOpen) return;
    const layers = this.before?.length ?? this.session.state?.layers?.length ?? 0;
    if (!layers) return;
    const numbers = this.fw && this.bw && this.before && this.bw.layers[0]?.s
      ? { before: this.before, fw: this.fw, bw: this.bw, shown: this.shown } : null;
    writeDerivation({
      put: (id, layer, lhs, steps, { value = null } = {}) => this.line(this.whyLines, `why-${id}`, layer, lhs, steps, { value }),
      note: (text, layer) => this.note(this.whyLines, text, layer),
      opts: (id) => this.opts(id),
    }, layers, numbers);
  }

  renderUpdate() {
    const t = this.sections.update.lines;
    const L = this.up.layers.length;
    const fw = this.fw;
    const eta = this.eta;
    const reg = this.reg || { kind: "none", rate: 0 };
    const m = fw?.x.length ?? 1;
    if (m > 1) this.note(t, `A batch of ${m} samples: the step uses the mean of s (a)ᵀ and of s over the batch.`);
    if (reg.kind !== "none" && reg.rate) {
      this.note(t, `${reg.kind.toUpperCase()} regularization adds ${reg.kind === "l2" ? "λW" : "λ sign(W)"} (λ = ${M.fmt(reg.rate)}) to the weights' gradient; the biases have none.`);
    }
    const mean = (f) => {
      const first = f(0);
      const out = JSON.parse(JSON.stringify(first));
      for (let i = 1; i < m; i++) {
        const v = f(i);
        if (Array.isArray(out[0])) out.forEach((r, a) => r.forEach((_, b) => { out[a][b] += v[a][b]; }));
        else out.forEach((_, a) => { out[a] += v[a]; });
      }
      if (Array.isArray(out[0])) return out.map((r) => r.map((x) => x / m));
      return out.map((x) => x / m);
    };
    const sum = m > 1 ? (x) => M.row(M.frac(M.mn(1), M.mi("m")), M.h("munder", {}, M.mo("∑"), M.mi("i")), x) : (x) => x;
    for (let k = 1; k <= L; k++) {
      const old = this.before[k - 1];
      const u = this.up.layers[k - 1];
      const one = u.b.length === 1;
      const haveAll = fw && this.bw;
      const symW = M.row(M.sym("W", k), M.minus(), M.mi("η"),
        sum(M.row(M.sym("s", k, { scalar: one }), M.T(M.paren(M.sym("a", k - 1, { scalar: old.W[0].length === 1 }))))),
        ...(reg.kind === "l2" && reg.rate ? [M.minus(), M.mi("η"), M.mi("λ"), M.sym("W", k)] : []),
        ...(reg.kind === "l1" && reg.rate ? [M.minus(), M.mi("η"), M.mi("λ"), M.up("sign"), M.paren(M.sym("W", k))] : []));
      const stepsW = [symW];
      if (haveAll) {
        const id = `W${k}`;
        let grad;
        if (m === 1) {
          const s = this.bw.layers[k - 1].s[0];
          const a = k === 1 ? fw.x[0] : fw.layers[k - 2].a[0];
          grad = s.length === 1
            ? M.row(M.num(s[0], { paren: true }), M.times(), M.rowVector(a, { ...this.opts(id), scalar: true }))
            : M.row(this.vec(s, id), M.rowVector(a, { ...this.opts(id), scalar: true }));
        } else {
          const G = mean((i) => {
            const s = this.bw.layers[k - 1].s[i];
            const a = k === 1 ? fw.x[i] : fw.layers[k - 2].a[i];
            return s.map((sv) => a.map((av) => sv * av));
          });
          grad = M.matrix(G, this.opts(id));
        }
        const regTerm = reg.kind === "l2" && reg.rate
          ? [M.minus(), M.num(eta), M.times(), M.num(reg.rate), M.times(), M.matrix(old.W, this.opts(id))]
          : reg.kind === "l1" && reg.rate
            ? [M.minus(), M.num(eta), M.times(), M.num(reg.rate), M.times(), M.matrix(old.W.map((r) => r.map(Math.sign)), this.opts(id))]
            : [];
        stepsW.push(M.row(M.matrix(old.W, this.opts(id)), M.minus(), M.num(eta), M.times(), grad, ...regTerm));
      }
      stepsW.push(M.row(M.result(M.matrix(u.W, { ...this.opts(`W${k}`), scalar: false }))));
      this.line(t, `W${k}`, k, M.sym("W", k), stepsW, { value: M.plain(u.W) });

      const stepsB = [M.row(M.sym("b", k, { scalar: one }), M.minus(), M.mi("η"), sum(M.sym("s", k, { scalar: one })))];
      if (haveAll) {
        const id = `b${k}`;
        const s = m === 1 ? this.bw.layers[k - 1].s[0] : mean((i) => this.bw.layers[k - 1].s[i]);
        stepsB.push(M.row(this.vec(old.b, id), M.minus(), M.num(eta), M.times(),
          one ? M.num(s[0], { paren: true }) : this.vec(s, id)));
      }
      stepsB.push(M.row(M.result(this.vec(u.b, `b${k}`))));
      this.line(t, `b${k}`, k, M.sym("b", k, { scalar: one }), stepsB,
        { value: M.flat(u.b) });
    }
  }
}

/** A copy of the layers' weights, biases and activations (what the steps are shown against). */
const weightsOf = (layers) => layers.map((l) => ({ W: l.W.map((r) => [...r]), b: [...l.b], activation: l.activation }));
const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);

