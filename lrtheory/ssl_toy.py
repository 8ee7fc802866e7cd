"""The scalar SimSiam toy: a predictor φ, an encoder θ, and the loss l = ½(φθ − θ)².

A one-dimensional caricature of a Siamese network: the encoder maps an input
to θ, the predictor multiplies it by φ, and the loss compares the prediction
φθ with the target θ.  Its gradient with respect to θ has two parts, one
through the prediction (φθ) and one through the target (θ).  Three gradient
flows are compared (``SYSTEMS``):

``"stopgrad"``
    SimSiam: the target branch is detached,
    φ' = −(φ − 1)θ²,  θ' = −(φ − 1)θφ.
``"full"``
    the full gradient flow of l,
    φ' = −(φ − 1)θ²,  θ' = −(φ − 1)²θ.
``"removed"``
    only the term that the stop-gradient removes,
    φ' = −(φ − 1)θ²,  θ' = +(φ − 1)θ.

Each system has a conserved quantity (:func:`conserved_quantity`), so its
limit is known in closed form (:func:`exact_limit`), and so is the set of
initial conditions that collapse (θ → 0, :func:`collapses`).  Gradient
descent on the toy, whose steps change these quantities by an exact amount,
is in :mod:`lrtheory.ssl_toy_gd`.

Derived in chapter 5.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ._validation import check_array, check_choice

__all__ = [
    "SYSTEMS",
    "toy_loss",
    "stopgrad_flow",
    "full_flow",
    "removed_flow",
    "toy_flow",
    "conserved_quantity",
    "exact_limit",
    "collapses",
    "collapse_map",
]

SYSTEMS: tuple[str, ...] = ("stopgrad", "full", "removed")
"""The three toy systems: with stop-gradient, full gradient, only the removed term."""


def _state(name: str, state: object) -> np.ndarray:
    arr = check_array(name, state)
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise ValueError(f"{name} must have shape (..., 2) holding (phi, theta), got {arr.shape}")
    return arr


def _pair(phi0: object, theta0: object, names: tuple[str, str] = ("phi0", "theta0")) -> tuple[np.ndarray, np.ndarray]:
    phi = check_array(names[0], phi0)
    theta = check_array(names[1], theta0)
    try:
        phi, theta = np.broadcast_arrays(phi, theta)
    except ValueError:
        raise ValueError(f"{names[0]} and {names[1]} must broadcast, got shapes {phi.shape} and {theta.shape}") from None
    return phi.astype(float), theta.astype(float)


def toy_loss(phi: object, theta: object) -> np.ndarray:
    """The toy loss l(φ, θ) = ½(φθ − θ)², vectorised.

    Parameters
    ----------
    phi, theta : array_like
        Predictor and encoder parameters (broadcast together).

    Returns
    -------
    numpy.ndarray
        The loss, of the broadcast shape.

    Notes
    -----
    l = ½(φ − 1)²θ² vanishes on the two lines φ = 1 (the predictor is the
    identity: no collapse needed) and θ = 0 (the encoder is constant: the
    collapsed solution).  Derived in chapter 5.
    """
    phi, theta = _pair(phi, theta, ("phi", "theta"))
    return 0.5 * (phi * theta - theta) ** 2


def stopgrad_flow(state: object) -> np.ndarray:
    """Right-hand side of the stop-gradient (SimSiam) toy flow.

    Parameters
    ----------
    state : array_like, shape (..., 2)
        ``(phi, theta)`` in the last axis.

    Returns
    -------
    numpy.ndarray, shape (..., 2)
        ``(dphi/dt, dtheta/dt)``.

    Notes
    -----
    .. math::

        \\dot\\varphi = -(\\varphi - 1)\\theta^2, \\qquad
        \\dot\\theta = -(\\varphi - 1)\\theta\\varphi .

    The encoder only receives the gradient through the prediction φθ.
    Derived in chapter 5.
    """
    s = _state("state", state)
    phi, theta = s[..., 0], s[..., 1]
    r = (phi - 1.0) * theta
    return np.stack([-r * theta, -r * phi], axis=-1)


def full_flow(state: object) -> np.ndarray:
    """Right-hand side of the full gradient flow of the toy loss.

    Parameters
    ----------
    state : array_like, shape (..., 2)
        ``(phi, theta)`` in the last axis.

    Returns
    -------
    numpy.ndarray, shape (..., 2)

    Notes
    -----
    .. math::

        \\dot\\varphi = -(\\varphi - 1)\\theta^2, \\qquad
        \\dot\\theta = -(\\varphi - 1)\\theta\\varphi + (\\varphi - 1)\\theta
                     = -(\\varphi - 1)^2\\theta ,

    i.e. −∇l with both branches differentiated.  Derived in chapter 5.
    """
    s = _state("state", state)
    phi, theta = s[..., 0], s[..., 1]
    r = (phi - 1.0) * theta
    return np.stack([-r * theta, -r * (phi - 1.0)], axis=-1)


def removed_flow(state: object) -> np.ndarray:
    """Right-hand side of the toy flow that keeps only the stop-gradient's removed term.

    Parameters
    ----------
    state : array_like, shape (..., 2)
        ``(phi, theta)`` in the last axis.

    Returns
    -------
    numpy.ndarray, shape (..., 2)

    Notes
    -----
    .. math::

        \\dot\\varphi = -(\\varphi - 1)\\theta^2, \\qquad
        \\dot\\theta = +(\\varphi - 1)\\theta ,

    the encoder is driven only through the target branch.  Derived in chapter 5.
    """
    s = _state("state", state)
    phi, theta = s[..., 0], s[..., 1]
    r = (phi - 1.0) * theta
    return np.stack([-r * theta, r], axis=-1)


def _raw_field(system: str, s: np.ndarray) -> np.ndarray:
    """The three vector fields without argument checks (for the inner loop of :func:`toy_gd`)."""
    phi, theta = s[..., 0], s[..., 1]
    r = (phi - 1.0) * theta
    second = {"stopgrad": -r * phi, "full": -r * (phi - 1.0), "removed": r}[system]
    return np.stack([-r * theta, second], axis=-1)


_FLOWS: dict[str, Callable[[object], np.ndarray]] = {
    "stopgrad": stopgrad_flow,
    "full": full_flow,
    "removed": removed_flow,
}


def toy_flow(system: str) -> Callable[[object], np.ndarray]:
    """Return the vector field of one of the :data:`SYSTEMS`.

    Parameters
    ----------
    system : {"stopgrad", "full", "removed"}

    Returns
    -------
    callable
        ``state (..., 2) -> (..., 2)``, usable with
        :func:`lrtheory.flows.integrate_flow`.
    """
    return _FLOWS[check_choice("system", system, SYSTEMS)]


def conserved_quantity(system: str, phi: object, theta: object) -> np.ndarray:
    """The quantity that the flow of ``system`` keeps constant.

    Parameters
    ----------
    system : {"stopgrad", "full", "removed"}
    phi, theta : array_like
        A state (or states, broadcast together).

    Returns
    -------
    numpy.ndarray

    Notes
    -----
    All three systems share φ' = −(φ − 1)θ², so dφ/dθ separates:

    * stopgrad: dφ/dθ = θ/φ, invariant C = φ² − θ²;
    * full: dφ/dθ = θ/(φ − 1), invariant D = (φ − 1)² − θ²;
    * removed: dφ/dθ = −θ, invariant E = φ + θ²/2.

    Derived in chapter 5.
    """
    check_choice("system", system, SYSTEMS)
    phi, theta = _pair(phi, theta, ("phi", "theta"))
    if system == "stopgrad":
        return phi**2 - theta**2
    if system == "full":
        return (phi - 1.0) ** 2 - theta**2
    return phi + 0.5 * theta**2


def exact_limit(system: str, phi0: object, theta0: object) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form limit (φ∞, θ∞) of the toy flow of ``system`` as t → ∞.

    Parameters
    ----------
    system : {"stopgrad", "full", "removed"}
    phi0, theta0 : array_like
        Initial conditions (broadcast together).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        φ∞ and θ∞, of the broadcast shape.

    Notes
    -----
    Every orbit stays on a level set of its invariant and φ moves monotonically
    towards 1 while θ ≠ 0; the orbit ends on the first line of equilibria it
    meets, φ = 1 or θ = 0.  With s = sign θ(0):

    * stopgrad, C = φ₀² − θ₀²: if θ₀ ≠ 0, C < 1 and (φ₀ ≥ 0 or C < 0) the
      limit is (1, s√(1 − C)); otherwise (sign(φ₀)√C, 0).
    * full, D = (φ₀ − 1)² − θ₀²: if D < 0 the limit is (1, s√(−D));
      otherwise (1 + sign(φ₀ − 1)√D, 0).
    * removed, E = φ₀ + θ₀²/2: if θ₀ ≠ 0 and E > 1 the limit is
      (1, s√(2(E − 1))); otherwise (E, 0) (for θ₀ = 0 this is the fixed point).

    Derived in chapter 5.
    """
    check_choice("system", system, SYSTEMS)
    phi0, theta0 = _pair(phi0, theta0)
    s = np.sign(theta0)
    q = conserved_quantity(system, phi0, theta0)
    with np.errstate(invalid="ignore"):
        if system == "stopgrad":
            alive = (theta0 != 0) & (q < 1) & ((phi0 >= 0) | (q < 0))
            phi_inf = np.where(alive, 1.0, np.sign(phi0) * np.sqrt(np.maximum(q, 0.0)))
            theta_inf = np.where(alive, s * np.sqrt(np.maximum(1.0 - q, 0.0)), 0.0)
        elif system == "full":
            alive = q < 0
            phi_inf = np.where(alive, 1.0, 1.0 + np.sign(phi0 - 1.0) * np.sqrt(np.maximum(q, 0.0)))
            theta_inf = np.where(alive, s * np.sqrt(np.maximum(-q, 0.0)), 0.0)
        else:
            alive = (theta0 != 0) & (q > 1)
            phi_inf = np.where(alive, 1.0, q)
            theta_inf = np.where(alive, s * np.sqrt(np.maximum(2.0 * (q - 1.0), 0.0)), 0.0)
    return phi_inf, theta_inf


def collapses(system: str, phi0: object, theta0: object) -> np.ndarray:
    """Whether the flow of ``system`` from (φ₀, θ₀) collapses, i.e. θ(t) → 0.

    Parameters
    ----------
    system : {"stopgrad", "full", "removed"}
    phi0, theta0 : array_like
        Initial conditions.

    Returns
    -------
    numpy.ndarray of bool

    Notes
    -----
    θ∞ = 0 in :func:`exact_limit`.  Derived in chapter 5.
    """
    return exact_limit(system, phi0, theta0)[1] == 0.0


def collapse_map(system: str, phi_grid: object, theta_grid: object) -> np.ndarray:
    """Collapse indicator on a grid of initial conditions.

    Parameters
    ----------
    system : {"stopgrad", "full", "removed"}
    phi_grid, theta_grid : array_like, 1-D
        The φ₀ values (columns) and θ₀ values (rows).

    Returns
    -------
    numpy.ndarray of bool, shape (len(theta_grid), len(phi_grid))
        ``True`` where the flow collapses.
    """
    phi_grid = check_array("phi_grid", phi_grid, ndim=1)
    theta_grid = check_array("theta_grid", theta_grid, ndim=1)
    phi, theta = np.meshgrid(phi_grid, theta_grid)
    return collapses(system, phi, theta)
