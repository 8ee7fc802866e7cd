"""What an optimiser step does when a gradient is not finite.

A NaN or an infinity in a gradient (a loss that overflowed, a division by
zero in a custom layer, a bad batch) must not silently poison an optimiser.
``torch.optim`` lets it through: the NaN enters the parameter *and* every
running average, and the run is lost even if later gradients are clean.
The book's optimisers follow one policy instead, chosen per parameter group
with the group key ``"nonfinite"``:

``"skip"`` (default)
    A group with any non-finite gradient is left exactly as it was: its
    parameters and its per-tensor state (running averages, step counters)
    are not touched, bit for bit.  The other groups take their step.  This
    is the rule of mixed-precision loss scaling (``torch.amp.GradScaler``
    skips a step whose gradients overflowed) and of optax's
    ``apply_if_finite``: a bad gradient is dropped, not averaged in.
``"raise"``
    The step raises :class:`NonFiniteGradientError` (a
    :class:`FloatingPointError`) before *any* group has been updated, so the
    caller can lower the learning rate, drop the batch or stop, with the
    optimiser intact.
``"ignore"``
    No check (the ``torch.optim`` behaviour): the fastest path, for users
    who check gradients themselves.

Why per group and before the update: every book optimiser updates state
from the gradient before it moves the parameter, so once an update has
started there is nothing left to save.  The check therefore runs on all the
gradients of the step first.  Its cost is one extra read of each gradient
(a max-abs reduction), i.e. ``itemsize`` more bytes per parameter of memory
traffic; the benchmark (:mod:`lrtheory.bench`) measures steps with the
default policy (``--nonfinite ignore`` measures them without the check).

The helpers below are pure functions on lists of tensors, used by
:class:`lrtheory.optim._base.BookOptimizer`.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from .._validation import check_choice

__all__ = [
    "NONFINITE_POLICIES",
    "NonFiniteGradientError",
    "check_nonfinite_policy",
    "all_finite",
    "first_nonfinite",
]

NONFINITE_POLICIES: tuple[str, ...] = ("skip", "raise", "ignore")
"""The allowed values of a parameter group's ``"nonfinite"`` key."""


class NonFiniteGradientError(FloatingPointError):
    """A gradient contained NaN or infinity under the ``"raise"`` policy."""


def check_nonfinite_policy(value: Any) -> str:
    """Validate a ``"nonfinite"`` policy; the error names ``nonfinite``.

    Parameters
    ----------
    value : Any
        The policy, one of :data:`NONFINITE_POLICIES`.

    Returns
    -------
    str
        ``value`` unchanged.

    Raises
    ------
    ValueError
        If ``value`` is not one of :data:`NONFINITE_POLICIES`.
    """
    return check_choice("nonfinite", value, NONFINITE_POLICIES)


def _norms(tensors: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """Euclidean norm of each tensor (NaN and infinity propagate), multi-tensor where possible."""
    try:
        return list(torch._foreach_norm(list(tensors)))
    except (RuntimeError, TypeError, NotImplementedError):  # pragma: no cover - old torch
        return [torch.linalg.vector_norm(t) for t in tensors]


def all_finite(tensors: Sequence[torch.Tensor]) -> bool:
    """Return whether every entry of every tensor is finite.

    Parameters
    ----------
    tensors : sequence of torch.Tensor
        Dense real tensors (any floating dtype, any devices).  An empty
        sequence, or empty tensors, count as finite.

    Returns
    -------
    bool

    Notes
    -----
    Fast path: the Euclidean norm of each tensor, one multi-tensor
    reduction that reads each tensor once and allocates nothing of its
    size.  A NaN or an infinite entry makes the norm NaN or infinite, so
    finite norms prove finite entries.  A non-finite norm can also come from
    overflow of the sum of squares of large but finite entries (in float16
    from entries of a few hundred in large tensors), so that case is confirmed entry by entry
    (:func:`first_nonfinite`) and never gives a false alarm.  (The maximum
    norm would not overflow, but ``torch._foreach_norm(..., inf)`` is about
    ten times slower than the 2-norm on CPU in torch 2.13.)  On CUDA the
    Python ``bool`` costs one device synchronisation per device.
    """
    tensors = [t for t in tensors if t.numel() > 0]
    if not tensors:
        return True
    by_device: dict[torch.device, list[torch.Tensor]] = {}
    for t in tensors:
        by_device.setdefault(t.device, []).append(t)
    for group in by_device.values():
        norms = _norms(group)
        if bool(torch.isfinite(torch.stack([n.float() for n in norms])).all()):
            continue
        if first_nonfinite(group) is not None:  # not an overflow of finite entries
            return False
    return True


def first_nonfinite(tensors: Sequence[torch.Tensor]) -> int | None:
    """Index of the first tensor with a NaN or infinite entry, or ``None``.

    A slow, per-tensor helper for error messages (call it only after
    :func:`all_finite` said ``False``).

    Parameters
    ----------
    tensors : sequence of torch.Tensor
        Dense real tensors.

    Returns
    -------
    int or None
    """
    for i, t in enumerate(tensors):
        if t.numel() and not bool(torch.isfinite(t).all()):
            return i
    return None
