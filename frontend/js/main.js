// Wiring only: build the views, connect them to the session and the keyboard.
import { Api } from "./api.js";
import { normaliseCatalog } from "./catalog.js";
import { Session, parseCsv } from "./session.js";
import { Controls } from "./controls.js";
import { NetworkGraph } from "./graph.js";
import { BoundaryView } from "./boundary.js";
import { LossChart } from "./chart.js";
import { Banner } from "./banner.js";
import { decodeGrid, sampleFunction } from "./heatmap.js";
import { activationMapper, outputMapper } from "./colors.js";
import { featureFunction, featureLabel } from "./features.js";
import { ShareDialog } from "./share.js";
import { Presenter, HidePicker, viewHash } from "./presenter.js";
import { ExportTools } from "./export.js";
import { WatchView } from "./watch.js";
import { toHash } from "./state.js";
import { Teaching } from "./teaching.js";
import { PageLayout } from "./layout.js";
import { PointForm } from "./pointform.js";
import { ForkDialog } from "./forkdialog.js";
import { ClassView } from "./classview.js";

const $ = (id) => document.getElementById(id);
const api = new Api("api");
const banner = new Banner($("banner"));
const serverStatus = $("server-status");
const share = new ShareDialog(api, banner);
const watchView = new WatchView({ bar: $("readonly-note"), title: $("watch-title") });
const forkDialog = new ForkDialog($("fork-dialog"));
let classView = null;
const presenter = new Presenter({
  button: $("presenter"),
  onChange: () => requestAnimationFrame(redrawLook),
  onToggle: () => session?.writeHash(),
});
// The Share dialog's options: follow live or a copy of the setup, presenter mode, what to hide.
const sharePicker = new HidePicker($("share-options"), { onChange: () => share.refresh() });
let sharePicked = false;
share.onOpen = () => {
  if (!sharePicked) sharePicker.set({ presenter: false, hide: presenter.view.hide });
  sharePicked = true;
};
share.makeLink = (base, id) => (sharePicker.kind === "copy" && session
  ? `${base}${toHash(session.config)}` : `${base}#watch=${id}`) + viewHash(sharePicker.view);
const exporter = new ExportTools({
  session: () => session, base: serverBase, canvas: $("boundary"), banner,
  pngButton: $("export-png"), codeButton: $("export-code"),
});
new PageLayout({ topbar: document.querySelector(".topbar"), runbar: document.querySelector(".runbar"), drawer: $("data-panel"), toggle: $("data-toggle"), close: $("data-close") });

let session = null;
let grids = null; // the latest decoded boundary: {output, neurons: [...]}
let hovered = null; // a neuron hovered in the graph
let noticeCause = null; // what the banner's notice is about, when it holds only while that lasts
let fileNetwork = null; // the network made from the last file read (its note lasts as long)

/** A message in the banner; options.cause: what it is about (it goes when that does). */
function say(kind, title, text, options = {}) {
  noticeCause = options.cause ?? null;
  banner.show(kind, title, text, options);
}

/** The banner's notice goes when what it was about (`cause`) is gone. */
function causeGone(cause) {
  if (noticeCause !== cause) return;
  banner.hide();
  noticeCause = null;
}

const chart = new LossChart($("chart"), {
  onHover: (text) => { $("chart-readout").textContent = text || "Hover the chart for exact values."; },
});

const boundary = new BoundaryView($("boundary"), {
  onAdd: (x1, x2) => session?.addPoint(x1, x2, controls.pointLabel),
  onRemove: (which) => session?.removePoint(which),
  onHover: (text) => { $("boundary-readout").textContent = text || " "; },
}, { key: $("output-key") });

const graph = new NetworkGraph($("graph"), {
  onToggleFeature: (name) => {
    const on = session.config.features;
    const all = session.catalog.featureNames;
    const next = on.includes(name) ? on.filter((f) => f !== name) : all.filter((f) => f === name || on.includes(f));
    if (!next.length) { say("warning", "At least one input feature", "must stay on."); return; }
    session.change({ features: next });
  },
  onLayers: (delta) => {
    const c = session.config;
    const hidden = delta > 0 ? [...c.hidden, c.hidden.at(-1) ?? 2] : c.hidden.slice(0, -1);
    const hiddenAct = c.activations.length > 1 ? c.activations[c.hidden.length - 1] : "tanh";
    const activations = delta > 0 ? [...c.activations.slice(0, -1), hiddenAct, c.activations.at(-1)]
      : [...c.activations.slice(0, -2), c.activations.at(-1)];
    session.change({ hidden, activations });
  },
  onNeurons: (layer, delta) => {
    const hidden = [...session.config.hidden];
    hidden[layer] = Math.max(1, hidden[layer] + delta);
    session.change({ hidden });
  },
  onActivation: (layer, name) => {
    const activations = [...session.config.activations];
    activations[layer] = name;
    session.change({ activations });
  },
  onEdit: (edit) => session.edit(edit),
  onHoverNeuron: (n) => { hovered = n; showHovered(); },
});

const controls = new Controls({
  onChange: (changes) => session.change(changes),
  onPlay: () => session.togglePlay(),
  onStep: () => session.step({ iterations: 1 }),
  onStepEpoch: () => session.step({ epochs: 1 }),
  onReset: () => session.reset(),
  onRegenerate: () => session.regenerate(),
  onClearPoints: () => session.clearPoints(),
  onCustom: () => session.useCustom(),
  onFork: async () => {
    const name = await forkDialog.ask();
    if (name !== null) session.fork(name || null);
  },
  onShare: () => session?.id && share.open(session.id),
  onExport: async () => {
    const doc = await session.exportDocument();
    if (!doc) return;
    const url = URL.createObjectURL(new Blob([JSON.stringify(doc)], { type: "application/json" }));
    const a = Object.assign(document.createElement("a"), { href: url,
      download: `network-${session.config.dataset}-epoch${session.state?.epoch ?? 0}.json` });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  },
  onImport: async (file) => {
    let doc;
    try {
      doc = JSON.parse(await file.text());
    } catch {
      say("error", "That file is not a saved network.", "Choose a .json file made with Save.");
      return;
    }
    session.importDocument(doc);
  },
  onCsv: async (file) => {
    const { rows, problems } = parseCsv(await file.text());
    if (rows.length < 2) {
      say("error", "That CSV has no points.", "Each line should be x1,x2,label (a header line is fine).");
      return;
    }
    // The note is about this file's data: it goes when other data is shown.
    if (problems.length) say("warning", `Skipped ${problems.length} line(s)`, `that were not x1,x2,label: line ${problems.slice(0, 5).join(", ")}.`, { cause: "file" });
    fileNetwork = null;
    session.loadPoints(rows);
  },
});
new PointForm($("point-form"), (x1, x2) => session?.addPoint(x1, x2, controls.pointLabel));

/** The hovered neuron's map on the big canvas (input features are computed locally). */
function showHovered() {
  if (!hovered || !session?.state) { boundary.setOverride(null); return; }
  const { column, index, label, feature } = hovered;
  if (column === 0) {
    const R = 100;
    const values = sampleFunction(featureFunction(feature), session.state.domain, R, R);
    boundary.setOverride({ values, rows: R, cols: R, mapper: { map: (v, s) => v / s, dynamic: true },
      label: featureLabel(feature, session.catalog) });
    return;
  }
  const grid = grids?.neurons?.[column];
  if (!grid || index >= grid.p) return;
  const isOutput = column === session.state.sizes.length - 1;
  const mapper = isOutput ? outputMapper(session.state) : activationMapper(session.state.layers[column - 1]?.activation ?? session.config.activations[column - 1]);
  boundary.setOverride({ values: grid.channel(index), rows: grid.rows, cols: grid.cols, mapper, label });
}

/** Presenter mode changed the look: draw again with its text size and line widths. */
function redrawLook() {
  boundary.dirty = true;
  boundary.draw();
  chart.draw();
  if (session?.state?.layers) graph.setParameters(session.state.layers);
}

/** The address code should call: this page's, or the classroom's when this is the server itself. */
async function serverBase() {
  const here = `${location.origin}${location.pathname}`;
  if (!/^(localhost|127\.|\[::1\])/.test(location.hostname)) return here;
  try {
    const s = await api.share();
    if (s?.classroom && s.urls?.length) return s.urls[0];
  } catch {
    /* this page's own address */
  }
  return here;
}

function showGrids(raw, state) {
  if (!raw?.output) return;
  grids = { output: decodeGrid(raw.output), neurons: raw.neurons?.map(decodeGrid) };
  if (raw.domain) boundary.setDomain(raw.domain);
  boundary.setGrid(grids.output);
  if (grids.neurons) graph.setNeuronGrids(grids.neurons, state, session.config.discretise);
  if (hovered) showHovered();
}

function showState(state) {
  if (!state) return;
  controls.setStatus(state.status, session.readOnly, !!session.draft);
  controls.setCounters(state.epoch, state.iteration);
  controls.setMetrics(state.metrics);
  boundary.setState(state);
  graph.setDomain(state.domain);
  if (state.layers) graph.setParameters(state.layers);
}

function showStructure(config, state) {
  if (!state) return;
  const sizes = state.sizes || [config.features.length, ...config.hidden, 1];
  // While a new network is on its way, draw the configuration asked for.
  const pending = JSON.stringify(config.hidden) !== JSON.stringify(sizes.slice(1, -1))
    || JSON.stringify(config.features) !== JSON.stringify(state.spec?.features)
    || JSON.stringify(config.activations) !== JSON.stringify(state.spec?.activations);
  graph.setStructure({
    allFeatures: session.catalog.featureNames,
    features: config.features,
    sizes: pending ? [config.features.length, ...config.hidden, state.outputs ?? sizes.at(-1)] : sizes,
    activations: config.activations,
    limits: session.catalog.limits,
    rule: config.rule,
    activationsCatalog: session.catalog.activations,
  }, session.readOnly);
  graph.host.classList.toggle("pending", pending);
}

/** The views follow the store: each piece of state, and the session's news. */
function subscribe(store) {
  const showConfig = (config, { state, readOnly }) => {
    if (config.dataset !== "custom") causeGone("custom");
    controls.readOnly = readOnly;
    boundary.editable = !readOnly;
    const { draft, draftTask } = session;
    controls.setConfig(draft ? { ...config, dataset: "custom", points: draft } : config, draft ? draftTask : state?.task);
    boundary.setOptions({ showTest: config.showTest, discretise: config.discretise });
    chart.setLogScale(config.logScale);
    showStructure(config, state);
    if (grids?.neurons && state) graph.setNeuronGrids(grids.neurons, state, config.discretise);
    watchView.update(readOnly, config, state, session.catalog);
  };
  store.on("config", showConfig);
  store.on("readOnly", (readOnly, snapshot) => showConfig(snapshot.config, snapshot));
  store.on("state", (state, { config }) => {
    showStructure(config, state);
    showState(state);
    if (!state?.warnings?.length) causeGone("network"); // the network it warned about changed
  });
  // Another network: what was drawn and read for the last one goes (the hover's outputs too).
  store.on("id", (id) => {
    if (noticeCause === "file") {
      if (fileNetwork === null) fileNetwork = id; // the file's own network
      else if (id !== fileNetwork) causeGone("file");
    }
    grids = null;
    hovered = null;
    boundary.setOverride(null);
    boundary.setGrid(null);
    $("boundary-readout").textContent = " ";
  });
  store.on("data", (data) => {
    if (session.draft) return; // your points are shown while you draw them
    boundary.setData(data);
    controls.setDataStats(data);
  });
  store.on("grids", (raw, state) => showGrids(raw, state));
  store.on("history", (h) => (h ? chart.setHistory(h) : chart.clear()));
  store.on("progress", (frame) => { if (!chart.append(frame.history)) session.refreshHistory(); });
  store.on("frame", (frame, state) => { // the state it brought is drawn by the "state" listener
    chart.draw();
    if (frame.boundary) showGrids(frame.boundary, state);
  });
  store.on("done", (result, state, { quiet }) => {
    showState(state);
    if (quiet) return;
    noticeCause = null;
    if (session.readOnly) { watchView.runEnded(banner, result, state); return; }
    banner.runEnded(result, { epoch: result.epoch ?? state?.epoch, learningRate: session.config.lr,
      reset: () => session.reset() });
  });
  store.on("change", (keys) => {
    if (keys.includes("token") || keys.includes("projecting")) classView.showOwner();
  });
  store.on("stream", (status) => {
    serverStatus.textContent = { live: "live", reconnecting: "reconnecting…", closed: "stream closed" }[status] || status;
    serverStatus.dataset.status = status;
  });
  store.on("error", (err, what) => {
    noticeCause = null;
    banner.error(err, what);
  });
  store.on("notice", (kind, title, text, options) => {
    say(kind, title, text, options);
  });
  store.on("draft", (points, { state, config, readOnly, draftTask, draftPlane, data }) => {
    controls.setStatus(state?.status, readOnly, !!points);
    if (!points) {
      if (noticeCause === "draft" && config.dataset === "custom") {
        // The drawing became a network: the note stays (so the plane does not move under the
        // next click) and says what changed; it goes with the dataset.
        say("info", "Your points:", "the network trains on them. Click to add more, right-click one to remove it.",
          { cause: "custom" });
      } else causeGone("draft");
      if (data) { boundary.setData(data); controls.setDataStats(data); }
      return;
    }
    controls.setConfig({ ...config, dataset: "custom", points }, draftTask);
    controls.setDataStats({ task: draftTask, classes: 2, train: { x: points }, test: { x: [] } });
    boundary.setGrid(null);
    boundary.setData({ task: draftTask, classes: 4, domain: planeDomain(draftPlane),
      train: { x: points.map((p) => [p[0], p[1]]), y: points.map((p) => p[2]) }, test: { x: [], y: [] } });
  });
}

/** [[x1_lo, x1_hi], [x2_lo, x2_hi]] as the boundary view's domain. */
function planeDomain(plane) {
  return { x1: [...plane[0]], x2: [...plane[1]] };
}

async function main() {
  let catalog;
  try {
    const [health, raw] = await Promise.all([api.health(), api.catalog()]);
    serverStatus.textContent = `server ${health.status}`;
    catalog = normaliseCatalog(raw);
  } catch (err) {
    serverStatus.textContent = "server unreachable";
    banner.error(err, "Loading the catalog");
    return;
  }
  controls.setCatalog(catalog);
  session = new Session(api, catalog, { hashExtras: () => presenter.hashExtras() });
  classView = new ClassView({ api, session, dialog: $("class-dialog"), button: $("class-view") });
  subscribe(session);
  window.playground = session; // for the console and the browser tests
  window.playgroundViews = { boundary, graph, chart, controls };
  window.playgroundClassroom = { presenter, exporter, watchView, sharePicker, share, classView };
  // Lessons and the teaching views (issue 6): they listen to the session's callbacks.
  window.playgroundTeaching = new Teaching({ api, session, graph, banner, host: $("teach"), toggle: $("teach-toggle") });
  await session.start();
}

// Keyboard: space plays/pauses, → steps an iteration, shift+→ an epoch, ctrl+Z undoes an edit.
document.addEventListener("keydown", (e) => {
  if (!session) return;
  const t = e.target;
  const typing = t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement || t?.isContentEditable;
  if (typing) return;
  if (e.key === " " && !e.ctrlKey && !e.metaKey) {
    // A button focused from the keyboard is pressed by space; one just clicked is not meant.
    if ((t instanceof HTMLButtonElement || t?.getAttribute?.("role") === "switch") && t.matches(":focus-visible")) return;
    e.preventDefault();
    session.togglePlay();
  } else if (e.key === "ArrowRight" && !e.ctrlKey && !e.metaKey && !e.altKey) {
    e.preventDefault();
    session.step(e.shiftKey ? { epochs: 1 } : { iterations: 1 });
  } else if ((e.key === "z" || e.key === "Z") && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    session.undoEdit();
  }
});

main();
