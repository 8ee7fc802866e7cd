"""Grids, tuning and the divergence rule of the protocol (chapter 1)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .._validation import check_array, check_callable, check_choice, check_int, check_scalar, check_str
from .seeds import check_seeds

__all__ = ["DIVERGENCE_FACTOR", "LogGrid", "log_grid", "diverged", "TuneResult", "tune"]

DIVERGENCE_FACTOR = 10.0
"""A run has diverged when some recorded loss exceeds this multiple of its initial loss (or is not finite)."""



@dataclass(frozen=True)
class LogGrid:
    """A logarithmic grid of positive values with a constant ratio between neighbours.

    Attributes
    ----------
    values : tuple of float
        The grid, increasing.
    ratio : float
        ``values[i + 1] / values[i]`` (> 1).
    limits : (float, float)
        The grid may be extended inside ``[limits[0], limits[1]]`` only.
    """

    values: tuple[float, ...]
    ratio: float
    limits: tuple[float, float] = (0.0, math.inf)

    def __post_init__(self) -> None:
        vals = check_array("values", self.values, ndim=1)
        if vals.size < 1:
            raise ValueError("values must not be empty")
        if np.any(vals <= 0):
            raise ValueError("values of a log grid must be > 0")
        if vals.size > 1 and np.any(np.diff(vals) <= 0):
            raise ValueError("values must be strictly increasing")
        check_scalar("ratio", self.ratio, low=1.0, low_inclusive=False)
        lo, hi = _check_limits(self.limits)
        if not (lo <= vals[0] and vals[-1] <= hi):
            raise ValueError(f"values must lie inside limits {self.limits}")

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self):
        return iter(self.values)

    def extend(self, side: str, num: int = 2) -> "LogGrid":
        """The grid with ``num`` more points on ``side`` ("low" or "high"), inside the limits.

        Parameters
        ----------
        side : {"low", "high"}
            Which end to extend.
        num : int, optional
            How many points to add (default 2); fewer if a limit is reached.

        Returns
        -------
        LogGrid
            The extended grid (the same grid if a limit leaves no room).
        """
        check_choice("side", side, ("low", "high"))
        num = check_int("num", num, low=1)
        vals = list(self.values)
        lo, hi = self.limits
        for _ in range(num):
            if side == "low":
                v = float(f"{vals[0] / self.ratio:.12g}")
                if v < lo * (1 - 1e-12):
                    break
                vals.insert(0, v)
            else:
                v = float(f"{vals[-1] * self.ratio:.12g}")
                if v > hi * (1 + 1e-12):
                    break
                vals.append(v)
        return LogGrid(tuple(vals), self.ratio, self.limits)

    def describe(self) -> str:
        """A short description, e.g. ``"7 points, 1e-3 to 1e-1, ratio 2.15"``."""
        return f"{len(self.values)} points, {self.values[0]:.3g} to {self.values[-1]:.3g}, ratio {self.ratio:.3g}"


def _check_limits(limits: Any) -> tuple[float, float]:
    if not isinstance(limits, tuple):
        raise TypeError(f"limits must be a tuple (low, high), got {type(limits).__name__}")
    arr = check_array("limits", limits, shape=(2,), finite=False)
    lo = check_scalar("limits[0]", arr[0], low=0.0)
    hi = float(arr[1])
    if math.isnan(hi) or hi <= lo:
        raise ValueError(f"limits must satisfy low < high (high may be inf), got {limits}")
    return lo, hi


def log_grid(lo: float, hi: float, num: int, *, limits: tuple[float, float] = (0.0, math.inf)) -> LogGrid:
    """A :class:`LogGrid` of ``num`` points from ``lo`` to ``hi`` (both included).

    Parameters
    ----------
    lo, hi : float
        End points, ``0 < lo < hi`` (or ``lo == hi`` with ``num == 1``, which has ratio 2).
    num : int
        Number of points, ≥ 1. Every method of one comparison should get the same ``num``.
    limits : (float, float), optional
        Hard bounds that :meth:`LogGrid.extend` never crosses (for instance
        ``(0, 1)`` for a moving-average coefficient's ``1 - alpha``).

    Returns
    -------
    LogGrid

    Examples
    --------
    >>> log_grid(1e-3, 1e-1, 5).values
    (0.001, 0.0031622776601683794, 0.01, 0.0316227766016838, 0.1)
    """
    lo = check_scalar("lo", lo, low=0.0, low_inclusive=False)
    hi = check_scalar("hi", hi, low=0.0, low_inclusive=False)
    num = check_int("num", num, low=1)
    lim = _check_limits(limits)
    if num == 1:
        if lo != hi:
            raise ValueError("a one-point grid needs lo == hi")
        return LogGrid((lo,), 2.0, lim)
    if not hi > lo:
        raise ValueError(f"hi must be > lo, got lo={lo}, hi={hi}")
    vals = tuple(float(f"{v:.12g}") for v in np.geomspace(lo, hi, num))
    vals = (lo,) + vals[1:-1] + (hi,)
    return LogGrid(vals, float((hi / lo) ** (1.0 / (num - 1))), lim)


# --------------------------------------------------------------------------- divergence


def diverged(losses: Any, *, initial: float | None = None, factor: float = DIVERGENCE_FACTOR) -> np.ndarray | bool:
    """The protocol's divergence rule: some loss is non-finite or exceeds ``factor`` × the initial loss.

    Parameters
    ----------
    losses : array_like, shape (num_records,) or (num_runs, num_records)
        Recorded losses of one run, or of several runs along the last axis.
        Non-finite entries are allowed (they are what this function detects).
    initial : float, optional
        The initial loss; default the first record of each run.
    factor : float, optional
        The multiple of the initial loss beyond which a run counts as diverged
        (default :data:`DIVERGENCE_FACTOR`).  A catapult that spikes above it
        counts as diverged too: state a larger factor where that is wanted.

    Returns
    -------
    bool or numpy.ndarray of bool
        One flag for a 1-d input, one per run for a 2-d input.

    Raises
    ------
    ValueError
        If ``losses`` is empty or has more than two dimensions, or the initial
        loss is not finite and positive.

    Notes
    -----
    ``metalr`` once reported a run whose loss reached 7.8e58 as converged because
    it only looked for NaN; this rule catches it (chapter 4).
    """
    arr = check_array("losses", losses, ndim=(1, 2), finite=False)
    if arr.size == 0 or arr.shape[-1] == 0:
        raise ValueError("losses must not be empty")
    if np.iscomplexobj(arr):  # pragma: no cover - check_array casts to float
        raise TypeError("losses must be real")
    factor = check_scalar("factor", factor, low=1.0, low_inclusive=False)
    two_d = arr.ndim == 2
    arr2 = arr if two_d else arr[None, :]
    if initial is None:
        init = arr2[:, 0]
    else:
        init = np.full(arr2.shape[0], check_scalar("initial", initial))
    if np.any(~np.isfinite(init)) or np.any(init <= 0):
        raise ValueError("the initial loss must be finite and > 0 (pass initial= explicitly)")
    with np.errstate(invalid="ignore"):
        bad = ~np.all(np.isfinite(arr2), axis=1) | np.any(arr2 > factor * init[:, None], axis=1)
    return bad if two_d else bool(bad[0])


# --------------------------------------------------------------------------- tuning


def _as_scores(name: str, raw: Any, n: int) -> np.ndarray:
    arr = check_array(name, raw, ndim=1, finite=False)
    if arr.shape != (n,):
        raise ValueError(f"{name} must return one score per seed ({n}), got shape {arr.shape}")
    return arr


@dataclass(frozen=True)
class TuneResult:
    """The outcome of :func:`tune`.

    Attributes
    ----------
    grid : LogGrid
        The final grid (after any extensions).
    scores : numpy.ndarray, shape (len(grid), num_seeds)
        The validation score of every grid point on every tuning seed
        (``nan`` where a run diverged).
    seeds : tuple of int
        The tuning seeds.
    best : float
        The chosen value.
    best_index : int
        Its index in ``grid``.
    on_edge : bool
        Whether the chosen value still sits on an edge of the grid that could
        not be extended (``max_extensions`` reached); a verdict that uses it is blocked.
    at_limit : bool
        Whether the chosen value sits on a hard limit of the grid (a boundary
        optimum inside the allowed domain: reported, not blocking).
    extensions : int
        How many times the grid was extended.
    diverged_points : int
        Grid points at which at least one tuning seed diverged.
    minimize : bool
        Whether lower scores are better.
    """

    grid: LogGrid
    scores: np.ndarray
    seeds: tuple[int, ...]
    best: float
    best_index: int
    on_edge: bool
    at_limit: bool
    extensions: int
    diverged_points: int
    minimize: bool = True

    @property
    def mean_scores(self) -> np.ndarray:
        """Mean score over tuning seeds per grid point (``nan`` where any seed diverged)."""
        return np.mean(self.scores, axis=1)

    def describe(self) -> str:
        """One line: the grid, the chosen value, and any edge or divergence note."""
        notes = []
        if self.extensions:
            notes.append(f"extended {self.extensions}x")
        if self.on_edge:
            notes.append("best on the grid edge")
        if self.at_limit:
            notes.append("best at the allowed limit")
        if self.diverged_points:
            notes.append(f"{self.diverged_points} point(s) diverged")
        extra = f" ({'; '.join(notes)})" if notes else ""
        return f"{self.best:.3g} from {self.grid.describe()}{extra}"


def tune(evaluate: Callable[[float, tuple[int, ...]], Any], grid: LogGrid, seeds: Sequence[int], *,
         minimize: bool = True, max_extensions: int = 3, extend_by: int = 2,
         progress_desc: str | None = None) -> TuneResult:
    """Choose a hyperparameter on a log grid by its mean validation score over tuning seeds.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(value, seeds)`` returns one validation score per seed (a
        sequence of floats; ``nan`` or ``inf`` for a diverged run). It is called
        once per grid point with all tuning seeds, so that a batched runner
        (:mod:`lrtheory.batched`) can train them together.
    grid : LogGrid
        The starting grid.
    seeds : sequence of int
        The tuning seeds (from :attr:`SeedPlan.tuning`).
    minimize : bool, optional
        Lower scores are better (default) or higher.
    max_extensions : int, optional
        How many times a grid whose best point sits on an edge is extended on that
        side (default 3); 0 never extends.
    extend_by : int, optional
        Points added per extension (default 2).
    progress_desc : str, optional
        Label of a progress bar (quiet in ``quick`` mode).

    Returns
    -------
    TuneResult

    Raises
    ------
    ValueError
        If every grid point diverged, the seeds are empty or repeated, or
        ``evaluate`` returns the wrong number of scores.

    Notes
    -----
    A grid point whose run diverged on any tuning seed scores as the worst
    possible value (it is never chosen) and is counted in
    ``diverged_points``.  If the best mean sits on the first or last point, the
    grid grows by ``extend_by`` points on that side and the new points are
    evaluated; this repeats until the best point is interior, the grid reaches
    its limits (``at_limit``), or ``max_extensions`` is used up (``on_edge``,
    which blocks any verdict built on the result).  An added point whose run
    diverges counts as tried and worse, so the best point becomes interior.
    Chapter 1 uses this first.
    """
    from ..experiments import progress

    evaluate = check_callable("evaluate", evaluate)
    if not isinstance(grid, LogGrid):
        raise TypeError(f"grid must be a LogGrid, got {type(grid).__name__}")
    seeds = check_seeds("seeds", seeds)
    if not isinstance(minimize, bool):
        raise TypeError(f"minimize must be a bool, got {type(minimize).__name__}")
    if progress_desc is not None:
        check_str("progress_desc", progress_desc)
    max_extensions = check_int("max_extensions", max_extensions, low=0)
    extend_by = check_int("extend_by", extend_by, low=1)

    cache: dict[float, np.ndarray] = {}

    def run(values: Sequence[float]) -> None:
        todo = [v for v in values if v not in cache]
        for v in progress(todo, desc=progress_desc):
            cache[v] = _as_scores("evaluate", evaluate(float(v), seeds), len(seeds))

    run(grid.values)
    extensions = 0
    while True:
        scores = np.array([cache[v] for v in grid.values])
        ok = np.all(np.isfinite(scores), axis=1)
        if not np.any(ok):
            raise ValueError(f"every grid point diverged on the tuning seeds ({grid.describe()}): "
                             "move the grid")
        mean = np.full(len(grid), np.nan)
        mean[ok] = scores[ok].mean(axis=1)
        i = int(np.argmin(np.where(ok, mean if minimize else -mean, np.inf)))
        side = "low" if i == 0 else "high" if i == len(grid) - 1 else None
        if side is None or extensions >= max_extensions:
            break
        bigger = grid.extend(side, extend_by)
        if len(bigger) == len(grid):          # a hard limit: the optimum is on the allowed boundary
            break
        grid = bigger
        extensions += 1
        run(grid.values)
    scores = np.where(np.isfinite(scores), scores, np.nan)
    at_limit = side is not None and len(grid.extend(side, 1)) == len(grid)
    on_edge = side is not None and not at_limit
    return TuneResult(grid=grid, scores=scores, seeds=seeds, best=float(grid.values[i]), best_index=i,
                      on_edge=on_edge, at_limit=at_limit, extensions=extensions,
                      diverged_points=int(np.sum(~ok)), minimize=minimize)
