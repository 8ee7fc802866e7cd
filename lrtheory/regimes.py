"""Which description fits RMSprop where: a phase diagram over (γ̃, 1 − α) (chapter 1).

Scalar RMSprop (version (a)) has three limiting descriptions over a finite
stretch of the clock s = nγ̃ (see :mod:`lrtheory.rmsflow`):

* the **memoryless** (quasi-static) flow dθ/ds = −∇L/√(‖∇L‖² + ε), when the
  memory τ = γ̃/(1 − α) is short;
* the **coupled** ODE of (θ, G) with memory τ, when γ̃ is small but τ is not;
* neither, once a step crosses the **stability edge** hλ_max = 2 and the
  iterates start to hover there (a discrete effect no ODE of this kind shows).

:func:`regime_map` runs a grid of (γ̃, 1 − α), measures the distance of the
iterates to both flows at equal s and the largest hλ_max of the run, and
labels each cell.  Derived in chapter 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._validation import check_array, check_callable, check_scalar

__all__ = ["REGIMES", "RegimeMap", "regime_map"]

REGIMES: tuple[str, ...] = ("memoryless flow", "coupled ODE", "stability edge", "neither")
"""The labels of :func:`regime_map`, in the order of its integer codes."""


@dataclass(frozen=True)
class RegimeMap:
    """The outcome of :func:`regime_map`; arrays have shape (len(lrs), len(one_minus_alpha)).

    Attributes
    ----------
    lrs, one_minus_alpha : numpy.ndarray
        The grid's axes.
    d_memoryless, d_coupled : numpy.ndarray
        Largest distance of the iterates to the memoryless flow and to the
        coupled ODE (with τ = γ̃/(1 − α)) over the horizon.
    peak_edge : numpy.ndarray
        Largest hλ_max over the run (2 is Euler's edge).
    code : numpy.ndarray of int
        Index into :data:`REGIMES`.
    """

    lrs: np.ndarray
    one_minus_alpha: np.ndarray
    d_memoryless: np.ndarray
    d_coupled: np.ndarray
    peak_edge: np.ndarray
    code: np.ndarray


def regime_map(grad: Callable[[np.ndarray], np.ndarray], theta0: object, lrs: object, one_minus_alpha: object, *,
               s_final: float, lam_max: float, tol: float = 0.05, eps: float = 1e-8) -> RegimeMap:
    """Label each (γ̃, 1 − α) by the description that fits scalar RMSprop over s ∈ [0, s_final].

    Parameters
    ----------
    grad : callable
        ∇L.
    theta0 : array_like, shape (d,)
        Initial point (the accumulator starts warm, G₀ = ‖∇L(θ₀)‖²).
    lrs : array_like
        γ̃ values, > 0, each a divisor of ``s_final`` to rounding (the run takes
        round(s_final/γ̃) steps).
    one_minus_alpha : array_like
        Values of 1 − α in (0, 1].
    s_final : float
        Horizon on the clock s, > 0.
    lam_max : float
        Largest Hessian eigenvalue along the run (> 0), for hλ_max.
    tol : float, optional
        Distance below which a description counts as fitting (default 0.05).
    eps : float, optional
        RMSprop's ε inside the root.

    Returns
    -------
    RegimeMap

    Notes
    -----
    A cell is "stability edge" when some step has hλ_max ≥ 2; otherwise
    "memoryless flow" when that flow fits within ``tol``, else "coupled ODE"
    when the coupled ODE fits, else "neither".  Derived in chapter 1.
    """
    from .rmsflow import coupled_flow, quasi_static_flow, rmsprop_clock_iterates

    check_callable("grad", grad)
    x0 = check_array("theta0", theta0, ndim=1)
    lr_arr = check_array("lrs", lrs, ndim=1)
    oma = check_array("one_minus_alpha", one_minus_alpha, ndim=1)
    if lr_arr.size == 0 or np.any(lr_arr <= 0):
        raise ValueError("lrs must be a non-empty array of positive values")
    if oma.size == 0 or np.any((oma <= 0) | (oma > 1)):
        raise ValueError("one_minus_alpha must be a non-empty array of values in (0, 1]")
    s_final = check_scalar("s_final", s_final, low=0.0, low_inclusive=False)
    lam_max = check_scalar("lam_max", lam_max, low=0.0, low_inclusive=False)
    tol = check_scalar("tol", tol, low=0.0, low_inclusive=False)
    eps = check_scalar("eps", eps, low=0.0)
    shape = (lr_arr.size, oma.size)
    d_mem, d_cpl, peak = np.empty(shape), np.empty(shape), np.empty(shape)
    fine = np.linspace(0.0, s_final, 4001)
    memless = quasi_static_flow(grad, x0, fine, coordinate=False, eps=max(eps, 1e-300))
    for i, lr in enumerate(lr_arr):
        n = max(1, int(round(s_final / lr)))
        for j, om in enumerate(oma):
            run = rmsprop_clock_iterates(grad, x0, float(lr), 1.0 - float(om), n, coordinate=False, eps=eps)
            ref = np.column_stack([np.interp(run.s, fine, memless[:, c]) for c in range(x0.size)])
            cpl, _ = coupled_flow(grad, x0, float(lr / om), run.s, coordinate=False, eps=eps)
            d_mem[i, j] = np.linalg.norm(run.theta - ref, axis=1).max()
            d_cpl[i, j] = np.linalg.norm(run.theta - cpl, axis=1).max()
            peak[i, j] = float(run.steps.max() * lam_max)
    code = np.where(peak >= 2.0, 2, np.where(d_mem <= tol, 0, np.where(d_cpl <= tol, 1, 3)))
    return RegimeMap(lr_arr, oma, d_mem, d_cpl, peak, code)
