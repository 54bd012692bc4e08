// The HTTP API: JSON in and out, the bearer token on calls that change a network, and every
// failure turned into an ApiError whose message is a sentence a student can read.

/** The neurons' grids are thumbnails (and a hover's larger map): this size is ample. */
export const NEURON_RESOLUTION = 50;

export class ApiError extends Error {
  constructor(message, { status = 0, method = "", path = "", detail = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.method = method;
    this.path = path;
    this.detail = detail;
  }
}

/** A readable sentence from an error body: {"detail": "..."} or pydantic's 422 list. */
export function describeDetail(detail) {
  if (detail == null) return "";
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((d) => {
        if (typeof d === "string") return d;
        const where = Array.isArray(d.loc) ? d.loc.filter((x) => x !== "body").join(".") : "";
        return where ? `${where}: ${d.msg}` : d.msg || JSON.stringify(d);
      })
      .join("; ");
  }
  if (typeof detail === "object") return detail.message || detail.msg || JSON.stringify(detail);
  return String(detail);
}

const STATUS_TEXT = {
  400: "The server could not read the request",
  401: "This network needs its access token (it was created in another browser)",
  403: "This network belongs to someone else: fork it to change your own copy",
  404: "The server does not know this network any more",
  409: "That cannot be done right now",
  413: "The request is too large for the server",
  422: "The server rejected these settings",
  429: "The server is busy",
  500: "The server hit an internal error",
  503: "The server is not ready",
};

export class Api {
  constructor(base = "api") {
    this.base = base.replace(/\/$/, "");
    this.token = null;
  }

  url(path) {
    return `${this.base}${path}`;
  }

  async request(method, path, body, { auth = false, signal, token } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const bearer = token ?? this.token;
    if (auth && bearer) headers.Authorization = `Bearer ${bearer}`;
    let response;
    try {
      response = await fetch(this.url(path), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (err) {
      if (err.name === "AbortError") throw err;
      throw new ApiError("Cannot reach the server: check that it is running and the network is up.",
        { method, path });
    }
    if (response.status === 204) return null;
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    }
    if (!response.ok) {
      const detail = data && typeof data === "object" ? describeDetail(data.detail) : "";
      const lead = STATUS_TEXT[response.status] || `The server answered ${response.status}`;
      const sentence = typeof data?.detail === "string";
      const message = !detail ? `${lead}.`
        : sentence ? detail.charAt(0).toUpperCase() + detail.slice(1) : `${lead}: ${detail}.`;
      throw new ApiError(message, { status: response.status, method, path, detail: data });
    }
    return data;
  }

  // -- every route of docs/API.md; `token` (optional) for a network other than the page's own --
  health() { return this.request("GET", "/health"); }
  catalog() { return this.request("GET", "/catalog"); }
  /** The classroom's addresses (GET /share). */
  share() { return this.request("GET", "/share"); }
  /** The QR code of a link, as an image address. */
  qrUrl(text) { return this.url(`/qr?text=${encodeURIComponent(text)}`); }

  create(spec) { return this.request("POST", "/networks", spec); }
  get(id) { return this.request("GET", `/networks/${id}`); }
  patch(id, changes, token) { return this.request("PATCH", `/networks/${id}`, changes, { auth: true, token }); }
  remove(id, token) { return this.request("DELETE", `/networks/${id}`, undefined, { auth: true, token }); }
  setParameters(id, layers, token) {
    return this.request("PUT", `/networks/${id}/parameters`, { layers }, { auth: true, token });
  }
  reset(id, seed, token) {
    return this.request("POST", `/networks/${id}/reset`, seed == null ? {} : { seed }, { auth: true, token });
  }
  data(id) { return this.request("GET", `/networks/${id}/data`); }
  history(id) { return this.request("GET", `/networks/${id}/history`); }

  // The three teaching steps of one batch, in this order (out of order: a 409 naming the next).
  /** body: {} for the next batch of the batch mode, or {x, y} for points of your own. */
  forward(id, body = {}, token) { return this.request("POST", `/networks/${id}/forward`, body, { auth: true, token }); }
  backward(id, token) { return this.request("POST", `/networks/${id}/backward`, {}, { auth: true, token }); }
  update(id, token) { return this.request("POST", `/networks/${id}/update`, {}, { auth: true, token }); }

  /** what: {iterations: k} or {epochs: k}. */
  step(id, what, token) { return this.request("POST", `/networks/${id}/step`, what, { auth: true, token }); }
  train(id, body, token) { return this.request("POST", `/networks/${id}/train`, body, { auth: true, token }); }
  stop(id, token) { return this.request("POST", `/networks/${id}/stop`, {}, { auth: true, token }); }
  predict(id, x) { return this.request("POST", `/networks/${id}/predict`, { x }); }
  /** J over two parameters and the three batch modes' paths on it (a read: no token). */
  surface(id, body = {}) { return this.request("POST", `/networks/${id}/surface`, body); }

  /**
   * The output over a resolution x resolution grid of the input plane and, with a
   * neuronResolution, every neuron's map (the server may draw them smaller: its answer says).
   */
  boundary(id, { resolution = 100, neuronResolution = null, encoding = null } = {}) {
    const q = new URLSearchParams({ resolution });
    if (neuronResolution) {
      q.set("neurons", "true");
      q.set("neuron_resolution", Math.min(neuronResolution, resolution));
    }
    if (encoding) q.set("encoding", encoding);
    return this.request("GET", `/networks/${id}/boundary?${q}`);
  }

  exportDocument(id) { return this.request("GET", `/networks/${id}/export`); }
  importDocument(doc) { return this.request("POST", "/networks/import", doc); }
  /** A copy of your own; `name` (optional): what the owner of network `id` sees it as. */
  fork(id, name = null) { return this.request("POST", `/networks/${id}/fork`, name ? { name } : {}); }
  /** The forks of network `id`, for its owner: name, epoch, losses, a thumbnail each. */
  forks(id, token) { return this.request("GET", `/networks/${id}/forks`, undefined, { auth: true, token }); }
  /** Tell the viewers of network `id` (needs its token) that network `by` replaced it. */
  replaced(id, by, token) {
    return this.request("POST", `/networks/${id}/replaced`, { by }, { auth: true, token });
  }

  /** The stream; with a resolution, progress frames carry the boundary (neurons smaller). */
  eventsUrl(id, resolution, neurons = true, neuronResolution = NEURON_RESOLUTION) {
    const q = resolution
      ? `?boundary=${resolution}${neurons ? `&neurons=true&neuron_resolution=${neuronResolution}` : ""}&encoding=uint8`
      : "";
    return this.url(`/networks/${id}/events${q}`);
  }
}
