"""Toy loss functions with exact gradients and Hessians (numpy).

Every problem is a :class:`Problem`: a loss, its gradient and its Hessian,
all vectorised over leading axes so that ``problem.loss(grid)`` evaluates a
whole contour grid of shape ``(..., dim)`` at once.  Chapters use them as
test beds where everything is known: the minimiser, the curvature, the
stability edge of gradient descent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ._validation import check_array, check_callable, check_int, check_scalar, check_str

__all__ = ["Problem", "quadratic", "rosenbrock", "check_point"]

ArrayFn = Callable[[np.ndarray], np.ndarray]


def check_point(name: str, theta: object, dim: int) -> np.ndarray:
    """Validate a point (or a batch of points) of a ``dim``-dimensional problem.

    Parameters
    ----------
    name : str
        The argument's name, for the error message.
    theta : array_like
        Shape ``(..., dim)``.
    dim : int
        Required length of the last axis.

    Returns
    -------
    numpy.ndarray
        ``theta`` as a float array.

    Raises
    ------
    TypeError
        If ``name`` is not a str, ``dim`` not an int, or ``theta`` not an array of real numbers.
    ValueError
        If the last axis is not ``dim`` long or an entry is not finite.
    """
    name = check_str("name", name)
    dim = check_int("dim", dim, low=1)
    arr = check_array(name, theta)
    if arr.ndim == 0 or arr.shape[-1] != dim:
        raise ValueError(f"{name} must have shape (..., {dim}), got {arr.shape}")
    return arr


@dataclass(frozen=True)
class Problem:
    """A smooth loss on R^dim with its exact derivatives.

    The constructor checks ``name`` (str), ``dim`` (int ≥ 1), that the three
    functions are callable, and the minimiser's shape ``(dim,)``.

    Attributes
    ----------
    name : str
        A label for legends.
    dim : int
        Dimension of the parameter vector.
    loss_fn, grad_fn, hess_fn : callable
        Raw, unchecked functions of an array of shape ``(..., dim)``.
    minimizer : numpy.ndarray or None
        A global minimiser, when known in closed form.
    """

    name: str
    dim: int
    loss_fn: ArrayFn = field(repr=False)
    grad_fn: ArrayFn = field(repr=False)
    hess_fn: ArrayFn = field(repr=False)
    minimizer: np.ndarray | None = None

    def __post_init__(self) -> None:
        check_str("name", self.name)
        check_int("dim", self.dim, low=1)
        for fn in ("loss_fn", "grad_fn", "hess_fn"):
            check_callable(fn, getattr(self, fn))
        if self.minimizer is not None:
            check_array("minimizer", self.minimizer, shape=(self.dim,))

    def loss(self, theta: np.ndarray) -> np.ndarray:
        """Loss at ``theta`` (shape ``(..., dim)``); returns shape ``(...)``."""
        return self.loss_fn(check_point("theta", theta, self.dim))

    def grad(self, theta: np.ndarray) -> np.ndarray:
        """Gradient at ``theta``; returns shape ``(..., dim)``."""
        return self.grad_fn(check_point("theta", theta, self.dim))

    def hess(self, theta: np.ndarray) -> np.ndarray:
        """Hessian at ``theta``; returns shape ``(..., dim, dim)``."""
        return self.hess_fn(check_point("theta", theta, self.dim))


def quadratic(A: object, b: object | None = None, *, name: str = "quadratic") -> Problem:
    """The quadratic loss L(θ) = ½ θᵀAθ − bᵀθ.

    Parameters
    ----------
    A : array_like, shape (d, d)
        Symmetric positive semi-definite matrix.
    b : array_like, shape (d,), optional
        Linear term (default zero).
    name : str, optional
        Label for legends.

    Returns
    -------
    Problem
        With ``minimizer = A⁻¹ b`` when ``A`` is non-singular.

    Raises
    ------
    ValueError
        If ``A`` is not square, not symmetric, or has a negative eigenvalue;
        or if ``b`` has the wrong length.

    Notes
    -----
    ∇L = Aθ − b and ∇²L = A. Gradient descent with learning rate γ maps the
    error e = θ − θ* to (I − γA)e, so it converges for every start exactly
    when 0 < γ < 2/λ_max(A) (chapter 1).
    """
    A = check_array("A", A, ndim=2, nonempty=True)
    name = check_str("name", name)
    d = A.shape[0]
    if A.shape != (d, d):
        raise ValueError(f"A must be square, got shape {A.shape}")
    if not np.allclose(A, A.T, rtol=1e-12, atol=1e-12):
        raise ValueError("A must be symmetric")
    if np.linalg.eigvalsh(A).min() < -1e-12 * max(1.0, np.abs(A).max()):
        raise ValueError("A must be positive semi-definite")
    b = np.zeros(d) if b is None else check_array("b", b, shape=(d,))
    A = A.copy()
    b = b.copy()
    try:
        minimizer = np.linalg.solve(A, b) if np.linalg.matrix_rank(A) == d else None
    except np.linalg.LinAlgError:  # pragma: no cover - guarded by the rank test
        minimizer = None

    def loss_fn(t: np.ndarray) -> np.ndarray:
        return 0.5 * np.einsum("...i,ij,...j->...", t, A, t) - t @ b

    def grad_fn(t: np.ndarray) -> np.ndarray:
        return t @ A.T - b

    def hess_fn(t: np.ndarray) -> np.ndarray:
        return np.broadcast_to(A, t.shape[:-1] + (d, d)).copy()

    return Problem(name, d, loss_fn, grad_fn, hess_fn, minimizer)


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Problem:
    """Rosenbrock's banana L(x, y) = (a − x)² + b (y − x²)².

    Parameters
    ----------
    a : float, optional
        Position of the minimum, which is at (a, a²). Default 1.
    b : float, optional
        Steepness of the valley walls, > 0. Default 100.

    Returns
    -------
    Problem

    Raises
    ------
    ValueError
        If ``b`` is not positive or either parameter is not finite.

    Notes
    -----
    ∂L/∂x = −2(a − x) − 4bx(y − x²), ∂L/∂y = 2b(y − x²); the Hessian at the
    minimum has eigenvalues that differ by a factor of about 2500 for the
    default parameters, which is what makes the valley hard for plain gradient
    descent.
    """
    a = check_scalar("a", a)
    b = check_scalar("b", b, low=0.0, low_inclusive=False)

    def loss_fn(t: np.ndarray) -> np.ndarray:
        x, y = t[..., 0], t[..., 1]
        return (a - x) ** 2 + b * (y - x**2) ** 2

    def grad_fn(t: np.ndarray) -> np.ndarray:
        x, y = t[..., 0], t[..., 1]
        return np.stack([-2 * (a - x) - 4 * b * x * (y - x**2), 2 * b * (y - x**2)], axis=-1)

    def hess_fn(t: np.ndarray) -> np.ndarray:
        x, y = t[..., 0], t[..., 1]
        hxx = 2 - 4 * b * (y - x**2) + 8 * b * x**2
        hxy = -4 * b * x
        hyy = np.full_like(x, 2 * b)
        return np.stack([np.stack([hxx, hxy], -1), np.stack([hxy, hyy], -1)], -2)

    return Problem("rosenbrock", 2, loss_fn, grad_fn, hess_fn, np.array([a, a * a]))
