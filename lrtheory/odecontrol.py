"""Step sizes chosen by real local-error controllers along a gradient flow (chapter 1).

Chapter 1 reads RMSprop as step-size control for Euler's method on
dθ/dt = −∇L(θ).  To judge that reading, this module provides the step sizes
that genuine error controllers pick along the same flow:

* :func:`rk45_steps` records the accepted steps of scipy's embedded
  Runge–Kutta pairs (Dormand–Prince 5(4) by default), with the gradients
  evaluated up to every step, optionally stopping at a target;
* :func:`heun_euler_descent` is gradient descent whose step is chosen on
  the fly by the embedded Heun–Euler error estimate, with the elementary
  (I) controller, Gustafsson's PI controller or any two-step digital filter
  of Söderlind's form (:func:`controller_factor`, :data:`CONTROLLERS`).

The leading term of Euler's local error moved to :mod:`lrtheory.localerror`
(next to the true local error) and the stability functions of Runge–Kutta
methods to :mod:`lrtheory.steploop`; both are still importable from here.
Derived in chapter 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._validation import all_finite, check_array, check_int, check_returned, check_scalar
from .localerror import euler_error_lr, euler_local_error  # noqa: F401  (moved; kept importable)
from .steploop import real_stability_boundary, rk_stability_polynomial  # noqa: F401  (moved; kept importable)

__all__ = [
    "StepRecord",
    "CONTROLLERS",
    "rk45_steps",
    "controller_factor",
    "heun_euler_descent",
]

Fn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class StepRecord:
    """Accepted steps of an adaptive solver: ``theta[k]`` at flow time ``t[k]``; ``h = diff(t)``.

    Attributes
    ----------
    t, theta : numpy.ndarray
        Flow times, shape (n + 1,), and points, shape (n + 1, d).
    nfev : int
        Gradient evaluations in total.
    rejected : int
        Rejected tries.
    errors : numpy.ndarray or None
        The solver's error estimate of every accepted step, shape (n,), where recorded.
    evals : numpy.ndarray or None
        Gradient evaluations spent up to every accepted point, shape (n + 1,).
    failed : bool
        Whether the solver gave up (a step size below rounding, e.g. after a blow-up).
    """

    t: np.ndarray
    theta: np.ndarray
    nfev: int
    rejected: int = 0
    errors: np.ndarray | None = None
    evals: np.ndarray | None = None
    failed: bool = False

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
    max_evals: int | None = None,
    stop: Callable[[np.ndarray], bool] | None = None,
    on_failure: str = "raise",
) -> StepRecord:
    """The steps that scipy's adaptive Runge–Kutta solver takes along the gradient flow.

    Parameters
    ----------
    grad : callable
        ∇L, shape ``(d,)`` → ``(d,)``.
    theta0 : array_like, shape (d,)
        Initial point.
    t_final : float
        Final flow time, > 0 (may be ``inf`` when ``max_evals`` or ``stop`` ends the run).
    rtol, atol : float, optional
        The solver's tolerances (> 0).
    method : {"RK45", "RK23", "DOP853"}, optional
        Which explicit embedded pair (default Dormand–Prince 5(4)).
    max_evals : int, optional
        Stop after the step during which this many gradients have been evaluated.
    stop : callable, optional
        ``stop(theta)`` at every accepted point; the run ends when it returns ``True``.
    on_failure : {"raise", "stop"}, optional
        What to do when the solver fails or a state or gradient becomes non-finite
        (after a blow-up at a loose tolerance): raise ``ValueError`` (default) or
        return the steps so far with ``failed=True``.

    Returns
    -------
    StepRecord
        The accepted step points (no interpolation) and ``evals``, the
        gradients evaluated up to each of them.

    Raises
    ------
    ValueError
        On a bad argument or a failed integration.

    Notes
    -----
    The solver object (``scipy.integrate.RK45`` etc.) is stepped by hand,
    which is what ``solve_ivp`` does, so the steps are those of
    ``solve_ivp(method=method)``.  The controller keeps the embedded error
    estimate of every accepted step below atol + rtol·abs(θ) (in scipy's RMS
    norm) and scales the next step by (tol/err)^{1/5} for RK45.  Derived in
    chapter 1.
    """
    from scipy import integrate

    from .flows import _checked_rhs

    grad = _callable("grad", grad)
    theta0 = check_array("theta0", theta0, ndim=1, nonempty=True)
    if isinstance(t_final, (int, float)) and not isinstance(t_final, bool) and t_final == np.inf:
        t_bound = np.inf
    else:
        t_bound = check_scalar("t_final", t_final, low=0.0, low_inclusive=False)
    rtol = check_scalar("rtol", rtol, low=0.0, low_inclusive=False)
    atol = check_scalar("atol", atol, low=0.0, low_inclusive=False)
    if method not in ("RK45", "RK23", "DOP853"):
        raise ValueError(f"method must be one of ('RK45', 'RK23', 'DOP853'), got {method!r}")
    max_evals = None if max_evals is None else check_int("max_evals", max_evals, low=1)
    if stop is not None:
        stop = _callable("stop", stop)
    if on_failure not in ("raise", "stop"):
        raise ValueError(f"on_failure must be 'raise' or 'stop', got {on_failure!r}")
    if t_bound == np.inf and max_evals is None and stop is None:
        raise ValueError("t_final must be finite unless max_evals or stop ends the run")
    solver = getattr(integrate, method)(_checked_rhs(grad, "grad", -1.0, theta0.shape), 0.0, theta0,
                                        t_bound, rtol=rtol, atol=atol)
    ts, thetas, evals = [0.0], [theta0.copy()], [int(solver.nfev)]
    done = _stopped(stop, theta0)
    while not done and solver.status == "running" and (max_evals is None or solver.nfev < max_evals):
        try:
            message = solver.step()
        except ValueError as exc:         # the state blew up (a step beyond the stability edge)
            if on_failure == "raise" or not ("non-finite" in str(exc) or "not finite" in str(exc)):
                raise
            return StepRecord(np.array(ts), np.array(thetas), int(solver.nfev), evals=np.array(evals), failed=True)
        if solver.status == "failed":
            if on_failure == "raise":
                raise ValueError(f"integration failed: {message}")
            return StepRecord(np.array(ts), np.array(thetas), int(solver.nfev), evals=np.array(evals), failed=True)
        ts.append(float(solver.t))
        thetas.append(np.array(solver.y, dtype=float))
        evals.append(int(solver.nfev))
        done = _stopped(stop, thetas[-1])
    return StepRecord(np.array(ts), np.array(thetas), int(solver.nfev), evals=np.array(evals))


CONTROLLERS: dict[str, tuple[float, float, float]] = {
    "I": (1.0, 0.0, 0.0),
    "PI": (0.7, -0.4, 0.0),
    "H211b": (0.25, 0.25, 0.25),
}
"""Step-size controllers in Söderlind's form, gains ``(kβ₁, kβ₂, α₂)`` (see :func:`controller_factor`).

``"I"`` is the elementary (integral) controller h ← h·(tol/err)^{1/k};
``"PI"`` is Gustafsson's PI controller PI.3.4 (integral gain 0.3/k,
proportional gain 0.4/k); ``"H211b"`` is Söderlind's low-pass digital filter
H211b with b = 4.
"""


def controller_factor(
    err: float,
    err_prev: float,
    ratio_prev: float,
    tol: float,
    order: int,
    gains: tuple[float, float, float],
) -> float:
    """The step ratio h_{n+1}/h_n that a digital step-size controller asks for (before safety and limits).

    Parameters
    ----------
    err, err_prev : float
        The error estimates of the current and of the previous accepted step, > 0.
    ratio_prev : float
        The previous step ratio h_n/h_{n−1}, > 0.
    tol : float
        The tolerance, > 0.
    order : int
        k, the power of h in the error estimate (2 for the Euler/Heun pair), ≥ 1.
    gains : (float, float, float)
        ``(kβ₁, kβ₂, α₂)`` as in :data:`CONTROLLERS`.

    Returns
    -------
    float

    Notes
    -----
    Söderlind's two-step filter (Söderlind 2003) is

    .. math::

        \\frac{h_{n+1}}{h_n} = \\Bigl(\\frac{\\mathrm{tol}}{e_n}\\Bigr)^{\\beta_1}
        \\Bigl(\\frac{\\mathrm{tol}}{e_{n-1}}\\Bigr)^{\\beta_2}
        \\Bigl(\\frac{h_n}{h_{n-1}}\\Bigr)^{-\\alpha_2},

    with the β's given as multiples of 1/k.  In logarithms it is a linear
    filter of the error sequence: (1, 0, 0) integrates log(tol/e) (the I
    controller), (0.7, −0.4, 0) adds a proportional term (Gustafsson's PI),
    and equal β's with α₂ > 0 low-pass filter it.  Derived in chapter 1.
    """
    err = check_scalar("err", err, low=0.0, low_inclusive=False)
    err_prev = check_scalar("err_prev", err_prev, low=0.0, low_inclusive=False)
    ratio_prev = check_scalar("ratio_prev", ratio_prev, low=0.0, low_inclusive=False)
    tol = check_scalar("tol", tol, low=0.0, low_inclusive=False)
    order = check_int("order", order, low=1)
    return _factor(err, err_prev, ratio_prev, tol, order, _gains(gains, "gains"))


def _factor(err: float, err_prev: float, ratio_prev: float, tol: float, order: int,
            gains: tuple[float, float, float]) -> float:
    b1, b2, a2 = gains
    return float((tol / err) ** (b1 / order) * (tol / err_prev) ** (b2 / order) * ratio_prev ** (-a2))


def _gains(controller: object, name: str = "controller") -> tuple[float, float, float]:
    if isinstance(controller, str):
        if controller not in CONTROLLERS:
            raise ValueError(f"{name} must be one of {tuple(CONTROLLERS)} or a tuple of three gains, "
                             f"got {controller!r}")
        return CONTROLLERS[controller]
    if not (isinstance(controller, tuple) and len(controller) == 3):
        raise TypeError(f"{name} must be a name or a tuple (k*beta1, k*beta2, alpha2)")
    g = tuple(check_scalar(f"{name}[{i}]", c) for i, c in enumerate(controller))
    return g  # type: ignore[return-value]


def _stopped(stop: Callable[[np.ndarray], object] | None, theta: np.ndarray) -> bool:
    if stop is None:
        return False
    out = stop(theta)
    if not isinstance(out, (bool, np.bool_)):
        raise TypeError(f"stop must return a bool, got {type(out).__name__}")
    return bool(out)


def heun_euler_descent(
    grad: Fn,
    theta0: object,
    tol: float,
    num_steps: int,
    *,
    lr0: float = 1e-3,
    safety: float = 0.9,
    max_factor: float = 5.0,
    controller: str | tuple[float, float, float] = "I",
    max_evals: int | None = None,
    stop: Callable[[np.ndarray], bool] | None = None,
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
    controller : str or (float, float, float), optional
        ``"I"`` (default), ``"PI"``, ``"H211b"`` or gains ``(kβ₁, kβ₂, α₂)``
        (see :data:`CONTROLLERS` and :func:`controller_factor`).
    max_evals : int, optional
        Stop once this many gradients have been evaluated (≥ 1).
    stop : callable, optional
        ``stop(theta)`` is called at every accepted point; the run ends when it
        returns ``True`` (e.g. when a target loss is reached).

    Returns
    -------
    StepRecord
        Accepted points and flow times; ``rejected`` counts rejected tries,
        ``errors`` holds the error estimate of every accepted step and
        ``evals`` the gradients evaluated up to every accepted point.

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
    err = (h/2)‖∇L(θ̃) − g‖ estimates Euler's local error (to leading
    order: on a quadratic it *is* the leading term ½h²‖Hg‖, which exceeds
    the true error).  A step is accepted when err ≤ tol; the next trial is
    h·safety·:func:`controller_factor` with k = 2 after an accepted step and
    h·safety·√(tol/err) after a rejected one, and the change is limited to
    [0.1, max_factor].  Euler's point is kept, so the iterates are
    gradient-descent iterates with an error-controlled learning rate, and
    each try costs one gradient.  Derived in chapter 1.
    """
    grad = _callable("grad", grad)
    theta = check_array("theta0", theta0, ndim=1, nonempty=True).copy()
    tol = check_scalar("tol", tol, low=0.0, low_inclusive=False)
    num_steps = check_int("num_steps", num_steps, low=0)
    h = check_scalar("lr0", lr0, low=0.0, low_inclusive=False)
    safety = check_scalar("safety", safety, low=0.0, high=1.0, low_inclusive=False)
    max_factor = check_scalar("max_factor", max_factor, low=1.0, low_inclusive=False)
    gains = _gains(controller)
    max_evals = None if max_evals is None else check_int("max_evals", max_evals, low=1)
    if stop is not None:
        stop = _callable("stop", stop)
    ts, thetas, errors, evals = [0.0], [theta.copy()], [], [1]
    rejected, t = 0, 0.0
    err_prev, ratio_prev = tol, 1.0
    g = check_returned("grad", grad(theta), shape=theta.shape, at=theta)
    nfev = 1
    done = _stopped(stop, theta)
    while not done and len(ts) <= num_steps and (max_evals is None or nfev < max_evals):
        trial = theta - h * g
        with np.errstate(over="ignore", invalid="ignore"):
            g_trial = check_returned("grad", grad(trial), shape=theta.shape, finite=False)
            nfev += 1
            diff = g_trial - g
            err = 0.5 * h * math.sqrt(float(diff @ diff))
        if err <= tol and math.isfinite(err) and all_finite(trial):
            t += h
            theta, g = trial, g_trial
            ts.append(t)
            thetas.append(theta.copy())
            errors.append(err)
            evals.append(nfev)
            e = max(err, 1e-300)
            factor = max_factor if err == 0.0 else min(
                max_factor, max(0.1, safety * _factor(e, err_prev, ratio_prev, tol, 2, gains)))
            err_prev, ratio_prev = e, factor
            done = _stopped(stop, theta)
        else:
            rejected += 1
            nonfinite = not math.isfinite(err)   # a non-finite trial gradient: reject, shrink tenfold
            if rejected > 100 * (num_steps + 1):
                if nonfinite:
                    raise ValueError(f"grad keeps returning non-finite values near theta={theta} "
                                     "however small the step")
                raise ValueError("the step controller keeps rejecting: raise tol")  # pragma: no cover
            factor = 0.1 if nonfinite else max(0.1, min(max_factor, safety * np.sqrt(tol / err)))
        h *= factor
    return StepRecord(np.array(ts), np.array(thetas), nfev, rejected, np.array(errors), np.array(evals))
