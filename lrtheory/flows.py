"""Gradient flows, their accurate integration, and explicit Euler (= gradient descent).

The book's single idea: an optimiser is a discretisation of an ordinary
differential equation, and its learning rate is the step size.  This module
holds the two sides of that statement for numpy problems:

* :func:`integrate_flow` solves dθ/dt = f(θ) to high accuracy with scipy
  (the "exact" flow that chapters compare against), and
  :func:`gradient_flow` is the special case f = −∇L;
* :func:`euler_iterates` takes explicit Euler steps θ_{k+1} = θ_k + γ_k f(θ_k)
  with a constant or scheduled step, and :func:`gd_iterates` is the special
  case f = −∇L, i.e. gradient descent; :func:`step_times` converts a sequence
  of learning rates into the flow time t_k = γ_0 + … + γ_{k−1} that the
  iterates approximate;
* :func:`distance_to_path` measures how far points lie from a sampled path
  (do iterates follow the flow's path, whatever their timing?).

Derivations: chapter 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ._validation import (
    all_finite,
    check_array,
    check_bool,
    check_callable,
    check_int,
    check_returned,
    check_scalar,
)

__all__ = [
    "FlowSolution",
    "integrate_flow",
    "gradient_flow",
    "euler_iterates",
    "gd_iterates",
    "step_times",
    "distance_to_path",
]

VectorField = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class FlowSolution:
    """Samples of a flow: ``theta[i]`` is the state at time ``t[i]``."""

    t: np.ndarray
    theta: np.ndarray
    nfev: int



def integrate_flow(
    field: VectorField,
    theta0: object,
    t_final: float,
    *,
    t_eval: object | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    method: str = "DOP853",
) -> FlowSolution:
    """Integrate dθ/dt = field(θ) from θ(0) = theta0 to t_final, accurately.

    Parameters
    ----------
    field : callable
        The autonomous vector field, mapping an array of shape ``(d,)`` to one
        of the same shape.
    theta0 : array_like, shape (d,)
        Initial state.
    t_final : float
        Final time, ≥ 0.
    t_eval : array_like, optional
        Increasing times in [0, t_final] at which to report the state;
        default: 201 equally spaced times.
    rtol, atol : float, optional
        Tolerances of the integrator (defaults tight enough to treat the
        result as the exact flow in the book's comparisons).
    method : str, optional
        Any :func:`scipy.integrate.solve_ivp` method (default ``"DOP853"``,
        an 8th-order Runge–Kutta pair).

    Returns
    -------
    FlowSolution
        ``t`` (shape ``(n,)``), ``theta`` (shape ``(n, d)``) and the number of
        field evaluations.

    Raises
    ------
    TypeError, ValueError
        On a bad argument, naming it; if ``field`` returns a value that is not
        a finite array of shape ``(d,)`` (checked at every evaluation, so that a
        NaN cannot stall the integrator); or if the integrator fails (e.g. the
        state becomes non-finite: the flow blows up).
    """
    field = check_callable("field", field)
    return _integrate(field, "field", 1.0, theta0, t_final, t_eval=t_eval, rtol=rtol, atol=atol, method=method)


def _integrate(field: VectorField, name: str, sign: float, theta0: object, t_final: float, *,
               t_eval: object | None = None, rtol: float = 1e-10, atol: float = 1e-12,
               method: str = "DOP853") -> FlowSolution:
    """:func:`integrate_flow` of ``sign * field``; errors about the callable name it ``name``."""
    from scipy.integrate import solve_ivp

    theta0 = check_array("theta0", theta0, ndim=1, nonempty=True)
    t_final = check_scalar("t_final", t_final, low=0.0)
    rtol = check_scalar("rtol", rtol, low=0.0, low_inclusive=False)
    atol = check_scalar("atol", atol, low=0.0, low_inclusive=False)
    if t_eval is None:
        t_eval = np.linspace(0.0, t_final, 201)
    t_eval = check_array("t_eval", t_eval, ndim=1, nonempty=True)
    if np.any(np.diff(t_eval) < 0) or (t_eval.size and (t_eval[0] < 0 or t_eval[-1] > t_final * (1 + 1e-12))):
        raise ValueError("t_eval must be increasing and inside [0, t_final]")
    if t_final == 0.0:
        return FlowSolution(np.zeros(1), theta0[None, :].copy(), 0)
    t_eval = np.minimum(t_eval, t_final)
    sol = solve_ivp(_checked_rhs(field, name, sign, theta0.shape), (0.0, t_final), theta0,
                    method=method, t_eval=t_eval, rtol=rtol, atol=atol)
    if not sol.success:
        raise ValueError(f"integration failed: {sol.message}")
    return FlowSolution(sol.t, sol.y.T.copy(), int(sol.nfev))


def gradient_flow(
    grad: VectorField,
    theta0: object,
    t_final: float,
    **kwargs: object,
) -> FlowSolution:
    """Integrate the gradient flow dθ/dt = −∇L(θ) accurately (see :func:`integrate_flow`).

    Parameters
    ----------
    grad : callable
        ∇L, mapping shape ``(d,)`` to shape ``(d,)``.
    theta0 : array_like, shape (d,)
        Initial point.
    t_final : float
        Final time.
    **kwargs
        Passed on to :func:`integrate_flow`.

    Returns
    -------
    FlowSolution

    Notes
    -----
    Along the flow dL/dt = −‖∇L‖² ≤ 0, so the loss never increases and the
    stable fixed points are the (isolated) local minima of L (chapter 1).
    """
    grad = check_callable("grad", grad)
    return _integrate(grad, "grad", -1.0, theta0, t_final, **kwargs)  # type: ignore[arg-type]


def _checked_rhs(field: VectorField, name: str, sign: float,
                shape: tuple[int, ...]) -> Callable[[float, np.ndarray], np.ndarray]:
    """``(t, y) -> sign * field(y)`` for :func:`scipy.integrate.solve_ivp`, checked at every call.

    scipy's adaptive solvers shrink the step forever when the right-hand side
    is NaN, so an unchecked field that returns NaN hangs them; this wrapper
    raises instead, naming the callable (``name``) when it returns a
    non-finite value or the wrong shape at a finite state, and saying that the
    flow blew up when the state itself stopped being finite.
    """

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        if not all_finite(y):
            raise ValueError(f"integration failed: the state became non-finite at t={t:.6g} "
                             "(the flow blows up)")
        out = check_returned(name, field(y), shape=shape, at=y)
        return out if sign == 1.0 else np.negative(out) if sign == -1.0 else sign * out

    return rhs



def _lrs(lr: object, num_steps: int) -> np.ndarray:
    arr = check_array("lr", lr, ndim=(0, 1), nonnegative=True)
    if arr.ndim == 0:
        return np.full(num_steps, float(arr))
    if arr.shape[0] != num_steps:
        raise ValueError(f"lr must be a scalar or have length num_steps={num_steps}, got {arr.shape[0]}")
    return arr


def euler_iterates(
    field: VectorField,
    theta0: object,
    lr: float | Sequence[float] | np.ndarray,
    num_steps: int,
    *,
    stop_if_diverged: bool = True,
) -> np.ndarray:
    """Explicit Euler steps θ_{k+1} = θ_k + γ_k field(θ_k).

    Parameters
    ----------
    field : callable
        Vector field, shape ``(d,)`` → ``(d,)``.
    theta0 : array_like, shape (d,)
        Initial state.
    lr : float or array_like of shape (num_steps,)
        Step size γ (constant) or one per step; non-negative.
    num_steps : int
        Number of steps, ≥ 0.
    stop_if_diverged : bool, optional
        If an iterate becomes non-finite, fill the rest with ``nan`` instead of
        computing with overflowing numbers (default ``True``).

    Returns
    -------
    numpy.ndarray, shape (num_steps + 1, d)
        The iterates, ``theta0`` first.

    Raises
    ------
    TypeError, ValueError
        On a bad argument, naming it, and if ``field`` returns anything but
        an array of shape ``(d,)``, or a non-finite value at ``theta0`` (a
        non-finite value later is divergence, handled as ``stop_if_diverged``
        says).

    Notes
    -----
    One step agrees with the exact flow up to O(γ²) (the local error); after
    t/γ steps the global error is O(γ) (chapter 1).
    """
    field = check_callable("field", field)
    return _euler(field, "field", 1.0, theta0, lr, num_steps, stop_if_diverged=stop_if_diverged)


def _euler(field: VectorField, name: str, sign: float, theta0: object, lr: object, num_steps: int, *,
           stop_if_diverged: bool = True) -> np.ndarray:
    """:func:`euler_iterates` of ``sign * field``; errors about the callable name it ``name``."""
    theta0 = check_array("theta0", theta0, ndim=1, nonempty=True)
    num_steps = check_int("num_steps", num_steps, low=0)
    stop_if_diverged = check_bool("stop_if_diverged", stop_if_diverged)
    lrs = _lrs(lr, num_steps)
    out = np.empty((num_steps + 1, theta0.shape[0]))
    out[0] = theta0
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(num_steps):
            # at theta0 a non-finite value is bad input; later it is divergence (documented)
            g = check_returned(name, field(out[k]), shape=theta0.shape, finite=k == 0, at=out[k])
            out[k + 1] = out[k] + lrs[k] * sign * g
            if stop_if_diverged and not np.all(np.isfinite(out[k + 1])):
                out[k + 1:] = np.nan
                break
    return out


def gd_iterates(
    grad: VectorField,
    theta0: object,
    lr: float | Sequence[float] | np.ndarray,
    num_steps: int,
    **kwargs: object,
) -> np.ndarray:
    """Gradient descent θ_{k+1} = θ_k − γ_k ∇L(θ_k): Euler's method on the gradient flow.

    Parameters
    ----------
    grad : callable
        ∇L, shape ``(d,)`` → ``(d,)``.
    theta0 : array_like, shape (d,)
        Initial point.
    lr : float or array_like
        Learning rate(s), as in :func:`euler_iterates`.
    num_steps : int
        Number of steps.
    **kwargs
        Passed on to :func:`euler_iterates`.

    Returns
    -------
    numpy.ndarray, shape (num_steps + 1, d)
    """
    grad = check_callable("grad", grad)
    return _euler(grad, "grad", -1.0, theta0, lr, num_steps, **kwargs)  # type: ignore[arg-type]


def step_times(lrs: object) -> np.ndarray:
    """Flow time reached after each step: t_0 = 0, t_k = γ_0 + … + γ_{k−1}.

    Parameters
    ----------
    lrs : array_like, shape (n,)
        Non-negative step sizes.

    Returns
    -------
    numpy.ndarray, shape (n + 1,)
    """
    lrs = check_array("lrs", lrs, ndim=1, nonnegative=True)
    return np.concatenate([[0.0], np.cumsum(lrs)])


def distance_to_path(points: object, path: object) -> np.ndarray:
    """Distance from each point to the polyline through the samples of a path.

    Parameters
    ----------
    points : array_like, shape (m, d)
        The points.
    path : array_like, shape (n, d)
        Samples of a path, n ≥ 2, in order (dense enough to treat as the curve).

    Returns
    -------
    numpy.ndarray, shape (m,)

    Notes
    -----
    Derived in chapter 1, where it tells whether iterates lie on the gradient
    flow's path whatever their timing.
    """
    pts = check_array("points", points, ndim=2)
    p = check_array("path", path, ndim=2)
    if p.shape[0] < 2 or p.shape[1] != pts.shape[1]:
        raise ValueError(f"path must have at least 2 samples of dimension {pts.shape[1]}, got shape {p.shape}")
    a, seg = p[:-1], np.diff(p, axis=0)
    out = np.empty(pts.shape[0])
    for i0 in range(0, pts.shape[0], 256):
        rel = pts[i0:i0 + 256, None, :] - a[None]
        t = np.clip(np.sum(rel * seg, -1) / np.maximum(np.sum(seg * seg, -1), 1e-300), 0.0, 1.0)
        out[i0:i0 + 256] = np.min(np.linalg.norm(rel - t[..., None] * seg, axis=-1), axis=1)
    return out
