// Messages for the user: run results (converged, diverged, stopped...), API errors, hints.
// One banner at a time, announced to screen readers; errors stay until dismissed.

export class Banner {
  constructor(host) {
    this.host = host;
    this.timer = null;
    host.hidden = true;
  }

  /** kind: info | success | warning | error; action: {label, run}. */
  show(kind, title, text = "", { action = null, timeout = null } = {}) {
    clearTimeout(this.timer);
    const host = this.host;
    host.className = `banner ${kind}`;
    host.setAttribute("role", kind === "error" ? "alert" : "status");
    host.replaceChildren();
    const icon = document.createElement("span");
    icon.className = "banner-icon";
    icon.setAttribute("aria-hidden", "true");
    icon.textContent = { info: "i", success: "✓", warning: "!", error: "✕" }[kind] || "i";
    const body = document.createElement("div");
    body.className = "banner-body";
    const strong = document.createElement("strong");
    strong.textContent = title;
    body.append(strong);
    if (text) {
      const span = document.createElement("span");
      span.textContent = ` ${text}`;
      body.append(span);
    }
    host.append(icon, body);
    if (action) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "btn small";
      b.textContent = action.label;
      b.addEventListener("click", () => { this.hide(); action.run(); });
      host.append(b);
    }
    const close = document.createElement("button");
    close.type = "button";
    close.className = "banner-close";
    close.setAttribute("aria-label", "Dismiss the message");
    close.textContent = "×";
    close.addEventListener("click", () => this.hide());
    host.append(close);
    host.hidden = false;
    host.dataset.kind = kind;
    const ms = timeout ?? (kind === "error" || kind === "warning" ? null : 6000);
    if (ms) this.timer = setTimeout(() => this.hide(), ms);
  }

  hide() {
    clearTimeout(this.timer);
    this.host.hidden = true;
  }

  /** The message for a run's end (a `done` event): converged, diverged, stopped... */
  runEnded(result, { epoch, learningRate, reset }) {
    const at = result.epoch ?? epoch;
    const text = result.message || "";
    switch (result.reason) {
      case "converged":
        this.show("success", "Converged.", text || `At epoch ${at}.`, { timeout: 12000 });
        break;
      case "diverged":
        this.show("error", "Diverged.", /learning rate/i.test(text) ? text
          : `${text || `At epoch ${at}.`} Hint: lower the learning rate (now ${learningRate}), then Reset.`,
        { action: { label: "Reset", run: reset } });
        break;
      case "stopped":
        this.show("info", `Paused at epoch ${at}.`, "Press space or ▶ to go on.", { timeout: 4000 });
        break;
      case "finished":
        this.show("info", "Finished.", text || `At epoch ${at}.`);
        break;
      case "not_converged":
        this.show("warning", "Not converged.", text);
        break;
      case "cannot_learn":
        this.show("warning", "Cannot learn.", text);
        break;
      case "deleted":
        this.show("warning", "This network was deleted.", text);
        break;
      default:
        this.show("warning", `The run ended (${result.reason}).`, text);
    }
  }

  error(err, what = "") {
    const text = err?.message || String(err);
    this.show("error", what ? `${what} failed.` : "Something went wrong.", text);
  }
}
