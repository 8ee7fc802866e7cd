"""Curvature of torch losses: Hessian-vector products, sharpness, explicit gradient regularization.

* :func:`hessian_vector_product` computes H v by double back-propagation,
  never forming H;
* :func:`sharpness` estimates the largest Hessian eigenvalue λ_max (the
  "sharpness" that bounds stable learning rates, γ < 2/λ_max) by seeded power
  iteration on Hessian-vector products;
* :func:`gradient_norm_sq` and :func:`egr_penalty` give ‖∇L‖² and the explicit
  gradient-regularization penalty (γ/4)‖∇L‖², differentiable with respect to
  the parameters (double back-propagation), so that gradient descent on
  L + (γ/4)‖∇L‖² is gradient descent on the first-order modified loss;
* :func:`train_full_batch` runs full-batch gradient descent on a model, with
  an optional explicit penalty and a stopping loss.

Derived in chapter 3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

from ._validation import check_bool, check_callable, check_int, check_scalar, check_str, check_tensor
from .experiments import progress, torch_generator

__all__ = [
    "flat_grad",
    "hessian_vector_product",
    "SharpnessResult",
    "sharpness",
    "gradient_norm_sq",
    "egr_penalty",
    "TrainResult",
    "train_full_batch",
]

LossClosure = Callable[[], torch.Tensor]


def _check_params(params: object) -> list[torch.Tensor]:
    if isinstance(params, torch.Tensor):
        params = [params]
    try:
        out = list(params)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"params must be an iterable of tensors, got {type(params).__name__}") from None
    if not out:
        raise ValueError("params must not be empty")
    for p in out:
        if not isinstance(p, torch.Tensor):
            raise TypeError(f"params must contain tensors, got {type(p).__name__}")
        check_tensor("params", p, dtype_kind="float")
        if not p.requires_grad:
            raise ValueError("params must all require grad")
    return out


def _check_loss(loss: object, name: str = "loss") -> torch.Tensor:
    check_tensor(name, loss, dtype_kind="float")
    if loss.numel() != 1:
        raise ValueError(f"{name} must be a scalar tensor, got shape {tuple(loss.shape)}")
    if not loss.requires_grad:
        raise ValueError(f"{name} must require grad (compute it from the parameters)")
    return loss


def flat_grad(loss: torch.Tensor, params: Sequence[torch.Tensor], *,
              create_graph: bool = False) -> torch.Tensor:
    """∇L with respect to ``params``, concatenated into one vector.

    Parameters
    ----------
    loss : torch.Tensor
        Scalar loss built from ``params``.
    params : iterable of torch.Tensor
        Leaves that require grad.
    create_graph : bool, optional
        Keep the graph of the gradient, so that it can be differentiated again.

    Returns
    -------
    torch.Tensor, shape (n,)
        Unused parameters contribute zeros.

    Notes
    -----
    With ``create_graph=True`` the result can be differentiated again, which
    is how :func:`hessian_vector_product` and :func:`egr_penalty` work.
    Derived in chapter 3.
    """
    loss = _check_loss(loss)
    params = _check_params(params)
    create_graph = check_bool("create_graph", create_graph)
    grads = torch.autograd.grad(loss, params, create_graph=create_graph, allow_unused=True)
    return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1) for p, g in zip(params, grads)])


def hessian_vector_product(loss: torch.Tensor, params: Sequence[torch.Tensor],
                           vector: torch.Tensor) -> torch.Tensor:
    """H v for the Hessian H of ``loss`` with respect to ``params`` (flattened).

    Parameters
    ----------
    loss : torch.Tensor
        Scalar loss built from ``params``.
    params : iterable of torch.Tensor
        Leaves that require grad.
    vector : torch.Tensor, shape (n,)
        The direction, n = total number of parameter entries.

    Returns
    -------
    torch.Tensor, shape (n,)

    Notes
    -----
    H v = ∇_θ (∇_θ L · v) (Pearlmutter's trick): one extra backward pass
    through the graph of the gradient, at about twice the cost of a gradient.
    Derived in chapter 3.
    """
    params = _check_params(params)
    check_tensor("vector", vector, dtype_kind="float")
    grad = flat_grad(loss, params, create_graph=True)
    if vector.shape != grad.shape:
        raise ValueError(f"vector must have shape {tuple(grad.shape)}, got {tuple(vector.shape)}")
    return _hvp_from_grad(grad, params, vector)


def _hvp_from_grad(grad: torch.Tensor, params: list[torch.Tensor], vector: torch.Tensor) -> torch.Tensor:
    if not grad.requires_grad:  # the loss is linear in the parameters
        return torch.zeros_like(vector)
    hv = torch.autograd.grad(grad, params, grad_outputs=vector.to(grad.dtype), retain_graph=True,
                             allow_unused=True)
    return torch.cat([(torch.zeros_like(p) if h is None else h).reshape(-1) for p, h in zip(params, hv)])


@dataclass(frozen=True)
class SharpnessResult:
    """Outcome of :func:`sharpness`.

    Attributes
    ----------
    eigenvalue : float
        Estimate of the largest (algebraic) Hessian eigenvalue.
    vector : torch.Tensor
        The corresponding unit eigenvector estimate (flattened).
    iterations : int
        Power iterations used (both phases together).
    converged : bool
        Whether the relative change fell below ``tol``.

    Notes
    -----
    Derived in chapter 3.
    """

    eigenvalue: float
    vector: torch.Tensor = field(repr=False)
    iterations: int
    converged: bool


def _power(apply: Callable[[torch.Tensor], torch.Tensor], v: torch.Tensor, num_iters: int,
           tol: float) -> tuple[float, torch.Tensor, int, bool]:
    lam = 0.0
    for it in range(1, num_iters + 1):
        w = apply(v)
        new = float(torch.dot(v, w))  # Rayleigh quotient (v is a unit vector)
        norm = float(torch.linalg.vector_norm(w))
        if norm == 0.0:
            return 0.0, v, it, True
        v = w / norm
        if it > 1 and abs(new - lam) <= tol * max(abs(new), 1e-12):
            return new, v, it, True
        lam = new
    return lam, v, num_iters, False


def sharpness(loss: torch.Tensor, params: Sequence[torch.Tensor], *, num_iters: int = 100,
              tol: float = 1e-6, seed: int = 0) -> SharpnessResult:
    """Largest eigenvalue of the Hessian of ``loss``, by power iteration on H v.

    Parameters
    ----------
    loss : torch.Tensor
        Scalar loss built from ``params`` (its graph is kept until the end).
    params : iterable of torch.Tensor
        Leaves that require grad.
    num_iters : int, optional
        Maximum power iterations per phase (default 100).
    tol : float, optional
        Stop when the Rayleigh quotient changes by less than ``tol`` relative.
    seed : int, optional
        Seed of the random (Gaussian) start vector.

    Returns
    -------
    SharpnessResult

    Notes
    -----
    Power iteration converges to the eigenvalue of largest *modulus*, at a
    rate set by the ratio of the two largest moduli. If that eigenvalue μ is
    negative, a second phase iterates on H − μI from the same random start
    vector (not from the first phase's vector, which is nearly orthogonal to
    λ_max's eigenvector), whose dominant eigenvalue is
    λ_max − μ ≥ 0, and returns λ_max. The estimate is a Rayleigh quotient, so
    it never exceeds the true λ_max (up to rounding). Limitation: when the two
    largest moduli belong to eigenvalues of opposite signs and (nearly) equal
    size, the first phase converges slowly or to a mixture; check such cases
    with a Lanczos solver (``scipy.sparse.linalg.eigsh`` on Hessian-vector
    products, as chapter 3 does). Derived in chapter 3.
    """
    params = _check_params(params)
    num_iters = check_int("num_iters", num_iters, low=1)
    tol = check_scalar("tol", tol, low=0.0)
    seed = check_int("seed", seed, low=0)
    grad = flat_grad(loss, params, create_graph=True)
    gen = torch_generator(seed, device="cpu")
    v = torch.randn(grad.numel(), generator=gen, dtype=torch.float64)
    v0 = (v / torch.linalg.vector_norm(v)).to(device=grad.device, dtype=grad.dtype)

    def apply(u: torch.Tensor) -> torch.Tensor:
        return _hvp_from_grad(grad, params, u).detach()

    lam, v, its, conv = _power(apply, v0, num_iters, tol)
    if lam < 0:
        # restart from the random vector: the first phase's result is (nearly) the
        # eigenvector of μ, which has almost no component along λ_max's eigenvector
        shift = lam
        lam2, v, its2, conv = _power(lambda u: apply(u) - shift * u, v0, num_iters, tol)
        lam, its = lam2 + shift, its + its2
    return SharpnessResult(float(lam), v, its, conv)


def gradient_norm_sq(loss: torch.Tensor, params: Sequence[torch.Tensor], *,
                     create_graph: bool = False) -> torch.Tensor:
    """‖∇L‖² as a scalar tensor (differentiable if ``create_graph``).

    Parameters
    ----------
    loss : torch.Tensor
        Scalar loss built from ``params``.
    params : iterable of torch.Tensor
        Leaves that require grad.
    create_graph : bool, optional
        Keep the graph so the result can be back-propagated (default False).

    Returns
    -------
    torch.Tensor
        A 0-d tensor.

    Notes
    -----
    ∇‖∇L‖² = 2 H ∇L. Derived in chapter 3.
    """
    g = flat_grad(loss, params, create_graph=create_graph)
    return torch.dot(g, g)


def egr_penalty(loss: torch.Tensor, params: Sequence[torch.Tensor], lr: float) -> torch.Tensor:
    """The explicit gradient-regularization penalty (γ/4) ‖∇L‖², differentiable.

    Parameters
    ----------
    loss : torch.Tensor
        Scalar loss built from ``params``.
    params : iterable of torch.Tensor
        Leaves that require grad.
    lr : float
        The learning rate γ ≥ 0 whose implicit regularization is imitated
        (Barrett & Dherin 2021 call the coefficient γ/4 the implicit one).

    Returns
    -------
    torch.Tensor
        A 0-d tensor with a graph: back-propagating it adds (γ/2) H ∇L to the
        parameters' ``.grad`` (double back-propagation).

    Notes
    -----
    ∇((γ/4)‖∇L‖²) = (γ/2) H ∇L, so gradient descent on L + (γ/4)‖∇L‖²
    follows the first-order modified field of gradient descent on L with
    learning rate γ. Derived in chapter 3.
    """
    lr = check_scalar("lr", lr, low=0.0)
    return 0.25 * lr * gradient_norm_sq(loss, params, create_graph=True)


@dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`train_full_batch`.

    Attributes
    ----------
    losses : list of float
        Training loss (without penalty) before each step, and after the last.
    steps : int
        Number of gradient steps taken.
    reached_target : bool
        Whether the loss reached ``target_loss`` (always False without one).
    diverged : bool
        Whether the loss became non-finite.

    Notes
    -----
    Derived in chapter 3.
    """

    losses: list[float]
    steps: int
    reached_target: bool
    diverged: bool


def train_full_batch(params: Sequence[torch.Tensor], loss_fn: LossClosure, lr: float, num_steps: int, *,
                     penalty_lr: float = 0.0, target_loss: float | None = None,
                     desc: str | None = None) -> TrainResult:
    """Full-batch gradient descent θ ← θ − γ ∇(L + (γ_reg/4)‖∇L‖²).

    Parameters
    ----------
    params : iterable of torch.Tensor
        The parameters to train (e.g. ``list(model.parameters())``).
    loss_fn : callable
        ``loss_fn()`` returns the full-batch training loss as a scalar tensor.
    lr : float
        Learning rate γ > 0.
    num_steps : int
        Maximum number of steps, ≥ 0.
    penalty_lr : float, optional
        γ_reg ≥ 0 of the explicit penalty (γ_reg/4)‖∇L‖² (default 0: plain GD).
    target_loss : float, optional
        Stop as soon as the (unpenalised) loss is ≤ this value.
    desc : str, optional
        Label of the progress bar.

    Returns
    -------
    TrainResult

    Raises
    ------
    TypeError, ValueError
        On a bad argument, naming it, and when the first ``loss_fn()`` is not a
        finite real scalar tensor (a non-finite loss later is divergence:
        ``diverged=True``).

    Notes
    -----
    Plain gradient descent, the same update as ``torch.optim.SGD`` without
    momentum, weight decay or dampening; with a penalty, each step costs one
    extra backward pass through the gradient's graph. Derived in chapter 3.
    """
    params = _check_params(params)
    check_callable("loss_fn", loss_fn)
    lr = check_scalar("lr", lr, low=0.0, low_inclusive=False)
    num_steps = check_int("num_steps", num_steps, low=0)
    penalty_lr = check_scalar("penalty_lr", penalty_lr, low=0.0)
    if target_loss is not None:
        target_loss = check_scalar("target_loss", target_loss)
    if desc is not None:
        check_str("desc", desc)
    losses: list[float] = []
    steps = 0
    reached = diverged = False
    for _ in progress(range(num_steps + 1), desc=desc):
        loss = loss_fn()
        if steps == 0:  # the first loss tells a bad closure from a run that diverges later
            check_tensor("the value returned by loss_fn", loss, dtype_kind="float")
            if loss.numel() != 1:
                raise ValueError(f"loss_fn must return a scalar tensor, got shape {tuple(loss.shape)}")
        value = float(loss.detach())
        losses.append(value)
        if not math.isfinite(value):
            diverged = True
            break
        if target_loss is not None and value <= target_loss:
            reached = True
            break
        if steps == num_steps:
            break
        if penalty_lr > 0.0:
            total = loss + egr_penalty(loss, params, penalty_lr)
            grads = torch.autograd.grad(total, params, allow_unused=True)
        else:
            grads = torch.autograd.grad(loss, params, allow_unused=True)
        with torch.no_grad():
            for p, g in zip(params, grads):
                if g is not None:
                    p.sub_(g, alpha=lr)
        steps += 1
    return TrainResult(losses, steps, reached, diverged)
