"""Run modes, device choice, seeding and progress bars for the book's experiments.

The run mode is the single switch that scales every experiment in the book:

``quick``
    tests and CI: each chapter executes in seconds.
``standard``
    the default book build: the whole book on a 2-core CPU in minutes.
``full``
    larger models and longer runs, on a GPU when one is present.

The mode is read in exactly one place, :func:`get_mode`, from the environment
variable ``LRTHEORY_MODE``.  Nothing here runs at import time: no seeding, no
device probing, and torch is imported only inside the functions that need it.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, Iterable, Iterator, TypeVar

import numpy as np

from ._validation import check_bool, check_choice, check_int, check_str

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "MODES",
    "MODE_ENV_VAR",
    "get_mode",
    "by_mode",
    "get_device",
    "make_rng",
    "torch_generator",
    "seed_everything",
    "progress",
]

MODES: tuple[str, ...] = ("quick", "standard", "full")
"""The three run modes, from smallest to largest."""

MODE_ENV_VAR = "LRTHEORY_MODE"
"""Name of the environment variable that selects the run mode."""

DEFAULT_MODE = "standard"

T = TypeVar("T")


def get_mode(mode: str | None = None) -> str:
    """Return the run mode: ``mode`` if given, else ``$LRTHEORY_MODE``, else ``"standard"``.

    Parameters
    ----------
    mode : str or None, optional
        An explicit mode that overrides the environment.

    Returns
    -------
    str
        One of :data:`MODES`.

    Raises
    ------
    ValueError
        If the mode (explicit or from the environment) is not one of :data:`MODES`;
        the message names ``mode`` or ``LRTHEORY_MODE``.

    Notes
    -----
    This is the only function in the package that reads ``LRTHEORY_MODE``; every
    size in the chapters goes through it (usually via :func:`by_mode`).
    """
    if mode is not None:
        if not isinstance(mode, str):
            raise TypeError(f"mode must be a str, got {type(mode).__name__}")
        return check_choice("mode", mode.strip().lower(), MODES)
    raw = os.environ.get(MODE_ENV_VAR, "").strip().lower()
    if not raw:
        return DEFAULT_MODE
    if raw not in MODES:
        raise ValueError(f"{MODE_ENV_VAR} must be one of {MODES}, got {raw!r}")
    return raw


def by_mode(*, quick: T, standard: T, full: T | None = None, mode: str | None = None) -> T:
    """Pick the value that belongs to the current run mode.

    Parameters
    ----------
    quick, standard : Any
        The values for the ``quick`` and ``standard`` modes.
    full : Any, optional
        The value for ``full``; defaults to ``standard``.
    mode : str or None, optional
        Override the mode (otherwise :func:`get_mode` decides).

    Returns
    -------
    Any
        The value for the mode in force.

    Examples
    --------
    >>> by_mode(quick=10, standard=1000, full=10000, mode="quick")
    10
    """
    m = get_mode(mode)
    if m == "quick":
        return quick
    if m == "standard":
        return standard
    return standard if full is None else full


def get_device(device: "str | torch.device | None" = None) -> "torch.device":
    """Return a torch device: ``device`` if given, else ``cuda`` when available, else ``cpu``.

    Parameters
    ----------
    device : str, torch.device or None, optional
        An explicit device. ``"auto"`` and ``None`` mean automatic selection.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If ``device`` is not a valid device string, or names CUDA when no CUDA
        device is available.
    """
    import torch

    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be a str or torch.device, got {type(device).__name__}")
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"device is not a valid torch device: {exc}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device asks for CUDA but torch.cuda.is_available() is False")
    return dev


def make_rng(seed: int) -> np.random.Generator:
    """Return a numpy ``Generator`` seeded with ``seed`` (PCG64).

    Parameters
    ----------
    seed : int
        A non-negative integer seed. There is deliberately no default: every
        random experiment in the book names its seed.

    Returns
    -------
    numpy.random.Generator
    """
    seed = check_int("seed", seed, low=0)
    return np.random.default_rng(seed)


def torch_generator(seed: int, device: "str | torch.device | None" = "cpu") -> "torch.Generator":
    """Return a ``torch.Generator`` on ``device`` seeded with ``seed``.

    Parameters
    ----------
    seed : int
        A non-negative integer seed.
    device : str, torch.device or None, optional
        Device of the generator (default ``"cpu"``; ``None`` means automatic).

    Returns
    -------
    torch.Generator
    """
    import torch

    seed = check_int("seed", seed, low=0)
    gen = torch.Generator(device=get_device(device))
    gen.manual_seed(seed)
    return gen


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's legacy and torch's global generators with ``seed``.

    Use this only for code you do not control (layer initialisers draw from
    torch's global generator); code in this package takes explicit ``seed`` or
    ``rng`` arguments instead.

    Parameters
    ----------
    seed : int
        A non-negative integer seed, below 2**32.
    """
    import random

    seed = check_int("seed", seed, low=0, high=2**32 - 1)
    random.seed(seed)
    np.random.seed(seed)
    if "torch" in sys.modules or _torch_importable():
        import torch

        torch.manual_seed(seed)


def _torch_importable() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:  # pragma: no cover - torch is a hard requirement of the book
        return False
    return True


def progress(iterable: Iterable[T], *, desc: str | None = None, total: int | None = None,
             disable: bool | None = None, **kwargs: Any) -> Iterator[T]:
    """Wrap ``iterable`` in a tqdm progress bar that stays quiet where it would be noise.

    Parameters
    ----------
    iterable : Iterable
        What to iterate over.
    desc : str, optional
        Label shown before the bar.
    total : int, optional
        Number of items, if ``iterable`` has no ``len``.
    disable : bool or None, optional
        ``None`` (default) disables the bar in the ``quick`` mode and whenever
        the environment variable ``LRTHEORY_PROGRESS`` is ``0``, so that test
        logs and the rendered book stay clean.
    **kwargs
        Passed on to :func:`tqdm.auto.tqdm`.

    Returns
    -------
    Iterator
        The wrapped iterable.
    """
    from tqdm.auto import tqdm

    if desc is not None:
        check_str("desc", desc)
    if total is not None:
        check_int("total", total, low=0)
    if disable is not None:
        disable = check_bool("disable", disable)
    if disable is None:
        disable = get_mode() == "quick" or os.environ.get("LRTHEORY_PROGRESS", "1") == "0"
    return iter(tqdm(iterable, desc=desc, total=total, disable=disable, leave=False, **kwargs))
