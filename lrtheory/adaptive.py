"""Adaptive step sizes for numpy problems: gradient descent, sign descent and RMSprop.

Chapter 1 reads an optimiser as an ODE solver for the gradient flow
dθ/dt = −∇L(θ): the learning rate is the solver's step in the flow time t,
and an *adaptive* learning rate is a rule that picks that step from the
current gradient.  This module holds the pure one-step updates of the rules
compared there, a runner that applies them to a numpy problem, and the
"flow time" bookkeeping (:mod:`lrtheory.gradstats` measures the updates).

=========================  ==============================================  ================
rule                       update  θ ← θ − Δ                               step in time
=========================  ==============================================  ================
``gd``                     Δ = γ g                                         γ
``normalized``             Δ = γ̃ g / ‖g‖                                   γ̃ / ‖g‖
``sign``                   Δ = γ̃ sign(g)                                   γ̃ / abs(g_i) (each)
``rmsprop_scalar``         G ← αG + (1−α)‖g‖²,  Δ = γ̃ g / √(G+ε)           γ̃ / √(G+ε)
``rmsprop_coordinate``     G ← αG + (1−α) g⊙g,  Δ = γ̃ g / √(G+ε)           γ̃ / √(G_i+ε)
=========================  ==============================================  ================

``lr`` is γ (plain descent) or γ̃ (the adaptive rules), ``alpha`` is the
smoothing constant α (torch's name; the source article writes λ), ``eps``
is ε; as in the source article ε sits *inside* the square root unless
``eps_inside=False``.  The torch
optimisers of :mod:`lrtheory.optim.rmsprop` implement the same rules.

Derived in chapter 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._validation import (
    check_array,
    check_bool,
    check_callable,
    check_choice,
    check_int,
    check_returned,
    check_scalar,
)

__all__ = [
    "METHODS",
    "SCALAR_METHODS",
    "AdaptiveRun",
    "gd_update",
    "normalized_update",
    "sign_update",
    "error_control_lr",
    "rmsprop_scalar_update",
    "rmsprop_coordinate_update",
    "run_adaptive",
]

METHODS: tuple[str, ...] = ("gd", "normalized", "sign", "rmsprop_scalar", "rmsprop_coordinate")
"""Names accepted by :func:`run_adaptive`."""

SCALAR_METHODS: tuple[str, ...] = ("gd", "normalized", "rmsprop_scalar")
"""The methods whose learning rate is one number per step (a step in flow time)."""

Grad = Callable[[np.ndarray], np.ndarray]


def _vec(name: str, value: object) -> np.ndarray:
    return check_array(name, value, ndim=1, nonempty=True)


def gd_update(theta: object, grad: object, lr: float) -> np.ndarray:
    """One gradient-descent (explicit Euler) step θ − γ g.

    Parameters
    ----------
    theta : array_like, shape (d,)
        Current point.
    grad : array_like, shape (d,)
        Gradient at ``theta``.
    lr : float
        Learning rate γ ≥ 0.

    Returns
    -------
    numpy.ndarray, shape (d,)

    Notes
    -----
    Explicit Euler on dθ/dt = −∇L with step γ. Derived in chapter 1.
    """
    theta = _vec("theta", theta)
    grad = check_array("grad", grad, shape=theta.shape, shape_of="theta")
    lr = check_scalar("lr", lr, low=0.0)
    return theta - lr * grad


def error_control_lr(grad: object, lr: float) -> float:
    """The error-control learning rate γ = γ̃ / ‖g‖.

    Parameters
    ----------
    grad : array_like, shape (d,)
        Gradient g at the current point.
    lr : float
        The displacement budget γ̃ > 0.

    Returns
    -------
    float
        γ̃ / ‖g‖, and ``inf`` where g = 0 (at a fixed point the flow takes
        infinitely long to move).

    Notes
    -----
    Choosing γ so that the Euler displacement γ‖g‖ equals γ̃ is the article's
    rule γ·abs(L′(θ)) = γ̃. Derived in chapter 1.
    """
    grad = _vec("grad", grad)
    lr = check_scalar("lr", lr, low=0.0, low_inclusive=False)
    norm = float(np.linalg.norm(grad))
    return np.inf if norm == 0.0 else lr / norm


def normalized_update(theta: object, grad: object, lr: float) -> tuple[np.ndarray, float]:
    """Normalised descent θ − γ̃ g/‖g‖: Euler with the step γ = γ̃/‖g‖.

    Parameters
    ----------
    theta, grad : array_like, shape (d,)
        Current point and gradient there.
    lr : float
        The displacement per step γ̃ > 0.

    Returns
    -------
    theta_new : numpy.ndarray, shape (d,)
        The new point (``theta`` itself where g = 0).
    step : float
        The step taken in flow time, γ̃/‖g‖ (``inf`` where g = 0).

    Notes
    -----
    In one dimension this is sign descent. In d dimensions it is the
    α = 0, ε = 0 case of the scalar RMSprop (:func:`rmsprop_scalar_update`).
    Derived in chapter 1.
    """
    theta = _vec("theta", theta)
    grad = check_array("grad", grad, shape=theta.shape, shape_of="theta")
    step = error_control_lr(grad, lr)
    if not np.isfinite(step):
        return theta.copy(), step
    return theta - step * grad, step


def sign_update(theta: object, grad: object, lr: float) -> np.ndarray:
    """Sign descent θ − γ̃ sign(g): every coordinate moves by exactly γ̃.

    Parameters
    ----------
    theta, grad : array_like, shape (d,)
        Current point and gradient there.
    lr : float
        The displacement per coordinate γ̃ ≥ 0.

    Returns
    -------
    numpy.ndarray, shape (d,)

    Notes
    -----
    The α = 0, ε = 0 case of the per-coordinate RMSprop
    (:func:`rmsprop_coordinate_update`); coordinate i takes the flow-time step
    γ̃/abs(g_i). Coordinates with g_i = 0 do not move. Derived in chapter 1.
    """
    theta = _vec("theta", theta)
    grad = check_array("grad", grad, shape=theta.shape, shape_of="theta")
    lr = check_scalar("lr", lr, low=0.0)
    return theta - lr * np.sign(grad)


def _check_rms(lr: float, alpha: float, eps: float) -> tuple[float, float, float]:
    lr = check_scalar("lr", lr, low=0.0)
    alpha = check_scalar("alpha", alpha, low=0.0, high=1.0, high_inclusive=False)
    eps = check_scalar("eps", eps, low=0.0)
    return lr, alpha, eps


def _denominator(G: np.ndarray | float, eps: float, eps_inside: bool) -> np.ndarray | float:
    return np.sqrt(G + eps) if eps_inside else np.sqrt(G) + eps


def rmsprop_scalar_update(
    theta: object,
    grad: object,
    G: float,
    lr: float,
    alpha: float = 0.99,
    eps: float = 1e-8,
    *,
    eps_inside: bool = True,
) -> tuple[np.ndarray, float, float]:
    """RMSprop with one accumulator for the whole vector (version (a) of chapter 1).

    Parameters
    ----------
    theta, grad : array_like, shape (d,)
        Current point and gradient there.
    G : float
        Accumulator G_n ≥ 0 (the running mean of ‖g‖²).
    lr : float
        γ̃ ≥ 0.
    alpha : float, optional
        Smoothing constant α in [0, 1) (default 0.99).
    eps : float, optional
        ε ≥ 0 (default 1e-8).
    eps_inside : bool, optional
        ``True`` (default, the article's form): divide by √(G+ε);
        ``False``: divide by √G + ε (torch's form).

    Returns
    -------
    theta_new : numpy.ndarray, shape (d,)
    G_new : float
        G_{n+1} = αG_n + (1 − α)‖g‖².
    step : float
        The learning rate used, γ = γ̃/√(G_{n+1}+ε): the step in flow time.

    Raises
    ------
    ValueError
        If the denominator is zero (G_{n+1} = 0 and ε = 0).

    Notes
    -----
    .. math::

        G_{n+1} = \\alpha G_n + (1-\\alpha)\\lVert g_n\\rVert^2,\\qquad
        \\theta_{n+1} = \\theta_n - \\frac{\\tilde\\gamma}{\\sqrt{G_{n+1}+\\epsilon}}\\, g_n .

    The update is parallel to the gradient: this is Euler's method with an
    adaptive scalar step. Derived in chapter 1.
    """
    theta = _vec("theta", theta)
    grad = check_array("grad", grad, shape=theta.shape, shape_of="theta")
    G = check_scalar("G", G, low=0.0)
    lr, alpha, eps = _check_rms(lr, alpha, eps)
    eps_inside = check_bool("eps_inside", eps_inside)
    G_new = alpha * G + (1.0 - alpha) * float(grad @ grad)
    den = float(_denominator(G_new, eps, eps_inside))
    if den == 0.0:
        raise ValueError("G and eps are both zero: the step lr / sqrt(G + eps) is undefined")
    step = lr / den
    return theta - step * grad, G_new, step


def rmsprop_coordinate_update(
    theta: object,
    grad: object,
    G: object,
    lr: float,
    alpha: float = 0.99,
    eps: float = 1e-8,
    *,
    eps_inside: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RMSprop with one accumulator per coordinate (version (b) of chapter 1; the usual RMSprop).

    Parameters
    ----------
    theta, grad : array_like, shape (d,)
        Current point and gradient there.
    G : array_like, shape (d,)
        Accumulators G_n ≥ 0 (running means of g_i²).
    lr, alpha, eps, eps_inside
        As in :func:`rmsprop_scalar_update`.

    Returns
    -------
    theta_new : numpy.ndarray, shape (d,)
    G_new : numpy.ndarray, shape (d,)
        G_{n+1} = αG_n + (1 − α) g⊙g.
    steps : numpy.ndarray, shape (d,)
        The per-coordinate learning rates γ̃/√(G_{n+1,i}+ε) (``inf`` where
        the denominator vanishes; those coordinates have g_i = 0 and stay put).

    Notes
    -----
    .. math::

        G_{n+1} = \\alpha G_n + (1-\\alpha)\\, g_n\\odot g_n,\\qquad
        \\theta_{n+1} = \\theta_n - \\frac{\\tilde\\gamma}{\\sqrt{G_{n+1}+\\epsilon}}\\odot g_n .

    With ε outside the root, G_0 = 0 and no momentum this is
    :class:`torch.optim.RMSprop`. Derived in chapter 1.
    """
    theta = _vec("theta", theta)
    grad = check_array("grad", grad, shape=theta.shape, shape_of="theta")
    G = check_array("G", G, shape=theta.shape, nonnegative=True, shape_of="theta")
    lr, alpha, eps = _check_rms(lr, alpha, eps)
    eps_inside = check_bool("eps_inside", eps_inside)
    G_new = alpha * G + (1.0 - alpha) * grad * grad
    den = _denominator(G_new, eps, eps_inside)
    with np.errstate(divide="ignore"):
        steps = np.where(den > 0, lr / np.where(den > 0, den, 1.0), np.inf)
    steps = np.asarray(steps, dtype=float)
    move = np.where(den > 0, np.where(den > 0, steps, 0.0) * grad, 0.0)
    return theta - move, G_new, steps


@dataclass(frozen=True)
class AdaptiveRun:
    """The record of one run of :func:`run_adaptive`.

    Attributes
    ----------
    method : str
        One of :data:`METHODS`.
    theta : numpy.ndarray, shape (n + 1, d)
        The iterates, θ_0 first.
    grads : numpy.ndarray, shape (n, d)
        The gradient used at each step.
    lrs : numpy.ndarray, shape (n,) or (n, d)
        The learning rate of each step: one number for the methods in
        :data:`SCALAR_METHODS`, one per coordinate for the others.
    times : numpy.ndarray, shape (n + 1,) or (n + 1, d)
        Flow time reached, t_0 = 0, t_k = γ_0 + … + γ_{k−1} (per coordinate
        for the per-coordinate methods).
    """

    method: str
    theta: np.ndarray
    grads: np.ndarray
    lrs: np.ndarray
    times: np.ndarray

    @property
    def updates(self) -> np.ndarray:
        """The displacements θ_{k+1} − θ_k, shape (n, d)."""
        return np.diff(self.theta, axis=0)

    @property
    def num_steps(self) -> int:
        """Number of steps taken."""
        return int(self.grads.shape[0])


def run_adaptive(
    grad: Grad,
    theta0: object,
    method: str,
    lr: float,
    num_steps: int,
    *,
    alpha: float = 0.99,
    eps: float = 1e-8,
    eps_inside: bool = True,
    G0: float = 0.0,
) -> AdaptiveRun:
    """Run one of the chapter's update rules on a numpy problem.

    Parameters
    ----------
    grad : callable
        ∇L, mapping shape ``(d,)`` to shape ``(d,)`` (e.g. ``problem.grad``).
    theta0 : array_like, shape (d,)
        Initial point.
    method : str
        One of :data:`METHODS`.
    lr : float
        γ for ``"gd"``, γ̃ for the others; > 0.
    num_steps : int
        Number of steps, ≥ 0.
    alpha, eps, eps_inside
        RMSprop's α, ε and ε placement (ignored by the other methods).
    G0 : float, optional
        Initial accumulator value (every entry), ≥ 0. Default 0, as in torch.

    Returns
    -------
    AdaptiveRun

    Raises
    ------
    TypeError, ValueError
        On a bad argument, naming it; if ``grad`` returns anything but an
        array of shape ``(d,)`` or a non-finite value at ``theta0`` (the message
        names ``grad``); or if an iterate stops being finite later (the run
        diverged; the message names ``lr``).

    Notes
    -----
    The flow time of a scalar method is the sum of its learning rates
    (:func:`lrtheory.flows.step_times`); a step with g = 0 adds ``inf``.
    Derived in chapter 1.
    """
    check_callable("grad", grad)
    theta = _vec("theta0", theta0).copy()
    method = check_choice("method", method, METHODS)
    lr = check_scalar("lr", lr, low=0.0, low_inclusive=False)
    num_steps = check_int("num_steps", num_steps, low=0)
    _check_rms(lr, alpha, eps)
    eps_inside = check_bool("eps_inside", eps_inside)
    G0 = check_scalar("G0", G0, low=0.0)
    d = theta.shape[0]
    thetas = np.empty((num_steps + 1, d))
    grads = np.empty((num_steps, d))
    scalar = method in SCALAR_METHODS
    lrs = np.empty(num_steps) if scalar else np.empty((num_steps, d))
    thetas[0] = theta
    G: float | np.ndarray = G0 if method == "rmsprop_scalar" else np.full(d, G0)
    for k in range(num_steps):
        with np.errstate(over="ignore", invalid="ignore"):
            # at theta0 a non-finite gradient is bad input, not divergence: no step has been taken
            g = check_returned("grad", grad(theta), shape=theta.shape, finite=k == 0, at=theta)
        if not np.all(np.isfinite(g)):
            raise ValueError(f"the run diverged at step {k}: lower lr (got {lr})")
        if method == "gd":
            theta, step = gd_update(theta, g, lr), lr
        elif method == "normalized":
            theta, step = normalized_update(theta, g, lr)
        elif method == "sign":
            theta = sign_update(theta, g, lr)
            with np.errstate(divide="ignore"):
                step = np.where(g != 0, lr / np.abs(np.where(g != 0, g, 1.0)), np.inf)
        elif method == "rmsprop_scalar":
            theta, G, step = rmsprop_scalar_update(theta, g, G, lr, alpha, eps, eps_inside=eps_inside)
        else:
            theta, G, step = rmsprop_coordinate_update(theta, g, G, lr, alpha, eps, eps_inside=eps_inside)
        grads[k] = g
        lrs[k] = step
        thetas[k + 1] = theta
        if not np.all(np.isfinite(theta)):
            raise ValueError(f"the run diverged at step {k}: lower lr (got {lr})")
    times = np.concatenate([np.zeros((1,) + lrs.shape[1:]), np.cumsum(lrs, axis=0)])
    return AdaptiveRun(method, thetas, grads, lrs, times)
