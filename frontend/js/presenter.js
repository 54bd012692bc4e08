// Presenter mode and hidden controls, both kept in the URL hash next to the configuration:
//   #dataset=…&presenter=1&hide=lr,reg
// Presenter mode is for a projector: large type, thick lines, the advanced controls hidden.
// `hide=` lists controls a teacher hides from whoever opens the link (like the Playground's
// `_hide` options); the Share dialog has a small picker for it (HidePicker).
import { el } from "./dom.js";

/**
 * How large the drawings are: `text` scales what the canvases draw (text, lines, points:
 * the boundary and the loss chart), `line` the width of the graph's weight lines.
 */
export const look = { text: 1, line: 1 };

const PRESENTER_LOOK = { text: 1.45, line: 1.9 };

/** The controls a link can hide: [name in the URL, label in the Share dialog]. */
export const HIDEABLE = [
  ["datasets", "Dataset picker"],
  ["data", "Data sliders"],
  ["points", "Your points"],
  ["files", "Save, open, export"],
  ["features", "Unused input features"],
  ["shape", "Layer and neuron buttons"],
  ["lr", "Learning rate"],
  ["batch", "Batch mode"],
  ["reg", "Regularization"],
  ["rule", "Rule"],
  ["speed", "Speed"],
  ["reset", "Reset"],
  ["step", "Step buttons"],
  ["chart", "Loss chart"],
  ["options", "Output options"],
  ["share", "Share, presenter mode"],
  ["keys", "Keyboard help"],
];
const NAMES = new Set(HIDEABLE.map(([n]) => n));

/** What presenter mode hides on its own (the advanced controls). */
export const PRESENTER_HIDES = ["points", "files", "reg", "keys"];

/** {presenter, hide} from a hash. */
export function readView(hash) {
  const q = new URLSearchParams((hash || "").replace(/^#/, ""));
  const hide = (q.get("hide") || "").split(",").map((s) => s.trim()).filter((s) => NAMES.has(s));
  return { presenter: q.get("presenter") === "1", hide: [...new Set(hide)] };
}

/** The hash fragment (to append) that keeps {presenter, hide}: "&presenter=1&hide=a,b". */
export function viewHash({ presenter = false, hide = [] } = {}) {
  return `${presenter ? "&presenter=1" : ""}${hide.length ? `&hide=${hide.join(",")}` : ""}`;
}

export class Presenter {
  /**
   * button: the toggle; onChange(view) after the page's look changed (redraw the views);
   * onToggle(view) after the user switched presenter mode (write the URL).
   */
  constructor({ button, onChange, onToggle } = {}) {
    this.button = button;
    this.onChange = onChange;
    this.onToggle = onToggle;
    this.view = { presenter: false, hide: [] };
    button?.addEventListener("click", () => this.toggle());
    window.addEventListener("hashchange", () => this.fromUrl());
    this.fromUrl();
  }

  fromUrl() {
    const v = readView(location.hash);
    if (v.presenter !== this.view.presenter || v.hide.join() !== this.view.hide.join()) this.apply(v);
  }

  apply(view) {
    this.view = { presenter: !!view.presenter, hide: [...(view.hide || [])] };
    const root = document.documentElement;
    const body = document.body;
    root.classList.toggle("presenter", this.view.presenter);
    for (const [name] of HIDEABLE) {
      const hidden = this.view.hide.includes(name) || (this.view.presenter && PRESENTER_HIDES.includes(name));
      body.classList.toggle(`hide-${name}`, hidden);
    }
    // Every part of the data column hidden: the column goes, the others get its room.
    body.classList.toggle("hide-data-column",
      ["datasets", "data", "points", "files"].every((n) => body.classList.contains(`hide-${n}`)));
    Object.assign(look, this.view.presenter ? PRESENTER_LOOK : { text: 1, line: 1 });
    if (this.button) {
      this.button.setAttribute("aria-pressed", String(this.view.presenter));
      this.button.textContent = this.view.presenter ? "Exit presenter mode" : "Presenter mode";
    }
    this.onChange?.(this.view);
  }

  toggle() {
    this.apply({ ...this.view, presenter: !this.view.presenter });
    this.onToggle?.(this.view);
  }

  /** What the page's URL keeps besides the network (appended to its hash). */
  hashExtras() {
    return viewHash(this.view);
  }
}

/**
 * The Share dialog's options for the students' link: follow live or start from a copy of
 * the setup, presenter mode, and the controls to hide. onChange() when any of them changes.
 */
export class HidePicker {
  constructor(host, { onChange } = {}) {
    this.host = host;
    this.onChange = onChange;
    host.replaceChildren();
    host.classList.add("share-options");
    const details = el("details");
    details.append(el("summary", { text: "Options: follow or copy, presenter mode, controls to hide" }));
    const body = el("div", { class: "share-options-body" });
    details.append(body);
    host.append(details);
    this.details = details;

    const kind = el("fieldset", { class: "share-kind" });
    kind.append(el("legend", { text: "The students' link" }));
    this.kindInputs = [
      ["watch", "Follows this network live (read-only; they can fork it)"],
      ["copy", "Starts each student on a copy of this setup"],
    ].map(([value, text], i) => {
      const input = el("input", { type: "radio", name: "share-kind", value });
      input.checked = i === 0;
      input.dataset.testid = `share-kind-${value}`;
      input.addEventListener("change", () => this.onChange?.());
      kind.append(label(input, text));
      return input;
    });

    this.presenterInput = el("input", { type: "checkbox", id: "share-presenter" });
    this.presenterInput.addEventListener("change", () => this.onChange?.());

    const hide = el("fieldset", { class: "share-hide" });
    hide.append(el("legend", { text: "Hide for the students" }));
    const grid = el("div", { class: "share-hide-grid" });
    this.hideInputs = HIDEABLE.map(([name, text]) => {
      const input = el("input", { type: "checkbox", value: name });
      input.dataset.hide = name;
      input.addEventListener("change", () => this.onChange?.());
      grid.append(label(input, text));
      return input;
    });
    hide.append(grid);
    body.append(kind, label(this.presenterInput, "Open in presenter mode (large type)"), hide);
  }

  /** Start from the page's own view (what it hides now). */
  set({ presenter = false, hide = [] } = {}) {
    this.presenterInput.checked = presenter;
    for (const input of this.hideInputs) input.checked = hide.includes(input.value);
  }

  get kind() {
    return this.kindInputs.find((i) => i.checked)?.value || "watch";
  }

  get view() {
    return {
      presenter: this.presenterInput.checked,
      hide: this.hideInputs.filter((i) => i.checked).map((i) => i.value),
    };
  }
}

function label(input, text) {
  const l = el("label");
  l.append(input, document.createTextNode(` ${text}`));
  return l;
}
