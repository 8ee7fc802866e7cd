"""A claims ledger: every claim of a chapter's source article, where it is checked, and the verdict.

A chapter records each claim of its source article in the cell that checks
it (the cell's ``assert`` is what can fail; the ledger only books the result),
and a last cell prints the ledger as a table and checks that the count matches
the number of claims the chapter promises.  First used in chapter 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._validation import check_choice, check_int

__all__ = ["VERDICTS", "Claim", "ClaimsLedger"]

VERDICTS: tuple[str, ...] = ("holds", "partly", "erratum")
"""A claim holds as stated, holds only in part (the ledger says which part), or is wrong as stated."""


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{name} must be a non-empty str")
    return value.strip()


@dataclass(frozen=True)
class Claim:
    """One booked claim: its key, the claim in one line, where it is checked, the verdict and the evidence."""

    key: str
    claim: str
    where: str
    verdict: str
    evidence: str


class ClaimsLedger:
    """The book of a chapter's claims.

    Parameters
    ----------
    expected : int
        How many claims the chapter promises to check (≥ 1).

    Examples
    --------
    >>> ledger = ClaimsLedger(1)
    >>> ledger.record("C1", "GD is Euler's method", where="section 1", verdict="holds", evidence="sympy")
    >>> ledger.check_complete()
    """

    def __init__(self, expected: int) -> None:
        self.expected = check_int("expected", expected, low=1)
        self._claims: dict[str, Claim] = {}

    def record(self, key: str, claim: str, *, where: str, verdict: str, evidence: str) -> None:
        """Book a claim once, from the cell whose asserts checked it.

        Parameters
        ----------
        key : str
            A short unique key (e.g. ``"C7"``).
        claim, where, evidence : str
            The claim in one line; where it is checked (Markdown, e.g. a section
            reference); what the check found.
        verdict : {"holds", "partly", "erratum"}
            See :data:`VERDICTS`.

        Raises
        ------
        ValueError
            If the key was booked before, or the verdict is unknown.
        """
        key = _text("key", key)
        if key in self._claims:
            raise ValueError(f"key {key!r} was recorded twice")
        verdict = check_choice("verdict", verdict, VERDICTS)
        self._claims[key] = Claim(key, _text("claim", claim), _text("where", where), verdict,
                                  _text("evidence", evidence))

    def __len__(self) -> int:
        return len(self._claims)

    @property
    def claims(self) -> tuple[Claim, ...]:
        """The booked claims, in the order booked."""
        return tuple(self._claims.values())

    def counts(self) -> dict[str, int]:
        """How many claims have each verdict."""
        return {v: sum(c.verdict == v for c in self._claims.values()) for v in VERDICTS}

    def check_complete(self) -> None:
        """Raise ``ValueError`` unless exactly ``expected`` claims were booked."""
        if len(self._claims) != self.expected:
            raise ValueError(f"the ledger holds {len(self._claims)} claims, expected {self.expected}")

    def table(self) -> str:
        """The ledger as a Markdown table (key, claim, where checked, verdict, evidence)."""
        from .fmt import md_table

        rows = [[c.key, c.claim, c.where, f"**{c.verdict}**", c.evidence] for c in self._claims.values()]
        return md_table(["", "claim of the article", "checked in", "verdict", "what the check found"], rows)
