// The lecture's notation in the browser's own MathML (no outside library): a tiny element
// builder, numbers rounded for reading (0.2, not 0.20000000000000004), and vectors and
// matrices with drawn brackets that shorten large layers (first rows, an ellipsis, the last)
// until they are expanded.

const NS = "http://www.w3.org/1998/Math/MathML";

/** Create a MathML element: h("mrow", {class: "x"}, child, "text", ...). */
export function h(tag, attrs = {}, ...kids) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v != null && v !== false) node.setAttribute(k, v === true ? "true" : String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid == null || kid === false) continue;
    node.append(typeof kid === "string" || typeof kid === "number" ? String(kid) : kid);
  }
  return node;
}

// -- numbers -------------------------------------------------------------------------------

/** A number as a student reads it: 4 significant digits, no float noise, "−" for minus. */
export function fmt(v, digits = 4) {
  if (v == null || !Number.isFinite(v)) return "—";
  if (v === 0) return "0";
  const a = Math.abs(v);
  let s;
  if (a >= 1e6 || a < 1e-4) {
    const [m, e] = v.toExponential(digits - 2).split("e");
    s = `${Number(m)}e${Number(e)}`;
  } else {
    s = String(Number(v.toPrecision(digits)));
  }
  return s.replace(/^-/, "−").replace("e-", "e−");
}

/** The rounded value as plain JSON (ASCII minus), for data attributes and tests. */
export function plain(v, digits = 4) {
  if (Array.isArray(v)) return v.map((x) => plain(x, digits));
  if (v == null || !Number.isFinite(v)) return null;
  const r = Number(v.toPrecision(digits));
  return r === 0 ? 0 : r;
}

/** A layer's values for a data attribute: a single value as a number, else the rounded list. */
export function flat(values) {
  const p = plain(values);
  return p.length === 1 ? p[0] : p;
}

// -- atoms -----------------------------------------------------------------------------------

export const mi = (t, attrs = {}) => h("mi", attrs, t);
/** An upright bold symbol (a vector or matrix of the lecture): W, b, n, a, s, x, y, F, as the
 * Unicode mathematical bold letters (𝐖), which the math font draws bold and upright. */
export const bf = (t) => h("mi", { class: "bf" }, [...t].map(boldLetter).join(""));

function boldLetter(c) {
  const code = c.codePointAt(0);
  if (code >= 65 && code <= 90) return String.fromCodePoint(0x1d400 + code - 65);
  if (code >= 97 && code <= 122) return String.fromCodePoint(0x1d41a + code - 97);
  return c;
}
export const up = (t) => h("mi", { mathvariant: "normal" }, t);
export const mo = (t, attrs = {}) => h("mo", attrs, t);
export const mtext = (t) => h("mtext", {}, t);
export const row = (...kids) => h("mrow", {}, ...kids);
export const sup = (base, s) => h("msup", {}, base, typeof s === "object" ? s : mn(s));
export const sub = (base, s) => h("msub", {}, base, typeof s === "object" ? s : mn(s));
export const subsup = (base, s, p) => h("msubsup", {}, base,
  typeof s === "object" ? s : mn(s), typeof p === "object" ? p : mn(p));
export const hat = (base) => h("mover", { accent: true }, base, mo("^"));
export const dot = (base) => h("mover", { accent: true }, base, mo("˙"));
export const frac = (a, b) => h("mfrac", {}, a, b);
/** Parentheses: stretched around a matrix or a fraction, plain around symbols (as the lecture sets them). */
export function paren(...kids) {
  const tall = kids.flat().some((k) => k?.querySelector?.("mtable, mfrac") || ["mtable", "mfrac"].includes(k?.localName));
  const a = tall ? {} : { stretchy: "false" };
  return row(mo("(", a), ...kids, mo(")", a));
}
export const space = (em = 0.3) => h("mspace", { width: `${em}em` });
/** An integer label (a layer index, a transpose T...) as an <mn> (never rounded). */
export function mn(v) {
  return h("mn", {}, typeof v === "number" ? fmt(v) : String(v));
}
/** A number that may need parentheses when it follows an operator: × (−4). */
export function num(v, { paren: p = false } = {}) {
  const n = h("mn", {}, fmt(v));
  return p && v < 0 ? paren(n) : n;
}
/** "+ v" or "− |v|" after another term: a plain sum as one writes it. */
export function signed(v) {
  return v < 0 ? [minus(), num(-v)] : [plus(), num(v)];
}
/** A result marked for the reader (bold blue). */
export function result(node) {
  const r = row(node);
  r.setAttribute("class", "result");
  return r;
}
export const T = (base) => h("msup", {}, base, up("T"));
export const eq = () => mo("=");
export const times = () => mo("×");
export const minus = () => mo("−");
export const plus = () => mo("+");

/** Layer index k as a superscript expression: "k", "k−1", "k+1", or a number. */
export function idx(k, off = 0) {
  if (typeof k === "number") return mn(k + off);
  if (!off) return mi(k);
  return row(mi(k), mo(off < 0 ? "−" : "+"), mn(Math.abs(off)));
}

/** A symbol with its layer: W^k, b^1, n^(k−1)... bold unless `scalar`. */
export function sym(letter, k, { off = 0, scalar = false, hatted = false, dotted = false } = {}) {
  let base = scalar ? mi(letter) : bf(letter);
  if (hatted) base = hat(base);
  if (dotted) base = dot(base);
  return k == null ? base : sup(base, idx(k, off));
}

/** A whole <math> element. */
export function math(kids, { display = "block", label = null } = {}) {
  const node = h("math", { display }, kids);
  if (label) node.setAttribute("aria-label", label);
  return node;
}

// -- vectors and matrices --------------------------------------------------------------------

const SHOW = 6; // longest vector shown whole before it is shortened
const HEAD = 3;

/** Which indices to show of n values: all, or the first HEAD, a gap (null), and the last. */
function pick(n, full) {
  if (full || n <= SHOW) return Array.from({ length: n }, (_, i) => i);
  return [...Array.from({ length: HEAD }, (_, i) => i), null, n - 1];
}

/**
 * A matrix of numbers with drawn brackets. `values` is rows of numbers. A 1 x 1 matrix is a
 * plain number (as the lecture writes a single neuron's n, a, s). `full` shows every entry of a
 * large one; otherwise it is shortened and marked `compact` (the page offers to expand it).
 */
export function matrix(values, { full = false, scalar = true, diag = false } = {}) {
  const r = values.length;
  const c = values[0]?.length ?? 0;
  if (scalar && r === 1 && c === 1) return num(values[0][0]);
  const rows = pick(r, full);
  const cols = pick(c, full);
  const table = h("mtable", { class: `mat${diag ? " diag" : ""}` });
  for (const i of rows) {
    const tr = h("mtr");
    for (const j of cols) {
      let cell;
      if (i == null && j == null) cell = mo("⋱");
      else if (i == null) cell = mo("⋮");
      else if (j == null) cell = mo("⋯");
      else cell = h("mn", {}, fmt(values[i][j]));
      tr.append(h("mtd", {}, cell));
    }
    table.append(tr);
  }
  const compact = rows.includes(null) || cols.includes(null);
  const wrap = row(table);
  wrap.setAttribute("class", compact ? "matwrap compact" : "matwrap");
  if (compact) {
    wrap.setAttribute("data-size", `${r}×${c}`);
    wrap.setAttribute("title", `${r} × ${c}: click “show all” to see every value`);
  }
  return wrap;
}

/** A column vector (one neuron per row), as the lecture writes n, a, s, b. */
export function column(values, options = {}) {
  return matrix(values.map((v) => [v]), options);
}

/** A row vector (a transpose, or a single neuron's weights). */
export function rowVector(values, options = {}) {
  return matrix([values], options);
}

/** A diagonal matrix of the given values (Fdot). */
export function diagonal(values, options = {}) {
  const n = values.length;
  const m = values.map((v, i) => Array.from({ length: n }, (_, j) => (i === j ? v : 0)));
  return matrix(m, { ...options, diag: true });
}

/**
 * An equation laid out as the lecture writes it, aligned on "=": the left side, then each
 * right side on its own line (symbols, numbers put in, the result), or on one line when short.
 * lhs: a node; steps: nodes. Returns a <math display=block>.
 */
export function equation(lhs, steps, { inline = false, label = null, rel = "=" } = {}) {
  const relation = (i) => (i === 0 ? mo(rel) : eq());
  if (inline || steps.length <= 1) {
    const kids = [lhs];
    steps.forEach((s, i) => kids.push(relation(i), s));
    return math(row(...kids), { label });
  }
  const table = h("mtable", { class: "align" });
  steps.forEach((s, i) => {
    table.append(h("mtr", {}, h("mtd", {}, i === 0 ? lhs : row()),
      h("mtd", {}, row(relation(i), s))));
  });
  return math(table, { label });
}

/** Does a MathML subtree hold a shortened vector or matrix? */
export function hasCompact(node) {
  return !!node.querySelector?.(".compact");
}

/**
 * An equation that chooses its layout by the room it has: on one line as the lecture writes
 * it when that fits in `wrap`, else aligned on "=" one step per line. Call refit(wrap) after
 * the width changes (a hidden panel measures nothing: it stays on one line until refitted).
 */
export function fitted(wrap, lhs, steps, { rel = "=", label = null } = {}) {
  wrap.mathEquation = { lhs, steps, rel, label };
  wrap.append(equation(lhs, steps, { inline: true, rel, label }));
  return wrap;
}

export function refit(wrap) {
  const e = wrap.mathEquation;
  const old = wrap.querySelector(":scope > math");
  if (!e || !old || !wrap.clientWidth) return;
  const build = (inline) => {
    const m = equation(e.lhs, e.steps, { inline, rel: e.rel, label: e.label });
    wrap.querySelector(":scope > math").replaceWith(m);
  };
  wrap.style.fontSize = "";
  build(true);
  if (e.steps.length > 1 && wrap.scrollWidth > wrap.clientWidth + 1) build(false);
  // Still too wide (a long row of numbers): a smaller type, down to three quarters.
  if (wrap.scrollWidth > wrap.clientWidth + 1) {
    const scale = Math.max(0.75, (wrap.clientWidth - 4) / wrap.scrollWidth);
    wrap.style.fontSize = `${scale.toFixed(3)}em`;
  }
}
