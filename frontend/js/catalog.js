// The server's catalog (GET /api/catalog), read tolerantly into the shapes the page uses.

const FALLBACK_ACTIVATIONS = [
  { name: "hardlim", label: "HardLimit", can_backprop: false },
  { name: "hardlims", label: "Symmetric HardLimit", can_backprop: false },
  { name: "relu", label: "ReLU", can_backprop: true },
  { name: "linear", label: "Linear", can_backprop: true },
  { name: "sigmoid", label: "Sigmoid", can_backprop: true },
  { name: "tanh", label: "Tanh", can_backprop: true },
];

const named = (x) => (typeof x === "string" ? { name: x } : x);
const asList = (x) => {
  if (Array.isArray(x)) return x.map(named);
  if (x && typeof x === "object") return Object.entries(x).map(([name, v]) => ({ name, ...(typeof v === "object" ? v : {}) }));
  return null;
};

export function normaliseCatalog(raw = {}) {
  const activations = asList(raw.activations) || FALLBACK_ACTIVATIONS;
  const datasets = (asList(raw.datasets) || []).map((d) => ({
    ...d,
    task: d.task || "classification",
    parameters: asList(d.parameters) || [],
  }));
  const features = (asList(raw.features) || ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"].map(named));
  const names = (x, fallback) => (asList(x) || fallback.map(named)).map((e) => e.name);
  return {
    raw,
    activations,
    datasets,
    features,
    featureNames: features.map((f) => f.name),
    rules: names(raw.rules, ["backprop", "perceptron"]),
    batchModes: names(raw.batch_modes ?? raw.batchModes, ["batch", "stochastic", "minibatch"]),
    regularizations: names(raw.regularization_kinds ?? raw.regularizations ?? raw.regularization,
      ["none", "l1", "l2"]),
    limits: {
      hidden_layers: 8, neurons_per_layer: 64, samples: 10000, epochs_per_run: 1000000,
      boundary_resolution: 200, ...(raw.limits || {}),
    },
  };
}

/** A dataset parameter's {min, max, default} from the catalog, or the fallback. */
export function parameterRange(dataset, name, fallback) {
  const p = dataset?.parameters?.find((x) => x.name === name);
  if (!p) return fallback;
  const range = Array.isArray(p.range) ? { min: p.range[0], max: p.range[1] } : {};
  return {
    min: p.min ?? p.minimum ?? range.min ?? fallback.min,
    max: p.max ?? p.maximum ?? range.max ?? fallback.max,
    default: p.default ?? fallback.default,
  };
}

export function isFixedPoints(dataset) {
  if (!dataset) return false;
  if (dataset.fixed_points !== undefined) return dataset.fixed_points;
  return ["and", "or", "xor"].includes(dataset.name);
}
