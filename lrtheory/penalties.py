"""Gradient penalties that other training procedures add implicitly (chapter 3).

Chapter 3 shows that a finite learning rate makes gradient descent follow,
to first order, the flow of L + (γ/4)‖∇L‖².  Three other procedures hide a
gradient penalty of the same kind, and this module gives each one's penalty
as a differentiable torch expression, so that the claim can be tested by
comparing gradients:

* **mini-batches** (Smith et al. 2021): an epoch of SGD over m batches
  L_1, …, L_m of the loss L = (1/m) Σ_k L_k, averaged over the batch orders,
  follows the flow of L + (γ/4)‖∇L‖² + (γ/4m) Σ_k ‖∇L_k − ∇L‖²;
  :func:`sgd_noise_penalty` is the last term, and :func:`sgd_drift` measures
  the drift it predicts on a network;
* **adversarial training** on inputs perturbed by ε ∇_x ℓ (held fixed while
  the parameters move) follows, to first order in ε, the gradient of
  ℓ + (ε/2)‖∇_x ℓ‖²; :func:`adversarial_inputs` makes the inputs and
  :func:`input_gradient_penalty` the penalty;
* **Flooding** (Ishida et al. 2020) descends ``abs(L − b) + b``
  (:func:`flooded_loss`); once the loss oscillates around the level b, a
  descent step followed by an ascent step moves by −γ²∇²L ∇L, the step of
  the pure penalty (γ/4)‖∇L‖² over the time 2γ of the two steps (Karakida et
  al. 2023): :func:`lrtheory.curvature.egr_penalty` with ``lr = γ``.

Derived in chapter 3; torch is imported inside the functions only.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ._validation import check_array, check_callable, check_int, check_scalar

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["sgd_noise_penalty", "SgdDrift", "sgd_drift", "flooded_loss", "adversarial_inputs",
           "input_gradient_penalty"]


def sgd_noise_penalty(batch_losses: Sequence["torch.Tensor"], params: Sequence["torch.Tensor"],
                      lr: float) -> "torch.Tensor":
    """The mini-batch term (γ/4m) Σ_k ‖∇L_k − ∇L‖² of SGD's modified loss, differentiable.

    Parameters
    ----------
    batch_losses : sequence of torch.Tensor
        The m ≥ 1 scalar batch losses L_k (each the mean over its batch), built
        from ``params``; the full loss is their mean L = (1/m) Σ_k L_k.
    params : iterable of torch.Tensor
        Leaves that require grad.
    lr : float
        The learning rate γ ≥ 0 of the SGD steps.

    Returns
    -------
    torch.Tensor
        A 0-d tensor with a graph (double back-propagation).

    Raises
    ------
    TypeError, ValueError
        For bad arguments, naming the argument.

    Notes
    -----
    Over one epoch of m steps θ ← θ − γ ∇L_k(θ), averaged over the orders of
    the batches, the mean iterate follows to second order in γ the flow (for
    the time mγ) of

    .. math::

        \\widetilde L_{\\rm SGD} = L + \\frac{\\gamma}{4m}\\sum_k \\lVert\\nabla L_k\\rVert^2
        = L + \\frac{\\gamma}{4}\\lVert\\nabla L\\rVert^2
          + \\frac{\\gamma}{4m}\\sum_k \\lVert\\nabla L_k - \\nabla L\\rVert^2 ,

    because the mean of the ∇L_k is ∇L (Smith, Dherin, Barrett & De 2021).
    With one batch the term vanishes. Derived in chapter 3.
    """
    import torch

    from .curvature import _check_loss, _check_params, flat_grad

    if isinstance(batch_losses, torch.Tensor) or not isinstance(batch_losses, Sequence) or not batch_losses:
        raise TypeError("batch_losses must be a non-empty sequence of scalar tensors")
    losses = [_check_loss(b, f"batch_losses[{i}]") for i, b in enumerate(batch_losses)]
    params = _check_params(params)
    lr = check_scalar("lr", lr, low=0.0)
    grads = [flat_grad(b, params, create_graph=True) for b in losses]
    mean = torch.stack(grads).mean(dim=0)
    m = len(grads)
    return (0.25 * lr / m) * sum(torch.dot(g - mean, g - mean) for g in grads)


@dataclass(frozen=True)
class SgdDrift:
    """Outcome of :func:`sgd_drift`; arrays over (rates, seeds).

    Attributes
    ----------
    lrs : numpy.ndarray, shape (G,)
        The learning rates γ.
    num_batches : int
        The number m of batches of the epoch.
    seeds : tuple of int
        The seeds (start points).
    measured : numpy.ndarray, shape (G, S)
        ‖D‖ with D = (mean over all m! batch orders of the SGD iterate after one
        epoch) − (the GD iterate after m full-batch steps).
    predicted : numpy.ndarray, shape (G, S)
        ‖D̂‖ with D̂ = −(γ²/4) ∇ Σ_k ‖∇L_k − ∇L‖² at the start point.
    rel_error : numpy.ndarray, shape (G, S)
        ‖D − D̂‖ / ‖D̂‖.
    cosine : numpy.ndarray, shape (G, S)
        cos(D, D̂).
    displacement : numpy.ndarray, shape (G, S)
        ‖mean SGD iterate − start‖: the scale of the epoch's whole move.

    Notes
    -----
    Derived in chapter 3.
    """

    lrs: np.ndarray
    num_batches: int
    seeds: tuple[int, ...]
    measured: np.ndarray
    predicted: np.ndarray
    rel_error: np.ndarray
    cosine: np.ndarray
    displacement: np.ndarray


def sgd_drift(make_model: Callable[[int], Any], X: "torch.Tensor", y: "torch.Tensor", *, seeds: Sequence[int],
              lrs: Sequence[float], num_batches: int, partition_seed: int = 0) -> SgdDrift:
    """Measure the drift of the mean SGD iterate away from GD after one epoch, against its prediction.

    Parameters
    ----------
    make_model : callable
        ``make_model(seed)`` returns a seeded classifier (an ``nn.Sequential`` of
        linear layers and elementwise activations) on ``X``'s device and dtype.
    X, y : torch.Tensor
        Training data, shapes ``(n, d)`` and ``(n,)``; the loss is the mean cross-entropy.
    seeds : sequence of int
        Start points (initial weights), at least one.
    lrs : sequence of float
        Learning rates γ > 0.
    num_batches : int
        m, from 2 to 5: the examples are split once, by ``partition_seed``, into m
        batches of ⌊n/m⌋ (the rest is left out, and L is the mean over the batches).
    partition_seed : int, optional
        Seed of the partition.

    Returns
    -------
    SgdDrift

    Raises
    ------
    TypeError, ValueError
        For bad arguments, naming the argument.

    Notes
    -----
    Every (rate, order, seed) is one lane of
    :func:`lrtheory.lane_dynamics.gd_lanes` with that order's batches; the
    average over all m! orders is exact, not a sample. The prediction
    D̂ = −mγ ∇((γ/4m) Σ_k ‖∇L_k − ∇L‖²) is the SGD-specific part of the
    modified flow over the epoch's time mγ (:func:`sgd_noise_penalty`); the
    theory says ‖D − D̂‖/‖D̂‖ = O(γ). Derived in chapter 3.
    """
    import torch

    from .batched import cross_entropy_losses
    from .lane_dynamics import gd_lanes
    from .lanes import _check_models, flatten_lanes, repeat_lanes, stack_models
    from .protocol import check_seeds

    check_callable("make_model", make_model)
    seeds = check_seeds("seeds", seeds)
    gam = check_array("lrs", lrs, ndim=1)
    if gam.size == 0 or np.any(gam <= 0):
        raise ValueError("lrs must be a non-empty list of positive rates")
    m = check_int("num_batches", num_batches, low=2, high=5)
    partition_seed = check_int("partition_seed", partition_seed, low=0)
    from ._validation import check_tensor

    check_tensor("X", X, ndim=2, dtype_kind="float", nonempty=True)
    check_tensor("y", y, shape=(X.shape[0],), dtype_kind="int", finite=False, nonnegative=True)
    if X.shape[0] < m:
        raise ValueError(f"X must hold at least num_batches = {m} examples")
    B = X.shape[0] // m
    gen = torch.Generator().manual_seed(partition_seed)
    parts = torch.randperm(X.shape[0], generator=gen)[:m * B].reshape(m, B).to(X.device)
    used = parts.reshape(-1)
    Xu, yu = X[used], y[used]
    local = torch.arange(m * B, device=X.device).reshape(m, B)      # batch k = rows k*B..(k+1)*B-1 of Xu
    orders = list(itertools.permutations(range(m)))
    R, S, G = len(orders), len(seeds), gam.size
    models = _check_models("make_model's models", [make_model(s) for s in seeds])
    template, P = models[0], stack_models(models)
    order_batches = torch.stack([local[list(o)] for o in orders])               # (R, m, B)
    batches = order_batches.repeat_interleave(S, dim=0).repeat(G, 1, 1)          # lane (g*R + r)*S + s
    sgd = gd_lanes(template, repeat_lanes(P, G * R), Xu, yu, lr=np.repeat(gam, R * S), num_steps=m,
                   batches=batches)
    gd = gd_lanes(template, repeat_lanes(P, G), Xu, yu, lr=np.repeat(gam, S), num_steps=m)
    f0 = flatten_lanes(template, P).double()
    mean_sgd = flatten_lanes(template, sgd.params).double().reshape(G, R, S, -1).mean(dim=1)
    D = mean_sgd - flatten_lanes(template, gd.params).double().reshape(G, S, -1)
    grads = []
    for net in models:
        ps = list(net.parameters())
        bl = [cross_entropy_losses(net(Xu[local[k]]), yu[local[k]]).mean() for k in range(m)]
        g = torch.autograd.grad(sgd_noise_penalty(bl, ps, 1.0), ps)
        grads.append(torch.cat([gi.reshape(-1) for gi in g]).double())
    gp = torch.stack(grads)                                                        # grad of (1/4m) sum_k
    scale = torch.as_tensor(-m * gam**2, dtype=torch.float64, device=gp.device)
    pred = scale[:, None, None] * gp[None]
    with torch.no_grad():
        nD = torch.linalg.vector_norm(D, dim=2)
        nP = torch.linalg.vector_norm(pred, dim=2)
        rel = torch.linalg.vector_norm(D - pred, dim=2) / nP
        cos = (D * pred).sum(dim=2) / (nD * nP)
        disp = torch.linalg.vector_norm(mean_sgd - f0[None], dim=2)
    to = lambda t: t.cpu().numpy()
    return SgdDrift(gam, m, seeds, to(nD), to(nP), to(rel), to(cos), to(disp))


def flooded_loss(loss: "torch.Tensor", level: float) -> "torch.Tensor":
    """Flooding's loss ``abs(L − b) + b`` (Ishida et al. 2020): descent above the level b, ascent below.

    Parameters
    ----------
    loss : torch.Tensor
        Scalar training loss L.
    level : float
        The flood level b ≥ 0.

    Returns
    -------
    torch.Tensor
        A 0-d tensor; its gradient is sign(L − b) ∇L.

    Raises
    ------
    TypeError, ValueError
        For a non-scalar loss or a bad level.

    Notes
    -----
    When the loss oscillates around b, a descent step from θ followed by an
    ascent step moves to θ − γ² ∇²L(θ) ∇L(θ) + O(γ³): the two steps of
    Flooding are one gradient step, of size γ, on (γ/2)‖∇L‖², with the loss
    itself gone (Karakida et al. 2023 read this as a finite-difference form
    of gradient regularisation). Derived in chapter 3.
    """
    from ._validation import check_tensor

    check_tensor("loss", loss, dtype_kind="float")
    if loss.numel() != 1:
        raise ValueError(f"loss must be a scalar tensor, got shape {tuple(loss.shape)}")
    level = check_scalar("level", level, low=0.0)
    return (loss - level).abs() + level


def _check_example_loss(example_loss: object, X: object) -> "torch.Tensor":
    from ._validation import check_tensor

    check_callable("example_loss", example_loss)
    check_tensor("X", X, dtype_kind="float", nonempty=True)
    if X.dim() < 1:
        raise ValueError("X must hold examples along dimension 0")
    return X


def _example_losses_of(example_loss: Callable, Xr: "torch.Tensor") -> "torch.Tensor":
    import torch

    losses = example_loss(Xr)
    if not isinstance(losses, torch.Tensor) or tuple(losses.shape) != (Xr.shape[0],):
        raise ValueError(f"example_loss(X) must return one loss per example of X, shape ({Xr.shape[0]},)")
    if not bool(torch.isfinite(losses.detach()).all()):
        raise ValueError("example_loss(X) returned non-finite losses")
    return losses


def adversarial_inputs(example_loss: Callable[["torch.Tensor"], "torch.Tensor"], X: "torch.Tensor",
                       eps: float) -> "torch.Tensor":
    """Inputs moved up their own loss gradient, x + ε ∇_x ℓ(x), detached (the fast-gradient perturbation).

    Parameters
    ----------
    example_loss : callable
        ``example_loss(X)`` returns the per-example losses ℓ_i, shape ``(n,)``.
    X : torch.Tensor, shape (n, ...)
        Inputs.
    eps : float
        Step ε ≥ 0 of the perturbation.

    Returns
    -------
    torch.Tensor
        ``X + eps * grad``, without a graph: adversarial training treats the
        perturbed inputs as data.

    Raises
    ------
    TypeError, ValueError
        For bad arguments, or an ``example_loss`` that does not return one loss per example.

    Notes
    -----
    This is the gradient (not the sign-of-gradient) variant of the fast
    gradient method. ∇_θ ℓ(x + ε c) with c = ∇_x ℓ held fixed equals
    ∇_θ[ℓ + (ε/2)‖∇_x ℓ‖²] + O(ε²) (:func:`input_gradient_penalty`).
    Derived in chapter 3.
    """
    import torch

    X = _check_example_loss(example_loss, X)
    eps = check_scalar("eps", eps, low=0.0)
    Xr = X.detach().clone().requires_grad_(True)
    losses = _example_losses_of(example_loss, Xr)
    (gx,) = torch.autograd.grad(losses.sum(), Xr)
    return (X.detach() + eps * gx).detach()


def input_gradient_penalty(example_loss: Callable[["torch.Tensor"], "torch.Tensor"], X: "torch.Tensor",
                           eps: float) -> "torch.Tensor":
    """The penalty (ε/2) · mean_i ‖∇_{x_i} ℓ_i‖² that adversarial training adds to first order, differentiable.

    Parameters
    ----------
    example_loss : callable
        ``example_loss(X)`` returns the per-example losses ℓ_i, shape ``(n,)``,
        built from the model's parameters.
    X : torch.Tensor, shape (n, ...)
        Inputs.
    eps : float
        The perturbation size ε ≥ 0 of :func:`adversarial_inputs`.

    Returns
    -------
    torch.Tensor
        A 0-d tensor whose gradient with respect to the parameters is the
        first-order difference between adversarial and plain training.

    Raises
    ------
    TypeError, ValueError
        For bad arguments.

    Notes
    -----
    Since each ℓ_i depends only on its own x_i, ∇_X Σ_i ℓ_i stacks the
    per-example input gradients. Derived in chapter 3.
    """
    import torch

    X = _check_example_loss(example_loss, X)
    eps = check_scalar("eps", eps, low=0.0)
    Xr = X.detach().clone().requires_grad_(True)
    losses = _example_losses_of(example_loss, Xr)
    (gx,) = torch.autograd.grad(losses.sum(), Xr, create_graph=True)
    return 0.5 * eps * (gx.reshape(X.shape[0], -1) ** 2).sum(dim=1).mean()
