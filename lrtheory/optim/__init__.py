"""Torch optimisers of the book, all following the :class:`torch.optim.Optimizer` contract.

Import from here (``from lrtheory.optim import ...``).  Importing this
subpackage imports torch; ``import lrtheory`` alone does not.

Every optimiser is listed in :data:`REGISTRY` (name → class), which the shared
contract test-suite walks.
"""

from __future__ import annotations

from typing import Any

from ._base import BookOptimizer, check_hparam

# Each chapter's optimisers register themselves below, one import line per module.
# (chapter modules: add a line `from .<module> import *` and extend REGISTRY.)

REGISTRY: dict[str, type[BookOptimizer]] = {}
"""Every optimiser of the package, by name."""

__all__ = ["BookOptimizer", "check_hparam", "REGISTRY"]
