"""lrtheory: learning-rate theory from the dynamics point of view.

The companion package of the book *Learning rates from a dynamics point of
view*.  Importing ``lrtheory`` does nothing but make the submodules
reachable: no seeding, no global plotting style, no torch import.  Submodules
load on first access (``lrtheory.flows`` works after ``import lrtheory``), or
import them directly::

    from lrtheory import flows, problems
    from lrtheory.optim import REGISTRY

Modules
-------
experiments  run modes (quick/standard/full), devices, seeds, progress bars
datasets     scikit-learn's bundled data sets as fixed train/test splits
problems     toy losses with exact gradients and Hessians (numpy)
flows        gradient flows, accurate integration, Euler / gradient descent
plotting     the book's single figure style
optim        torch optimisers (imports torch)
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = (
    "experiments",
    "datasets",
    "problems",
    "flows",
    "plotting",
    "optim",
)

__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SUBMODULES))
