"""The per-eigenmode dynamics of linear SimSiam (Tian, Chen & Ganguli, 2021).

For a linear encoder and a linear predictor aligned with the correlation
matrix F of the representation, Tian, Chen & Ganguli reduce SimSiam/BYOL to one
pair of scalars per eigenmode j: the predictor's eigenvalue p_j and F's
eigenvalue s_j.  With isotropic data, augmentation noise of variance σ², weight
decay η, the predictor's learning rate α_p times the encoder's, and the target
network's weight τ (τ = 1 for SimSiam),

    ṗ = α_p s [τ − (1 + σ²) p] − η p,
    ṡ = 2 p s [τ − (1 + σ²) p] − 2 η s.

With s = θ² and p = φ, τ = 1 and σ² = η = 0, α_p = 1, this is the chapter's
stop-gradient toy flow (the invariant φ² − θ² becomes p² − s).  This module
gives the field (:func:`mode_flow`), its non-trivial fixed points
(:func:`mode_fixed_points`), a vectorised RK4 integrator (:func:`integrate_modes`)
and the outcome map behind the phase diagram (:func:`mode_outcome`).

Derived in chapter 5.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._validation import check_array, check_int, check_scalar

__all__ = ["mode_flow", "mode_fixed_points", "integrate_modes", "mode_outcome"]


def _params(alpha_p: Any, eta: Any, sigma2: Any, tau: Any) -> tuple[float, float, float, float]:
    return (check_scalar("alpha_p", alpha_p, low=0.0, low_inclusive=False),
            check_scalar("eta", eta, low=0.0), check_scalar("sigma2", sigma2, low=0.0),
            check_scalar("tau", tau, low=0.0, low_inclusive=False))


def mode_flow(state: Any, *, alpha_p: float = 1.0, eta: float = 0.0, sigma2: float = 0.0,
              tau: float = 1.0) -> np.ndarray:
    """Right-hand side (ṗ, ṡ) of one eigenmode's dynamics, for states of shape (..., 2).

    Parameters
    ----------
    state : array_like, shape (..., 2)
        Points (p, s): predictor eigenvalue and eigenvalue s ≥ 0 of F.
    alpha_p : float, optional
        Predictor learning rate over the encoder's (> 0, default 1).
    eta : float, optional
        Weight decay η ≥ 0 (default 0).
    sigma2 : float, optional
        Augmentation noise variance σ² ≥ 0 (default 0).
    tau : float, optional
        Target weight τ > 0 (1 for SimSiam, the default).

    Returns
    -------
    numpy.ndarray, shape of ``state``

    Notes
    -----
    ṗ = α_p s [τ − (1 + σ²) p] − η p and ṡ = 2 p s [τ − (1 + σ²) p] − 2 η s
    (Tian, Chen & Ganguli, 2021).  Derived in chapter 5.
    """
    x = check_array("state", state)
    if x.ndim < 1 or x.shape[-1] != 2:
        raise ValueError(f"state must have shape (..., 2), got {x.shape}")
    a, e, v, t = _params(alpha_p, eta, sigma2, tau)
    p, s = x[..., 0], x[..., 1]
    err = t - (1.0 + v) * p
    return np.stack([a * s * err - e * p, 2.0 * p * s * err - 2.0 * e * s], axis=-1)


def mode_fixed_points(*, alpha_p: float = 1.0, eta: float = 0.0, sigma2: float = 0.0,
                      tau: float = 1.0) -> list[tuple[float, float]]:
    """The non-trivial fixed points (p*, s*) with s* > 0, for weight decay η > 0.

    Parameters
    ----------
    alpha_p, eta, sigma2, tau : float
        As in :func:`mode_flow`; ``eta`` must be > 0 here (with η = 0 every
        point of the line p = τ/(1 + σ²) is fixed).

    Returns
    -------
    list of (float, float)
        ``[]`` when 4η(1 + σ²) > τ (weight decay too strong: only collapse);
        otherwise the roots p of (1 + σ²) p² − τ p + η = 0 with s = p²/α_p,
        the larger p first.

    Notes
    -----
    With s > 0, ṡ = 0 gives p [τ − (1 + σ²) p] = η, and then ṗ = 0 gives
    α_p s η / p = η p, i.e. s = p²/α_p.  Derived in chapter 5.
    """
    a, e, v, t = _params(alpha_p, eta, sigma2, tau)
    if e <= 0.0:
        raise ValueError("eta must be > 0 for isolated fixed points")
    disc = t * t - 4.0 * e * (1.0 + v)
    if disc < 0.0:
        return []
    roots = sorted({(t + sgn * math.sqrt(disc)) / (2.0 * (1.0 + v)) for sgn in (1.0, -1.0)}, reverse=True)
    return [(p, p * p / a) for p in roots if p > 0]


def integrate_modes(state0: Any, t_end: float, *, dt: float = 0.05, alpha_p: float = 1.0, eta: float = 0.0,
                    sigma2: float = 0.0, tau: float = 1.0) -> np.ndarray:
    """Integrate :func:`mode_flow` from many starting points at once (classical RK4).

    Parameters
    ----------
    state0 : array_like, shape (..., 2)
        Starting points (p, s).
    t_end : float
        Final time (> 0).
    dt : float, optional
        Step (default 0.05); the number of steps is ⌈t_end/dt⌉.
    alpha_p, eta, sigma2, tau : float
        As in :func:`mode_flow`.

    Returns
    -------
    numpy.ndarray, shape of ``state0``
        The states at ``t_end``.

    Notes
    -----
    Derived in chapter 5.
    """
    x = check_array("state0", state0).astype(float)
    if x.ndim < 1 or x.shape[-1] != 2:
        raise ValueError(f"state0 must have shape (..., 2), got {x.shape}")
    t_end = check_scalar("t_end", t_end, low=0.0, low_inclusive=False)
    dt = check_scalar("dt", dt, low=0.0, low_inclusive=False)
    kw = dict(alpha_p=alpha_p, eta=eta, sigma2=sigma2, tau=tau)
    _params(**kw)
    n = check_int("steps", int(math.ceil(t_end / dt)), low=1)
    h = t_end / n
    for _ in range(n):
        k1 = mode_flow(x, **kw)
        k2 = mode_flow(x + 0.5 * h * k1, **kw)
        k3 = mode_flow(x + 0.5 * h * k2, **kw)
        k4 = mode_flow(x + h * k3, **kw)
        x = x + (h / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)
    return x


def mode_outcome(state0: Any, t_end: float, *, alpha_p: float = 1.0, eta: float = 0.0, sigma2: float = 0.0,
                 tau: float = 1.0, dt: float = 0.05) -> np.ndarray:
    """Whether each starting point keeps its eigenmode (True) or collapses it (s → 0).

    Parameters
    ----------
    state0 : array_like, shape (..., 2)
        Starting points (p, s) with s > 0.
    t_end : float
        Integration time.
    alpha_p, eta, sigma2, tau, dt : float
        As in :func:`integrate_modes`.

    Returns
    -------
    numpy.ndarray of bool, shape ``state0.shape[:-1]``
        True when the final s is at least half of the stable non-trivial fixed
        point's s* (for η > 0), or, for η = 0, when the final s is above
        10⁻³ and p is within 10⁻² of τ/(1 + σ²).

    Notes
    -----
    Derived in chapter 5.
    """
    x = check_array("state0", state0)
    if x.ndim < 1 or x.shape[-1] != 2:
        raise ValueError(f"state0 must have shape (..., 2), got {x.shape}")
    if np.any(x[..., 1] <= 0):
        raise ValueError("state0 must have s > 0 in every point")
    kw = dict(alpha_p=alpha_p, eta=eta, sigma2=sigma2, tau=tau)
    end = integrate_modes(x, t_end, dt=dt, **kw)
    a, e, v, t = _params(**kw)
    if e == 0.0:
        return (end[..., 1] > 1e-3) & (np.abs(end[..., 0] - t / (1 + v)) < 1e-2)
    fixed = mode_fixed_points(**kw)
    if not fixed:
        return np.zeros(x.shape[:-1], dtype=bool)
    return np.isfinite(end[..., 1]) & (end[..., 1] >= 0.5 * fixed[0][1])
