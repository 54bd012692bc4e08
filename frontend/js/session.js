// The page's network: creating it from a configuration, adopting one after a reload,
// changing hyperparameters in place, training and stepping, following its event stream,
// editing parameters with undo, and the user's own points. It calls the API and reports what
// happened through callbacks; it draws nothing itself.
import { Follower } from "./stream.js";
import {
  DEFAULTS, copyConfig, dataKey, hyperKey, toSpec, fromSpec, toHash, fromHash,
  loadSession, saveSession, watchedId,
} from "./state.js";
import { ApiError } from "./api.js";
import { latestNetwork, announceReplaced } from "./watch.js";

const VIEW_KEYS = ["speed", "showTest", "discretise", "logScale"];
const IDLE_RESOLUTION = 100;

export class Session {
  /**
   * cb: onConfig(config, state), onState(state), onData(data), onGrids(boundary),
   * onHistory(history), onProgress(frame), onFrame(frame), onDone(result), onStream(status),
   * onError(err, what), onNotice(kind, title, text, options), onDraft(points | null).
   */
  constructor(api, catalog, cb) {
    this.api = api;
    this.catalog = catalog;
    this.cb = cb;
    this.config = copyConfig(DEFAULTS);
    this.id = null;
    this.token = null;
    this.state = null;
    this.data = null;
    this.readOnly = false;
    this.draft = null; // the user's points while too few to make a network
    this.undo = [];
    this.generation = 0;
    this.createTimer = null;
    this.follower = new Follower({
      onSnapshot: (s) => this.snapshot(s),
      onProgress: (f) => this.progress(f),
      onFrame: (f) => this.cb.onFrame?.(f, this.state),
      onDone: (r) => this.done(r),
      onReplaced: (r) => this.replaced(r),
      onStatus: (s) => this.cb.onStream?.(s),
    });
    window.addEventListener("hashchange", () => this.hashChanged());
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
        await this.adopt(found.id, token, found.state, DEFAULTS);
        return;
      } catch (err) {
        this.cb.onError?.(err, "Opening the shared network");
      }
    }
    const fromUrl = fromHash(location.hash);
    if (saved) {
      try {
        const state = await this.api.get(saved.id);
        const theirs = fromSpec(state.spec, fromUrl || DEFAULTS);
        if (!fromUrl || dataKey(fromUrl) === dataKey(theirs)) {
          await this.adopt(saved.id, saved.token, state, fromUrl || theirs);
          if (fromUrl && hyperKey(fromUrl) !== hyperKey(theirs)) await this.patchFrom(theirs, fromUrl);
          return;
        }
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) this.cb.onError?.(err, "Loading your network");
      }
    }
    await this.create(fromUrl || copyConfig(DEFAULTS));
    // A link with other data replaced the network kept from last time: its viewers follow.
    if (saved?.token && this.id && this.id !== saved.id) announceReplaced(this.api, saved, this.id);
  }

  hashChanged() {
    if (this.writingHash === location.hash) return;
    // A watch link, or any other link while watching: open it afresh.
    if (watchedId(location.hash) || this.readOnly) { location.reload(); return; }
    const c = fromHash(location.hash);
    if (c) this.change(c, { replace: true });
  }

  writeHash() {
    const hash = (this.readOnly ? `#watch=${this.id}` : toHash(this.config)) + (this.cb.hashExtras?.() || "");
    if (hash.length > 60000) return; // too many points for a URL: keep the old one
    if (location.hash !== hash) {
      this.writingHash = hash;
      history.replaceState(null, "", hash);
    }
  }

  // -- making and adopting networks -------------------------------------------------------

  async create(config) {
    const generation = ++this.generation;
    const old = this.id && this.token ? { id: this.id, token: this.token, training: this.training } : null;
    let answer;
    try {
      answer = await this.api.create(toSpec(config));
    } catch (err) {
      if (generation !== this.generation) return;
      this.cb.onError?.(err, "Making the network");
      this.cb.onConfig?.(this.config, this.state); // back to what is on the server
      return;
    }
    if (generation !== this.generation) return; // a newer change won: this one is not shown
    this.undo = [];
    this.draft = null;
    this.cb.onDraft?.(null);
    const adopted = this.adopt(answer.id, answer.token, answer.network, config);
    if (old) this.discard(old.id, old.token, old.training); // after the stream moved on
    if (old) announceReplaced(this.api, old, answer.id); // whoever watched it follows along
    await adopted;
    const warnings = answer.warnings || answer.network?.warnings || [];
    if (warnings.length) this.cb.onNotice?.("warning", "Note:", warnings.join(" "));
  }

  /**
   * A network this page replaced: its run is stopped, but it is kept (someone may be watching
   * it through a shared link, and the store keeps every network). Errors do not matter.
   */
  async discard(id, token, training = true) {
    if (training) await this.api.stop(id, token).catch(() => {});
  }

  async adopt(id, token, state, config) {
    this.id = id;
    this.token = token;
    this.api.token = token;
    this.readOnly = !token;
    if (token) saveSession(id, token);
    this.api.token = token;
    const view = Object.fromEntries(VIEW_KEYS.map((k) => [k, (config || this.config)[k]]));
    this.config = { ...fromSpec(state.spec, DEFAULTS), ...view };
    this.state = state;
    this.writeHash();
    this.cb.onConfig?.(this.config, state);
    this.cb.onState?.(state);
    this.follower.follow(this.api.eventsUrl(id, this.streamResolution(), true));
    const generation = this.generation;
    await Promise.all([
      this.api.data(id).then((d) => { if (generation === this.generation) { this.data = d; this.cb.onData?.(d); } }),
      this.refreshGrids(),
      this.refreshHistory(),
    ]).catch((err) => this.cb.onError?.(err, "Loading the network"));
  }

  /** Boundary resolution in progress frames (the neurons' thumbnails come at 50 x 50). */
  streamResolution() {
    return IDLE_RESOLUTION;
  }

  get training() {
    return this.state?.status === "training" || this.state?.status === "queued";
  }

  // -- following the stream ---------------------------------------------------------------

  snapshot(state) {
    if (state.id && state.id !== this.id) return;
    if (state.replaced_by) this.replaced({ id: this.id, by: state.replaced_by });
    this.state = state;
    this.cb.onState?.(state);
    this.refreshSoon();
  }

  /** The owner of the network shown moved on to network `by` (new data or shape): follow. */
  replaced({ id, by }) {
    if (!by || id !== this.id || by === this.id || this.followingTo === by) return;
    this.followReplacement(by);
  }

  async followReplacement(by) {
    this.followingTo = by;
    const generation = ++this.generation;
    try {
      const found = await latestNetwork(this.api, by, await this.api.get(by));
      if (generation !== this.generation) return;
      const saved = loadSession();
      const token = saved?.id === found.id ? saved.token : null;
      this.undo = [];
      await this.adopt(found.id, token, found.state, this.config);
      this.cb.onNotice?.("info", "The owner moved on to a new network:", "you follow it live.", { timeout: 5000 });
    } catch (err) {
      if (generation === this.generation) this.cb.onError?.(err, "Following the shared network");
    } finally {
      this.followingTo = null;
    }
  }

  progress(frame) {
    if (!this.state) return;
    this.state = {
      ...this.state,
      status: frame.status ?? "training",
      epoch: frame.epoch ?? this.state.epoch,
      iteration: frame.iteration ?? this.state.iteration,
      metrics: frame.metrics ?? this.state.metrics,
      layers: frame.layers ? frame.layers.map((l, k) => ({ ...this.state.layers[k], ...l })) : this.state.layers,
    };
    this.cb.onProgress?.(frame, this.state);
  }

  done(result) {
    if (this.state) {
      this.state = { ...this.state, status: "idle", epoch: result.epoch ?? this.state.epoch,
        iteration: result.iteration ?? this.state.iteration, last_run: result };
    }
    this.cb.onDone?.(result, this.state);
    this.refreshSoon();
    // The state after the run (final weights and metrics), in case the stream had no frame.
    this.reload();
  }

  async reload() {
    if (!this.id) return;
    const generation = this.generation;
    try {
      const state = await this.api.get(this.id);
      if (generation === this.generation && !(this.training && state.status !== "training")) {
        this.state = state;
        this.cb.onState?.(state);
      }
    } catch (err) {
      if (generation === this.generation) this.cb.onError?.(err, "Reading the network");
    }
  }

  refreshSoon() {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshGrids();
      this.refreshHistory();
    }, 30);
  }

  async refreshGrids() {
    if (!this.id) return;
    if (this.gridsInFlight) { this.gridsAgain = true; return; }
    this.gridsInFlight = true;
    const generation = this.generation;
    try {
      const grids = await this.api.boundary(this.id, IDLE_RESOLUTION, true);
      if (generation === this.generation) this.cb.onGrids?.(grids, this.state);
    } catch (err) {
      if (generation === this.generation) this.cb.onError?.(err, "Drawing the boundary");
    } finally {
      this.gridsInFlight = false;
      if (this.gridsAgain) { this.gridsAgain = false; this.refreshGrids(); }
    }
  }

  async refreshHistory() {
    if (!this.id || this.historyInFlight) return;
    const generation = this.generation;
    this.historyInFlight = true;
    try {
      const h = await this.api.history(this.id);
      if (generation === this.generation) this.cb.onHistory?.(h);
    } catch (err) {
      if (generation === this.generation) this.cb.onError?.(err, "Reading the loss history");
    } finally {
      this.historyInFlight = false;
    }
  }

  // -- changes from the controls ----------------------------------------------------------

  /** Apply a changed configuration: a new network for data and shapes, PATCH for the rest. */
  change(changes, { replace = false } = {}) {
    const next = replace ? { ...copyConfig(changes) } : { ...copyConfig(this.config), ...changes };
    const before = this.config;
    this.fixTask(before, next);
    this.fixRule(next, changes);
    if (this.readOnly && (dataKey(next) !== dataKey(before) || hyperKey(next) !== hyperKey(before))) {
      this.cb.onNotice?.("info", "Only its owner can change this network.", "Fork it to change your own copy.",
        { action: { label: "Fork", run: () => this.fork() } });
      this.cb.onConfig?.(this.config, this.state);
      return;
    }
    if (dataKey(next) !== dataKey(before) || this.draft) {
      this.config = next;
      this.writeHash();
      this.cb.onConfig?.(next, this.state);
      clearTimeout(this.createTimer);
      this.createTimer = setTimeout(() => this.create(next), 120);
      return;
    }
    const speedChanged = next.speed !== before.speed;
    this.config = next;
    this.writeHash();
    this.cb.onConfig?.(next, this.state);
    if (hyperKey(next) !== hyperKey(before)) this.patchFrom(before, next);
    if (speedChanged && this.training) this.restartRun();
  }

  taskOf(config) {
    if (config.dataset === "custom") return this.draftTask || this.data?.task || "classification";
    return this.catalog.datasets.find((d) => d.name === config.dataset)?.task || "classification";
  }

  /** Another kind of data (classification <-> regression): the output activation that fits. */
  fixTask(before, next) {
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

  /** Perceptron needs a single layer with a hard-limit output: reshape the network for it. */
  fixRule(next, changes) {
    if (next.rule !== "perceptron") return;
    const hardOut = ["hardlim", "hardlims"].includes(next.activations.at(-1));
    if (next.hidden.length || !hardOut) {
      next.hidden = [];
      next.activations = [hardOut ? next.activations.at(-1) : "hardlim"];
      if (changes.rule) {
        next.batch = "stochastic";
        this.cb.onNotice?.("info", "Perceptron rule:",
          "it trains a single layer of hard-limit neurons, one sample at a time, so the hidden layers were removed.");
      }
    }
  }

  async patchFrom(before, next) {
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
      const state = await this.api.patch(this.id, body);
      if (state?.spec) {
        this.state = { ...state, status: this.training && state.status === "idle" ? this.state.status : state.status };
        this.cb.onState?.(this.state);
        if (state.warnings?.length) this.cb.onNotice?.("warning", "Note:", state.warnings.join(" "));
      }
    } catch (err) {
      this.cb.onError?.(err, "Changing the settings");
      this.config = { ...this.config, ...fromSpec(this.state.spec, this.config) };
      this.writeHash();
      this.cb.onConfig?.(this.config, this.state);
    }
  }

  // -- training ---------------------------------------------------------------------------

  async togglePlay() {
    if (this.readOnly || !this.id || this.draft) return;
    if (this.training) await this.pause();
    else await this.play();
  }

  async play() {
    const epochs = this.catalog.limits.epochs_per_run || 100000;
    const body = { epochs, max_epochs_per_second: this.config.speed || null };
    this.setStatus("training");
    try {
      await this.api.train(this.id, body);
    } catch (err) {
      this.setStatus("idle");
      this.cb.onError?.(err, "Starting the training");
    }
  }

  async pause() {
    this.setStatus("idle");
    try {
      const state = await this.api.stop(this.id);
      if (state?.spec) { this.state = state; this.cb.onState?.(state); }
    } catch (err) {
      this.cb.onError?.(err, "Stopping the training");
      this.reload();
    }
  }

  async restartRun() {
    this.quietStop = true;
    try {
      await this.api.stop(this.id);
      await this.play();
    } catch (err) {
      this.cb.onError?.(err, "Changing the speed");
    }
  }

  setStatus(status) {
    if (!this.state) return;
    this.state = { ...this.state, status };
    this.cb.onState?.(this.state);
  }

  async step(what) {
    if (this.readOnly || !this.id || this.training || this.draft) return;
    if (this.stepping) return;
    this.stepping = true;
    try {
      const state = await this.api.step(this.id, what);
      this.state = state;
      this.cb.onState?.(state);
      this.refreshSoon();
    } catch (err) {
      this.cb.onError?.(err, what.epochs ? "Stepping one epoch" : "Stepping one iteration");
    } finally {
      this.stepping = false;
    }
  }

  async reset() {
    if (this.readOnly || !this.id || this.draft) return;
    try {
      if (this.training) { this.quietStop = true; await this.api.stop(this.id); }
      const seed = Math.floor(Math.random() * 100000);
      const state = await this.api.reset(this.id, seed);
      this.state = state;
      this.config = { ...this.config, seed: state.spec?.init?.seed ?? seed };
      this.undo = [];
      this.writeHash();
      this.cb.onConfig?.(this.config, state);
      this.cb.onState?.(state);
      this.cb.onHistory?.(null);
      this.refreshSoon();
    } catch (err) {
      this.cb.onError?.(err, "Resetting the network");
    }
  }

  // -- editing parameters -----------------------------------------------------------------

  currentLayers() {
    return this.state.layers.map((l) => ({ W: l.W.map((r) => [...r]), b: [...l.b] }));
  }

  async edit({ layer, kind, i, j, value, label }) {
    if (this.readOnly || !this.state) return;
    const before = this.currentLayers();
    const after = this.currentLayers();
    const old = kind === "W" ? after[layer].W[i][j] : after[layer].b[i];
    if (kind === "W") after[layer].W[i][j] = value;
    else after[layer].b[i] = value;
    if (await this.putLayers(after, "Setting the parameter")) {
      this.undo.push({ layers: before, label });
      this.cb.onNotice?.("info", `${label} = ${value}`, `(was ${Number(old.toPrecision(6))}).`, {
        action: { label: "Undo", run: () => this.undoEdit() }, timeout: 10000 });
    }
  }

  async undoEdit() {
    const last = this.undo.pop();
    if (!last) return;
    if (await this.putLayers(last.layers, "Undoing the edit")) {
      this.cb.onNotice?.("info", `Undone: ${last.label} is back.`, "", {
        action: this.undo.length ? { label: "Undo more", run: () => this.undoEdit() } : null });
    } else {
      this.undo.push(last);
    }
  }

  async putLayers(layers, what) {
    try {
      let state;
      try {
        state = await this.api.setParameters(this.id, layers);
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 409 && this.training)) throw err;
        this.quietStop = true;
        await this.api.stop(this.id); // the server does not take weights mid-run: pause first
        state = await this.api.setParameters(this.id, layers);
      }
      this.state = state;
      this.cb.onState?.(state);
      this.refreshSoon();
      return true;
    } catch (err) {
      this.cb.onError?.(err, what);
      return false;
    }
  }

  // -- the user's points ------------------------------------------------------------------

  allPoints() {
    if (this.draft) return this.draft.map((p) => [...p]);
    const d = this.data;
    if (!d) return [];
    const rows = [];
    for (const set of [d.train, d.test]) {
      set?.x.forEach((x, i) => rows.push([x[0], x[1], set.y[i]]));
    }
    return rows;
  }

  setPoints(points, ratio = null) {
    const task = this.draft ? this.draftTask : this.data?.task;
    const labels = new Set(points.map((p) => p[2]));
    const enough = points.length >= 2 && (task === "regression" || labels.size >= 2);
    const limit = this.catalog.limits.samples || 10000;
    if (points.length > limit) {
      this.cb.onNotice?.("error", "Too many points:", `the server takes at most ${limit}.`);
      return;
    }
    if (!enough) {
      this.draft = points;
      this.draftTask = task;
      this.cb.onDraft?.(points, task);
      this.cb.onNotice?.("info", "Add points:", task === "regression"
        ? "at least two (left-click on the plot)."
        : "at least one of each of two classes (pick a class, then click on the plot).");
      return;
    }
    // Points drawn from scratch (or on the logic sets) are all for training.
    const allTraining = this.draft || ["and", "or", "xor"].includes(this.config.dataset);
    this.draft = null;
    this.change({ dataset: "custom", points, ratio: ratio ?? (allTraining ? 1 : this.config.ratio) });
  }

  addPoint(x1, x2, label) {
    if (this.readOnly) return;
    const task = this.draft ? this.draftTask : this.data?.task;
    const value = task === "regression" ? (label === 0 ? -1 : 1) : label;
    this.setPoints([...this.allPoints(), [round(x1), round(x2), value]]);
  }

  removePoint({ point }) {
    if (this.readOnly) return;
    const points = this.allPoints();
    const i = points.findIndex((p) => p[0] === point[0] && p[1] === point[1]);
    if (i >= 0) points.splice(i, 1);
    this.setPoints(points);
  }

  clearPoints() {
    if (this.readOnly) return;
    this.draftTask = this.data?.task === "regression" ? "regression" : "classification";
    this.draft = [];
    this.cb.onDraft?.([], this.draftTask);
    this.cb.onNotice?.("info", "Cleared.", "Pick a class and click on the plot to add points (at least one of each of two classes).");
  }

  useCustom() {
    if (this.config.dataset === "custom") return;
    this.setPoints(this.allPoints(), this.config.ratio);
  }

  regenerate() {
    this.change({ dseed: Math.floor(Math.random() * 100000) });
  }

  /** The self-contained document of this network (spec, data, weights, history). */
  async exportDocument() {
    try {
      return await this.api.exportDocument(this.id);
    } catch (err) {
      this.cb.onError?.(err, "Saving the network");
      return null;
    }
  }

  async importDocument(doc) {
    try {
      const answer = await this.api.importDocument(doc);
      const old = this.token ? { id: this.id, token: this.token } : null;
      ++this.generation;
      this.undo = [];
      this.draft = null;
      this.cb.onDraft?.(null);
      await this.adopt(answer.id, answer.token, answer.network, this.config);
      announceReplaced(this.api, old, answer.id); // whoever watched the old one follows along
      this.cb.onNotice?.("success", "Opened.", `Epoch ${answer.network.epoch}: a copy of your own.`);
    } catch (err) {
      this.cb.onError?.(err, "Opening the network");
    }
  }

  /** The link that lets others follow this network live (read-only). */
  watchLink() {
    return `${location.origin}${location.pathname}#watch=${this.id}`;
  }

  async fork() {
    try {
      const answer = await this.api.fork(this.id);
      ++this.generation;
      this.undo = [];
      await this.adopt(answer.id, answer.token, answer.network, this.config);
      this.cb.onNotice?.("success", "Forked.", "This copy is yours: change it as you like.");
    } catch (err) {
      this.cb.onError?.(err, "Forking the network");
    }
  }
}

const round = (v) => Math.round(v * 1000) / 1000;

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
