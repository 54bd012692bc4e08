from fastapi import APIRouter

from backend.api.deps import ServicesDep
from backend.core.activations import ACTIVATIONS
from backend.core.config import BATCH_MODES, REGULARIZATIONS, RULE_DESCRIPTIONS, RULES
from backend.core.datasets import BUILTINS, N_SAMPLES_MIN, NOISE_RANGE, fixed_points
from backend.core.features import FEATURES
from backend.core.network import INIT_SCHEMES
from backend.core.spec import DEFAULT_DATASET

router = APIRouter(tags=["meta"])


@router.get("/catalog")
def catalog(services: ServicesDep) -> dict:
    """Everything a client can choose from, with ranges, and the server's limits."""
    settings = services.settings
    return {
        "activations": [
            {"name": a.name, "label": a.label, "formula": a.formula,
             "derivative": a.derivative, "can_backprop": a.can_backprop,
             "symmetric": a.symmetric}
            for a in ACTIVATIONS.values()
        ],
        "datasets": [
            {"name": d.name, "task": d.task, "classes": d.classes,
             "description": d.description, "fixed_points": d.fixed_points,
             **({"points": fixed_points(d.name)} if d.fixed_points else {}),
             "parameters": {} if d.fixed_points else {
                 "n_samples": {"min": N_SAMPLES_MIN, "max": settings.max_samples,
                               "default": DEFAULT_DATASET["n_samples"]},
                 "noise": {"min": NOISE_RANGE[0], "max": NOISE_RANGE[1],
                           "default": DEFAULT_DATASET["noise"]},
                 "train_fraction": {"min": 0.0, "min_exclusive": True, "max": 1.0,
                                    "default": DEFAULT_DATASET["train_fraction"]},
                 "seed": {"min": 0, "max": 2**32 - 1, "default": DEFAULT_DATASET["seed"]},
             }}
            for d in BUILTINS.values()
        ],
        "features": [{"name": f.name, "label": f.label} for f in FEATURES.values()],
        "rules": [{"name": name, "description": RULE_DESCRIPTIONS[name]} for name in RULES],
        "batch_modes": list(BATCH_MODES),
        "init_schemes": list(INIT_SCHEMES),
        "regularization": list(REGULARIZATIONS),
        "limits": settings.limits(),
    }
