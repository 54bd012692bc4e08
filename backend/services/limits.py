"""The server's limits (settings) applied to a spec, with a sentence naming the limit."""

from __future__ import annotations

from backend.services.networks import LimitExceeded
from backend.settings import Settings


def check_spec(spec: dict, settings: Settings) -> None:
    hidden = spec.get("hidden") or []
    if len(hidden) > settings.max_hidden_layers:
        raise LimitExceeded(f"at most {settings.max_hidden_layers} hidden layers are allowed; "
                            f"got {len(hidden)}")
    if any(p > settings.max_neurons_per_layer for p in hidden):
        raise LimitExceeded(f"at most {settings.max_neurons_per_layer} neurons per layer are "
                            f"allowed; got {max(hidden)}")
    dataset = spec.get("dataset") or {}
    samples = len(dataset["points"]) if dataset.get("points") is not None \
        else dataset.get("n_samples")
    if samples is not None and samples > settings.max_samples:
        raise LimitExceeded(f"at most {settings.max_samples} samples are allowed; got {samples}")


def check_epochs(epochs: int, settings: Settings) -> None:
    if epochs > settings.max_epochs_per_run:
        raise LimitExceeded(f"at most {settings.max_epochs_per_run} epochs per run are "
                            f"allowed; got {epochs}")


def check_iterations(iterations: int, settings: Settings) -> None:
    if iterations > settings.max_iterations_per_step:
        raise LimitExceeded(f"at most {settings.max_iterations_per_step} iterations per step "
                            f"are allowed; got {iterations}")


def check_resolution(resolution: int, settings: Settings) -> None:
    if not 2 <= resolution <= settings.max_boundary_resolution:
        raise LimitExceeded(f"the resolution must be from 2 to "
                            f"{settings.max_boundary_resolution}; got {resolution}")
