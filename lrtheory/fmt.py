"""One formatter for the numbers the book quotes, and its Markdown tables.

Numbers in the prose come from executed cells (myst-nb ``glue``), never typed.
:func:`fmt_number` writes them the way a textbook does: a few significant
digits, a true minus sign (U+2212), and powers of ten as ×10ᵏ rather than
e-notation.  :func:`glue_number` glues a float so that both
``{glue:text}`key:.3f``` (the bare number, as before) and ``{glue:md}`key```
(the formatted number, optionally as ``$symbol = value$`` in math, so symbol and
value share one typeface) work.  :func:`md_table` is the book's Markdown table.

Used by every chapter; nothing here runs at import time.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

from ._validation import check_int

__all__ = ["MINUS", "fmt_number", "fmt_latex", "GluedNumber", "glue_number", "md_table"]

MINUS = "\u2212"
"""The true minus sign used in prose."""

_SUPERSCRIPTS = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def _check_real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    return float(value)


def _parts(x: float, digits: int) -> tuple[str, str, int | None]:
    """Sign, mantissa string and exponent (``None`` for plain notation) of ``x``."""
    sign = "-" if x < 0 else ""
    a = abs(x)
    if a == 0:
        return "", "0", None
    exp = int(math.floor(math.log10(a)))
    # round to `digits` significant digits first: 9.996 -> 10.0 changes the exponent
    rounded = float(f"{a:.{digits - 1}e}")
    exp = int(math.floor(math.log10(rounded)))
    if -3 <= exp < 5:
        decimals = max(digits - 1 - exp, 0)
        return sign, f"{rounded:.{decimals}f}", None
    mant = rounded / 10.0 ** exp
    return sign, f"{mant:.{digits - 1}f}", exp


def _is_one(mant: str) -> bool:
    return float(mant) == 1.0


def fmt_number(x: Any, digits: int = 3) -> str:
    """Format a number for prose: ``digits`` significant digits, true minus, ×10ᵏ.

    Parameters
    ----------
    x : real number
        The value (Python or numpy real; ``bool`` is refused).
    digits : int, optional
        Significant digits, 1 to 15 (default 3).

    Returns
    -------
    str
        Plain text such as ``"0.0123"``, ``"−4.5"``, ``"1.20 × 10⁻⁵"``; ``"NaN"``,
        ``"∞"`` or ``"−∞"`` for non-finite values.

    Raises
    ------
    TypeError
        If ``x`` is not a real number or ``digits`` not an integer.
    ValueError
        If ``digits`` is out of range.

    Examples
    --------
    >>> fmt_number(-0.012345)
    '−0.0123'
    >>> fmt_number(1.2e-5, 2)
    '1.2 × 10⁻⁵'
    >>> fmt_number(1e-6)
    '10⁻⁶'
    """
    x = _check_real("x", x)
    digits = check_int("digits", digits, low=1, high=15)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else MINUS + "∞"
    sign, mant, exp = _parts(x, digits)
    sign = MINUS if sign else ""
    if exp is None:
        return sign + mant
    power = "10" + str(exp).translate(_SUPERSCRIPTS)
    return f"{sign}{power}" if _is_one(mant) else f"{sign}{mant} × {power}"


def fmt_latex(x: Any, digits: int = 3) -> str:
    r"""Format a number as LaTeX for inline math: ``1.20\times 10^{-5}``.

    Parameters
    ----------
    x : real number
        The value.
    digits : int, optional
        Significant digits, 1 to 15 (default 3).

    Returns
    -------
    str
        LaTeX without the surrounding ``$``; ``\mathrm{NaN}`` or ``\infty`` for
        non-finite values.

    Examples
    --------
    >>> fmt_latex(-3.2e7, 2)
    '-3.2\\times 10^{7}'
    """
    x = _check_real("x", x)
    digits = check_int("digits", digits, low=1, high=15)
    if math.isnan(x):
        return r"\mathrm{NaN}"
    if math.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    sign, mant, exp = _parts(x, digits)
    if exp is None:
        return sign + mant
    if _is_one(mant):
        return f"{sign}10^{{{exp}}}"
    return f"{sign}{mant}\\times 10^{{{exp}}}"


class GluedNumber:
    """A float that glues as its bare number (text) and as formatted Markdown.

    ``{glue:text}`key:.2f``` sees the plain float (``repr``), exactly as when a
    float is glued; ``{glue:md}`key``` renders :attr:`markdown`.

    Parameters
    ----------
    value : float
        The number.
    digits : int, optional
        Significant digits of the Markdown form (default 3).
    symbol : str, optional
        A LaTeX symbol: the Markdown form is then ``$symbol = value$``.
    unit : str, optional
        Text after the number (e.g. ``"%"`` or ``" s"``).
    as_math : bool, optional
        Write the number in inline math (default: only when ``symbol`` is given
        or the number needs a power of ten).
    """

    def __init__(self, value: Any, *, digits: int = 3, symbol: str | None = None, unit: str = "",
                 as_math: bool | None = None) -> None:
        self.value = _check_real("value", value)
        self.digits = check_int("digits", digits, low=1, high=15)
        if symbol is not None and not isinstance(symbol, str):
            raise TypeError(f"symbol must be a str, got {type(symbol).__name__}")
        if not isinstance(unit, str):
            raise TypeError(f"unit must be a str, got {type(unit).__name__}")
        if as_math is not None and not isinstance(as_math, bool):
            raise TypeError(f"as_math must be a bool or None, got {type(as_math).__name__}")
        self.symbol = symbol
        self.unit = unit
        self.as_math = as_math

    @property
    def markdown(self) -> str:
        """The formatted Markdown (inline math where it helps)."""
        latex = fmt_latex(self.value, self.digits)
        use_math = self.as_math if self.as_math is not None else (self.symbol is not None or "10^" in latex)
        if self.symbol is not None:
            return f"${self.symbol} = {latex}${self.unit}"
        if use_math:
            return f"${latex}${self.unit}"
        return fmt_number(self.value, self.digits) + self.unit

    def __float__(self) -> float:
        return self.value

    def __repr__(self) -> str:
        return repr(self.value)

    def _repr_markdown_(self) -> str:
        return self.markdown


def glue_number(key: str, value: Any, *, digits: int = 3, symbol: str | None = None, unit: str = "",
                as_math: bool | None = None) -> GluedNumber:
    """Glue ``value`` under ``key`` for both ``{glue:text}`` and ``{glue:md}`` (see :class:`GluedNumber`).

    Parameters
    ----------
    key : str
        The glue key (``chN-...``).
    value : real number
        The number; NaN and inf are refused (a quoted number must be a real result).
    digits, symbol, unit, as_math
        As in :class:`GluedNumber`.

    Returns
    -------
    GluedNumber
        The glued object (its ``value`` is the float).

    Raises
    ------
    TypeError, ValueError
        For a non-str key, or a value that is not a finite real number.
    """
    if not isinstance(key, str) or not key:
        raise TypeError("key must be a non-empty str")
    g = GluedNumber(value, digits=digits, symbol=symbol, unit=unit, as_math=as_math)
    if not math.isfinite(g.value):
        raise ValueError(f"value must be finite to be quoted in prose, got {g.value} for {key!r}")
    from myst_nb import glue

    glue(key, g, display=False)
    return g


def md_table(header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-Markdown table.

    Parameters
    ----------
    header : sequence
        Column titles.
    rows : sequence of sequences
        Cells; each row must have as many cells as the header. Floats are
        written with :func:`fmt_number`, anything else with ``str``.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If the header is empty or a row has the wrong number of cells.

    Examples
    --------
    >>> print(md_table(["a", "b"], [[1, -0.5]]))
    | a | b |
    |---|---|
    | 1 | −0.500 |
    """
    if isinstance(header, str) or not isinstance(header, Sequence) or len(header) == 0:
        raise ValueError("header must be a non-empty sequence of column titles")
    if isinstance(rows, str) or not isinstance(rows, Sequence):
        raise TypeError("rows must be a sequence of rows")

    def cell(v: Any) -> str:
        if isinstance(v, float) or (isinstance(v, numbers.Real) and not isinstance(v, (bool, numbers.Integral))):
            return fmt_number(float(v))
        return str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(str(h) for h in header) + " |", "|" + "---|" * len(header)]
    for i, r in enumerate(rows):
        if isinstance(r, str) or len(r) != len(header):
            raise ValueError(f"rows[{i}] must have {len(header)} cells")
        lines.append("| " + " | ".join(cell(v) for v in r) + " |")
    return "\n".join(lines)
