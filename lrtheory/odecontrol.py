"""Step sizes chosen by real local-error controllers along a gradient flow (chapter 1).

Chapter 1 reads RMSprop as step-size control for Euler's method on
dθ/dt = −∇L(θ).  To judge that reading, this module provides the step sizes
that genuine error controllers pick along the same flow:

* :func:`rk45_steps` records the accepted steps of scipy's embedded
  Runge–Kutta pair (Dormand–Prince 5(4), ``solve_ivp(method="RK45")``);
* :func:`euler_error_lr` is the step at which one Euler (= gradient-descent)
  step has a given leading-order local error, γ = √(2·tol / ‖∇²L ∇L‖);
* :func:`heun_euler_descent` is gradient descent whose step is chosen on
  the fly by the embedded Heun–Euler error estimate, the textbook adaptive
  first-order solver.

Derived in chapter 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._validation import check_array, check_int, check_returned, check_scalar

__all__ = [
    "StepRecord",
    "rk45_steps",
    "euler_local_error",
    "euler_error_lr",
    "heun_euler_descent",
    "rk_stability_polynomial",
    "real_stability_boundary",
]

Fn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class StepRecord:
    """Accepted steps of an adaptive solver: ``theta[k]`` at flow time ``t[k]``; ``h = diff(t)``."""

    t: np.ndarray
    theta: np.ndarray
    nfev: int
    rejected: int = 0

    @property
    def h(self) -> np.ndarray:
        """The accepted step sizes, shape (n,)."""
        return np.diff(self.t)


def _callable(name: str, f: object) -> Fn:
    if not callable(f):
        raise TypeError(f"{name} must be callable, got {type(f).__name__}")
    return f  # type: ignore[return-value]


def rk45_steps(
    grad: Fn,
    theta0: object,
    t_final: float,
    *,
    rtol: float = 1e-3,
    atol: float = 1e-6,
    method: str = "RK45",
) -> StepRecord:
    """The steps that scipy's adaptive Runge–Kutta solver takes along the gradient flow.

    Parameters
    ----------
    grad : callable
        ∇L, shape ``(d,)`` → ``(d,)``.
    theta0 : array_like, shape (d,)
        Initial point.
    t_final : float
        Final flow time, > 0.
    rtol, atol : float, optional
        The solver's tolerances (> 0).
    method : {"RK45", "RK23", "DOP853"}, optional
        Which explicit embedded pair (default Dormand–Prince 5(4)).

    Returns
    -------
    StepRecord
        The accepted step points (no interpolation).

    Raises
    ------
    TypeError, ValueError
        On a bad argument, naming it; if ``grad`` returns anything but a
        finite array of shape ``(d,)`` (checked at every evaluation, so that a
        NaN cannot stall the solver); or on a failed integration.

    Notes
    -----
    The controller keeps the embedded error estimate of every accepted step
    below atol + rtol·abs(θ) (in scipy's RMS norm) and scales the next step by
    (tol/err)^{1/5} for RK45. Derived in chapter 1.
    """
    from scipy.integrate import solve_ivp

    from .flows import _checked_rhs

    grad = _callable("grad", grad)
    theta0 = check_array("theta0", theta0, ndim=1, nonempty=True)
    t_final = check_scalar("t_final", t_final, low=0.0, low_inclusive=False)
    rtol = check_scalar("rtol", rtol, low=0.0, low_inclusive=False)
    atol = check_scalar("atol", atol, low=0.0, low_inclusive=False)
    if method not in ("RK45", "RK23", "DOP853"):
        raise ValueError(f"method must be one of ('RK45', 'RK23', 'DOP853'), got {method!r}")
    sol = solve_ivp(_checked_rhs(grad, "grad", -1.0, theta0.shape), (0.0, t_final), theta0,
                    method=method, rtol=rtol, atol=atol)
    if not sol.success:  # pragma: no cover - explicit solvers on smooth flows succeed
        raise ValueError(f"integration failed: {sol.message}")
    return StepRecord(sol.t.copy(), sol.y.T.copy(), int(sol.nfev))


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
    grad, hess = _callable("grad", grad), _callable("hess", hess)
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


def heun_euler_descent(
    grad: Fn,
    theta0: object,
    tol: float,
    num_steps: int,
    *,
    lr0: float = 1e-3,
    safety: float = 0.9,
    max_factor: float = 5.0,
) -> StepRecord:
    """Gradient descent whose step is set by the embedded Heun–Euler local-error estimate.

    Parameters
    ----------
    grad : callable
        ∇L, shape ``(d,)`` → ``(d,)``.
    theta0 : array_like, shape (d,)
        Initial point.
    tol : float
        Allowed local error per step (Euclidean norm), > 0.
    num_steps : int
        Number of accepted steps, ≥ 0.
    lr0 : float, optional
        First trial step, > 0.
    safety : float, optional
        Safety factor in (0, 1] of the step controller.
    max_factor : float, optional
        Largest growth of the step from one try to the next, > 1.

    Returns
    -------
    StepRecord
        Accepted points and flow times; ``rejected`` counts rejected tries.

    Raises
    ------
    TypeError, ValueError
        On a bad argument, naming it; if ``grad`` is not finite at ``theta0``;
        or if the controller keeps rejecting (a trial step whose gradient is
        not finite is rejected and the step shrinks tenfold).

    Notes
    -----
    A trial step θ̃ = θ − h g is Euler (gradient descent); Heun's method
    θ − (h/2)(g + ∇L(θ̃)) is second order, so their difference
    err = (h/2)‖∇L(θ̃) − g‖ estimates Euler's local error. The step is
    accepted when err ≤ tol; either way the next trial is
    h·min(max_factor, safety·√(tol/err)) (the exponent ½ because the error is
    O(h²)). Euler's point is kept, so the iterates are gradient-descent
    iterates with an error-controlled learning rate. Derived in chapter 1.
    """
    grad = _callable("grad", grad)
    theta = check_array("theta0", theta0, ndim=1, nonempty=True).copy()
    tol = check_scalar("tol", tol, low=0.0, low_inclusive=False)
    num_steps = check_int("num_steps", num_steps, low=0)
    h = check_scalar("lr0", lr0, low=0.0, low_inclusive=False)
    safety = check_scalar("safety", safety, low=0.0, high=1.0, low_inclusive=False)
    max_factor = check_scalar("max_factor", max_factor, low=1.0, low_inclusive=False)
    ts, thetas = [0.0], [theta.copy()]
    nfev, rejected, t = 0, 0, 0.0
    g = check_returned("grad", grad(theta), shape=theta.shape, at=theta)
    nfev += 1
    nonfinite = False
    while len(ts) <= num_steps:
        trial = theta - h * g
        with np.errstate(over="ignore", invalid="ignore"):
            g_trial = check_returned("grad", grad(trial), shape=theta.shape, finite=False)
            nfev += 1
            err = 0.5 * h * float(np.linalg.norm(g_trial - g))
        nonfinite = not math.isfinite(err)  # a non-finite trial gradient: reject and shrink the step
        factor = 0.1 if nonfinite else max_factor if err == 0.0 else min(max_factor, safety * np.sqrt(tol / err))
        if err <= tol and np.all(np.isfinite(trial)):
            t += h
            theta, g = trial, g_trial
            ts.append(t)
            thetas.append(theta.copy())
        else:
            rejected += 1
            if rejected > 100 * (num_steps + 1):
                if nonfinite:
                    raise ValueError(f"grad keeps returning non-finite values near theta={theta} "
                                     "however small the step")
                raise ValueError("the step controller keeps rejecting: raise tol")  # pragma: no cover
        h *= max(factor, 0.1)
    return StepRecord(np.array(ts), np.array(thetas), nfev, rejected)


def rk_stability_polynomial(A: object, b: object) -> np.ndarray:
    """Coefficients (constant first) of the stability function of an explicit Runge–Kutta method.

    Parameters
    ----------
    A : array_like, shape (s, s)
        The Butcher matrix; must be strictly lower triangular (explicit method).
    b : array_like, shape (s,)
        The weights of the propagated solution.

    Returns
    -------
    numpy.ndarray, shape (s + 1,)
        c_0, …, c_s with R(z) = Σ c_k z^k, the factor by which one step
        multiplies the solution of y′ = λy when z = hλ.

    Notes
    -----
    R(z) = 1 + z bᵀ(I − zA)⁻¹𝟙 = 1 + Σ_{k≥0} z^{k+1} bᵀA^k𝟙, a finite sum
    because A is nilpotent. Euler (A = [0], b = [1]) gives R(z) = 1 + z.
    Derived in chapter 1.
    """
    A = check_array("A", A, ndim=2, nonempty=True)
    s = A.shape[0]
    if A.shape != (s, s) or np.any(np.triu(A) != 0):
        raise ValueError("A must be a square, strictly lower-triangular matrix (an explicit method)")
    b = check_array("b", b, shape=(s,))
    coeffs = np.zeros(s + 1)
    coeffs[0] = 1.0
    v = np.ones(s)
    for k in range(s):
        coeffs[k + 1] = b @ v
        v = A @ v
    return coeffs


def real_stability_boundary(method: str | tuple[object, object] = "RK45") -> float:
    """Length x* of the negative real interval [−x*, 0] on which abs(R(z)) ≤ 1.

    Parameters
    ----------
    method : {"Euler", "RK23", "RK45"} or (A, b)
        A named method (scipy's tableaux for ``"RK23"`` and ``"RK45"``) or a
        Butcher pair as in :func:`rk_stability_polynomial`.

    Returns
    -------
    float
        x* such that, on L(θ) = ½λθ², the method is stable for steps
        h ≤ x*/λ; 2 for Euler (gradient descent).

    Notes
    -----
    Found by scanning R on [−10, 0] and refining the first crossing of
    abs(R) = 1 by bisection. Derived in chapter 1.
    """
    if isinstance(method, str):
        if method == "Euler":
            A, b = np.zeros((1, 1)), np.ones(1)
        elif method in ("RK23", "RK45"):
            from scipy.integrate import RK23, RK45

            cls = RK45 if method == "RK45" else RK23
            b = np.asarray(cls.B, dtype=float)
            A = np.zeros((b.size, b.size))
            A[:, : cls.A.shape[1]] = cls.A  # scipy stores A without its last (zero) column
        else:
            raise ValueError(f"method must be 'Euler', 'RK23', 'RK45' or a pair (A, b), got {method!r}")
    else:
        try:
            A, b = method
        except (TypeError, ValueError):
            raise TypeError("method must be a name or a pair (A, b)") from None
    poly = np.polynomial.Polynomial(rk_stability_polynomial(A, b))
    xs = np.linspace(0.0, 10.0, 100_001)
    bad = np.nonzero(np.abs(poly(-xs)) > 1.0 + 1e-12)[0]
    bad = bad[xs[bad] > 1e-3]
    if bad.size == 0:  # pragma: no cover - explicit methods have bounded stability regions
        return float("inf")
    lo, hi = xs[bad[0] - 1], xs[bad[0]]
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if abs(poly(-mid)) > 1.0:
            hi = mid
        else:
            lo = mid
    return float(lo)
