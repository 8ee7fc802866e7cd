"""The prose number formatter and the Markdown table."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrtheory.fmt import MINUS, GluedNumber, fmt_latex, fmt_number, md_table


@pytest.mark.parametrize("x, digits, text, latex", [
    (0.0, 3, "0", "0"),
    (-0.012345, 3, MINUS + "0.0123", "-0.0123"),
    (1.2e-5, 2, "1.2 × 10⁻⁵", r"1.2\times 10^{-5}"),
    (1e-6, 3, "10⁻⁶", "10^{-6}"),
    (9.996, 3, "10.0", "10.0"),
    (0.00099, 2, "9.9 × 10⁻⁴", r"9.9\times 10^{-4}"),
    (123.456, 3, "123", "123"),
    (-3.2e7, 2, MINUS + "3.2 × 10⁷", r"-3.2\times 10^{7}"),
    (np.float32(0.5), 2, "0.50", "0.50"),
])
def test_formats(x, digits, text, latex):
    assert fmt_number(x, digits) == text
    assert fmt_latex(x, digits) == latex


def test_the_value_survives_the_round_trip():
    rng = np.random.default_rng(0)
    for x in 10.0 ** rng.uniform(-9, 9, 200) * rng.choice([-1, 1], 200):
        t = fmt_latex(x, 6).replace(r"\times 10^{", "e").replace("10^{", "1e").rstrip("}")
        assert float(t) == pytest.approx(x, rel=1e-5)


def test_non_finite_and_bad_input():
    assert fmt_number(math.nan) == "NaN" and fmt_number(-math.inf) == MINUS + "∞"
    with pytest.raises(TypeError, match="x must be a real number"):
        fmt_number("1.0")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="x must be a real number"):
        fmt_number(1 + 2j)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="digits must be >= 1"):
        fmt_number(1.0, 0)


def test_glued_number_is_a_float_in_text_and_math_in_markdown():
    g = GluedNumber(-2.5e-4, digits=2, symbol=r"\gamma")
    assert float(repr(g)) == -2.5e-4
    assert g._repr_markdown_() == r"$\gamma = -2.5\times 10^{-4}$"
    assert GluedNumber(0.25).markdown == "0.250"
    assert GluedNumber(-0.25, unit="%").markdown == MINUS + "0.250%"
    with pytest.raises(TypeError, match="symbol must be a str"):
        GluedNumber(1.0, symbol=3)  # type: ignore[arg-type]


def test_md_table():
    t = md_table(["a", "b"], [[1, -0.5], ["x|y", 2.0]])
    assert t.splitlines() == ["| a | b |", "|---|---|", f"| 1 | {MINUS}0.500 |", "| x\\|y | 2.00 |"]
    with pytest.raises(ValueError, match="rows\\[0\\] must have 2 cells"):
        md_table(["a", "b"], [[1]])
    with pytest.raises(ValueError, match="header must be a non-empty"):
        md_table([], [])
