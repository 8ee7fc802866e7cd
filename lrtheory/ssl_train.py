"""Training and scoring many seeds of the small SimSiam at once (:class:`lrtheory.ssl_stacked.StackedSimSiam`).

:func:`train_stacked` is SimSiam's training loop for S stacked seeds, with the
switches chapter 5 needs beyond :func:`lrtheory.ssl_loop.train_ssl`:

* the predictor's learning rate as a ratio of the encoder's, in its own
  parameter group, and a cosine decay of the *encoder's* rate only (as in
  SimSiam, whose predictor keeps a constant rate);
* DirectPred (Tian, Chen & Ganguli, 2021): a linear predictor that is not
  learned but set at every step from a running average F̂ of F = E[z zᵀ],
  W_p = U diag(p) Uᵀ with p_j = √λ_j / max_k √λ_k + ε;
* eval-mode collapse measures at regular steps: the std metric, the effective
  rank and the top principal component's share.

:func:`score_stacked` scores the trained seeds: collapse measures of the
projections, and k-NN / linear-probe accuracy of the backbone's features on a
validation split (for tuning) and on the test split (to report once).

Derived in chapter 5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ._validation import check_bool, check_choice, check_instance, check_int, check_scalar, check_tensor
from .experiments import progress, torch_generator
from .ssl import OBJECTIVES, collapse_std
from .ssl_data import augment, augmentation_mean
from .ssl_loop import _check_loop_options
from .ssl_eval import effective_rank, knn_accuracy, linear_probe_accuracy, top_pc_share
from .ssl_stacked import StackedSimSiam

__all__ = ["SCHEDULES", "StackedHistory", "train_stacked", "collapse_measures", "score_stacked",
           "directpred_matrix"]

SCHEDULES: tuple[str, ...] = ("constant", "cosine")
"""Encoder learning-rate schedules of :func:`train_stacked` (the predictor's rate stays constant)."""


@dataclass
class StackedHistory:
    """Record of :func:`train_stacked`: arrays with one column per seed.

    ``loss``, ``grad_*`` and ``rel_grad_*`` have shape ``(num_steps, S)``;
    ``eval_std``, ``eval_rank`` and ``eval_top_pc`` (eval mode, fixed clean
    images) have shape ``(len(eval_step), S)``.  ``rel_grad`` is the gradient
    norm over the weight norm (relative speed per unit learning rate).
    """

    seeds: tuple[int, ...]
    loss: np.ndarray
    grad_predictor: np.ndarray
    grad_encoder: np.ndarray
    rel_grad_predictor: np.ndarray
    rel_grad_encoder: np.ndarray
    eval_step: np.ndarray
    eval_std: np.ndarray
    eval_rank: np.ndarray
    eval_top_pc: np.ndarray


def _norms(params: list[nn.Parameter], grads: bool) -> np.ndarray:
    """Per-seed Euclidean norm of the stacked tensors (or of their gradients)."""
    sq = 0.0
    for p in params:
        t = p.grad if grads else p
        if t is not None:
            sq = sq + t.detach().double().pow(2).flatten(1).sum(1)
    return np.sqrt(sq.cpu().numpy()) if torch.is_tensor(sq) else np.zeros(0)


def collapse_measures(z: torch.Tensor) -> dict[str, np.ndarray]:
    """The three collapse measures of stacked outputs ``z`` of shape ``(S, n, d)``, one value per seed.

    Parameters
    ----------
    z : torch.Tensor, shape (S, n, d)
        Eval-mode outputs of S networks for the same n ≥ 2 inputs.

    Returns
    -------
    dict of str to numpy.ndarray
        ``"std"`` (:func:`lrtheory.ssl.collapse_std`), ``"rank"``
        (:func:`lrtheory.ssl_eval.effective_rank`) and ``"top_pc"``
        (:func:`lrtheory.ssl_eval.top_pc_share`), each of shape (S,).

    Notes
    -----
    Derived in chapter 5.
    """
    check_tensor("z", z, ndim=3, dtype_kind="float", finite=False, nonempty=True)  # NaN: a diverged seed
    if z.shape[1] < 2:
        raise ValueError(f"z must have shape (S, n, d) with n >= 2, got {tuple(z.shape)}")
    out: dict[str, list[float]] = {"std": [], "rank": [], "top_pc": []}
    for zs in z:
        ok = bool(torch.isfinite(zs).all())
        out["std"].append(collapse_std(zs) if ok else math.nan)
        out["rank"].append(effective_rank(zs) if ok else math.nan)
        out["top_pc"].append(top_pc_share(zs) if ok else math.nan)
    return {k: np.asarray(v) for k, v in out.items()}


def directpred_matrix(f_hat: torch.Tensor, *, eps: float = 0.1) -> torch.Tensor:
    """DirectPred's predictor U diag(p) Uᵀ from a (stack of) symmetric matrices F̂ = U diag(λ) Uᵀ.

    Parameters
    ----------
    f_hat : torch.Tensor, shape (..., d, d)
        Running estimates of F = E[z zᵀ] (symmetric).
    eps : float, optional
        The floor ε ≥ 0 added to every p_j (default 0.1).

    Returns
    -------
    torch.Tensor, shape of ``f_hat``

    Notes
    -----
    p_j = √max(λ_j, 0) / max_k √max(λ_k, 0) + ε, so the top eigen-direction
    gets gain 1 + ε and a direction with no variance gets ε.  Derived in
    chapter 5.
    """
    check_tensor("f_hat", f_hat, dtype_kind="float")
    if f_hat.ndim < 2 or f_hat.shape[-1] != f_hat.shape[-2]:
        raise ValueError(f"f_hat must be a (stack of) square matrices, got {tuple(f_hat.shape)}")
    eps = check_scalar("eps", eps, low=0.0)
    lam, u = torch.linalg.eigh(0.5 * (f_hat + f_hat.transpose(-1, -2)))
    root = lam.clamp_min(0).sqrt()
    p = root / root.amax(-1, keepdim=True).clamp_min(1e-30) + eps
    return (u * p[..., None, :]) @ u.transpose(-1, -2)


def _neg_cos(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    return -nn.functional.cosine_similarity(p, z, dim=-1, eps=1e-8).mean(1)


def train_stacked(model: StackedSimSiam, images: torch.Tensor, *, num_steps: int, objective: str = "simsiam",
                  stop_gradient: bool = True, batch_size: int = 128, lr: float = 0.1,
                  predictor_lr_ratio: float = 1.0, encoder_schedule: str = "constant", momentum: float = 0.9,
                  weight_decay: float = 1e-4, directpred: bool = False, directpred_rho: float = 0.3,
                  num_mean_samples: int = 16, augment_kwargs: dict[str, Any] | None = None,
                  eval_every: int = 50, eval_images: torch.Tensor | None = None,
                  desc: str | None = None) -> StackedHistory:
    """Train the S stacked networks of ``model`` self-supervised on ``images`` (CPU, in place).

    Parameters
    ----------
    model : StackedSimSiam
    images : torch.Tensor, shape (n, 1, 8, 8)
        Unlabelled training images, shared by all seeds.
    num_steps : int
        SGD steps; seed s draws its batches (a fresh permutation per epoch) and
        augmentations from ``torch_generator(model.seeds[s])``.
    objective : {"simsiam", "mean_target"}, optional
        As in :func:`lrtheory.ssl_loop.train_ssl`.
    stop_gradient : bool, optional
        Detach the targets (default).
    batch_size : int, optional
    lr : float, optional
        The encoder's (backbone and projector) base learning rate.
    predictor_lr_ratio : float, optional
        The predictor's rate divided by ``lr`` (its own parameter group).
    encoder_schedule : {"constant", "cosine"}, optional
        ``"cosine"`` decays the encoder's rate as lr·(1 + cos(πk/K))/2; the
        predictor's rate stays constant either way.
    momentum, weight_decay : float, optional
        SGD's (:class:`torch.optim.SGD`).
    directpred : bool, optional
        Set the (linear, untrained) predictor by :func:`directpred_matrix`
        from F̂ ← ρF̂ + (1 − ρ) mean(z zᵀ) before every step.
    directpred_rho : float, optional
        The running-average weight ρ in [0, 1).
    num_mean_samples : int, optional
        Views averaged per image for ``"mean_target"``.
    augment_kwargs : dict, optional
        Passed on to :func:`lrtheory.ssl_data.augment`.
    eval_every : int, optional
        Record the eval-mode collapse measures every this many steps and at the end.
    eval_images : torch.Tensor, optional
        Clean images for them (default: the first 512 of ``images``).
    desc : str, optional
        Label of the progress bar.

    Returns
    -------
    StackedHistory

    Notes
    -----
    The loss of seed s is SimSiam's symmetric ½D(p₁, sg z₂) + ½D(p₂, sg z₁)
    (or the mean-target loss 2 + 2D(F(T x), F(x̄))); the optimiser minimises
    their sum, whose gradient in seed s's slice is seed s's own gradient.
    Derived in chapter 5.
    """
    check_instance("model", model, StackedSimSiam)
    check_tensor("images", images, dtype_kind="float", nonempty=True)
    if images.ndim != 4:
        raise ValueError("images must be a tensor of shape (n, 1, H, W)")
    num_steps = check_int("num_steps", num_steps, low=0)
    objective = check_choice("objective", objective, OBJECTIVES)
    stop_gradient = check_bool("stop_gradient", stop_gradient)
    batch_size = check_int("batch_size", batch_size, low=2)
    lr = check_scalar("lr", lr, low=0.0, low_inclusive=False)
    ratio = check_scalar("predictor_lr_ratio", predictor_lr_ratio, low=0.0, low_inclusive=False)
    encoder_schedule = check_choice("encoder_schedule", encoder_schedule, SCHEDULES)
    momentum = check_scalar("momentum", momentum, low=0.0, high=1.0, high_inclusive=False)
    weight_decay = check_scalar("weight_decay", weight_decay, low=0.0)
    directpred = check_bool("directpred", directpred)
    rho = check_scalar("directpred_rho", directpred_rho, low=0.0, high=1.0, high_inclusive=False)
    num_mean_samples = check_int("num_mean_samples", num_mean_samples, low=1)
    eval_every = check_int("eval_every", eval_every, low=1)
    _check_loop_options(images, augment_kwargs, eval_images, desc)
    if directpred and model.predictor_mode != "linear":
        raise ValueError("directpred needs a model built with predictor='linear'")
    aug = dict(augment_kwargs or {})
    S, n = model.num_seeds, images.shape[0]
    bs = min(batch_size, n)
    x_all = images.cpu()
    x_eval = (x_all[:512] if eval_images is None else eval_images.cpu()).expand(S, -1, -1, -1, -1)
    gens = [torch_generator(s) for s in model.seeds]
    x_mean = None
    if objective == "mean_target":
        x_mean = torch.stack([augmentation_mean(x_all, g, num_mean_samples, **aug) for g in gens])
    enc = model.part_parameters("backbone") + model.part_parameters("projector")
    pred = [] if directpred else model.part_parameters("predictor")
    groups = [{"params": enc, "lr": lr}] + ([{"params": pred, "lr": lr * ratio}] if pred else [])
    opt = torch.optim.SGD(groups, lr=lr, momentum=momentum, weight_decay=weight_decay)
    orders = [torch.randperm(n, generator=g) for g in gens]
    pos = 0
    f_hat = None
    rec: dict[str, list[Any]] = {k: [] for k in ("loss", "gp", "ge", "rp", "re", "es", "std", "rank", "top")}

    def record_eval(step: int) -> None:
        model.eval()
        with torch.no_grad():
            m = collapse_measures(model.encode(x_eval))
        model.train()
        rec["es"].append(step)
        rec["std"].append(m["std"])
        rec["rank"].append(m["rank"])
        rec["top"].append(m["top_pc"])

    model.train()
    for step in progress(range(num_steps), desc=desc or objective, total=num_steps):
        if step % eval_every == 0:
            record_eval(step)
        if encoder_schedule == "cosine":
            opt.param_groups[0]["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / max(num_steps, 1)))
        if pos + bs > n:
            orders, pos = [torch.randperm(n, generator=g) for g in gens], 0
        idx = [o[pos:pos + bs] for o in orders]
        pos += bs
        xb = [x_all[i] for i in idx]
        if objective == "simsiam":
            x1 = torch.stack([augment(x, g, **aug) for x, g in zip(xb, gens)])
            x2 = torch.stack([augment(x, g, **aug) for x, g in zip(xb, gens)])
            z1, z2 = model.encode(x1), model.encode(x2)
            if directpred:
                with torch.no_grad():
                    zz = z1.detach().double()
                    batch_f = zz.transpose(1, 2) @ zz / zz.shape[1]
                    f_hat = batch_f if f_hat is None else rho * f_hat + (1 - rho) * batch_f
                    model.set_predictor_matrix(directpred_matrix(f_hat).to(z1.dtype))
            p1, p2 = model.predict(z1), model.predict(z2)
            t1, t2 = (z1.detach(), z2.detach()) if stop_gradient else (z1, z2)
            loss = 0.5 * (_neg_cos(p1, t2) + _neg_cos(p2, t1))
        else:
            assert x_mean is not None
            xv = torch.stack([augment(x, g, **aug) for x, g in zip(xb, gens)])
            zbar = model.encode(torch.stack([x_mean[s][i] for s, i in enumerate(idx)]))
            loss = 2.0 + 2.0 * _neg_cos(model.encode(xv), zbar.detach() if stop_gradient else zbar)
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        rec["loss"].append(loss.detach().double().numpy())
        ge, gp = _norms(enc, True), _norms(pred, True)
        gp = gp if gp.size else np.zeros(S)
        rec["ge"].append(ge)
        rec["gp"].append(gp)
        rec["re"].append(ge / np.maximum(_norms(enc, False), 1e-12))
        rec["rp"].append(gp / np.maximum(_norms(pred, False), 1e-12) if pred else np.zeros(S))
        opt.step()
    record_eval(num_steps)
    model.eval()
    arr = {k: np.asarray(v, dtype=float).reshape(len(v), -1) if k != "es" else np.asarray(v)
           for k, v in rec.items()}
    return StackedHistory(model.seeds, arr["loss"], arr["gp"], arr["ge"], arr["rp"], arr["re"], arr["es"],
                          arr["std"], arr["rank"], arr["top"])


@torch.no_grad()
def score_stacked(model: StackedSimSiam, train: tuple[torch.Tensor, torch.Tensor],
                  evaluate: dict[str, tuple[torch.Tensor, torch.Tensor]], *,
                  collapse_images: torch.Tensor) -> dict[str, np.ndarray]:
    """Per-seed scores of a trained stacked model: collapse measures and feature accuracies.

    Parameters
    ----------
    model : StackedSimSiam
        Put in eval mode.
    train : (images, labels)
        Labelled images the k-NN and the linear probe are fitted on.
    evaluate : dict of str to (images, labels)
        Splits to score, e.g. ``{"val": ..., "test": ...}``; a key gives the
        metrics ``knn_{key}`` and ``lin_{key}``.
    collapse_images : torch.Tensor
        Clean images for ``std``, ``rank`` and ``top_pc`` of the projections.

    Returns
    -------
    dict of str to numpy.ndarray
        One value per seed for each metric.

    Notes
    -----
    k-NN: 5 neighbours, cosine similarity; probe: ridge 1 on standardised
    features (:mod:`lrtheory.ssl_eval`).  Derived in chapter 5.
    """
    check_instance("model", model, StackedSimSiam)
    for name, pair in [("train", train)] + [(f"evaluate[{k!r}]", v) for k, v in
                                            (evaluate.items() if isinstance(evaluate, dict) else [])]:
        if not (isinstance(pair, tuple) and len(pair) == 2 and all(torch.is_tensor(t) for t in pair)):
            raise TypeError(f"{name} must be a tuple (images, labels) of tensors")
    if not isinstance(evaluate, dict) or not evaluate:
        raise TypeError("evaluate must be a non-empty dict of split name to (images, labels)")
    check_tensor("collapse_images", collapse_images, dtype_kind="float", nonempty=True)
    if collapse_images.ndim != 4 or collapse_images.shape[0] < 2:
        raise ValueError(f"collapse_images must be at least 2 images of shape (1, H, W), "
                         f"got {tuple(collapse_images.shape)}")
    model.eval()
    S = model.num_seeds
    out = collapse_measures(model.encode(collapse_images.expand(S, *collapse_images.shape)))
    ftr = model.features(train[0].expand(S, *train[0].shape)).double()
    for key, (xs, ys) in evaluate.items():
        fte = model.features(xs.expand(S, *xs.shape)).double()
        out[f"knn_{key}"] = np.array([knn_accuracy(ftr[s], train[1], fte[s], ys, k=5) for s in range(S)])
        out[f"lin_{key}"] = np.array([linear_probe_accuracy(ftr[s], train[1], fte[s], ys) for s in range(S)])
    return out
