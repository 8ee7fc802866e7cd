"""Checks of the optimisers' hyperparameters, and the dtype of their learned state.

Used by :class:`lrtheory.optim._base.BookOptimizer` and every book optimiser:
:func:`check_hparam` (scalars, the error names the hyperparameter),
:func:`check_foreach` (``None``/``True``/``False`` only) and :func:`wide_dtype`
(learned step sizes and accumulators in float32 or wider).
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Any

import numpy as np
import torch

__all__ = ["check_hparam", "check_foreach", "wide_dtype"]

_FOREACH_CHOICES = (None, True, False)


def wide_dtype(*dtypes: torch.dtype) -> torch.dtype:
    """The widest of ``dtypes`` and float32: where learned scalars and accumulators live.

    A bfloat16 learned step size cannot move by less than 2⁻⁸ of itself, and a
    bfloat16 running sum stops growing, so these live in float32 or wider; the
    result does not depend on the order of ``dtypes``.

    Parameters
    ----------
    *dtypes : torch.dtype
        The parameters' dtypes (none: float32).

    Returns
    -------
    torch.dtype
    """
    return functools.reduce(torch.promote_types, dtypes, torch.float32)


def check_foreach(value: Any) -> bool | None:
    """Validate a ``foreach`` flag: ``None``, ``True`` or ``False`` only (``"yes"`` or ``2`` are refused).

    Parameters
    ----------
    value : Any
        The flag.

    Returns
    -------
    bool or None
        ``value`` unchanged.

    Raises
    ------
    TypeError
        For anything else, naming ``foreach``.
    """
    if not any(value is choice for choice in _FOREACH_CHOICES):
        raise TypeError(f"Invalid foreach: {value!r} (must be None, True or False)")
    return value


def check_hparam(
    name: str,
    value: Any,
    *,
    low: float | None = 0.0,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Validate a scalar hyperparameter; the error names it.

    Parameters
    ----------
    name : str
        Hyperparameter name as the user typed it (``"lr"``, ``"alpha"`` …).
    value : Any
        A real number: Python and numpy real scalars and one-element real
        tensors are accepted; ``bool`` and complex numbers are refused.
    low, high : float or None
        Interval bounds (``None``: unbounded). Default: non-negative.
    low_inclusive, high_inclusive : bool
        Whether the bounds are allowed.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``value`` is not a real number.
    ValueError
        If ``value`` is NaN, infinite or out of range: ``"Invalid lr: -1.0 (must be >= 0.0)"``.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"check_hparam: name must be a non-empty str, got {name!r}")
    low, high = _check_bound("low", low), _check_bound("high", high)
    for flag, given in (("low_inclusive", low_inclusive), ("high_inclusive", high_inclusive)):
        if not isinstance(given, (bool, np.bool_)):
            raise TypeError(f"check_hparam: {flag} must be a bool, got {given!r}")
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise TypeError(f"Invalid {name}: a tensor hyperparameter must have one element")
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"Invalid {name}: must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"Invalid {name}: {value} (must be finite)")
    if low is not None and (value < low or (value == low and not low_inclusive)):
        raise ValueError(f"Invalid {name}: {value} (must be {'>=' if low_inclusive else '>'} {low})")
    if high is not None and (value > high or (value == high and not high_inclusive)):
        raise ValueError(f"Invalid {name}: {value} (must be {'<=' if high_inclusive else '<'} {high})")
    return value


def _check_bound(which: str, bound: Any) -> float | None:
    """A bound of :func:`check_hparam`: ``None`` or a real number that is not NaN (±inf allowed)."""
    if bound is None:
        return None
    if isinstance(bound, (bool, np.bool_)) or not isinstance(bound, numbers.Real):
        raise TypeError(f"check_hparam: {which} must be a real number or None, got {bound!r}")
    if math.isnan(bound):
        raise ValueError(f"check_hparam: {which} must not be NaN")
    return float(bound)
