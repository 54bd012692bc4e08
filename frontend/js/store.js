// The page's state store: one frozen snapshot, one way to change it (`update(patch)`), events
// the views subscribe to, and guards a view declares to hold back an action. Nothing outside
// the store can write its state: the snapshot and everything in it are frozen, and the store's
// own methods cannot be replaced (its prototype is frozen).

/** Freeze plain objects and arrays all the way down (typed arrays are left as they are). */
export function deepFreeze(value) {
  if (value === null || typeof value !== "object" || Object.isFrozen(value) || ArrayBuffer.isView(value)) {
    return value;
  }
  if (!Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype) return value;
  for (const key of Object.keys(value)) deepFreeze(value[key]);
  return Object.freeze(value);
}

export class Store {
  #current;
  #listeners = new Map();
  #guards = new Set();

  constructor(initial = {}) {
    this.#current = deepFreeze({ ...initial });
  }

  /** The whole snapshot (frozen): read it, never write it. */
  get current() {
    return this.#current;
  }

  /**
   * The one way to change the state: the keys of `patch` replace the current ones. Each key
   * whose value changed is announced as an event of its own name (listeners get the new value
   * and the whole snapshot), then "change" with the list of changed keys.
   */
  update(patch) {
    const changed = Object.keys(patch).filter((k) => !Object.is(patch[k], this.#current[k]));
    if (!changed.length) return changed;
    const next = { ...this.#current };
    for (const k of changed) next[k] = deepFreeze(patch[k]);
    this.#current = Object.freeze(next);
    for (const k of changed) this.emit(k, this.#current[k], this.#current);
    this.emit("change", changed, this.#current);
    return changed;
  }

  /** Listen to an event (a state key, "change", or news such as "notice"); returns the way to stop. */
  on(event, listener) {
    if (!this.#listeners.has(event)) this.#listeners.set(event, new Set());
    this.#listeners.get(event).add(listener);
    return () => this.#listeners.get(event)?.delete(listener);
  }

  emit(event, ...args) {
    for (const listener of [...(this.#listeners.get(event) || [])]) {
      try {
        listener(...args);
      } catch (err) {
        reportError(err); // one view's failure must not stop the others hearing the news
      }
    }
  }

  /**
   * A view that must hold back an action (stepping, training) declares it here: `check(action)`
   * returns null to let it through, or what to tell the user ({title, text, options}).
   */
  guard(check) {
    this.#guards.add(check);
    return () => this.#guards.delete(check);
  }

  /** The first guard's refusal of `action`, or null. */
  refusal(action) {
    for (const check of this.#guards) {
      const refused = check(action, this.#current);
      if (refused) return refused;
    }
    return null;
  }
}

Object.freeze(Store.prototype);
