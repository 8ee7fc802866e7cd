"""What error control buys: gradient evaluations to a target loss, and true local errors (chapter 1).

Chapter 1 compares optimisers with genuine adaptive ODE solvers on the same
gradient flow dθ/dt = −∇L(θ).  The currency is the number of gradient
evaluations needed to bring the loss gap (L − L*)/(L₀ − L*) below a target,
each method at its best setting of an equal log grid; the audit is the *true*
local error of every accepted step, measured against the exact flow (not the
solver's own estimate, and not the leading Taylor term).

* the exact flow over one step and the true local errors of a run are in
  :mod:`lrtheory.localerror` (still importable from here);
* :func:`descent_gaps` runs gradient descent, sign descent or one of the two RMSprops for a
  whole grid of learning rates at once (vectorised numpy) and records the loss
  gap after every gradient evaluation; :func:`controller_run` runs the
  Heun–Euler controllers and scipy's RK45 until a target.
* :func:`evals_to_targets` reads off the cost of each target,
  :func:`target_costs` does it for a list of settings of any of these methods, and
  :func:`best_costs` picks the best grid point per target, extending the grid
  (:meth:`lrtheory.protocol.LogGrid.extend`) while the best point sits on an edge.

Derived in chapter 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from ._validation import check_array, check_callable, check_choice, check_int, check_returned, check_scalar

from .localerror import numerical_flow_map, quadratic_flow_map, true_local_errors  # noqa: F401  (moved)

if TYPE_CHECKING:  # pragma: no cover
    from .odecontrol import StepRecord

__all__ = [
    "descent_gaps",
    "controller_run",
    "evals_to_targets",
    "target_costs",
    "BestCosts",
    "best_costs",
]

DESCENT_METHODS = ("gd", "sign", "rmsprop_scalar", "rmsprop_coordinate")
CONTROLLER_METHODS = ("heun_euler_I", "heun_euler_PI", "rk45")


def _loss_gap_fn(problem: object) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    from .problems import Problem

    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a lrtheory.problems.Problem, got {type(problem).__name__}")
    if problem.minimizer is None:
        raise ValueError("problem must have a known minimizer (the loss gap needs L*)")
    star = float(problem.loss_fn(problem.minimizer))
    return (lambda th: problem.loss_fn(th) - star), problem.grad_fn


def descent_gaps(problem: object, theta0: object, method: str, lrs: object, num_steps: int, *,
                 alpha: float = 0.9, eps: float = 1e-8) -> np.ndarray:
    """Relative loss gaps of gradient descent, sign descent or RMSprop after every step, for many learning rates at once.

    Parameters
    ----------
    problem : lrtheory.problems.Problem
        With a known minimiser.
    theta0 : array_like, shape (d,)
        The common starting point.
    method : {"gd", "sign", "rmsprop_scalar", "rmsprop_coordinate"}
        The rule (as in :func:`lrtheory.adaptive.run_adaptive`, G₀ = 0, ε inside the root).
    lrs : array_like, shape (m,)
        Learning rates (γ, or γ̃ for RMSprop), > 0.
    num_steps : int
        Steps (= gradient evaluations), ≥ 0.
    alpha, eps : float, optional
        RMSprop's α in [0, 1) and ε ≥ 0.

    Returns
    -------
    numpy.ndarray, shape (num_steps + 1, m)
        (L(θ_n) − L*)/(L(θ_0) − L*); ``inf`` once a run has blown up.

    Notes
    -----
    Each column is the run of :func:`lrtheory.adaptive.run_adaptive` at that
    learning rate (the tests check it); all columns advance together, so a grid
    costs about as much as one run.  Derived in chapter 1.
    """
    gap, grad = _loss_gap_fn(problem)
    method = check_choice("method", method, DESCENT_METHODS)
    x0 = check_array("theta0", theta0, shape=(problem.dim,))  # type: ignore[attr-defined]
    lrs = check_array("lrs", lrs, ndim=1)
    if lrs.size == 0 or np.any(lrs <= 0):
        raise ValueError("lrs must be a non-empty array of positive learning rates")
    num_steps = check_int("num_steps", num_steps, low=0)
    alpha = check_scalar("alpha", alpha, low=0.0, high=1.0, high_inclusive=False)
    eps = check_scalar("eps", eps, low=0.0)
    g0 = float(gap(x0))
    if not g0 > 0:
        raise ValueError("theta0 must not be a minimiser (the initial loss gap is zero)")
    th = np.tile(x0, (lrs.size, 1))
    lr = lrs[:, None]
    G = np.zeros_like(th) if method == "rmsprop_coordinate" else np.zeros((lrs.size, 1))
    out = np.empty((num_steps + 1, lrs.size))
    out[0] = 1.0
    alive = np.ones(lrs.size, dtype=bool)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k in range(num_steps):
            g = grad(th)
            if method == "gd":
                th = th - lr * g
            elif method == "sign":
                th = th - lr * np.sign(g)
            else:
                sq = g * g if method == "rmsprop_coordinate" else np.sum(g * g, axis=1, keepdims=True)
                G = alpha * G + (1.0 - alpha) * sq
                den = np.sqrt(G + eps)
                th = th - lr * np.where(den > 0, g / np.where(den > 0, den, 1.0), 0.0)
            r = gap(th) / g0
            alive &= np.isfinite(r) & np.all(np.isfinite(th), axis=1)
            th = np.where(alive[:, None], th, x0)          # park blown-up runs (they stay marked)
            out[k + 1] = np.where(alive, r, np.inf)
    return out


def controller_run(problem: object, theta0: object, method: str, tol: float, *, targets: object,
                   max_evals: int) -> "StepRecord":
    """One run of a Heun–Euler controller or of scipy's RK45 until the smallest target or the budget.

    Parameters
    ----------
    problem : lrtheory.problems.Problem
        With a known minimiser.
    theta0 : array_like, shape (d,)
        Starting point.
    method : {"heun_euler_I", "heun_euler_PI", "rk45"}
        Gradient descent with the Heun–Euler estimate and the I or PI controller
        (:func:`lrtheory.odecontrol.heun_euler_descent`), or RK45 with ``rtol=tol``
        and ``atol=1e-3·tol`` (:func:`lrtheory.odecontrol.rk45_steps`).
    tol : float
        The tolerance, > 0.
    targets : array_like
        Relative loss gaps; the run stops below the smallest.
    max_evals : int
        Gradient-evaluation budget, ≥ 1.

    Returns
    -------
    lrtheory.odecontrol.StepRecord
        With ``evals`` (the cost up to each accepted point); ``failed`` when RK45
        gave up after blowing up (its last points are then not finite).

    Notes
    -----
    Derived in chapter 1.
    """
    from .odecontrol import heun_euler_descent, rk45_steps

    gap, grad = _loss_gap_fn(problem)
    method = check_choice("method", method, CONTROLLER_METHODS)
    x0 = check_array("theta0", theta0, shape=(problem.dim,))  # type: ignore[attr-defined]
    tol = check_scalar("tol", tol, low=0.0, low_inclusive=False)
    targets = check_array("targets", targets, ndim=1)
    if targets.size == 0 or np.any((targets <= 0) | (targets >= 1)):
        raise ValueError("targets must be relative loss gaps in (0, 1)")
    max_evals = check_int("max_evals", max_evals, low=1)
    g0 = float(gap(x0))
    lowest = float(targets.min())

    def stop(th: np.ndarray) -> bool:
        return bool(gap(th) <= lowest * g0)

    with np.errstate(over="ignore", invalid="ignore"):     # a blow-up at a loose tolerance is a result
        if method == "rk45":
            return rk45_steps(grad, x0, np.inf, rtol=tol, atol=1e-3 * tol, max_evals=max_evals, stop=stop,
                              on_failure="stop")
        return heun_euler_descent(grad, x0, tol, 10 * max_evals, controller=method.split("_")[-1],
                                  max_evals=max_evals, stop=stop)


def evals_to_targets(evals: object, gaps: object, targets: object) -> np.ndarray:
    """Gradient evaluations at which the relative loss gap first falls to each target.

    Parameters
    ----------
    evals : array_like, shape (n,)
        Evaluations spent up to each recorded point (non-decreasing).
    gaps : array_like, shape (n,) or (n, m)
        Relative loss gaps at those points (one column per run); non-finite
        entries never count as reached.
    targets : array_like, shape (k,)
        Target gaps, > 0.

    Returns
    -------
    numpy.ndarray, shape (k,) or (m, k)
        The cost of each target, ``inf`` where it was not reached.

    Notes
    -----
    Derived in chapter 1.
    """
    ev = check_array("evals", evals, ndim=1, nonempty=True, nonnegative=True)
    if np.any(ev != np.round(ev)) or np.any(np.diff(ev) < 0):
        raise ValueError("evals must be non-decreasing whole numbers of gradient evaluations")
    gp = check_array("gaps", gaps, ndim=(1, 2), finite=False)
    tg = check_array("targets", targets, ndim=1, nonempty=True)
    if gp.shape[0] != ev.size:
        raise ValueError(f"gaps must have one row per entry of evals ({ev.size}), got {gp.shape[0]}")
    if np.any(tg <= 0):
        raise ValueError("targets must be > 0")
    cols = gp if gp.ndim == 2 else gp[:, None]
    out = np.full((cols.shape[1], tg.size), np.inf)
    with np.errstate(invalid="ignore"):
        for j, t in enumerate(tg):
            hit = np.isfinite(cols) & (cols <= t)
            first = np.argmax(hit, axis=0)
            ok = hit[first, np.arange(cols.shape[1])]
            out[ok, j] = ev[first[ok]]
    return out if gp.ndim == 2 else out[0]


def target_costs(problem: object, theta0: object, method: str, values: object, *, targets: object,
                 max_evals: int, alpha: float = 0.9, eps: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    """Gradient evaluations to each target for several settings of one method.

    Parameters
    ----------
    problem : lrtheory.problems.Problem
        With a known minimiser.
    theta0 : array_like, shape (d,)
        Starting point.
    method : str
        One of ``"gd"``, ``"sign"``, ``"rmsprop_scalar"``, ``"rmsprop_coordinate"``
        (setting = learning rate, :func:`descent_gaps`) or ``"heun_euler_I"``,
        ``"heun_euler_PI"``, ``"rk45"`` (setting = tolerance, :func:`controller_run`).
    values : array_like, shape (m,)
        The settings, > 0.
    targets : array_like, shape (k,)
        Relative loss gaps in (0, 1).
    max_evals : int
        Budget per run (≥ 1).
    alpha, eps : float, optional
        RMSprop's α and ε.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Costs, shape (m, k) (``inf``: not reached within the budget), and the
        rejected tries of every run, shape (m,) (0 for the fixed-step rules).

    Notes
    -----
    Derived in chapter 1.
    """
    values = check_array("values", values, ndim=1)
    if values.size == 0 or np.any(values <= 0):
        raise ValueError("values must be a non-empty array of positive settings")
    tg = check_array("targets", targets, ndim=1)
    if tg.size == 0 or np.any((tg <= 0) | (tg >= 1)):
        raise ValueError("targets must be relative loss gaps in (0, 1)")
    max_evals = check_int("max_evals", max_evals, low=1)
    if method in DESCENT_METHODS:
        gaps = descent_gaps(problem, theta0, method, values, max_evals, alpha=alpha, eps=eps)
        return evals_to_targets(np.arange(max_evals + 1), gaps, tg), np.zeros(values.size, dtype=int)
    method = check_choice("method", method, DESCENT_METHODS + CONTROLLER_METHODS)
    gap, _ = _loss_gap_fn(problem)
    g0 = float(gap(check_array("theta0", theta0, ndim=1)))
    costs, rejected = np.empty((values.size, tg.size)), np.empty(values.size, dtype=int)
    for i, v in enumerate(values):
        rec = controller_run(problem, theta0, method, float(v), targets=tg, max_evals=max_evals)
        with np.errstate(invalid="ignore", over="ignore"):
            costs[i] = evals_to_targets(rec.evals, gap(rec.theta) / g0, tg)
        rejected[i] = rec.rejected
    return costs, rejected


@dataclass(frozen=True)
class BestCosts:
    """The outcome of :func:`best_costs`.

    Attributes
    ----------
    grid : lrtheory.protocol.LogGrid
        The final grid (after extensions).
    costs : numpy.ndarray, shape (len(grid), k)
        Evaluations to each target at each grid point (``inf``: not reached).
    best_value, best_cost : numpy.ndarray, shape (k,)
        Per target, the best setting (``nan`` if no point reached it) and its cost.
    on_edge : numpy.ndarray of bool, shape (k,)
        Targets whose best setting still sits on an edge of the grid.
    extensions : int
        How many times the grid was extended.
    """

    grid: object
    costs: np.ndarray
    best_value: np.ndarray
    best_cost: np.ndarray
    on_edge: np.ndarray
    extensions: int


def best_costs(cost_fn: Callable[[np.ndarray], np.ndarray], grid: object, *, max_extensions: int = 2,
               extend_by: int = 2) -> BestCosts:
    """Each target's best setting on a log grid, extending the grid while a best point sits on an edge.

    Parameters
    ----------
    cost_fn : callable
        ``cost_fn(values)`` returns the costs, shape ``(len(values), k)``, of
        settings ``values`` (``inf`` where a target is not reached).
    grid : lrtheory.protocol.LogGrid
        The starting grid; every method of one comparison gets the same number of points.
    max_extensions : int, optional
        Extensions allowed (default 2; 0 never extends).
    extend_by : int, optional
        Points added per extension (default 2).

    Returns
    -------
    BestCosts

    Notes
    -----
    The deterministic twin of :func:`lrtheory.protocol.tune` (no seeds: the
    problems are deterministic).  A target's best point counts as on an edge
    when it is the first or last grid point and the cost there is finite.
    Derived in chapter 1.
    """
    from .protocol import LogGrid

    cost_fn = check_callable("cost_fn", cost_fn)
    if not isinstance(grid, LogGrid):
        raise TypeError(f"grid must be a LogGrid, got {type(grid).__name__}")
    max_extensions = check_int("max_extensions", max_extensions, low=0)
    extend_by = check_int("extend_by", extend_by, low=1)
    cache: dict[float, np.ndarray] = {}

    def fill(g: LogGrid) -> np.ndarray:
        todo = [v for v in g.values if v not in cache]
        if todo:
            c = check_returned("cost_fn", cost_fn(np.array(todo)), finite=False)
            if c.ndim != 2 or np.isnan(c).any() or np.any(c < 0):
                raise ValueError(f"cost_fn must return a 2-d array of costs >= 0 (inf: not reached), got {c!r}")
            if c.shape[0] != len(todo):
                raise ValueError(f"cost_fn must return one row per value ({len(todo)}), got {c.shape[0]}")
            for v, row in zip(todo, c):
                cache[v] = row
        return np.array([cache[v] for v in g.values])

    extensions = 0
    while True:
        costs = fill(grid)
        best = np.argmin(costs, axis=0)
        finite = np.isfinite(costs[best, np.arange(costs.shape[1])])
        low = np.any(finite & (best == 0))
        high = np.any(finite & (best == len(grid) - 1))
        if not (low or high) or extensions >= max_extensions:
            break
        bigger = grid
        if low:
            bigger = bigger.extend("low", extend_by)
        if high:
            bigger = bigger.extend("high", extend_by)
        if len(bigger) == len(grid):
            break
        grid, extensions = bigger, extensions + 1
    k = np.arange(costs.shape[1])
    best_cost = costs[best, k]
    best_value = np.where(np.isfinite(best_cost), np.array(grid.values)[best], np.nan)
    on_edge = np.isfinite(best_cost) & ((best == 0) | (best == len(grid) - 1))
    return BestCosts(grid, costs, best_value, best_cost, on_edge, extensions)
