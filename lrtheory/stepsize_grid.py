"""Learned-step-size rules on a full grid of starting rates × meta learning rates, all cells at once (torch).

Chapter 4 asks how robust a step-size rule is to its starting learning rate η0,
and how much that depends on its own meta learning rate γ.  Answering it needs
the whole η0 × γ grid on several seeds: hundreds of small runs.  The rules are
not elementwise (their signal is an inner product over the model), so
:func:`lrtheory.batched.train_seeds` would keep one optimiser per seed.  Here
every (η0, γ, seed) cell is one slice of a single stacked model instead, and the
rules' updates are written once for the stack, with per-slice inner products:

``"eg_scalar"``      ν ← ν exp(γ ⟨g_{t−1}, g_t⟩), θ ← θ − η0 ν g   (``EGStepSize(per_coordinate=False)``)
``"eg_coordinate"``  ν ← ν ⊙ exp(γ g_{t−1} ⊙ g_t), θ ← θ − η0 ν ⊙ g (``EGStepSize()``)
``"hd"``             α ← α + γ ⟨g_{t−1}, g_t⟩, θ ← θ − α g, α_0 = η0 (``HypergradientSGD``)
``"amid"``           EG gains and per-tensor scales on heavy ball, γ_p = γ_s = γ (``EGGainScale``)

Each slice sees exactly what one optimiser of :mod:`lrtheory.optim` would see
on its seed (same initial weights and mini-batch order as
:func:`lrtheory.batched.train_seeds`); the tests check the grid against
:func:`lrtheory.batched.train_seeds_reference` with the registry's optimisers.
Derived in chapter 4.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ._validation import check_array, check_choice, check_int, check_scalar, check_tensor

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from .datasets import TensorSplit

__all__ = ["RULES", "RULE_LABELS", "GridResult", "train_grid", "optimizer_for"]

RULES: tuple[str, ...] = ("eg_scalar", "eg_coordinate", "hd", "amid")
"""The rules :func:`train_grid` knows."""

RULE_LABELS: dict[str, str] = {"eg_scalar": "EG scalar", "eg_coordinate": "EG per-coordinate",
                               "hd": "hypergradient SGD", "amid": "Amid et al."}
"""Names used in the chapter's tables and figures."""


@dataclass(frozen=True)
class GridResult:
    """Final metrics of one rule on an η0 × γ grid and several seeds.

    Attributes
    ----------
    rule, kind : str
        The rule (one of :data:`RULES`) and the model (``"logreg"`` or ``"mlp"``).
    lrs, metas : tuple of float
        The starting learning rates η0 (axis 0) and meta learning rates γ (axis 1).
    seeds : tuple of int
        The seeds (axis 2).
    metrics : dict of str to numpy.ndarray, shape (len(lrs), len(metas), len(seeds))
        ``train_loss``, ``test_loss``, ``test_acc`` and, with a validation split,
        ``val_loss`` and ``val_acc`` (``nan`` where the run diverged).
    diverged : numpy.ndarray of bool, same shape
        The protocol's rule on the epoch-mean training losses (non-finite, or
        above 10× the initial loss).
    initial_loss : float
        Mean initial training loss over the seeds (a failed run is scored as it).
    steps : int
        Optimiser steps per run.
    """

    rule: str
    kind: str
    lrs: tuple[float, ...]
    metas: tuple[float, ...]
    seeds: tuple[int, ...]
    metrics: dict[str, np.ndarray]
    diverged: np.ndarray
    initial_loss: float
    steps: int

    def scored(self, metric: str) -> np.ndarray:
        """``metric`` with every failed run scored as no training at all.

        A diverged run, or one whose loss ends above its start, gets the initial
        loss (losses) or chance accuracy 0.1 (accuracies): the worst case over
        η0 then stays finite and comparable, and a failure is never flattered.
        Losses of the other splits are capped at the initial loss too: a run
        that ends worse than no training on validation or test data scores as
        no training (otherwise which of several failing runs is "worst" is
        decided by how far a chaotic run overshot).

        Parameters
        ----------
        metric : str
            A key of :attr:`metrics`.

        Returns
        -------
        numpy.ndarray, shape (len(lrs), len(metas), len(seeds))
        """
        if metric not in self.metrics:
            raise ValueError(f"metric must be one of {sorted(self.metrics)}, got {metric!r}")
        x = self.metrics[metric].copy()
        failed = self.diverged | ~np.isfinite(self.metrics["train_loss"]) | (
            self.metrics["train_loss"] > self.initial_loss)
        x[failed] = 0.1 if "acc" in metric else self.initial_loss
        if "acc" not in metric:
            x = np.minimum(x, self.initial_loss)
        return x

    def worst(self, metric: str) -> np.ndarray:
        """Worst value over η0 of :meth:`scored`, shape (len(metas), len(seeds)) (max loss, min accuracy)."""
        x = self.scored(metric)
        return x.min(axis=0) if "acc" in metric else x.max(axis=0)

    def median(self, metric: str) -> np.ndarray:
        """Median over η0 of :meth:`scored`, shape (len(metas), len(seeds))."""
        return np.median(self.scored(metric), axis=0)


def optimizer_for(rule: str, params: Any, lr: float, meta: float) -> "torch.optim.Optimizer":
    """The :mod:`lrtheory.optim` optimiser that one slice of :func:`train_grid` equals.

    Parameters
    ----------
    rule : str
        One of :data:`RULES`.
    params : iterable of torch.Tensor
        The model's parameters (one group).
    lr, meta : float
        η0 and γ.

    Returns
    -------
    torch.optim.Optimizer
    """
    from .optim import EGGainScale, EGStepSize, HypergradientSGD

    rule = check_choice("rule", rule, RULES)
    if isinstance(params, (str, bytes)) or not hasattr(params, "__iter__"):
        raise TypeError(f"params must be an iterable of tensors, got {type(params).__name__}")
    params = list(params)
    if not params:
        raise ValueError("params must not be empty")
    for p in params:
        if not isinstance(p, dict):  # parameter groups are the optimiser's business
            check_tensor("params", p, dtype_kind="float")
    lr = check_scalar("lr", lr, low=0.0, low_inclusive=False)
    meta = check_scalar("meta", meta, low=0.0)
    if rule == "eg_scalar":
        return EGStepSize(params, lr=lr, meta_lr=meta, per_coordinate=False)
    if rule == "eg_coordinate":
        return EGStepSize(params, lr=lr, meta_lr=meta)
    if rule == "hd":
        return HypergradientSGD(params, lr=lr, hyper_lr=meta)
    return EGGainScale(params, lr=lr, gain_lr=meta, scale_lr=meta)


def _per_slice(xs: list["torch.Tensor"], ys: list["torch.Tensor"]) -> "torch.Tensor":
    """⟨x, y⟩ of every slice (leading dimension) summed over all tensors."""
    return sum((x * y).flatten(1).sum(dim=1) for x, y in zip(xs, ys))  # type: ignore[return-value]


def _bcast(v: "torch.Tensor", like: "torch.Tensor") -> "torch.Tensor":
    return v.reshape((-1,) + (1,) * (like.dim() - 1))


def _rule_step(rule: str, params: list, grads: list, st: dict, lr: "torch.Tensor", meta: "torch.Tensor") -> None:
    import torch

    if rule == "eg_scalar":
        st["nu"] = st["nu"] * torch.exp(meta * _per_slice(st["prev"], grads))
        for p, g in zip(params, grads):
            p.sub_(_bcast(lr * st["nu"], p) * g)
    elif rule == "eg_coordinate":
        for i, (p, g) in enumerate(zip(params, grads)):
            st["nus"][i] = st["nus"][i] * torch.exp(_bcast(meta, g) * st["prev"][i] * g)
            p.sub_(_bcast(lr, p) * st["nus"][i] * g)
    elif rule == "hd":
        st["alpha"] = st["alpha"] + meta * _per_slice(st["prev"], grads)
        for p, g in zip(params, grads):
            p.sub_(_bcast(st["alpha"], p) * g)
    else:  # amid: EGGainScale's defaults (the reference's clamps) for everything but the two meta rates
        moving = (lr > 0).to(lr.dtype)  # dead slices (lr masked to 0) stay put
        for i, (p, g) in enumerate(zip(params, grads)):
            m = st["prev"][i]  # the momentum buffer, eta inside; one scale per tensor and slice
            ng = g.flatten(1).norm(dim=1) + 1e-10
            nm = m.flatten(1).norm(dim=1) + 1e-10
            cos = (g * m).flatten(1).sum(dim=1) / (ng * nm)
            st["scales"][i] = (st["scales"][i] * torch.exp(meta * cos)).clamp(0.1, 10.0)
            agree = torch.sign(st["avg"][i]) * torch.sign(g)
            st["gains"][i] = (st["gains"][i] * torch.exp(_bcast(meta, g) * agree)).clamp(0.01, 100.0)
            st["prev"][i] = 0.9 * m + _bcast(lr, g) * st["gains"][i] * g
            p.sub_(_bcast(st["scales"][i] * moving, p) * st["prev"][i])
            st["avg"][i] = st["avg"][i].lerp(g, 0.1)
        return
    st["prev"] = [g.clone() for g in grads]


def train_grid(rule: str, kind: str, data: "TensorSplit", lrs: Sequence[float], metas: Sequence[float], *,
               seeds: Sequence[int], epochs: int, batch_size: int = 64, hidden: int = 32,
               divergence_factor: float = 10.0) -> GridResult:
    """Train ``rule`` at every (η0, γ) of a grid on every seed, as one stacked model.

    Parameters
    ----------
    rule : str
        One of :data:`RULES`.
    kind : {"logreg", "mlp"}
        The classifier (:func:`lrtheory.sweeps.make_classifier`).
    data : TensorSplit
        The data (validation part optional); the models take its device and dtype.
    lrs, metas : sequence of float
        Starting learning rates η0 > 0 and meta learning rates γ ≥ 0.
    seeds : sequence of int
        Distinct seeds: seed s fixes the initial weights and the batch order.
    epochs : int
        Passes over the training set.
    batch_size : int, optional
        Mini-batch size (default 64; the last batch of an epoch may be smaller).
    hidden : int, optional
        MLP width (default 32).
    divergence_factor : float, optional
        The protocol's divergence multiple.

    Returns
    -------
    GridResult

    Notes
    -----
    Slice (i, j, k) uses η0 = lrs[i], γ = metas[j] and seed seeds[k]; it sees
    the gradient of its own batch mean only (the loss of the stack is the sum
    over slices), and a slice whose loss becomes non-finite stops moving.
    Equal to one :func:`optimizer_for` per slice (tested). Chapter 4.
    """
    import torch

    from .batched import _layer_plan, _metrics_of, _plan_forward, cross_entropy_losses
    from .datasets import TensorSplit
    from .experiments import torch_generator
    from .protocol import check_seeds
    from .protocol import diverged as protocol_diverged
    from .sweeps import make_classifier

    rule = check_choice("rule", rule, RULES)
    kind = check_choice("kind", kind, ("logreg", "mlp"))
    if not isinstance(data, TensorSplit):
        raise TypeError(f"data must be a TensorSplit, got {type(data).__name__}")
    lr_arr = check_array("lrs", lrs, ndim=1)
    meta_arr = check_array("metas", metas, ndim=1)
    if lr_arr.size == 0 or meta_arr.size == 0:
        raise ValueError("lrs and metas must not be empty")
    if np.any(lr_arr <= 0) or np.any(meta_arr < 0):
        raise ValueError("lrs must be > 0 and metas >= 0")
    seeds = check_seeds("seeds", seeds)
    epochs = check_int("epochs", epochs, low=0)
    batch_size = check_int("batch_size", batch_size, low=1)
    hidden = check_int("hidden", hidden, low=1)
    factor = check_scalar("divergence_factor", divergence_factor, low=1.0, low_inclusive=False)

    X, y = data.X_train, data.y_train
    dev, dt = X.device, X.dtype
    nL, nG, S = lr_arr.size, meta_arr.size, len(seeds)
    M = nL * nG * S
    models = [make_classifier(kind, data.num_features, data.num_classes, hidden=hidden, seed=s, device=dev,
                              dtype=dt) for s in seeds]
    plan = _layer_plan(models[0])
    names = [k for k, _ in models[0].named_parameters()]
    per_seed = {k: torch.stack([dict(m.named_parameters())[k].detach() for m in models]) for k in names}
    seed_of = torch.arange(M, device=dev) % S  # slice m = (i, j, k) in C order, k fastest
    params = [per_seed[k][seed_of].clone().requires_grad_(True) for k in names]
    lr_t = torch.as_tensor(np.repeat(lr_arr, nG * S), dtype=dt, device=dev)
    meta_t = torch.as_tensor(np.tile(np.repeat(meta_arr, S), nL), dtype=dt, device=dev)
    zeros = [torch.zeros_like(p) for p in params]
    st: dict[str, Any] = {"prev": [z.clone() for z in zeros], "nu": torch.ones(M, dtype=dt, device=dev),
                          "nus": [torch.ones_like(p) for p in params], "alpha": lr_t.clone(),
                          "scales": [torch.ones(M, dtype=dt, device=dev) for _ in params], "gains": [torch.ones_like(p) for p in params],
                          "avg": [z.clone() for z in zeros]}

    def as_dict(ps: list) -> dict:
        return dict(zip(names, ps))

    n = int(X.shape[0])
    gens = [torch_generator(s, device="cpu") for s in seeds]
    alive = torch.ones(M, dtype=torch.bool, device=dev)
    history = np.full((M, epochs + 1), np.nan)
    with torch.no_grad():
        history[:, 0], _ = _metrics_of(_plan_forward(plan, as_dict(params), X), y, cross_entropy_losses)
    steps = 0
    for epoch in range(epochs):
        perms = torch.stack([torch.randperm(n, generator=g) for g in gens]).to(dev)[seed_of]
        epoch_sum = torch.zeros(M, dtype=torch.float64, device=dev)
        for start in range(0, n, batch_size):
            idx = perms[:, start:start + batch_size]
            B = idx.shape[1]
            logits = _plan_forward(plan, as_dict(params), X[idx])
            losses = cross_entropy_losses(logits.reshape(M * B, -1), y[idx].reshape(-1)).reshape(M, B).mean(1)
            alive &= torch.isfinite(losses.detach())
            epoch_sum += torch.where(alive, losses.detach(), 0.0).double() * B
            grads = torch.autograd.grad(torch.where(alive, losses, 0.0).sum(), params)
            with torch.no_grad():
                mask = alive.to(dt)
                grads = [g * _bcast(mask, g) for g in grads]
                _rule_step(rule, params, grads, st, lr_t * mask, meta_t)
            steps += 1
        history[:, epoch + 1] = np.where(alive.cpu().numpy(), (epoch_sum / n).cpu().numpy(), np.nan)
    div = ~alive.cpu().numpy() | protocol_diverged(np.where(np.isnan(history), np.inf, history), factor=factor)
    metrics: dict[str, np.ndarray] = {}
    parts = [("train", data.X_train, data.y_train), ("test", data.X_test, data.y_test)]
    if data.X_val is not None:
        parts.append(("val", data.X_val, data.y_val))
    with torch.no_grad():
        for part, Xp, yp in parts:
            loss, acc = _metrics_of(_plan_forward(plan, as_dict(params), Xp), yp, cross_entropy_losses)
            for key, v in ((f"{part}_loss", loss), (f"{part}_acc", acc)):
                metrics[key] = np.where(div, np.nan, v).reshape(nL, nG, S)
    return GridResult(rule, kind, tuple(float(v) for v in lr_arr), tuple(float(v) for v in meta_arr), seeds,
                      metrics, div.reshape(nL, nG, S), float(np.mean(history[:S, 0])), steps)
