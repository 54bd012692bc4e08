// The server's catalog (GET /api/catalog), read tolerantly into the shapes the page uses. It is
// the page's one source for what the server knows: activations, datasets (the logic sets'
// points too), features, rules and limits are never written here again.

const named = (x) => (typeof x === "string" ? { name: x } : x);
const asList = (x) => {
  if (Array.isArray(x)) return x.map(named);
  if (x && typeof x === "object") return Object.entries(x).map(([name, v]) => ({ name, ...(typeof v === "object" ? v : {}) }));
  return null;
};

export function normaliseCatalog(raw = {}) {
  const activations = asList(raw.activations) || [];
  const datasets = (asList(raw.datasets) || []).map((d) => ({
    ...d,
    task: d.task || "classification",
    parameters: asList(d.parameters) || [],
  }));
  const features = asList(raw.features) || [];
  const names = (x) => (asList(x) || []).map((e) => e.name);
  return {
    raw,
    activations,
    datasets,
    features,
    featureNames: features.map((f) => f.name),
    rules: names(raw.rules),
    batchModes: names(raw.batch_modes),
    regularizations: names(raw.regularization),
    limits: { ...(raw.limits || {}) }, // the server's budgets (docs/RELIABILITY.md, "Budgets")
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

/** A set of fixed points (the logic sets): the catalog says, and sends them. */
export function isFixedPoints(dataset) {
  return Boolean(dataset?.fixed_points ?? dataset?.points);
}

/** The name a dataset goes by on the page: the logic sets in capitals (AND), your own points
 * "Yours", the others capitalised (Circle). */
export function datasetLabel(name, catalog) {
  if (name === "custom") return "Yours";
  const dataset = catalog?.datasets.find((d) => d.name === name);
  return isFixedPoints(dataset) ? name.toUpperCase() : name.charAt(0).toUpperCase() + name.slice(1);
}

/** An activation by the lecture's name for it (HardLimit, ReLU…), from the catalog's labels. */
export function activationLabel(name, catalog) {
  return catalog?.activations.find((a) => a.name === name)?.label ?? name;
}
