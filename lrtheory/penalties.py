"""Gradient penalties that other training procedures add implicitly (chapter 3).

Chapter 3 shows that a finite learning rate makes gradient descent follow,
to first order, the flow of L + (γ/4)‖∇L‖².  Three other procedures hide a
gradient penalty of the same kind, and this module gives each one's penalty
as a differentiable torch expression, so that the claim can be tested by
comparing gradients:

* **mini-batches** (Smith et al. 2021): an epoch of SGD over m batches
  L_1, …, L_m of the loss L = (1/m) Σ_k L_k, averaged over the batch orders,
  follows the flow of L + (γ/4)‖∇L‖² + (γ/4m) Σ_k ‖∇L_k − ∇L‖²;
  :func:`sgd_noise_penalty` is the last term;
* **adversarial training** on inputs perturbed by ε ∇_x ℓ (held fixed while
  the parameters move) follows, to first order in ε, the gradient of
  ℓ + (ε/2)‖∇_x ℓ‖²; :func:`adversarial_inputs` makes the inputs and
  :func:`input_gradient_penalty` the penalty;
* **Flooding** (Ishida et al. 2020) descends |L − b| + b
  (:func:`flooded_loss`); once the loss oscillates around the level b, a
  descent step followed by an ascent step moves by −γ²∇²L ∇L, the step of
  the pure penalty (γ/4)‖∇L‖² over the time 2γ of the two steps (Karakida et
  al. 2023): :func:`lrtheory.curvature.egr_penalty` with ``lr = γ``.

Derived in chapter 3; torch is imported inside the functions only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

from ._validation import check_callable, check_scalar

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["sgd_noise_penalty", "flooded_loss", "adversarial_inputs", "input_gradient_penalty"]


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
    losses = [_check_loss(b) for b in batch_losses]
    params = _check_params(params)
    lr = check_scalar("lr", lr, low=0.0)
    grads = [flat_grad(b, params, create_graph=True) for b in losses]
    mean = torch.stack(grads).mean(dim=0)
    m = len(grads)
    return (0.25 * lr / m) * sum(torch.dot(g - mean, g - mean) for g in grads)


def flooded_loss(loss: "torch.Tensor", level: float) -> "torch.Tensor":
    """Flooding's loss |L − b| + b (Ishida et al. 2020): descent above the level b, ascent below.

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
    import torch

    if not isinstance(loss, torch.Tensor):
        raise TypeError(f"loss must be a torch.Tensor, got {type(loss).__name__}")
    if loss.numel() != 1:
        raise ValueError(f"loss must be a scalar tensor, got shape {tuple(loss.shape)}")
    level = check_scalar("level", level, low=0.0)
    return (loss - level).abs() + level


def _check_example_loss(example_loss: object, X: object) -> "torch.Tensor":
    import torch

    check_callable("example_loss", example_loss)
    if not isinstance(X, torch.Tensor) or not X.is_floating_point() or X.dim() < 1 or X.shape[0] == 0:
        raise TypeError("X must be a non-empty floating torch.Tensor with examples along dimension 0")
    return X


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
    losses = example_loss(Xr)
    if not isinstance(losses, torch.Tensor) or tuple(losses.shape) != (X.shape[0],):
        raise ValueError(f"example_loss must return a tensor of shape ({X.shape[0]},)")
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
    losses = example_loss(Xr)
    if not isinstance(losses, torch.Tensor) or tuple(losses.shape) != (X.shape[0],):
        raise ValueError(f"example_loss must return a tensor of shape ({X.shape[0]},)")
    (gx,) = torch.autograd.grad(losses.sum(), Xr, create_graph=True)
    return 0.5 * eps * (gx.reshape(X.shape[0], -1) ** 2).sum(dim=1).mean()
