// Why the backward pass is what it is: the lecture's chain rule (eqs. 10–14, 19, 21–30) for the
// network on screen, at any depth. Each line first in symbols, then with this network's numbers
// from the last forward and backward steps (the sample of the batch the lab shows).
import * as M from "./mathml.js";

/** ∂top/∂bottom. */
const d = (top, bottom) => M.frac(M.row(M.mo("∂"), top), M.row(M.mo("∂"), bottom));
/** An entry of a layer's vector or matrix: w^k_ij, s^k_i, a^(k−1)_j. */
const entry = (letter, sub, k, off = 0) => M.subsup(M.mi(letter), sub, M.idx(k, off));
const ij = () => M.row(M.mi("i"), M.mi("j"));
/** Ḟ^k(n^k), the diagonal matrix of the derivatives (eq. 29). */
const Fdot = (k) => M.row(M.sup(M.dot(M.bf("F")), M.idx(k)), M.paren(M.sym("n", k)));
const transpose = (A) => A[0].map((_, j) => A.map((r) => r[j]));

/**
 * Write the derivation with `put(id, layer, lhs, steps, {value, rel})` (one equation line) and
 * `note(text, layer)`. numbers: {before (the layers' W, b before the update), fw, bw (the
 * forward and backward answers), shown (which sample)}, or null before a backward step: the
 * symbols alone. layers: how many layers the network has. opts(id): how to show a matrix.
 */
export function writeDerivation({ put, note, opts }, layers, numbers) {
  const L = layers;
  const at = numbers && numbersOf(numbers);
  const vec = (v, id) => M.column(v, opts(id));
  const mat = (A, id) => M.matrix(A, opts(id));

  note("J depends on a weight of layer k only through that layer's net input "
    + "nᵏ = Wᵏ aᵏ⁻¹ + bᵏ (eq. 12): the chain rule splits its gradient in two (eqs. 11, 13, 14).", "all");
  put("chain", "all", d(M.mi("J"), entry("w", ij(), "k")), [
    M.row(d(M.mi("J"), entry("n", M.mi("i"), "k")), d(entry("n", M.mi("i"), "k"), entry("w", ij(), "k"))),
    M.row(entry("s", M.mi("i"), "k"), M.space(0.15), entry("a", M.mi("j"), "k", -1)),
  ]);
  put("grad-general", "all", d(M.mi("J"), M.sym("W", "k")), [
    M.row(M.sym("s", "k"), M.T(M.paren(M.sym("a", "k", { off: -1 })))),
  ]);
  if (!at) {
    note("Press Forward and Backward: every line below then carries this network's numbers.", "all");
  }

  // The output layer: from the loss J = (y − a^l)², eq. 21.
  const error = () => M.paren(M.bf("y"), M.minus(), M.sym("a", L));
  const outputSymbols = [
    d(M.mi("J"), M.sym("n", L)),
    d(M.sup(error(), 2), M.sym("n", L)),
    M.row(M.mn(-2), Fdot(L), error()),
  ];
  if (at?.y) {
    const id = `why-s${L}`;
    const { fdot, a } = at.layer(L);
    outputSymbols.push(
      M.row(M.mn(-2), M.times(), fdot.length === 1 ? M.num(fdot[0]) : M.diagonal(fdot, opts(id)), M.times(),
        M.paren(vec(at.y, id), M.minus(), vec(a, id))),
      M.result(vec(at.layer(L).s, id)));
  }
  put(`s${L}`, L, M.sym("s", L), outputSymbols, { value: at && M.flat(at.layer(L).s) });

  // Down the layers: the Jacobian of n^(k+1) in n^k (eqs. 22–29), then eq. 30.
  if (L > 1) {
    note("Below the output, J depends on nᵏ only through nᵏ⁺¹ = Wᵏ⁺¹ fᵏ(nᵏ) + bᵏ⁺¹ (eqs. 19, 23): "
      + "one step of the chain rule per layer, from the output down.", "all");
    put("dn", "all", d(entry("n", M.mi("i"), "k", 1), entry("n", M.mi("j"), "k")), [
      d(M.row(M.h("munder", {}, M.mo("∑"), M.mi("q")), entry("w", M.row(M.mi("i"), M.mi("q")), "k", 1),
        entry("a", M.mi("q"), "k")), entry("n", M.mi("j"), "k")),
      M.row(entry("w", ij(), "k", 1), M.space(0.15), M.subsup(M.dot(M.mi("f")), M.mi("j"), M.mi("k")),
        M.paren(entry("n", M.mi("j"), "k"))),
    ]);
  }
  for (let k = L - 1; k >= 1; k--) {
    const id = `why-jac${k}`;
    const jac = [M.row(M.sym("W", k + 1), Fdot(k))];
    let J = null;
    if (at) {
      const W = at.W(k + 1);
      const { fdot } = at.layer(k);
      J = W.map((r) => r.map((w, j) => w * fdot[j]));
      jac.push(M.row(M.matrix(W, opts(id)), M.diagonal(fdot, opts(id))), M.result(M.matrix(J, { ...opts(id), scalar: false })));
    }
    put(`jac${k}`, k, d(M.sym("n", k + 1), M.sym("n", k)), jac, { value: J && M.plain(J) });

    const sid = `why-s${k}`;
    const steps = [
      M.row(M.T(M.paren(d(M.sym("n", k + 1), M.sym("n", k)))), M.sym("s", k + 1)),
      M.row(Fdot(k), M.T(M.paren(M.sym("W", k + 1))), M.sym("s", k + 1)),
    ];
    if (at) {
      const next = at.layer(k + 1).s;
      steps.push(
        next.length === 1
          ? M.row(mat(transpose(J), sid), M.times(), M.num(next[0], { paren: true }))
          : M.row(mat(transpose(J), sid), vec(next, sid)),
        M.result(vec(at.layer(k).s, sid)));
    }
    put(`s${k}`, k, M.sym("s", k), steps, { value: at && M.flat(at.layer(k).s) });
  }

  // The gradients each update steps against (eqs. 14–16).
  note("With every s known, each layer's gradient is its s times the output of the layer below "
    + "(eq. 14); gradient descent steps against it (eqs. 15, 16: the update).", "all");
  for (let k = 1; k <= L; k++) {
    const id = `why-grad${k}`;
    const steps = [M.row(M.sym("s", k), M.T(M.paren(M.sym("a", k - 1))))];
    let G = null;
    if (at) {
      const s = at.layer(k).s;
      const a = at.a(k - 1);
      G = s.map((sv) => a.map((av) => sv * av));
      const as = M.rowVector(a, { ...opts(id), scalar: true });
      steps.push(s.length === 1 ? M.row(M.num(s[0]), M.times(), as) : M.row(vec(s, id), as),
        M.result(M.matrix(G, { ...opts(id), scalar: false })));
    }
    put(`grad${k}`, k, d(M.mi("J"), M.sym("W", k)), steps, { value: G && M.plain(G) });
    put(`gradb${k}`, k, d(M.mi("J"), M.sym("b", k)),
      [M.sym("s", k), ...(at ? [M.result(vec(at.layer(k).s, `why-gradb${k}`))] : [])],
      { value: at && M.flat(at.layer(k).s) });
  }
  if (at?.m > 1) {
    note(`These are the numbers of sample ${at.shown + 1} of the batch; the update uses the mean over its ${at.m} samples.`, "all");
  }
}

/** The numbers of one sample from the lab's forward and backward answers. */
function numbersOf({ before, fw, bw, shown }) {
  const si = shown;
  return {
    shown: si,
    m: fw.x.length,
    y: fw.y?.[si] ?? null,
    W: (k) => before[k - 1].W,
    a: (k) => (k === 0 ? fw.x[si] : fw.layers[k - 1].a[si]),
    layer: (k) => ({ n: fw.layers[k - 1].n[si], a: fw.layers[k - 1].a[si],
      s: bw.layers[k - 1].s[si], fdot: bw.layers[k - 1].fdot[si] }),
  };
}
