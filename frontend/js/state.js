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
  domain: null, // [[x1_lo, x1_hi], [x2_lo, x2_hi]]: the plane of your own points (null: around them)
  task: null, // "classification" or "regression" for your own points (null: the server decides)
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

const DATA_KEYS = ["dataset", "samples", "noise", "ratio", "dseed", "points", "domain", "task",
  "features", "hidden", "activations", "seed"];
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
const round = (v) => Number(v.toFixed(3));

/** How a value is written in the hash and read back (null when absent or unreadable). */
const CODECS = {
  text: { write: (v) => v, read: (s) => s || null },
  number: { write: (v) => v, read: (s) => num(s, null) },
  flag: { write: (v) => (v ? 1 : 0), read: (s) => (s == null ? null : s === "1") },
  names: { write: (v) => v.join(","), read: (s) => list(s) },
  sizes: { write: (v) => v.join(","), read: (s) => list(s).map(Number).filter((n) => Number.isInteger(n) && n >= 1) },
  points: {
    write: (v) => v.map((p) => `${round(p[0])}_${round(p[1])}_${round(p[2])}`).join("~"),
    read: (s) => (s ? s.split("~").map((row) => row.split("_").map(Number))
      .filter((p) => p.length === 3 && p.every(Number.isFinite)) : null),
  },
  plane: {
    write: (v) => v.flat().map(round).join(","),
    read: (s) => {
      const v = list(s).map(Number);
      return v.length === 4 && v.every(Number.isFinite) && v[0] < v[1] && v[2] < v[3]
        ? [[v[0], v[1]], [v[2], v[3]]] : null;
    },
  },
};

/**
 * The URL's keys, one row each: [configuration key, hash key, codec, written when]. The order
 * is the order in the hash.
 */
const HASH_KEYS = [
  ["dataset", "dataset", "text"],
  ["points", "points", "points", (c) => c.dataset === "custom" && c.points],
  ["domain", "plane", "plane", (c) => c.dataset === "custom" && c.domain],
  ["task", "task", "text", (c) => c.dataset === "custom" && c.task],
  ["samples", "samples", "number"],
  ["noise", "noise", "number"],
  ["ratio", "ratio", "number"],
  ["dseed", "dseed", "number"],
  ["features", "features", "names"],
  ["hidden", "hidden", "sizes"],
  ["activations", "act", "names"],
  ["lr", "lr", "number"],
  ["batch", "batch", "text"],
  ["batchSize", "bs", "number"],
  ["reg", "reg", "text"],
  ["regRate", "rate", "number"],
  ["rule", "rule", "text"],
  ["seed", "seed", "number"],
  ["speed", "speed", "number"],
  ["showTest", "test", "flag"],
  ["discretise", "disc", "flag"],
  ["logScale", "log", "flag"],
];

export function toHash(c) {
  const q = new URLSearchParams();
  for (const [key, name, codec, when] of HASH_KEYS) {
    if (!when || when(c)) q.set(name, CODECS[codec].write(c[key]));
  }
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
  const c = copyConfig(DEFAULTS);
  for (const [key, name, codec] of HASH_KEYS) {
    const value = q.has(name) ? CODECS[codec].read(q.get(name)) : null;
    if (value != null) c[key] = value;
  }
  if (c.dataset !== "custom") Object.assign(c, { points: null, domain: null, task: null });
  else if (!c.points?.length) Object.assign(c, { dataset: DEFAULTS.dataset, points: null, domain: null, task: null });
  if (!["classification", "regression", null].includes(c.task)) c.task = null;
  if (!c.features.length) c.features = [...DEFAULTS.features];
  if (c.activations.length !== c.hidden.length + 1) {
    const hidden = c.activations[0] || "tanh";
    const out = c.activations.at(-1) || "sigmoid";
    c.activations = [...c.hidden.map(() => hidden), out];
  }
  return c;
}

// -- spec ------------------------------------------------------------------------------

/** The create body (docs/API.md) for a configuration. */
export function toSpec(c) {
  const dataset = c.dataset === "custom"
    ? { points: c.points, train_fraction: c.ratio, seed: c.dseed,
      ...(c.domain ? { domain: c.domain } : {}), ...(c.task ? { task: c.task } : {}) }
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
    c.domain = ds.domain ? ds.domain.map((side) => [...side]) : null;
    c.task = ds.task ?? null;
  } else {
    c.dataset = ds.name ?? DEFAULTS.dataset;
    c.points = null;
    c.domain = null;
    c.task = null;
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
