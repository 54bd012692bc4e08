// Marks the backprop lab puts on the network graph: the layer being computed highlighted, its
// neurons' values (n and a after Forward, s after Backward, the bias change after Update) and
// the change of every weight on its link. It only reads NetworkGraph's nodes, links and
// geometry, and redraws after each of the graph's layouts (the "graph-layout" event).
import { fmt } from "./mathml.js";

const SVG = "http://www.w3.org/2000/svg";
const MAX_LINK_LABELS = 12; // more links than this in a layer: a glow only, the value on hover
const MIN_BADGE_SIZE = 26; // smaller neurons than this (px) get no badge

export class GraphMarks {
  constructor(graph) {
    this.graph = graph;
    this.values = null; // {kind, columns: [[{lines: [[name, value]]}] per neuron] per column}
    this.deltas = null; // [{dW, db}] per layer
    this.focus = null; // {column, kind: "forward" | "backward" | "update"}
    this.group = document.createElementNS(SVG, "g");
    this.group.setAttribute("class", "lab-marks");
    this.group.setAttribute("aria-hidden", "true"); // the lab's panel says the same in words
    graph.svg.append(this.group);
    graph.host.addEventListener("graph-layout", () => this.draw());
  }

  clear() {
    this.values = null;
    this.deltas = null;
    this.focus = null;
    this.draw();
  }

  /** values: {kind, columns} (see above), or null. */
  setValues(values) {
    this.values = values;
    this.draw();
  }

  setDeltas(deltas) {
    this.deltas = deltas;
    this.draw();
  }

  /** Highlight one column (layer k of the lecture; 0 is the input) or none. */
  setFocus(column, kind = "forward") {
    this.focus = column == null ? null : { column, kind };
    this.drawFocus();
  }

  get active() {
    return !!(this.values || this.deltas || this.focus);
  }

  // -- drawing ---------------------------------------------------------------------------

  draw() {
    const g = this.graph;
    if (!g.svg.contains(this.group)) g.svg.append(this.group);
    this.group.replaceChildren();
    for (const badge of g.host.querySelectorAll(".lab-badge")) badge.remove();
    for (const node of g.host.querySelectorAll("[data-lab-values]")) {
      delete node.dataset.labValues;
    }
    for (const path of g.svg.querySelectorAll(".lab-changed")) path.classList.remove("lab-changed");
    g.host.classList.toggle("lab-on", this.active);
    if (!g.structure || !g.geometry) return;
    this.drawFocus();
    if (this.values) this.drawValues();
    if (this.deltas) this.drawDeltas();
  }

  /** Which graph column-row holds neuron j of layer k (inactive input features are skipped). */
  position(k, j) {
    return k === 0 ? this.graph.sourceColumnIndex(0, j) : j;
  }

  drawFocus() {
    const g = this.graph;
    const f = this.focus;
    g.nodes.forEach((column, c) => column.forEach((n) => {
      n.div.classList.toggle("lab-focus", !!f && c === f.column);
      n.div.classList.toggle("lab-source", !!f && f.kind !== "backward" && c === f.column - 1);
      n.div.classList.toggle("lab-next", !!f && f.kind === "backward" && c === f.column + 1);
    }));
    g.links.forEach((rows, k) => {
      // Forward and update use the links into the layer (W^k); backward those out of it
      // (W^(k+1)), through which s^(k+1) comes back.
      const lit = f && ((f.kind !== "backward" && k === f.column - 1) || (f.kind === "backward" && k === f.column));
      rows.forEach((row) => row.forEach((link) => {
        link.path.classList.toggle("lab-lit", !!lit);
        link.path.classList.toggle("lab-dim", !!f && !lit);
      }));
    });
  }

  drawValues() {
    const g = this.graph;
    const size = g.geometry.size;
    const { kind, columns } = this.values;
    columns.forEach((neurons, k) => {
      if (!neurons) return;
      neurons.forEach((entry, j) => {
        const node = g.nodes[k]?.[this.position(k, j)];
        if (!node || !entry) return;
        const text = entry.lines.map(([name, v]) => `${name} = ${fmt(v, 3)}`).join("   ");
        node.div.dataset.labValues = text;
        if (size < MIN_BADGE_SIZE) return; // too small to read: the equations hold the values
        const badge = document.createElement("div");
        badge.className = `lab-badge ${kind}${size < 64 ? " small" : ""}`;
        for (const [name, v] of entry.lines) {
          const line = document.createElement("span");
          const b = document.createElement("b");
          b.textContent = name;
          line.append(b, ` ${fmt(v, 3)}`);
          badge.append(line);
        }
        node.div.append(badge);
      });
    });
  }

  drawDeltas() {
    const g = this.graph;
    const { xs, ys, size } = g.geometry;
    this.deltas.forEach((layer, k) => {
      if (!layer?.dW) return;
      const rows = g.links[k];
      if (!rows) return;
      const count = layer.dW.length * (layer.dW[0]?.length ?? 0);
      const max = Math.max(1e-12, ...layer.dW.flat().map(Math.abs));
      const p = layer.dW.length;
      // Labels only where they can be read: few links, neurons far enough apart.
      const spacing = Math.min(...[ys[k], ys[k + 1]].map((col) => (col.length > 1 ? col[1] - col[0] : Infinity)));
      const gap = xs[k + 1] - (xs[k] + size);
      const labels = count <= MAX_LINK_LABELS && spacing >= 44 && gap >= 70;
      const dense = count > 16;
      layer.dW.forEach((row, i) => row.forEach((d, j) => {
        const link = rows[i]?.[j];
        if (!link) return;
        // Every link: a glow as thick as its change (the largest change of the layer: 7 px).
        const glow = document.createElementNS(SVG, "path");
        glow.setAttribute("d", link.path.getAttribute("d"));
        glow.setAttribute("class", `lab-glow${dense ? " dense" : ""}`);
        glow.setAttribute("stroke-width", (0.6 + (4.5 * Math.abs(d)) / max).toFixed(2));
        this.group.prepend(glow);
        if (!labels || Math.abs(d) < 1e-12) return;
        // Along the link, at a point that depends on the target neuron, so that labels of
        // crossing links do not sit on each other.
        const jc = this.position(k, j);
        const x0 = xs[k] + size;
        const y0 = ys[k][jc] + size / 2;
        const x1 = xs[k + 1];
        const y1 = ys[k + 1][i] + size / 2;
        // Near the sources when they are spread wider than the targets (many into one).
        const fromSide = p < layer.dW[0].length;
        const t = fromSide ? 0.2 + (0.12 * i) / Math.max(1, p - 1) : 0.3 + (0.26 * i) / Math.max(1, p - 1);
        const [x, y] = bezier(x0, y0, x1, y1, t);
        const text = document.createElementNS(SVG, "text");
        text.setAttribute("x", x.toFixed(1));
        text.setAttribute("y", (y - 3).toFixed(1));
        text.setAttribute("class", `lab-delta ${d > 0 ? "up" : "down"}`);
        text.textContent = `${d > 0 ? "+" : ""}${fmt(d, 3)}`;
        this.group.append(text);
      }));
    });
  }
}

function bezier(x0, y0, x1, y1, t) {
  const mx = (x0 + x1) / 2;
  const u = 1 - t;
  const x = u * u * u * x0 + 3 * u * u * t * mx + 3 * u * t * t * mx + t * t * t * x1;
  const y = u * u * u * y0 + 3 * u * u * t * y0 + 3 * u * t * t * y1 + t * t * t * y1;
  return [x, y];
}
