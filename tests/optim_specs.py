"""Per-optimiser settings of the optimizer matrix (``tests/test_optim_matrix.py``).

The contract suite (``tests/test_optim_contract.py``) keeps its own specs (problems,
torch equivalents); this table adds what the matrix of issue 19 needs, modelled on
torch's ``OptimizerInfo``:

``learned``
    state keys that hold a learned step size or a scalar accumulator; they must live in
    float32 or wider whatever the parameter dtype, and keep that dtype through
    ``load_state_dict`` (torch casts floating state to the parameter dtype);
``moving``
    construction keywords under which every ``learned`` entry moves by a relative amount
    far below bfloat16's resolution (2⁻⁸) in a few steps, so that a learned state kept in
    bfloat16 would not move at all;
``initial``
    the starting value of the ``learned`` entries that ``moving`` makes creep;
``group_bad``
    (hyperparameter, bad value) pairs that a parameter group must refuse besides the
    generic bad learning rates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class MatrixSpec:
    """How the optimizer matrix drives one optimiser."""

    learned: tuple[str, ...] = ()
    moving: Mapping[str, Any] = field(default_factory=dict)
    group_bad: tuple[tuple[str, Any], ...] = ()
    initial: Mapping[str, float] = field(default_factory=dict)


MATRIX: dict[str, MatrixSpec] = {
    "SignDescent": MatrixSpec(),
    "RMSpropCoordinate": MatrixSpec(group_bad=(("alpha", 1.0), ("eps", math.nan), ("eps_inside", "yes"))),
    "RMSpropScalar": MatrixSpec(learned=("square_avg",), moving={"lr": 1e-2, "alpha": 0.9999, "initial_accumulator_value": 1e4},
                                initial={"square_avg": 1e4},
                                group_bad=(("alpha", -0.5), ("initial_accumulator_value", math.inf))),
    "AdaGradNorm": MatrixSpec(learned=("sum_sq",), moving={"lr": 1.0, "initial_accumulator_value": 1e4},
                              group_bad=(("eps", -1.0), ("weight_decay", "0"))),
    "EGD": MatrixSpec(),
    "NormalizedEGD": MatrixSpec(),
    "EGStepSize": MatrixSpec(learned=("nu",), moving={"lr": 1e-2, "meta_lr": 1e-5}, initial={"nu": 1.0},
                             group_bad=(("meta_lr", -1.0), ("direction", "newton"), ("init_nu", 0.0),
                                        ("nu_max", -1.0), ("per_coordinate", 1))),
    "HypergradientSGD": MatrixSpec(learned=("lr",), moving={"lr": 1e-2, "hyper_lr": 1e-7}, initial={"lr": 1e-2},
                                   group_bad=(("hyper_lr", math.nan),)),
    "EGGainScale": MatrixSpec(learned=("scale",), group_bad=(("gain_min", 0.0), ("scale_lr", -1.0))),
}


def matrix_spec(name: str) -> MatrixSpec:
    """The matrix spec of ``name`` (an optimiser without one gets the empty spec)."""
    return MATRIX.get(name, MatrixSpec())
