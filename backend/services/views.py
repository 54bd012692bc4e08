"""The JSON shapes of the API, built from the core's objects. Nothing here is ever NaN or
Infinity: a number that is not finite becomes null."""

from __future__ import annotations

import base64
import math

import numpy as np

from backend.core.experiment import Experiment
from backend.core.network import Network, Pass
from backend.services.jsontext import dumps, dumps_grids

GRID_ENCODING = ("base64 of the grids in C order: little-endian float32, or uint8 mapping "
                 "0..255 to lo..hi of each grid")
F32_MAX = float(np.finfo(np.float32).max)


def finite(value):
    """A float, or None where it is not finite (or missing)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def array(values: np.ndarray) -> list:
    """Nested lists of an array, with null wherever a value is not finite."""
    values = np.asarray(values, dtype=np.float64)
    if np.isfinite(values).all():
        return values.tolist()
    return np.where(np.isfinite(values), values, None).tolist()


def metrics(exp: Experiment) -> dict:
    return {name: finite(v) for name, v in exp.trainer.evaluate().items()}


def recorded_metrics(exp: Experiment) -> dict:
    """The metrics of the newest history point (no evaluation: cheap enough for every frame),
    with the epoch they belong to."""
    last = exp.trainer.history.last() or {}
    return {"epoch": last.get("epoch"),
            **{name: finite(last.get(name)) for name in
               ("train_loss", "test_loss", "train_accuracy", "test_accuracy")}}


def domain(exp: Experiment) -> dict:
    (x1, x2) = exp.data.dataset.domain
    return {"x1": list(x1), "x2": list(x2)}


def layers(exp: Experiment) -> list[dict]:
    return exp.net.parameters()


def state(exp: Experiment, meta: dict) -> dict:
    """GET /api/networks/{id}: the spec, shapes, weights, counters and metrics."""
    t = exp.trainer
    return {
        **meta,
        "spec": exp.spec,
        "sizes": exp.net.sizes,
        "layers": layers(exp),
        "epoch": t.epoch,
        "iteration": t.iteration,
        "next_step": t.next_step,
        "metrics": metrics(exp),
        "warnings": list(exp.warnings),
        **task(exp),
        "domain": domain(exp),
        "perceptron": ({"last_epoch_errors": t.last_epoch_errors,
                        "epoch_errors": t.epoch_errors, "converged": t.converged}
                       if t.config.rule == "perceptron" else None),
    }


def task(exp: Experiment) -> dict:
    """What the outputs mean: the task, classes, outputs and the targets' values."""
    targets = exp.targets
    return {"task": targets.task, "classes": targets.classes, "outputs": targets.outputs,
            "targets": {"low": targets.low, "high": 1.0, "threshold": targets.threshold}}


def data(exp: Experiment) -> dict:
    ds = exp.data.dataset

    def part(idx):
        return {"x": ds.x[idx].tolist(), "y": ds.y[idx].tolist()}

    return {"task": ds.task, "classes": ds.classes, "domain": domain(exp),
            "features": exp.features, "train": part(exp.data.train),
            "test": part(exp.data.test)}


def history_json(exp: Experiment) -> bytes:
    """:func:`history` as JSON, encoded once per change of the history."""
    return exp.trainer.history.derived("view", lambda _: dumps(history(exp)).encode())


def history(exp: Experiment, since_epoch: int | None = None) -> dict:
    h = exp.trainer.history.to_dict()
    columns = {k: h[k] for k in ("epoch", "iteration", "train_loss", "test_loss",
                                 "train_accuracy", "test_accuracy", "errors")}
    if since_epoch is not None:
        start = next((i for i, e in enumerate(columns["epoch"]) if e > since_epoch),
                     len(columns["epoch"]))
        columns = {k: v[start:] for k, v in columns.items()}
    cleaned = {k: [finite(v) if k.endswith(("loss", "accuracy")) else v for v in vals]
               for k, vals in columns.items()}
    return {**cleaned, "stride": h["stride"]}


def grid(values: np.ndarray, dtype: str = "float32") -> dict:
    """Grids ``(p, R, R)`` as base64 of ``dtype``; NaN is 0 and values beyond float32 are
    clipped. uint8 (for streams: a quarter of the bytes, ample for colours) maps each of the
    p grids from its own ``lo`` (0) to ``hi`` (255)."""
    if not np.isfinite(values).all() or np.abs(values).max(initial=0) > F32_MAX:
        values = np.clip(np.nan_to_num(values, nan=0.0), -F32_MAX, F32_MAX)
    if dtype == "uint8":
        flat = values.reshape(len(values), -1)
        lo, hi = flat.min(axis=1), flat.max(axis=1)
        span = np.where(hi > lo, hi - lo, 1.0)
        codes = np.rint((flat - lo[:, None]) * (255.0 / span[:, None])).astype(np.uint8)
        return {"shape": list(values.shape), "dtype": "uint8", "lo": lo.tolist(),
                "hi": hi.tolist(), "data": base64.b64encode(codes.tobytes()).decode()}
    values = np.ascontiguousarray(values, dtype="<f4")
    return {"shape": list(values.shape), "dtype": "float32",
            "data": base64.b64encode(values.tobytes()).decode()}


def boundary(exp: Experiment, resolution: int, neurons: bool,
             neuron_resolution: int | None = None, dtype: str = "float32",
             net: Network | None = None) -> dict:
    b = exp.boundary(resolution, neurons, neuron_resolution, copy=False,  # encoded at once
                     net=net)
    result = {"resolution": resolution, "domain": domain(exp), "encoding": GRID_ENCODING,
              "output": grid(b["output"], dtype)}
    if neurons:
        result["neuron_resolution"] = b["neuron_resolution"]
        result["neurons"] = [{"layer": k, **grid(g, dtype)} for k, g in enumerate(b["neurons"])]
    return result


def boundary_json(exp: Experiment, resolution: int, neurons: bool,
                  neuron_resolution: int | None = None, dtype: str = "float32") -> bytes:
    """:func:`boundary` as JSON, drawn and encoded once for each state of the weights."""
    return exp.for_these_weights(
        ("boundary", resolution, neurons, neuron_resolution, dtype),
        lambda: dumps_grids(boundary(exp, resolution, neurons, neuron_resolution, dtype)))


def forward(p: Pass, y, indices) -> dict:
    return {
        "x": array(p.a[0]),
        "layers": [{"n": array(p.n[k]), "a": array(p.a[k])} for k in range(1, len(p.a))],
        "output": array(p.output),
        "y": None if y is None else array(y),
        "indices": None if indices is None else indices.tolist(),
    }


def backward(p: Pass, loss: float, rule: str, errors: int | None) -> dict:
    l = len(p.a) - 1
    if rule == "perceptron":
        return {"loss": finite(loss), "errors": errors,
                "layers": [{"e": array(-p.s[l])}]}
    return {"loss": finite(loss),
            "layers": [{"s": array(p.s[k]), "fdot": array(p.fdot[k])} for k in range(1, l + 1)]}


def update(exp: Experiment, dW: list, db: list) -> dict:
    t = exp.trainer
    return {
        "layers": [{"W": layer.W.tolist(), "b": layer.b.tolist(), "dW": dW[k].tolist(),
                    "db": db[k].tolist()} for k, layer in enumerate(exp.net.layers)],
        "iteration": t.iteration,
        "epoch": t.epoch,
    }


def samples(exp: Experiment, x: np.ndarray | None, y, indices) -> dict:
    """The samples a teaching step works on: their points of the input plane (``x``, sent with
    the call, or the training samples ``indices``), targets ``y`` (null for a look)."""
    points = x if indices is None else exp.data.dataset.x[exp.data.train[indices]]
    return {"x": array(points), "y": None if y is None else array(y),
            "indices": None if indices is None else indices.tolist()}


def lab(step: str, samples: dict, answer: str) -> str:
    """The stream's ``lab`` event: the step's name, its samples, and its answer as the route
    sent it (the JSON text itself, not encoded again)."""
    return f'{{"step":{dumps(step)},"sample":{dumps(samples)},"answer":{answer}}}'


def predict(exp: Experiment, x: np.ndarray) -> dict:
    yhat, classes = exp.predict(x)
    return {"y": array(yhat), "classes": None if classes is None else classes.tolist()}
