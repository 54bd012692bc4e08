// Follows a network's Server-Sent Events. Snapshots and done events are handed on at once;
// progress frames are kept as the latest one only and drawn on the next animation frame, so
// when the server is faster than the screen (or the tab is hidden) frames never pile up.

export class Follower {
  /**
   * handlers: onSnapshot(state), onProgress(frame) (every frame, for the loss history: cheap),
   * onFrame(frame) (the latest frame, once per animation frame: the drawing), onDone(result),
   * onReplaced({id, by}) (the owner moved on to network `by`), onLab({step, sample, answer})
   * (a teaching step the owner took: its numbers),
   * onStatus("live" | "reconnecting" | "closed").
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.source = null;
    this.latest = null;
    this.scheduled = false;
    this.frames = 0; // drawn frames, for the frame-rate readout
    this.received = 0;
  }

  follow(url) {
    this.close();
    const source = new EventSource(url);
    this.source = source;
    source.addEventListener("open", () => this.handlers.onStatus?.("live"));
    source.addEventListener("error", () => {
      if (this.source !== source) return;
      this.handlers.onStatus?.(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting");
    });
    source.addEventListener("snapshot", (e) => {
      if (this.source !== source) return;
      const state = parse(e.data);
      if (state) this.handlers.onSnapshot?.(state);
    });
    source.addEventListener("progress", (e) => {
      if (this.source !== source) return;
      const frame = parse(e.data);
      if (!frame) return;
      this.received++;
      this.handlers.onProgress?.(frame);
      this.latest = frame;
      this.schedule();
    });
    source.addEventListener("done", (e) => {
      if (this.source !== source) return;
      const result = parse(e.data);
      this.flush();
      if (result) this.handlers.onDone?.(result);
    });
    source.addEventListener("lab", (e) => {
      if (this.source !== source) return;
      const step = parse(e.data);
      if (step) this.handlers.onLab?.(step);
    });
    source.addEventListener("replaced", (e) => {
      if (this.source !== source) return;
      const moved = parse(e.data);
      if (moved) this.handlers.onReplaced?.(moved);
    });
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** Draw the latest frame now (if any): before a done, so the last picture is the final one. */
  flush() {
    const frame = this.latest;
    this.latest = null;
    if (!frame) return;
    this.frames++;
    this.handlers.onFrame?.(frame);
  }

  close() {
    if (this.source) this.source.close();
    this.source = null;
    this.latest = null;
  }
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
