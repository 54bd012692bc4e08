"""The server's limits and budgets applied to one request, priced by the cost model before
any work starts: over a budget is a refusal whose sentence says what is allowed and what to
do instead (smaller pieces, another call)."""

from __future__ import annotations

from backend.core.experiment import Experiment
from backend.services import costs
from backend.services.costs import Shape
from backend.services.errors import LimitExceeded, TooLarge
from backend.settings import Settings

MIN_NEURON_RESOLUTION = 8  # neuron maps are shrunk to fit the budgets, never below this


class Budgets:
    def __init__(self, settings: Settings):
        self.settings = settings

    # -- what a network may be ---------------------------------------------------------------

    def check_spec(self, spec: dict) -> None:
        """Layers, neurons and samples of a spec (a create body, an import's), before building
        anything."""
        s = self.settings
        hidden = spec.get("hidden") or []
        if len(hidden) > s.max_hidden_layers:
            raise LimitExceeded(f"at most {s.max_hidden_layers} hidden layers are allowed; "
                                f"got {len(hidden)}")
        if any(p > s.max_neurons_per_layer for p in hidden):
            raise LimitExceeded(f"at most {s.max_neurons_per_layer} neurons per layer are "
                                f"allowed; got {max(hidden)}")
        dataset = spec.get("dataset") or {}
        samples = len(dataset["points"]) if dataset.get("points") is not None \
            else dataset.get("n_samples")
        self.check_samples(samples)

    def check_samples(self, samples: int | None) -> None:
        if samples is not None and samples > self.settings.max_samples:
            raise LimitExceeded(f"at most {self.settings.max_samples} samples are allowed; "
                                f"got {samples}")

    def check_network(self, exp: Experiment) -> None:
        """A built network's memory (the most it can hold) within what one network may."""
        held = self.network_bytes(exp)
        if held > self.settings.max_network_bytes:
            raise LimitExceeded(
                f"this network would hold up to {_bytes(held)} in memory (its layers "
                f"{_sizes(exp)} and {len(exp.data.dataset.x):,} samples); one network may "
                f"hold {_bytes(self.settings.max_network_bytes)}: use fewer samples or "
                "smaller layers")

    def network_bytes(self, exp: Experiment) -> int:
        return costs.network_bytes(Shape.of(exp.net.sizes), len(exp.data.dataset.x),
                                   exp.trainer.history.max_points,
                                   self.settings.max_answer_bytes)

    def check_epochs(self, epochs: int) -> None:
        if epochs > self.settings.max_epochs_per_run:
            raise LimitExceeded(f"at most {self.settings.max_epochs_per_run} epochs per run "
                                f"are allowed; got {epochs}")

    # -- what one request may cost -------------------------------------------------------------

    def forward(self, exp: Experiment, points: int | None) -> int:
        """A forward step on ``points`` given points, or (None) on the next batch: its work
        and its answer, and those of the backward and update that follow it. Returns the
        work."""
        shape = Shape.of(exp.net.sizes)
        t = exp.trainer
        batch = t.batch_length if points is None else points
        work = costs.forward_work(shape, batch) + costs.iteration_work(
            shape, batch, t.compiled_fits(batch))
        answer = costs.step_answer_bytes(shape, batch)
        if work <= self.settings.max_request_work and answer <= self.settings.max_answer_bytes:
            return work
        fit = self._points_that_fit(
            costs.forward_work(shape, 1) + costs.iteration_work(shape, 1, False),
            costs.step_answer_bytes(shape, 1))
        cost = f"{_work(work)} and answers of about {_bytes(answer)}"
        if points is None:
            raise TooLarge(
                f"this network's batch holds {batch:,} samples (batch mode "
                f"'{t.config.batch_mode}'); stepping through it by hand costs {cost}, and one "
                f"request may do {self._allowed()}. Use mini-batches of at most {fit:,} samples "
                "(change the batch), or train whole iterations with a step",
                see=("configure", "step"))
        raise TooLarge(f"a forward of {points:,} points through this network (layers "
                       f"{_sizes(exp)}) costs {cost}; one request may do {self._allowed()}: "
                       f"send at most {fit:,} points at a time")

    def predict(self, exp: Experiment, points: int) -> int:
        shape = Shape.of(exp.net.sizes)
        work = costs.forward_work(shape, points)
        answer = costs.predict_answer_bytes(shape, points)
        if work <= self.settings.max_request_work and answer <= self.settings.max_answer_bytes:
            return work
        fit = self._points_that_fit(costs.forward_work(shape, 1),
                                    costs.predict_answer_bytes(shape, 1))
        raise TooLarge(f"predicting {points:,} points with this network (layers "
                       f"{_sizes(exp)}) costs {_work(work)} and an answer of about "
                       f"{_bytes(answer)}; one request may do {self._allowed()}: predict in "
                       f"chunks of at most {fit:,} points")

    def grids(self, sizes: list[int], resolution: int,
              neuron_resolution: int | None) -> tuple[int | None, int]:
        """A boundary or a stream's frames: the resolutions checked, the neurons' maps made
        smaller where they would not fit (never the output's). Returns the neuron resolution
        to draw at and the work of one drawing."""
        self.check_resolution(resolution)
        shape = Shape.of(sizes)
        s = self.settings
        output_fits = (costs.grid_values(shape, resolution, None) <= s.max_grid_values
                       and costs.grid_work(shape, resolution, None) <= s.max_request_work)
        if not output_fits:
            fit = resolution
            while fit > 2 and not (costs.grid_values(shape, fit, None) <= s.max_grid_values
                                   and costs.grid_work(shape, fit, None) <= s.max_request_work):
                fit -= 1
            raise TooLarge(f"a boundary at resolution {resolution} on this network (layers "
                           f"{'-'.join(map(str, sizes))}) costs "
                           f"{_work(costs.grid_work(shape, resolution, None))}; one request "
                           f"may do {_work(s.max_request_work)} and {s.max_grid_values:,} "
                           f"values: ask for a resolution of at most {fit}")
        if neuron_resolution is not None:
            self.check_resolution(neuron_resolution)
            while neuron_resolution > MIN_NEURON_RESOLUTION and not self._grids_fit(
                    shape, resolution, neuron_resolution):
                neuron_resolution -= 1
            if not self._grids_fit(shape, resolution, neuron_resolution):
                raise TooLarge(f"this network's {shape.neurons + shape.inputs} neurons' maps "
                               f"do not fit in {s.max_grid_values:,} values even at "
                               f"{neuron_resolution} x {neuron_resolution}: ask for the "
                               "output alone (without neurons=true)")
        return neuron_resolution, costs.grid_work(shape, resolution, neuron_resolution)

    def _grids_fit(self, shape: Shape, resolution: int, neuron_resolution: int) -> bool:
        s = self.settings
        return (costs.grid_values(shape, resolution, neuron_resolution) <= s.max_grid_values
                and costs.grid_work(shape, resolution, neuron_resolution)
                <= s.max_request_work)

    def check_resolution(self, resolution: int) -> None:
        if not 2 <= resolution <= self.settings.max_boundary_resolution:
            raise LimitExceeded(f"the resolution must be from 2 to "
                                f"{self.settings.max_boundary_resolution}; got {resolution}")

    def step(self, exp: Experiment, iterations: int, epochs: int) -> int:
        """Whole iterations or epochs in one request: their work, within the budget."""
        if epochs:
            self.check_epochs(epochs)
        per_iteration, per_epoch = self.training_work(exp)
        # Iterations cross an epoch's end (and its fixed cost) every so many.
        crossed = -(-iterations // exp.trainer.iterations_per_epoch) if iterations else 0
        work = iterations * per_iteration + crossed * costs.EPOCH_WORK + epochs * per_epoch
        budget = self.settings.max_request_work
        if work <= budget:
            return work
        unit, each = ("epoch", per_epoch) if epochs else ("iteration", per_iteration)
        fit = budget // each
        instead = (f"ask for at most {fit:,} {unit}(s), or train" if fit else
                   f"one {unit} of this network is more than that: train")
        raise TooLarge(f"a step of {epochs or iterations:,} {unit}(s) on this network costs "
                       f"{_work(work)}; a step (its answer waits for it) may do "
                       f"{_work(budget)}: {instead} in the background with a run",
                       see=("train",))

    def surface(self, exp: Experiment, resolution: int, epochs: int, minibatch: int) -> int:
        """An error surface and its three paths: their work and answer within the budgets.
        Returns the work."""
        self.check_resolution(resolution)
        shape, n = Shape.of(exp.net.sizes), exp.trainer.n_train
        s = self.settings

        def fits(r: int, e: int) -> bool:
            return (costs.surface_work(shape, n, r, e, minibatch) <= s.max_request_work
                    and costs.surface_answer_bytes(
                        r, costs.surface_path_points(n, e, minibatch)) <= s.max_answer_bytes)

        if fits(resolution, epochs):
            return costs.surface_work(shape, n, resolution, epochs, minibatch)
        r = next((r for r in range(resolution - 1, 1, -1) if fits(r, epochs)), None)
        e = _largest(lambda e: fits(resolution, e), epochs - 1)
        options = [f"a resolution of at most {r}" if r else "",
                   f"at most {e:,} epoch(s) of paths" if e else ""]
        both = next(((r2, e2) for r2 in (41, 21, 11, 5) if r2 < resolution
                     and (e2 := _largest(lambda e, r2=r2: fits(r2, e), epochs))), None)
        if both and not (r or e):
            options.append(f"a coarser resolution and fewer epochs (resolution {both[0]} "
                           f"with {both[1]:,} epoch(s) fits)")
        instead = " or ".join(o for o in options if o) or \
            "fewer training samples (even the smallest surface does not fit)"
        work = costs.surface_work(shape, n, resolution, epochs, minibatch)
        raise TooLarge(f"an error surface at resolution {resolution} with paths of {epochs:,} "
                       f"epoch(s) on this network (layers {_sizes(exp)}, {n:,} training "
                       f"samples) costs {_work(work)}; one request may do {self._allowed()}: "
                       f"ask for {instead}")

    def training_work(self, exp: Experiment) -> tuple[int, int]:
        """The work of one iteration and of one epoch of this network as configured."""
        t = exp.trainer
        shape = Shape.of(exp.net.sizes)
        m = t.batch_length
        compiled = t.compiled_fits(m)
        evaluated = (t.n_train + len(t.test_a0)) // t.history.stride
        return (costs.iteration_work(shape, m, compiled),
                costs.epoch_work(shape, t.n_train, m, compiled, evaluated))

    def is_heavy(self, work: int) -> bool:
        """Work that takes turns with other heavy requests (a tenth of the budget or more)."""
        return work * 10 >= self.settings.max_request_work

    def _points_that_fit(self, work_per_point: int, bytes_per_point: int) -> int:
        s = self.settings
        return max(1, min(s.max_request_work // max(1, work_per_point),
                          s.max_answer_bytes // max(1, bytes_per_point)))

    def _allowed(self) -> str:
        return (f"{_work(self.settings.max_request_work)} and answer "
                f"{_bytes(self.settings.max_answer_bytes)}")


def _largest(fits, most: int) -> int | None:
    """The largest count from 1 to ``most`` that fits (fits(k) true up to some k), or None."""
    if most < 1 or not fits(1):
        return None
    lo, hi = 1, most
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid - 1)
    return lo


def _sizes(exp: Experiment) -> str:
    return "-".join(map(str, exp.net.sizes))


def _work(multiply_adds: int) -> str:
    if multiply_adds >= 10**12:
        amount = f"{multiply_adds / 1e12:,.3g} trillion"
    elif multiply_adds >= 10**9:
        amount = f"{multiply_adds / 1e9:.3g} billion"
    elif multiply_adds >= 10**6:
        amount = f"{multiply_adds / 1e6:.3g} million"
    else:
        amount = f"{multiply_adds:,}"
    return f"about {amount} multiply-adds"


def _bytes(count: int) -> str:
    if count >= 10**6:
        return f"{count / 1e6:.3g} MB"
    if count >= 10**3:
        return f"{count / 1e3:.3g} kB"
    return f"{count} bytes"
