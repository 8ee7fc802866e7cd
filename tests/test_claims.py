"""Tests of lrtheory.claims."""

from __future__ import annotations

import pytest

from lrtheory.claims import ClaimsLedger


def test_ledger_books_counts_and_tables():
    led = ClaimsLedger(2)
    led.record("C1", "a claim", where="here", verdict="holds", evidence="sympy")
    with pytest.raises(ValueError, match="expected 2"):
        led.check_complete()
    led.record("C2", "another | claim", where="there", verdict="erratum", evidence="a run")
    led.check_complete()
    assert len(led) == 2 and led.counts() == {"holds": 1, "partly": 0, "erratum": 1}
    table = led.table()
    assert table.count("\n") == 3 and "**erratum**" in table and "another \\| claim" in table
    with pytest.raises(ValueError, match="twice"):
        led.record("C1", "x", where="y", verdict="holds", evidence="z")
    with pytest.raises(ValueError, match="verdict"):
        led.record("C3", "x", where="y", verdict="maybe", evidence="z")
    with pytest.raises(TypeError, match="claim"):
        led.record("C4", "", where="y", verdict="holds", evidence="z")
    with pytest.raises(ValueError, match="expected"):
        ClaimsLedger(0)
