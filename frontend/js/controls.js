// The controls: the training bar on top (play/pause, steps, reset, counters, learning rate,
// batch, regularization, rule, speed) and the data column (dataset picker with previews,
// ratio, noise, samples, regenerate, your own points). They show the configuration and report
// what the user changed; they never call the server themselves.
import { drawPreview } from "./previews.js";
import { datasetLabel, parameterRange, isFixedPoints } from "./catalog.js";
import { classColor } from "./colors.js";
import { fmtLoss } from "./chart.js";

const LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const REG_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
// Epochs per second, slow to fast; "Full" (0: as fast as the server goes) last.
const SPEEDS = [1, 3, 10, 30, 60, 300, 1000, 0];
const speedLabel = (v) => (v ? `${v} ep/s` : "Full");
const RULE_LABELS = { backprop: "Backprop", perceptron: "Perceptron" };
const BATCH_LABELS = { batch: "Batch", stochastic: "Stochastic", minibatch: "Mini-batch" };
const REG_LABELS = { none: "None", l1: "L1", l2: "L2" };
const $ = (id) => document.getElementById(id);

function fillSelect(select, entries, value) {
  select.replaceChildren(...entries.map(([v, text]) => {
    const o = document.createElement("option");
    o.value = String(v);
    o.textContent = text;
    return o;
  }));
  if (value !== undefined) select.value = String(value);
}

/** The values a click adds to a regression set (the picker's two chips). */
const REGRESSION_VALUES = [-1, 1];

export class Controls {
  /**
   * handlers: onChange(changes) (config fields), onPlay(), onStep(), onStepEpoch(), onReset(),
   * onRegenerate(), onClearPoints(), onCsv(file), onFork().
   */
  constructor(handlers) {
    this.h = handlers;
    this.config = null;
    this.catalog = null;
    this.pointClass = 0;
    this.el = {
      play: $("play"), step: $("step"), stepEpoch: $("step-epoch"), reset: $("reset"),
      epoch: $("epoch"), iteration: $("iteration"), lr: $("lr"), batch: $("batch-mode"),
      batchSize: $("batch-size"), reg: $("reg"), regRate: $("reg-rate"), rule: $("rule"),
      speed: $("speed"), datasets: $("datasets"), datasetDesc: $("dataset-desc"),
      ratio: $("ratio"), ratioOut: $("ratio-out"), noise: $("noise"), noiseOut: $("noise-out"),
      samples: $("samples"), samplesOut: $("samples-out"), regenerate: $("regenerate"),
      classes: $("class-picker"), clear: $("clear-points"), csv: $("csv"),
      trainLoss: $("train-loss"), testLoss: $("test-loss"), trainAcc: $("train-acc"),
      testAcc: $("test-acc"), showTest: $("show-test"), discretise: $("discretise"),
      logScale: $("log-scale"), fork: $("fork"), readonly: $("readonly-note"), share: $("share"),
      export: $("export"), import: $("import"), stats: $("data-stats"), barLoss: $("bar-loss"),
    };
    const e = this.el;
    e.play.addEventListener("click", () => this.h.onPlay?.());
    e.step.addEventListener("click", () => this.h.onStep?.());
    e.stepEpoch.addEventListener("click", () => this.h.onStepEpoch?.());
    e.reset.addEventListener("click", () => this.h.onReset?.());
    e.regenerate.addEventListener("click", () => this.h.onRegenerate?.());
    e.clear.addEventListener("click", () => this.h.onClearPoints?.());
    e.fork?.addEventListener("click", () => this.h.onFork?.());
    e.share.addEventListener("click", () => this.h.onShare?.());
    e.export.addEventListener("click", () => this.h.onExport?.());
    e.import.addEventListener("change", () => {
      const file = e.import.files?.[0];
      if (file) this.h.onImport?.(file);
      e.import.value = "";
    });
    e.csv.addEventListener("change", () => {
      const file = e.csv.files?.[0];
      if (file) this.h.onCsv?.(file);
      e.csv.value = "";
    });
    e.lr.addEventListener("change", () => this.h.onChange?.({ lr: Number(e.lr.value) }));
    e.batch.addEventListener("change", () => this.h.onChange?.({ batch: e.batch.value }));
    e.batchSize.addEventListener("change", () => {
      const v = Math.round(Number(e.batchSize.value));
      if (Number.isFinite(v) && v >= 1) this.h.onChange?.({ batchSize: v });
      else e.batchSize.value = this.config.batchSize;
    });
    e.reg.addEventListener("change", () => {
      const changes = { reg: e.reg.value };
      if (e.reg.value !== "none" && !this.config.regRate) changes.regRate = 0.001;
      this.h.onChange?.(changes);
    });
    e.regRate.addEventListener("change", () => this.h.onChange?.({ regRate: Number(e.regRate.value) }));
    e.rule.addEventListener("change", () => this.h.onChange?.({ rule: e.rule.value }));
    e.speed.addEventListener("change", () => this.h.onChange?.({ speed: Number(e.speed.value) }));
    const slider = (input, key, scale) => {
      input.addEventListener("input", () => this.showSliders({ ...this.config, [key]: Number(input.value) / scale }));
      input.addEventListener("change", () => this.h.onChange?.({ [key]: Number(input.value) / scale }));
    };
    slider(e.ratio, "ratio", 100);
    slider(e.noise, "noise", 100);
    slider(e.samples, "samples", 1);
    e.showTest.addEventListener("change", () => this.h.onChange?.({ showTest: e.showTest.checked }));
    e.discretise.addEventListener("change", () => this.h.onChange?.({ discretise: e.discretise.checked }));
    e.logScale.addEventListener("change", () => this.h.onChange?.({ logScale: e.logScale.checked }));
    fillSelect(e.speed, SPEEDS.map((v) => [v, speedLabel(v)]));
  }

  setCatalog(catalog) {
    this.catalog = catalog;
    const e = this.el;
    fillSelect(e.batch, catalog.batchModes.map((m) => [m, BATCH_LABELS[m] || m]));
    fillSelect(e.reg, catalog.regularizations.map((m) => [m, REG_LABELS[m] || m]));
    fillSelect(e.regRate, REG_RATES.map((r) => [r, String(r)]));
    fillSelect(e.rule, catalog.rules.map((r) => [r, RULE_LABELS[r] || r]));
    e.samples.max = Math.min(catalog.limits.samples ?? 1000, 1000);
    // Dataset picker.
    e.datasets.replaceChildren();
    const entries = [...catalog.datasets, { name: "custom", task: "classification",
      description: "Your own points: click the plot to add them, or upload a CSV of x1,x2,label." }];
    this.datasetButtons = entries.map((d) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "dataset";
      b.setAttribute("role", "radio");
      b.dataset.name = d.name;
      b.title = d.description || d.name;
      const name = datasetLabel(d.name, catalog);
      b.setAttribute("aria-label", `${name} dataset${d.task === "regression" ? " (regression)" : ""}`);
      const canvas = document.createElement("canvas");
      canvas.width = 96;
      canvas.height = 96;
      drawPreview(canvas, d);
      const label = document.createElement("span");
      label.textContent = name;
      b.append(canvas, label);
      b.tabIndex = -1;
      b.addEventListener("click", () => this.chooseDataset(d.name));
      e.datasets.append(b);
      return b;
    });
    // One radio group: one tab stop (the chosen set), the arrows choose the next or previous.
    e.datasets.addEventListener("keydown", (ev) => this.datasetKey(ev));
    this.buildClassPicker(4);
  }

  chooseDataset(name) {
    if (name === "custom") this.h.onCustom?.();
    else this.h.onChange?.({ dataset: name, points: null });
  }

  datasetKey(ev) {
    const buttons = this.datasetButtons.filter((b) => !b.disabled);
    const at = buttons.indexOf(ev.target.closest(".dataset"));
    if (at < 0) return;
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[ev.key];
    const to = ev.key === "Home" ? 0 : ev.key === "End" ? buttons.length - 1
      : step ? (at + step + buttons.length) % buttons.length : null;
    if (to == null) return;
    ev.preventDefault();
    ev.stopPropagation(); // → here moves in the group, it does not step the network
    const next = buttons[to];
    this.rovingDataset(next);
    next.focus();
    this.chooseDataset(next.dataset.name);
  }

  /** The dataset button that takes the group's one tab stop. */
  rovingDataset(button) {
    this.datasetButtons?.forEach((b) => { b.tabIndex = b === button ? 0 : -1; });
  }

  buildClassPicker(k) {
    const host = this.el.classes;
    host.replaceChildren();
    this.classButtons = [];
    for (let c = 0; c < k; c++) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "class-chip";
      b.setAttribute("role", "radio");
      b.style.setProperty("--chip", classColor(c));
      b.dataset.class = c;
      b.textContent = `Class ${c}`;
      b.setAttribute("aria-label", `Add points of class ${c}`);
      b.addEventListener("click", () => this.pickClass(c));
      host.append(b);
      this.classButtons.push(b);
    }
    this.pickClass(this.pointClass);
  }

  pickClass(c) {
    this.pointClass = c;
    this.classButtons.forEach((b, i) => {
      b.setAttribute("aria-checked", String(i === c));
      b.classList.toggle("on", i === c);
    });
  }

  /** What a click on the plot adds: a class for classification, a value (−1 or +1) for regression. */
  get pointLabel() {
    return this.pointTask === "regression" ? REGRESSION_VALUES[Math.min(this.pointClass, 1)] : this.pointClass;
  }

  /** The picker for the task of the points: four classes, or the two values of a regression. */
  showPointTask(task) {
    const regression = task === "regression";
    this.pointTask = regression ? "regression" : "classification";
    this.el.classes.setAttribute("aria-label", regression ? "Value of the points you add" : "Class of the points you add");
    this.classButtons?.forEach((b, i) => {
      b.hidden = regression && i >= REGRESSION_VALUES.length;
      const value = regression ? REGRESSION_VALUES[i] : null;
      b.textContent = regression ? (i < REGRESSION_VALUES.length ? `Value ${value > 0 ? "+" : "−"}1` : "") : `Class ${i}`;
      b.setAttribute("aria-label", regression ? `Add points of value ${value}` : `Add points of class ${i}`);
    });
    if (regression && this.pointClass >= REGRESSION_VALUES.length) this.pickClass(REGRESSION_VALUES.length - 1);
    else this.pickClass(this.pointClass);
  }

  datasetInfo(name) {
    return this.catalog?.datasets.find((d) => d.name === name);
  }

  setConfig(c, task) {
    this.config = c;
    const e = this.el;
    const lrs = LEARNING_RATES.includes(c.lr) ? LEARNING_RATES : [...LEARNING_RATES, c.lr].sort((a, b) => a - b);
    fillSelect(e.lr, lrs.map((v) => [v, String(v)]), c.lr);
    e.batch.value = c.batch;
    // The perceptron rule learns from one sample at a time (the lecture's rule): no batches.
    for (const o of e.batch.options) {
      o.disabled = c.rule === "perceptron" && o.value !== "stochastic";
      o.title = o.disabled ? "The perceptron rule updates after every sample: stochastic only." : "";
    }
    e.batchSize.value = c.batchSize;
    e.batchSize.disabled = c.batch !== "minibatch" || this.readOnly;
    const rates = REG_RATES.includes(c.regRate) ? REG_RATES : [...REG_RATES, c.regRate].sort((a, b) => a - b);
    fillSelect(e.regRate, rates.map((v) => [v, String(v)]), c.regRate);
    e.regRate.disabled = c.reg === "none" || this.readOnly;
    e.reg.value = c.reg;
    e.rule.value = c.rule;
    // Perceptron: only for a single layer with a hard-limit output (the option says so).
    for (const o of e.rule.options) {
      if (o.value === "perceptron") {
        o.textContent = c.hidden.length || !["hardlim", "hardlims"].includes(c.activations.at(-1))
          ? "Perceptron (1 layer)" : "Perceptron";
      }
    }
    const speeds = SPEEDS.includes(c.speed) ? SPEEDS
      : [...SPEEDS.slice(0, -1), c.speed].sort((a, b) => a - b).concat(0); // a speed from a link
    fillSelect(e.speed, speeds.map((v) => [v, speedLabel(v)]), c.speed);
    e.showTest.checked = c.showTest;
    e.discretise.checked = c.discretise;
    e.logScale.checked = c.logScale;
    // Dataset picker.
    this.datasetButtons?.forEach((b) => {
      const on = b.dataset.name === c.dataset;
      b.classList.toggle("on", on);
      b.setAttribute("aria-checked", String(on));
    });
    if (!this.datasetButtons?.some((b) => b.tabIndex === 0 && b === document.activeElement)) {
      this.rovingDataset(this.datasetButtons?.find((b) => b.dataset.name === c.dataset)
        ?? this.datasetButtons?.[0]);
    }
    const info = this.datasetInfo(c.dataset);
    e.datasetDesc.textContent = c.dataset === "custom"
      ? `${c.points?.length ?? 0} points of your own.`
      : info?.description || "";
    const fixed = isFixedPoints(info);
    const custom = c.dataset === "custom";
    e.noise.disabled = fixed || custom || this.readOnly;
    e.samples.disabled = fixed || custom || this.readOnly;
    e.ratio.disabled = fixed || this.readOnly;
    e.regenerate.disabled = fixed || this.readOnly;
    if (info) {
      const n = parameterRange(info, "n_samples", { min: 4, max: 1000 });
      e.samples.min = Math.max(10, n.min ?? 10);
      e.samples.max = Math.min(1000, n.max ?? 1000);
    }
    this.showSliders(c);
    this.showPointTask(task);
  }

  showSliders(c) {
    const e = this.el;
    const info = this.datasetInfo(c.dataset);
    const fixed = isFixedPoints(info);
    e.ratio.value = Math.round(c.ratio * 100);
    e.ratioOut.textContent = fixed ? "all 4 points" : `${Math.round(c.ratio * 100)}%`;
    e.noise.value = Math.round(c.noise * 100);
    e.noiseOut.textContent = fixed || c.dataset === "custom" ? "—" : c.noise.toFixed(2);
    e.samples.value = c.samples;
    e.samplesOut.textContent = fixed ? "4" : c.dataset === "custom" ? String(c.points?.length ?? 0) : String(c.samples);
  }

  setDataStats(data) {
    if (!data) { this.el.stats.textContent = ""; return; }
    const train = data.train?.x.length ?? 0;
    const test = data.test?.x.length ?? 0;
    const kind = data.task === "regression" ? "regression (a real target)"
      : `${data.classes} classes`;
    this.el.stats.textContent = `${train} training · ${test} test points · ${kind}`;
  }

  /** status: idle | training | queued; readOnly: watching a network without its token. */
  setStatus(status, readOnly = false, drafting = false) {
    const e = this.el;
    this.readOnly = readOnly;
    const training = status === "training" || status === "queued";
    e.play.classList.toggle("playing", training);
    e.play.setAttribute("aria-pressed", String(training));
    e.play.setAttribute("aria-label", training ? "Pause training (space)" : "Train (space)");
    e.play.title = training ? "Pause (space)" : "Train (space)";
    e.play.disabled = readOnly || drafting;
    e.step.disabled = readOnly || training || drafting;
    e.stepEpoch.disabled = readOnly || training || drafting;
    e.reset.disabled = readOnly || drafting;
    document.body.classList.toggle("training", training);
    document.body.classList.toggle("read-only", readOnly);
    for (const s of [e.lr, e.batch, e.reg, e.rule, e.speed]) s.disabled = readOnly;
    e.share.disabled = drafting;
    if (e.readonly) e.readonly.hidden = !readOnly;
  }

  setCounters(epoch, iteration) {
    this.el.epoch.textContent = String(epoch ?? 0).padStart(6, "0").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    this.el.iteration.textContent = (iteration ?? 0).toLocaleString("en-US");
  }

  setMetrics(m = {}) {
    const e = this.el;
    e.trainLoss.textContent = fmtLoss(m.train_loss);
    e.barLoss.textContent = e.trainLoss.textContent; // the top bar's copy, for one column
    e.testLoss.textContent = fmtLoss(m.test_loss);
    const pct = (v) => (v == null ? "—" : `${(100 * v).toFixed(1).replace(/\.0$/, "")}%`);
    e.trainAcc.textContent = pct(m.train_accuracy);
    e.testAcc.textContent = pct(m.test_accuracy);
    e.trainAcc.closest("div").hidden = m.train_accuracy == null && m.test_accuracy == null;
  }
}
