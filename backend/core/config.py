"""What a training run is configured with: the rule, the batch mode, the learning rate and the
regularization, and the checks that say what a network can train with."""

from __future__ import annotations

import math
from dataclasses import dataclass

from backend.core.network import Network

RULES = ("backprop", "perceptron")
RULE_DESCRIPTIONS = {
    "backprop": "backpropagation and gradient descent, any network",
    "perceptron": "the perceptron learning rule: no hidden layer, a hardlim or hardlims output",
}
BATCH_MODES = ("batch", "stochastic", "minibatch")
REGULARIZATIONS = ("none", "l1", "l2")


class TrainingError(ValueError):
    """A configuration that cannot train, with a sentence saying what is allowed."""


def one_of(what: str, value: str, allowed: tuple[str, ...] | list[str],
           error: type[Exception] = TrainingError) -> None:
    """Raise ``error`` naming what is allowed when ``value`` is not one of ``allowed``."""
    if value not in allowed:
        raise error(f"unknown {what} {value!r}; allowed: {', '.join(allowed)}")


@dataclass
class TrainingConfig:
    rule: str = "backprop"
    learning_rate: float = 0.1
    batch_mode: str = "minibatch"
    batch_size: int = 10
    regularization: str = "none"
    regularization_rate: float = 0.0

    def check(self, net: Network) -> list[str]:
        """Raise TrainingError for what cannot work; return warnings for what works partly."""
        one_of("rule", self.rule, RULES)
        one_of("batch mode", self.batch_mode, BATCH_MODES)
        one_of("regularization", self.regularization, REGULARIZATIONS)
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise TrainingError("the learning rate must be a finite number above 0")
        if not (math.isfinite(self.regularization_rate) and self.regularization_rate >= 0):
            raise TrainingError("the regularization rate must be a finite number, 0 or more")
        if self.batch_size < 1:
            raise TrainingError("the batch size must be at least 1")
        if self.rule == "perceptron":
            output = net.layers[-1].activation.name
            if net.depth != 1 or output not in ("hardlim", "hardlims"):
                raise TrainingError(
                    "the perceptron rule trains a single-layer network (no hidden layer) with a "
                    f"hardlim or hardlims output; this one has {net.depth - 1} hidden layer(s) "
                    f"and a {output} output. Use rule 'backprop' for other networks."
                )
            if not self.per_sample:
                raise TrainingError(
                    "the perceptron rule updates after every sample (e = t - a, W = W + η e pᵀ, "
                    "b = b + η e): use batch mode 'stochastic' (or 'minibatch' of size 1); got "
                    f"'{self.batch_mode}'"
                    + (f" of size {self.batch_size}" if self.batch_mode == "minibatch" else ""))
            return []
        return backprop_warnings(net)

    @property
    def per_sample(self) -> bool:
        """One sample per update: stochastic, or mini-batches of one."""
        return self.batch_mode == "stochastic" or (
            self.batch_mode == "minibatch" and self.batch_size == 1)

    def batch_length(self, n_train: int) -> int:
        if self.batch_mode == "batch":
            return n_train
        if self.batch_mode == "stochastic":
            return 1
        return min(self.batch_size, n_train)

    def iterations_per_epoch(self, n_train: int) -> int:
        """Batches in an epoch of ``n_train`` samples (the last may be smaller)."""
        return -(-n_train // self.batch_length(n_train))


def backprop_warnings(net: Network) -> list[str]:
    last = frozen_depth(net)
    if last == 0:
        return []
    act = net.layers[last - 1].activation
    name = f"{act.label} ({act.name})"  # as the lecture writes it, and as the API names it
    which = "the output layer" if last == net.depth else f"layer {last}"
    layers = "any of its layers" if last == net.depth else (
        "layer 1" if last == 1 else f"layers 1 to {last}")
    return [
        f"{which.capitalize()} uses {name}, whose derivative is 0 everywhere: backpropagation "
        f"gets no gradient through it, so it cannot train {layers}. Set those weights by hand "
        "(a hand-designed network), use sigmoid, tanh or relu to train, or the perceptron rule "
        "for a single-layer network."
    ]


def frozen_depth(net: Network) -> int:
    """The last layer whose activation has a zero derivative: backprop cannot train 1..that."""
    frozen = 0
    for k, layer in enumerate(net.layers, start=1):
        if not layer.activation.can_backprop:
            frozen = k
    return frozen
