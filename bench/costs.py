"""How well the cost model prices the work it budgets: for each kind of work (a step, a
prediction, a boundary) on small and large networks, the model's multiply-adds, the time the
work takes here, and the rate between them. The budgets in backend/settings.py are set in the
model's units; this rate says what a budget means in seconds on this machine. Run by
``python -m bench.costs`` (``make bench`` runs it too).
"""

from __future__ import annotations

import time

import numpy as np

from backend.core.experiment import Experiment
from backend.services.budgets import Budgets
from backend.services.costs import Shape, forward_work, grid_work
from backend.settings import Settings
from bench.machine import describe

NETWORKS = [
    ("xor 2-3-1", {"dataset": {"name": "xor"}, "hidden": [3]}),
    ("circle 2-8-8-1", {"dataset": {"name": "circle", "n_samples": 1000}, "hidden": [8, 8]}),
    ("spiral 2-32x4-1", {"dataset": {"name": "spiral", "n_samples": 4000}, "hidden": [32] * 4}),
    ("spiral 2-64x8-1", {"dataset": {"name": "spiral", "n_samples": 10000}, "hidden": [64] * 8}),
]
BATCHES = [("stochastic", 1), ("minibatch", 10), ("minibatch", 100), ("batch", None)]


def timed(fn, at_least: float = 0.2) -> float:
    """Seconds one call of ``fn`` takes (the median of repeats filling ``at_least``)."""
    fn()
    times = []
    began = time.perf_counter()
    while time.perf_counter() - began < at_least or len(times) < 3:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def main() -> int:
    budgets = Budgets(Settings())
    print("\n".join(describe()))
    print(f"{'network':<18} {'work':<26} {'model (mult-adds)':>18} {'measured':>11} "
          f"{'rate (G/s)':>10}")
    rates = []

    def show(name: str, what: str, work: int, seconds: float) -> None:
        rate = work / seconds / 1e9
        rates.append(rate)
        print(f"{name:<18} {what:<26} {work:>18,} {seconds * 1e3:>9.2f} ms {rate:>10.2f}")

    for name, body in NETWORKS:
        exp = Experiment.create(body)
        shape = Shape.of(exp.net.sizes)
        shown = set()
        for mode, size in BATCHES:
            exp.configure({"batch": {"mode": mode, **({"size": size} if size else {})}})
            if exp.trainer.batch_length in shown:
                continue  # a set smaller than the batch: the same as a line above
            shown.add(exp.trainer.batch_length)
            per_iteration, _ = budgets.training_work(exp)
            iterations = max(1, min(2000, int(2e8 // per_iteration)))
            seconds = timed(lambda t=exp.trainer, n=iterations: t.step(iterations=n))
            show(name, f"step {iterations} it, {mode} {exp.trainer.batch_length}",
                 budgets.step(exp, iterations, 0), seconds)
        x = np.random.default_rng(0).uniform(-6, 6, (20_000, 2))
        show(name, "predict 20,000 points", forward_work(shape, len(x)),
             timed(lambda e=exp, x=x: e.predict(x)))
        show(name, "boundary 100 + neurons 50", grid_work(shape, 100, 50),
             timed(lambda e=exp: e.boundary(100, True, 50, copy=False)))
    print(f"\nmodel rate: {min(rates):.2f} to {max(rates):.2f} billion multiply-adds a second "
          f"(median {np.median(rates):.2f}); a request's budget of "
          f"{Settings().max_request_work / 1e9:g} billion is at most "
          f"{Settings().max_request_work / min(rates) / 1e9:.2f} s of one core here")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
