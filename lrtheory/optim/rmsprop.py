"""Sign descent and two RMSprops, as torch optimisers (chapter 1).

Three rules that choose the learning rate from the gradient, the torch twins
of :mod:`lrtheory.adaptive`:

:class:`SignDescent`
    θ ← θ − γ̃ sign(g): every coordinate moves by γ̃.
:class:`RMSpropScalar`
    one accumulator for the whole parameter group, fed by the squared global
    gradient norm ‖g‖² = Σ over all tensors of the group; the update stays
    parallel to the gradient (version (a) of chapter 1).
:class:`RMSpropCoordinate`
    one accumulator per entry, the usual RMSprop (version (b)), with ε inside
    the square root as the source article writes it (``eps_inside=True``) or
    outside as torch does (``eps_inside=False``).

The mathematics is in the pure functions ``*_update`` (per tensor) and
``*_update_foreach`` (lists of tensors); the classes only keep the books.
"""

from __future__ import annotations

from typing import Any, Iterable

import torch

from .._validation import check_bool
from . import _compiled
from ._base import BookOptimizer, check_hparam, foreach_sub_scaled_, wide_dtype

__all__ = [
    "SignDescent",
    "RMSpropScalar",
    "RMSpropCoordinate",
    "sign_descent_update",
    "sign_descent_update_foreach",
    "rmsprop_coordinate_update",
    "rmsprop_coordinate_update_foreach",
    "rmsprop_scalar_step_size",
]


# ----------------------------------------------------------------------------- pure maths
def sign_descent_update(param: torch.Tensor, grad: torch.Tensor, lr: float) -> None:
    """In place: param ← param − lr · sign(grad)."""
    param.add_(torch.sign(grad), alpha=-lr)


def sign_descent_update_foreach(params: list[torch.Tensor], grads: list[torch.Tensor], lr: float,
                                scratch: list[torch.Tensor] | None = None) -> None:
    """Multi-tensor :func:`sign_descent_update`; ``scratch``: buffers like ``params`` for sign(g).

    Two passes: sign(g) into the buffers (read g, write the buffer), then one
    multi-tensor θ ← θ − lr·buffer; without ``scratch`` the signs go to fresh
    temporaries (the right choice on CUDA, whose allocator caches them).
    """
    if scratch is None:
        signs = torch._foreach_sign(grads)
    else:
        for g, b in zip(grads, scratch):
            torch.sign(g, out=b)
        signs = scratch
    torch._foreach_add_(params, signs, alpha=-lr)


def _denominator(square_avg: torch.Tensor, eps: float, eps_inside: bool) -> torch.Tensor:
    return square_avg.add(eps).sqrt_() if eps_inside else square_avg.sqrt().add_(eps)


def rmsprop_coordinate_update(
    param: torch.Tensor,
    grad: torch.Tensor,
    square_avg: torch.Tensor,
    lr: float,
    alpha: float,
    eps: float,
    eps_inside: bool,
) -> None:
    """In place: G ← αG + (1−α) g⊙g, then param ← param − lr · g / √(G+ε) (or /(√G+ε)).

    Entries whose denominator is zero (G = 0 and ε = 0, hence g = 0) do not move;
    a NaN (under the ``"ignore"`` policy) propagates as in torch.
    """
    square_avg.mul_(alpha).addcmul_(grad, grad, value=1.0 - alpha)
    den = _denominator(square_avg, eps, eps_inside)
    if eps == 0.0:
        param.add_(_guarded_ratio(grad, den), alpha=-lr)
    else:
        param.addcdiv_(grad, den, value=-lr)


def _guarded_ratio(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    """num / den, and 0 where den == 0 (a NaN denominator stays NaN)."""
    zero = den == 0
    return torch.where(zero, torch.zeros_like(num), num / torch.where(zero, torch.ones_like(den), den))


def rmsprop_coordinate_update_foreach(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    square_avgs: list[torch.Tensor],
    lr: float,
    alpha: float,
    eps: float,
    eps_inside: bool,
    scratch: list[torch.Tensor] | None = None,
) -> None:
    """Multi-tensor :func:`rmsprop_coordinate_update`; ``scratch``: buffers like ``params`` for the denominator.

    Passes: G ← αG (read and write G), G ← G + (1−α)g⊙g (read G and g, write G),
    the denominator into the buffers (two in-place passes), θ ← θ − lr g/den
    (read θ, g and den, write θ). Without ``scratch`` the denominator is a fresh
    temporary (the right choice on CUDA, whose allocator caches it).
    """
    torch._foreach_mul_(square_avgs, alpha)
    torch._foreach_addcmul_(square_avgs, grads, grads, value=1.0 - alpha)
    if scratch is not None:
        for a, d in zip(square_avgs, scratch):
            if eps_inside:
                torch.add(a, eps, out=d).sqrt_()
            else:
                torch.sqrt(a, out=d).add_(eps)
        den = scratch
    elif eps_inside:
        den = torch._foreach_add(square_avgs, eps)
        torch._foreach_sqrt_(den)
    else:
        den = torch._foreach_sqrt(square_avgs)
        torch._foreach_add_(den, eps)
    if eps == 0.0:  # a zero denominator is possible only without eps; fall back to the guarded form
        for p, g, d in zip(params, grads, den):
            p.add_(_guarded_ratio(g, d), alpha=-lr)
        return
    torch._foreach_addcdiv_(params, grads, den, value=-lr)


def rmsprop_scalar_step_size(square_avg: torch.Tensor, lr: float, eps: float, eps_inside: bool) -> torch.Tensor:
    """The scalar RMSprop learning rate lr / √(G+ε) (or lr/(√G+ε)); zero where the denominator is zero."""
    den = _denominator(square_avg, eps, eps_inside)
    return _guarded_ratio(torch.full_like(den, lr), den)


# ----------------------------------------------------------------------------- optimisers
def _rmsprop_defaults(lr: float, alpha: float, eps: float, eps_inside: bool,
                      initial_accumulator_value: float, foreach: bool | None) -> dict[str, Any]:
    """The checked hyperparameters shared by both RMSprop classes."""
    return {
        "lr": check_hparam("lr", lr),
        "alpha": check_hparam("alpha", alpha, high=1.0, high_inclusive=False),
        "eps": check_hparam("eps", eps),
        "eps_inside": check_bool("eps_inside", eps_inside),
        "initial_accumulator_value": check_hparam("initial_accumulator_value", initial_accumulator_value),
        "foreach": foreach,
    }


class SignDescent(BookOptimizer):
    r"""Sign descent: every entry moves by ``lr`` against the sign of its gradient.

    .. math:: \theta \leftarrow \theta - \tilde\gamma\,\operatorname{sign}(g)

    Parameters
    ----------
    params : iterable
        Parameters or parameter groups.
    lr : float, optional
        The displacement γ̃ ≥ 0 of every entry per step (default 1e-3).
    foreach : bool or None, optional
        Multi-tensor path (``None``/``True``) or per-tensor loop (``False``).
    compile : bool, optional
        Run the multi-tensor path as one ``torch.compile``-d function (one
        fused pass per tensor; 10–70 s of compilation at the first step).
        Default ``False``; see ``lrtheory.optim._compiled``.

    Notes
    -----
    It is :class:`RMSpropCoordinate` with ``alpha=0`` and ``eps=0``, and the
    step γ = γ̃/abs(L′) of chapter 1 in one dimension. There is no torch.optim
    counterpart (``torch.optim.Rprop`` adapts the step size per entry; this
    does not). Entries with a zero gradient do not move. No state.
    """

    elementwise = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, *, foreach: bool | None = None,
                 compile: bool = False) -> None:
        lr = check_hparam("lr", lr)
        super().__init__(params, {"lr": lr, "foreach": foreach, "compile": check_bool("compile", compile)})

    def _init_state(self, p: torch.Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": 0}

    def _group_step(self, group, params, grads, states, foreach) -> None:  # type: ignore[override]
        for s in states:
            s["step"] += 1
        if foreach and group.get("compile"):
            _compiled.compiled(_compiled.sign_descent_fused)(params, grads, _compiled.hyper(group["lr"], params[0]))
        elif foreach:
            scratch = self._scratch(params) if self._on_cpu(params) else None
            sign_descent_update_foreach(params, grads, group["lr"], scratch)
        else:
            for p, g in zip(params, grads):
                sign_descent_update(p, g, group["lr"])


class RMSpropCoordinate(BookOptimizer):
    r"""RMSprop with a per-entry accumulator and, by default, ε inside the square root.

    .. math::

        G \leftarrow \alpha G + (1-\alpha)\, g\odot g,\qquad
        \theta \leftarrow \theta - \tilde\gamma\, \frac{g}{\sqrt{G+\epsilon}}

    Parameters
    ----------
    params : iterable
        Parameters or parameter groups.
    lr : float, optional
        γ̃ ≥ 0 (default 1e-2, torch's default).
    alpha : float, optional
        Smoothing constant α in [0, 1) (the source article's λ) (default 0.99).
    eps : float, optional
        ε ≥ 0 (default 1e-8).
    eps_inside : bool, optional
        ``True`` (default): divide by √(G+ε), the source article's form;
        ``False``: divide by √G + ε, torch's form.
    initial_accumulator_value : float, optional
        G_0 ≥ 0 for every entry (default 0, as torch).
    foreach : bool or None, optional
        Multi-tensor path (``None``/``True``) or per-tensor loop (``False``).
    compile : bool, optional
        Run the multi-tensor path as one ``torch.compile``-d function, as in
        :class:`SignDescent` (default ``False``).

    Notes
    -----
    Differences from :class:`torch.optim.RMSprop`:

    * ε placement: torch divides by √G + ε; here √(G+ε) unless
      ``eps_inside=False``. With ``eps=0`` the two coincide.
    * initial accumulator: torch starts from G_0 = 0; here
      ``initial_accumulator_value`` (default 0).
    * no bias correction in either; no ``momentum``, ``centered``,
      ``weight_decay`` or ``maximize`` here.

    With ``eps_inside=False`` and ``initial_accumulator_value=0`` (or with
    ``eps=0``) it equals ``torch.optim.RMSprop(params, lr, alpha, eps)``.
    Entries whose denominator is zero (only possible with ε = 0) do not move.
    """

    elementwise = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        *,
        eps_inside: bool = True,
        initial_accumulator_value: float = 0.0,
        foreach: bool | None = None,
        compile: bool = False,
    ) -> None:
        defaults = _rmsprop_defaults(lr, alpha, eps, eps_inside, initial_accumulator_value, foreach)
        super().__init__(params, {**defaults, "compile": check_bool("compile", compile)})

    def _init_state(self, p: torch.Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {
            "step": 0,
            "square_avg": torch.full_like(p, group["initial_accumulator_value"], memory_format=torch.preserve_format),
        }

    def _group_step(self, group, params, grads, states, foreach) -> None:  # type: ignore[override]
        for s in states:
            s["step"] += 1
        avgs = [s["square_avg"] for s in states]
        args = (group["lr"], group["alpha"], group["eps"], group["eps_inside"])
        if foreach and group.get("compile"):
            h = [_compiled.hyper(v, params[0]) for v in (group["lr"], group["alpha"], group["eps"])]
            _compiled.compiled(_compiled.rmsprop_coordinate_fused)(params, grads, avgs, *h, group["eps_inside"],
                                                                   group["eps"] == 0.0)
        elif foreach:
            scratch = self._scratch(params) if self._on_cpu(params) else None
            rmsprop_coordinate_update_foreach(params, grads, avgs, *args, scratch=scratch)
        else:
            for p, g, a in zip(params, grads, avgs):
                rmsprop_coordinate_update(p, g, a, *args)


class RMSpropScalar(BookOptimizer):
    r"""RMSprop with ONE accumulator per parameter group, fed by the global squared gradient norm.

    .. math::

        G \leftarrow \alpha G + (1-\alpha) \sum_{\text{tensors}} \lVert g\rVert^2,\qquad
        \theta \leftarrow \theta - \frac{\tilde\gamma}{\sqrt{G+\epsilon}}\, g

    Every tensor of the group takes the same learning rate, so the update is
    parallel to the (group's) gradient: Euler's method with an adaptive step.

    Parameters
    ----------
    params : iterable
        Parameters or parameter groups (each group has its own accumulator).
    lr, alpha, eps, eps_inside, initial_accumulator_value, foreach
        As in :class:`RMSpropCoordinate`.

    Notes
    -----
    The group's accumulator is a 0-d tensor stored, identical, in the state
    of every parameter that has taken part in a step (so ``state_dict``
    round-trips it); a parameter joining later inherits the current value.
    It lives in float32 or the widest parameter dtype of the group, whichever
    is wider (:func:`~lrtheory.optim._base.wide_dtype`), whatever the order of
    the parameters.
    The norm covers only the parameters that have a gradient at this step.
    There is no torch.optim counterpart; with one parameter of one entry it
    coincides with :class:`RMSpropCoordinate` (and, with ``eps_inside=False``,
    with ``torch.optim.RMSprop``).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        *,
        eps_inside: bool = True,
        initial_accumulator_value: float = 0.0,
        foreach: bool | None = None,
    ) -> None:
        super().__init__(params, _rmsprop_defaults(lr, alpha, eps, eps_inside, initial_accumulator_value, foreach))

    wide_state = ("square_avg",)

    def _init_state(self, p: torch.Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": 0, "square_avg": None}

    def _group_step(self, group, params, grads, states, foreach) -> None:  # type: ignore[override]
        dtype, device = wide_dtype(*(p.dtype for p in group["params"])), params[0].device
        known = [s for s in states if s["square_avg"] is not None]
        if known:
            current = max(known, key=lambda s: s["step"])["square_avg"].to(device=device, dtype=dtype)
        else:
            current = torch.tensor(group["initial_accumulator_value"], dtype=dtype, device=device)
        if foreach:
            norms = torch._foreach_norm(grads, 2, dtype=dtype) if len({g.dtype for g in grads}) == 1 \
                else [torch.linalg.vector_norm(g, dtype=dtype) for g in grads]
            sq_norm = torch.stack([n.to(device) for n in norms]).pow(2).sum()
        else:
            sq_norm = torch.zeros((), dtype=dtype, device=device)
            for g in grads:
                sq_norm = sq_norm + g.to(dtype).pow(2).sum()
        alpha = group["alpha"]
        new = current * alpha + (1.0 - alpha) * sq_norm
        step_size = rmsprop_scalar_step_size(new, group["lr"], group["eps"], group["eps_inside"])
        for s in states:
            s["step"] += 1
            s["square_avg"] = new.clone()
        if foreach:
            foreach_sub_scaled_(params, grads, step_size)
        else:
            for p, g in zip(params, grads):
                p.add_(g * -step_size)
