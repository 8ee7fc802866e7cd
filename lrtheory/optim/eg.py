"""Exponentiated gradient descent for non-negative parameters, and its normalised form on the simplex.

* :class:`EGD`: θ ← θ ⊙ exp(−η ∇L). Parameters must start non-negative and
  then stay so; zero entries stay zero.
* :class:`NormalizedEGD`: the same step followed by division by the sum of
  the tensor's entries, so that every parameter tensor is a point of the
  probability simplex (mirror descent with the entropy).

The mathematics is in the pure functions :func:`eg_update` and
:func:`normalized_eg_update`; the classes do the bookkeeping of
:class:`~lrtheory.optim._base.BookOptimizer`.  Derived in chapter 4.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import torch

from .._validation import check_bool
from . import _compiled
from ._base import BookOptimizer, check_hparam

__all__ = ["EGD", "NormalizedEGD", "eg_update", "eg_update_foreach", "normalized_eg_update",
           "normalized_eg_update_foreach"]


def eg_update(theta: torch.Tensor, grad: torch.Tensor, lr: float) -> torch.Tensor:
    """Return θ ⊙ exp(−lr · grad) (a new tensor).

    Parameters
    ----------
    theta : torch.Tensor
        Current parameter, entries ≥ 0.
    grad : torch.Tensor
        Gradient at ``theta``.
    lr : float
        Learning rate η.

    Returns
    -------
    torch.Tensor

    Notes
    -----
    Gradient descent on φ = log θ is φ ← φ − η θ ⊙ ∇_θ L; dropping the factor
    θ gives log θ ← log θ − η ∇_θ L, i.e. this update. Derived in chapter 4.
    """
    return theta * torch.exp(-lr * grad)


def eg_update_foreach(params: list[torch.Tensor], grads: list[torch.Tensor], lr: float,
                      scratch: list[torch.Tensor] | None = None) -> None:
    """In place, for every tensor: θ ← θ ⊙ exp(−lr · g) (multi-tensor :func:`eg_update`).

    Parameters
    ----------
    params, grads : list of torch.Tensor
        Parameters (entries ≥ 0) and their gradients, aligned.
    lr : float
        Learning rate η.
    scratch : list of torch.Tensor, optional
        Buffers shaped like ``params`` for the factors exp(−η g); without them
        the factors are fresh temporaries (the right choice on CUDA).

    Notes
    -----
    Three passes: −η g into the buffer (read g, write it), exp in place
    (read and write it), θ ← θ ⊙ buffer (read both, write θ). Chapter 4.
    """
    if scratch is None:
        factors = torch._foreach_mul(grads, -lr)
    else:
        for g, b in zip(grads, scratch):
            torch.mul(g, -lr, out=b)
        factors = scratch
    torch._foreach_exp_(factors)
    torch._foreach_mul_(params, factors)


def normalized_eg_update(theta: torch.Tensor, grad: torch.Tensor, lr: float) -> torch.Tensor:
    """Return θ ⊙ exp(−lr · grad) divided by its sum over all entries (a new tensor).

    Parameters
    ----------
    theta : torch.Tensor
        Current parameter, entries ≥ 0 with a positive sum.
    grad : torch.Tensor
        Gradient at ``theta``.
    lr : float
        Learning rate η.

    Returns
    -------
    torch.Tensor
        A point of the probability simplex (entries ≥ 0 summing to one).

    Notes
    -----
    Computed in log space: z = log θ − η(g − min g), then w = exp(z − max z)
    and w / Σw (log-sum-exp). The shift leaves the normalised result
    unchanged, keeps every exponential ≤ 1 (no overflow) and makes the largest
    one exactly 1, so Σw ≥ 1: the mass cannot underflow to 0/0 even when every
    θ_i exp(−η g_i) does (θ = [0, 1], η = 1000, g = [0, 1] gives [0, 1]).
    Entries with θ_i = 0 have z_i = −∞ and stay 0.
    The step is mirror descent with the negative entropy: it minimises
    η⟨g, w⟩ + KL(w ‖ θ) over the simplex. Derived in chapter 4.
    """
    z = torch.log(theta).sub_(grad - grad.min(), alpha=lr)
    w = torch.exp(z - z.max())
    return w / w.sum()


def _tiny_mass(dtype: torch.dtype) -> float:
    """Below this sum of θ ⊙ exp(−η(g − min g)), underflow may have cost accuracy: use log space."""
    info = torch.finfo(dtype)
    return info.tiny / info.eps


def normalized_eg_update_foreach(params: list[torch.Tensor], grads: list[torch.Tensor], lr: float,
                                 scratch: list[torch.Tensor] | None = None) -> None:
    """In place, for every tensor: θ ← :func:`normalized_eg_update` (θ, g, lr).

    Parameters
    ----------
    params, grads : list of torch.Tensor
        Parameters (entries ≥ 0, positive sums) and their gradients, aligned.
    lr : float
        Learning rate η.
    scratch : list of torch.Tensor, optional
        Buffers shaped like ``params``. With them (the CPU fast path) each
        tensor takes the direct form w = θ ⊙ exp(−η(g − min g)), θ ← w / Σw in
        a few in-place passes, and falls back to the log-space form of
        :func:`normalized_eg_update` for a tensor whose mass Σw is so small that
        underflow may have cost accuracy (below tiny/eps of the dtype) or
        infinite; without
        them every tensor takes the log-space form, multi-tensor (no host
        synchronisation: the right choice on CUDA).

    Notes
    -----
    The direct form reads g for its minimum, writes −η(g − min g) into the
    buffer in one pass, exponentiates it in place, multiplies by θ, sums, and
    writes the buffer times 1/Σ into θ. Both forms equal θ ⊙ e^{−ηg} / Σ θ ⊙ e^{−ηg}. Chapter 4.
    """
    if scratch is None:
        mins = torch._foreach_max(torch._foreach_neg(grads))  # −min g
        expo = torch._foreach_add(grads, mins)  # g − min g ≥ 0
        torch._foreach_mul_(expo, -lr)
        torch._foreach_add_(expo, torch._foreach_log(params))  # z = log θ − η(g − min g)
        torch._foreach_sub_(expo, torch._foreach_max(expo))  # z − max z ≤ 0, the max exactly 0
        torch._foreach_exp_(expo)
        sums = torch._foreach_norm(expo, 1)  # entries are ≥ 0: the 1-norm is the sum (≥ 1)
        torch._foreach_div_(expo, sums)
        torch._foreach_copy_(params, expo)
        return
    for p, g, b in zip(params, grads, scratch):
        shift = (g.min() * lr).to(b.dtype)  # η min g, so that −η(g − min g) ≤ 0
        torch.add(shift, g, alpha=-lr, out=b).exp_().mul_(p)  # one pass for the exponent
        mass = float(b.sum())
        if 0.0 <= mass < _tiny_mass(b.dtype) or mass == math.inf:
            # the mass underflowed (θ = [0, 1], η = 1000, g = [0, 1]) or overflowed: log space
            p.copy_(normalized_eg_update(p, g, lr))
        else:  # (a NaN mass, from a NaN gradient under "ignore", propagates as in the log form)
            torch.mul(b, 1.0 / mass, out=p)  # a product is cheaper than a quotient


class EGD(BookOptimizer):
    r"""Exponentiated gradient descent: θ ← θ ⊙ exp(−lr · ∇L), for non-negative parameters.

    .. math::

        \theta_{t+1} = \theta_t \odot \exp(-\eta\, g_t)

    Parameters
    ----------
    params : iterable
        Tensors or parameter groups. Every entry must be ≥ 0 when the tensor
        is handed to the optimiser (a ``ValueError`` otherwise).
    lr : float, optional
        Learning rate η ≥ 0 (default 0.1).
    foreach : bool or None, optional
        ``True``/``None``: multi-tensor path; ``False``: per-tensor loop.
    compile : bool, optional
        Run the multi-tensor path as one ``torch.compile``-d function (fused
        passes; 10–70 s of compilation at the first step). Default ``False``;
        see ``lrtheory.optim._compiled``.

    Notes
    -----
    Conventions that differ from :class:`torch.optim.SGD`: the step is
    multiplicative, so a parameter's sign never changes and a zero entry is
    frozen at zero; η has the units of 1/gradient rather than
    parameter/gradient (the step of entry i is about η θ_i g_i for small
    η g_i). There is no momentum or weight decay. Derived in chapter 4.
    """

    elementwise = True

    def __init__(self, params: Iterable[Any], lr: float = 0.1, *, foreach: bool | None = None,
                 compile: bool = False) -> None:
        lr = check_hparam("lr", lr)
        super().__init__(params, {"lr": lr, "foreach": foreach, "compile": check_bool("compile", compile)})

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group after checking that its parameters are non-negative."""
        super().add_param_group(param_group)
        _check_nonnegative(type(self).__name__, self.param_groups[-1]["params"], need_positive_sum=False)

    def _init_state(self, p: torch.Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {}

    def _group_step(self, group, params, grads, states, foreach) -> None:  # type: ignore[no-untyped-def]
        lr = group["lr"]
        if foreach and group.get("compile"):
            _compiled.compiled(_compiled.eg_fused)(params, grads, _compiled.hyper(lr, params[0]))
        elif foreach:
            eg_update_foreach(params, grads, lr, self._scratch(params) if self._on_cpu(params) else None)
        else:
            for p, g in zip(params, grads):
                p.copy_(eg_update(p, g, lr))


class NormalizedEGD(BookOptimizer):
    r"""Normalised exponentiated gradient: each parameter tensor is a point of the probability simplex.

    .. math::

        \theta_{t+1} = \frac{\theta_t \odot \exp(-\eta\, g_t)}
                            {\sum_i \theta_{t,i} \exp(-\eta\, g_{t,i})}

    Parameters
    ----------
    params : iterable
        Tensors or parameter groups; each tensor's entries must be ≥ 0 with a
        positive sum (a ``ValueError`` otherwise). After the first step every
        tensor sums to one. The sum runs over all entries of a tensor; use one
        tensor per simplex.
    lr : float, optional
        Learning rate η ≥ 0 (default 0.1).
    foreach : bool or None, optional
        ``True``/``None``: multi-tensor path; ``False``: per-tensor loop.
    compile : bool, optional
        Run the multi-tensor path as one ``torch.compile``-d function (fused
        passes; 10–70 s of compilation at the first step). Default ``False``;
        see ``lrtheory.optim._compiled``.

    Notes
    -----
    The normalisation means that adding a constant to the gradient changes
    nothing: only differences between coordinates matter, as they should on
    the simplex. Derived in chapter 4.
    """

    def __init__(self, params: Iterable[Any], lr: float = 0.1, *, foreach: bool | None = None,
                 compile: bool = False) -> None:
        lr = check_hparam("lr", lr)
        super().__init__(params, {"lr": lr, "foreach": foreach, "compile": check_bool("compile", compile)})

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group after checking that each tensor is non-negative with a positive sum."""
        super().add_param_group(param_group)
        _check_nonnegative(type(self).__name__, self.param_groups[-1]["params"], need_positive_sum=True)

    def _init_state(self, p: torch.Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {}

    def _group_step(self, group, params, grads, states, foreach) -> None:  # type: ignore[no-untyped-def]
        lr = group["lr"]
        if foreach and group.get("compile"):
            _compiled.compiled(_compiled.normalized_eg_fused)(params, grads, _compiled.hyper(lr, params[0]))
        elif foreach:
            normalized_eg_update_foreach(params, grads, lr, self._scratch(params) if self._on_cpu(params) else None)
        else:
            for p, g in zip(params, grads):
                p.copy_(normalized_eg_update(p, g, lr))


def _check_nonnegative(owner: str, params: list[torch.Tensor], *, need_positive_sum: bool) -> None:
    for i, p in enumerate(params):
        with torch.no_grad():
            if torch.is_complex(p):
                raise ValueError(f"{owner}: params[{i}] is complex; exponentiated gradient needs real parameters")
            if bool((p < 0).any()):
                raise ValueError(
                    f"{owner}: params[{i}] has negative entries (min {p.min().item():.3g}); exponentiated "
                    "gradient keeps the sign of each entry, so parameters must start non-negative"
                )
            if need_positive_sum and not bool(p.sum() > 0):
                raise ValueError(f"{owner}: params[{i}] must have a positive sum to be normalised onto the simplex")
