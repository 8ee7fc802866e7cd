"""The free last weight of the combined last-iterate bound, and what follows from it.

In the combined bound of :func:`lrtheory.bounds.combined_bound`,

.. math:: \\mathbb E[L(\\theta_T)] - L^* \\le F(\\eta) =
          \\frac{R^2}{2\\eta_{1:T}} + \\frac12\\sum_{t=1}^{T}
          \\frac{\\eta_t^2 G_t^2}{\\eta_{\\min(t+1,T):T}},

the iterate θ_T is made by the updates η_1, …, η_{T−1} only.  The last rate
η_T never moves θ_T: in the proof it weights a *virtual* step from θ_T whose
end point is dropped, so any w = η_T > 0 gives a valid bound.  This module
takes that reading seriously:

* :func:`optimal_last_weight`: the best w for given updates, and the bound there;
* :func:`best_base_rate`: the best multiple of a schedule shape *and* the best
  weight at once (what tuning the base rate of a schedule aims at);
* :func:`bound_along_training`: the bound on θ_t for every t of one run;
* :func:`refined_last_iterate_bound`: the same bound written as the refined
  last-iterate bound of Defazio et al. (2023), term by term, the oracle of the
  identity between the two forms;
* :func:`linear_decay_bound`: the closed form of the bound for linear decay;
* :func:`free_end_schedule`: the continuous optimum with a free end point
  (the relaxation of the source article with the weight kept), discretised.

Arrays follow :mod:`lrtheory.bounds`: ``steps`` holds the T − 1 updates
η_1, …, η_{T−1}, ``grad_norms`` holds G_1, …, G_T (G_T is the gradient size at
θ_T itself, which enters only through the weight), ``radius`` is R.

Derived in chapter 2.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._validation import check_array, check_int, check_scalar
from .bounds import _check_lr_norms, _check_norms, _check_radius, _ratio, tail_sums

__all__ = [
    "optimal_last_weight",
    "best_base_rate",
    "bound_along_training",
    "refined_last_iterate_bound",
    "linear_decay_bound",
    "free_end_schedule",
]


def _check_steps(steps: Any, grad_norms: Any, name: str = "steps") -> tuple[np.ndarray, np.ndarray]:
    s = check_array(name, steps, ndim=1, nonnegative=True)
    g = _check_norms(grad_norms)
    if g.shape[0] != s.shape[0] + 1:
        raise ValueError(f"grad_norms must hold one more entry than {name} (G_1..G_T for T - 1 updates), "
                         f"got {g.shape[0]} and {s.shape[0]}")
    if g[-1] <= 0:
        raise ValueError("grad_norms[-1] (G_T) must be > 0: with G_T = 0 the weight could grow without bound")
    return s, g


def _weight_terms(steps: np.ndarray, g: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """P = Σ steps, tails s_t = η_{t+1:T−1} and c_t = η_t² G_t² of the updates."""
    total = float(np.sum(steps))
    tails = tail_sums(steps) - steps if steps.size else steps
    return total, tails, steps**2 * g[:-1] ** 2


def _f_of_w(w: float, radius: float, total: float, tails: np.ndarray, c: np.ndarray, gT: float) -> float:
    if total + w <= 0:
        return math.inf
    den = tails + w
    return float(radius**2 / (2 * (total + w)) + 0.5 * np.sum(_ratio(c, den)) + 0.5 * gT**2 * w)


def optimal_last_weight(steps: Any, grad_norms: Any, radius: float) -> tuple[float, float]:
    """The best free weight w = η_T for given updates, and the combined bound there.

    Parameters
    ----------
    steps : array_like, shape (T − 1,)
        The updates η_1, …, η_{T−1} (non-negative; may be empty for T = 1).
    grad_norms : array_like, shape (T,)
        G_1, …, G_T with G_T > 0.
    radius : float
        R > 0.

    Returns
    -------
    (float, float)
        w* and min_w F(η_1, …, η_{T−1}, w).

    Notes
    -----
    With P = η_{1:T−1}, s_t = η_{t+1:T−1} and c_t = η_t² G_t²,

    .. math:: F(w) = \\frac{R^2}{2(P+w)} + \\frac12\\sum_{t=1}^{T-1}\\frac{c_t}{s_t+w}
              + \\frac{G_T^2}{2}\\,w ,

    a convex function of w whose derivative increases from −∞ to G_T²/2 (the
    last positive update has an empty tail s_t = 0, or P = 0, so some term grows
    like 1/w at 0); its root is found by :func:`scipy.optimize.brentq` on log w,
    inside [w_hi·10⁻¹⁸, w_hi] with w_hi = √(R² + Σ c_t)/G_T, where the
    derivative is already ≥ 0.  (Should rounding leave the derivative ≥ 0 at
    the lower end, w* = 0 is returned.)  For T = 1, w* = R/G_1 and the bound is
    R G_1.  Derived in chapter 2.
    """
    from scipy.optimize import brentq

    s, g = _check_steps(steps, grad_norms)
    radius = _check_radius(radius)
    total, tails, c = _weight_terms(s, g)
    gT = float(g[-1])

    def deriv(u: float) -> float:
        w = math.exp(u)
        return float(-radius**2 / (2 * (total + w) ** 2) - 0.5 * np.sum(c / (tails + w) ** 2) + 0.5 * gT**2)

    hi = math.log(math.sqrt(radius**2 + float(np.sum(c))) / gT)
    lo = hi - 41.5                                       # w_hi * 1e-18
    if deriv(lo) >= 0:
        return 0.0, _f_of_w(0.0, radius, total, tails, c, gT)
    u = brentq(deriv, lo, hi + 1e-12, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500)
    w = math.exp(u)
    return w, _f_of_w(w, radius, total, tails, c, gT)


def best_base_rate(shape: Any, grad_norms: Any, radius: float) -> tuple[float, float, float]:
    """The best multiple c of a shape of updates, with the best free weight, and the bound there.

    Parameters
    ----------
    shape : array_like, shape (T − 1,)
        The updates' shape (non-negative, not all zero), e.g. a schedule with base rate 1.
    grad_norms : array_like, shape (T,)
        G_1, …, G_T with G_T > 0.
    radius : float
        R > 0.

    Returns
    -------
    (float, float, float)
        c*, the weight w* that goes with c* shape, and min over c, w of F(c·shape, w).

    Notes
    -----
    Writing w = cρ, F(c·[shape, ρ]) = A(ρ)/c + B(ρ)c with A = R²/(2(P + ρ)),
    so the best c for fixed ρ is √(A/B) and the bound is R√(B(ρ)/(P + ρ)).  B is
    convex in ρ and P + ρ is affine and positive, so B/(P + ρ) is quasi-convex:
    a bounded Brent search in log ρ (:func:`scipy.optimize.minimize_scalar`)
    finds its minimum.  This is the "optimal base learning rate" of a schedule
    in the sense of Schaipp et al. (2025), with the last weight chosen as well.
    Derived in chapter 2.
    """
    from scipy.optimize import minimize_scalar

    s, g = _check_steps(shape, grad_norms, "shape")
    radius = _check_radius(radius)
    if s.size == 0 or not np.any(s > 0):
        raise ValueError("shape must hold at least one positive update")
    total, tails, c = _weight_terms(s, g)
    gT = float(g[-1])

    def b_over(u: float) -> float:
        rho = math.exp(u)
        b = 0.5 * (float(np.sum(_ratio(c, tails + rho))) + gT**2 * rho)
        return b / (total + rho)

    center = math.log(max(float(s[-1]), float(s.max()) * 1e-6))
    res = minimize_scalar(b_over, bounds=(center - 30.0, center + 30.0), method="bounded",
                          options={"xatol": 1e-11, "maxiter": 1000})
    rho = math.exp(float(res.x))
    b = b_over(float(res.x)) * (total + rho)
    a = radius**2 / (2 * (total + rho))
    cstar = math.sqrt(a / b)
    return cstar, cstar * rho, 2.0 * math.sqrt(a * b)


def bound_along_training(steps: Any, grad_norms: Any, radius: float, *, times: Any = None) -> np.ndarray:
    """The combined bound on θ_t, with its best free weight, for every t of one run.

    Parameters
    ----------
    steps : array_like, shape (T − 1,)
        The updates η_1, …, η_{T−1} of the run.
    grad_norms : array_like, shape (T,)
        G_1, …, G_T, all > 0.
    radius : float
        R > 0.
    times : array_like of int, optional
        The iterates t ∈ {1, …, T} to bound (default all of them).

    Returns
    -------
    numpy.ndarray
        One bound per entry of ``times``: min_w F(η_1, …, η_{t−1}, w; G_1..G_t).

    Notes
    -----
    The iterate θ_t only knows the first t − 1 updates, so its bound is that of
    the prefix, with its own best weight (:func:`optimal_last_weight`); for t = 1
    it is R G_1.  The weights of all prefixes are found together by 80 bisection
    steps in log w on the monotone derivative, in blocks of rows (memory
    O(256 T)).  This is the curve that shows the sudden drop of the bound in a
    cooldown (Schaipp et al., 2025).  Derived in chapter 2.
    """
    s, g = _check_steps(steps, grad_norms)
    radius = _check_radius(radius)
    if np.any(g <= 0):
        raise ValueError("grad_norms must be > 0 here (every prefix has its own last weight)")
    T = g.size
    if times is None:
        t_arr = np.arange(1, T + 1)
    else:
        t_arr = check_array("times", times, ndim=1)
        if t_arr.size == 0 or np.any(t_arr != np.round(t_arr)) or np.any(t_arr < 1) or np.any(t_arr > T):
            raise ValueError(f"times must hold integers in [1, T={T}]")
        t_arr = t_arr.astype(int)
    cum = np.concatenate([[0.0], np.cumsum(s)])            # cum[m] = η_{1:m}
    c = s**2 * g[:-1] ** 2
    out = np.empty(t_arr.size)
    for start in range(0, t_arr.size, 256):
        tt = t_arr[start:start + 256]
        m = tt - 1                                         # number of updates seen by θ_t
        k = np.arange(s.size)
        mask = k[None, :] < m[:, None]                      # update k+1 belongs to the prefix
        tails = np.where(mask, cum[m][:, None] - cum[k + 1][None, :], 1.0)
        cc = np.where(mask, c[None, :], 0.0)
        total = cum[m]
        gT = g[m]                                           # G_t of the bounded iterate
        hi = np.log(np.sqrt(radius**2 + cc.sum(1)) / gT) + 1e-12
        lo = hi - 41.5

        def deriv(u: np.ndarray) -> np.ndarray:
            w = np.exp(u)[:, None]
            return (-radius**2 / (2 * (total + w[:, 0]) ** 2) - 0.5 * np.sum(cc / (tails + w) ** 2, axis=1)
                    + 0.5 * gT**2)

        for _ in range(80):
            mid = 0.5 * (lo + hi)
            pos = deriv(mid) >= 0
            hi = np.where(pos, mid, hi)
            lo = np.where(pos, lo, mid)
        w = np.exp(0.5 * (lo + hi))
        f = (radius**2 / (2 * (total + w)) + 0.5 * np.sum(_ratio(cc, tails + w[:, None]), axis=1)
             + 0.5 * gT**2 * w)
        out[start:start + tt.size] = f
    return out


def refined_last_iterate_bound(lr: Any, grad_norms: Any, radius: float) -> float:
    """The last-iterate bound written as the refined bound of Defazio et al. (2023).

    Parameters
    ----------
    lr : array_like, shape (T,)
        η_1, …, η_T (non-negative, η_1 + … + η_T > 0).
    grad_norms : array_like, shape (T,)
        G_t.
    radius : float
        R.

    Returns
    -------
    float

    Notes
    -----
    With S_k = η_{k:T} and e_t = η_t² G_t²,

    .. math:: \\frac{R^2 + \\sum_{t=1}^T e_t}{2S_1} + \\frac12\\sum_{k=1}^{T-1}
              \\frac{\\eta_k}{S_{k+1}}\\,\\frac{\\sum_{t=k}^T e_t}{S_k},

    term by term as the refined bound of Defazio et al. (2023, Theorem 10, as
    implemented in the package of Schaipp et al., 2025).  Because
    η_k/(S_k S_{k+1}) = 1/S_{k+1} − 1/S_k, the sum telescopes and the function
    equals :func:`lrtheory.bounds.combined_bound` (the tests check it on random
    schedules; chapter 2 proves it).  A term with S_{k+1} = 0 < η_k is
    infinite.  Derived in chapter 2.
    """
    lr, g = _check_lr_norms(lr, grad_norms)
    radius = _check_radius(radius)
    S = tail_sums(lr)
    if S[0] == 0:
        return math.inf
    e = lr**2 * g**2
    E = tail_sums(e) if e.size else e
    out = (radius**2 + float(np.sum(e))) / (2 * S[0])
    if lr.size > 1:
        num = lr[:-1] * E[:-1]
        den = S[1:] * S[:-1]
        out += 0.5 * float(np.sum(_ratio(num, den)))
    return float(out)


def linear_decay_bound(num_steps: int, radius: float, grad_norm: float) -> tuple[float, float]:
    """Closed form of the combined bound for linear decay η_t = c (T + 1 − t) at constant G.

    Parameters
    ----------
    num_steps : int
        T ≥ 1 (the schedule's own η_T = c is used as the last weight).
    radius : float
        R > 0.
    grad_norm : float
        The constant G > 0.

    Returns
    -------
    (float, float)
        The best c* and the bound there,
        R G √(2 (2T − 1 + 2H_{T−1}) / (T (T + 1))), with H_n the harmonic numbers.

    Notes
    -----
    The tails are S_{t+1} = c (T − t)(T + 1 − t)/2, so η_t²/S_{t+1} =
    2c(1 + 1/(T − t)) for t < T and η_T = c; with η_{1:T} = cT(T + 1)/2,

    .. math:: F(c) = \\frac{R^2}{cT(T+1)} + \\frac{G^2 c}{2}\\,(2T - 1 + 2H_{T-1}),

    least at c* = (R/G)√(2/(T(T+1)(2T − 1 + 2H_{T−1}))).  As T grows the value
    tends to 2RG/√T, the worst-case rate of linear decay (Defazio et al., 2023).
    Derived in chapter 2.
    """
    T = check_int("num_steps", num_steps, low=1)
    radius = _check_radius(radius)
    grad_norm = check_scalar("grad_norm", grad_norm, low=0.0, low_inclusive=False)
    h = float(np.sum(1.0 / np.arange(1, T))) if T > 1 else 0.0
    k = 2 * T - 1 + 2 * h
    cstar = radius / grad_norm * math.sqrt(2.0 / (T * (T + 1) * k))
    return cstar, radius * grad_norm * math.sqrt(2.0 * k / (T * (T + 1)))


def free_end_schedule(grad_norms: Any, radius: float) -> tuple[np.ndarray, float]:
    """The continuous optimum with a free end point, discretised: updates and last weight.

    Parameters
    ----------
    grad_norms : array_like, shape (T,)
        G_1, …, G_T, all > 0, T ≥ 2.
    radius : float
        R > 0.

    Returns
    -------
    (numpy.ndarray, float)
        The updates η_1, …, η_{T−1} and the weight w.

    Notes
    -----
    The relaxation of the combined bound with the weight's term kept,
    R²/(2W_0²) + 2∫_0^T Ẇ²G² dt + ½G_T²W_T², has Ẇ ∝ G⁻² as before but a free
    end W_T = 4W_0/(4 + I G_T²) (I = ∫_0^T G⁻²): the horizon acts as if it were
    longer by 4G_T⁻².  With Ĩ = I + 4G_T⁻² the optimum is

    .. math:: \\eta_t = \\frac{R\\,G_t^{-2}\\,(\\int_t^T G^{-2} + 4G_T^{-2})}{\\tilde I^{3/2}},\\qquad
              w = W_T^2 = \\frac{8R\\,G_T^{-4}}{\\tilde I^{3/2}},\\qquad
              \\text{value } \\frac{2R}{\\sqrt{\\tilde I}} .

    Discretised with Q_t = Σ_{k≤t} G_k⁻² as in the source article, the
    integral over the updates' time becoming a sum over the T − 1 updates
    (I → Q_{T−1}, ∫_t^T → Q_{T−1} − Q_t; G_T enters only through 4G_T⁻²).  For
    constant G the updates decay linearly towards zero at t = T + 3, not at T.
    A heuristic, like the article's guess: its excess over the exact minimum is
    measured in chapter 2, not proved.  Derived in chapter 2.
    """
    g = _check_norms(grad_norms, positive=True)
    radius = _check_radius(radius)
    if g.size < 2:
        raise ValueError("grad_norms must hold at least two entries (one update and the weight)")
    inv = g**-2.0
    q = np.cumsum(inv[:-1])                               # Q_1, ..., Q_{T-1}
    big = q[-1] + 4.0 * inv[-1]
    steps = radius * inv[:-1] * (q[-1] - q + 4.0 * inv[-1]) / big**1.5
    return steps, float(8.0 * radius * inv[-1] ** 2 / big**1.5)

