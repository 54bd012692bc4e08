// The input features as functions of a point (x1, x2), to draw their small heatmaps locally
// (the server computes the real a^0; these only illustrate it).

const FUNCTIONS = {
  x1: (x1) => x1,
  x2: (x1, x2) => x2,
  "x1^2": (x1) => x1 * x1,
  "x2^2": (x1, x2) => x2 * x2,
  "x1*x2": (x1, x2) => x1 * x2,
  "sin(x1)": (x1) => Math.sin(x1),
  "sin(x2)": (x1, x2) => Math.sin(x2),
};

const LABELS = {
  x1: "x₁", x2: "x₂", "x1^2": "x₁²", "x2^2": "x₂²", "x1*x2": "x₁x₂",
  "sin(x1)": "sin(x₁)", "sin(x2)": "sin(x₂)",
};

export const DEFAULT_FEATURES = Object.keys(FUNCTIONS);

export function featureFunction(name) {
  return FUNCTIONS[name] || (() => 0);
}

export function featureLabel(name, catalog) {
  const entry = catalog?.features?.find?.((f) => (f.name ?? f) === name);
  return entry?.label || LABELS[name] || name;
}
