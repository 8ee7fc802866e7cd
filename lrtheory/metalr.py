"""Training runs that record learned step sizes and the agreement of consecutive steps (torch).

:func:`train_classifier` trains a small classifier (multinomial logistic
regression or a one-hidden-layer MLP) with mini-batches on a
:class:`~lrtheory.datasets.TensorSplit` and records, at every step, the
mini-batch loss, a summary of the optimiser's current step sizes (for the
optimisers that expose ``effective_lrs()``), and three cosines between flat
parameter-space vectors:

* ``grad_cos``: cos(g_{t−1}, g_t), consecutive gradients;
* ``update_cos``: cos(Δθ_{t−1}, Δθ_t), consecutive updates;
* ``signal_cos``: cos(−Δθ_{t−1}, g_t), previous update direction against the
  new gradient: the sign of the hypergradient signal that a step-size rule
  of chapter 4 multiplies into its step size.

Derived in chapter 4.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

import numpy as np

from ._validation import (
    check_callable,
    check_choice,
    check_float_dtype,
    check_instance,
    check_int,
    check_scalar,
    check_tensor,
)

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from .datasets import TensorSplit

__all__ = ["MODEL_KINDS", "TrainHistory", "make_classifier", "train_classifier", "cosine"]

MODEL_KINDS: tuple[str, ...] = ("logistic", "mlp")
"""Models accepted by :func:`make_classifier`."""


@dataclass
class TrainHistory:
    """What :func:`train_classifier` records (numpy arrays of length ``num_steps``; chapter 4).

    Attributes
    ----------
    loss : numpy.ndarray
        Mini-batch loss before each step (``nan`` after a divergence).
    lr_mean, lr_median : numpy.ndarray
        Mean and median of the optimiser's step sizes after each step (``nan``
        if it does not expose ``effective_lrs()``; the constant ``lr`` of
        group 0 for torch's own optimisers).
    grad_cos, update_cos, signal_cos : numpy.ndarray
        The cosines described in the module docstring (``nan`` at step 0).
    final_train_loss, test_accuracy : float
        Full-batch training loss and test accuracy after the run (``nan`` if
        the loss became non-finite; measured, and flagged by ``diverged``, if
        it only grew past the divergence threshold).
    diverged : bool
        The protocol's rule (:func:`lrtheory.protocol.diverged`): some
        recorded loss is non-finite or exceeds ``divergence_factor`` times the
        initial full-batch training loss.
    initial_train_loss : float
        Full-batch training loss before the first step.
    """

    loss: np.ndarray
    lr_mean: np.ndarray
    lr_median: np.ndarray
    grad_cos: np.ndarray
    update_cos: np.ndarray
    signal_cos: np.ndarray
    final_train_loss: float
    test_accuracy: float
    diverged: bool
    initial_train_loss: float = math.nan
    extra: dict[str, Any] = field(default_factory=dict)
    """Room for a caller's own records (unused by :func:`train_classifier`). Derived in chapter 4."""


def cosine(a: "torch.Tensor", b: "torch.Tensor") -> float:
    """Cosine of the angle between two flat tensors (``nan`` if either is zero or not finite).

    Parameters
    ----------
    a, b : torch.Tensor
        Same number of elements.

    Returns
    -------
    float

    Notes
    -----
    cos(a, b) = ⟨a, b⟩ / (‖a‖ ‖b‖). Derived in chapter 4.
    """
    check_tensor("a", a, finite=False, nonempty=True)  # non-finite entries give NaN (documented)
    check_tensor("b", b, finite=False, nonempty=True)
    if a.numel() != b.numel():
        raise ValueError(f"a and b must have the same number of elements, got {a.numel()} and {b.numel()}")
    a = a if a.is_floating_point() else a.double()
    b = b if b.is_floating_point() else b.double()
    if a.dtype != b.dtype:
        a, b = a.double(), b.double()
    na, nb = float(a.norm()), float(b.norm())
    if na == 0.0 or nb == 0.0 or not (math.isfinite(na) and math.isfinite(nb)):
        return math.nan
    return float((a.reshape(-1) @ b.reshape(-1)) / (na * nb))


def make_classifier(kind: str, num_features: int, num_classes: int, *, seed: int, hidden: int = 32,
                    device: "str | torch.device | None" = None, dtype: "torch.dtype | None" = None
                    ) -> "torch.nn.Module":
    """Build a classifier with weights drawn from a private, seeded generator.

    Parameters
    ----------
    kind : {"logistic", "mlp"}
        Multinomial logistic regression, or Linear-tanh-Linear with ``hidden`` units.
    num_features, num_classes : int
        Input and output sizes.
    seed : int
        Seed of the initial weights (torch's global generator is left untouched).
    hidden : int, optional
        Width of the MLP's hidden layer.
    device, dtype : optional
        Where and in which precision to put the model (default: automatic
        device, float32).

    Returns
    -------
    torch.nn.Module

    Notes
    -----
    The default ``torch.nn.Linear`` initialisation, drawn inside
    :func:`torch.random.fork_rng`. Derived in chapter 4.
    """
    import torch

    from .experiments import get_device

    kind = check_choice("kind", kind, MODEL_KINDS)
    num_features = check_int("num_features", num_features, low=1)
    num_classes = check_int("num_classes", num_classes, low=2)
    hidden = check_int("hidden", hidden, low=1)
    seed = check_int("seed", seed, low=0)
    dtype = check_float_dtype("dtype", dtype, torch.float32)
    dev = get_device(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if kind == "logistic":
            model: torch.nn.Module = torch.nn.Linear(num_features, num_classes)
        else:
            model = torch.nn.Sequential(torch.nn.Linear(num_features, hidden), torch.nn.Tanh(),
                                        torch.nn.Linear(hidden, num_classes))
    return model.to(device=dev, dtype=dtype)


def _flat(tensors: Iterable["torch.Tensor"]) -> "torch.Tensor":
    import torch

    return torch.cat([t.reshape(-1) for t in tensors])


def train_classifier(
    data: "TensorSplit",
    kind: str,
    make_optimizer: Callable[[list["torch.Tensor"]], "torch.optim.Optimizer"],
    num_steps: int,
    *,
    batch_size: int = 64,
    seed: int,
    hidden: int = 32,
    divergence_factor: float = 10.0,
) -> TrainHistory:
    """Train a classifier with mini-batch steps and record step sizes and step agreement.

    Parameters
    ----------
    data : TensorSplit
        From :func:`lrtheory.datasets.load_dataset`; the model goes to its device.
    kind : {"logistic", "mlp"}
        The model (see :func:`make_classifier`).
    make_optimizer : callable
        Called with the list of the model's parameters; returns the optimiser.
    num_steps : int
        Number of optimiser steps.
    batch_size : int, optional
        Mini-batch size (batches are drawn by reshuffling each epoch).
    seed : int
        Seed of the initial weights and of the batch order.
    hidden : int, optional
        Hidden width of the MLP.
    divergence_factor : float, optional
        The protocol's divergence multiple (default 10): a run whose recorded
        mini-batch or final loss exceeds it times the initial loss has diverged.

    Returns
    -------
    TrainHistory
        The run stops recording (and fills ``nan``) once the loss is non-finite.

    Notes
    -----
    The loss is the mean cross-entropy of the mini-batch. The update cosines
    use the update actually applied, Δθ = θ_after − θ_before; when a learned
    learning rate becomes tiny, low-precision parameters round the update
    away, so use float64 data for long annealing runs. Derived in chapter 4.
    """
    import torch
    import torch.nn.functional as F

    from .datasets import TensorSplit
    from .experiments import torch_generator
    from .protocol import diverged as protocol_diverged

    check_instance("data", data, TensorSplit)
    num_steps = check_int("num_steps", num_steps, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    check_callable("make_optimizer", make_optimizer)
    divergence_factor = check_scalar("divergence_factor", divergence_factor, low=1.0, low_inclusive=False)
    X, y = data.X_train, data.y_train
    model = make_classifier(kind, data.num_features, data.num_classes, seed=seed, hidden=hidden,
                            device=X.device, dtype=X.dtype)
    params = [p for p in model.parameters()]
    opt = check_instance("the value returned by make_optimizer", make_optimizer(params), torch.optim.Optimizer)
    with torch.no_grad():
        initial_loss = float(F.cross_entropy(model(X), y))
    gen = torch_generator(seed, device="cpu")
    n = X.shape[0]
    rec = {k: np.full(num_steps, np.nan) for k in
           ("loss", "lr_mean", "lr_median", "grad_cos", "update_cos", "signal_cos")}
    order = torch.randperm(n, generator=gen)
    pos = 0
    prev_grad = prev_update = None
    diverged = False
    for t in range(num_steps):
        if pos + batch_size > n:
            order, pos = torch.randperm(n, generator=gen), 0
        idx = order[pos:pos + batch_size].to(X.device)
        pos += batch_size
        opt.zero_grad()
        loss = F.cross_entropy(model(X[idx]), y[idx])
        if not torch.isfinite(loss):
            diverged = True
            break
        loss.backward()
        grad = _flat(p.grad for p in params).detach().clone()
        before = _flat(p.detach() for p in params).clone()
        opt.step()
        update = _flat(p.detach() for p in params) - before
        rec["loss"][t] = float(loss.detach())
        if prev_grad is not None:
            rec["grad_cos"][t] = cosine(prev_grad, grad)
            rec["signal_cos"][t] = cosine(-prev_update, grad)
            rec["update_cos"][t] = cosine(prev_update, update)
        prev_grad, prev_update = grad, update
        lrs = _current_lrs(opt)
        if lrs is not None:
            rec["lr_mean"][t] = float(lrs.mean())
            rec["lr_median"][t] = float(lrs.median())
        if not torch.isfinite(update).all():
            diverged = True
            break
    with torch.no_grad():
        if diverged:
            final_loss, acc = math.nan, float("nan")
        else:
            final_loss = float(F.cross_entropy(model(X), y))
            acc = float((model(data.X_test).argmax(dim=1) == data.y_test).double().mean())
        if not math.isfinite(final_loss):
            diverged = True
            final_loss = math.nan
    if not diverged and math.isfinite(initial_loss) and initial_loss > 0:
        recorded = rec["loss"][np.isfinite(rec["loss"])]
        diverged = bool(protocol_diverged(np.concatenate([[initial_loss], recorded, [final_loss]]),
                                          factor=divergence_factor))
    return TrainHistory(final_train_loss=final_loss, test_accuracy=acc, diverged=diverged,
                        initial_train_loss=initial_loss, **rec)


def _current_lrs(opt: Any) -> "torch.Tensor | None":
    import torch

    if hasattr(opt, "effective_lrs"):
        lrs = [t.reshape(-1).double().cpu() for t in opt.effective_lrs() if t.numel()]
        return torch.cat(lrs) if lrs else None
    return torch.tensor([float(opt.param_groups[0]["lr"])], dtype=torch.float64)
