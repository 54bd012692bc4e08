// The page's network and the page's state store: creating a network from a configuration,
// adopting one after a reload, changing hyperparameters in place, training and stepping,
// following its event stream, editing parameters with undo, and the user's own points. Every
// piece of the page's state lives in the store (`current`, changed only by `update`); views
// read it and subscribe to its events, and draw everything themselves.
import { Follower } from "./stream.js";
import { Store } from "./store.js";
import {
  DEFAULTS, copyConfig, dataKey, hyperKey, toSpec, fromSpec, toHash, fromHash,
  loadSession, saveSession, watchedId,
} from "./state.js";
import { ApiError, NEURON_RESOLUTION } from "./api.js";
import { isFixedPoints } from "./catalog.js";
import { latestNetwork, announceReplaced } from "./watch.js";

const VIEW_KEYS = ["speed", "showTest", "discretise", "logScale"];
const IDLE_RESOLUTION = 100;
/** The plane of the built-in sets: your own points start on it (and keep it while you click). */
export const BUILT_IN_PLANE = [[-6, 6], [-6, 6]];

/**
 * Events (subscribe with `on`): the state's keys when they change (config, state, data,
 * history, draft, id, token, readOnly) with (value, snapshot), "change" (keys, snapshot), and
 * news: "grids" (boundary, state), "progress" (frame, state: every frame of the stream),
 * "frame" (frame, state: the latest one, once per animation frame, after the state took it),
 * "done" (result, state, {quiet}), "lab" ({step, sample, answer}, state: a teaching step taken
 * on the network, from its stream), "stream" (status), "error" (err, what),
 * "notice" (kind, title, text, options; options.cause "draft": it holds while you draw points).
 */
export class Session extends Store {
  #generation = 0;
  #createTimer = null;
  #refreshTimer = null;
  #writingHash = null;
  #followingTo = null;
  #gridsInFlight = false;
  #gridsAgain = false;
  #historyInFlight = false;
  #stepping = false;
  #stopping = false;
  #quietStop = false;
  #undo = [];
  #hashExtras;
  #home = null; // {id, token} of the own network while the page shows one of its forks

  /** hashExtras(): more of the URL's hash, from views that keep their own (presenter mode). */
  constructor(api, catalog, { hashExtras = () => "" } = {}) {
    super({
      config: copyConfig(DEFAULTS), id: null, token: null, state: null, data: null,
      history: null, readOnly: false,
      projecting: null, // the fork of the own network shown in its place (see project)
      draft: null, // the user's points while too few to make a network
      draftTask: null, draftPlane: null,
    });
    this.api = api;
    this.catalog = catalog;
    this.#hashExtras = hashExtras;
    this.follower = new Follower({
      onSnapshot: (s) => this.#snapshot(s),
      onProgress: (f) => this.emit("progress", f, this.state), // every frame: the loss history
      onFrame: (f) => this.#frame(f), // the latest, once per animation frame: the state and drawing
      onDone: (r) => this.#done(r),
      onReplaced: (r) => this.#replaced(r),
      onLab: (step) => this.emit("lab", step, this.state),
      onStatus: (s) => this.emit("stream", s),
    });
    this.on("change", (keys) => {
      if (keys.includes("config") || keys.includes("id") || keys.includes("readOnly")) this.writeHash();
    });
    window.addEventListener("hashchange", () => this.#hashChanged());
    Object.freeze(this);
  }

  // -- reading the state -----------------------------------------------------------------

  get config() { return this.current.config; }
  get state() { return this.current.state; }
  get data() { return this.current.data; }
  get history() { return this.current.history; }
  get id() { return this.current.id; }
  get token() { return this.current.token; }
  get readOnly() { return this.current.readOnly; }
  get draft() { return this.current.draft; }
  get draftTask() { return this.current.draftTask; }
  get gridsInFlight() { return this.#gridsInFlight; }
  /** A step asked for and not answered yet (another step is not taken until it is). */
  get stepping() { return this.#stepping; }
  get canUndo() { return this.#undo.length > 0; }
  get projecting() { return this.current.projecting; }
  /** {id, token} of the network this page owns (also while it shows a fork), or null. */
  get home() { return this.#home ?? (this.token ? { id: this.id, token: this.token } : null); }

  get training() {
    return this.state?.status === "training" || this.state?.status === "queued";
  }

  /** A fresh copy of the state's parameters, to change and send (PUT /parameters). */
  currentLayers() {
    return this.state.layers.map((l) => ({ W: l.W.map((r) => [...r]), b: [...l.b] }));
  }

  // -- starting ---------------------------------------------------------------------------

  async start() {
    const saved = loadSession();
    const watch = watchedId(location.hash);
    if (watch) {
      try {
        // An old link leads to the network its owner shows now (replaced_by, hop by hop).
        const found = await latestNetwork(this.api, watch, await this.api.get(watch));
        const token = saved?.id === found.id ? saved.token : null; // my own link: still mine
        // A reload while this page showed a fork of its own network in its place: still so.
        if (!token && saved && await this.#replacedBy(saved.id, found.id)) {
          this.#home = { id: saved.id, token: saved.token };
          this.update({ projecting: found.id });
        }
        await this.#adopt(found.id, token, found.state, DEFAULTS);
        return;
      } catch (err) {
        this.emit("error", err, "Opening the shared network");
      }
    }
    const fromUrl = fromHash(location.hash);
    if (fromUrl) this.#fixRule(fromUrl, {}); // a link written by hand may ask for what cannot be
    if (saved) {
      try {
        const state = await this.api.get(saved.id);
        const theirs = fromSpec(state.spec, fromUrl || DEFAULTS);
        if (!fromUrl || dataKey(fromUrl) === dataKey(theirs)) {
          await this.#adopt(saved.id, saved.token, state, fromUrl || theirs);
          if (fromUrl && hyperKey(fromUrl) !== hyperKey(theirs)) await this.#patchFrom(theirs, fromUrl);
          return;
        }
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) this.emit("error", err, "Loading your network");
      }
    }
    await this.create(fromUrl || copyConfig(DEFAULTS));
    // A link with other data replaced the network kept from last time: its viewers follow.
    if (saved?.token && this.id && this.id !== saved.id) announceReplaced(this.api, saved, this.id);
  }

  #replacedBy(id, by) {
    return this.api.get(id).then((state) => state.replaced_by === by, () => false);
  }

  #hashChanged() {
    if (this.#writingHash === location.hash) return;
    // A watch link, or any other link while watching: open it afresh.
    if (watchedId(location.hash) || this.readOnly) { location.reload(); return; }
    const c = fromHash(location.hash);
    if (c) this.change(c, { replace: true });
  }

  writeHash() {
    const hash = (this.readOnly ? `#watch=${this.id}` : toHash(this.config)) + this.#hashExtras();
    if (hash.length > 60000) return; // too many points for a URL: keep the old one
    if (location.hash !== hash) {
      this.#writingHash = hash;
      history.replaceState(null, "", hash);
    }
  }

  // -- making and adopting networks -------------------------------------------------------

  async create(config) {
    clearTimeout(this.#createTimer);
    const generation = ++this.#generation;
    const old = this.id && this.token ? { id: this.id, token: this.token, training: this.training } : null;
    let answer;
    try {
      answer = await this.api.create(toSpec(config));
    } catch (err) {
      if (generation !== this.#generation) return;
      this.emit("error", err, "Making the network");
      this.emit("config", this.config, this.current); // back to what is on the server
      return;
    }
    if (generation !== this.#generation) return; // a newer change won: this one is not shown
    this.#undo = [];
    this.update({ draft: null, draftTask: null, draftPlane: null });
    const adopted = this.#adopt(answer.id, answer.token, answer.network, config);
    if (old?.training) this.api.stop(old.id, old.token).catch(() => {}); // kept: someone may watch it
    if (old) announceReplaced(this.api, old, answer.id); // whoever watched it follows along
    await adopted;
    const warnings = answer.warnings || answer.network?.warnings || [];
    if (warnings.length) this.emit("notice", "warning", "Note:", warnings.join(" "), { cause: "network" });
  }

  async #adopt(id, token, state, config) {
    this.api.token = token;
    if (token) saveSession(id, token);
    const view = Object.fromEntries(VIEW_KEYS.map((k) => [k, (config || this.config)[k]]));
    // The network changed: what was drawn or measured for the last one goes.
    this.update({ id, token, readOnly: !token, config: { ...fromSpec(state.spec, DEFAULTS), ...view },
      state, data: null, history: null });
    const resolution = this.#streamResolution();
    const neurons = this.neuronResolution(resolution);
    this.follower.follow(this.api.eventsUrl(id, resolution, neurons > 0, neurons));
    const generation = this.#generation;
    await Promise.all([
      this.api.data(id).then((data) => { if (generation === this.#generation) this.update({ data }); }),
      this.refreshGrids(),
      this.refreshHistory(),
    ]).catch((err) => this.emit("error", err, "Loading the network"));
  }

  /** Boundary resolution in progress frames (the neurons' maps as large as the budgets allow). */
  #streamResolution() {
    return Math.min(IDLE_RESOLUTION, this.catalog.limits.boundary_resolution ?? IDLE_RESOLUTION);
  }

  // -- following the stream ---------------------------------------------------------------

  /**
   * Every change is both answered and published, and the page reads the state again after a
   * run: a snapshot or a read that arrives after the answer to a later change (a slow stream,
   * a slow read) is older than the state shown and must not take it back.
   */
  #older(state) {
    return Boolean(state.updated_at && this.state?.updated_at && state.updated_at < this.state.updated_at);
  }

  #snapshot(state) {
    if (state.id && state.id !== this.id) return;
    if (this.#older(state)) return;
    if (state.replaced_by) this.#replaced({ id: this.id, by: state.replaced_by });
    this.update({ state });
    this.refreshSoon();
  }

  /**
   * The owner of the network shown moved on to network `by` (new data or shape): follow. A
   * `back` (the owner of the fork's parent calls its viewers back) is not for the fork's own
   * owner, nor for the page that showed the fork (it goes back on its own).
   */
  #replaced({ id, by, back = false }) {
    if (back && (!this.readOnly || this.#home)) return;
    if (!by || id !== this.id || by === this.id || this.#followingTo === by) return;
    this.#followReplacement(by);
  }

  async #followReplacement(by) {
    this.#followingTo = by;
    const generation = ++this.#generation;
    try {
      const found = await latestNetwork(this.api, by, await this.api.get(by));
      if (generation !== this.#generation) return;
      const saved = loadSession();
      const token = saved?.id === found.id ? saved.token : null;
      this.#undo = [];
      if (this.#home) this.update({ projecting: found.id }); // the fork shown moved on: still shown
      await this.#adopt(found.id, token, found.state, this.config);
      this.emit("notice", "info", "The owner moved on to a new network:", "you follow it live.", { timeout: 5000 });
    } catch (err) {
      if (generation === this.#generation) this.emit("error", err, "Following the shared network");
    } finally {
      this.#followingTo = null;
    }
  }

  #frame(frame) {
    const st = this.state;
    if (!st) return;
    // On a big network the page may draw slower than frames come: those it reads after the
    // stop's answer are from before it, and while a stop is asked for the run is over here.
    if (frame.iteration < st.iteration) return;
    this.update({ state: advanced(st, {
      status: this.#stopping ? st.status : frame.status ?? "training",
      epoch: frame.epoch ?? st.epoch,
      iteration: frame.iteration ?? st.iteration,
      metrics: frame.metrics ?? st.metrics,
      layers: frame.layers ? frame.layers.map((l, k) => ({ ...st.layers[k], ...l })) : st.layers,
    }) });
    this.emit("frame", frame, this.state);
  }

  #done(result) {
    // The run's last epoch and weights come with the state read below (reload): until then the
    // state stays whole, from one epoch, and only says the run ended.
    if (this.state) this.update({ state: { ...this.state, status: "idle", last_run: result } });
    const quiet = result.reason === "stopped" && this.#quietStop;
    if (result.reason === "stopped") this.#quietStop = false;
    this.emit("done", result, this.state, { quiet });
    this.refreshSoon();
    // The state after the run (final weights and metrics), in case the stream had no frame.
    this.reload();
  }

  async reload() {
    if (!this.id) return;
    const generation = this.#generation;
    try {
      const state = await this.api.get(this.id);
      if (generation === this.#generation && !this.#older(state) &&
          !(this.training && state.status !== "training")) {
        this.update({ state });
      }
    } catch (err) {
      if (generation === this.#generation) this.emit("error", err, "Reading the network");
    }
  }

  refreshSoon() {
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = setTimeout(() => {
      this.refreshGrids();
      this.refreshHistory();
    }, 30);
  }

  /**
   * The neurons' maps the budgets allow (catalog limits: grid_values values in one answer),
   * or none when even the smallest would not fit; the server may still make them smaller.
   */
  neuronResolution(resolution) {
    const sizes = this.state?.sizes;
    const budget = this.catalog.limits.grid_values;
    if (!sizes || !budget) return NEURON_RESOLUTION;
    const outputs = sizes.at(-1) * resolution ** 2;
    const maps = sizes.reduce((a, b) => a + b, 0); // the inputs' and every neuron's
    const fits = Math.floor(Math.sqrt((budget - outputs) / maps));
    if (fits < MIN_NEURON_MAP) return 0;
    return Math.min(NEURON_RESOLUTION, fits);
  }

  async refreshGrids() {
    if (!this.id) return;
    if (this.#gridsInFlight) { this.#gridsAgain = true; return; }
    this.#gridsInFlight = true;
    const generation = this.#generation;
    try {
      const resolution = this.#streamResolution();
      const neurons = this.neuronResolution(resolution);
      let grids;
      try {
        grids = await this.api.boundary(this.id, { resolution, neuronResolution: neurons || null });
      } catch (err) {
        // Too much for one answer: the output alone (the graph keeps its last maps).
        if (!(err instanceof ApiError && err.status === 413 && neurons)) throw err;
        grids = await this.api.boundary(this.id, { resolution, neuronResolution: null });
      }
      if (generation === this.#generation) this.emit("grids", grids, this.state);
    } catch (err) {
      if (generation === this.#generation) this.emit("error", err, "Drawing the boundary");
    } finally {
      this.#gridsInFlight = false;
      if (this.#gridsAgain) { this.#gridsAgain = false; this.refreshGrids(); }
    }
  }

  async refreshHistory() {
    if (!this.id || this.#historyInFlight) return;
    const generation = this.#generation;
    this.#historyInFlight = true;
    try {
      const history = await this.api.history(this.id);
      if (generation === this.#generation) this.update({ history });
    } catch (err) {
      if (generation === this.#generation) this.emit("error", err, "Reading the loss history");
    } finally {
      this.#historyInFlight = false;
    }
  }

  // -- changes from the controls ----------------------------------------------------------

  /** Apply a changed configuration: a new network for data and shapes, PATCH for the rest. */
  change(changes, { replace = false } = {}) {
    const next = replace ? copyConfig(changes) : { ...copyConfig(this.config), ...copyConfig(changes) };
    const before = this.config;
    this.#fixData(before, next);
    this.#fixTask(before, next);
    this.#fixRule(next, changes);
    if (this.readOnly && (dataKey(next) !== dataKey(before) || hyperKey(next) !== hyperKey(before))) {
      this.emit("notice", "info", "Only its owner can change this network.", "Fork it to change your own copy.",
        { action: { label: "Fork", run: () => this.fork() } });
      this.emit("config", this.config, this.current);
      return;
    }
    if (this.draft && !("dataset" in changes)) {
      this.update({ config: next }); // your points make the network: it takes these settings then
      return;
    }
    if (dataKey(next) !== dataKey(before) || this.draft) {
      this.update({ config: next });
      clearTimeout(this.#createTimer);
      this.#createTimer = setTimeout(() => this.create(next), 120);
      return;
    }
    const speedChanged = next.speed !== before.speed;
    this.update({ config: next });
    if (hyperKey(next) !== hyperKey(before)) this.#patchFrom(before, next);
    if (speedChanged && this.training) this.#restartRun();
  }

  /** Leaving your own points for a built-in set: its own split and plane come back. */
  #fixData(before, next) {
    if (next.dataset === "custom") return;
    next.points = null;
    next.domain = null;
    next.task = null;
    if (before.dataset === "custom" && next.dataset !== before.dataset && before.ratio === 1) {
      next.ratio = DEFAULTS.ratio;
    }
  }

  taskOf(config) {
    if (config.dataset === "custom") return config.task || this.draftTask || this.data?.task || "classification";
    return this.#datasetInfo(config.dataset)?.task || "classification";
  }

  #datasetInfo(name) {
    return this.catalog.datasets.find((d) => d.name === name);
  }

  /** Another kind of data (classification <-> regression): the output activation that fits. */
  #fixTask(before, next) {
    if (next.dataset === before.dataset || next.dataset === "custom") return;
    const task = this.taskOf(next);
    if (task === this.taskOf(before)) return;
    if (task === "regression") {
      next.activations = [...next.activations.slice(0, -1), "linear"];
      if (next.rule === "perceptron") next.rule = "backprop";
    } else if (next.activations.at(-1) === "linear") {
      next.activations = [...next.activations.slice(0, -1), "sigmoid"];
    }
  }

  /**
   * Mini-batches of one sample are stochastic, and go by that name. The perceptron rule needs
   * a single layer with a hard-limit output and one sample per update: reshape it for that.
   */
  #fixRule(next, changes) {
    if (next.batch === "minibatch" && next.batchSize === 1) {
      next.batch = "stochastic";
      next.batchSize = DEFAULTS.batchSize; // what a mini-batch is again when it is chosen
    }
    if (next.rule !== "perceptron") return;
    next.batch = "stochastic";
    const hardOut = ["hardlim", "hardlims"].includes(next.activations.at(-1));
    if (next.hidden.length || !hardOut) {
      next.hidden = [];
      next.activations = [hardOut ? next.activations.at(-1) : "hardlim"];
      if (changes.rule) {
        next.batch = "stochastic";
        this.emit("notice", "info", "Perceptron rule:",
          "it trains a single layer of hard-limit neurons, one sample at a time, so the hidden layers were removed.");
      }
    }
  }

  async #patchFrom(before, next) {
    const body = {};
    if (next.lr !== before.lr) body.learning_rate = next.lr;
    if (next.batch !== before.batch || next.batchSize !== before.batchSize) {
      body.batch = { mode: next.batch, size: next.batchSize };
    }
    if (next.reg !== before.reg || next.regRate !== before.regRate) {
      body.regularization = { kind: next.reg, rate: next.regRate };
    }
    if (next.rule !== before.rule) body.rule = next.rule;
    if (!Object.keys(body).length || !this.id) return;
    try {
      await this.patch(body);
    } catch (err) {
      this.emit("error", err, "Changing the settings");
      this.update({ config: { ...this.config, ...fromSpec(this.state.spec, this.config) } });
      this.emit("config", this.config, this.current);
    }
  }

  /** PATCH the network's hyperparameters (docs/API.md); the state and configuration follow. */
  async patch(body) {
    const state = await this.api.patch(this.id, body);
    if (!state?.spec) return state;
    const status = this.training && state.status === "idle" ? this.state.status : state.status;
    this.update({ state: { ...state, status }, config: fromSpec(state.spec, this.config) });
    if (state.warnings?.length) this.emit("notice", "warning", "Note:", state.warnings.join(" "), { cause: "network" });
    return state;
  }

  // -- training ---------------------------------------------------------------------------

  /** A guard's refusal of `action` ("step", "play"), told to the user; true when refused. */
  #refused(action) {
    const refusal = this.refusal(action);
    if (!refusal) return false;
    this.emit("notice", refusal.kind || "info", refusal.title, refusal.text, refusal.options);
    return true;
  }

  async togglePlay() {
    if (this.readOnly || !this.id || this.draft) return;
    if (this.training) await this.pause();
    else if (!this.#refused("play")) await this.play();
  }

  async play() {
    const epochs = this.catalog.limits.epochs_per_run || 100000;
    await this.train({ epochs, max_epochs_per_second: this.config.speed || null }, "Starting the training");
  }

  /** A background run (POST /train) with this body; the state says it trains. */
  async train(body, what = "Starting the training") {
    this.#setStatus("training");
    try {
      await this.api.train(this.id, body);
      return true;
    } catch (err) {
      this.#setStatus("idle");
      this.emit("error", err, what);
      return false;
    }
  }

  /** Stop a run; quiet: the page says why itself, so the run's end is not announced. */
  async pause({ quiet = false } = {}) {
    if (quiet) this.#quietStop = true;
    this.#setStatus("idle");
    this.#stopping = true;
    try {
      const state = await this.api.stop(this.id);
      if (state?.spec) this.update({ state });
      return true;
    } catch (err) {
      this.emit("error", err, "Stopping the training");
      this.reload();
      return false;
    } finally {
      this.#stopping = false;
    }
  }

  async #restartRun() {
    this.#quietStop = true;
    try {
      await this.api.stop(this.id);
      await this.play();
    } catch (err) {
      this.emit("error", err, "Changing the speed");
    }
  }

  #setStatus(status) {
    if (this.state) this.update({ state: { ...this.state, status } });
  }

  async step(what) {
    if (this.readOnly || !this.id || this.training || this.draft || this.#stepping) return;
    if (this.#refused("step")) return;
    this.#stepping = true;
    try {
      this.update({ state: await this.api.step(this.id, what) });
      this.refreshSoon();
    } catch (err) {
      this.emit("error", err, what.epochs ? "Stepping one epoch" : "Stepping one iteration");
    } finally {
      this.#stepping = false;
    }
  }

  /** The three teaching steps (POST forward, backward, update), one call each. */
  async teachingStep(step, body = {}) {
    try {
      const answer = step === "forward" ? await this.api.forward(this.id, body)
        : step === "backward" ? await this.api.backward(this.id) : await this.api.update(this.id);
      const next = { forward: "backward", backward: "update", update: "forward" }[step];
      this.update({ state: advanced(this.state, { next_step: next,
        ...(step === "update" ? { epoch: answer.epoch, iteration: answer.iteration,
          layers: answer.layers.map((l, k) => ({ ...this.state.layers[k], W: l.W, b: l.b })) } : {}) }) });
      return answer;
    } catch (err) {
      const next = err instanceof ApiError ? err.detail?.next_step : null;
      if (next && this.state) this.update({ state: { ...this.state, next_step: next } });
      throw err;
    }
  }

  /** New initial weights (seed: the same again, or a new one when not given). */
  async reset(seed = null) {
    if (this.readOnly || !this.id || this.draft) return false;
    try {
      if (this.training) { this.#quietStop = true; await this.api.stop(this.id); }
      const chosen = seed ?? Math.floor(Math.random() * 100000);
      const state = await this.api.reset(this.id, chosen);
      this.#undo = [];
      this.update({ state, config: { ...this.config, seed: state.spec?.init?.seed ?? chosen }, history: null });
      this.refreshSoon();
      return true;
    } catch (err) {
      this.emit("error", err, "Resetting the network");
      return false;
    }
  }

  // -- editing parameters -----------------------------------------------------------------

  async edit({ layer, kind, i, j, value, label }) {
    if (this.readOnly || !this.state) return false;
    if (typeof value !== "number" || !Number.isFinite(value) || Math.abs(value) > PARAMETER_LIMIT) {
      this.emit("notice", "error", `${label} was not changed:`,
        `a weight or bias must be a number from −1e12 to 1e12; ${Number.isNaN(value) ? "that is not a number"
          : Number.isFinite(value) ? `got ${value}` : "that is too large to hold (Infinity)"}.`);
      return false;
    }
    // The server takes no weights during a run: stop it first, and say so.
    const paused = this.training;
    if (paused && !(await this.pause({ quiet: true }))) return false;
    const before = this.currentLayers();
    const after = this.currentLayers();
    const old = kind === "W" ? after[layer].W[i][j] : after[layer].b[i];
    if (kind === "W") after[layer].W[i][j] = value;
    else after[layer].b[i] = value;
    if (!(await this.putLayers(after, "Setting the parameter"))) return false;
    this.#undo.push({ layers: before, label });
    const was = `(was ${Number(old.toPrecision(6))}).`;
    this.emit("notice", "info", `${label} = ${value}`,
      paused ? `${was} Training paused to set it: press Train to go on.` : was, {
      action: { label: "Undo", run: () => this.undoEdit() }, timeout: 10000 });
    return true;
  }

  async undoEdit() {
    const last = this.#undo.pop();
    if (!last) return;
    if (await this.putLayers(last.layers, "Undoing the edit")) {
      this.emit("notice", "info", `Undone: ${last.label} is back.`, "", {
        action: this.#undo.length ? { label: "Undo more", run: () => this.undoEdit() } : null });
    } else {
      this.#undo.push(last);
    }
  }

  async putLayers(layers, what) {
    try {
      if (this.training && !(await this.pause({ quiet: true }))) return false;
      this.update({ state: await this.api.setParameters(this.id, layers) });
      this.refreshSoon();
      return true;
    } catch (err) {
      this.emit("error", err, what);
      return false;
    }
  }

  // -- the user's points ------------------------------------------------------------------

  /** Every point of the data shown: yours as last asked for (a new network may be on its way). */
  allPoints() {
    if (this.draft) return this.draft.map((p) => [...p]);
    if (this.config.dataset === "custom" && this.config.points) return this.config.points.map((p) => [...p]);
    const d = this.data;
    if (!d) return [];
    const rows = [];
    for (const set of [d.train, d.test]) {
      set?.x.forEach((x, i) => rows.push([x[0], x[1], set.y[i]]));
    }
    return rows;
  }

  /** The task your points are for: a drawing keeps its own, a network's data says. */
  get pointsTask() {
    return this.draft ? this.draftTask : this.data?.task || "classification";
  }

  /** The plane your points are drawn on: fixed while you click. */
  get pointsPlane() {
    if (this.draft) return this.current.draftPlane;
    const d = this.state?.domain;
    return this.config.domain || (d ? [[...d.x1], [...d.x2]] : BUILT_IN_PLANE);
  }

  /** The plane the built-in sets are drawn on (the logic sets have a small one of their own). */
  #builtInPlane() {
    const d = this.state?.domain;
    const info = this.#datasetInfo(this.config.dataset);
    return d && info && !isFixedPoints(info) ? [[...d.x1], [...d.x2]] : BUILT_IN_PLANE;
  }

  /**
   * Your own points. `plane`: the plane to draw them on (null: their bounding box, for a
   * file); `ratio`: the training fraction.
   */
  setPoints(points, { ratio = null, plane = this.pointsPlane, task = this.pointsTask } = {}) {
    const labels = new Set(points.map((p) => p[2]));
    const enough = points.length >= 2 && (task === "regression" || labels.size >= 2);
    const limit = this.catalog.limits.samples || 10000;
    if (points.length > limit) {
      this.emit("notice", "error", "Too many points:", `the server takes at most ${limit}.`);
      return;
    }
    if (!enough) {
      this.update({ draftTask: task, draftPlane: plane || BUILT_IN_PLANE, draft: points });
      this.emit("notice", "info", "Add points:", task === "regression"
        ? "at least two (pick a value, then click on the plot)."
        : "at least one of each of two classes (pick a class, then click on the plot).", { cause: "draft" });
      return;
    }
    // Points drawn from scratch (or on the logic sets) are all for training.
    const allTraining = this.draft || isFixedPoints(this.#datasetInfo(this.config.dataset));
    this.change({ dataset: "custom", points, domain: plane, task,
      ratio: ratio ?? (allTraining ? 1 : this.config.ratio) });
  }

  /** A point where you clicked: a class for classification, a value for regression. */
  addPoint(x1, x2, label) {
    if (this.readOnly) return;
    this.setPoints([...this.allPoints(), [round(x1), round(x2), label]]);
  }

  removePoint({ point }) {
    if (this.readOnly) return;
    const points = this.allPoints();
    const i = points.findIndex((p) => p[0] === point[0] && p[1] === point[1]);
    if (i >= 0) points.splice(i, 1);
    this.setPoints(points);
  }

  /** Start over with no points, on the plane shown, for the same task. */
  clearPoints() {
    if (this.readOnly) return;
    const task = this.pointsTask;
    this.update({ draftTask: task, draftPlane: this.pointsPlane, draft: [] });
    this.emit("notice", "info", "Cleared.", task === "regression"
      ? "Pick a value and click on the plot to add points (at least two)."
      : "Pick a class and click on the plot to add points (at least one of each of two classes).",
    { cause: "draft" });
  }

  /** "Yours": an empty plane of the built-in sets' size, for classes. */
  useCustom() {
    if (this.readOnly || this.config.dataset === "custom") return;
    clearTimeout(this.#createTimer);
    this.update({ draftTask: "classification", draftPlane: this.#builtInPlane(), draft: [] });
    this.emit("notice", "info", "Your own points:",
      "pick a class and click on the plot (at least one of each of two classes), or upload a CSV.",
      { cause: "draft" });
  }

  /** Points from a file: all for training, on the plane around them. */
  loadPoints(points) {
    const task = points.every((p) => Number.isInteger(p[2]) && p[2] >= 0 && p[2] < 8) ? null : "regression";
    this.setPoints(points, { ratio: 1, plane: null, task });
  }

  regenerate() {
    this.change({ dseed: Math.floor(Math.random() * 100000) });
  }

  /** The self-contained document of this network (spec, data, weights, history). */
  async exportDocument() {
    try {
      return await this.api.exportDocument(this.id);
    } catch (err) {
      this.emit("error", err, "Saving the network");
      return null;
    }
  }

  async importDocument(doc) {
    try {
      const answer = await this.api.importDocument(doc);
      const old = this.token ? { id: this.id, token: this.token } : null;
      ++this.#generation;
      this.#undo = [];
      this.update({ draft: null, draftTask: null, draftPlane: null });
      await this.#adopt(answer.id, answer.token, answer.network, this.config);
      announceReplaced(this.api, old, answer.id); // whoever watched the old one follows along
      this.emit("notice", "success", "Opened.", `Epoch ${answer.network.epoch}: a copy of your own.`);
    } catch (err) {
      this.emit("error", err, "Opening the network");
    }
  }

  /** The link that lets others follow this network live (read-only). */
  watchLink() {
    return `${location.origin}${location.pathname}#watch=${this.id}`;
  }

  /** A copy of the network shown, to own; `name` (optional): what its parent's owner sees. */
  async fork(name = null) {
    try {
      const answer = await this.api.fork(this.id, name);
      ++this.#generation;
      this.#home = null;
      this.#undo = [];
      this.update({ projecting: null });
      await this.#adopt(answer.id, answer.token, answer.network, this.config);
      this.emit("notice", "success", "Forked.", "This copy is yours: change it as you like.");
    } catch (err) {
      this.emit("error", err, "Forking the network");
    }
  }

  /**
   * Show fork `id` (called `label`) of the own network in its place (read-only), and send the
   * own network's viewers to it (POST /replaced); `backHome` undoes both.
   */
  async project(id, label = "A fork") {
    const home = this.home;
    if (!home || id === this.id) return;
    if (id === home.id) { await this.backHome(); return; }
    const generation = ++this.#generation;
    try {
      // Viewers sent to another fork before come back first, then go on to this one.
      if (this.#home) await this.api.replaced(home.id, home.id, home.token);
      const state = await this.api.get(id);
      if (generation !== this.#generation) return;
      this.#home = home;
      this.#undo = [];
      this.update({ projecting: id });
      await this.#adopt(id, null, state, this.config);
      await this.api.replaced(home.id, id, home.token);
      this.emit("notice", "info", "On the projector:", `${label}. Your viewers see it too.`,
        { action: { label: "Back to my network", run: () => this.backHome() }, timeout: 0 });
    } catch (err) {
      if (generation === this.#generation) this.emit("error", err, "Showing the network");
    }
  }

  /** Back to the own network from a fork shown in its place, its viewers with it. */
  async backHome() {
    const home = this.#home;
    if (!home) return;
    const generation = ++this.#generation;
    try {
      await this.api.replaced(home.id, home.id, home.token);
      const state = await this.api.get(home.id);
      if (generation !== this.#generation) return;
      this.#home = null;
      this.update({ projecting: null });
      await this.#adopt(home.id, home.token, state, this.config);
      this.emit("notice", "success", "Back on your network.", "Your viewers are back too.", { timeout: 4000 });
    } catch (err) {
      if (generation === this.#generation) this.emit("error", err, "Going back to your network");
    }
  }
}

Object.freeze(Session.prototype);

/** The largest weight or bias the API takes (PUT /parameters: finite, |value| <= 1e12). */
const PARAMETER_LIMIT = 1e12;
/** Smaller than this, a neuron's map says nothing: the graph keeps none. */
const MIN_NEURON_MAP = 8;

const round = (v) => Math.round(v * 1000) / 1000;

/**
 * A state moved on by a frame or a step (not read whole from the server): the perceptron's
 * counters it carries are still those of the epoch they were read at, and say so (`epoch`).
 */
function advanced(state, changes) {
  const next = { ...state, ...changes };
  const p = state.perceptron;
  if (p && next.epoch !== state.epoch) next.perceptron = { ...p, epoch: p.epoch ?? state.epoch };
  return next;
}

export function parseCsv(text) {
  const rows = [];
  const problems = [];
  text.split(/\r?\n/).forEach((line, n) => {
    const t = line.trim();
    if (!t || t.startsWith("#")) return;
    const cells = t.split(/[,;\t]/).map((c) => c.trim());
    const nums = cells.slice(0, 3).map(Number);
    if (cells.length < 3 || nums.some((v) => !Number.isFinite(v))) {
      if (rows.length === 0 && problems.length === 0 && n === 0) return; // a header line
      problems.push(n + 1);
      return;
    }
    rows.push(nums);
  });
  return { rows, problems };
}
