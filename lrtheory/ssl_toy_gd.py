"""Gradient descent on the scalar SimSiam toy of :mod:`lrtheory.ssl_toy`.

A finite learning rate γ turns each toy flow into the map
(φ, θ) ← (φ, θ) + γ (φ', θ').  The invariants of the flows are no longer
conserved, but their change per step is exact (:func:`invariant_step_change`);
:func:`toy_gd` iterates the map and :func:`gd_outcome` classifies where it ends.

Derived in chapter 5.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_choice, check_int, check_scalar
from .ssl_toy import SYSTEMS, _pair, _raw_field, _state, conserved_quantity, toy_flow

__all__ = ["invariant_step_change", "toy_update", "toy_gd", "OUTCOMES", "gd_outcome"]


def invariant_step_change(system: str, phi: object, theta: object, lr: float) -> np.ndarray:
    """Exact change of the invariant over one gradient-descent step of size ``lr``.

    Parameters
    ----------
    system : {"stopgrad", "full", "removed"}
    phi, theta : array_like
        The state before the step.
    lr : float
        Learning rate, ≥ 0.

    Returns
    -------
    numpy.ndarray
        Q(state after the step) − Q(state before), Q = :func:`conserved_quantity`.

    Notes
    -----
    With r = (φ − 1)θ and one Euler step of size γ,

    * stopgrad: ΔC = −γ² r² C,
    * full:     ΔD = −γ² r² D,
    * removed:  ΔE = +γ² r² / 2.

    The first-order terms cancel because Q is conserved by the flow; what is
    left is O(γ²).  So gradient descent shrinks the magnitudes of C and D
    geometrically and pushes E upwards.  Derived in chapter 5.
    """
    check_choice("system", system, SYSTEMS)
    lr = check_scalar("lr", lr, low=0.0)
    phi, theta = _pair(phi, theta, ("phi", "theta"))
    r2 = ((phi - 1.0) * theta) ** 2
    if system == "removed":
        return 0.5 * lr**2 * r2
    return -(lr**2) * r2 * conserved_quantity(system, phi, theta)


def toy_update(system: str, state: object, lr: float) -> np.ndarray:
    """One gradient-descent step (explicit Euler step) of the toy system.

    Parameters
    ----------
    system : {"stopgrad", "full", "removed"}
    state : array_like, shape (..., 2)
        ``(phi, theta)``.
    lr : float
        Learning rate, ≥ 0.

    Returns
    -------
    numpy.ndarray, shape (..., 2)
        ``state + lr * flow(state)``.
    """
    field = toy_flow(system)
    lr = check_scalar("lr", lr, low=0.0)
    s = _state("state", state)
    return s + lr * field(s)


def toy_gd(system: str, state0: object, lr: float, num_steps: int) -> np.ndarray:
    """Gradient descent on the toy system from many initial states at once.

    Parameters
    ----------
    system : {"stopgrad", "full", "removed"}
    state0 : array_like, shape (..., 2)
        Initial ``(phi, theta)`` states.
    lr : float
        Learning rate, ≥ 0.
    num_steps : int
        Number of steps, ≥ 0.

    Returns
    -------
    numpy.ndarray, shape (num_steps + 1, ..., 2)
        The iterates, ``state0`` first.  An iterate that overflows is
        reported as ``nan`` from then on.

    Notes
    -----
    For one state this equals :func:`lrtheory.flows.euler_iterates` with
    :func:`toy_flow`; this version is vectorised over initial states.
    Derived in chapter 5.
    """
    check_choice("system", system, SYSTEMS)
    lr = check_scalar("lr", lr, low=0.0)
    num_steps = check_int("num_steps", num_steps, low=0)
    s = _state("state0", state0)
    out = np.empty((num_steps + 1, *s.shape))
    out[0] = s
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(num_steps):
            nxt = out[k] + lr * _raw_field(system, np.nan_to_num(out[k], nan=0.0))
            bad = ~np.all(np.isfinite(out[k]), axis=-1) | ~np.all(np.isfinite(nxt), axis=-1)
            nxt[bad] = np.nan
            out[k + 1] = nxt
    return out


OUTCOMES: tuple[str, ...] = ("collapsed", "healthy", "other")
"""Codes of :func:`gd_outcome`: 0 θ → 0, 1 φ → 1 with θ ≠ 0, 2 neither (diverged,
oscillating, or not yet converged)."""


def gd_outcome(system: str, state0: object, lr: float, num_steps: int, *, tol: float = 1e-3) -> np.ndarray:
    """Classify where gradient descent on the toy system ends after ``num_steps`` steps.

    Parameters
    ----------
    system : {"stopgrad", "full", "removed"}
    state0 : array_like, shape (..., 2)
        Initial states.
    lr : float
        Learning rate, ≥ 0.
    num_steps : int
        Number of steps.
    tol : float, optional
        A state counts as collapsed when abs(θ) < tol, and as healthy when
        abs(φ − 1) < tol and abs(θ) ≥ tol (default 1e-3).

    Returns
    -------
    numpy.ndarray of int, shape (...)
        Indices into :data:`OUTCOMES`.

    Notes
    -----
    Only the final state is inspected, so an orbit that converges slowly (near
    a basin boundary) is reported as "other".  Derived in chapter 5.
    """
    tol = check_scalar("tol", tol, low=0.0, low_inclusive=False)
    final = toy_gd(system, state0, lr, num_steps)[-1]
    phi, theta = final[..., 0], final[..., 1]
    finite = np.isfinite(phi) & np.isfinite(theta)
    with np.errstate(invalid="ignore"):
        collapsed = finite & (np.abs(theta) < tol)
        healthy = finite & ~collapsed & (np.abs(phi - 1.0) < tol)
    return np.where(collapsed, 0, np.where(healthy, 1, 2))
