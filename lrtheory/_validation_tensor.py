"""Argument checks for torch tensors and dtypes (part of :mod:`lrtheory._validation`).

Import them from :mod:`lrtheory._validation`; torch is imported only inside
the functions, so importing this module stays cheap.  The shape check and the
type description shared with the numpy checkers live here too.  Every message
names the offending argument, as in the rest of :mod:`lrtheory._validation`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["check_tensor", "check_float_dtype"]


def _describe(value: Any) -> str:
    return "None" if value is None else type(value).__name__


def _check_shape(name: str, got: tuple[int, ...], ndim: int | tuple[int, ...] | None,
                 shape: tuple[int | None, ...] | None, shape_of: str | None = None) -> None:
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if len(got) not in allowed:
            raise ValueError(f"{name} must have ndim in {allowed}, got shape {got}")
    if shape is not None:
        if len(got) != len(shape) or any(want is not None and g != want for g, want in zip(got, shape)):
            of = f" the shape of {shape_of}," if shape_of else " shape"
            raise ValueError(f"{name} must have{of} {shape}, got {got}")


_DTYPE_KINDS = ("float", "int", "real", None)


def check_tensor(
    name: str,
    value: Any,
    *,
    ndim: int | tuple[int, ...] | None = None,
    shape: tuple[int | None, ...] | None = None,
    dtype_kind: str | None = "real",
    finite: bool = True,
    nonempty: bool = False,
    nonnegative: bool = False,
) -> Any:
    """Check that ``value`` is a torch tensor of the right kind, shape and values.

    torch is imported only when this is called.

    Parameters
    ----------
    name : str
        The argument's name, used in the error message.
    value : Any
        The value to check; numpy arrays and lists are refused (convert with
        ``torch.as_tensor`` first), so that the device and dtype stay the caller's.
    ndim : int or tuple of int, optional
        Allowed number(s) of dimensions.
    shape : tuple of (int or None), optional
        Required shape; ``None`` entries match any length.
    dtype_kind : {"real", "float", "int", None}, optional
        ``"real"`` (default): integer or floating; ``"float"``: floating only;
        ``"int"``: integer only (labels, indices); ``None``: any dtype.
        Complex and bool tensors are refused by all but ``None``.
    finite : bool, optional
        Refuse NaN and infinite entries (default ``True``; costs one reduction).
    nonempty : bool, optional
        Refuse a tensor with no entries.
    nonnegative : bool, optional
        Refuse negative entries (e.g. class labels).

    Returns
    -------
    torch.Tensor
        ``value`` unchanged.

    Raises
    ------
    TypeError
        If ``value`` is not a tensor or has the wrong kind of dtype.
    ValueError
        If the shape or the values are not allowed.
    """
    import torch

    if dtype_kind not in _DTYPE_KINDS:
        raise ValueError(f"dtype_kind must be one of {_DTYPE_KINDS}, got {dtype_kind!r}")
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {_describe(value)}")
    dt = value.dtype
    if dtype_kind is not None:
        if dt.is_complex:
            raise TypeError(f"{name} must be real, got dtype {dt}")
        if dt == torch.bool:
            raise TypeError(f"{name} must hold numbers, got dtype {dt}")
        if dtype_kind == "float" and not dt.is_floating_point:
            raise TypeError(f"{name} must be a floating-point tensor, got dtype {dt}")
        if dtype_kind == "int" and dt.is_floating_point:
            raise TypeError(f"{name} must be an integer tensor, got dtype {dt}")
    _check_shape(name, tuple(value.shape), ndim, shape)
    if nonempty and value.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(value.shape)}")
    if finite and value.numel() and (dt.is_floating_point or dt.is_complex):
        if not bool(torch.isfinite(value.detach()).all()):
            raise ValueError(f"{name} must contain only finite values")
    if nonnegative and value.numel() and not dt.is_complex and bool((value.detach() < 0).any()):
        raise ValueError(f"{name} must be non-negative")
    return value


def check_float_dtype(name: str, value: Any, default: Any = None) -> Any:
    """Check that ``value`` is a floating ``torch.dtype`` (``None`` gives ``default``).

    Parameters
    ----------
    name : str
        The argument's name, used in the error message.
    value : torch.dtype or None
        The value to check.
    default : torch.dtype, optional
        Returned for ``None``.

    Returns
    -------
    torch.dtype

    Raises
    ------
    TypeError
        If ``value`` is neither ``None`` nor a floating torch dtype.
    """
    import torch

    if value is None:
        return default
    if not isinstance(value, torch.dtype) or not value.is_floating_point:
        raise TypeError(f"{name} must be a floating torch.dtype, got {value!r}")
    return value
