"""RMSprop's accumulator as its own ODE, its limits, and its relatives AdaGrad and Adam (chapter 1).

Read on the clock s = nγ̃ (one unit of γ̃ per step), RMSprop with
1 − α = γ̃/τ is the explicit Euler method for the coupled system

.. math::

    \\frac{d\\theta}{ds} = -\\frac{\\nabla L(\\theta)}{\\sqrt{G + \\epsilon}}, \\qquad
    \\tau\\,\\frac{dG}{ds} = \\nabla L(\\theta)\\odot\\nabla L(\\theta) - G

(per coordinate for version (b), with ‖∇L‖² for version (a)), so its iterates
converge to it at first order as γ̃ → 0 at fixed memory τ.  At fixed α
instead, τ = γ̃/(1 − α) → 0 and the iterates follow the memoryless
*quasi-static* flow dθ/ds = −∇L/√(∇L⊙∇L + ε) (the sign flow, or the normalised
flow for version (a)).  This module provides both limits, the iterates on that
clock, the AdaGrad and Adam iterations the chapter compares with, Adam's
momentum stability edge.

Derived in chapter 1 (see also Belotto da Silva and Gazeau 2020, Barakat and
Bianchi 2021 for the ODE of Adam-type methods).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._validation import check_array, check_callable, check_int, check_returned, check_scalar

__all__ = [
    "ClockRun",
    "rmsprop_clock_iterates",
    "coupled_flow",
    "quasi_static_flow",
    "adagrad_iterates",
    "adam_iterates",
    "momentum_edge",
]

Grad = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class ClockRun:
    """Iterates of an adaptive rule on the clock s = nγ̃.

    Attributes
    ----------
    s : numpy.ndarray, shape (n + 1,)
        The clock.
    theta : numpy.ndarray, shape (n + 1, d)
        The iterates.
    G : numpy.ndarray, shape (n + 1, d) or (n + 1, 1)
        The accumulator (G_0 first).
    steps : numpy.ndarray, shape (n, d) or (n, 1)
        The learning rates γ̃/√(G_{n+1} + ε) of every step.
    """

    s: np.ndarray
    theta: np.ndarray
    G: np.ndarray
    steps: np.ndarray


def _square(g: np.ndarray, coordinate: bool) -> np.ndarray:
    return g * g if coordinate else np.array([float(g @ g)])


def _theta0(grad: Grad, theta0: object, coordinate: bool) -> np.ndarray:
    check_callable("grad", grad)
    if not isinstance(coordinate, bool):
        raise TypeError(f"coordinate must be a bool, got {type(coordinate).__name__}")
    return check_array("theta0", theta0, ndim=1, nonempty=True).copy()


def _start(grad: Grad, theta0: object, coordinate: bool, G0: object | None) -> tuple[np.ndarray, np.ndarray]:
    th = _theta0(grad, theta0, coordinate)
    if G0 is None:
        G = _square(check_returned("grad", grad(th), shape=th.shape, at=th), coordinate)
    else:
        G = check_array("G0", G0, shape=(th.size if coordinate else 1,), nonnegative=True).copy()
    return th, G


def rmsprop_clock_iterates(grad: Grad, theta0: object, lr: float, alpha: float, num_steps: int, *,
                           coordinate: bool = True, eps: float = 1e-8, G0: object | None = None) -> ClockRun:
    """RMSprop (version (b), or (a) with ``coordinate=False``) recorded on the clock s = nγ̃.

    Parameters
    ----------
    grad : callable
        ∇L, shape ``(d,)`` → ``(d,)``.
    theta0 : array_like, shape (d,)
        Initial point.
    lr : float
        γ̃ > 0.
    alpha : float
        Smoothing constant in [0, 1); 1 − α = γ̃/τ for memory τ on the clock s.
    num_steps : int
        Steps, ≥ 0.
    coordinate : bool, optional
        Per-coordinate accumulator (default) or one for ‖g‖².
    eps : float, optional
        ε ≥ 0, inside the root.
    G0 : array_like, optional
        Initial accumulator (shape (d,), or (1,) for version (a)); default the
        squared first gradient, a warm start that keeps the limit ODE regular
        at s = 0 (with G₀ = 0 the first step is √(γ̃τ)·sign g, not O(γ̃)).

    Returns
    -------
    ClockRun

    Notes
    -----
    G_{n+1} = αG_n + (1 − α) g_n⊙g_n, θ_{n+1} = θ_n − γ̃ g_n/√(G_{n+1} + ε):
    the same update as :func:`lrtheory.adaptive.rmsprop_coordinate_update`.
    Derived in chapter 1.
    """
    th, G = _start(grad, theta0, coordinate, G0)
    lr = check_scalar("lr", lr, low=0.0, low_inclusive=False)
    alpha = check_scalar("alpha", alpha, low=0.0, high=1.0, high_inclusive=False)
    num_steps = check_int("num_steps", num_steps, low=0)
    eps = check_scalar("eps", eps, low=0.0)
    thetas = np.empty((num_steps + 1, th.size))
    Gs = np.empty((num_steps + 1, G.size))
    steps = np.empty((num_steps, G.size))
    thetas[0], Gs[0] = th, G
    for k in range(num_steps):
        g = check_returned("grad", grad(th), shape=th.shape, at=th)
        G = alpha * G + (1.0 - alpha) * _square(g, coordinate)
        den = np.sqrt(G + eps)
        if np.any(den == 0):
            raise ValueError("G and eps are both zero: the step lr / sqrt(G + eps) is undefined")
        steps[k] = lr / den
        th = th - steps[k] * g
        if not np.all(np.isfinite(th)):
            raise ValueError(f"the run diverged at step {k}: lower lr (got {lr})")
        thetas[k + 1], Gs[k + 1] = th, G
    return ClockRun(lr * np.arange(num_steps + 1), thetas, Gs, steps)


def _solve(field: Callable[[float, np.ndarray], np.ndarray], y0: np.ndarray, s_eval: np.ndarray,
           method: str) -> np.ndarray:
    from scipy.integrate import solve_ivp

    if s_eval[-1] == 0.0:
        return np.repeat(y0[None, :], s_eval.size, axis=0)
    sol = solve_ivp(field, (0.0, float(s_eval[-1])), y0, method=method, t_eval=s_eval, rtol=1e-10, atol=1e-12)
    if not sol.success:  # pragma: no cover - smooth right-hand sides on short horizons succeed
        raise ValueError(f"integration failed: {sol.message}")
    return sol.y.T


def _clock(name: str, s_eval: object) -> np.ndarray:
    s = check_array(name, s_eval, ndim=1)
    if s.size == 0 or s[0] < 0 or np.any(np.diff(s) < 0):
        raise ValueError(f"{name} must be a non-empty, non-decreasing array of times >= 0")
    return s


def coupled_flow(grad: Grad, theta0: object, tau: float, s_eval: object, *, coordinate: bool = True,
                 eps: float = 1e-8, G0: object | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The coupled ODE of (θ, G) that RMSprop discretises at fixed memory τ.

    Parameters
    ----------
    grad : callable
        ∇L.
    theta0 : array_like, shape (d,)
        Initial point.
    tau : float
        Memory τ > 0 on the clock s (1 − α = γ̃/τ).
    s_eval : array_like
        Non-decreasing clock values ≥ 0 at which to report the solution.
    coordinate, eps, G0
        As in :func:`rmsprop_clock_iterates` (the same warm start by default).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        θ(s) of shape (len(s_eval), d) and G(s) of shape (len(s_eval), d or 1).

    Notes
    -----
    dθ/ds = −∇L/√(G + ε), τ dG/ds = ∇L⊙∇L − G, integrated by scipy
    at tolerances 1e-10/1e-12 (LSODA: the system is stiff when τ is small).  For version (a) the path of θ is the gradient
    flow's path, traversed at the speed dt/ds = 1/√(G + ε).  Derived in chapter 1.
    """
    th, G = _start(grad, theta0, coordinate, G0)
    tau = check_scalar("tau", tau, low=0.0, low_inclusive=False)
    eps = check_scalar("eps", eps, low=0.0)
    s = _clock("s_eval", s_eval)
    d = th.size

    def field(_s: float, y: np.ndarray) -> np.ndarray:
        g = check_returned("grad", grad(y[:d]), shape=(d,), at=y[:d])
        Gy = np.maximum(y[d:], 0.0)
        return np.concatenate([-g / np.sqrt(Gy + eps), (_square(g, coordinate) - y[d:]) / tau])

    out = _solve(field, np.concatenate([th, G]), s, "LSODA")
    return out[:, :d], out[:, d:]


def quasi_static_flow(grad: Grad, theta0: object, s_eval: object, *, coordinate: bool = True,
                      eps: float = 1e-8) -> np.ndarray:
    """The memoryless limit dθ/ds = −∇L/√(∇L⊙∇L + ε) that RMSprop follows at fixed α as γ̃ → 0.

    Parameters
    ----------
    grad : callable
        ∇L.
    theta0 : array_like, shape (d,)
        Initial point.
    s_eval : array_like
        Non-decreasing clock values ≥ 0.
    coordinate : bool, optional
        Per coordinate (the sign flow, for ε → 0) or with ‖∇L‖² (the normalised flow).
    eps : float, optional
        ε > 0 (it regularises the sign where a coordinate's gradient vanishes).

    Returns
    -------
    numpy.ndarray, shape (len(s_eval), d)

    Notes
    -----
    Integrated with LSODA, since the right-hand side is stiff where a gradient
    coordinate crosses zero.  Derived in chapter 1.
    """
    th = _theta0(grad, theta0, coordinate)
    eps = check_scalar("eps", eps, low=0.0, low_inclusive=False)
    s = _clock("s_eval", s_eval)

    def field(_s: float, y: np.ndarray) -> np.ndarray:
        g = check_returned("grad", grad(y), shape=th.shape, at=y)
        return -g / np.sqrt(_square(g, coordinate) + eps)

    return _solve(field, th, s, "LSODA")


def adagrad_iterates(grad: Grad, theta0: object, lr: float, num_steps: int, *, coordinate: bool = False,
                     b0: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """AdaGrad, θ ← θ − η g/√(b₀² + Σ_{k≤n} g_k⊙g_k) (per coordinate, or with ‖g‖² for AdaGrad-norm).

    Parameters
    ----------
    grad : callable
        ∇L.
    theta0 : array_like, shape (d,)
        Initial point.
    lr : float
        η > 0.
    num_steps : int
        Steps, ≥ 0.
    coordinate : bool, optional
        Per-coordinate AdaGrad, or AdaGrad-norm (default: one accumulator).
    b0 : float, optional
        b₀ ≥ 0 (the accumulator starts at b₀²).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Iterates, shape (n + 1, d); learning rates of every step, shape (n, d or 1).

    Notes
    -----
    With S_n = b₀² + Σ_{k≤n} g_k⊙g_k this is RMSprop with the varying constant
    α_n = 1 − 1/(n + 1) (so that G_n = S_n/(n + 1) is a running mean) and the
    varying γ̃_n = η/√(n + 1): the limit α → 1 of RMSprop, with a budget that
    shrinks like 1/√n.  AdaGrad-norm is Euler's method with the step η/√S_n, so
    its iterates follow the gradient flow's path, with the time change
    t_n = Σ η/√S_k (chapter 1).
    """
    th = _theta0(grad, theta0, coordinate)
    lr = check_scalar("lr", lr, low=0.0, low_inclusive=False)
    num_steps = check_int("num_steps", num_steps, low=0)
    b0 = check_scalar("b0", b0, low=0.0)
    S = np.full(th.size if coordinate else 1, b0 * b0)
    thetas = np.empty((num_steps + 1, th.size))
    steps = np.empty((num_steps, S.size))
    thetas[0] = th
    for k in range(num_steps):
        g = check_returned("grad", grad(th), shape=th.shape, at=th)
        S = S + _square(g, coordinate)
        with np.errstate(divide="ignore"):
            steps[k] = np.where(S > 0, lr / np.sqrt(np.where(S > 0, S, 1.0)), 0.0)
        th = th - steps[k] * g
        thetas[k + 1] = th
    return thetas, steps


def adam_iterates(grad: Grad, theta0: object, lr: float, num_steps: int, *, beta1: float = 0.9,
                  beta2: float = 0.999, eps: float = 1e-8, coordinate: bool = True,
                  bias_correction: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Adam (or its scalar version with one accumulator for ‖g‖²), in numpy.

    Parameters
    ----------
    grad : callable
        ∇L.
    theta0 : array_like, shape (d,)
        Initial point.
    lr : float
        γ̃ > 0.
    num_steps : int
        Steps, ≥ 0.
    beta1, beta2 : float, optional
        Smoothing constants of the first and second moments, in [0, 1).
    eps : float, optional
        ε ≥ 0, *outside* the root as in Adam and ``torch.optim.Adam``.
    coordinate : bool, optional
        Per-coordinate second moment (Adam) or one for ‖g‖² (a scalar Adam
        whose step stays parallel to the momentum).
    bias_correction : bool, optional
        Divide m and v by 1 − β₁ⁿ and 1 − β₂ⁿ (Adam's default).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Iterates, shape (n + 1, d); effective learning rates
        γ̃/(√v̂_n + ε) of every step, shape (n, d or 1).

    Notes
    -----
    m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g⊙g, θ ← θ − γ̃ m̂/(√v̂ + ε).  With
    the preconditioner frozen at an effective step h, the heavy-ball pair
    (θ, m) on L = ½λθ² is stable exactly for hλ < :func:`momentum_edge` (β₁).
    Agrees with ``torch.optim.Adam`` (the tests check it).  Derived in chapter 1.
    """
    th = _theta0(grad, theta0, coordinate)
    lr = check_scalar("lr", lr, low=0.0, low_inclusive=False)
    num_steps = check_int("num_steps", num_steps, low=0)
    beta1 = check_scalar("beta1", beta1, low=0.0, high=1.0, high_inclusive=False)
    beta2 = check_scalar("beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
    eps = check_scalar("eps", eps, low=0.0)
    if not isinstance(bias_correction, bool):
        raise TypeError(f"bias_correction must be a bool, got {type(bias_correction).__name__}")
    m = np.zeros(th.size)
    v = np.zeros(th.size if coordinate else 1)
    thetas = np.empty((num_steps + 1, th.size))
    steps = np.empty((num_steps, v.size))
    thetas[0] = th
    for k in range(1, num_steps + 1):
        g = check_returned("grad", grad(th), shape=th.shape, at=th)
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * _square(g, coordinate)
        c1 = 1.0 - beta1**k if bias_correction else 1.0
        c2 = 1.0 - beta2**k if bias_correction else 1.0
        den = np.sqrt(v / c2) + eps
        with np.errstate(divide="ignore"):
            steps[k - 1] = np.where(den > 0, lr / np.where(den > 0, den, 1.0), 0.0)
        th = th - steps[k - 1] * m / c1
        if not np.all(np.isfinite(th)):
            raise ValueError(f"the run diverged at step {k}: lower lr (got {lr})")
        thetas[k] = th
    return thetas, steps


def momentum_edge(beta1: float) -> float:
    """Stability edge hλ* = 2(1 + β₁)/(1 − β₁) of the averaged-momentum (Adam-type) iteration.

    Parameters
    ----------
    beta1 : float
        β₁ in [0, 1).

    Returns
    -------
    float
        2 for β₁ = 0 (Euler's edge), 38 for β₁ = 0.9.

    Notes
    -----
    With m_{n+1} = β₁m_n + (1 − β₁)λθ_n and θ_{n+1} = θ_n − h m_{n+1}, the pair
    (θ, m) has the characteristic polynomial z² − (1 + β₁ − (1 − β₁)hλ)z + β₁,
    whose roots leave the unit disc through z = −1 when hλ = 2(1 + β₁)/(1 − β₁).
    Derived in chapter 1.
    """
    b = check_scalar("beta1", beta1, low=0.0, high=1.0, high_inclusive=False)
    return 2.0 * (1.0 + b) / (1.0 - b)
