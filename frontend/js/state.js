// The page's configuration <-> the URL hash (shareable, like the Playground's), the create
// body (spec) <-> configuration, and the current network's id and token in localStorage so a
// reload brings back the same network.

export const DEFAULTS = Object.freeze({
  dataset: "circle",
  samples: 200,
  noise: 0.1,
  ratio: 0.5,
  dseed: 1,
  points: null, // [[x1, x2, label], ...] when dataset is "custom"
  features: ["x1", "x2"],
  hidden: [4, 2],
  activations: ["tanh", "tanh", "sigmoid"],
  lr: 0.03,
  batch: "minibatch",
  batchSize: 10,
  reg: "none",
  regRate: 0,
  rule: "backprop",
  seed: 0,
  // view preferences (not part of the network)
  speed: 60, // max epochs per second: about one a frame, a pace to watch; 0 = as fast as the server goes
  showTest: false,
  discretise: false,
  logScale: false,
});

const DATA_KEYS = ["dataset", "samples", "noise", "ratio", "dseed", "points", "features",
  "hidden", "activations", "seed"];
const HYPER_KEYS = ["lr", "batch", "batchSize", "reg", "regRate", "rule"];

export function copyConfig(c) {
  return JSON.parse(JSON.stringify(c));
}

/** Which parts of a change need a new network (data, shapes) vs. a PATCH (hyperparameters). */
export function dataKey(c) {
  return JSON.stringify(DATA_KEYS.map((k) => c[k]));
}
export function hyperKey(c) {
  return JSON.stringify(HYPER_KEYS.map((k) => c[k]));
}

// -- hash --------------------------------------------------------------------------------

const num = (s, fallback) => {
  const v = Number(s);
  return s != null && s !== "" && Number.isFinite(v) ? v : fallback;
};
const list = (s) => (s ? s.split(",").filter(Boolean) : []);

function encodePoints(points) {
  return points.map((p) => `${round(p[0])}_${round(p[1])}_${round(p[2])}`).join("~");
}
function decodePoints(s) {
  return s.split("~").map((row) => row.split("_").map(Number))
    .filter((p) => p.length === 3 && p.every(Number.isFinite));
}
const round = (v) => Number(v.toFixed(3));

export function toHash(c) {
  const q = new URLSearchParams();
  q.set("dataset", c.dataset);
  if (c.dataset === "custom" && c.points) q.set("points", encodePoints(c.points));
  q.set("samples", c.samples);
  q.set("noise", c.noise);
  q.set("ratio", c.ratio);
  q.set("dseed", c.dseed);
  q.set("features", c.features.join(","));
  q.set("hidden", c.hidden.join(","));
  q.set("act", c.activations.join(","));
  q.set("lr", c.lr);
  q.set("batch", c.batch);
  q.set("bs", c.batchSize);
  q.set("reg", c.reg);
  q.set("rate", c.regRate);
  q.set("rule", c.rule);
  q.set("seed", c.seed);
  q.set("speed", c.speed);
  q.set("test", c.showTest ? 1 : 0);
  q.set("disc", c.discretise ? 1 : 0);
  q.set("log", c.logScale ? 1 : 0);
  // URLSearchParams escapes "," and "~"; they are safe in a fragment and far easier to read.
  return "#" + q.toString().replaceAll("%2C", ",").replaceAll("%7E", "~").replaceAll("%5E", "^")
    .replaceAll("%2A", "*").replaceAll("%28", "(").replaceAll("%29", ")");
}

/** The id in a "watch" link (#watch=<id>): follow someone's network without changing it. */
export function watchedId(hash) {
  const q = new URLSearchParams((hash || "").replace(/^#/, ""));
  const id = q.get("watch");
  return id && /^[0-9a-f]{8,64}$/i.test(id) ? id : null;
}

/** The configuration in a hash, or null when the hash holds none. */
export function fromHash(hash) {
  const text = (hash || "").replace(/^#/, "");
  if (!text.includes("=")) return null;
  const q = new URLSearchParams(text);
  if (!q.has("dataset")) return null;
  const d = DEFAULTS;
  const c = copyConfig(d);
  c.dataset = q.get("dataset") || d.dataset;
  c.points = c.dataset === "custom" && q.get("points") ? decodePoints(q.get("points")) : null;
  if (c.dataset === "custom" && !c.points) c.dataset = d.dataset;
  c.samples = num(q.get("samples"), d.samples);
  c.noise = num(q.get("noise"), d.noise);
  c.ratio = num(q.get("ratio"), d.ratio);
  c.dseed = num(q.get("dseed"), d.dseed);
  c.features = q.has("features") ? list(q.get("features")) : [...d.features];
  if (!c.features.length) c.features = [...d.features];
  c.hidden = q.has("hidden") ? list(q.get("hidden")).map(Number).filter((n) => n >= 1) : [...d.hidden];
  c.activations = q.has("act") ? list(q.get("act")) : [];
  if (c.activations.length !== c.hidden.length + 1) {
    const hid = c.activations[0] || "tanh";
    const out = c.activations[c.activations.length - 1] || "sigmoid";
    c.activations = [...c.hidden.map(() => hid), out];
  }
  c.lr = num(q.get("lr"), d.lr);
  c.batch = q.get("batch") || d.batch;
  c.batchSize = num(q.get("bs"), d.batchSize);
  c.reg = q.get("reg") || d.reg;
  c.regRate = num(q.get("rate"), d.regRate);
  c.rule = q.get("rule") || d.rule;
  c.seed = num(q.get("seed"), d.seed);
  c.speed = num(q.get("speed"), d.speed);
  c.showTest = q.get("test") === "1";
  c.discretise = q.get("disc") === "1";
  c.logScale = q.get("log") === "1";
  return c;
}

// -- spec ------------------------------------------------------------------------------

/** The create body (docs/API.md) for a configuration. */
export function toSpec(c) {
  const dataset = c.dataset === "custom"
    ? { points: c.points, train_fraction: c.ratio, seed: c.dseed }
    : { name: c.dataset, n_samples: c.samples, noise: c.noise, train_fraction: c.ratio,
      seed: c.dseed };
  return {
    dataset,
    features: [...c.features],
    hidden: [...c.hidden],
    activations: [...c.activations],
    rule: c.rule,
    learning_rate: c.lr,
    batch: { mode: c.batch, size: c.batchSize },
    regularization: { kind: c.reg, rate: c.regRate },
    init: { seed: c.seed },
  };
}

/** The configuration a network's spec describes (view preferences kept from `view`). */
export function fromSpec(spec, view = DEFAULTS) {
  const c = copyConfig(view);
  const ds = spec.dataset || {};
  if (Array.isArray(ds.points)) {
    c.dataset = "custom";
    c.points = ds.points.map((p) => [...p]);
  } else {
    c.dataset = ds.name ?? DEFAULTS.dataset;
    c.points = null;
    c.samples = ds.n_samples ?? c.samples;
    c.noise = ds.noise ?? c.noise;
  }
  c.ratio = ds.train_fraction ?? c.ratio;
  c.dseed = ds.seed ?? c.dseed;
  c.features = [...(spec.features || DEFAULTS.features)];
  c.hidden = [...(spec.hidden || [])];
  c.activations = spec.activations ? [...spec.activations]
    : [...c.hidden.map(() => spec.activation || "tanh"), spec.output_activation || "sigmoid"];
  c.lr = spec.learning_rate ?? c.lr;
  c.batch = spec.batch?.mode ?? c.batch;
  c.batchSize = spec.batch?.size ?? c.batchSize;
  c.reg = spec.regularization?.kind ?? c.reg;
  c.regRate = spec.regularization?.rate ?? c.regRate;
  c.rule = spec.rule ?? c.rule;
  c.seed = spec.init?.seed ?? c.seed;
  return c;
}

// -- the network kept across reloads ---------------------------------------------------

const KEY = "nn-playground.session";

export function loadSession() {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) || "null");
    return s && typeof s.id === "string" ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(id, token) {
  try {
    localStorage.setItem(KEY, JSON.stringify({ id, token }));
  } catch {
    /* private mode: a reload will create a new network */
  }
}

export function clearSession() {
  try {
    localStorage.removeItem(KEY);
  } catch {
    /* nothing kept */
  }
}
