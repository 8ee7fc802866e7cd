"""Step sizes learned on the fly by descending the loss with respect to the step size.

After one step θ_t = θ_{t−1} − η ν_t ⊙ u_{t−1} along a direction u, the loss
at θ_t depends on the step-size factors ν_t, with hypergradient

    ∂L(θ_t)/∂ν_t = −η u_{t−1} ⊙ g_t,      g_t = ∇L(θ_t).

Descending it gives two families of step-size rules:

* :class:`EGStepSize` (Amid et al. 2022, in the simplified form of Su 2022):
  exponentiated gradient on ν, per coordinate or one scalar per group,
  ν_{t+1} = ν_t ⊙ exp(γ u_{t−1} ⊙ g_t) (the factor η merged into γ), on top of
  a plain-gradient, heavy-ball or Adam direction u;
* :class:`HypergradientSGD` (Baydin et al. 2018): additive descent on a
  scalar learning rate, α_t = α_{t−1} + β ⟨g_{t−1}, g_t⟩.

Derived in chapter 4.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import torch

from .._validation import check_bool
from ._base import BookOptimizer, check_hparam, foreach_sub_scaled_, wide_dtype

__all__ = [
    "EGStepSize",
    "HypergradientSGD",
    "DIRECTIONS",
    "SIGNALS",
    "eg_step_size_update",
    "hypergradient_lr_update",
]

DIRECTIONS: tuple[str, ...] = ("sgd", "momentum", "adam")
"""Update directions that :class:`EGStepSize` can scale."""

SIGNALS: tuple[str, ...] = ("direction", "gradient")
"""What :class:`EGStepSize` pairs with g_t: the previous direction u_{t−1} or gradient g_{t−1}."""


def eg_step_size_update(nu: torch.Tensor, signal: torch.Tensor, meta_lr: float,
                        nu_min: float = 0.0, nu_max: float = math.inf) -> torch.Tensor:
    """Return clamp(ν ⊙ exp(meta_lr · signal), nu_min, nu_max) (a new tensor).

    Parameters
    ----------
    nu : torch.Tensor
        Current step-size factors ν_t > 0.
    signal : torch.Tensor
        u_{t−1} ⊙ g_t (per coordinate) or ⟨u_{t−1}, g_t⟩ (scalar); equal to
        −(1/η) times the hypergradient ∂L(θ_t)/∂ν_t.
    meta_lr : float
        Meta learning rate γ (with η merged in).
    nu_min, nu_max : float
        Clamping bounds (defaults: none).

    Returns
    -------
    torch.Tensor

    Notes
    -----
    Starting from ν_1 = 1 with u = g, ν_{t+1} = exp(γ Σ_{k=1}^{t} g_{k−1} ⊙ g_k):
    coordinates whose consecutive gradients agree in sign speed up, those that
    alternate slow down. Derived in chapter 4.
    """
    out = nu * torch.exp(meta_lr * signal)
    if nu_min > 0.0 or math.isfinite(nu_max):
        out = out.clamp(min=nu_min, max=nu_max)
    return out


def hypergradient_lr_update(lr: torch.Tensor, dot: torch.Tensor, hyper_lr: float) -> torch.Tensor:
    """Return α + β ⟨g_{t−1}, g_t⟩: one additive hypergradient step on the learning rate.

    Parameters
    ----------
    lr : torch.Tensor
        Current learning rate α_{t−1} (0-d).
    dot : torch.Tensor
        ⟨g_{t−1}, g_t⟩ summed over the group (0-d); −∂L(θ_t)/∂α_{t−1}.
    hyper_lr : float
        Hypergradient learning rate β.

    Returns
    -------
    torch.Tensor

    Notes
    -----
    Baydin et al. (2018), SGD-HD. Derived in chapter 4.
    """
    return lr + hyper_lr * dot


def _group_dot(a: list[torch.Tensor], b: list[torch.Tensor], foreach: bool, dtype: torch.dtype) -> torch.Tensor:
    """Σ over the tensors of ⟨a_i, b_i⟩, accumulated in ``dtype`` (float32 or wider)."""
    if foreach:
        # one fused multiply-and-sum per tensor: no model-sized temporary when the dtypes agree
        return torch.stack([torch.dot(x.reshape(-1).to(dtype), y.reshape(-1).to(dtype))
                            for x, y in zip(a, b)]).sum()
    return torch.stack([(x.to(dtype) * y.to(dtype)).sum() for x, y in zip(a, b)]).sum()


class EGStepSize(BookOptimizer):
    r"""Step sizes adapted by exponentiated gradient on the hypergradient (per coordinate or scalar).

    .. math::

        \nu_{t+1} &= \nu_t \odot \exp(\gamma\, u_{t-1} \odot g_t) \\
        \theta_{t+1} &= \theta_t - \eta\, \nu_{t+1} \odot u_t

    with u = g (``direction="sgd"``, the article's rule), the heavy-ball
    buffer u_t = μ u_{t−1} + g_t (``"momentum"``, torch's convention) or
    Adam's bias-corrected m̂_t / (√v̂_t + ε) (``"adam"``). With
    ``per_coordinate=False`` there is one ν per parameter group and the
    product is replaced by the inner product ⟨u_{t−1}, g_t⟩ over the group.

    Parameters
    ----------
    params : iterable
        Tensors or parameter groups.
    lr : float, optional
        Base learning rate η ≥ 0 (default 0.01).
    meta_lr : float, optional
        Meta learning rate γ ≥ 0 (default 0.01); ``0`` gives the base
        optimiser with constant learning rate η ν_0.
    per_coordinate : bool, optional
        One ν per entry (default) or one per group.
    direction : {"sgd", "momentum", "adam"}, optional
        Update direction u that ν scales (default ``"sgd"``).
    momentum : float, optional
        μ ∈ [0, 1) for ``"momentum"`` (default 0.9).
    betas : tuple of float, optional
        Adam's (β₁, β₂) for ``"adam"`` (default (0.9, 0.999)).
    eps : float, optional
        Adam's ε, added outside the square root (default 1e-8).
    signal : {"direction", "gradient"}, optional
        Pair g_t with the previous direction u_{t−1} (default: the exact
        one-step hypergradient) or with the previous gradient g_{t−1} (the
        SGD formula applied unchanged to another direction; the two coincide
        for ``direction="sgd"``).
    init_nu : float, optional
        ν_0 > 0 (default 1).
    nu_min, nu_max : float, optional
        Clamp ν to [nu_min, nu_max] after each update (default: no clamp).
    foreach : bool or None, optional
        ``True``/``None``: multi-tensor path; ``False``: per-tensor loop.

    Notes
    -----
    The exact hypergradient is ∂L(θ_t)/∂ν_t = −η u_{t−1} ⊙ g_t; the factor η
    is merged into γ, so ``meta_lr`` is γη in the text's notation. The
    signal pairs the previous *update direction* with the current *gradient*:
    for plain SGD this is g_{t−1} ⊙ g_t, for Adam it is not the product of two
    consecutive Adam updates. On the first step u_0 = 0, so ν_1 = ν_0.
    In scalar mode every tensor's state holds a copy of the group's ν.
    ν lives in float32 or wider whatever the parameter dtype (in bfloat16 a
    factor exp(γ u g) closer to one than 2⁻⁸ would leave it unchanged), and
    keeps that dtype through ``load_state_dict``.
    With ``meta_lr=0`` the iterates equal :class:`torch.optim.SGD` (``"sgd"``,
    ``"momentum"`` with dampening 0, nesterov off) or :class:`torch.optim.Adam`
    (``"adam"``, amsgrad off) with learning rate η ν_0. Derived in chapter 4.
    """

    def __init__(self, params: Iterable[Any], lr: float = 0.01, meta_lr: float = 0.01, *,
                 per_coordinate: bool = True, direction: str = "sgd", momentum: float = 0.9,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, signal: str = "direction",
                 init_nu: float = 1.0,
                 nu_min: float = 0.0, nu_max: float = math.inf, foreach: bool | None = None) -> None:
        lr = check_hparam("lr", lr)
        meta_lr = check_hparam("meta_lr", meta_lr)
        per_coordinate = check_bool("per_coordinate", per_coordinate)
        if direction not in DIRECTIONS:
            raise ValueError(f"Invalid direction: {direction!r} (must be one of {DIRECTIONS})")
        if signal not in SIGNALS:
            raise ValueError(f"Invalid signal: {signal!r} (must be one of {SIGNALS})")
        momentum = check_hparam("momentum", momentum, high=1.0, high_inclusive=False)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError("Invalid betas: must be a pair of floats")
        betas = (check_hparam("betas[0]", betas[0], high=1.0, high_inclusive=False),
                 check_hparam("betas[1]", betas[1], high=1.0, high_inclusive=False))
        eps = check_hparam("eps", eps)
        init_nu = check_hparam("init_nu", init_nu, low_inclusive=False)
        nu_min = check_hparam("nu_min", nu_min)
        if not (isinstance(nu_max, float) and nu_max == math.inf):  # inf (the default): no upper clamp
            nu_max = check_hparam("nu_max", nu_max)
        if not nu_max > nu_min:
            raise ValueError(f"Invalid nu_max: {nu_max} (must be a number > nu_min={nu_min})")
        defaults = dict(lr=lr, meta_lr=meta_lr, per_coordinate=per_coordinate, direction=direction,
                        momentum=momentum, betas=betas, eps=eps, signal=signal, init_nu=init_nu, nu_min=nu_min,
                        nu_max=float(nu_max), foreach=foreach)
        super().__init__(params, defaults)

    wide_state = ("nu",)

    def _init_state(self, p: torch.Tensor, group: dict[str, Any]) -> dict[str, Any]:
        nu_shape = p.shape if group["per_coordinate"] else ()
        state: dict[str, Any] = {
            "step": torch.zeros((), dtype=torch.float64),
            "nu": torch.full(nu_shape, group["init_nu"], dtype=wide_dtype(p.dtype), device=p.device),
            "prev_direction": torch.zeros_like(p, memory_format=torch.preserve_format),
        }
        if group["direction"] == "momentum":
            state["momentum_buffer"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        elif group["direction"] == "adam":
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        return state

    def _group_step(self, group, params, grads, states, foreach) -> None:  # type: ignore[no-untyped-def]
        lr, gamma = group["lr"], group["meta_lr"]
        nu_min, nu_max = group["nu_min"], group["nu_max"]
        prevs = [s["prev_direction"] for s in states]
        # 1. step sizes: ν ← ν ⊙ exp(γ u_{t−1} ⊙ g_t)
        if group["per_coordinate"]:
            if foreach:
                nus = [s["nu"] for s in states]
                if all(n.dtype == p.dtype for n, p in zip(nus, prevs)):
                    # the previous directions are overwritten at the end of the step, so
                    # the factor exp(γ u_{t−1} ⊙ g_t) is built in their memory: no temporaries
                    torch._foreach_mul_(prevs, grads)
                    factors = prevs
                else:  # a low-precision model: the factor is formed in ν's (wider) dtype
                    factors = [u.to(n.dtype) for u, n in zip(prevs, nus)]
                    torch._foreach_mul_(factors, grads)
                torch._foreach_mul_(factors, gamma)
                torch._foreach_exp_(factors)
                torch._foreach_mul_(nus, factors)
                if nu_min > 0.0 or math.isfinite(nu_max):
                    torch._foreach_clamp_min_(nus, nu_min)
                    torch._foreach_clamp_max_(nus, nu_max)
            else:
                for s, g in zip(states, grads):
                    signal = s["prev_direction"].to(s["nu"].dtype) * g
                    s["nu"] = eg_step_size_update(s["nu"], signal, gamma, nu_min, nu_max)
        else:
            dot = _group_dot(prevs, grads, foreach, states[0]["nu"].dtype)
            nu = eg_step_size_update(states[0]["nu"], dot, gamma, nu_min, nu_max)
            for s in states:
                s["nu"] = nu.clone()
        # 2. direction u_t
        for s in states:
            s["step"] += 1
        dirs = self._directions(group, grads, states, foreach)
        remembered = grads if group["signal"] == "gradient" else dirs
        # 3. θ ← θ − η ν ⊙ u_t ; remember u_t
        if foreach:
            nus = [s["nu"] for s in states]
            if group["per_coordinate"] and all(n.dtype == p.dtype for n, p in zip(nus, params)):
                torch._foreach_addcmul_(params, dirs, nus, value=-lr)
            elif group["per_coordinate"]:
                torch._foreach_add_(params, [(n * u).to(p.dtype) for n, u, p in zip(nus, dirs, params)], alpha=-lr)
            else:
                scaled = torch._foreach_mul(dirs, nus[0])
                torch._foreach_add_(params, scaled, alpha=-lr)
            torch._foreach_copy_(prevs, remembered)
        else:
            for p, s, u, r in zip(params, states, dirs, remembered):
                p.add_((s["nu"] * u).to(p.dtype), alpha=-lr)
                s["prev_direction"].copy_(r)

    @staticmethod
    def _directions(group: dict[str, Any], grads: list[torch.Tensor], states: list[dict[str, Any]],
                    foreach: bool) -> list[torch.Tensor]:
        kind = group["direction"]
        if kind == "sgd":
            return grads
        if kind == "momentum":
            bufs = [s["momentum_buffer"] for s in states]
            if foreach:
                torch._foreach_mul_(bufs, group["momentum"])
                torch._foreach_add_(bufs, grads)
            else:
                for b, g in zip(bufs, grads):
                    b.mul_(group["momentum"]).add_(g)
            return bufs
        beta1, beta2 = group["betas"]
        eps = group["eps"]
        step = float(states[0]["step"])
        bc1, bc2 = 1.0 - beta1**step, 1.0 - beta2**step
        ms = [s["exp_avg"] for s in states]
        vs = [s["exp_avg_sq"] for s in states]
        if foreach:
            torch._foreach_lerp_(ms, grads, 1.0 - beta1)
            torch._foreach_mul_(vs, beta2)
            torch._foreach_addcmul_(vs, grads, grads, value=1.0 - beta2)
            denom = torch._foreach_sqrt(vs)
            torch._foreach_div_(denom, math.sqrt(bc2))
            torch._foreach_add_(denom, eps)
            out = torch._foreach_div(ms, denom)
            torch._foreach_div_(out, bc1)
            return list(out)
        out = []
        for m, v, g in zip(ms, vs, grads):
            m.lerp_(g, 1.0 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1.0 - beta2)
            out.append((m / bc1) / (v.sqrt() / math.sqrt(bc2) + eps))
        return out

    @torch.no_grad()
    def effective_lrs(self) -> list[torch.Tensor]:
        """The current step sizes η ν, one flat tensor per group (empty before the first step).

        Returns
        -------
        list of torch.Tensor
            Per group: all per-coordinate step sizes concatenated, or the one
            scalar step size (shape ``(1,)``).
        """
        out = []
        for group in self.param_groups:
            nus = [self.state[p]["nu"].reshape(-1) for p in group["params"] if "nu" in self.state[p]]
            if not nus:
                out.append(torch.empty(0))
            elif group["per_coordinate"]:
                out.append(group["lr"] * torch.cat(nus))
            else:
                out.append(group["lr"] * nus[0])
        return out


class HypergradientSGD(BookOptimizer):
    r"""SGD with an additive hypergradient-descent learning rate (Baydin et al. 2018, SGD-HD).

    .. math::

        \alpha_t &= \alpha_{t-1} + \beta\, \langle g_{t-1}, g_t \rangle \\
        \theta_{t+1} &= \theta_t - \alpha_t\, g_t

    Parameters
    ----------
    params : iterable
        Tensors or parameter groups.
    lr : float, optional
        Initial learning rate α_0 ≥ 0 (default 0.01).
    hyper_lr : float, optional
        Hypergradient learning rate β ≥ 0 (default 1e-4); ``0`` gives plain SGD.
    foreach : bool or None, optional
        ``True``/``None``: multi-tensor path; ``False``: per-tensor loop.

    Notes
    -----
    −⟨g_{t−1}, g_t⟩ is the derivative of L(θ_t) with respect to α_{t−1}; the
    inner product runs over the whole parameter group, which has one
    learning rate. ``group["lr"]`` keeps the initial α_0; the current α_t is
    in every tensor's state (``"lr"``, a 0-d tensor in float32 or wider, so
    that it moves in bfloat16 models too; a copy per tensor).
    Unlike the multiplicative rule of :class:`EGStepSize`, α_t can become
    negative; no clamp is applied, as in the paper. With ``hyper_lr=0`` this
    is :class:`torch.optim.SGD` without momentum. Derived in chapter 4.
    """

    def __init__(self, params: Iterable[Any], lr: float = 0.01, hyper_lr: float = 1e-4, *,
                 foreach: bool | None = None) -> None:
        lr = check_hparam("lr", lr)
        hyper_lr = check_hparam("hyper_lr", hyper_lr)
        super().__init__(params, {"lr": lr, "hyper_lr": hyper_lr, "foreach": foreach})

    wide_state = ("lr",)

    def _init_state(self, p: torch.Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {
            "lr": torch.tensor(group["lr"], dtype=wide_dtype(p.dtype), device=p.device),
            "prev_grad": torch.zeros_like(p, memory_format=torch.preserve_format),
        }

    def _group_step(self, group, params, grads, states, foreach) -> None:  # type: ignore[no-untyped-def]
        prevs = [s["prev_grad"] for s in states]
        dot = _group_dot(prevs, grads, foreach, states[0]["lr"].dtype)
        alpha = hypergradient_lr_update(states[0]["lr"], dot, group["hyper_lr"])
        for s in states:
            s["lr"] = alpha.clone()
        if foreach:
            foreach_sub_scaled_(params, grads, alpha)
            torch._foreach_copy_(prevs, grads)
        else:
            for p, g, prev in zip(params, grads, prevs):
                p.add_(g * -alpha)
                prev.copy_(g)

    @torch.no_grad()
    def effective_lrs(self) -> list[torch.Tensor]:
        """The current learning rate α_t of each group, as tensors of shape ``(1,)``."""
        out = []
        for group in self.param_groups:
            lrs = [self.state[p]["lr"].reshape(1) for p in group["params"] if "lr" in self.state[p]]
            out.append(lrs[0] if lrs else torch.tensor([group["lr"]]))
        return out
