"""The description of a network and its training, as plain data, with every default filled in.

A spec uses the field names of the API's create body. :func:`normalize_spec` fills what is
missing (some defaults depend on other fields: the perceptron rule defaults to no hidden layer,
a hardlim output and one sample per update; a regression dataset to a linear output) and
raises :class:`SpecError` with a sentence for combinations that cannot work.
"""

from __future__ import annotations

import copy

from backend.core.activations import ACTIVATIONS
from backend.core.config import BATCH_MODES, REGULARIZATIONS, RULES, one_of
from backend.core.datasets import BUILTINS, REGRESSION, from_points
from backend.core.features import validate_features
from backend.core.network import INIT_SCHEMES


class SpecError(ValueError):
    pass


DEFAULT_DATASET = {"name": "circle", "n_samples": 200, "noise": 0.1, "train_fraction": 0.5,
                   "seed": 1}


def normalize_spec(body: dict | None = None) -> dict:
    """A complete spec from a partial one (the create body); the input is not modified."""
    body = copy.deepcopy(body or {})
    spec: dict = {}
    rule = body.get("rule", "backprop")
    _one_of("rule", rule, RULES)
    perceptron = rule == "perceptron"

    dataset = body.get("dataset") or {}
    if "points" in dataset:
        spec["dataset"] = {"points": dataset["points"], "task": dataset.get("task"),
                           "domain": dataset.get("domain"),
                           "train_fraction": dataset.get("train_fraction", 1.0),
                           "seed": dataset.get("seed", DEFAULT_DATASET["seed"])}
    else:
        spec["dataset"] = {**DEFAULT_DATASET, **dataset}
        _one_of("dataset", spec["dataset"]["name"], tuple(BUILTINS))
    regression = _is_regression(spec["dataset"])

    try:
        spec["features"] = validate_features(list(body.get("features", ["x1", "x2"])))
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    spec["hidden"] = [int(p) for p in body.get("hidden", [] if perceptron else [4, 2])]
    if any(p < 1 for p in spec["hidden"]):
        raise SpecError("every hidden layer needs at least 1 neuron")

    layers = len(spec["hidden"]) + 1
    if body.get("activations") is not None:
        activations = list(body["activations"])
        if len(activations) != layers:
            raise SpecError(
                f"'activations' needs one activation per layer with weights: {layers} for "
                f"{len(spec['hidden'])} hidden layer(s) and the output, got {len(activations)}"
            )
    else:
        default_out = "hardlim" if perceptron else ("linear" if regression else "sigmoid")
        hidden_act = body.get("activation", "tanh")
        activations = [hidden_act] * (layers - 1) + [body.get("output_activation", default_out)]
    for name in activations:
        _one_of("activation", name, tuple(ACTIVATIONS))
    spec["activation"] = activations[0] if layers > 1 else body.get("activation", "tanh")
    _one_of("activation", spec["activation"], tuple(ACTIVATIONS))
    spec["output_activation"] = activations[-1]
    spec["activations"] = activations

    spec["rule"] = rule
    spec["learning_rate"] = float(body.get("learning_rate", 0.1))
    default_batch = {"mode": "stochastic", "size": 1} if perceptron else \
        {"mode": "minibatch", "size": 10}
    spec["batch"] = {**default_batch, **(body.get("batch") or {})}
    _one_of("batch mode", spec["batch"]["mode"], BATCH_MODES)
    spec["regularization"] = {"kind": "none", "rate": 0.0, **(body.get("regularization") or {})}
    _one_of("regularization", spec["regularization"]["kind"], REGULARIZATIONS)
    spec["init"] = {"scheme": "zeros" if perceptron else "xavier", "seed": 0,
                    **(body.get("init") or {})}
    _one_of("init scheme", spec["init"]["scheme"], INIT_SCHEMES)
    return spec


def _is_regression(dataset: dict) -> bool:
    if "points" in dataset:
        try:
            return from_points(dataset["points"], dataset.get("task"),
                               dataset.get("domain")).task == REGRESSION
        except ValueError as exc:
            raise SpecError(str(exc)) from None
    return BUILTINS[dataset["name"]].task == REGRESSION


def _one_of(what: str, value, allowed) -> None:
    one_of(what, value, allowed, SpecError)
