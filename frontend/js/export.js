// Export from the page: the boundary as a PNG, and code to copy: a Python (httpx) script that
// recreates and trains the network through the HTTP API, and the scikit-learn code that trains
// the closest equivalent model on the same data, with comments on where scikit-learn differs.
// (The network's JSON document, GET /export and POST /import, is the data column's Save and
// Open.) The snippets are plain functions of the network's state and data, so the tests can
// run them.
import { datasetLabel, isFixedPoints } from "./catalog.js";

/** Save a Blob as a file. */
export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 2000);
}

/**
 * Copy text: the clipboard API where the page may use it (https or localhost), else the old
 * way (students on http://192.168.x.y have no clipboard API). Resolves to true when copied.
 */
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    /* fall back below */
  }
  const area = Object.assign(document.createElement("textarea"), { value: text, readOnly: true });
  Object.assign(area.style, { position: "fixed", left: "-9999px", top: "0" });
  const host = document.querySelector("dialog[open]") || document.body; // focus stays in a modal
  host.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

// -- Python literals -----------------------------------------------------------------------

const WIDTH = 96;

/** A JSON value as Python source: short lists on one line, long ones packed in rows. */
export function py(value, indent = 0) {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "None";
  if (typeof value === "string") return JSON.stringify(value);
  const pad = " ".repeat(indent + 4);
  if (Array.isArray(value)) {
    const items = value.map((v) => py(v, indent + 4));
    const flat = `[${items.join(", ")}]`;
    if (indent + flat.length <= WIDTH && !flat.includes("\n")) return flat;
    if (items.some((s) => s.includes("\n"))) {
      return `[\n${items.map((s) => `${pad}${s},`).join("\n")}\n${" ".repeat(indent)}]`;
    }
    const lines = [];
    let line = "";
    for (const s of items) {
      if (line && pad.length + line.length + s.length + 2 > WIDTH) { lines.push(line); line = ""; }
      line += `${s}, `;
    }
    if (line) lines.push(line);
    return `[\n${lines.map((l) => pad + l.trimEnd()).join("\n")}\n${" ".repeat(indent)}]`;
  }
  const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${py(v, indent + 4)}`);
  const flat = `{${entries.join(", ")}}`;
  if (indent + flat.length <= WIDTH && !flat.includes("\n")) return flat;
  return `{\n${entries.map((s) => `${pad}${s},`).join("\n")}\n${" ".repeat(indent)}}`;
}

// -- the network in a few words --------------------------------------------------------------

const FEATURE_CODE = {
  x1: "x1", x2: "x2", "x1^2": "x1**2", "x2^2": "x2**2", "x1*x2": "x1 * x2",
  "sin(x1)": "np.sin(x1)", "sin(x2)": "np.sin(x2)",
};
const SK_ACTIVATION = { relu: "relu", tanh: "tanh", sigmoid: "logistic", linear: "identity" };

/** The create body that makes this network again: its spec, without what repeats or is unset. */
export function createBody(spec, catalog) {
  const body = JSON.parse(JSON.stringify(spec));
  if (Array.isArray(body.activations)) { delete body.activation; delete body.output_activation; }
  const strip = (o) => {
    for (const [k, v] of Object.entries(o)) {
      if (v === null || v === undefined) delete o[k];
      else if (v && typeof v === "object" && !Array.isArray(v)) strip(v);
    }
  };
  strip(body);
  // The logic sets are always their four points: the sampling fields mean nothing there.
  if (isFixedPoints(catalog?.datasets.find((d) => d.name === body.dataset?.name))) {
    body.dataset = { name: body.dataset.name };
  }
  return body;
}

export function describeSpec(spec, state, catalog) {
  const ds = spec.dataset || {};
  const name = datasetLabel(ds.name, catalog);
  const data = Array.isArray(ds.points) ? `${ds.points.length} points of your own` : `the ${name} data`;
  const sizes = (state?.sizes || []).join("-");
  const acts = (spec.activations || []).join(", ");
  const batch = spec.batch?.mode === "minibatch" ? `mini-batches of ${spec.batch.size}` : spec.batch?.mode;
  return `${data}, a ${sizes} network (${acts}), ${spec.rule}, learning rate ${spec.learning_rate}, ${batch}`;
}

/** How many epochs a snippet trains: as far as the page's network went, or a good start. */
function epochsOf(state) {
  return state?.epoch > 0 ? state.epoch : 500;
}

// -- the Python (httpx) script -----------------------------------------------------------------

/** A script that recreates the network through the API, trains it and follows the run. */
export function pythonSnippet({ state, base, catalog }) {
  const spec = state.spec;
  const epochs = epochsOf(state);
  const api = `${base.replace(/\/+$/, "")}/api`;
  return `"""Recreate and train the playground's network through its HTTP API.

The network: ${describeSpec(spec, state, catalog)}.
Needs httpx (pip install httpx) and the playground server running at BASE.
"""
import json

import httpx

BASE = ${py(api)}
EPOCHS = ${epochs}  # ${state?.epoch > 0 ? "as far as the page's network had trained" : "the page's network had not trained yet"}

# The create body (POST /api/networks): the spec of the page's network. The seeds in it make
# the same data and the same initial weights, so the same run comes out.
SPEC = ${py(createBody(spec, catalog))}


def check(response):
    """The answer's JSON, or stop with the server's sentence on what was wrong."""
    if response.is_error:
        raise SystemExit(f"{response.request.method} {response.request.url.path}: "
                         f"{response.status_code} {response.text}")
    return response.json() if response.content else None


def fmt(value):
    return "-" if value is None else f"{value:.6g}"


with httpx.Client(base_url=BASE, timeout=30) as api:
    created = check(api.post("/networks", json=SPEC))
    net = f"/networks/{created['id']}"
    owner = {"Authorization": f"Bearer {created['token']}"}  # every change needs the token
    print("network", created["id"], "sizes", created["network"]["sizes"])
    for warning in created.get("warnings") or []:
        print("note:", warning)

    # Train in the background and follow the run on the network's event stream (Server-Sent
    # Events). The stream is opened first and training starts on its first event (a snapshot),
    # so no event is missed. Without a stream: check(api.post(f"{net}/step",
    # json={"epochs": EPOCHS}, headers=owner)) trains in one call, or poll GET {net} until
    # its "status" is "idle".
    with api.stream("GET", f"{net}/events", timeout=None) as events:
        event, started, shown = None, False, 0
        for line in events.iter_lines():
            if line.startswith("event:"):
                event = line[len("event:"):].strip()
            elif line.startswith("data:"):
                data = json.loads(line[len("data:"):])
                if event == "snapshot" and not started:
                    check(api.post(f"{net}/train", json={"epochs": EPOCHS}, headers=owner))
                    started = True
                elif event == "progress" and data["epoch"] >= shown + EPOCHS / 10:
                    shown = data["epoch"]
                    print(f"epoch {data['epoch']}: train loss {fmt(data['metrics'].get('train_loss'))}")
                elif event == "done" and started:
                    print(f"run {data['reason']}: {data.get('message') or ''}".rstrip(": "))
                    break

    state = check(api.get(net))
    metrics = state["metrics"]
    print(f"epoch {state['epoch']}, iteration {state['iteration']}: "
          f"train loss {fmt(metrics['train_loss'])}, test loss {fmt(metrics['test_loss'])}")

    # The data (GET /data), and the trained network's answers for the test points.
    data = check(api.get(f"{net}/data"))
    which = "test" if data["test"]["x"] else "train"
    points = data[which]
    answer = check(api.post(f"{net}/predict", json={"x": points["x"]}))
    if data["task"] == "classification":
        right = sum(int(c == y) for c, y in zip(answer["classes"], points["y"]))
        print(f"{right} of {len(points['y'])} {which} points classified right")
    else:
        errors = [(row[0] - y) ** 2 for row, y in zip(answer["y"], points["y"])]
        print(f"mean squared error on the {which} points: {fmt(sum(errors) / len(errors))}")

    for k, layer in enumerate(state["layers"], start=1):
        print(f"W{k} =", layer["W"])
        print(f"b{k} =", layer["b"])
`;
}

// -- the scikit-learn script ---------------------------------------------------------------------

function dataBlock(data, regression) {
  const labels = (ys) => (regression ? ys : ys.map((y) => Math.round(y)));
  const lines = [];
  for (const name of ["train", "test"]) {
    const set = data[name] || { x: [], y: [] };
    lines.push(`X_${name} = np.array(${py(set.x)}, dtype=float).reshape(-1, 2)`);
    lines.push(`y_${name} = np.array(${py(labels(set.y))}${regression ? ", dtype=float" : ", dtype=int"})`);
  }
  return lines.join("\n");
}

function featureBlock(features) {
  const known = features.filter((f) => FEATURE_CODE[f]);
  const code = known.map((f) => FEATURE_CODE[f]).join(", ");
  return `def features(X):
    """The network's inputs a^0 for points (x1, x2): its input features ${features.join(", ")}."""
    x1, x2 = X[:, 0], X[:, 1]
    return np.column_stack([${code}])`;
}

/** What scikit-learn's batch_size is for the network's batch mode. */
function batchSize(spec, data) {
  const n = data.train?.x.length || 1;
  const mode = spec.batch?.mode;
  if (mode === "batch") return { size: n, text: `batch: all ${n} training points in each update` };
  if (mode === "stochastic") return { size: 1, text: "stochastic: one point per update" };
  const size = Math.min(spec.batch?.size || 1, n);
  return { size, text: `mini-batches of ${size} (the last, smaller one kept, as in the playground)` };
}

/** The scikit-learn code for the closest model to this network, on the same data. */
export function sklearnSnippet({ state, data, catalog }) {
  const spec = state.spec;
  const epochs = epochsOf(state);
  const regression = data.task === "regression";
  const head = `"""scikit-learn's closest equivalent of the playground's network, on the same data.

The playground: ${describeSpec(spec, state, catalog)}.
Needs numpy and scikit-learn (pip install numpy scikit-learn).
"""
import warnings

import numpy as np
`;
  const dataPart = `
# The page's data (GET /api/networks/<id>/data): points (x1, x2) and their labels.
${dataBlock(data, regression)}


${featureBlock(spec.features || ["x1", "x2"])}


`;
  const seed = spec.init?.seed ?? 0;
  const report = regression
    ? `
def mse(X, y):
    """The playground's loss: the mean over the points of (y - yhat)^2, no 1/2."""
    return float(np.mean((model.predict(features(X)) - y) ** 2))


print(f"train loss (mean squared error) {mse(X_train, y_train):.6g}")
if len(X_test):
    print(f"test loss (mean squared error) {mse(X_test, y_test):.6g}")
`
    : `
print(f"train accuracy {model.score(features(X_train), y_train):.3f}")
if len(X_test):
    print(f"test accuracy {model.score(features(X_test), y_test):.3f}")
`;

  if (spec.rule === "perceptron") {
    const out = spec.activations?.at(-1) || "hardlim";
    const symmetric = out === "hardlims";
    const eta = spec.learning_rate;
    const eta0 = symmetric ? 2 * eta : eta;
    const reg = spec.regularization || { kind: "none", rate: 0 };
    const penalty = reg.kind === "l2" && reg.rate ? `"l2"` : reg.kind === "l1" && reg.rate ? `"l1"` : "None";
    const alpha = reg.kind !== "none" && reg.rate ? reg.rate * (eta / eta0) : 0.0001;
    const zeros = spec.init?.scheme === "zeros";
    return `${head}from sklearn.linear_model import Perceptron
${dataPart}# Where scikit-learn's Perceptron differs from the playground's perceptron rule
# (W <- W + eta (y - yhat) x^T, b <- b + eta (y - yhat), yhat = ${out}(W x + b)):
# - The tie rule. scikit-learn predicts class 1 only when w.x + b > 0, while the lecture's
#   hardlim(n) is 1 for n >= 0: a point exactly on the line is class 0 in scikit-learn and
#   class 1 in the lecture.
#   It also counts w.x + b = 0 as a mistake for both classes when it learns.
# - Its update on a mistake is w += eta0 * t * x with t = -1 or +1 (no update when right).
#   ${symmetric
    ? "With hardlims the playground's error y - yhat is -2 or +2, so eta0 = 2 * eta."
    : "With hardlim the playground's error y - yhat is -1 or +1: the same step, eta0 = eta."}
# - It always learns one point at a time (the playground's stochastic batch mode)${spec.batch?.mode !== "stochastic" ? `; this
#   network uses ${spec.batch?.mode} updates, which scikit-learn's Perceptron cannot do` : ""}.
# - It shuffles with its own random generator, so the order of the points differs.
# - ${zeros ? "Both start from zero weights." : `It starts from zero weights; this network started from ${spec.init?.scheme} weights.`}
# - ${penalty === "None" ? "No regularization, as in the playground." : penalty === `"l2"`
    ? `L2 shrinks w by (1 - eta0 * alpha) at each step: alpha = rate * eta / eta0 gives the same.`
    : "Its L1 penalty is a truncated gradient, not the playground's rate * sign(W)."}
# - With more than 2 classes it trains one perceptron per class (one-vs-rest) and picks the
#   largest w.x + b; the playground has one hardlim output per class (one-hot targets).
# - It stops after max_iter epochs (tol=None); the playground also stops at the first epoch
#   without a mistake, when no weight changes any more.
model = Perceptron(
    eta0=${eta0},  # the playground's learning rate ${eta}
    penalty=${penalty},
    alpha=${alpha},
    fit_intercept=True,
    max_iter=${epochs},  # epochs
    tol=None,
    shuffle=${spec.batch?.mode === "batch" ? "False" : "True"},
    random_state=${seed},
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # ConvergenceWarning: it ran the epochs it was given
    model.fit(features(X_train), y_train)

print("W =", model.coef_.tolist())
print("b =", model.intercept_.tolist())${report}`;
  }

  const acts = spec.activations || ["tanh", "sigmoid"];
  const hiddenActs = acts.slice(0, -1);
  const out = acts.at(-1);
  const hidden = spec.hidden || [];
  const first = hiddenActs[0] || "relu";
  const skAct = SK_ACTIVATION[first] || "relu";
  const mixed = new Set(hiddenActs).size > 1;
  const eta = spec.learning_rate;
  const lr = regression ? 2 * eta : eta;
  const batch = batchSize(spec, data);
  const reg = spec.regularization || { kind: "none", rate: 0 };
  const l2 = reg.kind === "l2" ? reg.rate : 0;
  // scikit-learn's weight gradient is (sum over the batch + alpha W) / batch size, taken with
  // its own learning rate; the playground's is the mean + rate W.
  const alpha = l2 * batch.size * (eta / lr);
  const Model = regression ? "MLPRegressor" : "MLPClassifier";
  const sizes = hidden.length === 1 ? `(${hidden[0]},)` : `(${hidden.join(", ")})`;
  const notes = [];
  if (regression) {
    notes.push(
      "- Its output layer is fixed: one identity (linear) neuron, trained on the squared error",
      "  with a 1/2, J = (y - yhat)^2 / 2, so its gradients are half the playground's:",
      `  learning_rate_init = 2 * eta = ${lr} takes the playground's steps.`,
    );
    if (out !== "linear") notes.push(`  (This network's output is ${out}, which scikit-learn's regressor cannot use.)`);
  } else {
    notes.push(
      "- Its output layer and loss are fixed: a logistic output (softmax for more than 2",
      "  classes) trained on the log-loss (cross-entropy), not the lecture's squared error",
      `  J = (y - yhat)^2 with a ${out} output. So no learning rate makes the same steps:`,
      `  learning_rate_init = eta = ${eta} is the nearest start (the squared error's gradient`,
      "  at the output is 2 (yhat - y) f'(n), the log-loss's is yhat - y).",
    );
  }
  if (mixed) notes.push(`- One activation for every hidden layer: ${skAct} here (the playground has ${hiddenActs.join(", ")}).`);
  if (hiddenActs.some((a) => !SK_ACTIVATION[a])) {
    notes.push("- No hard-limit activation in scikit-learn (its derivative is 0: backprop cannot",
      "  train it anyway); relu stands in.");
  }
  if (first === "sigmoid") notes.push('- The sigmoid is called "logistic" there; linear is "identity".');
  if (reg.kind === "l1" && reg.rate) notes.push(`- No L1 penalty in scikit-learn: the playground's L1 (rate ${reg.rate}) is left out.`);
  if (l2) {
    notes.push("- alpha is an L2 penalty divided by the batch size and taken with its own learning",
      `  rate: alpha = rate * batch size * eta / learning_rate_init = ${alpha} adds rate * W as here.`);
  }
  notes.push(
    "- Initial weights: its own Glorot-uniform draw from random_state, not the playground's",
    `  ${spec.init?.scheme || "xavier"} weights from seed ${seed}; and it shuffles with its own generator, so the`,
    "  run is not the same number for number.",
    "- momentum=0 and a constant learning rate: plain gradient descent, like the lecture's.",
  );
  return `${head}from sklearn.neural_network import ${Model}
${dataPart}# Where scikit-learn's ${Model} differs from the playground's network:
${notes.map((l) => `# ${l}`).join("\n")}
model = ${Model}(
    hidden_layer_sizes=${sizes},
    activation="${skAct}",
    solver="sgd",
    learning_rate="constant",
    learning_rate_init=${lr},
    batch_size=${batch.size},  # ${batch.text}
    momentum=0.0,
    nesterovs_momentum=False,
    alpha=${alpha},
    max_iter=${epochs},  # epochs
    tol=0.0,
    n_iter_no_change=${epochs + 1},  # never stop early: train all the epochs
    shuffle=${spec.batch?.mode === "batch" ? "False" : "True"},
    random_state=${seed},
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # ConvergenceWarning: it ran the epochs it was given
    model.fit(features(X_train), y_train)

for k, (W, b) in enumerate(zip(model.coefs_, model.intercepts_), start=1):
    print(f"W{k} =", W.T.round(4).tolist())  # scikit-learn keeps W^T: one column per neuron
    print(f"b{k} =", b.round(4).tolist())${report}`;
}

// -- the dialog and the buttons ------------------------------------------------------------------

const TABS = [
  ["python", "Python · HTTP API", "Recreates this network on the server and trains it through the API (httpx)."],
  ["sklearn", "scikit-learn", "Trains scikit-learn's closest model on the same data; the comments say where it differs."],
];

export class ExportTools {
  /**
   * session(): the page's Session; base(): the server address the code should call (a
   * promise); canvas: the boundary; banner: for errors.
   */
  constructor({ session, base, canvas, banner, pngButton, codeButton }) {
    this.session = session;
    this.base = base;
    this.canvas = canvas;
    this.banner = banner;
    pngButton?.addEventListener("click", () => this.downloadPng());
    codeButton?.addEventListener("click", () => this.openCode());
    this.code = { python: "", sklearn: "" };
    this.tab = "python";
    this.build();
  }

  fileStem() {
    const s = this.session();
    const name = s?.config?.dataset || "network";
    return `network-${name}-epoch${s?.state?.epoch ?? 0}`;
  }

  downloadPng() {
    this.canvas.toBlob((blob) => {
      if (!blob) { this.banner.show("error", "No picture.", "The boundary has not been drawn yet."); return; }
      download(blob, `${this.fileStem().replace("network-", "boundary-")}.png`);
    }, "image/png");
  }

  build() {
    const d = document.createElement("dialog");
    d.id = "code-dialog";
    d.className = "code-dialog";
    d.setAttribute("aria-labelledby", "code-title");
    d.innerHTML = `
      <form method="dialog">
        <div class="code-head">
          <h2 id="code-title">This network as code</h2>
          <div class="code-tabs" role="tablist" aria-label="Which code"></div>
        </div>
        <p class="code-note hint"></p>
        <pre class="code-text" tabindex="0" data-testid="code-text"><code></code></pre>
        <div class="row end">
          <span class="code-status hint" role="status"></span>
          <button type="button" class="btn" data-action="download">Download .py</button>
          <button type="button" class="btn" data-action="copy" data-testid="code-copy">Copy</button>
          <button class="btn primary">Done</button>
        </div>
      </form>`;
    document.body.append(d);
    this.dialog = d;
    this.tabs = TABS.map(([name, label]) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "code-tab";
      b.setAttribute("role", "tab");
      b.dataset.tab = name;
      b.textContent = label;
      b.addEventListener("click", () => this.show(name));
      d.querySelector(".code-tabs").append(b);
      return b;
    });
    d.querySelector("[data-action=copy]").addEventListener("click", () => this.copy());
    d.querySelector("[data-action=download]").addEventListener("click", () => {
      download(new Blob([this.code[this.tab]], { type: "text/x-python" }),
        `${this.fileStem()}-${this.tab === "python" ? "api" : "sklearn"}.py`);
    });
  }

  /** Both snippets for the page's network as it is now. */
  async snippets() {
    const s = this.session();
    if (!s?.state?.spec || !s.data) return null;
    const base = await this.base();
    const { state, data, catalog } = s;
    return { python: pythonSnippet({ state, base, catalog }), sklearn: sklearnSnippet({ state, data, catalog }) };
  }

  async openCode(tab = this.tab) {
    const code = await this.snippets();
    if (!code) { this.banner.show("info", "One moment:", "the network is still being made."); return; }
    this.code = code;
    this.show(tab);
    this.dialog.querySelector(".code-status").textContent = "";
    if (!this.dialog.open) this.dialog.showModal();
  }

  show(tab) {
    this.tab = tab;
    for (const b of this.tabs) {
      const on = b.dataset.tab === tab;
      b.classList.toggle("on", on);
      b.setAttribute("aria-selected", String(on));
    }
    this.dialog.querySelector(".code-note").textContent = TABS.find(([n]) => n === tab)[2];
    this.dialog.querySelector(".code-text code").textContent = this.code[tab];
    this.dialog.querySelector(".code-text").scrollTop = 0;
    this.dialog.querySelector(".code-status").textContent = "";
  }

  async copy() {
    const ok = await copyText(this.code[this.tab]);
    const status = this.dialog.querySelector(".code-status");
    if (ok) {
      status.textContent = "Copied.";
    } else {
      const range = document.createRange();
      range.selectNodeContents(this.dialog.querySelector(".code-text code"));
      const sel = getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      status.textContent = "Selected: press Ctrl+C to copy.";
    }
  }
}
