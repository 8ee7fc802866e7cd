"""Toy constrained problems with known answers, for exponentiated gradient and projection (numpy).

* :func:`nnls_problem`: non-negative least squares; answer from
  :func:`scipy.optimize.nnls`;
* :func:`mixture_problem`: maximum-likelihood weights of a mixture with fixed
  components, a problem on the probability simplex; answer from
  :func:`mixture_weights_reference` (tightly converged SLSQP, checked against
  the KKT conditions in the tests).

Both return a :class:`lrtheory.problems.Problem` whose ``minimizer`` is the
constrained answer; run the updates of :mod:`lrtheory.constrained` on them.
Derived in chapter 4.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_array, check_int, check_scalar
from .problems import Problem

__all__ = ["nnls_problem", "mixture_problem", "mixture_weights_reference"]

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

    P = check_array("P", P, ndim=2, nonempty=True)
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
