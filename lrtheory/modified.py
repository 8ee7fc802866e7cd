"""Modified flows of gradient descent for numpy problems, and the balanced-minimum toy.

Gradient descent with learning rate γ follows, up to O(γ^{p+1}) over a fixed
time, the flow of a *modified* field f̃_p = f + γ f_1 + … + γ^p f_p instead of
the gradient flow f = −∇L (backward error analysis; :mod:`lrtheory.symbolic`
derives the terms).  With g = ∇L, H = ∇²L and T = ∇³L:

* order 0: f̃_0 = −g (the gradient flow);
* order 1: f̃_1 = −g − (γ/2) H g = −∇(L + (γ/4)‖g‖²);
* order 2: f̃_2 = f̃_1 − γ² ((1/3) H² g + (1/12) T[g, g]).

:func:`modified_gradient_field` builds these fields from exact derivatives or
from finite differences of the gradient; :func:`exact_eigen_rate` and
:func:`principal_flow_quadratic` give the exact modified field on quadratics,
where it stops being real once γλ > 1.  The second half of the module is the
two-parameter toy L(a, b) = ½(ab − 1)², whose gradient flow conserves a² − b²
while gradient descent shrinks it.

Derived in chapter 3.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ._validation import check_array, check_callable, check_choice, check_int, check_returned, check_scalar
from .problems import Problem

__all__ = [
    "hessian_vector_fd",
    "third_derivative_fd",
    "modified_gradient_field",
    "exact_eigen_rate",
    "principal_flow_quadratic",
    "balanced_toy",
    "balanced_toy_third",
    "imbalance",
    "imbalance_gd_factor",
    "imbalance_modified_rate",
    "minimum_sharpness",
]

VectorField = Callable[[np.ndarray], np.ndarray]
HessFn = Callable[[np.ndarray], np.ndarray]
ThirdFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]



def hessian_vector_fd(grad: VectorField, theta: np.ndarray, v: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Central finite difference for H(θ) v from two gradient calls.

    Parameters
    ----------
    grad : callable
        ∇L, shape ``(d,)`` → ``(d,)``.
    theta, v : array_like, shape (d,)
        Point and direction.
    eps : float, optional
        Step along the unit vector v/‖v‖ (default 1e-5).

    Returns
    -------
    numpy.ndarray, shape (d,)

    Notes
    -----
    H v ≈ ‖v‖ (g(θ + ε v̂) − g(θ − ε v̂)) / (2ε), with error O(ε² ‖v‖ ‖∇³g‖).
    Derived in chapter 3.
    """
    grad = check_callable("grad", grad)
    theta = check_array("theta", theta, ndim=1, nonempty=True)
    v = check_array("v", v, shape=theta.shape, shape_of="theta")
    eps = check_scalar("eps", eps, low=0.0, low_inclusive=False)
    norm = float(np.linalg.norm(v))
    if norm == 0.0:
        return np.zeros_like(theta)
    u = v / norm
    def g(x: np.ndarray) -> np.ndarray:
        return check_returned("grad", grad(x), shape=theta.shape, at=x)

    return norm * (g(theta + eps * u) - g(theta - eps * u)) / (2 * eps)


def third_derivative_fd(grad: VectorField, theta: np.ndarray, v: np.ndarray, eps: float = 1e-3) -> np.ndarray:
    """Second central difference for T(θ)[v, v] = d²/ds² ∇L(θ + s v) at s = 0.

    Parameters
    ----------
    grad : callable
        ∇L, shape ``(d,)`` → ``(d,)``.
    theta, v : array_like, shape (d,)
        Point and direction.
    eps : float, optional
        Step along v/‖v‖ (default 1e-3: the rounding error grows like 1/ε²).

    Returns
    -------
    numpy.ndarray, shape (d,)

    Notes
    -----
    T[v, v] ≈ ‖v‖² (g(θ + ε v̂) − 2 g(θ) + g(θ − ε v̂)) / ε². Derived in chapter 3.
    """
    grad = check_callable("grad", grad)
    theta = check_array("theta", theta, ndim=1, nonempty=True)
    v = check_array("v", v, shape=theta.shape, shape_of="theta")
    eps = check_scalar("eps", eps, low=0.0, low_inclusive=False)
    norm = float(np.linalg.norm(v))
    if norm == 0.0:
        return np.zeros_like(theta)
    u = v / norm
    def g(x: np.ndarray) -> np.ndarray:
        return check_returned("grad", grad(x), shape=theta.shape, at=x)

    return norm**2 * (g(theta + eps * u) - 2 * g(theta) + g(theta - eps * u)) / eps**2


def modified_gradient_field(grad: VectorField, lr: float, order: int = 1, *,
                            hess: HessFn | None = None, third: ThirdFn | None = None,
                            eps: float | None = None) -> VectorField:
    """The order-``order`` modified field of gradient descent on L, as a numpy function.

    Parameters
    ----------
    grad : callable
        ∇L, shape ``(d,)`` → ``(d,)``.
    lr : float
        The learning rate γ ≥ 0.
    order : {0, 1, 2}, optional
        Order p of the modified field (default 1).
    hess : callable, optional
        θ ↦ ∇²L(θ), shape ``(d, d)``. If omitted, H g is taken by
        :func:`hessian_vector_fd`.
    third : callable, optional
        (θ, u, v) ↦ T(θ)[u, v] = Σ_jk ∂³L/∂θ_i∂θ_j∂θ_k u_j v_k. If omitted (and
        order is 2), T[g, g] is taken by :func:`third_derivative_fd`.
    eps : float, optional
        Finite-difference step for both approximations (defaults as there).

    Returns
    -------
    callable
        θ ↦ f̃_p(θ), shape ``(d,)`` → ``(d,)``, ready for
        :func:`lrtheory.flows.integrate_flow`.

    Notes
    -----
    f̃_0 = −g, f̃_1 = −g − (γ/2) H g, and
    f̃_2 = −g − (γ/2) H g − γ² (⅓ H² g + (1/12) T[g, g]).
    Over a fixed time t = kγ, the GD iterate θ_k differs from the flow of f̃_p
    by O(γ^{p+1}). f̃_1 = −∇(L + (γ/4)‖∇L‖²) is a gradient field; f̃_2 is not
    in general. Derived in chapter 3.
    """
    grad = check_callable("grad", grad)
    lr = check_scalar("lr", lr, low=0.0)
    order = check_choice("order", check_int("order", order), (0, 1, 2))
    if hess is not None:
        hess = check_callable("hess", hess)
    if third is not None:
        third = check_callable("third", third)
    if eps is not None:
        eps = check_scalar("eps", eps, low=0.0, low_inclusive=False)

    def hv(theta: np.ndarray, v: np.ndarray) -> np.ndarray:
        if hess is not None:
            d = theta.shape[-1]
            return check_returned("hess", hess(theta), shape=(d, d), at=theta) @ v
        return hessian_vector_fd(grad, theta, v) if eps is None else hessian_vector_fd(grad, theta, v, eps)

    def tvv(theta: np.ndarray, v: np.ndarray) -> np.ndarray:
        if third is not None:
            return check_returned("third", third(theta, v, v), shape=theta.shape, at=theta)
        return third_derivative_fd(grad, theta, v) if eps is None else third_derivative_fd(grad, theta, v, eps)

    def field(theta: np.ndarray) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        g = check_returned("grad", grad(theta), shape=theta.shape, at=theta)
        out = -g
        if order >= 1:
            hg = hv(theta, g)
            out = out - 0.5 * lr * hg
            if order >= 2:
                out = out - lr**2 * (hv(theta, hg) / 3.0 + tvv(theta, g) / 12.0)
        return out

    return field


# --------------------------------------------------------------------------- quadratics, exactly


def exact_eigen_rate(eigenvalues: np.ndarray, lr: float) -> np.ndarray:
    """Exact modified rate μ(λ) = log(1 − γλ)/γ of GD along a Hessian eigendirection (principal log).

    Parameters
    ----------
    eigenvalues : array_like
        Curvatures λ (real).
    lr : float
        Learning rate γ > 0.

    Returns
    -------
    numpy.ndarray of complex
        Real (−λ − γλ²/2 − γ²λ³/3 − …) where γλ < 1; ``-inf`` at γλ = 1 (the
        step removes the direction); log|1 − γλ|/γ + iπ/γ where γλ > 1, where
        no real rate exists.

    Notes
    -----
    On L = ½ λ y², one step multiplies y by 1 − γλ and the time-γ flow of
    y' = μ y by e^{γμ}; they agree exactly for this μ. The principal flow of
    Rosca et al. (2023) uses these rates, one per eigendirection of the
    Hessian. Derived in chapter 3.
    """
    lam = check_array("eigenvalues", eigenvalues)
    lr = check_scalar("lr", lr, low=0.0, low_inclusive=False)
    z = (1.0 - lr * lam).astype(complex)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = np.log(np.where(z == 0, 1.0, z)) / lr
    return np.where(z == 0, complex(-np.inf, 0.0), mu)


def principal_flow_quadratic(A: np.ndarray, theta0: np.ndarray, lr: float, times: np.ndarray) -> np.ndarray:
    """The exact modified flow of GD on L = ½ θᵀAθ, at any times (complex where γλ > 1).

    Parameters
    ----------
    A : array_like, shape (d, d)
        Symmetric matrix.
    theta0 : array_like, shape (d,)
        Start point.
    lr : float
        Learning rate γ > 0.
    times : array_like, shape (k,)
        Times t ≥ 0 (none gives an empty path).

    Returns
    -------
    numpy.ndarray of complex, shape (k, d)
        θ(t) = Q exp(t M) Qᵀ θ0 with M = diag(μ(λ_i)) of :func:`exact_eigen_rate`;
        at t = nγ it equals the n-th GD iterate (I − γA)ⁿ θ0.

    Notes
    -----
    For γλ_max < 1 the flow is real and is the gradient flow of the modified
    quadratic −½ θᵀ(log(I − γA)/γ)θ; past 1/λ_max it leaves the real space
    between the steps. Derived in chapter 3.
    """
    A = check_array("A", A, ndim=2)
    if A.shape[0] != A.shape[1] or not np.allclose(A, A.T):
        raise ValueError(f"A must be a symmetric square matrix, got shape {A.shape}")
    theta0 = check_array("theta0", theta0, shape=(A.shape[0],))
    t = check_array("times", times, ndim=1, nonnegative=True)
    lam, Q = np.linalg.eigh(A)
    mu = exact_eigen_rate(lam, lr)
    with np.errstate(invalid="ignore"):
        growth = np.where(t[:, None] == 0, 1.0 + 0j, np.exp(t[:, None] * mu[None, :]))
    return (growth * (Q.T @ theta0)[None, :]) @ Q.T


# --------------------------------------------------------------------------- the toy


def balanced_toy() -> Problem:
    """The two-parameter loss L(a, b) = ½ (ab − 1)², with θ = (a, b).

    Returns
    -------
    Problem
        Exact loss, gradient and Hessian; ``minimizer`` is the balanced
        minimum (1, 1), one point of the hyperbola of minima ab = 1.

    Notes
    -----
    With r = ab − 1: ∇L = r (b, a) and ∇²L = [[b², 2ab − 1], [2ab − 1, a²]].
    On the minimum ab = 1 the Hessian is (b, a)(b, a)ᵀ with the single non-zero
    eigenvalue a² + b² = √((a² − b²)² + 4): the balanced minima a = b = ±1
    are the flattest. The model is the smallest with a continuum of minima:
    Barrett & Dherin (2021) illustrate implicit gradient regularisation on a
    two-parameter model of this product form, it is the "uv model" of
    Lewkowycz et al. (2020), a² − b² is the simplest of the rescaling
    conservation laws of Kunin et al. (2021), and Kreisler et al. (2023) study
    the sharpness of gradient-flow solutions in such scalar networks.
    Derived in chapter 3.
    """

    def loss_fn(t: np.ndarray) -> np.ndarray:
        return 0.5 * (t[..., 0] * t[..., 1] - 1.0) ** 2

    def grad_fn(t: np.ndarray) -> np.ndarray:
        a, b = t[..., 0], t[..., 1]
        r = a * b - 1.0
        return np.stack([r * b, r * a], axis=-1)

    def hess_fn(t: np.ndarray) -> np.ndarray:
        a, b = t[..., 0], t[..., 1]
        off = 2 * a * b - 1.0
        return np.stack([np.stack([b * b, off], -1), np.stack([off, a * a], -1)], -2)

    return Problem("balanced toy", 2, loss_fn, grad_fn, hess_fn, np.array([1.0, 1.0]))


def balanced_toy_third(theta: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Third derivative T(θ)[u, v] of the balanced toy L = ½(ab − 1)².

    Parameters
    ----------
    theta, u, v : array_like, shape (2,)

    Returns
    -------
    numpy.ndarray, shape (2,)

    Notes
    -----
    The only non-zero entries of ∇³L are ∂³L/∂a²∂b = 2b and ∂³L/∂a∂b² = 2a
    (and their permutations). Derived in chapter 3.
    """
    theta = check_array("theta", theta, shape=(2,))
    u = check_array("u", u, shape=(2,))
    v = check_array("v", v, shape=(2,))
    a, b = theta
    cross = u[0] * v[1] + u[1] * v[0]
    return np.array([2 * b * cross + 2 * a * u[1] * v[1], 2 * b * u[0] * v[0] + 2 * a * cross])


def imbalance(theta: np.ndarray) -> np.ndarray:
    """The quantity a² − b² that the gradient flow of the balanced toy conserves.

    Parameters
    ----------
    theta : array_like, shape (..., 2)

    Returns
    -------
    numpy.ndarray, shape (...)

    Notes
    -----
    d(a² − b²)/dt = −2a·rb + 2b·ra = 0 along θ' = −∇L. Derived in chapter 3.
    """
    theta = check_array("theta", theta)
    if theta.ndim == 0 or theta.shape[-1] != 2:
        raise ValueError(f"theta must have shape (..., 2), got {theta.shape}")
    return theta[..., 0] ** 2 - theta[..., 1] ** 2


def imbalance_gd_factor(theta: np.ndarray, lr: float) -> np.ndarray:
    """Exact factor by which one GD step multiplies a² − b² on the balanced toy.

    Parameters
    ----------
    theta : array_like, shape (..., 2)
        The point before the step.
    lr : float
        Learning rate γ ≥ 0.

    Returns
    -------
    numpy.ndarray, shape (...)
        1 − γ² (ab − 1)².

    Notes
    -----
    The step (a, b) ↦ (a − γ r b, b − γ r a) gives
    a'² − b'² = (a² − b²)(1 − γ² r²) exactly. Derived in chapter 3.
    """
    theta = check_array("theta", theta)
    if theta.ndim == 0 or theta.shape[-1] != 2:
        raise ValueError(f"theta must have shape (..., 2), got {theta.shape}")
    lr = check_scalar("lr", lr, low=0.0)
    r = theta[..., 0] * theta[..., 1] - 1.0
    return 1.0 - lr**2 * r**2


def imbalance_modified_rate(theta: np.ndarray, lr: float) -> np.ndarray:
    """Relative rate (d/dt D) / D of D = a² − b² along the first-order modified flow of the toy.

    Parameters
    ----------
    theta : array_like, shape (..., 2)
    lr : float
        Learning rate γ ≥ 0.

    Returns
    -------
    numpy.ndarray, shape (...)
        −γ (ab − 1)² = −2γ L(θ).

    Notes
    -----
    Along θ' = −∇(L + (γ/4)‖∇L‖²), d(a² − b²)/dt = −γ r² (a² − b²): the
    modified flow shrinks the imbalance at the per-unit-time rate that one GD
    step (factor 1 − γ² r², i.e. −γ² r² per time γ) shows to leading order.
    Derived in chapter 3.
    """
    theta = check_array("theta", theta)
    if theta.ndim == 0 or theta.shape[-1] != 2:
        raise ValueError(f"theta must have shape (..., 2), got {theta.shape}")
    lr = check_scalar("lr", lr, low=0.0)
    r = theta[..., 0] * theta[..., 1] - 1.0
    return -lr * r**2


def minimum_sharpness(imbalance_value: float | np.ndarray) -> np.ndarray:
    """Largest Hessian eigenvalue of the balanced toy at the minimum with a² − b² = D.

    Parameters
    ----------
    imbalance_value : float or array_like
        D = a² − b² of a point on the hyperbola ab = 1.

    Returns
    -------
    numpy.ndarray
        √(D² + 4) = a² + b².

    Notes
    -----
    (a² + b²)² = (a² − b²)² + 4a²b² = D² + 4 when ab = 1. Derived in chapter 3.
    """
    d = check_array("imbalance_value", imbalance_value)
    return np.sqrt(d**2 + 4.0)
