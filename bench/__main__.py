"""``python -m bench``: samples/second of the core's training loop next to scikit-learn's
MLPRegressor set to the same math, in the same process, and the boundary's grids/second next to
a plain NumPy forward pass."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from bench import machine, timing, workloads


def have_sklearn() -> str | None:
    """scikit-learn's version, or None when it is not installed."""
    try:
        import sklearn
    except ImportError:
        return None
    return sklearn.__version__


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--seconds", type=float, default=0.3,
                   help="length of one timed repeat (default 0.3)")
    p.add_argument("--repeats", type=int, default=5,
                   help="timed repeats per figure; the median is shown (default 5)")
    p.add_argument("--only", default="",
                   help="comma-separated workloads to run, e.g. W1,W5 (default all)")
    p.add_argument("--no-sklearn", action="store_true", help="leave scikit-learn out")
    p.add_argument("--quick", action="store_true",
                   help="a smoke run: one repeat of a few steps each (numbers meaningless)")
    args = p.parse_args(argv)
    if args.quick:
        args.seconds, args.repeats = 0.0, 1
    return args


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    args = parse(argv)
    out = out or sys.stdout
    only = {w.strip().upper() for w in args.only.split(",") if w.strip()}
    sk_version = None if args.no_sklearn else have_sklearn()
    began = time.perf_counter()

    def emit(line: str = "") -> None:
        print(line, file=out, flush=True)

    if sk_version:
        import sklearn.neural_network  # noqa: F401 (so its BLAS shows in threadpool_info)
    for line in machine.describe():
        emit(line)
    emit(f"scikit-learn: {sk_version}" if sk_version else
         "scikit-learn: not run" + ("" if args.no_sklearn else
                                    " (not installed: pip install scikit-learn threadpoolctl)"))
    emit(f"Each figure: the median of {args.repeats} timed repeat(s) of ~{args.seconds:g} s, "
         "ours and the reference taking turns.")
    emit()
    head = (f"{'':3} {'workload':<42} {'ours':>10} {'NumPy loop':>10} {'ours/np':>7} "
            f"{'sklearn':>9} {'ours/sk':>7}  {'1-epoch diff':>12}")
    emit(head)
    emit("-" * len(head))

    quick_n = 40 if args.quick else None
    for w in workloads.TRAINING:
        if only and w.key not in only:
            continue
        chunks = [workloads.ours(w), workloads.numpy_loop(w)]
        if sk_version:
            chunks.append(workloads.sklearn(w, quick_n))
        figures = timing.rates(chunks, args.seconds, args.repeats)
        diff = workloads.same_math(w, quick_n) if sk_version else None
        emit(row(w.key, w.label, figures, "samples/s", diff))

    if not only or "W5" in only:
        r = workloads.BOUNDARY_RESOLUTION
        figures = timing.rates([workloads.boundary(), workloads.boundary_reference()],
                               args.seconds, args.repeats)
        label = f"boundary {r}x{r}, every neuron, W2's net"
        emit(row("W5", label, figures, "grids/s", None))

    emit()
    emit("ours:       Trainer.run, whole epochs as a run on the server trains them "
         "(minibatches reshuffled each epoch, the divergence check, and the loss history of the "
         "training and test sets, the page's split, at the core's history epochs)")
    emit("NumPy loop: bench/reference.py, the tuned yardstick (same math and the same history "
         "evaluation, nothing else); W5: its forward pass over the same 10,000 points")
    emit("sklearn:    MLPRegressor, plain SGD with learning_rate_init = 2 eta (its loss is half "
         "ours), one partial_fit per epoch, no shuffle, the losses of both sets at the same "
         "epochs")
    emit("ratios > 1: ours is faster.")
    if sk_version:
        emit("1-epoch diff: the largest relative weight difference after one epoch from the "
             "same weights on the same batches (same math: ~1e-16)")
    emit(f"total {time.perf_counter() - began:.1f} s")
    return 0


def row(key: str, label: str, figures: list[float], unit: str, diff: float | None) -> str:
    def fig(x: float | None) -> str:
        return "-" if x is None else (f"{x:,.0f}" if x >= 100 else f"{x:,.1f}")

    mine, numpy_ = figures[0], figures[1]
    sk = figures[2] if len(figures) > 2 else None
    check = "-" if diff is None else f"{diff:.1e}"
    return (f"{key:3} {label:<42} {fig(mine):>10} {fig(numpy_):>10} {mine / numpy_:>7.2f} "
            f"{fig(sk):>9} {'-' if sk is None else f'{mine / sk:.2f}':>7}  {check:>12}  {unit}")


if __name__ == "__main__":
    raise SystemExit(main())
