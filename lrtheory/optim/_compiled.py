"""Opt-in ``torch.compile`` fast paths: each update as one pure function that inductor fuses.

An eager multi-tensor step makes one pass over the model per torch operation
(:mod:`lrtheory.optim.traffic` counts them); compiled, the elementwise part of a
step becomes one kernel per tensor that reads θ, g and the state once and
writes θ and the state once, the compulsory traffic.  The price is the
compilation, 10 to 70 seconds on a CPU at the first step (and again when the
parameters' shapes or dtypes change), which is why it is opt-in
(``compile=True`` in the constructors of :class:`SignDescent`,
:class:`RMSpropCoordinate`, :class:`EGD` and :class:`NormalizedEGD`), used on the
multi-tensor path only.

The hyperparameters enter as 0-d tensors, not Python floats, so that a
learning-rate schedule does not trigger a recompilation at every step.  The
functions compute exactly the reference formulas of the eager modules (the
tests compare them with the per-tensor loop in float64).
"""

from __future__ import annotations

import functools
from typing import Callable

import torch

__all__: list[str] = []


def _scalar(value: float, like: torch.Tensor) -> torch.Tensor:
    return torch.tensor(value, dtype=torch.float64, device=like.device)


def sign_descent_fused(params: list[torch.Tensor], grads: list[torch.Tensor], lr: torch.Tensor) -> None:
    """θ ← θ − lr·sign(g) for every tensor."""
    for p, g in zip(params, grads):
        p.sub_((lr * torch.sign(g)).to(p.dtype))


def rmsprop_coordinate_fused(params: list[torch.Tensor], grads: list[torch.Tensor], avgs: list[torch.Tensor],
                             lr: torch.Tensor, alpha: torch.Tensor, eps: torch.Tensor, eps_inside: bool,
                             guard_zero: bool) -> None:
    """G ← αG + (1−α) g⊙g; θ ← θ − lr g/√(G+ε) (or /(√G+ε)); zero step where the denominator is 0."""
    for p, g, a in zip(params, grads, avgs):
        a.copy_((alpha * a + (1.0 - alpha) * g * g).to(a.dtype))
        den = torch.sqrt(a + eps) if eps_inside else torch.sqrt(a) + eps
        if guard_zero:
            ratio = torch.where(den == 0, torch.zeros_like(g), g / torch.where(den == 0, torch.ones_like(den), den))
        else:
            ratio = g / den
        p.sub_((lr * ratio).to(p.dtype))


def eg_fused(params: list[torch.Tensor], grads: list[torch.Tensor], lr: torch.Tensor) -> None:
    """θ ← θ ⊙ exp(−lr g) for every tensor."""
    for p, g in zip(params, grads):
        p.mul_(torch.exp(-lr * g).to(p.dtype))


def normalized_eg_fused(params: list[torch.Tensor], grads: list[torch.Tensor], lr: torch.Tensor) -> None:
    """θ ← exp(z − max z)/Σ exp(z − max z), z = log θ − lr(g − min g), for every tensor (log space)."""
    for p, g in zip(params, grads):
        z = torch.log(p) - (lr * (g - g.min())).to(p.dtype)
        w = torch.exp(z - z.max())
        p.copy_(w / w.sum())


@functools.cache
def compiled(fn: Callable[..., None]) -> Callable[..., None]:
    """``torch.compile(fn)``, made once per function (compilation itself happens at the first call)."""
    return torch.compile(fn, dynamic=False)


def hyper(value: float, like: torch.Tensor) -> torch.Tensor:
    """A hyperparameter as a 0-d float64 tensor on ``like``'s device (no recompilation when it changes)."""
    return _scalar(value, like)
