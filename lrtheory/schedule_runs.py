"""Chapter 2's experiments with SGD: do the bounds hold, and which schedule trains best.

* :func:`bounds_hold`: run projected SGD with schedules at the base rate the
  combined bound prescribes, on a problem with known R and G, over many seeds,
  and set the measured sub-optimality beside every bound of the chapter;
* :func:`refined_shapes`: the two-pass refined schedules (exact optimum of the
  bound, its version with the warmup flattened, the article's guess) from the
  mean squared gradient norms of first runs;
* :class:`ScheduleRun`: a protocol ``run(value, seeds)`` that trains a schedule
  shape at base rate ``value`` and evaluates a whole grid in one batched call;
* :func:`parabolic_argmin`: a sub-grid estimate of a tuned optimum;
* :func:`predicted_base_rates`: the optimal base rates and bounds the combined
  bound predicts for several shapes;
* :func:`schedule_comparison`: the whole protocol comparison of one problem
  (tune a constant rate, first runs, refined shapes, every schedule tuned on the
  same grid, evaluated on paired seeds) with the bound's predictions.

SGD runs come from :func:`lrtheory.convex_sgd.run_sgd`.  Derived in chapter 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from ._validation import check_array, check_choice, check_int, check_scalar
from .bounds import average_bound, combined_bound, last_iterate_bound, weighted_average_bound
from .convex_sgd import LinearProblem, run_sgd
from .free_weight import best_base_rate
from .schedule_solver import optimal_combined_schedule, smooth_grad_norms
from .schedules import refined_guess_schedule

__all__ = ["BoundCheck", "bounds_hold", "refined_shapes", "ScheduleRun", "parabolic_argmin",
           "predicted_base_rates", "ScheduleStudy", "schedule_comparison"]


@dataclass(frozen=True)
class BoundCheck:
    """One schedule of :func:`bounds_hold`: what SGD measured and what each bound allows.

    Attributes
    ----------
    name : str
    rates : numpy.ndarray, shape (T,)
        The T − 1 updates followed by the free weight w* (also taken as a step, to show θ_{T+1}).
    measured : dict of str to (float, float)
        Mean over seeds and upper end of its one-sided 95% t-interval, for
        ``"last"`` (E L(θ_T) − L*), ``"after"`` (E L(θ_{T+1}) − L*), ``"average"``
        ((1/T) Σ_t E L(θ_t) − L*) and ``"weighted"`` (the η-weighted average with weight w*).
    bounds : dict of str to float
        ``"combined"``, ``"weighted"`` (with the weight w*), and for
        non-increasing schedules ``"last-iterate"`` and ``"average"`` (weight η_{T−1}).
    pathwise_ok : bool
        Whether every seed satisfied the sampled weighted-sum inequality
        Σ_t η_t [L(x_t, θ_t) − L(x_t, θ*)] ≤ R²/2 + ½ Σ_t η_t² ‖g_t‖² (with the weight w*).
    classic_ok : bool or None
        Whether every seed's sampled regret stayed below the classic bounded-domain
        bound (non-increasing schedules only), ``None`` otherwise.
    classic_tightness : float
        Largest ratio over seeds of the regret to that bound (``nan`` if not applicable).
    """

    name: str
    rates: np.ndarray
    measured: dict[str, tuple[float, float]]
    bounds: dict[str, float]
    pathwise_ok: bool
    classic_ok: bool | None
    classic_tightness: float


def _mean_upper(x: np.ndarray) -> tuple[float, float]:
    from scipy import stats

    x = np.asarray(x, dtype=float)
    half = stats.t.ppf(0.95, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean()), float(x.mean() + half)


def bounds_hold(problem: LinearProblem, theta_star: Any, L_star: float, shapes: Mapping[str, Any], *,
                seeds: Sequence[int], grad_norm: float, domain_radius: float,
                batch_size: int = 1) -> dict[str, BoundCheck]:
    """Measure E[L(θ_t)] − L* of SGD with each shape at its bound-optimal base rate, next to the bounds.

    Parameters
    ----------
    problem : LinearProblem
        Convex, with (sub)gradients of norm ≤ ``grad_norm`` (e.g. the absolute loss on unit rows).
    theta_star : array_like, shape (d,)
        A minimiser (on the problem's box); R = ‖θ*‖ since SGD starts at 0.
    L_star : float
        The minimum.
    shapes : mapping of str to array_like, shape (T − 1,)
        Shapes of the T − 1 updates (base rate 1), all of one length.
    seeds : sequence of int
        At least two seeds (independent samples, drawn with replacement).
    grad_norm : float
        G, a bound on every mini-batch (sub)gradient norm, used as G_t = G.
    domain_radius : float
        R_c ≥ ‖θ_t − θ*‖ for every iterate, for the classic bound.
    batch_size : int, optional
        Examples per update (default 1).

    Returns
    -------
    dict of str to BoundCheck

    Notes
    -----
    All shapes and seeds run as one batched call.  The base rate c* and the
    weight w* are those of :func:`lrtheory.free_weight.best_base_rate` with the
    true R and G: the schedule is the one the bound prescribes.  The weight is
    also applied as a last step, which the bound on θ_T does not cover: the
    record of θ_{T+1} shows what that step does.
    """
    from .protocol import check_seeds

    if not isinstance(problem, LinearProblem):
        raise TypeError(f"problem must be a LinearProblem, got {type(problem).__name__}")
    seeds = check_seeds("seeds", seeds)
    if len(seeds) < 2:
        raise ValueError("seeds must hold at least two seeds (for an interval)")
    theta_star = check_array("theta_star", theta_star, shape=(problem.dim,))
    L_star = check_scalar("L_star", L_star)
    G = check_scalar("grad_norm", grad_norm, low=0.0, low_inclusive=False)
    Rc = check_scalar("domain_radius", domain_radius, low=0.0, low_inclusive=False)
    if not isinstance(shapes, Mapping) or not shapes:
        raise TypeError("shapes must be a non-empty mapping of name to shape")
    R = float(np.linalg.norm(theta_star))
    arrs = {k: check_array(f"shapes[{k!r}]", v, ndim=1, nonnegative=True) for k, v in shapes.items()}
    T = next(iter(arrs.values())).size + 1
    if any(a.size != T - 1 for a in arrs.values()):
        raise ValueError("shapes must all have the same length")
    g = np.full(T, G)
    rates = {}
    for k, a in arrs.items():
        c, w, _ = best_base_rate(a, g, R)
        rates[k] = np.append(c * a, w)
    S = len(seeds)
    big = np.concatenate([np.broadcast_to(r, (S, T)) for r in rates.values()])
    runs = run_sgd(problem, big, seeds * len(rates), batch_size=batch_size, sampling="replacement",
                   record_every=1, theta_star=theta_star)
    out = {}
    for i, (k, r) in enumerate(rates.items()):
        sl = slice(i * S, (i + 1) * S)
        path = runs.path[sl] - L_star                        # iterates t = 1, ..., T + 1
        weighted = (path[:, :T] @ r) / r.sum()
        measured = {"last": _mean_upper(path[:, T - 1]), "after": _mean_upper(path[:, T]),
                    "average": _mean_upper(path[:, :T].mean(1)), "weighted": _mean_upper(weighted)}
        bnds = {"combined": combined_bound(r, g, R), "weighted": weighted_average_bound(r, g, R)}
        norms2 = runs.grad_norms[sl] ** 2
        pathwise = bool(np.all(runs.regret[sl] @ r <= R**2 / 2 + 0.5 * norms2 @ r**2 + 1e-12))
        mono = np.append(r[:-1], r[-2] if T > 1 else r[-1])
        ok, tight = None, math.nan
        if np.all(np.diff(mono) <= 1e-15 * mono.max()):
            bnds["last-iterate"] = last_iterate_bound(mono, g, R)
            bnds["average"] = average_bound(mono, g, R)
            regret = runs.regret[sl].mean(1)                  # (1/T) Σ_t [L(x_t, θ_t) − L(x_t, θ*)]
            classic = Rc**2 / (2 * T * mono[-1]) + (norms2 @ mono) / (2 * T)
            ok, tight = bool(np.all(regret <= classic)), float(np.max(regret / classic))
        out[k] = BoundCheck(k, r, measured, bnds, pathwise, ok, tight)
    return out


def refined_shapes(mean_sq_norms: Any, *, window: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Two-pass refined schedules from the mean squared gradient norms of first runs.

    Parameters
    ----------
    mean_sq_norms : array_like, shape (N,)
        Mean over first runs of ‖g_t‖² at each update.
    window : int
        Width of the centred moving average (:func:`lrtheory.schedule_solver.smooth_grad_norms`).

    Returns
    -------
    (dict of str to numpy.ndarray, numpy.ndarray)
        Shapes of N updates normalised to peak 1 (``"refined optimum"``,
        ``"refined, flat warmup"``, ``"refined guess"``) and the estimate
        Ĝ_1, …, Ĝ_{N+1} (the last repeated: θ_{N+1} takes no update).

    Notes
    -----
    ``"refined optimum"`` is the exact minimiser of the combined bound for Ĝ
    without its weight; ``"refined, flat warmup"`` holds it at its peak before
    the peak (the ablation of the derived warmup); ``"refined guess"`` is the
    article's guess (its zero last entry is the weight, not an update).
    """
    m = check_array("mean_sq_norms", mean_sq_norms, ndim=1, nonnegative=True)
    if m.size < 1 or np.any(m <= 0):
        raise ValueError("mean_sq_norms must be non-empty and positive")
    g = smooth_grad_norms(np.sqrt(m), check_int("window", window, low=1))
    g = np.append(g, g[-1])
    opt = optimal_combined_schedule(g, 1.0)[:-1]
    peak = int(np.argmax(opt))
    flat = opt.copy()
    flat[:peak] = opt[peak]
    guess = refined_guess_schedule(g, 1.0)[:-1]
    shapes = {"refined optimum": opt, "refined, flat warmup": flat, "refined guess": guess}
    return {k: v / v.max() for k, v in shapes.items()}, g


class ScheduleRun:
    """``run(value, seeds)`` for :func:`lrtheory.protocol.compare_methods`: SGD with ``value × shape``.

    Parameters
    ----------
    problem : LinearProblem
    L_star : float
        The problem's minimum; the run reports ``train_gap`` = L(θ_{N+1}) − L*.
    shape : array_like, shape (N,)
        The schedule's shape (the base rate multiplies it).
    batch_size : int
    sampling : {"epochs", "replacement"}, optional
    prefetch : sequence of float, optional
        Grid values to train together, in one batched call, the first time any
        of them is asked for with a given tuple of seeds.

    Notes
    -----
    Results are cached by (value, seeds); a diverged run (the protocol's rule)
    is marked ``diverged`` and its gap is ``nan``.
    """

    def __init__(self, problem: LinearProblem, L_star: float, shape: Any, *, batch_size: int,
                 sampling: str = "epochs", prefetch: Sequence[float] = ()) -> None:
        if not isinstance(problem, LinearProblem):
            raise TypeError(f"problem must be a LinearProblem, got {type(problem).__name__}")
        self.problem = problem
        self.L_star = check_scalar("L_star", L_star)
        self.shape = check_array("shape", shape, ndim=1, nonnegative=True)
        if self.shape.size < 1 or not np.any(self.shape > 0):
            raise ValueError("shape must hold at least one update with a positive rate")
        self.batch_size = check_int("batch_size", batch_size, low=1, high=problem.X.shape[0])
        self.sampling = check_choice("sampling", sampling, ("epochs", "replacement"))
        if isinstance(prefetch, (str, bytes)) or not hasattr(prefetch, "__iter__"):
            raise TypeError(f"prefetch must be a sequence of float, got {type(prefetch).__name__}")
        self.prefetch = tuple(check_scalar("prefetch", v, low=0.0, low_inclusive=False) for v in prefetch)
        self._cache: dict[tuple[float, tuple[int, ...]], tuple[np.ndarray, np.ndarray]] = {}
        self.calls = 0

    def _train(self, values: list[float], seeds: tuple[int, ...]) -> None:
        rates = np.concatenate([np.broadcast_to(v * self.shape, (len(seeds), self.shape.size)) for v in values])
        res = run_sgd(self.problem, rates, seeds * len(values), batch_size=self.batch_size,
                      sampling=self.sampling)
        self.calls += 1
        gap = (res.objective - self.L_star).reshape(len(values), len(seeds))
        div = res.diverged.reshape(len(values), len(seeds))
        for v, gv, dv in zip(values, gap, div):
            self._cache[v, seeds] = (np.where(dv, np.nan, gv), dv)

    def __call__(self, value: float, seeds: Sequence[int]) -> dict[str, np.ndarray]:
        from .protocol import check_seeds

        value = check_scalar("value", value, low=0.0, low_inclusive=False)
        seeds = check_seeds("seeds", seeds)
        if (value, seeds) not in self._cache:
            todo = [value] + [v for v in self.prefetch if v != value and (v, seeds) not in self._cache]
            self._train(todo, seeds)
        gap, div = self._cache[value, seeds]
        return {"train_gap": gap.copy(), "diverged": div.copy()}


def parabolic_argmin(values: Any, scores: Any) -> float:
    """Sub-grid minimiser: the vertex of a parabola through the best point and its neighbours, in log value.

    Parameters
    ----------
    values : array_like, shape (n,)
        Increasing positive grid values (n ≥ 3).
    scores : array_like, shape (n,)
        Their scores (lower is better; ``nan`` or ``inf`` for diverged points,
        at least one finite).

    Returns
    -------
    float
        exp of the vertex, clipped to the neighbours' interval; the grid value
        itself when the best point is on an edge or the parabola is not convex.
    """
    v = check_array("values", values, ndim=1)
    s = check_array("scores", scores, ndim=1, finite=False)
    if v.size < 3 or np.any(v <= 0) or np.any(np.diff(v) <= 0):
        raise ValueError("values must be >= 3 increasing positive numbers")
    if s.shape != v.shape:
        raise ValueError(f"scores must hold one score per value ({v.size}), got shape {s.shape}")
    s = np.where(np.isnan(s), np.inf, s)
    if not np.any(np.isfinite(s)):
        raise ValueError("scores must hold at least one finite score")
    i = int(np.argmin(s))
    if i == 0 or i == v.size - 1 or not np.all(np.isfinite(s[i - 1:i + 2])):
        return float(v[i])
    x = np.log(v[i - 1:i + 2])
    a, b, _ = np.polyfit(x, s[i - 1:i + 2], 2)
    if a <= 0:
        return float(v[i])
    return float(np.exp(np.clip(-b / (2 * a), x[0], x[2])))


def predicted_base_rates(shapes: Mapping[str, Any], grad_norms: Any, radius: float) -> dict[str, tuple[float, float]]:
    """The combined bound's optimal base rate and its value for every shape (N updates, G of length N + 1).

    Parameters
    ----------
    shapes : mapping of str to array_like, shape (N,)
    grad_norms : array_like, shape (N + 1,)
    radius : float

    Returns
    -------
    dict of str to (float, float)
    """
    if not isinstance(shapes, Mapping) or not shapes:
        raise TypeError("shapes must be a non-empty mapping of name to shape")
    out = {}
    for k, v in shapes.items():
        c, _, value = best_base_rate(v, grad_norms, radius)
        out[k] = (c, value)
    return out


@dataclass(frozen=True)
class ScheduleStudy:
    """The outcome of :func:`schedule_comparison` for one problem.

    Attributes
    ----------
    comparison : lrtheory.protocol.Comparison
        Every schedule tuned on the same grid and evaluated on the same seeds (metric ``train_gap``).
    shapes : dict of str to numpy.ndarray
        The schedule shapes (N updates, base rate 1).
    mean_sq_norms : numpy.ndarray, shape (N,)
        Mean squared gradient norms of the first runs (constant rate, tuned).
    G_hat : numpy.ndarray, shape (N + 1,)
        The smoothed estimate of G_t used for the refined shapes and the predictions.
    predicted : dict of str to (float, float)
        The combined bound's optimal base rate and value per shape, with Ĝ and R = ‖θ*‖.
    predicted_constant_G : dict of str to (float, float)
        The same with a constant G (the transfer rule of Schaipp et al., 2025).
    first_rate : float
        The tuned constant rate of the first runs.
    """

    comparison: Any
    shapes: dict[str, np.ndarray]
    mean_sq_norms: np.ndarray
    G_hat: np.ndarray
    predicted: dict[str, tuple[float, float]]
    predicted_constant_G: dict[str, tuple[float, float]]
    first_rate: float


def schedule_comparison(problem: LinearProblem, L_star: float, theta_star: Any, fixed: Mapping[str, Any], *,
                        plan: Any, grid: Any, batch_size: int, first_seeds: Sequence[int],
                        window: int) -> ScheduleStudy:
    """Chapter 2's protocol comparison of schedules on one convex problem.

    Parameters
    ----------
    problem : LinearProblem
    L_star : float
        Its minimum; the metric is ``train_gap`` = L(θ_{N+1}) − L*.
    theta_star : array_like
        A minimiser (R = ‖θ*‖ for the predictions, since θ_1 = 0).
    fixed : mapping of str to array_like, shape (N,)
        Fixed shapes, with a ``"constant"`` entry.
    plan : lrtheory.protocol.SeedPlan
        Tuning and evaluation seeds.
    grid : lrtheory.protocol.LogGrid
        One grid of base rates, the same for every schedule.
    batch_size : int
    first_seeds : sequence of int
        Seeds of the first runs (disjoint from the plan's), at least eight by the chapter's protocol.
    window : int
        Smoothing window of the gradient norms.

    Returns
    -------
    ScheduleStudy

    Notes
    -----
    The constant rate is tuned first (:func:`lrtheory.protocol.tune` on the
    tuning seeds); the first runs use it; their mean squared gradient norms give
    Ĝ and the refined shapes (:func:`refined_shapes`); then
    :func:`lrtheory.protocol.compare_methods` tunes every shape on ``grid``
    (edge extension included) and evaluates it on the evaluation seeds.  Each
    shape's grid is trained in one batched call.
    """
    from .protocol import LogGrid, SeedPlan, check_seeds, compare_methods, tune

    if not isinstance(plan, SeedPlan):
        raise TypeError(f"plan must be a SeedPlan, got {type(plan).__name__}")
    if not isinstance(grid, LogGrid):
        raise TypeError(f"grid must be a LogGrid, got {type(grid).__name__}")
    first_seeds = check_seeds("first_seeds", first_seeds)
    if len(first_seeds) < 2 or set(first_seeds) & (set(plan.tuning) | set(plan.evaluation)):
        raise ValueError("first_seeds must hold at least two seeds, disjoint from the plan's")
    if not isinstance(fixed, Mapping) or "constant" not in fixed:
        raise ValueError("fixed must be a mapping of shapes with a 'constant' entry")
    if not isinstance(problem, LinearProblem):
        raise TypeError(f"problem must be a LinearProblem, got {type(problem).__name__}")
    theta_star = check_array("theta_star", theta_star, shape=(problem.dim,))
    runs = {k: ScheduleRun(problem, L_star, v, batch_size=batch_size, prefetch=grid.values)
            for k, v in fixed.items()}
    N = runs["constant"].shape.size
    first = tune(lambda v, s: runs["constant"](v, s)["train_gap"], grid, plan.tuning).best
    res = run_sgd(problem, np.full(N, first), first_seeds, batch_size=batch_size)
    msq = (res.grad_norms**2).mean(0)
    shapes, g_hat = refined_shapes(msq, window=window)
    for k, v in shapes.items():
        runs[k] = ScheduleRun(problem, L_star, v, batch_size=batch_size, prefetch=grid.values)
    cmp_ = compare_methods({k: (grid, r) for k, r in runs.items()}, plan, tune_metric="train_gap")
    all_shapes = {k: r.shape for k, r in runs.items()}
    R = float(np.linalg.norm(theta_star))
    return ScheduleStudy(cmp_, all_shapes, msq, g_hat, predicted_base_rates(all_shapes, g_hat, R),
                         predicted_base_rates(all_shapes, np.ones(N + 1), 1.0), float(first))
