// The teacher's view of the class: the forks of the page's own network as a live grid (polled
// while open), best test loss first, each with its name, epoch, losses and a thumbnail of its
// boundary; a challenge the grid marks; and "Show on projector", which puts a student's network
// in the place of the teacher's, its viewers with it (Session.project / backHome).
import { el } from "./dom.js";
import { decodeGrid, drawClasses, drawHeatmap } from "./heatmap.js";
import { outputMapper } from "./colors.js";
import { fmt } from "./graph.js";

const POLL_MS = 3000;
const THUMBNAIL_PX = 96;

/** The loss a fork is ranked and judged by: the test loss, or with no test set the training loss. */
export function rankLoss(fork) {
  return fork.test_loss ?? fork.train_loss ?? null;
}

/** Forks best first (lowest loss; none last). */
export function ranked(forks) {
  const key = (f) => rankLoss(f) ?? Infinity;
  return [...forks].sort((a, b) => key(a) - key(b));
}

/** Whether a fork meets the challenge {loss, neurons} (a bound left empty holds). */
export function meets(fork, { loss, neurons }) {
  const l = rankLoss(fork);
  return (loss == null || (l != null && l < loss)) && (neurons == null || fork.hidden_neurons <= neurons);
}

// The teacher's challenge lasts across reloads (it is the lesson's, not the network's).
const CHALLENGE_KEY = "nn-playground.challenge";

function savedChallenge() {
  try { return JSON.parse(localStorage.getItem(CHALLENGE_KEY) || "{}") || {}; } catch { return {}; }
}

function saveChallenge(loss, neurons) {
  try { localStorage.setItem(CHALLENGE_KEY, JSON.stringify({ loss, neurons })); } catch { /* private mode */ }
}

export class ClassView {
  /** session: the page's Session (read, and project / backHome); dialog: an empty <dialog>. */
  constructor({ api, session, dialog, button }) {
    this.api = api;
    this.session = session;
    this.dialog = dialog;
    this.button = button;
    this.timer = null;
    this.forks = [];
    this.polling = false;
    this.build();
    button.addEventListener("click", () => this.open());
    dialog.addEventListener("close", () => this.stop());
  }

  build() {
    const saved = savedChallenge();
    const input = (id, label, attrs) => {
      const field = el("input", { id, type: "number", inputmode: "decimal", ...attrs });
      field.addEventListener("input", () => { saveChallenge(loss.value, neurons.value); this.render(); });
      return [el("label", { for: id, text: label }), field];
    };
    const [lossLabel, loss] = input("challenge-loss", "Test loss below", { min: "0", step: "0.01", value: saved.loss ?? "0.1" });
    const [neuronsLabel, neurons] = input("challenge-neurons", "at most", { min: "0", step: "1", value: saved.neurons ?? "4" });
    this.challengeFields = { loss, neurons };
    this.count = el("span", { class: "class-count", "data-testid": "class-count" });
    this.met = el("span", { class: "challenge-met", "data-testid": "challenge-met" });
    this.back = el("button", { type: "button", class: "btn primary small", "data-testid": "back-home", text: "Back to my network" });
    this.back.addEventListener("click", () => this.session.backHome());
    this.showing = el("span", { class: "projecting-name" });
    this.projectingBar = el("p", { class: "projecting", hidden: true },
      el("span", { text: "On the projector: " }), this.showing, this.back);
    this.status = el("p", { class: "hint class-status", role: "status" });
    this.grid = el("ol", { class: "class-grid", "data-testid": "class-grid" });
    const close = el("button", { type: "button", class: "class-close", "aria-label": "Close the class view", text: "×" });
    close.addEventListener("click", () => this.dialog.close());
    this.dialog.append(
      el("div", { class: "class-head" },
        el("h2", { id: "class-title", text: "The class" }), this.count, close),
      el("form", { class: "challenge", "aria-label": "Challenge" },
        el("strong", { text: "Challenge:" }), lossLabel, loss, neuronsLabel, neurons,
        el("span", { text: "hidden neurons" }), this.met),
      this.projectingBar, this.status, this.grid);
    this.dialog.querySelector("form").addEventListener("submit", (e) => e.preventDefault());
  }

  /** The challenge as set: {loss, neurons}, null for a bound left empty. */
  get challenge() {
    const value = (field) => (field.value.trim() === "" || !Number.isFinite(field.valueAsNumber) ? null : field.valueAsNumber);
    return { loss: value(this.challengeFields.loss), neurons: value(this.challengeFields.neurons) };
  }

  /** The page's network changed hands or place: the button is the owner's, and so is the bar.
   * A student's own fork (it has a parent) has no class of its own to show: no button there. */
  showOwner() {
    const { home, projecting, state } = this.session;
    this.button.hidden = !home || (!projecting && !!state?.parent);
    this.projectingBar.hidden = !projecting;
    if (projecting) {
      const shown = this.forks.find((f) => f.id === projecting);
      this.showing.textContent = shown ? nameOf(shown) : "a student's network";
    }
    this.render();
  }

  open() {
    if (!this.session.home) return;
    this.showOwner();
    if (!this.dialog.open) this.dialog.showModal();
    this.poll();
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
  }

  async poll() {
    this.stop();
    const home = this.session.home;
    if (!home || !this.dialog.open || this.polling) return;
    this.polling = true;
    try {
      const answer = await this.api.forks(home.id, home.token);
      this.forks = answer.forks;
      this.status.textContent = "";
    } catch (err) {
      this.status.textContent = err.message;
    } finally {
      this.polling = false;
    }
    this.showOwner();
    if (this.dialog.open) this.timer = setTimeout(() => this.poll(), POLL_MS);
  }

  render() {
    const challenge = this.challenge;
    const forks = ranked(this.forks);
    const met = forks.filter((f) => meets(f, challenge)).length;
    this.count.textContent = `${forks.length} fork${forks.length === 1 ? "" : "s"}`;
    this.met.textContent = forks.length ? `${met} of ${forks.length} met it` : "";
    if (!forks.length && !this.status.textContent) {
      this.status.textContent = "No forks yet: students open the Share live view link and press Fork it.";
    }
    this.grid.replaceChildren(...forks.map((f, i) => this.card(f, i + 1, meets(f, challenge))));
  }

  card(fork, place, met) {
    const canvas = el("canvas", { class: "class-thumb", width: THUMBNAIL_PX, height: THUMBNAIL_PX, "aria-hidden": "true" });
    if (fork.thumbnail) paint(canvas, fork);
    const shown = fork.id === this.session.projecting;
    const show = el("button", { type: "button", class: "btn small", "data-testid": "show-on-projector",
      text: shown ? "On the projector" : "Show on projector", disabled: shown });
    show.addEventListener("click", () => { this.dialog.close(); this.session.project(fork.id, nameOf(fork)); });
    const losses = fork.test_loss != null
      ? [el("span", { text: `test ${fmt(fork.test_loss)}` }), " · ", el("span", { text: `train ${fmt(fork.train_loss)}` })]
      : [el("span", { text: `loss ${fmt(fork.train_loss)}` })];
    return el("li", { class: `class-card${met ? " met" : ""}${shown ? " shown" : ""}`, "data-testid": "class-card", "data-id": fork.id },
      canvas,
      el("div", { class: "class-card-text" },
        el("strong", { class: "class-name", text: `${place}. ${nameOf(fork)}` }),
        el("span", { text: `epoch ${fork.epoch.toLocaleString("en")}${fork.status === "training" ? " (training)" : ""}`
          + ` · ${fork.hidden_neurons} hidden neuron${fork.hidden_neurons === 1 ? "" : "s"}` }),
        el("span", { class: "class-loss" }, ...losses),
        met ? el("span", { class: "badge", "data-testid": "challenge-badge", text: "✓ challenge met" }) : null,
        show));
  }
}

function nameOf(fork) {
  return fork.name || `Unnamed ${fork.id.slice(0, 6)}`;
}

function paint(canvas, fork) {
  const grid = decodeGrid(fork.thumbnail.output);
  if (grid.p > 1) drawClasses(canvas, grid, { low: fork.targets?.low ?? 0 });
  else drawHeatmap(canvas, grid.values, grid.rows, grid.cols, { mapper: outputMapper(fork) });
}
