"""The playground's standalone core, in the lecture's notation: NumPy is all it needs.

Usable on its own (a notebook needs nothing else)::

    from backend.core import Experiment, Network, Trainer, TrainingConfig, make_dataset

    exp = Experiment.create({"dataset": {"name": "xor"}, "hidden": [2], "learning_rate": 0.5})
    print(exp.trainer.run(epochs=1000).message)

Numba, when installed, compiles the training loop of small layers
(:mod:`backend.core.accelerator`); without it the NumPy path trains every network.
"""

from backend.core.config import TrainingConfig, TrainingError
from backend.core.datasets import Dataset, make_dataset
from backend.core.experiment import Experiment
from backend.core.network import Network, Pass, backward, forward, gradients
from backend.core.surface import Parameter, error_surface
from backend.core.training import Diverged, RunResult, StepOrderError, Trainer

__all__ = [
    "Dataset",
    "Diverged",
    "Experiment",
    "Network",
    "Parameter",
    "Pass",
    "RunResult",
    "StepOrderError",
    "Trainer",
    "TrainingConfig",
    "TrainingError",
    "backward",
    "error_surface",
    "forward",
    "gradients",
    "make_dataset",
]
