// ONE diverging, colour-blind-safe scale for everything that has a sign or a side: data points,
// neuron thumbnails, the decision boundary, weights and biases. Orange (negative, class 0)
// through a light neutral to blue (positive, class 1), as in the TensorFlow Playground;
// orange/blue stays distinct for every common form of colour blindness.

export const NEGATIVE = [245, 147, 34];   // #f59322
export const NEUTRAL = [232, 234, 235];   // #e8eaeb
export const POSITIVE = [8, 119, 189];    // #0877bd

// Extra classes (3..8) from the Okabe-Ito palette, also colour-blind safe.
export const CLASS_COLORS = [
  NEGATIVE, POSITIVE, [0, 158, 115], [204, 121, 167],
  [230, 200, 40], [86, 180, 233], [213, 94, 0], [90, 90, 90],
];

const STEPS = 256;
/** LUT[4*i..4*i+3]: RGBA of t = -1 + 2 i / (STEPS - 1). */
export const LUT = (() => {
  const lut = new Uint8ClampedArray(STEPS * 4);
  for (let i = 0; i < STEPS; i++) {
    const t = -1 + (2 * i) / (STEPS - 1);
    const [r, g, b] = mix(t);
    lut.set([r, g, b, 255], i * 4);
  }
  return lut;
})();

function mix(t) {
  const end = t < 0 ? NEGATIVE : POSITIVE;
  const u = Math.min(1, Math.abs(t));
  return [0, 1, 2].map((k) => Math.round(NEUTRAL[k] + (end[k] - NEUTRAL[k]) * u));
}

/** Index into LUT (already times 4) for t in [-1, 1] (clamped; NaN is neutral). */
export function lutIndex(t) {
  if (!(t === t)) return (STEPS >> 1) * 4;
  const c = t < -1 ? -1 : t > 1 ? 1 : t;
  return Math.round(((c + 1) / 2) * (STEPS - 1)) * 4;
}

export function rgb(t) {
  const i = lutIndex(t);
  return [LUT[i], LUT[i + 1], LUT[i + 2]];
}

export function css(t, alpha = 1) {
  const [r, g, b] = rgb(t);
  return alpha >= 1 ? `rgb(${r},${g},${b})` : `rgba(${r},${g},${b},${alpha})`;
}

export function classColor(k, alpha = 1) {
  const [r, g, b] = CLASS_COLORS[k % CLASS_COLORS.length];
  return alpha >= 1 ? `rgb(${r},${g},${b})` : `rgba(${r},${g},${b},${alpha})`;
}

/** The classes of a data set: its largest label + 1 (at least 2), from the points it holds. */
export function classCount(data) {
  let largest = 1;
  for (const set of [data?.train, data?.test]) for (const y of set?.y ?? []) if (y > largest) largest = y;
  return Math.round(largest) + 1;
}

/** The colour of each of a set's points (i -> CSS): its value on the scale for a regression,
 * its class otherwise. */
export function pointColors(data, labels) {
  if (data?.task === "regression") return (i) => css(Math.max(-1, Math.min(1, labels[i])));
  const many = classCount(data) > 2;
  return (i) => classColor(many ? labels[i] : labels[i] >= 0.5 ? 1 : 0);
}

/** Colour of a weight or bias of value w, saturating at |w| = scale. */
export function weightColor(w, scale = 1) {
  return css(Math.tanh(w / scale) * 1.15);
}

/** A CSS linear-gradient of the scale, for legends. */
export function gradientCss(direction = "to right") {
  const stops = [-1, -0.5, 0, 0.5, 1].map((t) => css(t));
  return `linear-gradient(${direction}, ${stops.join(", ")})`;
}

// -- mapping values to t in [-1, 1] --------------------------------------------------------

/** How a layer's values map onto the scale: by what the activation can produce. */
export function activationMapper(activation) {
  switch (activation) {
    case "sigmoid":
    case "hardlim":
      return { map: (v) => 2 * v - 1, dynamic: false };
    case "tanh":
    case "hardlims":
      return { map: (v) => v, dynamic: false };
    default: // relu, linear: unbounded, scaled by the largest magnitude (at least 1)
      return { map: (v, s) => v / s, dynamic: true };
  }
}

/** The output layer: centred on the decision threshold of the targets. */
export function outputMapper(state) {
  const t = state?.targets;
  if (state?.task === "regression" || !t) return { map: (v) => v, dynamic: false };
  const half = (t.high ?? 1) - (t.threshold ?? 0.5) || 1;
  const thr = t.threshold ?? 0.5;
  return { map: (v) => (v - thr) / half, dynamic: false };
}
