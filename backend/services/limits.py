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


def check_iterations(iterations: int, settings: Settings, epochs: int | None = None) -> None:
    if iterations > settings.max_iterations_per_step:
        asked = f"{epochs} epoch(s) are {iterations} iterations" if epochs else \
            f"got {iterations}"
        raise LimitExceeded(f"a step does at most {settings.max_iterations_per_step} iterations "
                            f"(its answer waits for them); {asked}. Train longer runs in the "
                            "background with POST /train")


def check_grids(sizes: list[int], resolution: int, neuron_resolution: int | None,
                settings: Settings) -> None:
    """A boundary request: its resolutions, and the values it asks for in all."""
    check_resolution(resolution, settings)
    cells = sizes[-1] * resolution**2
    if neuron_resolution is not None:
        check_resolution(neuron_resolution, settings)
        cells += sum(sizes[:-1]) * neuron_resolution**2
    if cells > settings.max_grid_values:
        raise LimitExceeded(
            f"at most {settings.max_grid_values:,} grid values per boundary are allowed; "
            f"this network's {sum(sizes)} neurons at these resolutions need {cells:,}. Ask "
            "for a smaller neuron_resolution (the neurons' thumbnails need little)")


def check_resolution(resolution: int, settings: Settings) -> None:
    if not 2 <= resolution <= settings.max_boundary_resolution:
        raise LimitExceeded(f"the resolution must be from 2 to "
                            f"{settings.max_boundary_resolution}; got {resolution}")
