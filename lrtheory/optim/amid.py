"""Step-size adaptation with exponentiated-gradient gains and scale (Amid, Anil, Fifty, Warmuth 2022).

The full rule that the source article of chapter 4 simplifies.  On top of a
heavy-ball direction it keeps two kinds of multiplicative factors, both updated
by exponentiated gradient and both clamped:

* a **gain** p_i per coordinate, raised when the current gradient has the same
  sign as a running average of the past gradients and lowered when it has the
  opposite sign (a sign-only signal, so it has no units);
* a **global scale** s per parameter group, raised or lowered by the cosine
  between the current gradient and the momentum buffer of the previous step
  (again unit-free: both vectors are normalised).

Step t with gradient g_t (ḡ: average of past gradients, u: momentum buffer)::

    p   ← clamp(p ⊙ exp(γ_p sign(ḡ_{t−1}) ⊙ sign(g_t)),  p_min, p_max)
    s   ← clamp(s · exp(γ_s cos(u_{t−1}, g_t)),            s_min, s_max)
    u_t = μ u_{t−1} + p ⊙ g_t
    θ   ← θ − η s u_t
    ḡ_t = β ḡ_{t−1} + (1 − β) g_t

The pairing of the previous step's direction u_{t−1} with the new gradient is the
one-step hypergradient of Baydin et al. (2018); the cosine makes the
meta learning rate γ_s unit-free, which the article's simplification
ν ← ν exp(γ g_{t−1} ⊙ g_t) is not.  This implementation follows the algorithm's
description in the paper (arXiv 2202.00145); its conventions (gains inside the
momentum buffer, the scale outside it, sign(0) = 0, cos = 0 when a vector is
zero) are stated here because they are choices.  Derived in chapter 4.
"""

from __future__ import annotations

from typing import Any, Iterable

import torch

from ._base import BookOptimizer, check_hparam

__all__ = ["EGGainScale", "gain_update", "scale_update"]


def gain_update(gain: torch.Tensor, grad: torch.Tensor, grad_avg: torch.Tensor, gain_lr: float,
                gain_min: float, gain_max: float) -> torch.Tensor:
    """Return clamp(p ⊙ exp(γ_p sign(ḡ) ⊙ sign(g)), p_min, p_max) (a new tensor).

    Parameters
    ----------
    gain : torch.Tensor
        Current per-coordinate gains p > 0.
    grad : torch.Tensor
        Current gradient g_t.
    grad_avg : torch.Tensor
        Running average ḡ_{t−1} of the past gradients (zero before the first step).
    gain_lr : float
        Meta learning rate γ_p of the gains.
    gain_min, gain_max : float
        Clamping bounds, 0 < gain_min ≤ 1 ≤ gain_max.

    Returns
    -------
    torch.Tensor

    Notes
    -----
    Only the signs enter: agreement multiplies a gain by e^{γ_p}, disagreement
    by e^{−γ_p}, and a zero entry leaves it unchanged. Derived in chapter 4.
    """
    return (gain * torch.exp(gain_lr * (torch.sign(grad_avg) * torch.sign(grad)))).clamp_(gain_min, gain_max)


def scale_update(scale: torch.Tensor, cosine: torch.Tensor, scale_lr: float, scale_min: float,
                 scale_max: float) -> torch.Tensor:
    """Return clamp(s · exp(γ_s cos), s_min, s_max) (a new 0-d tensor).

    Parameters
    ----------
    scale : torch.Tensor
        Current global scale s > 0 (0-d).
    cosine : torch.Tensor
        cos(u_{t−1}, g_t) over the group (0-d, in [−1, 1]; 0 when either vector is 0).
    scale_lr : float
        Meta learning rate γ_s of the scale.
    scale_min, scale_max : float
        Clamping bounds.

    Returns
    -------
    torch.Tensor

    Notes
    -----
    −η s cos(u_{t−1}, g_t)‖u_{t−1}‖‖g_t‖ is the derivative of L(θ_t) with respect to
    log s; the update is exponentiated gradient on s with the normalised
    signal. Derived in chapter 4.
    """
    return (scale * torch.exp(scale_lr * cosine)).clamp_(scale_min, scale_max)


def _group_cosine(a: list[torch.Tensor], b: list[torch.Tensor]) -> torch.Tensor:
    dot = torch.stack([torch.dot(x.reshape(-1), y.reshape(-1)) for x, y in zip(a, b)]).sum()
    na = torch.stack([torch.dot(x.reshape(-1), x.reshape(-1)) for x in a]).sum().sqrt()
    nb = torch.stack([torch.dot(y.reshape(-1), y.reshape(-1)) for y in b]).sum().sqrt()
    denom = na * nb
    return torch.where(denom > 0, dot / torch.where(denom > 0, denom, torch.ones_like(denom)),
                       torch.zeros_like(dot))


class EGGainScale(BookOptimizer):
    r"""Heavy-ball SGD with per-coordinate gains and a global scale learnt by EG (Amid et al. 2022).

    .. math::

        p &\leftarrow \operatorname{clamp}\bigl(p\odot e^{\gamma_p\,\operatorname{sign}(\bar g_{t-1})
             \odot\operatorname{sign}(g_t)},\ p_{\min}, p_{\max}\bigr) \\
        s &\leftarrow \operatorname{clamp}\bigl(s\, e^{\gamma_s \cos(u_{t-1}, g_t)},\ s_{\min}, s_{\max}\bigr) \\
        u_t &= \mu\, u_{t-1} + p\odot g_t, \qquad \theta \leftarrow \theta - \eta\, s\, u_t \\
        \bar g_t &= \beta\,\bar g_{t-1} + (1-\beta)\, g_t

    Parameters
    ----------
    params : iterable
        Tensors or parameter groups.
    lr : float, optional
        Base learning rate η ≥ 0 (default 0.01).
    momentum : float, optional
        Heavy-ball μ ∈ [0, 1) (default 0.9; torch's convention, no dampening).
    gain_lr, scale_lr : float, optional
        Meta learning rates γ_p and γ_s ≥ 0 (defaults 0.01); both signals are
        unit-free (signs and a cosine), so these are comparable across models.
    grad_avg : float, optional
        β ∈ [0, 1) of the running average ḡ of past gradients (default 0.9).
    gain_min, gain_max : float, optional
        Gain bounds, 0 < gain_min ≤ 1 ≤ gain_max (defaults 0.1 and 10).
    scale_min, scale_max : float, optional
        Scale bounds, 0 < scale_min ≤ 1 ≤ scale_max (defaults 1e-3 and 1e3).
    foreach : bool or None, optional
        ``True``/``None``: multi-tensor path; ``False``: per-tensor loop.

    Notes
    -----
    Gains and scale start at one, so with ``gain_lr = scale_lr = 0`` the
    iterates are :class:`torch.optim.SGD` with momentum μ (dampening 0,
    nesterov off) and learning rate η. The cosine runs over the whole
    parameter group, which shares one scale; every tensor's state keeps a copy
    of it (``"scale"``). On the first step u_0 = 0 and ḡ_0 = 0, so neither the
    gains nor the scale move. The effective step size of coordinate i is
    η s p_i (:meth:`effective_lrs`). The reference implementation of the paper
    was not consulted (see the chapter); the conventions above follow the
    paper's description. Derived in chapter 4.
    """

    def __init__(self, params: Iterable[Any], lr: float = 0.01, *, momentum: float = 0.9, gain_lr: float = 0.01,
                 scale_lr: float = 0.01, grad_avg: float = 0.9, gain_min: float = 0.1, gain_max: float = 10.0,
                 scale_min: float = 1e-3, scale_max: float = 1e3, foreach: bool | None = None) -> None:
        defaults = dict(
            lr=check_hparam("lr", lr),
            momentum=check_hparam("momentum", momentum, high=1.0, high_inclusive=False),
            gain_lr=check_hparam("gain_lr", gain_lr),
            scale_lr=check_hparam("scale_lr", scale_lr),
            grad_avg=check_hparam("grad_avg", grad_avg, high=1.0, high_inclusive=False),
            gain_min=check_hparam("gain_min", gain_min, low_inclusive=False, high=1.0),
            gain_max=check_hparam("gain_max", gain_max, low=1.0),
            scale_min=check_hparam("scale_min", scale_min, low_inclusive=False, high=1.0),
            scale_max=check_hparam("scale_max", scale_max, low=1.0),
            foreach=foreach,
        )
        super().__init__(params, defaults)

    def _init_state(self, p: torch.Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {
            "gain": torch.ones_like(p, memory_format=torch.preserve_format),
            "scale": torch.ones((), dtype=p.dtype, device=p.device),
            "momentum_buffer": torch.zeros_like(p, memory_format=torch.preserve_format),
            "grad_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
        }

    def _group_step(self, group, params, grads, states, foreach) -> None:  # type: ignore[no-untyped-def]
        lr, mu, beta = group["lr"], group["momentum"], group["grad_avg"]
        bufs = [s["momentum_buffer"] for s in states]
        avgs = [s["grad_avg"] for s in states]
        gains = [s["gain"] for s in states]
        # 1. the global scale, from cos(u_{t-1}, g_t) over the group
        cos = _group_cosine(bufs, grads)
        scale = scale_update(states[0]["scale"], cos, group["scale_lr"], group["scale_min"], group["scale_max"])
        for s in states:
            s["scale"] = scale.clone()
        if foreach:
            # 2. gains from sign agreement with the running average
            agree = torch._foreach_sign(avgs)
            torch._foreach_mul_(agree, torch._foreach_sign(grads))
            torch._foreach_mul_(agree, group["gain_lr"])
            torch._foreach_exp_(agree)
            torch._foreach_mul_(gains, agree)
            torch._foreach_clamp_min_(gains, group["gain_min"])
            torch._foreach_clamp_max_(gains, group["gain_max"])
            # 3. heavy ball on the gained gradient, step scaled by s
            torch._foreach_mul_(bufs, mu)
            torch._foreach_addcmul_(bufs, gains, grads)
            if scale.device.type == "cpu":
                torch._foreach_add_(params, bufs, alpha=-lr * float(scale))
            else:
                torch._foreach_add_(params, torch._foreach_mul(bufs, -lr * scale))
            # 4. the running average of gradients
            torch._foreach_lerp_(avgs, grads, 1.0 - beta)
        else:
            for p, g, s in zip(params, grads, states):
                s["gain"] = gain_update(s["gain"], g, s["grad_avg"], group["gain_lr"], group["gain_min"],
                                        group["gain_max"])
                s["momentum_buffer"].mul_(mu).add_(s["gain"] * g)
                p.add_(s["momentum_buffer"] * (-lr * scale))
                s["grad_avg"].lerp_(g, 1.0 - beta)

    @torch.no_grad()
    def effective_lrs(self) -> list[torch.Tensor]:
        """The current per-coordinate step sizes η s p, one flat tensor per group (empty before a step).

        Returns
        -------
        list of torch.Tensor
        """
        out = []
        for group in self.param_groups:
            parts = [(self.state[p]["scale"] * self.state[p]["gain"]).reshape(-1)
                     for p in group["params"] if "gain" in self.state[p]]
            out.append(group["lr"] * torch.cat(parts) if parts else torch.empty(0))
        return out
