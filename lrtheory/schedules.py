"""Learning-rate schedules: fixed shapes, schedules read off the convergence
bounds of :mod:`lrtheory.bounds`, and the exact minimiser of the combined bound.

Conventions: arrays have one entry per step, entry ``t − 1`` holding step t
(the text counts steps from 1); ``grad_norms`` are the G_t of the bounds;
``radius`` is R = ‖θ_1 − θ*‖.  Fixed shapes (:func:`constant_schedule`,
:func:`linear_decay_schedule`, :func:`cosine_schedule`, :func:`wsd_schedule`)
map a 0-based step index to a rate, in the ``*_schedule`` (step → lr) style;
over ``num_steps`` updates they stay positive, and the rate that would come
next (the free last weight of the combined bound, chapter 2) is the one that
reaches zero.  Gradient-based
schedules take the whole sequence G_1, …, G_T and return T rates; those marked
*causal* use only G_1, …, G_t for step t.

The minimiser of the combined bound (:func:`optimal_combined_schedule`) and the
numerical solver that checks it (:func:`solve_combined_bound`) are in
:mod:`lrtheory.schedule_solver`, with the two-pass helpers for training loops.

Derived in chapter 2.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import check_array, check_bool, check_choice, check_int, check_scalar
from .bounds import _check_norms, _check_radius, last_iterate_accumulator

__all__ = [
    "constant_schedule",
    "linear_decay_schedule",
    "cosine_schedule",
    "wsd_schedule",
    "adagrad_norm_schedule",
    "inverse_sq_grad_schedule",
    "causal_inverse_sq_grad_schedule",
    "last_iterate_constant_schedule",
    "last_iterate_causal_schedule",
    "refined_guess_schedule",
    "refined_causal_schedule",
]


def _steps(step: Any, num_steps: int) -> np.ndarray:
    num_steps = check_int("num_steps", num_steps, low=1)
    s = check_array("step", step, ndim=(0, 1))
    if np.any(s != np.round(s)) or np.any(s < 0) or np.any(s >= num_steps):
        raise ValueError(f"step must hold integers in [0, num_steps={num_steps})")
    return s


def _out(values: np.ndarray, step: Any) -> Any:
    return float(values) if np.ndim(values) == 0 else values


def constant_schedule(step: Any, num_steps: int, lr: float) -> Any:
    """Constant rate: η = ``lr`` at every step.

    Parameters
    ----------
    step : int or array_like of int
        0-based step index(es) in ``[0, num_steps)``.
    num_steps : int
        T ≥ 1.
    lr : float
        The rate, ≥ 0.

    Returns
    -------
    float or numpy.ndarray
        One rate per step given.

    Notes
    -----
    Derived in chapter 2.
    """
    s = _steps(step, num_steps)
    lr = check_scalar("lr", lr, low=0.0)
    return _out(np.full_like(s, lr, dtype=float) if s.ndim else np.float64(lr), step)


def linear_decay_schedule(step: Any, num_steps: int, lr: float) -> Any:
    """Linear decay η = lr (1 − step/T): from ``lr`` down to lr/T at the last step.

    Parameters
    ----------
    step : int or array_like of int
        0-based step index(es) in ``[0, num_steps)``.
    num_steps : int
        T ≥ 1.
    lr : float
        The peak (first) rate, ≥ 0.

    Returns
    -------
    float or numpy.ndarray

    Notes
    -----
    In the 1-based counting of the text, η_t = lr (T − t + 1)/T: the rate that
    would come next (step T + 1) is the one that reaches zero, so the last step
    keeps a positive rate (a zero last rate makes the combined bound infinite).
    Derived in chapter 2.
    """
    s = _steps(step, num_steps)
    lr = check_scalar("lr", lr, low=0.0)
    return _out(lr * (1.0 - s / num_steps), step)


def cosine_schedule(step: Any, num_steps: int, lr: float) -> Any:
    """Cosine decay η = lr (1 + cos(π step/T))/2, positive at the last step.

    Parameters
    ----------
    step : int or array_like of int
        0-based step index(es) in ``[0, num_steps)``.
    num_steps : int
        T ≥ 1.
    lr : float
        The peak (first) rate, ≥ 0.

    Returns
    -------
    float or numpy.ndarray

    Notes
    -----
    Derived in chapter 2 (as a baseline; it is not derived from a bound).
    """
    s = _steps(step, num_steps)
    lr = check_scalar("lr", lr, low=0.0)
    return _out(lr * 0.5 * (1.0 + np.cos(np.pi * s / num_steps)), step)


def wsd_schedule(step: Any, num_steps: int, lr: float, *, warmup: int = 0, cooldown: float = 0.2,
                 decay: str = "linear") -> Any:
    """Warmup–stable–decay (WSD): linear warmup, a constant plateau, then a cooldown.

    Parameters
    ----------
    step : int or array_like of int
        0-based step index(es) in ``[0, num_steps)``.
    num_steps : int
        N ≥ 1, the number of updates.
    lr : float
        The plateau (base) rate, ≥ 0.
    warmup : int, optional
        Number W ≥ 0 of warmup steps (default 0): the rate rises linearly,
        ``lr (k + 1)/W`` at step k < W.
    cooldown : float, optional
        Fraction c ∈ [0, 1] of the N steps spent in the cooldown (default 0.2);
        C = round(c N) steps, and W + C ≤ N is required.
    decay : {"linear", "sqrt"}, optional
        Shape of the cooldown: with j = k − (N − C) = 0, …, C − 1 counting the
        cooldown steps, ``lr (1 − j/C)`` (linear) or ``lr (1 − √(j/C))``
        (the "1 − sqrt" cooldown).

    Returns
    -------
    float or numpy.ndarray

    Notes
    -----
    Both cooldowns start at the plateau (j = 0) and would reach zero at
    j = C, one step after the last update, like :func:`linear_decay_schedule`:
    with ``warmup=0`` and ``cooldown=1`` the linear WSD schedule *is* linear
    decay, and with ``cooldown=0`` it is constant after the warmup.  The shape
    follows Schaipp et al. (2025), who compare it with cosine in the bound of
    the combined last-iterate inequality.  Derived in chapter 2.
    """
    s = _steps(step, num_steps)
    lr = check_scalar("lr", lr, low=0.0)
    warmup = check_int("warmup", warmup, low=0)
    cooldown = check_scalar("cooldown", cooldown, low=0.0, high=1.0)
    decay = check_choice("decay", decay, ("linear", "sqrt"))
    n_cool = int(round(cooldown * num_steps))
    if warmup + n_cool > num_steps:
        raise ValueError(f"warmup + cooldown steps must be <= num_steps={num_steps}, "
                         f"got warmup={warmup} and {n_cool} cooldown steps")
    f = np.ones_like(s, dtype=float)
    if warmup:
        f = np.where(s < warmup, (s + 1.0) / warmup, f)
    if n_cool:
        j = s - (num_steps - n_cool)
        frac = np.clip(j, 0, None) / n_cool
        cool = 1.0 - (frac if decay == "linear" else np.sqrt(frac))
        f = np.where(j >= 0, cool, f)
    return _out(lr * f, step)


def adagrad_norm_schedule(grad_norms: Any, radius: float, *, eps: float = 0.0) -> np.ndarray:
    """Causal AdaGrad-norm rates η_t = R/(√V_t + eps), V_t = Σ_{k≤t} G_k².

    Parameters
    ----------
    grad_norms : array_like, shape (T,)
        Gradient norms, with G_1 > 0 unless ``eps`` > 0.
    radius : float
        R.
    eps : float, optional
        Added to √V_t (default 0), as in :class:`torch.optim.Adagrad`.

    Returns
    -------
    numpy.ndarray, shape (T,)

    Notes
    -----
    The best constant rate for the average-loss bound is R/√V_T, which needs
    the future; replacing V_T by V_t makes it causal at a cost of at most 50%
    in the bound, because Σ_t (V_t − V_{t−1})/√V_t ≤ 2√V_T.
    Derived in chapter 2.
    """
    g = _check_norms(grad_norms)
    radius = _check_radius(radius)
    eps = check_scalar("eps", eps, low=0.0)
    root = np.sqrt(np.cumsum(g**2)) + eps
    if root[0] == 0:
        raise ValueError("grad_norms[0] must be > 0 when eps == 0 (V_1 = 0)")
    return radius / root


def inverse_sq_grad_schedule(grad_norms: Any, radius: float) -> np.ndarray:
    """Minimiser of the weighted-average bound: η_t = R G_t⁻² / √Q_T.

    Parameters
    ----------
    grad_norms : array_like, shape (T,)
        Strictly positive G_t.
    radius : float
        R.

    Returns
    -------
    numpy.ndarray, shape (T,)

    Notes
    -----
    Q_t = Σ_{k≤t} G_k⁻².  The rate is inversely proportional to the squared
    gradient norm: large early gradients call for small early rates (warmup).
    Not causal: Q_T needs all of G.  Derived in chapter 2.
    """
    g = _check_norms(grad_norms, positive=True)
    radius = _check_radius(radius)
    inv = g**-2.0
    return radius * inv / np.sqrt(np.sum(inv))


def causal_inverse_sq_grad_schedule(grad_norms: Any, radius: float) -> np.ndarray:
    """Causal version of :func:`inverse_sq_grad_schedule`: η_t = R G_t⁻² / √Q_t.

    Parameters
    ----------
    grad_norms : array_like, shape (T,)
        Strictly positive G_t.
    radius : float
        R.

    Returns
    -------
    numpy.ndarray, shape (T,)

    Notes
    -----
    Its weighted-average bound is at most (R/√Q_T)(1 + ½ ln(Q_T/Q_1)).
    Derived in chapter 2.
    """
    g = _check_norms(grad_norms, positive=True)
    radius = _check_radius(radius)
    inv = g**-2.0
    return radius * inv / np.sqrt(np.cumsum(inv))


def last_iterate_constant_schedule(grad_norms: Any, radius: float) -> np.ndarray:
    """Best constant rate of the last-iterate bound: η_t = R/√(T V_T) for all t.

    Parameters
    ----------
    grad_norms : array_like, shape (T,)
        G_t, not all zero.
    radius : float
        R.

    Returns
    -------
    numpy.ndarray, shape (T,)

    Notes
    -----
    V_T = Σ_k G_k²/max(1, T − k) (:func:`lrtheory.bounds.last_iterate_accumulator`).
    Derived in chapter 2.
    """
    g = _check_norms(grad_norms)
    radius = _check_radius(radius)
    T = g.shape[0]
    v = last_iterate_accumulator(g)[-1]
    if v == 0:
        raise ValueError("grad_norms must not be all zero")
    return np.full(T, radius / np.sqrt(T * v))


def last_iterate_causal_schedule(grad_norms: Any, radius: float) -> np.ndarray:
    """Causal last-iterate rates η_t = R/√(T V_t).

    Parameters
    ----------
    grad_norms : array_like, shape (T,)
        G_t with G_1 > 0.
    radius : float
        R.

    Returns
    -------
    numpy.ndarray, shape (T,)

    Notes
    -----
    Uses T (the planned length, known in advance) and V_t (the past).  The
    last-iterate bound at these rates is at most (R/2)√(V_T/T)(3 + ln T)
    *if* the rates do not increase; V_t need not increase, so check.
    Derived in chapter 2.
    """
    g = _check_norms(grad_norms)
    radius = _check_radius(radius)
    if g[0] == 0:
        raise ValueError("grad_norms[0] must be > 0 (V_1 = G_1**2)")
    T = g.shape[0]
    return radius / np.sqrt(T * last_iterate_accumulator(g))


def refined_guess_schedule(grad_norms: Any, radius: float, *, include_current: bool = False) -> np.ndarray:
    """The discrete guess for the combined bound: η_t = R G_t⁻² (Q_T − Q_t)/Q_T^{3/2}.

    Parameters
    ----------
    grad_norms : array_like, shape (T,)
        Strictly positive G_t.
    radius : float
        R.
    include_current : bool, optional
        ``False`` (default): the formula as guessed in the source, which is 0 at
        t = T.  ``True``: the repaired guess with Q_T − Q_{t−1}, i.e. the tail
        Σ_{k≥t} G_k⁻² counts step t itself, so the last rate is positive.

    Returns
    -------
    numpy.ndarray, shape (T,)

    Notes
    -----
    The discretisation of the continuous optimum
    η(t) = R G(t)⁻² ∫_t^T G⁻² / (∫_0^T G⁻²)^{3/2}: the factor G_t⁻² is warmup,
    the factor (1 − Q_t/Q_T) is decay.  Not causal.  Derived in chapter 2.
    """
    g = _check_norms(grad_norms, positive=True)
    radius = _check_radius(radius)
    include_current = check_bool("include_current", include_current)
    inv = g**-2.0
    q = np.cumsum(inv)
    tail = q[-1] - (q - inv if include_current else q)
    return radius * inv * np.maximum(tail, 0.0) / q[-1] ** 1.5


def refined_causal_schedule(grad_norms: Any, radius: float, *, include_current: bool = False) -> np.ndarray:
    """The causal variant η_t = R G_t⁻² / √Q_t · (1 − t/T).

    Parameters
    ----------
    grad_norms : array_like, shape (T,)
        Strictly positive G_t.
    radius : float
        R.
    include_current : bool, optional
        ``False`` (default): the factor 1 − t/T of the source (0 at t = T).
        ``True``: 1 − (t − 1)/T, positive at the last step.

    Returns
    -------
    numpy.ndarray, shape (T,)

    Notes
    -----
    √Q_T is replaced by √Q_t and Q_t/Q_T by t/T.  Derived in chapter 2.
    """
    g = _check_norms(grad_norms, positive=True)
    radius = _check_radius(radius)
    include_current = check_bool("include_current", include_current)
    T = g.shape[0]
    inv = g**-2.0
    t = np.arange(1, T + 1)
    decay = 1.0 - (t - 1 if include_current else t) / T
    return radius * inv / np.sqrt(np.cumsum(inv)) * decay
