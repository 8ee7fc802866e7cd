"""Local errors of one step: the leading Taylor term, and the true error against the exact flow (chapter 1).

One gradient-descent (Euler) step θ ↦ θ − γ∇L(θ) misses the gradient flow
dθ/dt = −∇L(θ) after the same time γ by its *local error*.  Chapter 1 keeps two
measures of it apart:

* the **leading term** ½γ²‖∇²L ∇L‖ of its Taylor expansion
  (:func:`euler_local_error`, and its inverse :func:`euler_error_lr`), which is
  what an embedded error estimate sees to first order;
* the **true local error** ‖φ_γ(θ) − (θ − γ∇L(θ))‖ against the exact flow map
  φ (:func:`true_local_errors`, with :func:`quadratic_flow_map` in closed form
  or :func:`numerical_flow_map` by scipy's DOP853).  Near the stability edge
  the two differ: on a quadratic at γλ = 2 the true error is (1 + e⁻²)/2 ≈ 0.57
  of the leading term.

Derived in chapter 1.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ._validation import check_array, check_callable, check_returned, check_scalar

__all__ = [
    "euler_local_error",
    "euler_error_lr",
    "quadratic_flow_map",
    "numerical_flow_map",
    "true_local_errors",
]

Fn = Callable[[np.ndarray], np.ndarray]
FlowMap = Callable[[np.ndarray, float], np.ndarray]


def euler_local_error(grad: Fn, hess: Fn, theta: object, lr: float) -> float:
    """Leading-order local error of one Euler (gradient-descent) step, ½γ²‖∇²L(θ)∇L(θ)‖.

    Parameters
    ----------
    grad, hess : callable
        ∇L (shape ``(d,)``) and ∇²L (shape ``(d, d)``).
    theta : array_like, shape (d,)
        The point.
    lr : float
        The step γ ≥ 0.

    Returns
    -------
    float

    Notes
    -----
    Along the flow θ̈ = ∇²L ∇L, so θ(γ) − (θ − γ∇L) = ½γ²∇²L∇L + O(γ³).
    Derived in chapter 1.
    """
    grad, hess = check_callable("grad", grad), check_callable("hess", hess)
    theta = check_array("theta", theta, ndim=1, nonempty=True)
    lr = check_scalar("lr", lr, low=0.0)
    d = theta.shape[0]
    acc = check_returned("hess", hess(theta), shape=(d, d)) @ check_returned("grad", grad(theta), shape=(d,))
    return 0.5 * lr * lr * float(np.linalg.norm(acc))


def euler_error_lr(grad: Fn, hess: Fn, theta: object, tol: float) -> float:
    """The Euler step whose leading-order local error equals ``tol``: √(2 tol / ‖∇²L ∇L‖).

    Parameters
    ----------
    grad, hess : callable
        ∇L and ∇²L.
    theta : array_like, shape (d,)
        The point.
    tol : float
        Local error allowed per step, > 0.

    Returns
    -------
    float
        ``inf`` where ∇²L∇L = 0.

    Notes
    -----
    Inverts :func:`euler_local_error`. Derived in chapter 1.
    """
    tol = check_scalar("tol", tol, low=0.0, low_inclusive=False)
    unit = euler_local_error(grad, hess, theta, 1.0)
    return np.inf if unit == 0.0 else float(np.sqrt(tol / unit))


def quadratic_flow_map(A: object, b: object | None = None) -> FlowMap:
    """The exact gradient flow of L(θ) = ½θᵀAθ − bᵀθ over a time h, in closed form.

    Parameters
    ----------
    A : array_like, shape (d, d)
        Symmetric positive definite matrix.
    b : array_like, shape (d,), optional
        Linear term (default zero).

    Returns
    -------
    callable
        ``flow(theta, h)`` = θ* + V e^{−Λh} Vᵀ (θ − θ*) with A = VΛVᵀ and θ* = A⁻¹b.

    Raises
    ------
    ValueError
        If ``A`` is not symmetric positive definite or ``b`` has the wrong shape.

    Notes
    -----
    The error θ − θ* obeys ė = −Ae, so e(h) = e^{−Ah}e(0).  Derived in chapter 1.
    """
    A = check_array("A", A, ndim=2)
    d = A.shape[0]
    if A.shape != (d, d) or not np.allclose(A, A.T, rtol=1e-12, atol=1e-12):
        raise ValueError("A must be a symmetric square matrix")
    lam, V = np.linalg.eigh(A)
    if lam.min() <= 0:
        raise ValueError("A must be positive definite")
    b = np.zeros(d) if b is None else check_array("b", b, shape=(d,))
    star = np.linalg.solve(A, b)

    def flow(theta: np.ndarray, h: float) -> np.ndarray:
        theta = check_array("theta", theta, shape=(d,))
        h = check_scalar("h", h, low=0.0)
        return star + V @ (np.exp(-lam * h) * (V.T @ (theta - star)))

    return flow


def numerical_flow_map(grad: Callable[[np.ndarray], np.ndarray], *, rtol: float = 1e-12,
                       atol: float = 1e-14) -> FlowMap:
    """The gradient flow over a time h, integrated by scipy's DOP853 at tight tolerances.

    Parameters
    ----------
    grad : callable
        ∇L, shape ``(d,)`` → ``(d,)``.
    rtol, atol : float, optional
        Tolerances (> 0); the defaults make the result exact to plotting accuracy.

    Returns
    -------
    callable
        ``flow(theta, h)``.

    Notes
    -----
    Use :func:`quadratic_flow_map` where the loss is quadratic: it is exact and
    much faster.  Derived in chapter 1.
    """
    from scipy.integrate import solve_ivp

    from .flows import _checked_rhs

    grad = check_callable("grad", grad)
    rtol = check_scalar("rtol", rtol, low=0.0, low_inclusive=False)
    atol = check_scalar("atol", atol, low=0.0, low_inclusive=False)

    def flow(theta: np.ndarray, h: float) -> np.ndarray:
        theta = check_array("theta", theta, ndim=1, nonempty=True)
        h = check_scalar("h", h, low=0.0)
        if h == 0.0:
            return theta.copy()
        sol = solve_ivp(_checked_rhs(grad, "grad", -1.0, theta.shape), (0.0, h), theta,
                        method="DOP853", rtol=rtol, atol=atol)
        if not sol.success:  # pragma: no cover - smooth flows over short times succeed
            raise ValueError(f"integration failed: {sol.message}")
        return sol.y[:, -1]

    return flow


def true_local_errors(flow: FlowMap, theta: object, h: object) -> np.ndarray:
    """The true local error ‖φ_{h_k}(θ_k) − θ_{k+1}‖ of every step of a run.

    Parameters
    ----------
    flow : callable
        ``flow(theta, h)``, the exact flow (:func:`quadratic_flow_map` or
        :func:`numerical_flow_map`).
    theta : array_like, shape (n + 1, d)
        The run's points θ_0, …, θ_n.
    h : array_like, shape (n,)
        The flow time each step claims to advance (the learning rate of
        gradient descent and of scalar RMSprop, the accepted step of a solver).

    Returns
    -------
    numpy.ndarray, shape (n,)

    Notes
    -----
    This is the error a step makes starting from its own (already inexact)
    point; it is the quantity an error controller is meant to keep below its
    tolerance.  For a per-coordinate rule (RMSprop (b), sign descent) there is
    no single flow time per step, and the measure does not apply.  Derived in
    chapter 1.
    """
    flow = check_callable("flow", flow)
    theta = check_array("theta", theta, ndim=2, nonempty=True)
    h = check_array("h", h, shape=(theta.shape[0] - 1,), nonnegative=True)
    d = theta.shape[1]
    return np.array([float(np.linalg.norm(check_returned("flow", flow(theta[k], float(h[k])), shape=(d,))
                                          - theta[k + 1])) for k in range(h.size)])
