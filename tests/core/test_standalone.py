"""The core stands alone: NumPy is all it needs, Numba only speeds up small layers."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from backend.core import accelerator
from tests.without_numba import hidden

REPO = __import__("pathlib").Path(__file__).resolve().parents[2]

BLOCK_NUMBA = textwrap.dedent("""
    import importlib.abc, sys
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "numba":
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    sys.meta_path.insert(0, Block())
""")

README_SNIPPET = textwrap.dedent("""
    from backend.core import Experiment, Network, Trainer, TrainingConfig, make_dataset
    exp = Experiment.create({"dataset": {"name": "xor"}, "hidden": [2], "learning_rate": 0.5})
    print(exp.trainer.run(epochs=1000).message, exp.trainer.evaluate())
    data = make_dataset("circle", 50)
    net = Network.initialised([2, 3, 1], ["tanh", "tanh"], seed=1)
    assert isinstance(exp.trainer, Trainer) and TrainingConfig().rule == "backprop"
    web = [m for m in sys.modules if m.split(".")[0] in
           ("fastapi", "starlette", "pydantic", "httpx", "uvicorn", "numba")]
    print("LOADED", web)
""")


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_core_runs_without_numba_and_loads_nothing_of_the_web():
    out = run_python(BLOCK_NUMBA + "import sys\n" + README_SNIPPET)
    assert "Finished 1000 epoch(s)" in out
    assert "LOADED []" in out


def test_importing_and_training_the_core_does_not_load_numba_until_asked():
    out = run_python("import sys\n" + README_SNIPPET.replace(
        'print("LOADED", web)', 'print("LOADED", web)\n'
        'from backend.core import accelerator\n'
        'print("ACCELERATED", accelerator.available())'))
    # Numba is loaded by the first training that can use it (when it is installed), never by
    # the import of the core or of an experiment.
    assert "LOADED [" in out
    if "ACCELERATED True" in out:
        assert "'numba'" in out.split("LOADED")[1]


def test_the_accelerator_reports_what_this_run_has():
    assert accelerator.available() is (not hidden())


@pytest.mark.skipif(hidden(), reason="needs Numba to compare against")
def test_the_numpy_path_alone_trains_as_the_compiled_loop(monkeypatch):
    from backend.core.experiment import Experiment

    spec = {"dataset": {"name": "moons", "n_samples": 80, "train_fraction": 0.75},
            "hidden": [4, 2], "learning_rate": 0.2,
            "regularization": {"kind": "l1", "rate": 0.001}}
    fast = Experiment.create(spec)
    fast.trainer.run(30)
    monkeypatch.setattr(accelerator, "kernel", lambda: None)
    slow = Experiment.create(spec)
    slow.trainer.run(30)
    np.testing.assert_allclose(fast.net.theta, slow.net.theta, rtol=1e-10, atol=1e-14)
    assert fast.trainer.history.columns["epoch"] == slow.trainer.history.columns["epoch"]
    assert fast.trainer.rng.bit_generator.state == slow.trainer.rng.bit_generator.state
