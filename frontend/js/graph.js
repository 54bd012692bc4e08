// The network as an SVG graph: the input features (toggles), hidden layers and the output;
// every neuron a thumbnail heatmap of its output over the input plane; every link coloured by
// the sign of its weight and sized by its magnitude; biases as small squares. Hovering shows
// the exact value; clicking a weight or bias opens an editor (the caller PUTs it). From the
// keyboard the weights and biases are one tab stop: the arrows move from one to the next
// (each named with its value), Enter opens the same editor.
import { weightColor, activationMapper, outputMapper } from "./colors.js";
import { drawHeatmap, sampleFunction } from "./heatmap.js";
import { featureFunction, featureLabel } from "./features.js";
import { look } from "./presenter.js";
import { el } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const SUB = "₀₁₂₃₄₅₆₇₈₉";
export const sub = (n) => String(n).split("").map((d) => SUB[d]).join("");
const SUP = { 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };
export const sup = (n) => String(n).split("").map((d) => SUP[d]).join("");
export const fmt = (v) => (v == null ? "—" : Math.abs(v) >= 1000 || (Math.abs(v) < 0.001 && v !== 0)
  ? v.toExponential(3) : v.toFixed(4));

function svg(tag, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

export class NetworkGraph {
  /**
   * host: the element to fill. handlers: onToggleFeature(name), onLayers(delta),
   * onNeurons(hiddenIndex, delta), onActivation(layerIndex, name), onEdit({layer, kind, i, j,
   * value, label}), onHoverNeuron(null | {layer, index, label}).
   */
  constructor(host, handlers) {
    this.host = host;
    this.handlers = handlers;
    this.catalog = null;
    this.structure = null;
    this.layers = null; // [{W, b}]
    this.domain = null;
    this.readOnly = false;
    this.nodes = []; // [column][i] -> {div, canvas, bias}
    this.links = []; // [layer][i][j] -> {path, hit}
    this.lastGrids = null;

    host.classList.add("graph");
    this.headers = host.appendChild(el("div", { class: "graph-headers" }));
    this.canvasLayer = host.appendChild(el("div", { class: "graph-body" }));
    this.svg = svg("svg", { class: "graph-links", role: "group",
      "aria-label": "Weights: arrow keys move from one to the next, Enter edits" }, this.canvasLayer);
    this.linkGroup = svg("g", { "aria-hidden": "true" }, this.svg);
    this.hitGroup = svg("g", { class: "hits" }, this.svg);
    this.params = []; // every weight and bias in keyboard order: {k, kind, i, j, target}
    this.paramIndex = 0; // the one with tabindex 0
    this.canvasLayer.addEventListener("scroll", () => { this.headers.scrollLeft = this.canvasLayer.scrollLeft; });
    this.watchParamKeys();
    this.nodeLayer = this.canvasLayer.appendChild(el("div", { class: "graph-nodes" }));
    this.tooltip = host.appendChild(el("div", { class: "tooltip", role: "tooltip", hidden: "" }));
    this.editor = this.buildEditor();

    new ResizeObserver(() => this.structure && this.layout()).observe(this.canvasLayer);
  }

  // -- structure ------------------------------------------------------------------------

  /**
   * s: {allFeatures, features, sizes, activations, limits, rule, activationsCatalog}.
   * Rebuilds the DOM only when the shape changed.
   */
  setStructure(s, readOnly = false) {
    const key = JSON.stringify([s.allFeatures, s.features, s.sizes, s.activations, s.rule,
      s.limits, readOnly]);
    this.readOnly = readOnly;
    if (key === this.structureKey) return;
    this.structureKey = key;
    this.structure = s;
    this.build();
    this.layout();
    if (this.layers) this.setParameters(this.layers);
    if (this.domain) this.drawFeatureThumbnails();
  }

  columns() {
    // column 0: every feature (active or not); then hidden layers; then the output.
    const s = this.structure;
    return [s.allFeatures.length, ...s.sizes.slice(1)];
  }

  build() {
    const s = this.structure;
    this.headers.replaceChildren();
    this.nodeLayer.replaceChildren();
    this.linkGroup.replaceChildren();
    this.hitGroup.replaceChildren();
    this.hideTooltip();
    this.closeEditor();
    const hiddenCount = s.sizes.length - 2;
    const limits = s.limits || {};
    const perceptron = s.rule === "perceptron";

    // The bar above the graph: + / - hidden layers.
    const bar = this.headers.appendChild(el("div", { class: "layers-bar" }));
    const addLayer = bar.appendChild(el("button", { class: "icon-btn", type: "button",
      "aria-label": "Add a hidden layer", title: perceptron
        ? "The perceptron rule trains a single layer: choose backprop to add hidden layers"
        : "Add a hidden layer", text: "+", "data-testid": "add-layer" }));
    const removeLayer = bar.appendChild(el("button", { class: "icon-btn", type: "button",
      "aria-label": "Remove the last hidden layer", title: "Remove the last hidden layer",
      text: "−", "data-testid": "remove-layer" }));
    bar.appendChild(el("span", { class: "layers-count", text: `${hiddenCount} hidden layer${hiddenCount === 1 ? "" : "s"}`,
      "data-testid": "layer-count" }));
    addLayer.disabled = this.readOnly || perceptron || hiddenCount >= (limits.hidden_layers ?? 8);
    removeLayer.disabled = this.readOnly || hiddenCount === 0;
    addLayer.addEventListener("click", () => this.handlers.onLayers?.(1));
    removeLayer.addEventListener("click", () => this.handlers.onLayers?.(-1));

    // Column headers.
    this.columnHeaders = [];
    const cols = this.columns();
    cols.forEach((count, c) => {
      const head = this.headers.appendChild(el("div", { class: "col-head" }));
      this.columnHeaders.push(head);
      if (c === 0) {
        head.appendChild(el("div", { class: "neuron-btns" }));
        head.appendChild(el("div", { class: "col-title", text: "Features" }));
        head.appendChild(el("div", { class: "col-sub", text: `${s.features.length} of ${s.allFeatures.length} on` }));
        return;
      }
      const isOutput = c === cols.length - 1;
      if (!isOutput) {
        const row = head.appendChild(el("div", { class: "neuron-btns" }));
        const plus = row.appendChild(el("button", { class: "icon-btn small", type: "button", text: "+",
          "aria-label": `Add a neuron to hidden layer ${c}`, title: "Add a neuron" }));
        const minus = row.appendChild(el("button", { class: "icon-btn small", type: "button", text: "−",
          "aria-label": `Remove a neuron from hidden layer ${c}`, title: "Remove a neuron" }));
        plus.disabled = this.readOnly || count >= (limits.neurons_per_layer ?? 64);
        minus.disabled = this.readOnly || count <= 1;
        plus.addEventListener("click", () => this.handlers.onNeurons?.(c - 1, 1));
        minus.addEventListener("click", () => this.handlers.onNeurons?.(c - 1, -1));
        head.appendChild(el("div", { class: "col-title", text: `${count} neuron${count === 1 ? "" : "s"}` }));
      } else {
        head.appendChild(el("div", { class: "neuron-btns" }));
        head.appendChild(el("div", { class: "col-title", text: count > 1 ? `Output · ${count}` : "Output" }));
      }
      const select = head.appendChild(el("select", { class: "act-select", "aria-label":
        isOutput ? "Activation of the output layer" : `Activation of hidden layer ${c}` }));
      // The ones backprop cannot train are grouped under a heading that says so (a short
      // option text keeps the menu narrow: nothing is cut).
      let noBackprop = null;
      for (const a of s.activationsCatalog) {
        if (perceptron && !["hardlim", "hardlims"].includes(a.name)) continue;
        let group = select;
        if (a.can_backprop === false && !perceptron) {
          noBackprop ??= select.appendChild(el("optgroup", { label: "No backprop (f′ = 0)" }));
          group = noBackprop;
        }
        const option = group.appendChild(el("option", { value: a.name, text: a.label || a.name }));
        option.title = `f(n) = ${a.formula ?? ""}   f'(n) = ${a.derivative ?? ""}`;
      }
      select.value = s.activations[c - 1];
      select.title = describeActivation(s.activationsCatalog, s.activations[c - 1]);
      select.disabled = this.readOnly;
      select.addEventListener("change", () => this.handlers.onActivation?.(c - 1, select.value));
    });

    // Nodes.
    this.nodes = cols.map((count, c) => {
      const column = [];
      for (let i = 0; i < count; i++) {
        const isInput = c === 0;
        const feature = isInput ? s.allFeatures[i] : null;
        const active = !isInput || s.features.includes(feature);
        const div = this.nodeLayer.appendChild(el("div", { class: `node${isInput ? " input" : ""}${active ? "" : " off"}${c === cols.length - 1 ? " output" : ""}` }));
        const canvas = div.appendChild(el("canvas", {}));
        const label = this.neuronLabel(c, i);
        div.dataset.layer = c;
        div.dataset.index = i;
        if (isInput) {
          div.setAttribute("role", "switch");
          div.setAttribute("tabindex", "0");
          div.setAttribute("aria-checked", String(active));
          div.setAttribute("aria-label", `Input feature ${featureLabel(feature, this.catalog)}`);
          div.dataset.feature = feature;
          div.title = `${featureLabel(feature, this.catalog)}: click to turn ${active ? "off" : "on"}`;
          const name = div.appendChild(el("span", { class: "feature-name", text: featureLabel(feature, this.catalog) }));
          name.setAttribute("aria-hidden", "true");
          const toggle = () => !this.readOnly && this.handlers.onToggleFeature?.(feature);
          div.addEventListener("click", toggle);
          div.addEventListener("keydown", (e) => {
            if (e.key === "Enter" || e.key === " ") { e.preventDefault(); e.stopPropagation(); toggle(); }
          });
        } else {
          div.setAttribute("aria-label", label);
          const bias = div.appendChild(el("div", { class: "bias", role: "button", tabindex: "-1" }));
          bias.addEventListener("mouseenter", (e) => this.showParam(e, c - 1, "b", i, 0));
          bias.addEventListener("mousemove", (e) => this.moveTooltip(e));
          bias.addEventListener("mouseleave", () => this.hideTooltip());
          bias.addEventListener("click", (e) => { e.stopPropagation(); this.openEditor(e, c - 1, "b", i, 0); });
          column.bias = column.bias || [];
        }
        div.addEventListener("mouseenter", () => this.handlers.onHoverNeuron?.(
          { column: c, index: i, label, feature }));
        div.addEventListener("mouseleave", () => this.handlers.onHoverNeuron?.(null));
        column.push({ div, canvas, bias: div.querySelector(".bias"), active, feature });
      }
      return column;
    });

    // Links: layer k (0-based) joins column k to column k+1; from input only active features.
    this.links = [];
    for (let k = 0; k < s.sizes.length - 1; k++) {
      const rows = [];
      for (let i = 0; i < s.sizes[k + 1]; i++) {
        const row = [];
        for (let j = 0; j < s.sizes[k]; j++) {
          const path = svg("path", { class: "link" }, this.linkGroup);
          const hit = svg("path", { class: "link-hit" }, this.hitGroup);
          hit.addEventListener("mouseenter", (e) => { path.classList.add("hover"); this.showParam(e, k, "W", i, j); });
          hit.addEventListener("mousemove", (e) => this.moveTooltip(e));
          hit.addEventListener("mouseleave", () => { path.classList.remove("hover"); this.hideTooltip(); });
          hit.addEventListener("click", (e) => { e.stopPropagation(); this.openEditor(e, k, "W", i, j); });
          hit.setAttribute("role", "button");
          hit.setAttribute("tabindex", "-1");
          row.push({ path, hit });
        }
        rows.push(row);
      }
      this.links.push(rows);
    }
    // Keyboard order: layer by layer, each neuron's bias then the weights into it.
    this.params = [];
    this.links.forEach((rows, k) => rows.forEach((row, i) => {
      const bias = this.nodes[k + 1][i].bias;
      this.params.push({ k, kind: "b", i, j: 0, target: bias });
      row.forEach((link, j) => this.params.push({ k, kind: "W", i, j, target: link.hit }));
    }));
    this.params.forEach((p, n) => { p.target.dataset.param = n; });
    this.paramIndex = Math.min(this.paramIndex, Math.max(0, this.params.length - 1));
    this.rove(this.paramIndex);
  }

  // -- the keyboard: one tab stop for every weight and bias ---------------------------------

  /** One listener for every weight and bias (a large network has tens of thousands). */
  watchParamKeys() {
    const param = (e) => this.params[e.target.dataset?.param];
    this.canvasLayer.addEventListener("focusin", (e) => {
      const p = param(e);
      if (!p) return;
      this.rove(Number(e.target.dataset.param));
      if (p.target.matches(":focus-visible")) this.showParam(centerOf(p.target), p.k, p.kind, p.i, p.j);
    });
    this.canvasLayer.addEventListener("focusout", (e) => { if (param(e)) this.hideTooltip(); });
    this.canvasLayer.addEventListener("keydown", (e) => {
      const p = param(e);
      if (!p) return;
      const n = Number(e.target.dataset.param);
      const moves = { ArrowDown: n + 1, ArrowRight: n + 1, ArrowUp: n - 1, ArrowLeft: n - 1,
        Home: 0, End: this.params.length - 1, PageDown: n + 10, PageUp: n - 10 };
      if (e.key in moves) {
        e.preventDefault();
        e.stopPropagation(); // → moves here; it does not step the network
        const next = Math.max(0, Math.min(this.params.length - 1, moves[e.key]));
        this.params[next].target.focus();
      } else if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        e.stopPropagation();
        this.openEditor(centerOf(p.target), p.k, p.kind, p.i, p.j, p.target);
      }
    });
  }

  /** Make parameter n the graph's one tab stop. */
  rove(n) {
    const old = this.params[this.paramIndex];
    if (old) old.target.setAttribute("tabindex", "-1");
    this.paramIndex = n;
    const now = this.params[n];
    if (now) {
      now.target.setAttribute("tabindex", "0");
      this.nameParam(now);
    }
  }

  /** Its accessible name: which weight or bias, where, and its value. */
  nameParam(p) {
    const value = this.paramValue(p.k, p.kind, p.i, p.j);
    const into = this.neuronLabel(p.k + 1, p.i);
    const shown = value == null ? "no value yet" : String(Number(value.toPrecision(6)));
    const text = p.kind === "b"
      ? `Bias b${p.k + 1} ${p.i + 1} of ${into}: ${shown}`
      : `Weight w${p.k + 1} ${p.i + 1},${p.j + 1} from ${this.sourceLabel(p.k, p.j)} into ${into}: ${shown}`;
    p.target.setAttribute("aria-label", text);
  }

  /** Neuron j of layer k as a source of weights (layer 0: the active input features). */
  sourceLabel(k, j) {
    if (k === 0) return `input ${featureLabel(this.structure.features[j], this.catalog)}`;
    return this.neuronLabel(k, j);
  }

  /** Where node j of column c sits: the input column maps active features onto layer 0. */
  sourceColumnIndex(k, j) {
    if (k > 0) return j;
    return this.structure.allFeatures.indexOf(this.structure.features[j]);
  }

  neuronLabel(c, i) {
    const cols = this.columns();
    if (c === 0) return featureLabel(this.structure.allFeatures[i], this.catalog);
    if (c === cols.length - 1) return cols[c] > 1 ? `output ${i + 1}` : "the output";
    return `neuron ${i + 1} of hidden layer ${c}`;
  }

  shortLabel(k, j) {
    // neuron j of layer k (0 = input features, as in a^0)
    if (k === 0) return featureLabel(this.structure.features[j], this.catalog);
    return `a${sup(k)}${sub(j + 1)}`;
  }

  layout() {
    const s = this.structure;
    const H = Math.max(240, this.canvasLayer.clientHeight);
    const cols = this.columns();
    const tallest = Math.max(...cols);
    const gapRatio = 0.32;
    const size = Math.max(10, Math.min(64, Math.floor((H - 24) / (tallest * (1 + gapRatio)))));
    const gap = Math.max(3, Math.round(size * gapRatio));
    // The columns stand far enough apart for their headers (titles and activation menus) not
    // to overlap; when the card is narrower than that, the graph scrolls inside it.
    const heads = this.columnHeaders.map((h) => h.offsetWidth);
    const left = Math.max(70, heads[0] / 2 - size / 2 + 6);
    const right = Math.max(22, heads.at(-1) / 2 - size / 2 + 6);
    const apart = Math.max(0, ...heads.slice(1).map((w, c) => (w + heads[c]) / 2 + 12));
    const W = Math.max(320, this.canvasLayer.clientWidth, left + right + size + (cols.length - 1) * apart);
    const xs = cols.map((_, c) => (cols.length === 1 ? left
      : left + ((W - left - right - size) * c) / (cols.length - 1)));
    const span = tallest * size + (tallest - 1) * gap;
    const top = Math.max(12, Math.min(60, (H - span) / 2 - 10));
    const ys = cols.map((count) => {
      const h = count * size + (count - 1) * gap;
      const y0 = top + (span - h) / 2;
      return Array.from({ length: count }, (_, i) => y0 + i * (size + gap));
    });
    this.geometry = { xs, ys, size };
    this.svg.setAttribute("width", W);
    this.svg.setAttribute("height", Math.max(H, span + 2 * top));
    const dpr = window.devicePixelRatio || 1;
    this.nodes.forEach((column, c) => column.forEach((n, i) => {
      Object.assign(n.div.style, { left: `${xs[c]}px`, top: `${ys[c][i]}px`,
        width: `${size}px`, height: `${size}px` });
      const px = Math.round(size * dpr);
      if (n.canvas.width !== px) { n.canvas.width = px; n.canvas.height = px; }
    }));
    this.columnHeaders.forEach((h, c) => {
      h.style.left = `${xs[c] + size / 2}px`;
    });
    // Links.
    for (let k = 0; k < this.links.length; k++) {
      this.links[k].forEach((row, i) => row.forEach((link, j) => {
        const jc = this.sourceColumnIndex(k, j);
        const x0 = xs[k] + size;
        const y0 = ys[k][jc] + size / 2;
        const x1 = xs[k + 1];
        const y1 = ys[k + 1][i] + size / 2;
        const mx = (x0 + x1) / 2;
        const d = `M${x0},${y0} C${mx},${y0} ${mx},${y1} ${x1},${y1}`;
        link.path.setAttribute("d", d);
        link.hit.setAttribute("d", d);
      }));
    }
    if (this.domain) this.drawFeatureThumbnails();
    if (this.lastGrids) this.setNeuronGrids(this.lastGrids.grids, this.lastGrids.state, this.lastGrids.discretise);
    void s;
    // Overlays (the teaching views' marks) redraw on the new geometry.
    this.host.dispatchEvent(new CustomEvent("graph-layout"));
  }

  // -- values ---------------------------------------------------------------------------

  setParameters(layers) {
    this.layers = layers;
    if (!this.structure) return;
    const scale = 1;
    layers.forEach((layer, k) => {
      const rows = this.links[k];
      if (!rows) return;
      layer.W.forEach((row, i) => row.forEach((w, j) => {
        const link = rows[i]?.[j];
        if (!link) return;
        const v = w ?? 0;
        link.path.setAttribute("stroke", weightColor(v, scale));
        link.path.setAttribute("stroke-width", (look.line * Math.min(9, 0.8 + 2.4 * Math.abs(v))).toFixed(2));
      }));
      layer.b.forEach((b, i) => {
        const node = this.nodes[k + 1]?.[i];
        if (node?.bias) node.bias.style.background = weightColor(b ?? 0, scale);
      });
    });
    if (this.tooltipTarget) this.refreshTooltip();
    // Names carry the values: every one on a small network, the tab stop's on a large one.
    if (this.params.length <= 400) this.params.forEach((p) => this.nameParam(p));
    else if (this.params[this.paramIndex]) this.nameParam(this.params[this.paramIndex]);
  }

  setDomain(domain) {
    if (JSON.stringify(domain) === JSON.stringify(this.domain)) return;
    this.domain = domain;
    if (this.structure) this.drawFeatureThumbnails();
  }

  drawFeatureThumbnails() {
    const R = 32;
    for (const n of this.nodes[0] || []) {
      const values = sampleFunction(featureFunction(n.feature), this.domain, R, R);
      drawHeatmap(n.canvas, values, R, R, { mapper: { map: (v, s) => v / s, dynamic: true } });
    }
  }

  /** grids: the decoded `neurons` of a boundary ([layer 0 .. output]); state: for the output. */
  setNeuronGrids(grids, state, discretise = false) {
    this.lastGrids = { grids, state, discretise };
    if (!this.structure || !grids) return;
    const acts = this.structure.activations;
    for (let c = 1; c < this.nodes.length; c++) {
      const grid = grids[c];
      if (!grid) continue;
      const isOutput = c === this.nodes.length - 1;
      const mapper = isOutput ? outputMapper(state) : activationMapper(acts[c - 1]);
      this.nodes[c].forEach((n, i) => {
        if (i >= grid.p) return;
        drawHeatmap(n.canvas, grid.channel(i), grid.rows, grid.cols, { mapper, discretise });
      });
    }
  }

  // -- tooltip and editor ---------------------------------------------------------------

  paramValue(k, kind, i, j) {
    const layer = this.layers?.[k];
    if (!layer) return null;
    return kind === "W" ? layer.W[i]?.[j] : layer.b[i];
  }

  paramLabel(k, kind, i, j) {
    const into = this.shortLabel(k + 1, i);
    if (kind === "b") return { name: `b${sup(k + 1)}${sub(i + 1)}`, where: `bias of ${into}` };
    return { name: `w${sup(k + 1)}${sub(i + 1)},${sub(j + 1)}`,
      where: `weight from ${this.shortLabel(k, j)} into ${into}` };
  }

  showParam(e, k, kind, i, j) {
    this.tooltipTarget = { k, kind, i, j };
    this.tooltip.hidden = false;
    this.refreshTooltip();
    this.moveTooltip(e);
  }

  refreshTooltip() {
    const { k, kind, i, j } = this.tooltipTarget;
    const { name, where } = this.paramLabel(k, kind, i, j);
    const value = this.paramValue(k, kind, i, j);
    this.tooltip.replaceChildren();
    this.tooltip.appendChild(el("strong", { text: `${name} = ${value == null ? "—" : value.toPrecision(6)}` }));
    this.tooltip.appendChild(el("div", { text: where }));
    if (!this.readOnly) this.tooltip.appendChild(el("div", { class: "hint", text: "Click or press Enter to edit" }));
  }

  moveTooltip(e) {
    const host = this.host.getBoundingClientRect();
    const x = e.clientX - host.left + 14;
    const y = e.clientY - host.top + 14;
    const w = this.tooltip.offsetWidth;
    this.tooltip.style.left = `${Math.min(x, host.width - w - 6)}px`;
    this.tooltip.style.top = `${y}px`;
  }

  hideTooltip() {
    this.tooltipTarget = null;
    if (this.tooltip) this.tooltip.hidden = true;
  }

  buildEditor() {
    const form = this.host.appendChild(el("form", { class: "param-editor", hidden: "", "aria-label": "Edit a parameter" }));
    const label = form.appendChild(el("label", { for: "param-input" }));
    const input = form.appendChild(el("input", { id: "param-input", type: "text", inputmode: "decimal", required: "",
      "data-testid": "param-input" }));
    const row = form.appendChild(el("div", { class: "row" }));
    row.appendChild(el("button", { type: "submit", class: "btn primary small", text: "Set" }));
    const cancel = row.appendChild(el("button", { type: "button", class: "btn small", text: "Cancel" }));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const value = Number(input.value);
      const t = this.editing;
      this.closeEditor(true);
      if (t) this.handlers.onEdit?.({ ...t, value, label: this.paramLabel(t.layer, t.kind, t.i, t.j).name });
    });
    cancel.addEventListener("click", () => this.closeEditor(true));
    form.addEventListener("keydown", (e) => {
      if (e.key === "Escape") { e.stopPropagation(); this.closeEditor(true); }
      e.stopPropagation(); // space and arrows belong to the input here
    });
    return { form, label, input };
  }

  /** at: where to open it ({clientX, clientY}); from: the element to give the focus back to. */
  openEditor(at, k, kind, i, j, from = null) {
    if (this.readOnly) return;
    this.editorReturn = from;
    this.hideTooltip();
    const value = this.paramValue(k, kind, i, j);
    const { name, where } = this.paramLabel(k, kind, i, j);
    this.editing = { layer: k, kind, i, j };
    this.editor.label.textContent = `${name} (${where})`;
    this.editor.input.value = value == null ? "0" : String(Number(value.toPrecision(6)));
    this.editor.form.hidden = false;
    const host = this.host.getBoundingClientRect();
    const w = this.editor.form.offsetWidth;
    const h = this.editor.form.offsetHeight;
    const x = Math.min(Math.max(4, at.clientX - host.left - w / 2), host.width - w - 4);
    const y = Math.max(4, Math.min(at.clientY - host.top + 12, host.height - h - 4));
    this.editor.form.style.left = `${x}px`;
    this.editor.form.style.top = `${y}px`;
    this.editor.input.focus();
    this.editor.input.select();
  }

  /** refocus: give the focus back to the weight or bias the keyboard opened it from. */
  closeEditor(refocus = false) {
    this.editing = null;
    if (this.editor) this.editor.form.hidden = true;
    const from = this.editorReturn;
    this.editorReturn = null;
    if (refocus && from?.isConnected) from.focus();
  }
}

/** The middle of an element, where the tooltip and the editor open for the keyboard. */
function centerOf(target) {
  const r = target.getBoundingClientRect();
  return { clientX: r.left + r.width / 2, clientY: r.top + r.height / 2 };
}

function describeActivation(catalog, name) {
  const a = catalog.find((x) => x.name === name);
  if (!a) return name;
  return `${a.label || a.name}: f(n) = ${a.formula ?? "?"}, f'(n) = ${a.derivative ?? "?"}`;
}
