"""Optimisation under simple constraints: exponentiated gradient versus projection (numpy).

Two ways to keep an iterate inside a constraint set while following the
gradient of a smooth loss:

* *multiplicative* updates, which never leave the set: exponentiated gradient
  (EG) for the non-negative orthant, normalised EG for the probability simplex;
* *projected* gradient descent, which takes an ordinary gradient step and
  maps the result back to the nearest point of the set (Euclidean projection
  onto the orthant, or the sort-based projection onto the simplex).

Two toy problems with a known answer go with them: non-negative least squares
(answer from :func:`scipy.optimize.nnls`) and the maximum-likelihood weights
of a mixture with fixed components (answer from a tightly converged SLSQP run,
checked against the KKT conditions in the tests).  Derived in chapter 4.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ._validation import check_array, check_choice, check_int, check_scalar
from .problems import Problem

__all__ = [
    "METHODS",
    "eg_update",
    "normalized_eg_update",
    "project_nonnegative",
    "project_simplex",
    "project_simplex_reference",
    "pgd_nonnegative_update",
    "pgd_simplex_update",
    "nnls_problem",
    "mixture_problem",
    "mixture_weights_reference",
    "run_constrained",
]

METHODS: tuple[str, ...] = ("eg", "normalized_eg", "pgd_nonnegative", "pgd_simplex")
"""Names accepted by :func:`run_constrained`."""


def eg_update(theta: object, grad: object, lr: float) -> np.ndarray:
    """One exponentiated-gradient step θ ⊙ exp(−η ∇L).

    Parameters
    ----------
    theta : array_like
        Current point, entries ≥ 0.
    grad : array_like
        Gradient at ``theta``, same shape.
    lr : float
        Learning rate η ≥ 0.

    Returns
    -------
    numpy.ndarray
        The next point; its entries are ≥ 0, and zero entries stay zero.

    Raises
    ------
    ValueError
        If ``theta`` has a negative entry, the shapes differ, or ``lr < 0``.

    Notes
    -----
    Writing θ = e^φ, gradient descent on φ reads
    φ ← φ − η e^φ ⊙ ∇_θ L; dropping the factor e^φ and exponentiating gives
    θ ← θ ⊙ exp(−η ∇_θ L). In continuous time the two updates are the flows
    θ' = −θ² ⊙ ∇L and θ' = −θ ⊙ ∇L. Derived in chapter 4.
    """
    theta = check_array("theta", theta, nonnegative=True)
    grad = check_array("grad", grad, shape=theta.shape)
    lr = check_scalar("lr", lr, low=0.0)
    return theta * np.exp(-lr * grad)


def normalized_eg_update(theta: object, grad: object, lr: float) -> np.ndarray:
    """One normalised EG step on the probability simplex (last axis).

    Parameters
    ----------
    theta : array_like, shape (..., d)
        Current point(s): non-negative entries with a positive sum along the
        last axis (they need not sum to one; the result does).
    grad : array_like, shape (..., d)
        Gradient at ``theta``.
    lr : float
        Learning rate η ≥ 0.

    Returns
    -------
    numpy.ndarray, shape (..., d)
        θ ⊙ exp(−η ∇L), divided by its sum along the last axis.

    Raises
    ------
    ValueError
        If ``theta`` has a negative entry or a zero row, or the shapes differ.

    Notes
    -----
    This is mirror descent with the negative entropy Σ θ_i log θ_i as mirror
    map: the step solves
    min_w  η ⟨∇L, w⟩ + KL(w ‖ θ)  over the simplex. It is computed in the
    log domain (log θ − η ∇L, shifted by its maximum) so that neither the
    exponential nor the normalisation can overflow. Derived in chapter 4.
    """
    theta = check_array("theta", theta, nonnegative=True)
    if theta.ndim == 0:
        raise ValueError("theta must have at least one axis")
    grad = check_array("grad", grad, shape=theta.shape)
    lr = check_scalar("lr", lr, low=0.0)
    if np.any(theta.sum(axis=-1) <= 0):
        raise ValueError("theta must have a positive sum along the last axis")
    with np.errstate(divide="ignore"):
        logits = np.log(theta) - lr * grad
    logits = logits - logits.max(axis=-1, keepdims=True)
    w = np.exp(logits)
    return w / w.sum(axis=-1, keepdims=True)


def project_nonnegative(x: object) -> np.ndarray:
    """Euclidean projection onto the non-negative orthant: max(x, 0) entrywise.

    Parameters
    ----------
    x : array_like

    Returns
    -------
    numpy.ndarray

    Notes
    -----
    The nearest point of {θ ≥ 0} to x clips each negative entry to zero.
    Derived in chapter 4.
    """
    return np.maximum(check_array("x", x), 0.0)


def project_simplex(x: object, radius: float = 1.0) -> np.ndarray:
    """Euclidean projection onto {w ≥ 0, Σ w = radius} along the last axis (sort-based).

    Parameters
    ----------
    x : array_like, shape (..., d)
        Point(s) to project.
    radius : float, optional
        Sum of the entries of the result, > 0 (default 1: the probability simplex).

    Returns
    -------
    numpy.ndarray, shape (..., d)
        The nearest point of the scaled simplex.

    Notes
    -----
    The projection is w = max(x − τ, 0) with the threshold τ chosen so that
    the entries sum to ``radius``. Sorting x in decreasing order,
    u_1 ≥ … ≥ u_d, the support has ρ elements, where ρ is the largest k with
    u_k − (u_1 + … + u_k − radius)/k > 0, and τ = (u_1 + … + u_ρ − radius)/ρ
    (Held, Wolfe & Crowder 1974; Duchi et al. 2008). Cost O(d log d).
    Derived in chapter 4.
    """
    x = check_array("x", x)
    if x.ndim == 0:
        raise ValueError("x must have at least one axis")
    radius = check_scalar("radius", radius, low=0.0, low_inclusive=False)
    u = -np.sort(-x, axis=-1)
    css = np.cumsum(u, axis=-1) - radius
    k = np.arange(1, x.shape[-1] + 1)
    rho = np.count_nonzero(u - css / k > 0, axis=-1, keepdims=True)  # >= 1 always
    tau = np.take_along_axis(css, rho - 1, axis=-1) / rho
    return np.maximum(x - tau, 0.0)


def project_simplex_reference(x: object, radius: float = 1.0, *, num_iters: int = 200) -> np.ndarray:
    """Slow oracle for :func:`project_simplex`: bisection on the threshold, one row at a time.

    Parameters
    ----------
    x : array_like, shape (..., d)
    radius : float, optional
        Sum of the entries of the result, > 0.
    num_iters : int, optional
        Bisection steps (the bracket shrinks by 2 each step).

    Returns
    -------
    numpy.ndarray, shape (..., d)

    Notes
    -----
    f(τ) = Σ max(x_i − τ, 0) − radius is continuous and non-increasing, with
    f(min x − radius) ≥ 0 ≥ f(max x); bisection finds its root. Derived in
    chapter 4 (exercise on the projection).
    """
    x = check_array("x", x)
    if x.ndim == 0:
        raise ValueError("x must have at least one axis")
    radius = check_scalar("radius", radius, low=0.0, low_inclusive=False)
    num_iters = check_int("num_iters", num_iters, low=1)
    rows = x.reshape(-1, x.shape[-1])
    out = np.empty_like(rows)
    for i, row in enumerate(rows):
        lo, hi = float(row.min()) - radius, float(row.max())
        for _ in range(num_iters):
            mid = 0.5 * (lo + hi)
            if np.maximum(row - mid, 0.0).sum() > radius:
                lo = mid
            else:
                hi = mid
        out[i] = np.maximum(row - 0.5 * (lo + hi), 0.0)
    return out.reshape(x.shape)


def pgd_nonnegative_update(theta: object, grad: object, lr: float) -> np.ndarray:
    """One projected gradient step onto the orthant: max(θ − η ∇L, 0).

    Parameters
    ----------
    theta, grad : array_like
        Current point and gradient (same shape).
    lr : float
        Learning rate η ≥ 0.

    Returns
    -------
    numpy.ndarray

    Notes
    -----
    Unlike :func:`eg_update`, this reaches active constraints exactly, in
    finitely many steps. Derived in chapter 4.
    """
    theta = check_array("theta", theta)
    grad = check_array("grad", grad, shape=theta.shape)
    lr = check_scalar("lr", lr, low=0.0)
    return np.maximum(theta - lr * grad, 0.0)


def pgd_simplex_update(theta: object, grad: object, lr: float) -> np.ndarray:
    """One projected gradient step onto the probability simplex (last axis).

    Parameters
    ----------
    theta, grad : array_like, shape (..., d)
        Current point and gradient.
    lr : float
        Learning rate η ≥ 0.

    Returns
    -------
    numpy.ndarray, shape (..., d)
        ``project_simplex(theta - lr * grad)``.

    Notes
    -----
    The Euclidean counterpart of :func:`normalized_eg_update`. Derived in chapter 4.
    """
    theta = check_array("theta", theta)
    grad = check_array("grad", grad, shape=theta.shape)
    lr = check_scalar("lr", lr, low=0.0)
    return project_simplex(theta - lr * grad)


_UPDATES: dict[str, Callable[[object, object, float], np.ndarray]] = {
    "eg": eg_update,
    "normalized_eg": normalized_eg_update,
    "pgd_nonnegative": pgd_nonnegative_update,
    "pgd_simplex": pgd_simplex_update,
}


def run_constrained(
    method: str,
    grad: Callable[[np.ndarray], np.ndarray],
    theta0: object,
    lr: float,
    num_steps: int,
) -> np.ndarray:
    """Iterate one of the constrained updates from ``theta0``.

    Parameters
    ----------
    method : {"eg", "normalized_eg", "pgd_nonnegative", "pgd_simplex"}
        Which update (see :data:`METHODS`).
    grad : callable
        ∇L, shape ``(d,)`` → ``(d,)`` (for example ``problem.grad``).
    theta0 : array_like, shape (d,)
        Starting point (feasible for the method's set).
    lr : float
        Constant learning rate, ≥ 0.
    num_steps : int
        Number of steps, ≥ 0.

    Returns
    -------
    numpy.ndarray, shape (num_steps + 1, d)
        The iterates, ``theta0`` first.

    Notes
    -----
    Derived in chapter 4, where EG is compared with projected gradient descent.
    """
    method = check_choice("method", method, METHODS)
    if not callable(grad):
        raise TypeError(f"grad must be callable, got {type(grad).__name__}")
    theta0 = check_array("theta0", theta0, ndim=1)
    lr = check_scalar("lr", lr, low=0.0)
    num_steps = check_int("num_steps", num_steps, low=0)
    update = _UPDATES[method]
    out = np.empty((num_steps + 1, theta0.shape[0]))
    out[0] = theta0
    for k in range(num_steps):
        out[k + 1] = update(out[k], np.asarray(grad(out[k]), dtype=float), lr)
    return out


def nnls_problem(num_rows: int, num_cols: int, *, seed: int, noise: float = 0.5,
                 density: float = 0.5) -> Problem:
    """A random non-negative least-squares problem L(θ) = ‖Aθ − b‖² / (2m), θ ≥ 0.

    Parameters
    ----------
    num_rows, num_cols : int
        Shape (m, n) of the design matrix A (Gaussian entries).
    seed : int
        Seed of the random draw.
    noise : float, optional
        Standard deviation of the Gaussian noise added to b = Aθ_true.
    density : float, optional
        Fraction of non-zero entries of θ_true, in (0, 1]; the others are
        zero, so that (with noise) some constraints are active at the answer.

    Returns
    -------
    Problem
        ``minimizer`` is the constrained answer from :func:`scipy.optimize.nnls`
        (not the unconstrained one).

    Notes
    -----
    ∇L = Aᵀ(Aθ − b)/m and ∇²L = AᵀA/m. At the answer the KKT conditions hold:
    ∇L = 0 on the support and ∇L ≥ 0 where θ* = 0. Derived in chapter 4.
    """
    from scipy.optimize import nnls

    from .experiments import make_rng

    num_rows = check_int("num_rows", num_rows, low=1)
    num_cols = check_int("num_cols", num_cols, low=1)
    noise = check_scalar("noise", noise, low=0.0)
    density = check_scalar("density", density, low=0.0, high=1.0, low_inclusive=False)
    rng = make_rng(seed)
    A = rng.standard_normal((num_rows, num_cols))
    theta_true = rng.uniform(0.5, 1.5, num_cols) * (rng.random(num_cols) < density)
    b = A @ theta_true + noise * rng.standard_normal(num_rows)
    minimizer, _ = nnls(A, b)
    H = A.T @ A / num_rows

    def loss_fn(t: np.ndarray) -> np.ndarray:
        r = t @ A.T - b
        return 0.5 * np.sum(r * r, axis=-1) / num_rows

    def grad_fn(t: np.ndarray) -> np.ndarray:
        return (t @ A.T - b) @ A / num_rows

    def hess_fn(t: np.ndarray) -> np.ndarray:
        return np.broadcast_to(H, t.shape[:-1] + H.shape).copy()

    return Problem("nnls", num_cols, loss_fn, grad_fn, hess_fn, minimizer)


def mixture_weights_reference(P: object) -> np.ndarray:
    """Maximum-likelihood mixture weights: argmin over the simplex of −mean log(P w).

    Parameters
    ----------
    P : array_like, shape (N, K)
        Positive component likelihoods P[n, k] = p_k(x_n).

    Returns
    -------
    numpy.ndarray, shape (K,)
        The weights, from SLSQP with tolerance 1e-14 started at the uniform
        weights, clipped at zero and renormalised.

    Notes
    -----
    Used as the reference answer of :func:`mixture_problem`; its accuracy is
    checked against the KKT conditions in the tests. Derived in chapter 4.
    """
    from scipy.optimize import minimize

    P = check_array("P", P, ndim=2)
    if np.any(P <= 0):
        raise ValueError("P must have positive entries")
    n, k = P.shape

    def f(w: np.ndarray) -> float:
        return float(-np.mean(np.log(np.maximum(P @ w, 1e-300))))

    def jac(w: np.ndarray) -> np.ndarray:
        return -(P / np.maximum(P @ w, 1e-300)[:, None]).mean(axis=0)

    res = minimize(f, np.full(k, 1.0 / k), jac=jac, method="SLSQP", bounds=[(0.0, 1.0)] * k,
                   constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0,
                                 "jac": lambda w: np.ones_like(w)}],
                   options={"ftol": 1e-14, "maxiter": 2000})
    w = np.maximum(res.x, 0.0)
    return w / w.sum()


def mixture_problem(num_samples: int, num_components: int, *, seed: int, width: float = 0.6,
                    num_true: int = 3) -> Problem:
    """Maximum-likelihood weights of a 1-D Gaussian mixture with fixed components.

    Parameters
    ----------
    num_samples : int
        Number N of samples x_n.
    num_components : int
        Number K of components: Gaussians of standard deviation ``width`` with
        centres evenly spaced on [−4, 4].
    seed : int
        Seed of the random draw.
    width : float, optional
        Standard deviation of every component.
    num_true : int, optional
        The samples come from a mixture of ``num_true`` of the K components
        (random, with Dirichlet weights), so the answer is sparse.

    Returns
    -------
    Problem
        L(w) = −(1/N) Σ_n log Σ_k P[n, k] w_k on the simplex; ``minimizer``
        from :func:`mixture_weights_reference`.

    Notes
    -----
    ∇L = −Pᵀ(1 / Pw)/N, ∇²L = Pᵀ diag(1/(Pw)²) P / N. At the answer w* the
    KKT conditions read ∂_k L(w*) = −1 where w*_k > 0 and ∂_k L(w*) ≥ −1
    where w*_k = 0 (the multiplier is −1 because Σ_k w_k ∂_k L(w) = −1 for
    every w on the simplex). Derived in chapter 4.
    """
    from .experiments import make_rng

    num_samples = check_int("num_samples", num_samples, low=1)
    num_components = check_int("num_components", num_components, low=2)
    width = check_scalar("width", width, low=0.0, low_inclusive=False)
    num_true = check_int("num_true", num_true, low=1, high=num_components)
    rng = make_rng(seed)
    centres = np.linspace(-4.0, 4.0, num_components)
    chosen = rng.choice(num_components, size=num_true, replace=False)
    weights = rng.dirichlet(np.ones(num_true))
    labels = rng.choice(chosen, size=num_samples, p=weights)
    x = centres[labels] + width * rng.standard_normal(num_samples)
    z = (x[:, None] - centres[None, :]) / width
    P = np.exp(-0.5 * z * z) / (width * np.sqrt(2.0 * np.pi)) + 1e-300
    minimizer = mixture_weights_reference(P)

    def loss_fn(w: np.ndarray) -> np.ndarray:
        return -np.mean(np.log(w @ P.T), axis=-1)

    def grad_fn(w: np.ndarray) -> np.ndarray:
        return -(1.0 / (w @ P.T)) @ P / num_samples

    def hess_fn(w: np.ndarray) -> np.ndarray:
        s = 1.0 / (w @ P.T) ** 2
        return np.einsum("...n,nk,nl->...kl", s, P, P) / num_samples

    return Problem("mixture weights", num_components, loss_fn, grad_fn, hess_fn, minimizer)
