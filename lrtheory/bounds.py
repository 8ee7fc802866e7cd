"""Convergence bounds of SGD on convex losses, as functions of a schedule.

Every bound here is the right-hand side of an inequality of the form
"expected sub-optimality ≤ bound(η, G, R)", where

* ``lr`` holds the learning rates η_1, …, η_T (entry ``t − 1`` is η_t);
* ``grad_norms`` holds G_1, …, G_T, the root mean squared gradient norms
  G_t = (E‖g_t‖²)^{1/2} (or single observed norms ‖g_t‖, where the text says so);
* ``radius`` is R = ‖θ_1 − θ*‖, the distance from the start to a minimiser.

The bounds differ in what they bound (the average loss, an η-weighted average,
the last iterate) and in what they assume of the schedule.  The module also
gives the value of each bound at its best schedule, so a chapter can quote how
far a practical schedule is from the best one.

Derived in chapter 2.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import check_array, check_scalar

__all__ = [
    "tail_sums",
    "last_iterate_accumulator",
    "classic_average_bound",
    "average_bound",
    "weighted_average_bound",
    "last_iterate_bound",
    "combined_bound",
    "combined_bound_grad",
    "classic_average_optimum",
    "weighted_average_optimum",
    "last_iterate_optimum",
]


def _check_lr_norms(lr: Any, grad_norms: Any) -> tuple[np.ndarray, np.ndarray]:
    lr = check_array("lr", lr, ndim=1, nonnegative=True)
    grad_norms = check_array("grad_norms", grad_norms, ndim=1, nonnegative=True)
    if lr.shape[0] < 1:
        raise ValueError("lr must hold at least one step (T >= 1)")
    if lr.shape != grad_norms.shape:
        raise ValueError(
            f"lr and grad_norms must have the same length, got {lr.shape[0]} and {grad_norms.shape[0]}"
        )
    return lr, grad_norms


def _check_norms(grad_norms: Any, *, positive: bool = False) -> np.ndarray:
    g = check_array("grad_norms", grad_norms, ndim=1, nonnegative=True)
    if g.shape[0] < 1:
        raise ValueError("grad_norms must hold at least one step (T >= 1)")
    if positive and np.any(g <= 0):
        raise ValueError("grad_norms must be strictly positive here (G_t**-2 is used)")
    return g


def _check_radius(radius: Any) -> float:
    return check_scalar("radius", radius, low=0.0, low_inclusive=False)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num/den with the conventions 0/0 = 0 and x/0 = inf for x > 0."""
    out = np.zeros_like(num, dtype=float)
    pos = den > 0
    out[pos] = num[pos] / den[pos]
    out[~pos & (num > 0)] = np.inf
    return out


def tail_sums(lr: Any) -> np.ndarray:
    """Return the tail sums η_{t:T} = η_t + … + η_T for t = 1, …, T.

    Parameters
    ----------
    lr : array_like, shape (T,)
        Non-negative learning rates.

    Returns
    -------
    numpy.ndarray, shape (T,)
        Entry ``t − 1`` is η_{t:T}.

    Notes
    -----
    Derived in chapter 2, where η_{a:b} denotes Σ_{k=a}^{b} η_k.
    """
    lr = check_array("lr", lr, ndim=1, nonnegative=True, nonempty=True)
    return np.cumsum(lr[::-1])[::-1].copy()


def last_iterate_accumulator(grad_norms: Any) -> np.ndarray:
    """Return V_t = Σ_{k=1}^t G_k² / max(1, t − k) for t = 1, …, T.

    Parameters
    ----------
    grad_norms : array_like, shape (T,)
        Non-negative G_1, …, G_T.

    Returns
    -------
    numpy.ndarray, shape (T,)

    Notes
    -----
    The accumulator of the last-iterate bound: the squared norm of step k is
    weighted by 1/max(1, t − k), so recent gradients count more, as in an
    exponential moving average.  Unlike a running sum, V_t need not increase
    with t.  It costs O(T²) time and O(T²) memory in blocks of 1024 rows.
    Derived in chapter 2.
    """
    g2 = _check_norms(grad_norms) ** 2
    T = g2.shape[0]
    out = np.empty(T)
    k = np.arange(T)
    for start in range(0, T, 1024):
        t = np.arange(start, min(T, start + 1024))[:, None]
        w = np.where(k[None, :] <= t, 1.0 / np.maximum(1, t - k[None, :]), 0.0)
        out[start:start + t.shape[0]] = w @ g2
    return out


def classic_average_bound(lr: Any, grad_norms: Any, radius: float) -> float:
    """Bound on the average regret with a bounded domain (non-increasing rates).

    Parameters
    ----------
    lr : array_like, shape (T,)
        Non-increasing, non-negative learning rates.
    grad_norms : array_like, shape (T,)
        Observed gradient norms ‖g_t‖.
    radius : float
        R, the diameter of the domain.

    Returns
    -------
    float
        R²/(2Tη_T) + (1/2T) Σ η_t ‖g_t‖²  (``inf`` if η_T = 0).

    Notes
    -----
    .. math:: \\frac1T\\sum_t [L_t(\\theta_t) - L_t(\\theta^*)]
              \\le \\frac{R^2}{2T\\eta_T} + \\frac{1}{2T}\\sum_{t=1}^T \\eta_t\\|g_t\\|^2 .

    The inequality needs η_t non-increasing; the function only evaluates the
    right-hand side and does not check monotonicity.  Derived in chapter 2.
    """
    lr, g = _check_lr_norms(lr, grad_norms)
    radius = _check_radius(radius)
    T = lr.shape[0]
    if lr[-1] == 0:
        return float("inf")
    return float(radius**2 / (2 * T * lr[-1]) + np.sum(lr * g**2) / (2 * T))


def average_bound(lr: Any, grad_norms: Any, radius: float) -> float:
    """Bound on the average expected sub-optimality on an unbounded domain.

    Parameters
    ----------
    lr : array_like, shape (T,)
        Non-increasing, non-negative learning rates.
    grad_norms : array_like, shape (T,)
        G_t = (E‖g_t‖²)^{1/2}.
    radius : float
        R = ‖θ_1 − θ*‖.

    Returns
    -------
    float
        (R² + Σ η_t² G_t²) / (2Tη_T)  (``inf`` if η_T = 0).

    Notes
    -----
    From summing the one-step identity with weights η_t and bounding every
    η_t on the left by η_T.  Derived in chapter 2.
    """
    lr, g = _check_lr_norms(lr, grad_norms)
    radius = _check_radius(radius)
    T = lr.shape[0]
    if lr[-1] == 0:
        return float("inf")
    return float((radius**2 + np.sum(lr**2 * g**2)) / (2 * T * lr[-1]))


def weighted_average_bound(lr: Any, grad_norms: Any, radius: float) -> float:
    """Bound on the η-weighted average of the expected sub-optimality.

    Parameters
    ----------
    lr : array_like, shape (T,)
        Non-negative learning rates (no monotonicity needed).
    grad_norms : array_like, shape (T,)
        G_t.
    radius : float
        R.

    Returns
    -------
    float
        (R² + Σ η_t² G_t²) / (2 Σ η_t)  (``inf`` if every η_t is 0).

    Notes
    -----
    Minimised by η_t = R G_t⁻²/√Q_T with Q_T = Σ G_t⁻² (Cauchy–Schwarz), where
    it equals R/√Q_T (:func:`weighted_average_optimum`).  Derived in chapter 2.
    """
    lr, g = _check_lr_norms(lr, grad_norms)
    radius = _check_radius(radius)
    s = np.sum(lr)
    if s == 0:
        return float("inf")
    return float((radius**2 + np.sum(lr**2 * g**2)) / (2 * s))


def last_iterate_bound(lr: Any, grad_norms: Any, radius: float) -> float:
    """Bound on the expected sub-optimality of the last iterate (non-increasing rates).

    Parameters
    ----------
    lr : array_like, shape (T,)
        Non-increasing, non-negative learning rates.
    grad_norms : array_like, shape (T,)
        G_t.
    radius : float
        R.

    Returns
    -------
    float
        R²/(2Tη_T) + (1/(2η_T)) Σ η_t² G_t² / max(1, T − t)  (``inf`` if η_T = 0).

    Notes
    -----
    With a constant rate it is minimised by η = R/√(T V_T), V_T from
    :func:`last_iterate_accumulator`, where it equals R √(V_T/T).
    Derived in chapter 2.
    """
    lr, g = _check_lr_norms(lr, grad_norms)
    radius = _check_radius(radius)
    T = lr.shape[0]
    if lr[-1] == 0:
        return float("inf")
    w = 1.0 / np.maximum(1, T - np.arange(1, T + 1))
    return float(radius**2 / (2 * T * lr[-1]) + np.sum(lr**2 * g**2 * w) / (2 * lr[-1]))


def combined_bound(lr: Any, grad_norms: Any, radius: float) -> float:
    """The "combined" last-iterate bound, stated for any non-negative schedule.

    Parameters
    ----------
    lr : array_like, shape (T,)
        Non-negative learning rates.
    grad_norms : array_like, shape (T,)
        G_t.
    radius : float
        R.

    Returns
    -------
    float
        R²/(2η_{1:T}) + ½ Σ_t η_t² G_t² / η_{min(t+1,T):T}.

    Notes
    -----
    .. math:: \\mathbb E[L(\\theta_T)] - L(\\theta^*) \\le
              \\frac{R^2}{2\\eta_{1:T}} + \\frac12\\sum_{t=1}^T
              \\frac{\\eta_t^2 G_t^2}{\\eta_{\\min(t+1,T):T}} .

    A term whose denominator is zero is 0 if its numerator is zero and
    ``inf`` otherwise: a schedule with η_T = 0 but η_{T−1} > 0 has an infinite
    bound.  θ_T is made by η_1, …, η_{T−1}; η_T is a free weight
    (:mod:`lrtheory.free_weight`).  Derived in chapter 2.
    """
    lr, g = _check_lr_norms(lr, grad_norms)
    radius = _check_radius(radius)
    s = tail_sums(lr)
    if s[0] == 0:
        return float("inf")
    den = np.append(s[1:], lr[-1])
    terms = _ratio(lr**2 * g**2, den)
    return float(radius**2 / (2 * s[0]) + 0.5 * np.sum(terms))


def combined_bound_grad(lr: Any, grad_norms: Any, radius: float) -> np.ndarray:
    """Gradient of :func:`combined_bound` with respect to the rates (all η_t > 0).

    Parameters
    ----------
    lr : array_like, shape (T,)
        Strictly positive learning rates.
    grad_norms : array_like, shape (T,)
        G_t.
    radius : float
        R.

    Returns
    -------
    numpy.ndarray, shape (T,)

    Notes
    -----
    With S_t = η_{t:T},

    .. math:: \\frac{\\partial F}{\\partial\\eta_k} = -\\frac{R^2}{2S_1^2}
              + \\frac{G_k^2\\eta_k}{S_{k+1}}\\,[k<T] + \\frac{G_T^2}{2}[k=T]
              - \\frac12\\sum_{t<\\min(k,T)} \\frac{G_t^2\\eta_t^2}{S_{t+1}^2}.

    Derived in chapter 2 (used by the numerical solver).
    """
    lr, g = _check_lr_norms(lr, grad_norms)
    radius = _check_radius(radius)
    if np.any(lr <= 0):
        raise ValueError("lr must be strictly positive for the gradient")
    T = lr.shape[0]
    s = tail_sums(lr)
    grad = np.full(T, -radius**2 / (2 * s[0] ** 2))
    if T > 1:
        nxt = s[1:]
        grad[:-1] += g[:-1] ** 2 * lr[:-1] / nxt
        c = g[:-1] ** 2 * lr[:-1] ** 2 / nxt**2          # c_t for t = 1..T-1
        grad[1:] -= 0.5 * np.cumsum(c)                     # Σ_{t<k} c_t
    grad[-1] += 0.5 * g[-1] ** 2
    return grad


def classic_average_optimum(grad_norms: Any, radius: float) -> float:
    """Smallest value of :func:`classic_average_bound` (and of :func:`average_bound`).

    Parameters
    ----------
    grad_norms : array_like, shape (T,)
        ‖g_t‖ (or G_t).
    radius : float
        R.

    Returns
    -------
    float
        R √V_T / T with V_T = Σ_t ‖g_t‖², reached by the constant rate R/√V_T.

    Notes
    -----
    Among non-increasing schedules, both bounds are at least their value at the
    constant rate η_T, and R²/(2Tη) + ηV_T/(2T) ≥ R√V_T/T by AM–GM.
    Derived in chapter 2.
    """
    g = _check_norms(grad_norms)
    radius = _check_radius(radius)
    return float(radius * np.sqrt(np.sum(g**2)) / g.shape[0])


def weighted_average_optimum(grad_norms: Any, radius: float) -> float:
    """Smallest value of :func:`weighted_average_bound`: R/√Q_T, Q_T = Σ G_t⁻².

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
    Derived in chapter 2 (Cauchy–Schwarz, equality at η_t ∝ G_t⁻²).
    """
    g = _check_norms(grad_norms, positive=True)
    radius = _check_radius(radius)
    return float(radius / np.sqrt(np.sum(g**-2.0)))


def last_iterate_optimum(grad_norms: Any, radius: float) -> float:
    """Smallest value of :func:`last_iterate_bound` over non-increasing schedules.

    Parameters
    ----------
    grad_norms : array_like, shape (T,)
        G_t.
    radius : float
        R.

    Returns
    -------
    float
        R √(V_T/T), V_T = Σ_k G_k²/max(1, T − k), reached by η = R/√(T V_T).

    Notes
    -----
    Derived in chapter 2.
    """
    g = _check_norms(grad_norms)
    radius = _check_radius(radius)
    T = g.shape[0]
    v = np.sum(g**2 / np.maximum(1, T - np.arange(1, T + 1)))
    return float(radius * np.sqrt(v / T))
