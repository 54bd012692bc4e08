"""Input features: the network's input a^0 is made of chosen functions of each point (x1, x2)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


class FeatureError(ValueError):
    """A sentence that says what was wrong and what is allowed."""


@dataclass(frozen=True)
class Feature:
    name: str  # the name the API uses, e.g. "x1^2"
    label: str  # a short human label, e.g. "x₁²"
    f: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (x1, x2) -> the feature, element-wise


FEATURES: dict[str, Feature] = {
    feature.name: feature
    for feature in [
        Feature("x1", "x₁", lambda x1, x2: x1),
        Feature("x2", "x₂", lambda x1, x2: x2),
        Feature("x1^2", "x₁²", lambda x1, x2: x1**2),
        Feature("x2^2", "x₂²", lambda x1, x2: x2**2),
        Feature("x1*x2", "x₁x₂", lambda x1, x2: x1 * x2),
        Feature("sin(x1)", "sin(x₁)", lambda x1, x2: np.sin(x1)),
        Feature("sin(x2)", "sin(x₂)", lambda x1, x2: np.sin(x2)),
    ]
}


def validate_features(names: Sequence[str]) -> list[str]:
    """The names as a list, if it is non-empty, known and without duplicates."""
    allowed = ", ".join(FEATURES)
    if isinstance(names, str) or not isinstance(names, Sequence) or len(names) == 0:
        raise FeatureError(f"features must be a non-empty list of names from: {allowed}")
    seen = set()
    for name in names:
        if not isinstance(name, str) or name not in FEATURES:
            raise FeatureError(f"unknown feature {name!r}; the features are: {allowed}")
        if name in seen:
            raise FeatureError(f"feature {name!r} is listed twice; each may be chosen once")
        seen.add(name)
    return list(names)


def feature_matrix(names: Sequence[str], x: np.ndarray) -> np.ndarray:
    """(N, 2) points -> (N, len(names)) float64, column j = FEATURES[names[j]].f(x1, x2)."""
    names = validate_features(names)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise FeatureError(f"points must have shape (N, 2), one [x1, x2] per row; got {x.shape}")
    x1, x2 = x[:, 0], x[:, 1]
    out = np.empty((x.shape[0], len(names)))
    for j, name in enumerate(names):
        out[:, j] = FEATURES[name].f(x1, x2)
    return out
