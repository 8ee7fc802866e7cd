"""Headline results: the numbers a chapter wants on the book's "What you can reproduce" page.

A chapter marks each of its headline results with :func:`headline` instead of
plain ``myst_nb.glue``.  The value is glued under a key of the form
``chN-headline-<name>`` and can be pasted in the chapter's prose as usual
(``{glue:text}`ch1-headline-order:.2f```).  Beside the number, the glued
object carries the claim in words, its display format and the run mode it was
computed in; the book's ``reproduce`` page (the ``reproduce_table`` Sphinx
extension in ``_ext``) collects these from every executed chapter at build
time, so that page is generated, never typed.

Nothing here runs at import time; :mod:`myst_nb` is imported only when a value
is glued.
"""

from __future__ import annotations

import re
from typing import Any

from ._validation import check_scalar

__all__ = ["HEADLINE_KEY", "HEADLINE_MIME", "Headline", "display_text", "headline", "make_headline", "parse_headline_key"]

HEADLINE_KEY = re.compile(r"^ch(?P<chapter>[1-9][0-9]?)-headline-(?P<name>[a-z0-9]+(?:-[a-z0-9]+)*)$")
"""Pattern of a headline glue key: ``ch<chapter number>-headline-<lower-case-dashed-name>``."""

HEADLINE_MIME = "application/vnd.lrtheory.headline+json"
"""MIME type of a headline's record in a glued output (a ``+json`` type, valid in nbformat 4)."""


def parse_headline_key(key: str) -> tuple[int, str]:
    """Split a headline key into its chapter number and name.

    Parameters
    ----------
    key : str
        A key such as ``"ch3-headline-flat-minima"``.

    Returns
    -------
    (int, str)
        The chapter number and the name, e.g. ``(3, "flat-minima")``.

    Raises
    ------
    TypeError
        If ``key`` is not a str.
    ValueError
        If ``key`` does not match :data:`HEADLINE_KEY`; the message names ``key``.

    Examples
    --------
    >>> parse_headline_key("ch3-headline-flat-minima")
    (3, 'flat-minima')
    """
    if not isinstance(key, str):
        raise TypeError(f"key must be a str, got {type(key).__name__}")
    m = HEADLINE_KEY.match(key)
    if m is None:
        raise ValueError(f"key must look like 'ch<N>-headline-<name>' (lower case, dashes), got {key!r}")
    return int(m.group("chapter")), m.group("name")


class Headline:
    """A headline number with its claim, as glued by :func:`headline`.

    Its plain-text form is the bare number (``repr(float)``), so myst-nb's
    ``{glue:text}`` role formats it like any glued float; its JSON form
    (MIME type :data:`HEADLINE_MIME` in the glued output) carries everything
    the reproduce page shows.

    Parameters
    ----------
    key : str
        The glue key, ``ch<N>-headline-<name>``.
    value : float
        The number.
    claim : str
        One sentence saying what the number shows.
    fmt : str
        A format specification for the number on the reproduce page (e.g. ``".3f"``).
    mode : str
        The run mode the number was computed in.
    """

    __slots__ = ("key", "value", "claim", "fmt", "mode")

    def __init__(self, key: str, value: float, claim: str, fmt: str, mode: str) -> None:
        self.key = key
        self.value = value
        self.claim = claim
        self.fmt = fmt
        self.mode = mode

    def __repr__(self) -> str:
        return repr(self.value)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": repr(self), HEADLINE_MIME: self.record()}

    def record(self) -> dict[str, Any]:
        """Everything the reproduce page shows about this result, as a JSON-able dict."""
        chapter, name = parse_headline_key(self.key)
        return {
            "key": self.key,
            "chapter": chapter,
            "name": name,
            "value": self.value,
            "claim": self.claim,
            "fmt": self.fmt,
            "mode": self.mode,
            "text": display_text(self.value, self.fmt),
        }


_SUPERSCRIPT = str.maketrans("0123456789-+", "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079\u207b\u207a")


def display_text(value: float, fmt: str) -> str:
    """The reproduce page's text for ``value``: ``format(value, fmt)`` typeset for reading.

    Parameters
    ----------
    value : float
        The number.
    fmt : str
        A format specification for a float (e.g. ``".3g"``).

    Returns
    -------
    str
        The formatted number with a true minus sign (U+2212) and any exponent written as
        ``× 10`` with a superscript power instead of e-notation.

    Raises
    ------
    TypeError
        If ``value`` is not a real number or ``fmt`` is not a str.
    ValueError
        If ``value`` is NaN or infinite, or ``fmt`` cannot format a float.

    Examples
    --------
    >>> display_text(-0.0612, ".2f")
    '\u22120.06'
    >>> display_text(1.5e-7, ".2g")
    '1.5 \u00d7 10\u207b\u2077'
    """
    value = check_scalar("value", value)
    if not isinstance(fmt, str):
        raise TypeError(f"fmt must be a str, got {type(fmt).__name__}")
    try:
        text = format(value, fmt)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"fmt must be a format specification for a float, got {fmt!r} ({exc})") from None
    match = re.fullmatch(r"([-+]?[0-9.]+)[eE]([-+]?)0*([0-9]+)", text)
    if match:
        mant, sign, power = match.groups()
        sign = "-" if sign == "-" else ""
        text = f"{mant} \u00d7 10" + (sign + power).translate(_SUPERSCRIPT)
    return text.replace("-", "\u2212", 1) if text.startswith("-") else text


def make_headline(key: str, value: float, claim: str, *, fmt: str = ".4g") -> Headline:
    """Check the arguments of :func:`headline` and build its :class:`Headline`, without gluing.

    Parameters
    ----------
    key, value, claim, fmt
        As for :func:`headline`.

    Returns
    -------
    Headline
        The object :func:`headline` glues.

    Raises
    ------
    TypeError
        If ``key``, ``claim`` or ``fmt`` is not a str, or ``value`` is not a real number.
    ValueError
        If ``key`` is malformed, ``value`` is not finite, ``claim`` is empty or
        longer than 300 characters, or ``fmt`` cannot format a float; each
        message names the argument.

    Examples
    --------
    >>> h = make_headline("ch1-headline-error-order", 1.02, "Fitted order of the global error", fmt=".2f")
    >>> h
    1.02
    >>> h.record()["text"]
    '1.02'
    """
    from .experiments import get_mode

    parse_headline_key(key)
    value = check_scalar("value", value)
    if not isinstance(claim, str):
        raise TypeError(f"claim must be a str, got {type(claim).__name__}")
    claim = " ".join(claim.split())
    if not claim or len(claim) > 300:
        raise ValueError(f"claim must be one non-empty sentence of at most 300 characters, got {len(claim)} characters")
    if not isinstance(fmt, str):
        raise TypeError(f"fmt must be a str, got {type(fmt).__name__}")
    try:
        format(value, fmt)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"fmt must be a format specification for a float, got {fmt!r} ({exc})") from None
    return Headline(key, value, claim, fmt, get_mode())


def headline(key: str, value: float, claim: str, *, fmt: str = ".4g") -> None:
    """Glue a chapter's headline result for the chapter's prose and the reproduce page.

    Parameters
    ----------
    key : str
        ``ch<N>-headline-<name>``, with the chapter's own number ``N`` and a
        lower-case dashed name, e.g. ``"ch1-headline-error-order"``.
    value : float
        The number (a real, finite scalar; numpy scalars are accepted).
    claim : str
        One sentence, in the chapter's words, of what the number shows
        (e.g. ``"Fitted order of the global error of RMSprop as an Euler step"``).
        Plain text; no MyST markup.
    fmt : str, optional
        Format specification used on the reproduce page; default ``".4g"``.

    Returns
    -------
    None
        Nothing, so a call at the end of a cell displays nothing.

    Raises
    ------
    TypeError, ValueError
        As :func:`make_headline`, naming the bad argument.

    Notes
    -----
    The value is glued with ``myst_nb.glue(key, obj, display=False)``, where
    ``obj`` is a :class:`Headline`: its ``text/plain`` form is the bare number
    (so ``{glue:text}`key:.3f``` works in the prose) and its
    :data:`HEADLINE_MIME` form is the record shown on the reproduce page.  The
    run mode recorded with the value is :func:`lrtheory.experiments.get_mode`
    at the time of the call, so the page can say which mode produced the number
    (a cached build may reuse an execution from another mode).
    The convention is documented for chapter authors on the book's page
    "What you can reproduce" (``reproduce.md``).
    """
    obj = make_headline(key, value, claim, fmt=fmt)
    from myst_nb import glue as myst_glue

    myst_glue(key, obj, display=False)
