// Watching someone else's network (a #watch=<id> link): following it when its owner moves on
// to a new network (the `replaced` event, or `replaced_by` in its state), telling its viewers
// so from the owner's page (POST /replaced), and the watcher's view: the "watching" bar with
// its Fork button, every write control disabled or hidden, messages meant for a viewer.

import { datasetLabel } from "./catalog.js";

const MAX_HOPS = 32;

/**
 * The network a link leads to now: from `id` (whose state is known) along `replaced_by` to
 * the newest one. A link from the start of a lesson still shows what the teacher shows.
 */
export async function latestNetwork(api, id, state) {
  const seen = new Set([id]);
  while (state?.replaced_by && !seen.has(state.replaced_by) && seen.size < MAX_HOPS) {
    const next = state.replaced_by;
    try {
      state = await api.get(next);
    } catch {
      break; // gone (deleted): stay on the last one there is
    }
    id = next;
    seen.add(id);
  }
  return { id, state };
}

/**
 * The owner's page made network `by` to replace `old` (new data or a new shape): tell the
 * viewers of `old` to follow. Needs the old token; a failure only means nobody follows.
 */
export function announceReplaced(api, old, by) {
  if (!old?.id || !old.token || !by || old.id === by) return Promise.resolve(null);
  return api.replaced(old.id, by, old.token).catch(() => null);
}

/** The watcher's view of the page: the bar, and the controls the classes cannot reach. */
export class WatchView {
  constructor({ bar, title }) {
    this.bar = bar;
    this.title = title;
    this.watching = null;
  }

  /** Called whenever the configuration is shown: read-only or not, and what the network is. */
  update(readOnly, config, state, catalog) {
    if (this.watching !== readOnly) {
      this.watching = readOnly;
      document.body.classList.toggle("watching", readOnly);
      if (this.bar) this.bar.hidden = !readOnly;
    }
    // The dataset picker stays visible (it shows which data this is) but cannot be used.
    for (const b of document.querySelectorAll("#datasets .dataset")) {
      b.disabled = readOnly;
      b.setAttribute("aria-disabled", String(readOnly));
    }
    for (const b of document.querySelectorAll("#class-picker button")) b.disabled = readOnly;
    for (const id of ["clear-points", "csv", "import"]) {
      const e = document.getElementById(id);
      if (e) e.disabled = readOnly;
    }
    if (this.title && config) this.title.textContent = describe(config, state, catalog);
  }

  /** A run's end, told to a viewer: nothing to press (no token), just what happened. */
  runEnded(banner, result, state) {
    const at = result.epoch ?? state?.epoch ?? 0;
    const text = result.message || "";
    const messages = {
      converged: ["success", "Converged.", text || `At epoch ${at}.`],
      diverged: ["error", "The run diverged.", text],
      stopped: ["info", `The owner paused at epoch ${at}.`, ""],
      finished: ["info", "The run finished.", text || `At epoch ${at}.`],
      not_converged: ["warning", "Not converged.", text],
      cannot_learn: ["warning", "Cannot learn.", text],
      deleted: ["warning", "The owner deleted this network.", "Fork it next time to keep a copy."],
    };
    const [kind, title, body] = messages[result.reason] || ["info", `The run ended (${result.reason}).`, text];
    banner.show(kind, title, body, { timeout: kind === "error" || kind === "warning" ? 12000 : 5000 });
  }
}

/** "XOR data · 2–3–1 network · backprop": what the watched network is, in a few words. */
function describe(config, state, catalog) {
  const sizes = (state?.sizes || [config.features.length, ...config.hidden, 1]).join("–");
  const rule = config.rule === "perceptron" ? "perceptron rule" : "backprop";
  const data = config.dataset === "custom" ? "Own points" : datasetLabel(config.dataset, catalog);
  return `${data} data · ${sizes} network · ${rule}`;
}
