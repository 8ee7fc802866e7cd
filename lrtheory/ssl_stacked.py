"""Many seeds of the small SimSiam trained at once, as one stacked model.

The protocol (:mod:`lrtheory.protocol`) asks for every variant over several
seeds.  The networks of :class:`lrtheory.ssl.SimSiam` are small enough that
one SGD step costs mostly interpreter overhead, so :class:`StackedSimSiam`
keeps S independent copies as stacked tensors (a leading seed axis) and runs
them with batched matrix products.  Seed s's copy starts from exactly the
weights that ``SimSiam`` gets after ``seed_everything(s)``, and draws its
batches and augmentations from its own generator ``torch_generator(s)``, so
two variants run on one seed see the same initial weights and the same data.

Batch normalisation is computed per seed (train mode: the statistics of that
seed's batch; eval mode: that seed's running averages, updated as torch's
``BatchNorm1d`` does).  SGD with momentum and weight decay acts elementwise,
so one optimiser over the stacked tensors equals S separate ones.  The
training loop is :func:`lrtheory.ssl_train.train_stacked`.

Derived in chapter 5.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._validation import check_choice, check_tensor
from .experiments import seed_everything
from .protocol import check_seeds
from .ssl import SimSiam

__all__ = ["PARTS", "StackedSimSiam"]

PARTS: tuple[str, ...] = ("backbone", "projector", "predictor")
"""The three parts of a SimSiam network, in the order the input meets them."""

_BN_EPS, _BN_MOMENTUM = 1e-5, 0.1  # torch.nn.BatchNorm1d's defaults


def _plan(seq: nn.Module) -> list[tuple[str, int]]:
    """The layer kinds of a part, with each layer's index in its ``nn.Sequential``."""
    mods = [seq] if not isinstance(seq, nn.Sequential) else list(seq)
    out = []
    for i, m in enumerate(mods):
        if isinstance(m, nn.Linear):
            out.append(("linear", i))
        elif isinstance(m, nn.BatchNorm1d):
            out.append(("bn", i))
        elif isinstance(m, nn.ReLU):
            out.append(("relu", i))
        elif not isinstance(m, (nn.Flatten, nn.Identity)):  # pragma: no cover - SimSiam has no others
            raise TypeError(f"unsupported layer {type(m).__name__}")
    return out


class StackedSimSiam(nn.Module):
    """S independent :class:`lrtheory.ssl.SimSiam` networks, one slice per seed.

    Parameters
    ----------
    seeds : sequence of int
        Distinct non-negative seeds; copy s is initialised as
        ``seed_everything(seeds[s]); SimSiam(**kwargs)``.
    **kwargs
        Passed on to :class:`lrtheory.ssl.SimSiam` (sizes, ``predictor``,
        ``projector_bn``).

    Notes
    -----
    Parameters are stored as ``{part}.{index}.{weight|bias}`` with shape
    ``(S, ...)``; inputs are ``(S, B, ...)``.  The predictor of a
    ``predictor="fixed"`` network is frozen (``requires_grad=False``).
    :meth:`unstack` returns seed s's copy as an ordinary ``SimSiam`` (the
    oracle the tests compare against).  Derived in chapter 5.
    """

    def __init__(self, seeds: Any, **kwargs: Any) -> None:
        super().__init__()
        self.seeds = check_seeds("seeds", seeds)
        self.kwargs = dict(kwargs)
        nets = []
        for s in self.seeds:
            seed_everything(s)
            nets.append(SimSiam(**kwargs))
        ref = nets[0]
        self.predictor_mode = ref.predictor_mode
        self.out_dim = ref.out_dim
        self.plans = {part: _plan(getattr(ref, part)) for part in PARTS}
        self.params = nn.ParameterDict()
        for part in PARTS:
            for kind, i in self.plans[part]:
                mods = [getattr(n, part) for n in nets]
                mods = [m[i] if isinstance(m, nn.Sequential) else m for m in mods]
                for pname, _ in mods[0].named_parameters():
                    t = torch.stack([getattr(m, pname).detach().clone() for m in mods])
                    self.params[f"{part}_{i}_{pname}"] = nn.Parameter(
                        t, requires_grad=not (part == "predictor" and self.predictor_mode == "fixed"))
                if kind == "bn":
                    self.register_buffer(f"{part}_{i}_mean", torch.stack([m.running_mean.clone() for m in mods]))
                    self.register_buffer(f"{part}_{i}_var", torch.stack([m.running_var.clone() for m in mods]))

    @property
    def num_seeds(self) -> int:
        """Number S of stacked networks."""
        return len(self.seeds)

    def part_parameters(self, part: str) -> list[nn.Parameter]:
        """Trainable stacked parameters of one part (``"backbone"``, ``"projector"``, ``"predictor"``)."""
        part = check_choice("part", part, PARTS)
        return [p for k, p in self.params.items() if k.startswith(part + "_") and p.requires_grad]

    def _run(self, part: str, x: torch.Tensor) -> torch.Tensor:
        for kind, i in self.plans[part]:
            key = f"{part}_{i}"
            if kind == "linear":
                w = self.params[key + "_weight"]
                b = self.params[key + "_bias"] if key + "_bias" in self.params else None
                x = torch.bmm(x, w.transpose(1, 2)) if b is None else torch.baddbmm(b[:, None, :], x,
                                                                                      w.transpose(1, 2))
            elif kind == "relu":
                x = torch.relu(x)
            else:
                rm, rv = getattr(self, key + "_mean"), getattr(self, key + "_var")
                if self.training:
                    mean, var = x.mean(1), x.var(1, unbiased=False)
                    with torch.no_grad():
                        n = x.shape[1]
                        rm.mul_(1 - _BN_MOMENTUM).add_(_BN_MOMENTUM * mean.detach())
                        rv.mul_(1 - _BN_MOMENTUM).add_(_BN_MOMENTUM * var.detach() * n / max(n - 1, 1))
                else:
                    mean, var = rm, rv
                x = (x - mean[:, None, :]) / torch.sqrt(var[:, None, :] + _BN_EPS)
                x = x * self.params[key + "_weight"][:, None, :] + self.params[key + "_bias"][:, None, :]
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Backbone features, shape ``(S, B, hidden_dim)``, of inputs shaped ``(S, B, ...)``."""
        check_tensor("x", x, dtype_kind="float")
        in_dim = self.params["backbone_1_weight"].shape[2]
        side = int(round(in_dim**0.5))
        if (x.ndim < 3 or x.shape[0] != self.num_seeds
                or tuple(x.shape[2:]) not in ((in_dim,), (1, side, side))):
            raise ValueError(f"x must have shape (S, B, {in_dim}) or (S, B, 1, {side}, {side}) with "
                             f"S = {self.num_seeds}, got {tuple(x.shape)}")
        return self._run("backbone", x.flatten(2))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Projections z = F(x), shape ``(S, B, out_dim)``."""
        return self._run("projector", self.features(x))

    def predict(self, z: torch.Tensor) -> torch.Tensor:
        """Predictions h(z), shape of ``z``."""
        return self._run("predictor", z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(z, p)`` for inputs of shape ``(S, B, ...)``."""
        z = self.encode(x)
        return z, self.predict(z)

    @torch.no_grad()
    def set_predictor_matrix(self, w: torch.Tensor) -> None:
        """Overwrite a linear predictor's matrices W_p (shape ``(S, d, d)``), e.g. for DirectPred."""
        if self.predictor_mode != "linear":
            raise ValueError("set_predictor_matrix needs predictor='linear'")
        d = self.out_dim
        check_tensor("w", w, shape=(self.num_seeds, d, d), dtype_kind="float")
        self.params["predictor_0_weight"].copy_(w)

    def unstack(self, index: int) -> SimSiam:
        """Seed ``index``'s network as an ordinary :class:`lrtheory.ssl.SimSiam` (same weights and stats)."""
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < self.num_seeds:
            raise ValueError(f"index must be an int in [0, {self.num_seeds}), got {index!r}")
        net = SimSiam(**self.kwargs).to(next(iter(self.params.values())).dtype)
        with torch.no_grad():
            for part in PARTS:
                seq = getattr(net, part)
                for kind, i in self.plans[part]:
                    m = seq[i] if isinstance(seq, nn.Sequential) else seq
                    for pname, p in m.named_parameters():
                        p.copy_(self.params[f"{part}_{i}_{pname}"][index])
                    if kind == "bn":
                        m.running_mean.copy_(getattr(self, f"{part}_{i}_mean")[index])
                        m.running_var.copy_(getattr(self, f"{part}_{i}_var")[index])
        net.train(self.training)
        return net

