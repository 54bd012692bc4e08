// The teaching panel (issue 6): lessons, the backprop lab, the perceptron rule, the truth table
// and batch vs stochastic vs mini-batch. It sits in place of the data column while open, and
// subscribes to the page's store (the views draw; the session keeps owning the network, and
// the lab's half-done batch holds back whole steps through a guard declared to the store).
import { BackpropLab } from "./lab.js";
import { GraphMarks } from "./graphmarks.js";
import { PerceptronView } from "./perceptron.js";
import { TruthTable } from "./truthtable.js";
import { CompareView } from "./compare.js";
import { SurfaceView } from "./surface.js";
import { LESSONS } from "./lessons.js";
import { DEFAULTS, copyConfig } from "./state.js";
import { el } from "./dom.js";

const TABS = [
  ["lessons", "Lessons"],
  ["lab", "Backprop"],
  ["perceptron", "Perceptron"],
  ["truth", "Truth table"],
  ["compare", "Batch modes"],
  ["surface", "Error surface"],
];
const KEY = "nn-playground.teach";
const VIEW_KEYS = ["speed", "showTest", "discretise", "logScale"];

function load() {
  try { return JSON.parse(localStorage.getItem(KEY) || "{}") || {}; } catch { return {}; }
}

export class Teaching {
  /** {api, session, graph, banner, host (the panel), toggle (the top bar's button)} */
  constructor({ api, session, graph, banner, host, toggle }) {
    this.api = api;
    this.session = session;
    this.banner = banner;
    this.host = host;
    this.toggleBtn = toggle;
    this.lesson = null;
    this.marks = new GraphMarks(graph);
    const saved = load();
    this.tab = TABS.some(([t]) => t === saved.tab) ? saved.tab : "lessons";
    this.build();
    const ctx = {
      api, session, marks: this.marks,
      onError: (err, what) => banner.error(err, what),
    };
    this.lab = new BackpropLab(this.panels.lab, ctx);
    this.perceptron = new PerceptronView(this.panels.perceptron, ctx);
    this.truth = new TruthTable(this.panels.truth, ctx);
    this.compare = new CompareView(this.panels.compare, ctx);
    this.surface = new SurfaceView(this.panels.surface, ctx);
    this.hook();
    if (toggle && !toggle.querySelector("svg")) {
      // A mortarboard, drawn here (no icon font, no outside resource).
      toggle.insertAdjacentHTML("afterbegin", '<svg viewBox="0 0 24 24" aria-hidden="true">'
        + '<path d="M12 3 1 9l11 6 9-4.9V17h2V9L12 3zm-6 9.2v4L12 20l6-3.8v-4L12 15.5 6 12.2z"/></svg>');
    }
    toggle?.addEventListener("click", () => (this.isOpen ? this.close() : this.open()));
    this.select(this.tab);
    if (saved.open) this.open(); else this.close();
  }

  // -- the panel ----------------------------------------------------------------------------

  build() {
    const host = this.host;
    host.replaceChildren();
    host.classList.add("teach");
    const head = el("div", { class: "teach-head" });
    head.append(el("h2", { id: "teach-title", text: "Learn" }));
    const close = el("button", { class: "banner-close", type: "button", "aria-label": "Close the teaching panel", title: "Close (the data column comes back)", text: "×" });
    close.addEventListener("click", () => this.close());
    this.tabs = el("div", { class: "teach-tabs", role: "tablist", "aria-label": "Teaching views" });
    this.tabButtons = {};
    this.panels = {};
    const body = el("div", { class: "teach-body" });
    for (const [id, label] of TABS) {
      const b = el("button", { class: "teach-tab", type: "button", role: "tab", id: `teach-tab-${id}`,
        "aria-controls": `teach-panel-${id}`, "data-testid": `teach-tab-${id}`, text: label });
      b.addEventListener("click", () => this.select(id));
      b.addEventListener("keydown", (e) => {
        // Arrows move between the tabs (and must not step the network: the page's keys).
        if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(e.key)) return;
        e.preventDefault();
        e.stopPropagation();
        const i = TABS.findIndex(([t]) => t === id);
        const j = e.key === "Home" ? 0 : e.key === "End" ? TABS.length - 1
          : (i + (e.key === "ArrowRight" ? 1 : -1) + TABS.length) % TABS.length;
        this.select(TABS[j][0]);
        this.tabButtons[TABS[j][0]].focus();
      });
      this.tabs.append(b);
      this.tabButtons[id] = b;
      const panel = el("div", { class: "teach-panel", role: "tabpanel", id: `teach-panel-${id}`,
        "aria-labelledby": `teach-tab-${id}`, hidden: true });
      this.panels[id] = panel;
      body.append(panel);
    }
    head.append(close);
    this.card = el("div", { class: "lesson-card", hidden: true, "data-testid": "lesson-card" });
    host.append(head, this.tabs, this.card, body);
    this.buildLessons();
  }

  buildLessons() {
    const panel = this.panels.lessons;
    panel.append(el("p", { class: "teach-intro", text: "Each lesson sets up the page in one click and says what to look at. They follow the lecture: single-layer perceptrons, the perceptron rule, then multi-layer networks trained by backpropagation." }));
    const list = el("ol", { class: "lesson-list" });
    this.lessonItems = {};
    LESSONS.forEach((lesson, i) => {
      const b = el("button", { class: "lesson-btn", type: "button", "data-testid": `lesson-${lesson.id}` },
        el("span", { class: "lesson-num", text: String(i + 1) }),
        el("span", { class: "lesson-main" }, el("span", { class: "lesson-title", text: lesson.title }),
          el("span", { class: "lesson-teaser", text: lesson.teaser })));
      b.addEventListener("click", () => this.applyLesson(lesson));
      const item = el("li", {}, b);
      this.lessonItems[lesson.id] = item;
      list.append(item);
    });
    panel.append(list);
  }

  get isOpen() {
    return document.body.classList.contains("teach-open");
  }

  open(tab = null) {
    this.host.hidden = false;
    document.body.classList.add("teach-open");
    this.toggleBtn?.setAttribute("aria-expanded", "true");
    if (tab) this.select(tab);
    this.save();
    this.visible();
  }

  close() {
    this.host.hidden = true;
    document.body.classList.remove("teach-open");
    this.toggleBtn?.setAttribute("aria-expanded", "false");
    this.marks.clear();
    this.surface?.hidden();
    this.save();
  }

  select(tab) {
    this.tab = tab;
    for (const [id] of TABS) {
      const on = id === tab;
      this.tabButtons[id].setAttribute("aria-selected", String(on));
      this.tabButtons[id].tabIndex = on ? 0 : -1;
      this.panels[id].hidden = !on;
    }
    this.host.dataset.tab = tab;
    if (tab !== "surface") this.surface?.hidden();
    if (tab !== "lab") this.marks.clear();
    else if (this.lab?.phase !== "idle") this.lab?.showMarks();
    this.showCard();
    this.save();
    this.visible();
  }

  /** A view just became visible: draw what it could not while hidden. */
  visible() {
    if (!this.isOpen) return;
    requestAnimationFrame(() => {
      if (this.tab === "truth") this.truth?.shown();
      if (this.tab === "lab") this.lab?.fit();
      if (this.tab === "perceptron") this.perceptron?.draw();
      if (this.tab === "compare") this.compare?.drawAll();
      if (this.tab === "surface") this.surface?.shown();
    });
  }

  save() {
    try { localStorage.setItem(KEY, JSON.stringify({ open: this.isOpen, tab: this.tab })); } catch { /* private mode */ }
  }

  // -- lessons ------------------------------------------------------------------------------

  showCard() {
    const l = this.lesson;
    const card = this.card;
    card.hidden = !l || this.tab === "lessons";
    for (const [id, item] of Object.entries(this.lessonItems)) {
      item.classList.toggle("on", id === l?.id);
      const old = item.querySelector(".lesson-text");
      old?.remove();
      if (id === l?.id) item.append(el("p", { class: "lesson-text", text: l.text }));
    }
    if (!l) return;
    card.replaceChildren();
    const i = LESSONS.indexOf(l);
    const all = el("button", { class: "link-btn", type: "button", text: "All lessons" });
    all.addEventListener("click", () => this.select("lessons"));
    const next = LESSONS[i + 1];
    const nav = el("div", { class: "lesson-nav" }, all);
    if (next) {
      const b = el("button", { class: "link-btn", type: "button", text: `Next: ${next.title} ›` });
      b.addEventListener("click", () => this.applyLesson(next));
      nav.append(b);
    }
    card.append(el("div", { class: "lesson-card-title" }, el("span", { class: "lesson-num", text: String(i + 1) }), l.title),
      el("p", { text: l.text }), nav);
  }

  async applyLesson(lesson) {
    if (this.applying) return;
    this.applying = true;
    this.lesson = lesson;
    this.host.dataset.lesson = lesson.id;
    delete this.host.dataset.lessonReady;
    this.showCard();
    const s = this.session;
    try {
      if (s.training && s.token) await s.pause({ quiet: true });
      const view = Object.fromEntries(VIEW_KEYS.map((k) => [k, s.config[k]]));
      const config = { ...copyConfig(DEFAULTS), ...view, ...copyConfig(lesson.config), points: null };
      const before = s.id;
      await s.create(config);
      if (s.id === before) return; // the session said what went wrong
      if (lesson.layers && !(await s.putLayers(lesson.layers, "Setting the lesson's weights"))) return;
      if (lesson.given) this.lab.setGiven(lesson.given.x, lesson.given.y, lesson.given.label);
      else this.lab.clearGiven();
      this.select(lesson.tab || this.tab);
      if (lesson.tab) this.open();
      this.host.dataset.lessonReady = lesson.id;
    } finally {
      this.applying = false;
    }
  }

  // -- the session's news ---------------------------------------------------------------------

  hook() {
    const session = this.session;
    // A batch half done in the lab: whole steps and runs wait (the server would answer 409).
    session.guard((action, { state, token }) => {
      const next = state?.next_step;
      if (!next || next === "forward" || !token || session.training) return null;
      return { title: "A batch is half done:", text: `press ${next.charAt(0).toUpperCase() + next.slice(1)} `
        + "in the backprop lab first (forward, backward and update go in that order).",
      options: { action: { label: "Show the lab", run: () => this.open("lab") }, timeout: 8000 } };
    });
    session.on("state", (state) => {
      this.lab.onState(state);
      this.perceptron.onState(state);
      this.truth.onState(state);
      this.compare.onState(state);
      this.surface.onState(state);
    });
    session.on("lab", (step) => this.lab.onLab(step));
    session.on("data", (data) => {
      if (!data) return;
      this.lab.onData(data);
      this.perceptron.onData(data);
      this.truth.onData(data);
      this.compare.showFacts();
    });
    session.on("frame", (frame, state) => {
      this.perceptron.onFrame(frame, state);
      this.truth.onFrame(frame, state);
    });
    session.on("done", (result, state) => {
      this.perceptron.onDone(result, state);
      // The perceptron view says it in place: no second message over it.
      if (this.isOpen && this.tab === "perceptron" && ["converged", "not_converged"].includes(result.reason)) {
        this.banner.hide();
      }
      this.truth.onState(state);
      this.lab.onState(state);
      this.surface.onState(state); // a run's end: the surface follows the trained network
    });
  }
}
