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
experiments      run modes (quick/standard/full), devices, seeds, progress bars
protocol         the experiment protocol: splits, paired seeds, equal budgets, verdicts
batched          train the seeds of one configuration as one batched model
fmt              the formatter of numbers quoted in prose, Markdown tables
datasets         scikit-learn's bundled data sets as fixed train/test splits
problems         toy losses with exact gradients and Hessians (numpy)
flows            gradient flows, accurate integration, Euler / gradient descent
plotting         the book's single figure style, the protocol's error-bar figure
interactive      offline slider figures over pre-rendered frames
adaptive         GD, sign descent and the two RMSprops for numpy problems (chapter 1)
gradstats        gradient statistics: mini-batch second moments (chapter 1)
odecontrol       step sizes of real local-error controllers (I, PI) along a flow (chapter 1)
localerror       local errors of one step: the leading term and the true error (chapter 1)
steploop         stability functions and the step-size loop at the stability edge (chapter 1)
solvercost       gradient evaluations to a target loss, true local errors (chapter 1)
rmsflow          RMSprop's accumulator as an ODE, its limits; AdaGrad and Adam (chapter 1)
regimes          the phase diagram of RMSprop's regimes over (lr, 1 - alpha) (chapter 1)
sweeps           learning-rate sweeps of small torch classifiers (chapter 1)
bounds           convergence bounds of SGD as functions of a schedule (chapter 2)
schedules        learning-rate schedules read off the bounds (chapter 2)
schedule_solver  the optimal schedule of the combined bound, two-pass refinement (chapter 2)
free_weight      the free last weight of the combined bound, bounds along training (chapter 2)
schedule_tables  schedules compared in the combined bound, their tables (chapter 2)
convex_sgd       projected SGD on convex linear problems, many runs at once (chapter 2)
schedule_runs    do the bounds hold; schedule comparisons under the protocol (chapter 2)
schaipp_logs     a vendored extract of Schaipp et al.'s training logs (chapter 2)
symbolic         symbolic backward error analysis with sympy (chapter 3)
modified         modified flows for numpy problems, the balanced toy (chapter 3)
curvature        Hessian-vector products, sharpness, explicit gradient penalty (chapter 3)
lanes            many copies of one small network stacked as lanes (chapter 3)
lane_dynamics    gradient descent and sharpness in every lane at once (chapter 3)
trajectory       the trajectory test of the modified equation, sharpness along a run (chapter 3)
penalties        the gradient penalties of mini-batches, adversarial training, Flooding (chapter 3)
constrained      exponentiated gradient versus projection (chapter 4)
constrained_problems  the NNLS and simplex toy problems with reference answers (chapter 4)
metalr           training runs that record learned step sizes (chapter 4)
metalr_long      long runs against the exact L-BFGS optimum, clean-test accuracy (chapter 4)
stepsize_grid    step-size rules on a stacked η0 × γ grid of runs (chapter 4)
stepsize_study   the robustness study, parameter-free baselines, heat-maps (chapter 4)
ssl_toy          the scalar SimSiam toy system, solved exactly (chapter 5)
ssl_toy_gd       gradient descent on the toy, the exact drift of its invariants (chapter 5)
ssl_modes        Tian-Chen-Ganguli eigenmode dynamics of linear SimSiam (chapter 5)
ssl_data         torch augmentations for 8x8 digits (chapter 5)
ssl              a small SimSiam with its ablation switches (chapter 5)
ssl_loop         the single-seed SimSiam training loop (chapter 5)
ssl_eval         k-NN, linear probe, effective rank of features (chapter 5)
ssl_stacked      many seeds of the small SimSiam as one stacked model (chapter 5)
ssl_train        training and scoring stacked SimSiam seeds, DirectPred (chapter 5)
ssl_study        the chapter's variants through the protocol, eigen-alignment (chapter 5)
optim            torch optimisers of every chapter (imports torch)
bench            step-time benchmark of the optimisers against torch.optim
bench_results    the benchmark's JSON layout and tables
reproduce        headline results for the "What you can reproduce" page
claims           the claims ledger: each claim of a source article, its check and verdict
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = (
    "experiments",
    "protocol",
    "batched",
    "fmt",
    "datasets",
    "problems",
    "flows",
    "plotting",
    "interactive",
    "adaptive",
    "gradstats",
    "odecontrol",
    "localerror",
    "steploop",
    "solvercost",
    "rmsflow",
    "regimes",
    "sweeps",
    "bounds",
    "schedules",
    "schedule_solver",
    "free_weight",
    "schedule_tables",
    "convex_sgd",
    "schedule_runs",
    "schaipp_logs",
    "symbolic",
    "modified",
    "curvature",
    "lanes",
    "lane_dynamics",
    "trajectory",
    "penalties",
    "constrained",
    "constrained_problems",
    "metalr",
    "metalr_long",
    "stepsize_grid",
    "stepsize_study",
    "ssl_toy",
    "ssl_toy_gd",
    "ssl_data",
    "ssl",
    "ssl_loop",
    "ssl_eval",
    "ssl_stacked",
    "ssl_train",
    "ssl_study",
    "ssl_modes",
    "optim",
    "bench",
    "bench_results",
    "bench_model",
    "bench_stream",
    "bench_batched",
    "reproduce",
    "claims",
)

__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SUBMODULES))
