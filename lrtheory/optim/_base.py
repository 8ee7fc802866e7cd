"""The contract every :mod:`lrtheory.optim` optimiser follows.

:class:`BookOptimizer` is a thin layer over :class:`torch.optim.Optimizer`
that does the bookkeeping once, so that each optimiser only writes its
mathematics:

* hyperparameters go through :meth:`torch.optim.Optimizer.__init__` as
  ``defaults`` and end up in ``param_groups``; each subclass validates them
  with :func:`check_hparam`, whose ``ValueError`` names the hyperparameter;
* ``step(closure=None)`` runs under ``torch.no_grad()``, re-enables grad for
  the closure, skips parameters whose ``.grad`` is ``None``, refuses sparse
  and complex gradients with a clear error, creates per-tensor state lazily
  through :meth:`BookOptimizer._init_state`, and hands each group's lists to
  :meth:`BookOptimizer._group_step`;
* every group is gathered and checked before any group is updated, so a
  refused step (sparse or complex gradient, or a non-finite gradient under
  the ``"raise"`` policy) changes nothing;
* non-finite gradients follow the group's ``"nonfinite"`` policy (default
  ``"skip"``: a group with a NaN or infinite gradient keeps its parameters
  and state bit for bit); see ``lrtheory.optim._nonfinite``;
* the ``foreach`` argument (``None``, ``True`` or ``False``) chooses between
  the per-tensor reference loop and the multi-tensor (``torch._foreach_*``)
  path, like torch's own optimisers;
* a parameter group's own hyperparameters (group dicts passed to the
  constructor, or :meth:`~torch.optim.Optimizer.add_param_group`) are checked
  by the class's own constructor checks when the group is added, and the
  error names the group and the hyperparameter; a refused group is not added;
  parameters must be real floating-point tensors (``TypeError`` naming
  ``params`` otherwise);
* state entries listed in ``wide_state`` (learned step sizes, scalar
  accumulators, kept in float32 or wider) keep their dtype through
  :meth:`load_state_dict`, which torch would cast to the parameter dtype.

Subclasses keep the update itself in small pure functions (``*_update``), so
the mathematics can be read, tested and reused apart from the bookkeeping.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Iterable

import torch

from ._hparams import check_foreach, check_hparam, wide_dtype
from ._nonfinite import NonFiniteGradientError, all_finite, check_nonfinite_policy, first_nonfinite

__all__ = ["BookOptimizer", "check_hparam", "check_foreach", "wide_dtype"]

def foreach_sub_scaled_(params: list[torch.Tensor], grads: list[torch.Tensor], scale: torch.Tensor) -> None:
    """In place θ ← θ − s·g for every tensor, with one 0-d tensor s shared by all.

    On the CPU the scalar is read once and passed as ``alpha``, so no
    model-sized temporary is made; on other devices the product is formed on
    the device (reading the scalar would synchronise with the host).
    """
    if scale.device.type == "cpu":
        torch._foreach_add_(params, grads, alpha=-float(scale))
    else:
        torch._foreach_add_(params, torch._foreach_mul(grads, -scale))


def _check_params_argument(params: Any) -> Any:
    """``params`` as torch.optim takes it, refused with an error naming ``params`` where torch's would not."""
    if isinstance(params, torch.Tensor):
        return params  # torch's own TypeError names params
    if params is None or isinstance(params, (str, bytes, dict)) or not isinstance(params, Iterable):
        raise TypeError(f"params must be an iterable of tensors or of parameter-group dicts, got {params!r}")
    params = list(params)
    if not params:
        raise ValueError("params is empty: the optimiser got no parameters")
    return params


class BookOptimizer(torch.optim.Optimizer):
    """Base class of the book's optimisers (see the module docstring for the contract).

    Subclasses implement

    ``_init_state(self, p, group) -> dict``
        the per-tensor state for a new parameter ``p`` (called once, lazily);
    ``_group_step(self, group, params, grads, states, foreach) -> None``
        update the given parameters in place (``params``, ``grads`` and
        ``states`` are aligned lists; ``foreach`` says which path to take).

    Parameters
    ----------
    params : iterable
        Tensors or dicts defining parameter groups.
    defaults : dict
        Default hyperparameters (must include ``"foreach"``: ``None`` picks the
        multi-tensor path, which every book optimiser has).  The key
        ``"nonfinite"`` (default ``"skip"``) sets the non-finite gradient
        policy; a parameter group may override it like any hyperparameter.

    Attributes
    ----------
    skipped_groups : list of int
        Indices of the groups that the last :meth:`step` left unchanged
        because of a non-finite gradient (``"skip"`` policy).
    elementwise : bool
        Class attribute: ``True`` when the update of every entry depends only on
        that entry's own gradient, state and the (shared) step count, so that one
        optimiser over seed-stacked parameters equals one optimiser per seed
        (:mod:`lrtheory.batched` relies on it).  ``False`` for rules with a
        norm or inner product over a tensor or the whole model.
    """

    elementwise: bool = False
    wide_state: tuple[str, ...] = ()
    """State keys kept in float32 or wider (:func:`wide_dtype`), also through :meth:`load_state_dict`."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        defaults.setdefault("foreach", None)
        defaults.setdefault("nonfinite", "skip")
        check_foreach(defaults["foreach"])
        check_nonfinite_policy(defaults["nonfinite"])
        super().__init__(_check_params_argument(params), defaults)
        self.skipped_groups: list[int] = []

    # -- parameter groups -------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a parameter group after checking its hyperparameters and parameters.

        Parameters
        ----------
        param_group : dict
            ``{"params": ..., hyperparameter: value, ...}``; hyperparameters not
            given take the optimiser's defaults.

        Raises
        ------
        TypeError, ValueError
            If a hyperparameter of the group is invalid (the message names the
            group and the hyperparameter, as the constructor's check would), or
            a parameter is not a real floating-point tensor with finite entries
            (naming ``params``). Nothing is added then.
        """
        index = len(self.param_groups)
        if isinstance(param_group, dict):
            self._check_group_hparams(param_group, index)
        super().add_param_group(param_group)
        try:
            self._check_group_params(self.param_groups[-1]["params"], index)
        except (TypeError, ValueError):
            self.param_groups.pop()
            raise

    def _check_group_hparams(self, group: dict[str, Any], index: int) -> None:
        """Check the group's own hyperparameters with the class's constructor; store the checked values."""
        own = {k: v for k, v in group.items() if k != "params" and k in self.defaults}
        if not own:
            return
        try:
            if "foreach" in own:
                check_foreach(own["foreach"])
            if "nonfinite" in own:
                check_nonfinite_policy(own["nonfinite"])
            accepted = inspect.signature(type(self).__init__).parameters
            merged = {**self.defaults, **own}
            hparams = {k: merged[k] for k in self.defaults if k in accepted and k != "params"}
            probe = type(self)([torch.ones(1)], **hparams)  # the constructor's own checks
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"param group {index}: {exc}") from None
        for k in own:
            if k in hparams:  # the constructor's normalised value (a numpy scalar becomes a float)
                group[k] = probe.defaults[k]

    def _check_group_params(self, params: list[torch.Tensor], index: int) -> None:
        """Real floating-point tensors with finite entries (one read of each, once, when added)."""
        for i, p in enumerate(params):
            if not p.is_floating_point():
                kind = "complex" if p.is_complex() else "not floating-point"
                raise TypeError(
                    f"{type(self).__name__}: params[{i}] of param group {index} has dtype {p.dtype} ({kind}); "
                    "the book's optimisers take real floating-point parameters only")
            if p.device.type != "meta" and p.numel() and not bool(torch.isfinite(p.detach()).all()):
                raise ValueError(f"{type(self).__name__}: params[{i}] of param group {index} has NaN or "
                                 "infinite entries; an optimiser cannot start from them")

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state dict like :meth:`torch.optim.Optimizer.load_state_dict`.

        Torch casts floating-point state to the parameter dtype; the entries
        named in ``wide_state`` (learned step sizes, scalar accumulators) keep
        the dtype they were saved with instead, so a bfloat16 model's learned
        float32 state survives a round trip bit for bit.

        Parameters
        ----------
        state_dict : dict
            As returned by :meth:`state_dict`.

        Raises
        ------
        TypeError
            If ``state_dict`` is not such a dict.
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise TypeError(f"state_dict must be a dict with keys 'state' and 'param_groups' (as returned by "
                            f"state_dict()), got {type(state_dict).__name__}")
        saved_ids = [i for g in state_dict["param_groups"] for i in g["params"]]
        own = [p for g in self.param_groups for p in g["params"]]
        keep = {}
        for pid, st in state_dict["state"].items():
            for key in self.wide_state:
                value = st.get(key) if isinstance(st, dict) else None
                if isinstance(value, torch.Tensor) and value.is_floating_point() and pid in saved_ids:
                    keep[(pid, key)] = value
        super().load_state_dict(state_dict)
        for (pid, key), value in keep.items():
            p = own[saved_ids.index(pid)]
            self.state[p][key] = value.detach().to(device=p.device, copy=True)

    # -- to be provided by subclasses -------------------------------------------------
    def _init_state(self, p: torch.Tensor, group: dict[str, Any]) -> dict[str, Any]:  # pragma: no cover
        raise NotImplementedError

    def _group_step(
        self,
        group: dict[str, Any],
        params: list[torch.Tensor],
        grads: list[torch.Tensor],
        states: list[dict[str, Any]],
        foreach: bool,
    ) -> None:  # pragma: no cover
        raise NotImplementedError

    # -- shared bookkeeping ---------------------------------------------------------------
    def _gather(self, group: dict[str, Any]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        params, grads = [], []
        for p in group["params"]:
            if p.grad is None:
                continue
            g = p.grad
            if g.is_sparse:
                raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
            if torch.is_complex(p):
                raise RuntimeError(f"{type(self).__name__} does not support complex parameters")
            params.append(p)
            grads.append(g)
        return params, grads

    def _states(self, group: dict[str, Any], params: list[torch.Tensor]) -> list[dict[str, Any]]:
        states = []
        for p in params:
            state = self.state[p]
            if len(state) == 0:
                state.update(self._init_state(p, group))
            states.append(state)
        return states

    def _scratch(self, params: list[torch.Tensor]) -> list[torch.Tensor]:
        """One persistent parameter-sized buffer per parameter, for the fast path's intermediates.

        On the CPU a model-sized temporary made at every step costs more than its
        bytes (large blocks go back to the operating system and come back as fresh,
        zeroed pages), so the fast paths write intermediates into these buffers
        instead.  They are not optimiser state: not in ``state_dict``, contents
        meaningless between steps; ``foreach=False`` never makes them.
        """
        store: dict[torch.Tensor, torch.Tensor] = self.__dict__.setdefault("_scratch_buffers", {})
        out = []
        for p in params:
            b = store.get(p)
            if b is None or b.shape != p.shape or b.dtype != p.dtype or b.device != p.device:
                b = store[p] = torch.empty_like(p, memory_format=torch.preserve_format)
            out.append(b)
        return out

    @staticmethod
    def _on_cpu(params: list[torch.Tensor]) -> bool:
        """Whether the fast path should use persistent buffers (the CPU) or temporaries (CUDA's caching allocator)."""
        return all(p.device.type == "cpu" for p in params)

    @staticmethod
    def _use_foreach(group: dict[str, Any], params: list[torch.Tensor]) -> bool:
        foreach = group.get("foreach")
        if foreach is None:
            return len(params) > 0
        return bool(foreach)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """Perform one optimisation step.

        Parameters
        ----------
        closure : callable, optional
            Re-evaluates the model and returns the loss (run with grad enabled).

        Returns
        -------
        float or None
            The closure's loss, if a closure was given.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        gathered = []
        for index, group in enumerate(self.param_groups):
            params, grads = self._gather(group)
            policy = check_nonfinite_policy(group.get("nonfinite", "skip"))
            finite = policy == "ignore" or all_finite(grads)
            if not finite and policy == "raise":
                bad = first_nonfinite(grads)
                raise NonFiniteGradientError(
                    f"{type(self).__name__}: non-finite gradient in param group {index} "
                    f"(tensor {bad} of the group's gradients); no parameter was updated"
                )
            gathered.append((index, group, params, grads, finite))
        self.skipped_groups = []
        for index, group, params, grads, finite in gathered:
            if not params:
                continue
            if not finite:
                self.skipped_groups.append(index)
                continue
            states = self._states(group, params)
            self._group_step(group, params, grads, states, self._use_foreach(group, params))
        return loss
