"""The single-seed SimSiam training loop (:func:`train_ssl`) and its record.

:func:`train_ssl` trains one :class:`lrtheory.ssl.SimSiam` with SGD on two
augmented views per image, with the switches of :mod:`lrtheory.ssl`; it records
gradient norms of the predictor and the encoder and an eval-mode collapse
metric.  Many seeds at once: :func:`lrtheory.ssl_train.train_stacked`.

Derived in chapter 5.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ._validation import check_bool, check_choice, check_instance, check_int, check_scalar, check_str, check_tensor
from .experiments import get_device, progress, torch_generator
from .ssl import OBJECTIVES, SimSiam, collapse_std, mean_target_loss, simsiam_loss
from .ssl_data import augment, augmentation_mean

__all__ = ["grad_norm", "TrainHistory", "train_ssl"]


def grad_norm(params: list[nn.Parameter]) -> float:
    """Euclidean norm of the concatenated gradients of ``params`` (0 if none has one)."""
    if isinstance(params, (str, bytes, torch.Tensor)) or not hasattr(params, "__iter__"):
        raise TypeError(f"params must be a list of tensors, got {type(params).__name__}")
    params = list(params)
    for p in params:
        check_instance("params", p, torch.Tensor, "list of tensors")
    sq = [float(p.grad.detach().double().pow(2).sum()) for p in params if p.grad is not None]
    return float(np.sqrt(sum(sq)))


@dataclass
class TrainHistory:
    """Per-step record of :func:`train_ssl`.

    ``grad_predictor``/``grad_encoder`` are gradient norms and
    ``rel_grad_*`` the same divided by the parameter norm (the relative speed
    ‖Δw‖/‖w‖ per unit learning rate, ignoring momentum and weight decay).
    ``collapse`` is measured on the training batch in train mode, where the
    projector's batch normalisation rescales every channel and so hides a
    collapse; ``eval_collapse`` (at the steps ``eval_step``) is measured in eval
    mode, on fixed clean images, and is the metric to read.
    """

    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    collapse: list[float] = field(default_factory=list)
    grad_predictor: list[float] = field(default_factory=list)
    grad_encoder: list[float] = field(default_factory=list)
    rel_grad_predictor: list[float] = field(default_factory=list)
    rel_grad_encoder: list[float] = field(default_factory=list)
    eval_step: list[int] = field(default_factory=list)
    eval_collapse: list[float] = field(default_factory=list)

    def as_arrays(self) -> dict[str, np.ndarray]:
        """The record as a dict of numpy arrays."""
        return {k: np.asarray(v) for k, v in self.__dict__.items()}


def _param_norm(params: list[nn.Parameter]) -> float:
    return float(np.sqrt(sum(float(p.detach().double().pow(2).sum()) for p in params)))


def train_ssl(
    model: SimSiam,
    images: torch.Tensor,
    *,
    num_steps: int,
    seed: int,
    objective: str = "simsiam",
    stop_gradient: bool = True,
    batch_size: int = 256,
    lr: float = 0.05,
    momentum: float = 0.9,
    weight_decay: float = 1e-4,
    num_mean_samples: int = 16,
    augment_kwargs: dict[str, Any] | None = None,
    device: Any = None,
    eval_every: int = 50,
    eval_images: torch.Tensor | None = None,
    desc: str | None = None,
) -> TrainHistory:
    """Train ``model`` self-supervised on ``images`` with SGD; return the history.

    Parameters
    ----------
    model : SimSiam
        Trained in place (moved to ``device``).
    images : torch.Tensor, shape (n, 1, 8, 8)
        Unlabelled training images.
    num_steps : int
        Number of SGD steps (mini-batches drawn with replacement of batches:
        a fresh random permutation each epoch).
    seed : int
        Seeds the batch order and the augmentations.
    objective : {"simsiam", "mean_target"}, optional
        SimSiam's symmetric loss (:func:`simsiam_loss`) or the article's
        proposal (:func:`mean_target_loss`).
    stop_gradient : bool, optional
        For ``"simsiam"``: detach the targets (default).  For
        ``"mean_target"``: detach F(x̄) (pass ``False`` for the article's form).
    batch_size : int, optional
    lr, momentum, weight_decay : float, optional
        Constant-step SGD (:class:`torch.optim.SGD`) on every trainable
        parameter.
    num_mean_samples : int, optional
        Views averaged per image to estimate x̄ (``"mean_target"`` only).
    augment_kwargs : dict, optional
        Passed on to :func:`lrtheory.ssl_data.augment`.
    device : str, torch.device or None, optional
        ``None``: automatic (CUDA when available).
    eval_every : int, optional
        Record ``eval_collapse`` every this many steps and after the last.
    eval_images : torch.Tensor, optional
        Clean images for ``eval_collapse`` (default: the first 512 of ``images``).
    desc : str, optional
        Label of the progress bar.

    Returns
    -------
    TrainHistory
        One entry per step.  ``collapse`` is :func:`collapse_std` of the
        batch's projections z.

    Notes
    -----
    Derived in chapter 5.
    """
    if not isinstance(model, SimSiam):
        raise TypeError(f"model must be a SimSiam, got {type(model).__name__}")
    check_tensor("images", images, dtype_kind="float", nonempty=True)
    if images.ndim != 4:
        raise ValueError("images must be a tensor of shape (n, 1, H, W)")
    stop_gradient = check_bool("stop_gradient", stop_gradient)
    if augment_kwargs is not None and not isinstance(augment_kwargs, dict):
        raise TypeError(f"augment_kwargs must be a dict, got {type(augment_kwargs).__name__}")
    if eval_images is not None:
        check_tensor("eval_images", eval_images, dtype_kind="float")
        if eval_images.ndim != 4 or eval_images.shape[1:] != images.shape[1:] or eval_images.shape[0] < 2:
            raise ValueError(f"eval_images must be at least 2 images shaped like images, {tuple(images.shape[1:])}, "
                             f"got {tuple(eval_images.shape)}")
    if desc is not None:
        check_str("desc", desc)
    num_steps = check_int("num_steps", num_steps, low=0)
    seed = check_int("seed", seed, low=0)
    objective = check_choice("objective", objective, OBJECTIVES)
    batch_size = check_int("batch_size", batch_size, low=2)
    lr = check_scalar("lr", lr, low=0.0, low_inclusive=False)
    momentum = check_scalar("momentum", momentum, low=0.0, high=1.0, high_inclusive=False)
    weight_decay = check_scalar("weight_decay", weight_decay, low=0.0)
    num_mean_samples = check_int("num_mean_samples", num_mean_samples, low=1)
    eval_every = check_int("eval_every", eval_every, low=1)
    aug = dict(augment_kwargs or {})
    dev = get_device(device)
    model.to(dev)
    x_all = images.to(dev)
    n = x_all.shape[0]
    batch_size = min(batch_size, n)
    gen = torch_generator(seed, "cpu")
    x_eval = (images[:512] if eval_images is None else eval_images).to(dev)
    x_mean = None
    if objective == "mean_target":
        x_mean = augmentation_mean(x_all.cpu(), gen, num_mean_samples, **aug).to(dev)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    enc, pred = model.encoder_parameters(), model.predictor_parameters()
    hist = TrainHistory()
    model.train()
    order = torch.randperm(n, generator=gen)
    pos = 0

    def record_eval(step: int) -> None:
        model.eval()
        with torch.no_grad():
            hist.eval_step.append(step)
            hist.eval_collapse.append(collapse_std(model.encode(x_eval)))
        model.train()

    for step in progress(range(num_steps), desc=desc or objective, total=num_steps):
        if step % eval_every == 0:
            record_eval(step)
        if pos + batch_size > n:
            order, pos = torch.randperm(n, generator=gen), 0
        idx = order[pos:pos + batch_size].to(dev)
        pos += batch_size
        xb = x_all[idx]
        if objective == "simsiam":
            x1 = augment(xb.cpu(), gen, **aug).to(dev)
            x2 = augment(xb.cpu(), gen, **aug).to(dev)
            loss, z = simsiam_loss(model, x1, x2, stop_gradient=stop_gradient)
        else:
            assert x_mean is not None
            xv = augment(xb.cpu(), gen, **aug).to(dev)
            loss, z = mean_target_loss(model, xv, x_mean[idx], stop_gradient=stop_gradient)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        g_enc, g_pred = grad_norm(enc), grad_norm(pred)
        hist.step.append(step)
        hist.loss.append(float(loss.detach()))
        hist.collapse.append(collapse_std(z))
        hist.grad_encoder.append(g_enc)
        hist.grad_predictor.append(g_pred)
        hist.rel_grad_encoder.append(g_enc / max(_param_norm(enc), 1e-12))
        hist.rel_grad_predictor.append(g_pred / max(_param_norm(pred), 1e-12) if pred else 0.0)
        opt.step()
    record_eval(num_steps)
    model.eval()
    return hist
