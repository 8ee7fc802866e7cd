"""Argument checks shared by every public function of :mod:`lrtheory`.

Each checker raises :class:`TypeError` for a value of the wrong kind and
:class:`ValueError` for a value of the right kind that is out of range, and
every message names the offending argument, so that a user reading the
traceback knows which argument to fix.  The functions return the validated
(and, where documented, converted) value so that they can be used inline::

    lr = check_scalar("lr", lr, low=0.0, low_inclusive=False)
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable

import numpy as np

__all__ = [
    "check_scalar",
    "check_int",
    "check_array",
    "check_choice",
    "check_callable",
]


def check_scalar(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Check that ``value`` is a finite real number inside an interval.

    Parameters
    ----------
    name : str
        The argument's name, used in the error message.
    value : Any
        The value to check. Python and numpy real scalars are accepted;
        ``bool`` is refused.
    low, high : float or None, optional
        Bounds of the allowed interval; ``None`` means unbounded.
    low_inclusive, high_inclusive : bool, optional
        Whether the bounds themselves are allowed.

    Returns
    -------
    float
        ``value`` converted to a Python float.

    Raises
    ------
    TypeError
        If ``value`` is not a real number.
    ValueError
        If ``value`` is NaN, infinite or outside the interval.

    Examples
    --------
    >>> check_scalar("lr", 0.1, low=0.0, low_inclusive=False)
    0.1
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if not (isinstance(value, np.ndarray) and value.ndim == 0 and np.isrealobj(value)):
            raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None:
        if value < low or (value == low and not low_inclusive):
            op = ">=" if low_inclusive else ">"
            raise ValueError(f"{name} must be {op} {low}, got {value}")
    if high is not None:
        if value > high or (value == high and not high_inclusive):
            op = "<=" if high_inclusive else "<"
            raise ValueError(f"{name} must be {op} {high}, got {value}")
    return value


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Check that ``value`` is an integer inside ``[low, high]``.

    Parameters
    ----------
    name : str
        The argument's name, used in the error message.
    value : Any
        The value to check; Python and numpy integers are accepted, ``bool``
        and floats are refused.
    low, high : int or None, optional
        Inclusive bounds; ``None`` means unbounded.

    Returns
    -------
    int
        ``value`` as a Python int.

    Raises
    ------
    TypeError
        If ``value`` is not an integer.
    ValueError
        If ``value`` is outside ``[low, high]``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")
    return value


def check_array(
    name: str,
    value: Any,
    *,
    ndim: int | tuple[int, ...] | None = None,
    shape: tuple[int | None, ...] | None = None,
    finite: bool = True,
    nonnegative: bool = False,
    dtype: Any = float,
) -> np.ndarray:
    """Convert ``value`` to a numpy array and check its shape and values.

    Parameters
    ----------
    name : str
        The argument's name, used in the error message.
    value : array_like
        The value to check.
    ndim : int or tuple of int, optional
        Allowed number(s) of dimensions.
    shape : tuple of (int or None), optional
        Required shape; ``None`` entries match any length.
    finite : bool, optional
        Refuse NaN and infinite entries (default ``True``).
    nonnegative : bool, optional
        Refuse negative entries.
    dtype : data-type, optional
        The dtype to convert to (default ``float``).

    Returns
    -------
    numpy.ndarray
        The converted array (a copy only where conversion needs one).

    Raises
    ------
    TypeError
        If ``value`` cannot be converted to a numeric array.
    ValueError
        If the shape or the values are not allowed.
    """
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like of numbers: {exc}") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise ValueError(f"{name} must have ndim in {allowed}, got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(
            want is not None and got != want for got, want in zip(arr.shape, shape)
        ):
            raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if finite and arr.size and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values")
    if nonnegative and arr.size and np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative")
    return arr


def check_choice(name: str, value: Any, choices: tuple[Any, ...]) -> Any:
    """Check that ``value`` is one of ``choices``.

    Parameters
    ----------
    name : str
        The argument's name, used in the error message.
    value : Any
        The value to check.
    choices : tuple
        The allowed values.

    Returns
    -------
    Any
        ``value`` unchanged.

    Raises
    ------
    ValueError
        If ``value`` is not in ``choices``.
    """
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_callable(name: str, value: Any) -> Callable[..., Any]:
    """Check that ``value`` is callable.

    Parameters
    ----------
    name : str
        The argument's name, used in the error message.
    value : Any
        The value to check.

    Returns
    -------
    callable
        ``value`` unchanged.

    Raises
    ------
    TypeError
        If ``value`` is not callable.
    """
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    return value
