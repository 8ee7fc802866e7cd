"""The experiment protocol: every comparison in the book goes through this module.

A comparison of training methods (optimisers, schedules, switches) is only as
good as its weakest step.  This module makes the careful version the default:

1. **Splits.** Real data sets come as train / validation / test splits fixed by
   a seed (:func:`lrtheory.datasets.load_dataset` with ``val_size``); tuning
   reads validation only, and the test set is scored once per chosen
   configuration (:func:`compare_methods` refuses a tuning metric named ``test``).
2. **Paired seeds.** :func:`seed_plan` hands out evaluation seeds and tuning
   seeds that are disjoint by construction; every method runs on the same
   evaluation seeds, and a seed fixes both the initial weights and the data
   order (:mod:`lrtheory.batched` trains the seeds of one configuration as one
   batched model).
3. **Equal budgets.** Every method gets a :class:`LogGrid` of the same number of
   points; :func:`tune` extends a grid whose best point sits on an edge, and a
   method whose best point stays on an edge blocks the verdict.
4. **Statistics.** :func:`paired_difference` gives the mean paired difference
   with a 95 % interval (Student's t, or a BCa bootstrap for ten or more
   seeds), both from :mod:`scipy.stats`; :class:`Verdict` says "A better than
   B", "B better than A", "no significant difference", or why no verdict can
   be given.
5. **Divergence.** :func:`diverged` applies one stated rule (non-finite loss, or
   a loss above :data:`DIVERGENCE_FACTOR` times the initial loss); diverged runs
   are counted and shown, never averaged over.
6. **Presentation.** :func:`comparison_table` is the one table layout;
   :func:`lrtheory.plotting.errorbar_comparison` the one error-bar figure.

The protocol is derived and first used in chapter 1; every chapter uses it.
Nothing here runs at import time and nothing here imports torch.  The
submodules are ``seeds``, ``grids`` (grids, tuning, divergence), ``stats``
(intervals and verdicts) and ``compare`` (comparisons and the table); import
everything from ``lrtheory.protocol``.
"""

from __future__ import annotations

from .compare import Comparison, MethodResult, compare_methods, comparison_table
from .grids import DIVERGENCE_FACTOR, LogGrid, TuneResult, diverged, log_grid, tune
from .seeds import MIN_SEEDS, TUNING_SEED_OFFSET, SeedPlan, check_seeds, seed_plan
from .stats import PairedDifference, Verdict, paired_difference, verdict

__all__ = [
    "MIN_SEEDS",
    "DIVERGENCE_FACTOR",
    "TUNING_SEED_OFFSET",
    "SeedPlan",
    "seed_plan",
    "check_seeds",
    "LogGrid",
    "log_grid",
    "diverged",
    "TuneResult",
    "tune",
    "PairedDifference",
    "paired_difference",
    "Verdict",
    "verdict",
    "MethodResult",
    "Comparison",
    "compare_methods",
    "comparison_table",
]
