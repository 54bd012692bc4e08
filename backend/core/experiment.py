"""A whole experiment: data, input features, network and training, built from one spec.

This is what a notebook user (or the server) holds::

    exp = Experiment.create({"dataset": {"name": "xor"}, "hidden": [2], "learning_rate": 0.5})
    exp.trainer.run(epochs=500)
    exp.trainer.evaluate()
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np

from backend.core.activations import get_activation
from backend.core.datasets import Dataset, from_points, make_dataset, restored, split
from backend.core.features import feature_matrix
from backend.core.memory import nbytes
from backend.core.network import BLOCK, Network, forward_columns, forward_output
from backend.core.spec import SpecError, normalize_spec
from backend.core.targets import Targets
from backend.core.training import Trainer, TrainingConfig

FORMAT = "nn-playground/1"
GRID_BLOCK_VALUES = 1_000_000  # hidden values over a grid held at once (8 MB)
KEPT_ANSWER_BYTES = 1_000_000  # the page's grids of 7 features and two layers of 8: 0.37 MB


@dataclass
class Data:
    """The points of the input plane, split into training and test sets."""

    dataset: Dataset
    train: np.ndarray  # indices into dataset.x
    test: np.ndarray


class Experiment:
    def __init__(self, spec: dict, data: Data, net: Network):
        self.spec = spec
        self.data = data
        self.features = spec["features"]
        self.targets = _targets(data.dataset, net.activations[-1])
        x, y = data.dataset.x, data.dataset.y
        self.trainer = Trainer(
            net,
            self.inputs(x[data.train]), self.targets.encode(y[data.train]),
            self.inputs(x[data.test]), self.targets.encode(y[data.test]),
            self.targets, training_config(spec), seed=spec["init"]["seed"],
        )
        self._grid_inputs: dict[int, np.ndarray] = {}  # per resolution: a^0 over the grid
        self._grid_buffers: dict[tuple, list] = {}  # per network copy, R and layers kept
        self._kept: tuple | None = None  # (state, bytes): see for_these_weights

    @classmethod
    def create(cls, body: dict | None = None) -> Experiment:
        spec = normalize_spec(body)
        data = build_data(spec["dataset"])
        try:
            sizes = _sizes(spec, data.dataset)
            net = Network(sizes, spec["activations"])
            net.initialise(spec["init"]["scheme"], np.random.default_rng(spec["init"]["seed"]))
            return cls(spec, data, net)
        except ValueError as exc:
            raise SpecError(str(exc)) from None

    @property
    def net(self) -> Network:
        return self.trainer.net

    @property
    def warnings(self) -> list[str]:
        return self.trainer.warnings

    def inputs(self, x: np.ndarray) -> np.ndarray:
        """a^0 for points x (N, 2): the chosen input features of each point."""
        return feature_matrix(self.features, np.asarray(x, dtype=np.float64).reshape(-1, 2))

    # -- changing the experiment ----------------------------------------------------------

    def configure(self, changes: dict) -> None:
        """Change hyperparameters that keep the shapes: learning rate, batch, regularization,
        rule. Takes effect from the next batch; the weights and counters stay."""
        spec = copy.deepcopy(self.spec)
        for key in ("learning_rate", "rule"):
            if key in changes:
                spec[key] = changes[key]
        for key in ("batch", "regularization"):
            if key in changes:
                spec[key] = {**spec[key], **changes[key]}
        config = training_config(spec)
        self.trainer.configure(config)
        self.spec = spec

    def set_parameters(self, layers: list[dict]) -> None:
        """Weights and biases set by hand; a batch begun step by step starts over."""
        self.net.set_parameters(layers)
        self.trainer.abandon_batch()

    def reset(self, seed: int | None = None) -> None:
        """New initial weights (same seed, or a new one), counters and history cleared."""
        if seed is not None:
            self.spec["init"]["seed"] = int(seed)
        init = self.spec["init"]
        self.net.initialise(init["scheme"], np.random.default_rng(init["seed"]))
        self.trainer.reset_counters(init["seed"])

    # -- the decision boundary -----------------------------------------------------------

    def grid_points(self, resolution: int) -> np.ndarray:
        """The R x R grid of the domain, row-major: row 0 is the top (largest x2), column 0 the
        left (smallest x1), as in an image."""
        (x1_lo, x1_hi), (x2_lo, x2_hi) = self.data.dataset.domain
        x1 = np.linspace(x1_lo, x1_hi, resolution)
        x2 = np.linspace(x2_hi, x2_lo, resolution)
        g1, g2 = np.meshgrid(x1, x2)
        return np.column_stack([g1.ravel(), g2.ravel()])

    def boundary(self, resolution: int = 100, neurons: bool = False,
                 neuron_resolution: int | None = None, copy: bool = True,
                 net: Network | None = None) -> dict:
        """The output over an R x R grid as ``(p^l, R, R)``; with neurons, every layer's a^k
        as ``(p^k, R', R')`` (layer 0: the input features), R' = ``neuron_resolution`` or R.
        The arrays are the caller's own; ``copy=False`` gives read-only views of buffers that
        the next call overwrites (for a caller that encodes them at once). ``net``: a copy of
        this network (other weights, the same shape) to draw instead, with buffers of its own,
        so that another thread can draw it while this one trains."""
        net = net or self.net
        r = neuron_resolution or resolution

        def grids(values: np.ndarray, r: int) -> np.ndarray:
            g = values.reshape(len(values), r, r)
            if copy:
                return g.copy()
            g = g.view()
            g.flags.writeable = False
            return g

        every = self._grid_layers(r, net, every_layer=True) if neurons else None
        output = every[-1] if every is not None and r == resolution else \
            self._grid_layers(resolution, net, every_layer=False)[-1]
        result = {"resolution": resolution, "domain": self.data.dataset.domain,
                  "output": grids(output, resolution), "neurons": None}
        if neurons:
            result["neurons"] = [grids(ak, r) for ak in every]
            result["neuron_resolution"] = r
        return result

    def for_these_weights(self, key: Hashable, compute: Callable[[], bytes]) -> bytes:
        """``compute()``, an answer drawn from the network, kept (one at a time) while its
        weights, its shape, its input features and ``key`` stay the same: the page asks for
        the same grids again after every step, and forward, backward or a new learning rate
        change no weight. The weights are compared by their content, so that no way of
        changing them can leave a stale answer behind. An answer over ``KEPT_ANSWER_BYTES``
        (finer grids than the page's) is not kept."""
        net = self.net
        state = (key, tuple(net.sizes), tuple(net.activations), tuple(self.features),
                 repr(self.data.dataset.domain),
                 hashlib.blake2b(net.theta.tobytes(), digest_size=16).digest())
        if self._kept is not None and self._kept[0] == state:
            return self._kept[1]
        self._kept = None  # the old answer goes before the new one is drawn
        answer = compute()
        if len(answer) <= KEPT_ANSWER_BYTES:
            self._kept = (state, answer)
        return answer

    def _grid_layers(self, resolution: int, net: Network, every_layer: bool) -> list:
        """a^k over the grid, one row per neuron, into buffers kept for the next frame (a^0,
        the grid's input features, shared by every copy of the network). Without
        ``every_layer`` only the output covers the whole grid: when the hidden layers' values
        over it would take more than GRID_BLOCK_VALUES, their buffers hold a block of points
        and the output is computed a block at a time (a fine grid of a wide network would need
        far more memory than the picture)."""
        a0 = self._grid_inputs.get(resolution)
        if a0 is None:
            if len(self._grid_inputs) >= 2:
                self._grid_inputs.clear()
            a0 = np.ascontiguousarray(self.inputs(self.grid_points(resolution)).T)
            a0.flags.writeable = False
            self._grid_inputs[resolution] = a0
        key = (id(net), resolution, every_layer)
        buffers = self._grid_buffers.get(key)
        if buffers is None or buffers[0] is not a0 or \
                [len(b) for b in buffers[1:]] != net.sizes[1:]:
            if len(self._grid_buffers) >= 4:
                self._grid_buffers.clear()
            points = a0.shape[1]
            block = points if every_layer else \
                min(points, max(BLOCK, GRID_BLOCK_VALUES // sum(net.sizes[1:])))
            buffers = [a0] + [np.empty((p, points if k == net.depth else block))
                              for k, p in enumerate(net.sizes[1:], start=1)]
            self._grid_buffers[key] = buffers
        with np.errstate(all="ignore"):
            if every_layer or buffers[1].shape[1] == a0.shape[1]:
                return forward_columns(net, a0, buffers)
            return self._grid_output(net, a0, buffers)

    @staticmethod
    def _grid_output(net: Network, a0: np.ndarray, buffers: list) -> list:
        """The output over the grid, a block of points at a time (``buffers[1:-1]`` hold one
        block of each hidden layer's values)."""
        points, block = a0.shape[1], buffers[1].shape[1]
        out = list(buffers)
        for start in range(0, points, block):
            cols = min(block, points - start)
            for k in range(1, net.depth):
                out[k] = buffers[k][:, :cols]
            out[-1] = buffers[-1][:, start:start + cols]
            forward_columns(net, a0[:, start:start + cols], out)
        return buffers

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        with np.errstate(all="ignore"):
            yhat = forward_output(self.net, self.inputs(x))
        return yhat, self.targets.classify(yhat)

    # -- memory ----------------------------------------------------------------------------

    def memory(self) -> dict[str, int]:
        """Bytes held, by part: parameters, data, buffers, grids (the boundary's, kept for
        the next frame, and the answer kept for these weights) and history."""
        ds = self.data.dataset
        parts = self.trainer.memory()
        parts["data"] += nbytes(ds.x, ds.y, self.data.train, self.data.test)
        kept = len(self._kept[1]) if self._kept is not None else 0
        parts["grids"] = nbytes(self._grid_inputs, self._grid_buffers) + kept
        return parts

    def drop_caches(self) -> None:
        """Let go of everything kept only to be faster next time: grids and workspaces."""
        self._grid_inputs.clear()
        self._grid_buffers.clear()
        self._kept = None
        self.trainer.drop_caches()

    # -- plain-dict serialisation ---------------------------------------------------------

    def to_dict(self, with_data: bool = True) -> dict:
        """Everything needed to rebuild this experiment exactly, as JSON-ready plain data
        (``with_data=False`` leaves out the points, for one who keeps them already)."""
        doc = {"format": FORMAT, "spec": copy.deepcopy(self.spec),
               "layers": self.net.parameters(), "training": self.trainer.counters()}
        if with_data:
            doc["data"] = self.data_dict()
        return doc

    def data_dict(self) -> dict:
        ds = self.data.dataset
        return {
            "points": np.column_stack([ds.x, ds.y]).tolist(),
            "task": ds.task,
            "classes": ds.classes,
            "domain": [list(ds.domain[0]), list(ds.domain[1])],
            "train": self.data.train.tolist(),
            "test": self.data.test.tolist(),
        }

    @classmethod
    def from_dict(cls, saved: dict) -> Experiment:
        """Rebuild an experiment from :meth:`to_dict`'s document, checking every part."""
        if not isinstance(saved, dict) or saved.get("format") != FORMAT:
            raise SpecError(f"not a playground document: 'format' must be {FORMAT!r}")
        try:
            return cls._from_dict(saved)
        except SpecError:
            raise
        except KeyError as exc:
            raise SpecError(f"the document lacks the field {exc}") from None
        except (ValueError, TypeError, IndexError) as exc:
            raise SpecError(f"the document does not describe a valid network: {exc}") from None

    @classmethod
    def _from_dict(cls, saved: dict) -> Experiment:
        spec = normalize_spec(saved["spec"])
        d = saved["data"]
        dataset = restored(d["points"], d["task"], d["classes"], d["domain"])
        data = Data(dataset, np.asarray(d["train"], np.int64), np.asarray(d["test"], np.int64))
        _check_split(data)
        net = Network(_sizes(spec, dataset), spec["activations"], saved["layers"])
        exp = cls(spec, data, net)
        exp.trainer.restore_counters(saved["training"])
        return exp


def training_config(spec: dict) -> TrainingConfig:
    return TrainingConfig(
        rule=spec["rule"],
        learning_rate=float(spec["learning_rate"]),
        batch_mode=spec["batch"]["mode"],
        batch_size=int(spec["batch"]["size"]),
        regularization=spec["regularization"]["kind"],
        regularization_rate=float(spec["regularization"]["rate"]),
    )


def build_data(dataset_spec: dict) -> Data:
    if "points" in dataset_spec:
        dataset = from_points(dataset_spec["points"], dataset_spec.get("task"),
                              dataset_spec.get("domain"))
        train, test = split(len(dataset.x), dataset_spec["train_fraction"], dataset_spec["seed"])
        return Data(dataset, train, test)
    name = dataset_spec["name"]
    dataset = make_dataset(name, dataset_spec["n_samples"], dataset_spec["noise"],
                           dataset_spec["seed"])
    if name in ("and", "or", "xor"):
        return Data(dataset, np.arange(4), np.arange(0))
    train, test = split(len(dataset.x), dataset_spec["train_fraction"], dataset_spec["seed"])
    return Data(dataset, train, test)


def _targets(dataset: Dataset, output_activation: str) -> Targets:
    return Targets.for_output(dataset.task, dataset.classes, get_activation(output_activation))


def _sizes(spec: dict, dataset: Dataset) -> list[int]:
    """[p^0, hidden..., p^l]: p^0 from the features, p^l from what the data's task needs."""
    outputs = _targets(dataset, spec["activations"][-1]).outputs
    return [len(spec["features"]), *spec["hidden"], outputs]


def _check_split(data: Data) -> None:
    n = len(data.dataset.x)
    for name, idx in (("train", data.train), ("test", data.test)):
        if idx.ndim != 1 or (idx.size and (idx.min() < 0 or idx.max() >= n)):
            raise SpecError(f"data.{name} holds an index outside the {n} points")
    both = np.concatenate([data.train, data.test])
    if np.unique(both).size != both.size:
        raise SpecError("data.train and data.test must name each point at most once, in one "
                        "of the two sets")
