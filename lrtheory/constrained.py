"""Optimisation under simple constraints: exponentiated gradient versus projection (numpy).

Two ways to keep an iterate inside a constraint set while following the
gradient of a smooth loss:

* *multiplicative* updates, which never leave the set: exponentiated gradient
  (EG) for the non-negative orthant, normalised EG for the probability simplex;
* *projected* gradient descent, which takes an ordinary gradient step and
  maps the result back to the nearest point of the set (Euclidean projection
  onto the orthant, or the sort-based projection onto the simplex).

Toy problems with known answers to run them on are in
:mod:`lrtheory.constrained_problems`.  Derived in chapter 4.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ._validation import check_array, check_callable, check_choice, check_int, check_returned, check_scalar

__all__ = [
    "METHODS",
    "eg_update",
    "normalized_eg_update",
    "project_nonnegative",
    "project_simplex",
    "project_simplex_reference",
    "em_mixture_update",
    "pgd_nonnegative_update",
    "pgd_simplex_update",
    "run_constrained",
]

METHODS: tuple[str, ...] = ("eg", "normalized_eg", "pgd_nonnegative", "pgd_simplex", "em_mixture")
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
    theta = check_array("theta", theta, nonnegative=True, nonempty=True)
    grad = check_array("grad", grad, shape=theta.shape, shape_of="theta")
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
    theta = check_array("theta", theta, nonnegative=True, nonempty=True)
    if theta.ndim == 0:
        raise ValueError("theta must have at least one axis")
    grad = check_array("grad", grad, shape=theta.shape, shape_of="theta")
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
    x = check_array("x", x, nonempty=True)
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
    x = check_array("x", x, nonempty=True)
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
    theta = check_array("theta", theta, nonempty=True)
    grad = check_array("grad", grad, shape=theta.shape, shape_of="theta")
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
    theta = check_array("theta", theta, nonempty=True)
    grad = check_array("grad", grad, shape=theta.shape, shape_of="theta")
    lr = check_scalar("lr", lr, low=0.0)
    return project_simplex(theta - lr * grad)


def em_mixture_update(theta: object, grad: object, lr: float = 0.0) -> np.ndarray:
    """One EM step for mixture weights, w ← w ⊙ (−∇L(w)) (``lr`` is unused: EM has no parameter).

    Parameters
    ----------
    theta : array_like, shape (d,)
        Current weights on the simplex.
    grad : array_like, shape (d,)
        ∇L(w) of the mixture negative log-likelihood L(w) = −mean_n log Σ_k w_k p_k(x_n),
        i.e. −mean_n p_k(x_n) / Σ_j w_j p_j(x_n).
    lr : float, optional
        Ignored; accepted so that :func:`run_constrained` can run EM like the other updates.

    Returns
    -------
    numpy.ndarray
        w_k · mean_n [w_k-responsibility / w_k]: the new weights (they sum to one
        because Σ_k w_k ∂_k L(w) = −1 on the simplex).

    Notes
    -----
    Normalised EG at η = 1 is w_k e^{r_k} / Σ_j w_j e^{r_j} with r = −∇L; to first
    order in r − 1 this is w_k r_k, the EM step. Derived in chapter 4.
    """
    theta = check_array("theta", theta, ndim=1, nonempty=True)
    grad = check_array("grad", grad, shape=theta.shape, shape_of="theta")
    check_scalar("lr", lr, low=0.0)
    return theta * (-grad)


_UPDATES: dict[str, Callable[[object, object, float], np.ndarray]] = {
    "eg": eg_update,
    "normalized_eg": normalized_eg_update,
    "pgd_nonnegative": pgd_nonnegative_update,
    "pgd_simplex": pgd_simplex_update,
    "em_mixture": em_mixture_update,
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

    Raises
    ------
    TypeError, ValueError
        On a bad argument, naming it, and when ``grad`` returns anything but
        a finite array of shape ``(d,)``.

    Notes
    -----
    Derived in chapter 4, where EG is compared with projected gradient descent.
    """
    method = check_choice("method", method, METHODS)
    check_callable("grad", grad)
    theta0 = check_array("theta0", theta0, ndim=1, nonempty=True)
    lr = check_scalar("lr", lr, low=0.0)
    num_steps = check_int("num_steps", num_steps, low=0)
    update = _UPDATES[method]
    out = np.empty((num_steps + 1, theta0.shape[0]))
    out[0] = theta0
    for k in range(num_steps):
        out[k + 1] = update(out[k], check_returned("grad", grad(out[k]), shape=theta0.shape, at=out[k]), lr)
    return out
