"""Chapter 4's robustness study: step-size rules tuned on validation, parameter-free baselines, heat-maps.

Builds on :func:`lrtheory.stepsize_grid.train_grid` and the protocol
(:mod:`lrtheory.protocol`):

* :func:`study_rule` trains one rule on the full η0 × γ grid on the tuning and
  the evaluation seeds together, picks γ by the tuning seeds' *worst validation
  loss over η0* (the robustness the chapter asks about; ties, which occur when
  every γ fails at some η0, are broken by the median over η0), extends the γ
  grid when the pick sits on an edge, and keeps the evaluation seeds for the
  verdicts;
* :func:`run_baselines` trains the parameter-free optimisers of their own
  packages (DoG, Prodigy, D-Adaptation) at their defaults and with their
  initial-step argument swept over the same η0 grid, and SGD and Adam over it,
  on the evaluation seeds, through :func:`lrtheory.batched.train_seeds`;
* :func:`heatmap` draws one metric over the grid, with the baselines marked on
  its colour bar.

Derived in chapter 4.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ._validation import check_choice, check_instance, check_int, check_scalar
from .stepsize_grid import RULE_LABELS, RULES, GridResult, train_grid

if TYPE_CHECKING:  # pragma: no cover
    from .datasets import TensorSplit
    from .protocol import LogGrid, SeedPlan

__all__ = ["RuleStudy", "study_rule", "BaselineResult", "BASELINE_ARGS", "make_baseline", "run_baselines",
           "heatmap"]

BASELINE_ARGS: dict[str, str] = {"DoG": "init_eta", "Prodigy": "d0", "D-Adaptation": "d0", "SGD": "lr",
                                 "Adam": "lr"}
"""The argument each baseline sweeps over the η0 grid (DoG: first step size; Prodigy: initial
estimate of the Adam learning rate; D-Adaptation (SGD): initial distance estimate, first step
d0/‖g0‖; SGD and Adam: the learning rate)."""


@dataclass(frozen=True)
class RuleStudy:
    """One rule on the grid: all seeds, the chosen γ and the evaluation-seed summaries.

    Attributes
    ----------
    grid : GridResult
        Seeds axis: the tuning seeds first, then the evaluation seeds.
    n_tune : int
        How many tuning seeds lead the seeds axis.
    chosen : int
        Index into ``grid.metas`` of the γ with the lowest mean (tuning seeds)
        worst validation loss over η0.
    on_edge : bool
        Whether ``chosen`` still sits on an edge after the extensions (then no
        verdict may rest on it).
    extensions : int
        How many times the γ grid was extended.
    n_tied : int
        How many γ share the best worst-case score (several when every γ fails
        somewhere on the η0 grid and so scores as no training); the tie is
        broken by the median validation loss over η0.
    """

    grid: GridResult
    n_tune: int
    chosen: int
    on_edge: bool
    extensions: int
    n_tied: int = 1

    @property
    def meta(self) -> float:
        """The chosen γ."""
        return self.grid.metas[self.chosen]

    def evaluation(self, stat: str, metric: str) -> np.ndarray:
        """``"worst"`` or ``"median"`` over η0 of ``metric`` at every γ, evaluation seeds only.

        Returns
        -------
        numpy.ndarray, shape (len(metas), n_eval)
        """
        check_choice("stat", stat, ("worst", "median"))
        values = self.grid.worst(metric) if stat == "worst" else self.grid.median(metric)
        return values[:, self.n_tune:]

    def at_chosen(self, stat: str, metric: str) -> np.ndarray:
        """:meth:`evaluation` at the chosen γ: one value per evaluation seed."""
        return self.evaluation(stat, metric)[self.chosen]


def _merge(a: GridResult, b: GridResult) -> GridResult:
    order = np.argsort(a.metas + b.metas)
    metas = tuple(float(v) for v in np.asarray(a.metas + b.metas)[order])
    metrics = {k: np.concatenate([a.metrics[k], b.metrics[k]], axis=1)[:, order] for k in a.metrics}
    div = np.concatenate([a.diverged, b.diverged], axis=1)[:, order]
    return GridResult(a.rule, a.kind, a.lrs, metas, a.seeds, metrics, div, a.initial_loss, a.steps)


def study_rule(rule: str, kind: str, data: "TensorSplit", lrs: "LogGrid", metas: "LogGrid", plan: "SeedPlan", *,
               epochs: int, batch_size: int = 64, hidden: int = 32, max_extensions: int = 2) -> RuleStudy:
    """Train ``rule`` on the η0 × γ grid, choose γ on validation, extend the γ grid at an edge.

    Parameters
    ----------
    rule : str
        One of :data:`lrtheory.stepsize_grid.RULES`.
    kind : {"logreg", "mlp"}
    data : TensorSplit
        With a validation part.
    lrs, metas : LogGrid
        The η0 grid and the γ grid (same number of points for every rule).
    plan : SeedPlan
        Tuning seeds choose γ; evaluation seeds are reported.
    epochs, batch_size, hidden
        As in :func:`lrtheory.stepsize_grid.train_grid`.
    max_extensions : int, optional
        Extensions of the γ grid by two points on the side of an edge pick.

    Returns
    -------
    RuleStudy
    """
    from .datasets import TensorSplit
    from .protocol import LogGrid, SeedPlan

    rule = check_choice("rule", rule, RULES)
    check_instance("data", data, TensorSplit)
    if not isinstance(lrs, LogGrid) or not isinstance(metas, LogGrid):
        raise TypeError("lrs and metas must be LogGrid (lrtheory.protocol.log_grid)")
    if not isinstance(plan, SeedPlan):
        raise TypeError(f"plan must be a SeedPlan, got {type(plan).__name__}")
    if data.X_val is None:
        raise ValueError("data must have a validation split (load_dataset(..., val_size=...))")
    max_extensions = check_int("max_extensions", max_extensions, low=0)
    seeds = tuple(plan.tuning) + tuple(plan.evaluation)
    nt = len(plan.tuning)

    def run(values: Sequence[float]) -> GridResult:
        return train_grid(rule, kind, data, lrs.values, values, seeds=seeds, epochs=epochs, batch_size=batch_size,
                          hidden=hidden)

    grid, current, ext = run(metas.values), metas, 0
    while True:
        best, n_tied = _choose(grid, nt)
        side = "low" if best == 0 else "high" if best == len(grid.metas) - 1 else None
        if side is None or ext >= max_extensions:
            break
        bigger = current.extend(side, 2)
        new = [v for v in bigger.values if v not in current.values]
        if not new:
            break
        grid, current, ext = _merge(grid, run(new)), bigger, ext + 1
    return RuleStudy(grid, nt, best, side is not None, ext, n_tied)


def _choose(grid: GridResult, nt: int) -> tuple[int, int]:
    """Index of the γ with the lowest worst validation loss over η0 (tuning seeds), ties by the median."""
    score = grid.worst("val_loss")[:, :nt].mean(axis=1)
    tied = np.nonzero(score <= score.min() + 1e-9 * max(1.0, abs(float(score.min()))))[0]
    if tied.size == 1:
        return int(tied[0]), 1
    median = grid.median("val_loss")[:, :nt].mean(axis=1)
    return int(tied[np.argmin(median[tied])]), int(tied.size)


@dataclass(frozen=True)
class BaselineResult:
    """A baseline on the evaluation seeds: at its default and over the η0 grid.

    Attributes
    ----------
    name : str
    arg : str
        The swept argument (:data:`BASELINE_ARGS`).
    default : dict of str to numpy.ndarray or None
        Metrics per seed at the package's defaults (``None`` for SGD, which has none).
    swept : dict of str to numpy.ndarray
        Metrics of shape (len(lrs), n_seeds), failures scored as no training
        (as in :meth:`GridResult.scored`).
    diverged : numpy.ndarray of bool, shape (len(lrs), n_seeds)
    """

    name: str
    arg: str
    default: dict[str, np.ndarray] | None
    swept: dict[str, np.ndarray]
    diverged: np.ndarray

    def worst(self, metric: str) -> np.ndarray:
        """Worst over the swept grid, per seed."""
        x = self._metric(metric)
        return x.min(axis=0) if "acc" in metric else x.max(axis=0)

    def median(self, metric: str) -> np.ndarray:
        """Median over the swept grid, per seed."""
        return np.median(self._metric(metric), axis=0)

    def _metric(self, metric: str) -> np.ndarray:
        if not isinstance(metric, str) or metric not in self.swept:
            raise ValueError(f"metric must be one of {sorted(self.swept)}, got {metric!r}")
        return self.swept[metric]


def make_baseline(name: str, value: float | None) -> Callable[[Any, float], Any]:
    """``make_optimizer(params, lr)`` of a baseline, at ``value`` of its swept argument (``None``: defaults).

    Parameters
    ----------
    name : str
        A key of :data:`BASELINE_ARGS`.
    value : float or None

    Returns
    -------
    callable
    """
    import torch

    name = check_choice("name", name, tuple(BASELINE_ARGS))
    kw = {} if value is None else {BASELINE_ARGS[name]: check_scalar("value", value, low=0.0, low_inclusive=False)}

    def factory(params: Any, lr: float) -> Any:
        if name == "DoG":
            from dog import DoG
            return DoG(params, **kw)
        if name == "Prodigy":
            from prodigyopt import Prodigy
            return Prodigy(params, **kw)
        if name == "D-Adaptation":
            from dadaptation import DAdaptSGD
            return DAdaptSGD(params, **kw)
        if name == "SGD":
            return torch.optim.SGD(params, **({"lr": 0.1} | kw))
        return torch.optim.Adam(params, **kw)

    return factory


def run_baselines(kind: str, data: "TensorSplit", lrs: "LogGrid", seeds: Sequence[int], *, epochs: int,
                  batch_size: int = 64, hidden: int = 32, names: Sequence[str] = tuple(BASELINE_ARGS)
                  ) -> dict[str, BaselineResult]:
    """Train each baseline at its default and over ``lrs`` on ``seeds`` (train_seeds, paired seeds).

    Parameters
    ----------
    kind : {"logreg", "mlp"}
    data : TensorSplit
    lrs : LogGrid
        The same η0 grid as the rules'.
    seeds : sequence of int
        The evaluation seeds.
    epochs, batch_size, hidden
        As for the rules.
    names : sequence of str, optional
        Which baselines (default all of :data:`BASELINE_ARGS`).

    Returns
    -------
    dict of str to BaselineResult
    """
    from .batched import train_seeds
    from .sweeps import make_classifier

    from .datasets import TensorSplit
    from .protocol import LogGrid, check_seeds

    kind = check_choice("kind", kind, ("logreg", "mlp"))
    check_instance("data", data, TensorSplit)
    check_instance("lrs", lrs, LogGrid)
    seeds = check_seeds("seeds", seeds)
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeError(f"names must be a sequence of baseline names, got {type(names).__name__}")
    for name in names:
        check_choice("names", name, tuple(BASELINE_ARGS))

    def make_model(seed: int) -> Any:
        return make_classifier(kind, data.num_features, data.num_classes, hidden=hidden, seed=seed,
                               device=data.X_train.device, dtype=data.X_train.dtype)

    def run(name: str, value: float | None) -> Any:
        return train_seeds(make_model, make_baseline(name, value), 1.0, data, seeds=seeds, epochs=epochs,
                           batch_size=batch_size)

    out = {}
    for name in names:
        default = None if name == "SGD" else run(name, None)
        runs = [run(name, v) for v in lrs.values]
        init = float(np.mean(runs[0].history[:, 0]))
        swept, div = {}, np.array([r.diverged for r in runs])
        for key in runs[0].metrics:
            x = np.array([r.metrics[key] for r in runs])
            failed = div | ~np.isfinite(x) | (np.array([r.metrics["train_loss"] for r in runs]) > init)
            swept[key] = np.where(failed, 0.1 if "acc" in key else init, x)
        out[name] = BaselineResult(name, BASELINE_ARGS[name], None if default is None else default.metrics,
                                   swept, div)
    return out


def heatmap(ax: Any, study: RuleStudy, metric: str, *, stat: str = "median", baselines: dict | None = None,
            vmin: float | None = None, vmax: float | None = None) -> Any:
    """Draw the evaluation-seed median (``stat="median"``) or worst (``"worst"``) of ``metric`` per cell.

    Parameters
    ----------
    ax : matplotlib Axes
    study : RuleStudy
    metric : str
        E.g. ``"train_loss"`` (log colour scale) or ``"test_acc"`` (linear).
    stat : {"median", "worst"}, optional
        Summary over the evaluation seeds of each cell.
    baselines : dict of str to BaselineResult, optional
        Marked on the colour bar at their default's seed median (swept median for SGD).
    vmin, vmax : float, optional
        Colour limits (shared across panels).

    Returns
    -------
    The colour bar.
    """
    import matplotlib.colors as mcolors

    from .plotting import _check_axes

    _check_axes(ax)
    check_instance("study", study, RuleStudy)
    check_choice("stat", stat, ("median", "worst"))
    if baselines is not None and not (isinstance(baselines, dict)
                                      and all(isinstance(b, BaselineResult) for b in baselines.values())):
        raise TypeError("baselines must be a dict of name to BaselineResult (from run_baselines)")
    for nm, lim in (("vmin", vmin), ("vmax", vmax)):
        if lim is not None:
            check_scalar(nm, lim)
    x = study.grid.scored(metric)[:, :, study.n_tune:]
    acc = "acc" in metric
    cell = np.median(x, axis=2) if stat == "median" else (x.min(axis=2) if acc else x.max(axis=2))
    if not acc:
        cell = np.maximum(cell, 1e-12 if vmin is None else vmin)  # a loss of exactly 0 (float32) on a log scale
    norm = (mcolors.Normalize(vmin, vmax) if acc else mcolors.LogNorm(vmin, vmax))
    g = study.grid
    im = ax.imshow(cell.T, origin="lower", aspect="auto", norm=norm, cmap="viridis" if acc else "viridis_r")
    ax.set_xticks(range(len(g.lrs)), [f"{v:.2g}" for v in g.lrs], rotation=45)
    ax.set_yticks(range(len(g.metas)), [f"{v:.2g}" for v in g.metas])
    ax.axhline(study.chosen, color="white", lw=0.8, ls=":")
    ax.set_title(RULE_LABELS[g.rule])
    cbar = ax.figure.colorbar(im, ax=ax)
    for i, (name, b) in enumerate((baselines or {}).items()):
        vals = b.default[metric] if b.default is not None else b.median(metric)
        level = float(np.nanmedian(vals))
        if math.isfinite(level):
            cbar.ax.axhline(level, color="k", lw=1.0)
            cbar.ax.text(1.6, level, name, transform=cbar.ax.get_yaxis_transform(), fontsize=9, va="center")
    return cbar
