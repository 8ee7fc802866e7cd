"""AdaGrad-norm: SGD with one adaptive scalar learning rate per parameter group.

The rate of step t is lr/(√V_t + eps), where V_t is the running sum of the
squared *global* gradient norms (over every tensor of the group) up to and
including step t.  It is the causal schedule that the average-loss bound
suggests (chapter 2); applied to each coordinate instead of the global norm it
becomes the usual AdaGrad (:class:`torch.optim.Adagrad`).

Derived in chapter 2.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import torch

from ._base import BookOptimizer, check_hparam, foreach_sub_scaled_, wide_dtype

__all__ = ["AdaGradNorm", "adagrad_norm_lr_update"]


def adagrad_norm_lr_update(accumulator: torch.Tensor, sq_norm: torch.Tensor, lr: float,
                           eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """One pure step of the rate: V ← V + ‖g‖², rate = lr/(√V + eps).

    Parameters
    ----------
    accumulator : torch.Tensor
        V_{t−1} (0-d; the initial value for t = 1).
    sq_norm : torch.Tensor
        ‖g_t‖² (0-d), the squared global norm of this step's gradient.
    lr, eps : float
        Hyperparameters.

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        V_t and the rate η_t, both 0-d.

    Notes
    -----
    Derived in chapter 2.
    """
    new = accumulator + sq_norm
    return new, lr / (new.sqrt() + eps)


def _acc_dtype(p: torch.Tensor) -> torch.dtype:
    """Accumulate in at least float32: a bfloat16 running sum would stop growing."""
    return wide_dtype(p.dtype)


class AdaGradNorm(BookOptimizer):
    """SGD whose scalar rate is lr/(√V_t + eps), V_t = V_0 + Σ_{k≤t} ‖g_k‖².

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts.
    lr : float, optional
        R in the text (≥ 0, default 1.0): the rate of the first step is
        about lr/‖g_1‖, so ``lr`` has the units of a distance in parameter space.
    eps : float, optional
        Added to √V_t (default 1e-10), outside the root as in
        :class:`torch.optim.Adagrad`.
    initial_accumulator_value : float, optional
        V_0 ≥ 0 (default 0).
    weight_decay : float, optional
        L2 penalty added to the gradient before its norm is taken (default 0),
        as in :class:`torch.optim.SGD` and :class:`torch.optim.Adagrad`.
    foreach : bool or None, optional
        Use the multi-tensor path (``None``: yes).

    Notes
    -----
    .. math:: V_t = V_0 + \\sum_{k\\le t}\\|g_k\\|^2,\\qquad
              \\theta_{t+1} = \\theta_t - \\frac{\\mathrm{lr}}{\\sqrt{V_t}+\\epsilon}\\,g_t .

    Conventions that differ from the nearest torch optimisers:

    * unlike :class:`torch.optim.Adagrad`, one scalar V_t per parameter
      group, from the squared norm of the whole group's gradient (the sum over
      its tensors of their squared Frobenius norms), not one per coordinate;
      V_t includes the current step's gradient (as Adagrad does);
    * no ``lr_decay``; no momentum (it is plain :class:`torch.optim.SGD` with
      the rate sequence lr/(√V_t + eps), which the tests check);
    * each tensor's state keeps its own share ``sum_sq`` of the accumulator
      (Σ_k ‖g_k^{(p)}‖²), so V_t is V_0 plus the sum of ``sum_sq`` over the
      group's tensors that have state, which keeps ``state_dict`` per tensor
      and counts a tensor whose gradient is ``None`` at this step as zero;
      the accumulator is kept in at least float32 (for bfloat16 parameters too).

    Derived in chapter 2.
    """

    wide_state = ("sum_sq",)

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1.0,
        *,
        eps: float = 1e-10,
        initial_accumulator_value: float = 0.0,
        weight_decay: float = 0.0,
        foreach: bool | None = None,
    ) -> None:
        defaults = dict(
            lr=check_hparam("lr", lr),
            eps=check_hparam("eps", eps),
            initial_accumulator_value=check_hparam("initial_accumulator_value", initial_accumulator_value),
            weight_decay=check_hparam("weight_decay", weight_decay),
            foreach=foreach,
        )
        super().__init__(params, defaults)

    def _init_state(self, p: torch.Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": torch.tensor(0.0, dtype=torch.float64),
                "sum_sq": torch.zeros((), dtype=_acc_dtype(p), device=p.device)}

    def _accumulator(self, group: dict[str, Any], ref: torch.Tensor) -> torch.Tensor:
        dtype = wide_dtype(*(p.dtype for p in group["params"]))  # the widest of the group: order-free
        total = torch.full((), group["initial_accumulator_value"], dtype=dtype, device=ref.device)
        for p in group["params"]:
            st = self.state.get(p)
            if st:
                total = total + st["sum_sq"].to(total)  # never through the parameter dtype
        return total

    def _group_step(self, group, params, grads, states, foreach):  # type: ignore[override]
        wd = group["weight_decay"]
        previous = self._accumulator(group, params[0])          # V_{t-1}
        if foreach:
            if wd != 0:
                grads = torch._foreach_add(grads, params, alpha=wd)
            if len({g.dtype for g in grads}) == 1:
                norms = torch._foreach_norm(grads, 2, dtype=previous.dtype)
            else:
                norms = [torch.linalg.vector_norm(g, dtype=previous.dtype) for g in grads]
            shares = torch._foreach_mul(norms, norms)
            sq_norm = torch.stack([s.to(previous) for s in shares]).sum()
            _, rate = adagrad_norm_lr_update(previous, sq_norm, group["lr"], group["eps"])
            torch._foreach_add_([s["sum_sq"] for s in states], [x.to(s["sum_sq"]) for x, s in zip(shares, states)])
            foreach_sub_scaled_(params, grads, rate)
            for s in states:
                s["step"] += 1
            return
        # per-tensor reference path
        if wd != 0:
            grads = [g.add(p, alpha=wd) for g, p in zip(grads, params)]
        shares = [g.to(previous.dtype).pow(2).sum() for g in grads]
        sq_norm = sum((s.to(previous) for s in shares), torch.zeros_like(previous))
        _, rate = adagrad_norm_lr_update(previous, sq_norm, group["lr"], group["eps"])
        for p, g, share, s in zip(params, grads, shares, states):
            s["sum_sq"].add_(share.to(s["sum_sq"]))
            s["step"] += 1
            p.add_(g * -rate)

    def last_lr(self) -> list[float]:
        """The rate lr/(√V_t + eps) of the latest step, one per parameter group.

        Returns
        -------
        list of float
            ``lr/(√V_0 + eps)`` for a group that has not stepped yet.
        """
        out = []
        for group in self.param_groups:
            ref = next((p for p in group["params"]), None)
            total = self._accumulator(group, ref if ref is not None else torch.zeros(()))
            out.append(float(group["lr"] / (math.sqrt(float(total)) + group["eps"])))
        return out
