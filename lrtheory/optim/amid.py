"""Step-size adaptation with exponentiated-gradient gains and scale (Amid, Anil, Fifty, Warmuth 2022).

The full rule that the source article of chapter 4 simplifies, called EG-DD
(exponentiated gradient delta-delta) in the authors' public reference
implementation (Lingvo, ``lingvo/core/egdd.py``).  On top of a heavy-ball
direction it keeps two kinds of multiplicative factors, both updated by
(unnormalised) exponentiated gradient and both clamped:

* a **gain** p_i per coordinate, raised when the current gradient has the same
  sign as a running average of the past gradients and lowered when it has the
  opposite sign (a sign-only signal, so it has no units);
* a **scale** s per parameter tensor, raised or lowered by the inner product of
  the normalised current gradient with the normalised momentum buffer of the
  previous step (a cosine: again unit-free).

Step t with gradient g_t of one tensor (ḡ: average of past gradients, m: momentum
buffer, ε = 1e−10)::

    s   ← clamp(s · exp(γ_s ⟨g_t/(‖g_t‖+ε), m_{t−1}/(‖m_{t−1}‖+ε)⟩),  s_min, s_max)
    p   ← clamp(p ⊙ exp(γ_p sign(g_t) ⊙ sign(ḡ_{t−1})),               p_min, p_max)
    m_t = μ m_{t−1} + η p ⊙ g_t
    θ   ← θ − s m_t
    ḡ_t = β ḡ_{t−1} + (1 − β) g_t

The pairing of the previous step's direction with the new gradient is the
one-step hypergradient of Baydin et al. (2018); normalising both vectors makes
the meta learning rate γ_s unit-free, which the article's simplification
ν ← ν exp(γ g_{t−1} ⊙ g_t) is not.  Derived in chapter 4.
"""

from __future__ import annotations

from typing import Any, Iterable

import torch

from ._base import BookOptimizer, check_hparam, wide_dtype

__all__ = ["EGGainScale", "gain_update", "scale_update", "direction_cosine"]

COSINE_EPS = 1e-10
"""ε added to both norms in :func:`direction_cosine` (the reference implementation's value)."""


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
        Running average ḡ_{t−1} of the past gradients (zero before the first
        step), or, for the unnormalised variant, any tensor whose product with
        ``grad`` is the signal (pass ``sign`` results accordingly).
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
    """Return clamp(s · exp(γ_s c), s_min, s_max) (a new 0-d tensor).

    Parameters
    ----------
    scale : torch.Tensor
        Current scale s > 0 (0-d).
    cosine : torch.Tensor
        The signal c (0-d): :func:`direction_cosine` of the gradient and the
        previous momentum buffer, in [−1, 1].
    scale_lr : float
        Meta learning rate γ_s of the scale.
    scale_min, scale_max : float
        Clamping bounds.

    Returns
    -------
    torch.Tensor

    Notes
    -----
    −s ⟨m_{t−1}, g_t⟩ is the derivative of L(θ_t) with respect to log s; the
    update is exponentiated gradient on s with the normalised signal. Derived
    in chapter 4.
    """
    return (scale * torch.exp(scale_lr * cosine)).clamp_(scale_min, scale_max)


def direction_cosine(grad: torch.Tensor, buf: torch.Tensor) -> torch.Tensor:
    """⟨g/(‖g‖+ε), m/(‖m‖+ε)⟩ with ε = :data:`COSINE_EPS` (a 0-d tensor; 0 when either is 0).

    Parameters
    ----------
    grad, buf : torch.Tensor
        The gradient and the momentum buffer of one tensor (same shape).

    Returns
    -------
    torch.Tensor

    Raises
    ------
    TypeError
        If ``grad`` or ``buf`` is not a tensor.
    ValueError
        If their shapes differ.

    Notes
    -----
    The reference implementation's normalisation: ε keeps the zero buffer of
    the first step harmless (the signal is then exactly zero). Chapter 4.
    """
    for name, x in (("grad", grad), ("buf", buf)):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if grad.shape != buf.shape:
        raise ValueError(f"grad and buf must have the same shape, got {tuple(grad.shape)} and {tuple(buf.shape)}")
    # in float32 or wider: a half-precision dot product of a large tensor overflows
    wide = torch.promote_types(grad.dtype, torch.float32)
    g, m = grad.reshape(-1).to(wide), buf.reshape(-1).to(wide)
    return torch.dot(g, m) / ((torch.linalg.vector_norm(g) + COSINE_EPS)
                              * (torch.linalg.vector_norm(m) + COSINE_EPS))


def _check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value


class EGGainScale(BookOptimizer):
    r"""Heavy-ball SGD with per-coordinate gains and per-tensor scales learnt by EG (Amid et al. 2022).

    .. math::

        s &\leftarrow \operatorname{clamp}\Bigl(s\, e^{\gamma_s \langle \hat g_t, \hat m_{t-1}\rangle},\
             s_{\min}, s_{\max}\Bigr),\quad \hat x = x/(\lVert x\rVert+\epsilon) \\
        p &\leftarrow \operatorname{clamp}\bigl(p\odot e^{\gamma_p\,\operatorname{sign}(g_t)
             \odot\operatorname{sign}(\bar g_{t-1})},\ p_{\min}, p_{\max}\bigr) \\
        m_t &= \mu\, m_{t-1} + \eta\, p\odot g_t, \qquad \theta \leftarrow \theta - s\, m_t \\
        \bar g_t &= \beta\,\bar g_{t-1} + (1-\beta)\, g_t

    Parameters
    ----------
    params : iterable
        Tensors or parameter groups.
    lr : float, optional
        Base learning rate η ≥ 0 (default 0.01).
    momentum : float, optional
        Heavy-ball μ ∈ [0, 1) (default 0.9).
    gain_lr : float, optional
        Meta learning rate γ_p ≥ 0 of the gains (default 0.01, the reference's).
    scale_lr : float, optional
        Meta learning rate γ_s ≥ 0 of the scales (default 0.001, the reference's).
    grad_avg : float, optional
        β ∈ [0, 1) of the running average ḡ of past gradients (default 0.9).
    gain_min, gain_max : float, optional
        Gain bounds, 0 < gain_min ≤ 1 ≤ gain_max (defaults 0.01 and 100).
    scale_min, scale_max : float, optional
        Scale bounds, 0 < scale_min ≤ 1 ≤ scale_max (defaults 0.1 and 10).
    sign_gains : bool, optional
        ``True`` (default): the gains' signal is sign(g) ⊙ sign(ḡ). ``False``:
        the raw product g ⊙ ḡ/(1 − β^{max(t−1, 1)}) (bias-corrected average).
    normalized_scale : bool, optional
        ``True`` (default): the scale's signal is the cosine above. ``False``:
        the raw inner product ⟨g_t, m_{t−1}⟩.
    foreach : bool or None, optional
        ``True``/``None``: multi-tensor path; ``False``: per-tensor loop.

    Notes
    -----
    Conventions of the reference implementation (Lingvo's ``EGDD``), followed
    here: the learning rate sits *inside* the momentum buffer and the scale
    multiplies the whole buffer; each parameter tensor has its own scale and
    its own cosine (not one per group); the scale is updated before the gains,
    both before the buffer; the gains' signal uses the average ḡ_{t−1} from
    before this step; the defaults and clamps are the reference's. Gains and
    scales start at one, so with ``gain_lr = scale_lr = 0`` and a constant η
    the iterates are :class:`torch.optim.SGD` with momentum μ (dampening 0,
    nesterov off). On the first step m_0 = 0 and ḡ_0 = 0, so neither factor
    moves. The effective step size of coordinate i is η s p_i
    (:meth:`effective_lrs`). Derived in chapter 4.
    """

    def __init__(self, params: Iterable[Any], lr: float = 0.01, *, momentum: float = 0.9, gain_lr: float = 0.01,
                 scale_lr: float = 0.001, grad_avg: float = 0.9, gain_min: float = 0.01, gain_max: float = 100.0,
                 scale_min: float = 0.1, scale_max: float = 10.0, sign_gains: bool = True,
                 normalized_scale: bool = True, foreach: bool | None = None) -> None:
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
            sign_gains=_check_flag("sign_gains", sign_gains),
            normalized_scale=_check_flag("normalized_scale", normalized_scale),
            foreach=foreach,
        )
        super().__init__(params, defaults)

    wide_state = ("scale",)

    def _init_state(self, p: torch.Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {
            "step": 0,
            "gain": torch.ones_like(p, memory_format=torch.preserve_format),
            # a learned scalar: float32 or wider, so that it still moves in half precision
            "scale": torch.ones((), dtype=wide_dtype(p.dtype), device=p.device),
            "momentum_buffer": torch.zeros_like(p, memory_format=torch.preserve_format),
            "grad_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
        }

    def _group_step(self, group, params, grads, states, foreach) -> None:  # type: ignore[no-untyped-def]
        lr, mu, beta = group["lr"], group["momentum"], group["grad_avg"]
        bufs = [s["momentum_buffer"] for s in states]
        avgs = [s["grad_avg"] for s in states]
        gains = [s["gain"] for s in states]
        signals = []
        for g, s in zip(grads, states):
            s["step"] += 1
            # 1. each tensor's scale, from its gradient against its previous buffer
            sig = direction_cosine(g, s["momentum_buffer"]) if group["normalized_scale"] else torch.dot(
                g.reshape(-1).to(s["scale"].dtype), s["momentum_buffer"].reshape(-1).to(s["scale"].dtype))
            s["scale"] = scale_update(s["scale"], sig, group["scale_lr"], group["scale_min"], group["scale_max"])
            if group["sign_gains"]:
                signals.append(torch.sign(s["grad_avg"]))
            else:
                signals.append(s["grad_avg"] / (1.0 - beta ** max(s["step"] - 1, 1)))
        if foreach:
            # 2. gains from agreement with the running average
            if group["sign_gains"]:
                agree = torch._foreach_mul(signals, torch._foreach_sign(grads))
            else:
                agree = torch._foreach_mul(signals, grads)
            torch._foreach_mul_(agree, group["gain_lr"])
            torch._foreach_exp_(agree)
            torch._foreach_mul_(gains, agree)
            torch._foreach_clamp_min_(gains, group["gain_min"])
            torch._foreach_clamp_max_(gains, group["gain_max"])
            # 3. heavy ball on the gained, lr-scaled gradient
            torch._foreach_mul_(bufs, mu)
            torch._foreach_addcmul_(bufs, gains, grads, value=lr)
            for p, m, s in zip(params, bufs, states):
                p.addcmul_(m, s["scale"], value=-1.0)  # in place: no model-sized temporary
            # 4. the running average of gradients
            torch._foreach_lerp_(avgs, grads, 1.0 - beta)
        else:
            for p, g, s, sig in zip(params, grads, states, signals):
                agree = torch.sign(g) * sig if group["sign_gains"] else g * sig
                s["gain"] = (s["gain"] * torch.exp(group["gain_lr"] * agree)).clamp_(
                    group["gain_min"], group["gain_max"])
                s["momentum_buffer"].mul_(mu).add_(lr * (s["gain"] * g))
                p.addcmul_(s["momentum_buffer"], s["scale"], value=-1.0)
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
