"""The best schedule for the combined last-iterate bound, and helpers for training loops.

* :func:`optimal_combined_schedule` / :func:`combined_optimum_value`: the exact
  minimiser of :func:`lrtheory.bounds.combined_bound` over all non-negative
  schedules, by a backward recursion (dynamic programming);
* :func:`solve_combined_bound`: the same minimum found numerically by
  :func:`scipy.optimize.minimize` (L-BFGS in the log-rates, analytic
  gradient), an independent check of the recursion;
* :func:`best_scaling`: the best multiple of a given schedule shape, for
  comparing shapes fairly;
* :func:`smooth_grad_norms`, :func:`refined_schedule_from_norms` and
  :class:`CausalRefinedSchedule`: the two-pass refinement (record gradient
  norms in a first run, build the schedule, run again) and its online variant.

Derived in chapter 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ._validation import check_array, check_bool, check_choice, check_int, check_returned, check_scalar
from .bounds import _check_lr_norms, _check_norms, _check_radius, combined_bound, combined_bound_grad
from .schedules import refined_guess_schedule

__all__ = [
    "combined_recursion",
    "optimal_combined_schedule",
    "combined_optimum_value",
    "SolverResult",
    "solve_combined_bound",
    "best_scaling",
    "smooth_grad_norms",
    "refined_schedule_from_norms",
    "CausalRefinedSchedule",
]


def combined_recursion(grad_norms: Any) -> np.ndarray:
    """Coefficients a_t of the backward recursion that minimises the combined bound.

    Parameters
    ----------
    grad_norms : array_like, shape (T,)
        Strictly positive G_t.

    Returns
    -------
    numpy.ndarray, shape (T,)
        a_1, …, a_T.

    Notes
    -----
    Write S_t = η_{t:T} for the tail sums (S_{T+1} = 0).  The part of the
    bound that involves steps t, …, T is
    Σ_{k=t}^{T−1} G_k² (S_k − S_{k+1})²/S_{k+1} + G_T² S_T, positively
    homogeneous of degree one in (S_t, …, S_T); so its minimum over the later
    tail sums, S_t being fixed, is a_t S_t, with

    .. math:: a_T = G_T^2,\\qquad
              a_t = \\min_{0<r\\le1} G_t^2\\Big(\\frac1r - 2 + r\\Big) + a_{t+1} r
                  = 2G_t^2\\Big(\\sqrt{1 + a_{t+1}/G_t^2} - 1\\Big),

    the minimum at r = S_{t+1}/S_t = (1 + a_{t+1}/G_t²)^{-1/2}.
    Derived in chapter 2.
    """
    g2 = _check_norms(grad_norms, positive=True) ** 2
    T = g2.shape[0]
    a = np.empty(T)
    a[-1] = g2[-1]
    for t in range(T - 2, -1, -1):
        # 2 G²(√(1 + a/G²) − 1) written without cancellation
        a[t] = 2.0 * a[t + 1] / (np.sqrt(1.0 + a[t + 1] / g2[t]) + 1.0)
    return a


def optimal_combined_schedule(grad_norms: Any, radius: float) -> np.ndarray:
    """The schedule that minimises the combined bound exactly.

    Parameters
    ----------
    grad_norms : array_like, shape (T,)
        Strictly positive G_t.
    radius : float
        R.

    Returns
    -------
    numpy.ndarray, shape (T,)
        η*_1, …, η*_T, all strictly positive.

    Notes
    -----
    From :func:`combined_recursion`: the bound at the best tails is
    R²/(2S_1) + a_1 S_1/2, least at S_1 = R/√a_1; then
    S_{t+1} = S_t (1 + a_{t+1}/G_t²)^{-1/2} and η*_t = S_t − S_{t+1}.
    The problem is convex (each term is quadratic-over-linear), so this is
    the global minimum.  The bound is on θ_T, which the first T − 1 entries
    produce; the last entry is the bound's free weight
    (:func:`lrtheory.free_weight.optimal_last_weight`), (1 + √2) times the
    entry before it for constant G, and a training run should not take it as
    a step.  Derived in chapter 2.
    """
    g = _check_norms(grad_norms, positive=True)
    radius = _check_radius(radius)
    a = combined_recursion(g)
    T = g.shape[0]
    s = np.empty(T + 1)
    s[0] = radius / np.sqrt(a[0])
    s[T] = 0.0
    for t in range(T - 1):
        s[t + 1] = s[t] / np.sqrt(1.0 + a[t + 1] / g[t] ** 2)
    return s[:-1] - s[1:]


def combined_optimum_value(grad_norms: Any, radius: float) -> float:
    """The minimum of the combined bound over all non-negative schedules: R √a_1.

    Parameters
    ----------
    grad_norms : array_like, shape (T,)
        Strictly positive G_t.
    radius : float
        R.

    Returns
    -------
    float

    Notes
    -----
    For constant G_t = G, a_1 T → 4 G² as T grows, so the minimum approaches
    2RG/√T, the value of the continuous relaxation.  Derived in chapter 2.
    """
    radius = _check_radius(radius)
    return float(radius * np.sqrt(combined_recursion(grad_norms)[0]))


@dataclass(frozen=True)
class SolverResult:
    """Outcome of :func:`solve_combined_bound`."""

    lr: np.ndarray
    value: float
    success: bool
    nit: int
    message: str


def solve_combined_bound(
    grad_norms: Any,
    radius: float,
    *,
    lr0: Any = None,
    max_iter: int = 5000,
    tol: float = 1e-15,
) -> SolverResult:
    """Minimise the combined bound numerically over non-negative schedules.

    Parameters
    ----------
    grad_norms : array_like, shape (T,)
        Strictly positive G_t.
    radius : float
        R.
    lr0 : array_like, shape (T,), optional
        Starting schedule, strictly positive; default the best constant rate
        of the last-iterate bound.
    max_iter : int, optional
        Iteration limit of L-BFGS-B.
    tol : float, optional
        ``ftol`` and ``gtol`` of L-BFGS-B (on the scaled problem).

    Returns
    -------
    SolverResult
        The schedule, the bound's value there, and the solver's report.

    Notes
    -----
    The problem is scaled first (rates in units of R/(G √T) with G the root
    mean square of G_t, bound in units of R G/√T) so that the tolerances mean
    the same for every input, and solved in the log-rates u_t = ln η_t, which
    keeps every rate positive without bounds (at η_t = 0 a term of the bound can
    be infinite) and conditions the problem far better than the rates
    themselves: T = 2000 takes about a hundred L-BFGS iterations.  The gradient
    in u is η_t ∂F/∂η_t from :func:`lrtheory.bounds.combined_bound_grad`.  This
    solver does not use the recursion of :func:`combined_recursion`, so the two
    check each other.  Derived in chapter 2.
    """
    from scipy.optimize import minimize

    from .schedules import last_iterate_constant_schedule

    g = _check_norms(grad_norms, positive=True)
    radius = _check_radius(radius)
    max_iter = check_int("max_iter", max_iter, low=1)
    tol = check_scalar("tol", tol, low=0.0, low_inclusive=False)
    T = g.shape[0]
    gbar = float(np.sqrt(np.mean(g**2)))
    lr_unit = radius / (gbar * np.sqrt(T))
    gs = g / gbar
    r = np.sqrt(T)  # F(lr_unit x; G, R) = (R Ḡ/√T) F(x; G/Ḡ, √T)
    if lr0 is None:
        x0 = last_iterate_constant_schedule(gs, r)
    else:
        lr0 = check_array("lr0", lr0, ndim=1)
        if lr0.shape != g.shape:
            raise ValueError(f"lr0 must have the length of grad_norms, {g.shape[0]}, got {lr0.shape}")
        if np.any(lr0 <= 0):
            raise ValueError("lr0 must be strictly positive")
        x0 = lr0 / lr_unit

    def fun(u: np.ndarray) -> tuple[float, np.ndarray]:
        x = np.exp(u)
        return combined_bound(x, gs, r) / r, combined_bound_grad(x, gs, r) / r * x

    res = minimize(fun, np.log(x0), jac=True, method="L-BFGS-B",
                   options={"maxiter": max_iter, "ftol": tol, "gtol": tol, "maxfun": 10 * max_iter, "maxcor": 30})
    lr = np.exp(res.x) * lr_unit
    return SolverResult(lr, combined_bound(lr, g, radius), bool(res.success), int(res.nit), str(res.message))


def best_scaling(
    bound: Callable[[Any, Any, float], float],
    lr: Any,
    grad_norms: Any,
    radius: float,
) -> tuple[float, float]:
    """The best multiple c > 0 of a schedule shape for a bound of the form A/c + B c.

    Parameters
    ----------
    bound : callable
        ``bound(lr, grad_norms, radius)``, one of the bounds of
        :mod:`lrtheory.bounds`: every one of them, evaluated at c·η, equals
        A/c + B c with A, B ≥ 0 that depend on η.
    lr : array_like, shape (T,)
        The shape η (non-negative, not all zero).
    grad_norms : array_like, shape (T,)
        G_t.
    radius : float
        R.

    Returns
    -------
    (float, float)
        The best factor c* = √(A/B) and the bound's value 2√(AB) there
        (``inf`` if the bound is infinite for the shape).

    Notes
    -----
    A and B are read from two evaluations, f(1) = A + B and f(2) = A/2 + 2B.
    Derived in chapter 2.
    """
    if not callable(bound):
        raise TypeError(f"bound must be callable, got {type(bound).__name__}")
    lr, g = _check_lr_norms(lr, grad_norms)
    radius = _check_radius(radius)
    f1, f2 = (_bound_value(bound(c * lr, g, radius)) for c in (1.0, 2.0))
    if not (np.isfinite(f1) and np.isfinite(f2)):
        return float("nan"), float("inf")
    b = (2.0 * f2 - f1) / 3.0
    a = f1 - b
    if a <= 0 or b <= 0:
        raise ValueError("bound is not of the form A/c + B c with A, B > 0 for this lr")
    return float(np.sqrt(a / b)), float(2.0 * np.sqrt(a * b))


def _bound_value(value: Any) -> float:
    """A bound's value: a real number, +inf allowed (an infinite bound), NaN refused."""
    arr = check_returned("bound", value, shape=(), finite=False)
    if np.isnan(arr):
        raise ValueError("the value returned by bound is NaN")
    return float(arr)


def smooth_grad_norms(grad_norms: Any, window: int) -> np.ndarray:
    """Estimate G_t = (E‖g_t‖²)^{1/2} from one noisy run: a centred moving RMS.

    Parameters
    ----------
    grad_norms : array_like, shape (T,)
        Observed norms ‖g_t‖ of one run.
    window : int
        Width of the centred window (≥ 1; 1 means no smoothing).  Near the
        ends the window is cut to the steps that exist.

    Returns
    -------
    numpy.ndarray, shape (T,)
        √(mean of ‖g_k‖² over the window around t).

    Notes
    -----
    The mean is taken of the *squared* norms because the bounds need
    E‖g_t‖², not (E‖g_t‖)².  A centred window is allowed: the schedule of the
    second run is planned offline.  Derived in chapter 2.
    """
    g = _check_norms(grad_norms)
    window = check_int("window", window, low=1)
    T = g.shape[0]
    c = np.concatenate([[0.0], np.cumsum(g**2)])
    half = window // 2
    lo = np.clip(np.arange(T) - half, 0, T)
    hi = np.clip(np.arange(T) - half + window, 0, T)
    return np.sqrt((c[hi] - c[lo]) / (hi - lo))


def refined_schedule_from_norms(
    grad_norms: Any,
    *,
    lr: float,
    window: int,
    method: str = "optimal",
) -> np.ndarray:
    """Second pass of the two-pass refinement: a schedule from recorded norms.

    Parameters
    ----------
    grad_norms : array_like, shape (T,)
        Norms ‖g_t‖ recorded in a first run of the same length.
    lr : float
        Peak rate of the returned schedule (> 0), the one hyperparameter to tune.
    window : int
        Smoothing window for :func:`smooth_grad_norms`.
    method : {"optimal", "guess"}
        ``"optimal"``: the exact minimiser of the combined bound
        (:func:`optimal_combined_schedule`); ``"guess"``: the repaired discrete
        guess (:func:`lrtheory.schedules.refined_guess_schedule` with
        ``include_current=True``).

    Returns
    -------
    numpy.ndarray, shape (T,)
        The schedule's shape scaled so that its largest rate is ``lr``.

    Notes
    -----
    R is unknown in practice; since each of these schedules is R times a shape,
    normalising the peak and tuning it replaces knowing R.  With
    ``method="optimal"`` the last entry is the bound's free weight, not an
    update: a run of N updates should pass norms of length N + 1 (or drop the
    last entry), as chapter 2's second edition does with
    :func:`lrtheory.schedule_runs.refined_shapes`.  Derived in chapter 2.
    """
    lr = check_scalar("lr", lr, low=0.0, low_inclusive=False)
    method = check_choice("method", method, ("optimal", "guess"))
    g = smooth_grad_norms(grad_norms, window)
    if np.any(g <= 0):
        raise ValueError("grad_norms must be positive after smoothing")
    if method == "optimal":
        shape = optimal_combined_schedule(g, 1.0)
    else:
        shape = refined_guess_schedule(g, 1.0, include_current=True)
    return lr * shape / np.max(shape)


class CausalRefinedSchedule:
    """Online causal variant η_t = R Ĝ_t⁻²/√Q̂_t · (1 − (t − 1)/T).

    Parameters
    ----------
    num_steps : int
        T, the planned number of steps.
    radius : float
        R (> 0), the scale to tune.
    beta : float, optional
        Decay of the exponential moving average of ‖g‖² that estimates G_t²
        (bias-corrected, as in Adam); default 0.9.
    include_current : bool, optional
        ``True`` (default): the factor 1 − (t − 1)/T, positive at t = T;
        ``False``: the factor 1 − t/T of the source.

    Notes
    -----
    Call :meth:`__call__` once per step with the step's observed gradient norm,
    *before* the update; it returns the rate for that step, computed from that
    norm and the earlier ones only.  With ``beta = 0`` and no noise it agrees
    with :func:`lrtheory.schedules.refined_causal_schedule`.
    Derived in chapter 2.
    """

    def __init__(self, num_steps: int, radius: float, *, beta: float = 0.9,
                 include_current: bool = True) -> None:
        self.num_steps = check_int("num_steps", num_steps, low=1)
        self.radius = _check_radius(radius)
        self.beta = check_scalar("beta", beta, low=0.0, high=1.0, high_inclusive=False)
        self.include_current = check_bool("include_current", include_current)
        self.t = 0
        self._ema = 0.0
        self._q = 0.0

    def __call__(self, grad_norm: float) -> float:
        grad_norm = check_scalar("grad_norm", grad_norm, low=0.0, low_inclusive=False)
        if self.t >= self.num_steps:
            raise ValueError(f"called more than num_steps={self.num_steps} times")
        self.t += 1
        self._ema = self.beta * self._ema + (1.0 - self.beta) * grad_norm**2
        g2 = self._ema / (1.0 - self.beta**self.t)
        self._q += 1.0 / g2
        decay = 1.0 - (self.t - 1 if self.include_current else self.t) / self.num_steps
        return float(self.radius / g2 / np.sqrt(self._q) * decay)
