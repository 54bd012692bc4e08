"""Request bodies: shapes, types and static bounds (pydantic), with examples for the schema.

Numbers must be finite (NaN and Infinity are a 422), must be numbers (a string or a boolean
is a 422, not read as one) and unknown fields are refused, so a misspelt field never passes
silently. Limits that are settings (layers, neurons, samples, epochs, resolution) are
checked by the services against the running server's settings.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    model_validator,
)

from backend.core.activations import ACTIVATIONS
from backend.core.config import BATCH_MODES, REGULARIZATIONS, RULES
from backend.core.datasets import BUILTINS, MAX_CLASSES
from backend.core.experiment import FORMAT
from backend.core.features import FEATURES
from backend.core.history import HISTORY_POINTS
from backend.core.network import INIT_SCHEMES
from backend.core.randomstate import whole_128

ActivationName = Literal[tuple(ACTIVATIONS)]  # type: ignore[valid-type]
DatasetName = Literal[tuple(BUILTINS)]  # type: ignore[valid-type]
FeatureName = Literal[tuple(FEATURES)]  # type: ignore[valid-type]
Rule = Literal[RULES]  # type: ignore[valid-type]
BatchMode = Literal[BATCH_MODES]  # type: ignore[valid-type]
RegularizationKind = Literal[REGULARIZATIONS]  # type: ignore[valid-type]
InitScheme = Literal[INIT_SCHEMES]  # type: ignore[valid-type]
GridType = Literal["float32", "uint8"]

# Static sanity caps; the settings' limits (smaller) are checked with a clear sentence.
Coordinate = Annotated[StrictFloat, Field(ge=-1e6, le=1e6)]
Value = Annotated[StrictFloat, Field(ge=-1e12, le=1e12)]
Seed = Annotated[StrictInt, Field(ge=0, le=2**32 - 1)]
LearningRate = Annotated[StrictFloat, Field(gt=0, le=1e6)]
MAX_POINTS = 100_000
MAX_WIDTH = 4096


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class DatasetSpec(Body):
    name: DatasetName | None = Field(None, description="a built-in dataset")
    points: list[tuple[Coordinate, Coordinate, Value]] | None = Field(
        None, max_length=MAX_POINTS, description="your own [x1, x2, label] rows")
    task: Literal["classification", "regression"] | None = Field(
        None, description="for points: detected from the labels when left out")
    domain: tuple[tuple[Coordinate, Coordinate], tuple[Coordinate, Coordinate]] | None = Field(
        None, description="for points: the plane [[x1_lo, x1_hi], [x2_lo, x2_hi]] "
                          "(default: around the points)")
    n_samples: StrictInt | None = Field(None, ge=4, le=MAX_POINTS)
    noise: StrictFloat | None = Field(None, ge=0, le=1)
    train_fraction: StrictFloat | None = Field(None, gt=0, le=1)
    seed: Seed | None = None

    @model_validator(mode="after")
    def one_source(self):
        if self.name is not None and self.points is not None:
            raise ValueError("give either a built-in dataset 'name' or your own 'points', "
                             "not both")
        return self


class BatchSpec(Body):
    mode: BatchMode | None = None
    size: StrictInt | None = Field(None, ge=1, le=MAX_POINTS)


class RegularizationSpec(Body):
    kind: RegularizationKind | None = None
    rate: StrictFloat | None = Field(None, ge=0, le=1e3)


class InitSpec(Body):
    scheme: InitScheme | None = None
    seed: Seed | None = None


class CreateBody(Body):
    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False,
        json_schema_extra={"examples": [
            {},
            {"dataset": {"name": "xor"}, "hidden": [2], "learning_rate": 0.5},
            {"dataset": {"name": "and"}, "rule": "perceptron"},
            {"dataset": {"name": "circle", "n_samples": 200, "noise": 0.1,
                         "train_fraction": 0.5, "seed": 1},
             "features": ["x1", "x2"], "hidden": [4, 2], "activation": "tanh",
             "output_activation": "sigmoid", "rule": "backprop", "learning_rate": 0.1,
             "batch": {"mode": "minibatch", "size": 10},
             "regularization": {"kind": "none", "rate": 0.0},
             "init": {"scheme": "xavier", "seed": 0}},
        ]},
    )

    dataset: DatasetSpec | None = None
    features: list[FeatureName] | None = Field(None, min_length=1, max_length=len(FEATURES))
    hidden: list[Annotated[StrictInt, Field(ge=1, le=MAX_WIDTH)]] | None = Field(
        None, max_length=64)
    activation: ActivationName | None = None
    output_activation: ActivationName | None = None
    activations: list[ActivationName] | None = Field(None, min_length=1, max_length=65)
    rule: Rule | None = None
    learning_rate: LearningRate | None = None
    batch: BatchSpec | None = None
    regularization: RegularizationSpec | None = None
    init: InitSpec | None = None


class PatchBody(Body):
    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False,
        json_schema_extra={"examples": [{"learning_rate": 0.03},
                                        {"batch": {"mode": "stochastic"}}]},
    )

    learning_rate: LearningRate | None = None
    batch: BatchSpec | None = None
    regularization: RegularizationSpec | None = None
    rule: Rule | None = None


class LayerParameters(Body):
    W: list[list[Value]] = Field(max_length=MAX_WIDTH)
    b: list[Value] = Field(max_length=MAX_WIDTH)


class ParametersBody(Body):
    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False,
        json_schema_extra={"examples": [{"layers": [{"W": [[1, 1]], "b": [-1.5]}]}]},
    )

    layers: list[LayerParameters] = Field(min_length=1, max_length=65)


class ResetBody(Body):
    seed: Seed | None = Field(None, description="a new seed for the initial weights")


class ForwardBody(Body):
    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False,
        json_schema_extra={"examples": [{}, {"x": [[1, 1]], "y": [[0]]}]},
    )

    x: list[tuple[Coordinate, Coordinate]] | None = Field(
        None, min_length=1, max_length=MAX_POINTS, description="points [x1, x2] of the plane")
    y: list[list[Value]] | None = Field(
        None, min_length=1, max_length=MAX_POINTS, description="targets, one row per point")

    @model_validator(mode="after")
    def y_needs_x(self):
        if self.y is not None and self.x is None:
            raise ValueError("'y' needs the points 'x' it belongs to")
        if self.y is not None and len(self.y) != len(self.x):
            raise ValueError(f"'x' has {len(self.x)} points but 'y' has {len(self.y)} rows; "
                             "give one target row per point")
        return self


class ReplacedBody(Body):
    by: str = Field(min_length=1, max_length=64, description="the id of the network that "
                                                             "replaces this one")


class ForkBody(Body):
    name: str | None = Field(None, max_length=1000, description="a display name for the "
                             "copy (at most 40 characters, trimmed), shown to the owner of "
                             "the network it is forked from")


class EmptyBody(Body):
    pass


class StepBody(Body):
    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False,
        json_schema_extra={"examples": [{"iterations": 1}, {"epochs": 10}]},
    )

    iterations: StrictInt | None = Field(None, ge=1)
    epochs: StrictInt | None = Field(None, ge=1)

    @model_validator(mode="after")
    def one_count(self):
        if (self.iterations is None) == (self.epochs is None):
            raise ValueError("give exactly one of 'iterations' or 'epochs' (at least 1)")
        return self


class TrainBody(Body):
    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False,
        json_schema_extra={"examples": [{"epochs": 500},
                                        {"epochs": 100000, "max_epochs_per_second": 30}]},
    )

    epochs: StrictInt = Field(ge=1, description="epochs to train (a run may end sooner)")
    max_epochs_per_second: StrictFloat | None = Field(
        None, gt=0, le=1e6, description="slow the run down to watch it (default: full speed)")


class PredictBody(Body):
    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False,
        json_schema_extra={"examples": [{"x": [[0, 0], [1, 1]]}]},
    )

    x: list[tuple[Coordinate, Coordinate]] = Field(min_length=1, max_length=MAX_POINTS)


class ExportedLayer(LayerParameters):
    activation: ActivationName


class DataDocument(Body):
    points: list[tuple[Coordinate, Coordinate, Value]] = Field(min_length=1,
                                                               max_length=MAX_POINTS)
    task: Literal["classification", "regression"]
    classes: StrictInt = Field(ge=0, le=MAX_CLASSES)
    domain: tuple[tuple[Coordinate, Coordinate], tuple[Coordinate, Coordinate]]
    # Indices of the points (the core reads them as int64: bounded here, not only there).
    train: list[Annotated[StrictInt, Field(ge=0, lt=MAX_POINTS)]] = Field(
        min_length=1, max_length=MAX_POINTS)
    test: list[Annotated[StrictInt, Field(ge=0, lt=MAX_POINTS)]] = Field(max_length=MAX_POINTS)


MAX_COUNT = 2**53  # epochs, iterations: exact in a JavaScript number


# The generator's 128-bit numbers, as exports write them (decimal digits) or as numbers.
Whole128 = Annotated[str | int | float, BeforeValidator(lambda v: str(whole_128(v)))]


class PcgState(Body):
    state: Whole128
    inc: Whole128


class RngDocument(Body):
    """The random generator's saved state (NumPy's PCG64), every number within its range."""

    bit_generator: Literal["PCG64"]
    state: PcgState
    has_uint32: StrictInt = Field(ge=0, le=1)
    uinteger: StrictInt = Field(ge=0, le=2**32 - 1)


Count = Annotated[StrictInt, Field(ge=0, le=MAX_COUNT)]
Metric = Annotated[StrictFloat, Field(ge=-1e300, le=1e300)] | None


class HistoryDocument(Body):
    """An export's loss history: at most as many points as the server keeps."""

    stride: StrictInt = Field(ge=1, le=MAX_COUNT)
    max_points: StrictInt = Field(ge=2, le=HISTORY_POINTS)
    min_stride: StrictInt | None = Field(None, ge=1, le=MAX_COUNT)
    epoch: list[Count] = Field(max_length=HISTORY_POINTS)
    iteration: list[Count] = Field(max_length=HISTORY_POINTS)
    train_loss: list[Metric] = Field(max_length=HISTORY_POINTS)
    test_loss: list[Metric] = Field(max_length=HISTORY_POINTS)
    train_accuracy: list[Metric] = Field(max_length=HISTORY_POINTS)
    test_accuracy: list[Metric] = Field(max_length=HISTORY_POINTS)
    errors: list[Count | None] | None = Field(None, max_length=HISTORY_POINTS)


class TrainingDocument(Body):
    """An export's counters and history. The core checks how they fit together; the numbers
    are bounded here so that none can overflow the core's integers."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)  # "config": the spec's

    epoch: StrictInt = Field(ge=0, le=MAX_COUNT)
    iteration: StrictInt = Field(ge=0, le=MAX_COUNT)
    cursor: StrictInt = Field(0, ge=0, le=MAX_POINTS)
    order: list[Annotated[StrictInt, Field(ge=0, lt=MAX_POINTS)]] | None = Field(
        None, max_length=MAX_POINTS)
    epoch_errors: StrictInt = Field(0, ge=0, le=MAX_COUNT)
    last_epoch_errors: StrictInt | None = Field(None, ge=0, le=MAX_COUNT)
    rng: RngDocument
    history: HistoryDocument


class ImportBody(BaseModel):
    """A document from GET /export. Its spec is checked as a create body is."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    format: Literal[FORMAT]
    spec: CreateBody
    data: DataDocument
    layers: list[ExportedLayer] = Field(min_length=1, max_length=65)
    training: TrainingDocument

    def document(self) -> dict:
        return {"format": self.format, "spec": self.spec.model_dump(exclude_none=True),
                "data": self.data.model_dump(), "layers": [layer.model_dump()
                                                           for layer in self.layers],
                "training": self.training.model_dump()}


Index = Annotated[StrictInt, Field(ge=-MAX_WIDTH, le=MAX_WIDTH)]  # the core says which fit
SurfaceParameter = (tuple[Index, Literal["W"], Index, Index]
                    | tuple[Index, Literal["b"], Index])


class SurfaceBody(Body):
    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False,
        json_schema_extra={"examples": [
            {},
            {"parameters": [[0, "W", 0, 0], [0, "b", 0]], "resolution": 41, "epochs": 20},
            {"parameters": [[1, "W", 0, 0], [1, "W", 0, 1]],
             "range": [[-3, 3], [-3, 3]], "learning_rate": 0.5}]},
    )

    parameters: list[SurfaceParameter] | None = Field(
        None, min_length=2, max_length=2,
        description="two of [layer, 'W', i, j] (W[i][j] of layers[layer]) or "
                    "[layer, 'b', i] (default: the first two weights of the last layer)")
    range: tuple[tuple[Value, Value], tuple[Value, Value]] | None = Field(
        None, description="[[lo, hi], [lo, hi]] of each parameter (default: around the start "
                          "and the paths)")
    resolution: StrictInt = Field(41, ge=2, description="J on an R x R grid")
    epochs: StrictInt = Field(30, ge=1, le=MAX_COUNT, description="epochs of each path")
    minibatch: StrictInt | None = Field(None, ge=1, le=MAX_POINTS,
                                        description="the mini-batch path's batch size")
    seed: Seed | None = Field(None, description="the shuffles' seed (default: the network's)")
    learning_rate: LearningRate | None = Field(
        None, description="eta of the three paths (default: the network's)")
