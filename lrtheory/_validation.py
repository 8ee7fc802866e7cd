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

# the torch checkers live in their own module (torch is imported only when they are called)
from ._validation_tensor import _check_shape, _describe, check_float_dtype, check_tensor

__all__ = [
    "check_scalar",
    "check_int",
    "check_bool",
    "check_str",
    "check_array",
    "check_returned",
    "all_finite",
    "check_tensor",
    "check_choice",
    "check_callable",
    "check_instance",
    "check_float_dtype",
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
    nonempty: bool = False,
    dtype: Any = float,
    shape_of: str | None = None,
) -> np.ndarray:
    """Convert ``value`` to a numpy array of real numbers and check its shape and values.

    Parameters
    ----------
    name : str
        The argument's name, used in the error message.
    value : array_like
        The value to check: a number, a (nested) sequence of numbers or an
        array of integers or floats.  Complex numbers, strings (also numeric
        ones such as ``"0.1"``), booleans, ``None`` and object arrays are
        refused, so that nothing is cast silently.
    ndim : int or tuple of int, optional
        Allowed number(s) of dimensions.
    shape : tuple of (int or None), optional
        Required shape; ``None`` entries match any length.
    finite : bool, optional
        Refuse NaN and infinite entries (default ``True``).
    nonnegative : bool, optional
        Refuse negative entries.
    nonempty : bool, optional
        Refuse an array with no entries.
    dtype : data-type, optional
        The dtype to convert to (default ``float``).
    shape_of : str, optional
        The name of the argument whose shape ``shape`` is, for the message
        (``"grad must have the shape of theta, (2,), got (3,)"``).

    Returns
    -------
    numpy.ndarray
        The converted array (a copy only where conversion needs one).

    Raises
    ------
    TypeError
        If ``value`` is not an array of real numbers.
    ValueError
        If the shape or the values are not allowed.
    """
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be array-like of numbers, got {_describe(value)}")
    try:
        raw = value if isinstance(value, np.ndarray) else np.asarray(value)
    except ValueError as exc:
        raise ValueError(f"{name} must be a rectangular array of numbers: {exc}") from None
    except (TypeError, RuntimeError) as exc:
        raise TypeError(f"{name} must be array-like of numbers: {exc}") from None
    kind = raw.dtype.kind
    if kind == "c":
        raise TypeError(f"{name} must be real, got complex values")
    if kind == "b":
        raise TypeError(f"{name} must hold numbers, got booleans")
    if kind in "US":
        raise TypeError(f"{name} must hold numbers, got strings")
    if kind not in "iuf":
        raise TypeError(f"{name} must be array-like of numbers, got {_describe(value)} "
                        f"holding {raw.dtype} entries")
    arr = raw if dtype is None else raw.astype(dtype, copy=False)
    _check_shape(name, arr.shape, ndim, shape, shape_of)
    if nonempty and arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if finite and arr.size and not all_finite(arr if arr.dtype.kind == "f" else arr.astype(float)):
        raise ValueError(f"{name} must contain only finite values")
    if nonnegative and arr.size and np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative")
    return arr


def check_returned(name: str, value: Any, *, shape: tuple[int, ...] | None = None,
                   finite: bool = True, at: Any = None) -> np.ndarray:
    """Check what a user's callable ``name`` returned: a real array of ``shape``, finite.

    Used on every evaluation of a vector field or gradient passed in by the
    user, so that a function returning NaN, ``None`` or the wrong shape is
    named in the error instead of hanging an integrator or failing deep inside
    numpy.  A fast path keeps the cost to a few microseconds per call.

    Parameters
    ----------
    name : str
        The callable argument's name (e.g. ``"grad"``).
    value : Any
        What it returned.
    shape : tuple of int, optional
        The required shape.
    finite : bool, optional
        Refuse NaN and infinite entries (default ``True``).
    at : array_like, optional
        The point the callable was evaluated at, quoted in the message.

    Returns
    -------
    numpy.ndarray
        ``value`` as a float array.

    Raises
    ------
    TypeError, ValueError
        Naming ``name``.
    """
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu" and (shape is None or value.shape == shape):
        arr = value.astype(float, copy=False)
        if not finite or all_finite(arr):
            return arr
    where = "" if at is None else " at " + np.array2string(np.asarray(at), precision=4, threshold=8)
    label = f"the value returned by {name}{where}"
    if value is None:
        raise TypeError(f"{label} must be an array of numbers, got None")
    arr = check_array(label, value, finite=False)
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"{label} must have shape {tuple(shape)}, got {arr.shape}")
    if finite and not np.isfinite(arr).all():
        raise ValueError(f"{label} is not finite: {np.array2string(arr, precision=4, threshold=8)} "
                         "(NaN from the function, or an overflow where the point has grown huge)")
    return arr


def all_finite(arr: np.ndarray) -> bool:
    """Whether every entry of the float array ``arr`` is finite (one place for the per-call checks)."""
    return bool(np.isfinite(arr).all())


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


def check_bool(name: str, value: Any) -> bool:
    """Check that ``value`` is a bool (Python or numpy); ints, strings and ``None`` are refused.

    Parameters
    ----------
    name : str
        The argument's name, used in the error message.
    value : Any
        The value to check.

    Returns
    -------
    bool

    Raises
    ------
    TypeError
        If ``value`` is not a bool.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {_describe(value)}")
    return bool(value)


def check_str(name: str, value: Any, *, nonempty: bool = False) -> str:
    """Check that ``value`` is a str (bytes are refused).

    Parameters
    ----------
    name : str
        The argument's name, used in the error message.
    value : Any
        The value to check.
    nonempty : bool, optional
        Refuse the empty string.

    Returns
    -------
    str

    Raises
    ------
    TypeError
        If ``value`` is not a str.
    ValueError
        If it is empty and ``nonempty`` is set.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {_describe(value)}")
    if nonempty and not value:
        raise ValueError(f"{name} must not be empty")
    return value


def check_instance(name: str, value: Any, kinds: type | tuple[type, ...], what: str | None = None) -> Any:
    """Check that ``value`` is an instance of ``kinds`` (e.g. a ``torch.nn.Module``).

    Parameters
    ----------
    name : str
        The argument's name, used in the error message.
    value : Any
        The value to check.
    kinds : type or tuple of type
        The accepted classes.
    what : str, optional
        How to call them in the message (default: the class names).

    Returns
    -------
    Any
        ``value`` unchanged.

    Raises
    ------
    TypeError
        If ``value`` is not an instance of ``kinds``.
    """
    if not isinstance(value, kinds):
        if what is None:
            classes = kinds if isinstance(kinds, tuple) else (kinds,)
            what = " or ".join(f"{k.__module__}.{k.__qualname__}" for k in classes)
        raise TypeError(f"{name} must be a {what}, got {_describe(value)}")
    return value
