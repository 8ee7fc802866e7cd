"""Torch optimisers of the book, all following the :class:`torch.optim.Optimizer` contract.

Import from here (``from lrtheory.optim import RMSpropScalar``).  Importing this
subpackage imports torch; ``import lrtheory`` alone does not.

=====================  =====================================================  =========
optimiser              what it is                                             chapter
=====================  =====================================================  =========
``SignDescent``        θ ← θ − γ sign(g): the error-controlled step of GD      1
``RMSpropScalar``      one learning rate from the EMA of ‖g‖²                   1
``RMSpropCoordinate``  per-coordinate RMSprop, ε inside the square root         1
``AdaGradNorm``        SGD with the scalar rate R/√(Σ‖g‖²)                      2
``EGD``                exponentiated gradient θ ← θ ⊙ exp(−γ g), θ > 0          4
``NormalizedEGD``      exponentiated gradient on the probability simplex       4
``EGStepSize``         step sizes learnt by exponentiated gradient              4
``HypergradientSGD``   scalar learning rate learnt by hypergradient descent     4
``EGGainScale``        EG gains and global scale on heavy ball (Amid et al.)   4
=====================  =====================================================  =========

Every optimiser is listed in :data:`REGISTRY` (name → class), which the shared
contract test-suite (``tests/test_optim_contract.py``), the optimizer matrix
(``tests/test_optim_matrix.py``) and the benchmark (``python -m lrtheory.bench``)
walk.  :mod:`lrtheory.optim.traffic` gives each optimiser's memory traffic per
step (the compulsory minimum and what the multi-tensor path moves).
``SignDescent``, ``RMSpropCoordinate``, ``EGD`` and ``NormalizedEGD`` take
``compile=True`` for a ``torch.compile``-d multi-tensor path (opt-in: the first
step compiles for 10–70 s).
"""

from __future__ import annotations

from ._base import BookOptimizer, check_hparam
from .adagrad_norm import AdaGradNorm
from .amid import EGGainScale
from .eg import EGD, NormalizedEGD
from .rmsprop import RMSpropCoordinate, RMSpropScalar, SignDescent
from .stepsize import EGStepSize, HypergradientSGD

REGISTRY: dict[str, type[BookOptimizer]] = {
    cls.__name__: cls
    for cls in (
        SignDescent,
        RMSpropScalar,
        RMSpropCoordinate,
        AdaGradNorm,
        EGD,
        NormalizedEGD,
        EGStepSize,
        HypergradientSGD,
        EGGainScale,
    )
}
"""Every optimiser of the package, by class name."""

__all__ = [
    "BookOptimizer",
    "check_hparam",
    "REGISTRY",
    "SignDescent",
    "RMSpropScalar",
    "RMSpropCoordinate",
    "AdaGradNorm",
    "EGD",
    "NormalizedEGD",
    "EGStepSize",
    "HypergradientSGD",
    "EGGainScale",
]
