"""Paired differences, confidence intervals and verdicts (scipy.stats underneath; chapter 1)."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_array, check_choice, check_int, check_scalar

__all__ = ["PairedDifference", "paired_difference", "Verdict", "verdict"]



@dataclass(frozen=True)
class PairedDifference:
    """Mean of paired differences ``a - b`` with a confidence interval.

    Attributes
    ----------
    mean : float
        Mean of ``a_i - b_i`` over pairs.
    low, high : float
        The confidence interval for the mean difference.
    n : int
        Number of pairs.
    confidence : float
        Confidence level of the interval (e.g. 0.95).
    method : str
        ``"t"`` (Student's t on the differences) or ``"bootstrap"`` (BCa).
    sd : float
        Standard deviation of the differences (ddof = 1).
    """

    mean: float
    low: float
    high: float
    n: int
    confidence: float
    method: str
    sd: float

    @property
    def half_width(self) -> float:
        """Half the interval's width."""
        return 0.5 * (self.high - self.low)

    @property
    def excludes_zero(self) -> bool:
        """Whether the interval lies entirely on one side of zero."""
        return self.low > 0 or self.high < 0


def paired_difference(a: Any, b: Any, *, confidence: float = 0.95, method: str = "t",
                      seed: int = 0, n_resamples: int = 9999) -> PairedDifference:
    """Mean paired difference ``a - b`` with a confidence interval from :mod:`scipy.stats`.

    Parameters
    ----------
    a, b : array_like, shape (n,)
        Results of two methods on the same ``n`` seeds, in the same seed order.
    confidence : float, optional
        Confidence level in (0, 1), default 0.95.
    method : {"t", "bootstrap"}, optional
        ``"t"``: :func:`scipy.stats.ttest_rel`'s interval (needs n ≥ 2);
        ``"bootstrap"``: :func:`scipy.stats.bootstrap` (BCa, needs n ≥ 10).
    seed : int, optional
        Seed of the bootstrap's resampling.
    n_resamples : int, optional
        Bootstrap resamples (default 9999).

    Returns
    -------
    PairedDifference

    Raises
    ------
    ValueError
        If the arrays differ in length, hold NaN or inf (a diverged run must be
        dealt with before, never averaged over), or are too short for the method.

    Notes
    -----
    With differences :math:`d_i = a_i - b_i`, mean :math:`\\bar d` and standard
    deviation :math:`s`, the t interval is
    :math:`\\bar d \\pm t_{n-1, 1-\\alpha/2}\\, s/\\sqrt n`; it is exact when the
    :math:`d_i` are normal and independent.  When every difference is the same,
    :math:`s = 0` and the interval is the point :math:`\\bar d`.
    """
    from scipy import stats

    a = check_array("a", a, ndim=1)
    b = check_array("b", b, ndim=1)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same length (paired seeds), got {a.size} and {b.size}")
    confidence = check_scalar("confidence", confidence, low=0.0, high=1.0, low_inclusive=False,
                              high_inclusive=False)
    check_choice("method", method, ("t", "bootstrap"))
    seed = check_int("seed", seed, low=0)
    n_resamples = check_int("n_resamples", n_resamples, low=100)
    n = a.size
    if method == "t" and n < 2:
        raise ValueError(f"a and b need at least 2 paired seeds for a t interval, got {n}")
    if method == "bootstrap" and n < 10:
        raise ValueError(f"a and b need at least 10 paired seeds for a bootstrap interval, got {n}")
    d = a - b
    mean = float(d.mean())
    sd = float(d.std(ddof=1)) if n > 1 else 0.0
    if sd == 0.0 or sd <= 1e-15 * max(1.0, abs(mean)):
        return PairedDifference(mean, mean, mean, n, confidence, method, sd)
    if method == "t":
        ci = stats.ttest_rel(a, b).confidence_interval(confidence_level=confidence)
        low, high = float(ci.low), float(ci.high)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            res = stats.bootstrap((d,), np.mean, confidence_level=confidence, method="BCa",
                                  n_resamples=n_resamples, rng=np.random.default_rng(seed))
        low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if not (math.isfinite(low) and math.isfinite(high)):  # degenerate resamples: percentile fallback
            res = stats.bootstrap((d,), np.mean, confidence_level=confidence, method="percentile",
                                  n_resamples=n_resamples, rng=np.random.default_rng(seed))
            low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return PairedDifference(mean, low, high, n, confidence, method, sd)


@dataclass(frozen=True)
class Verdict:
    """What a paired comparison of two methods on one metric allows one to say.

    Attributes
    ----------
    a, b : str
        The two methods' names.
    metric : str
        The metric compared.
    outcome : {"a", "b", "tie", "undecided"}
        ``"a"``/``"b"``: that method is better (the interval excludes zero);
        ``"tie"``: no significant difference; ``"undecided"``: no verdict can be
        given (see ``reason``).
    difference : PairedDifference or None
        ``a - b`` with its interval (``None`` when undecided before any statistics).
    higher_is_better : bool
        Direction of the metric.
    reason : str
        Why the verdict is undecided (empty otherwise).
    """

    a: str
    b: str
    metric: str
    outcome: str
    difference: PairedDifference | None
    higher_is_better: bool
    reason: str = ""

    @property
    def winner(self) -> str | None:
        """The better method's name, or ``None`` for a tie or no verdict."""
        return self.a if self.outcome == "a" else self.b if self.outcome == "b" else None

    @property
    def decided(self) -> bool:
        """Whether the data allow a verdict (better, worse or tie)."""
        return self.outcome != "undecided"

    def __str__(self) -> str:
        if self.outcome == "a":
            return f"{self.a} better than {self.b}"
        if self.outcome == "b":
            return f"{self.b} better than {self.a}"
        if self.outcome == "tie":
            return "no significant difference"
        return f"no verdict: {self.reason}"

    def sentence(self, digits: int = 2, *, label: str | None = None) -> str:
        """The verdict with its evidence, in words (for gluing into prose).

        Parameters
        ----------
        digits : int, optional
            Significant digits of the numbers (default 2).
        label : str, optional
            How to name the metric in prose (default: its name with spaces for
            underscores, e.g. ``"test loss"``).

        Returns
        -------
        str
            E.g. ``"no significant difference between A and B (mean paired difference
            in test loss, A − B: 0.0019; 95% CI [−0.011, 0.015]; 5 seeds)"``.
        """
        from ..fmt import fmt_number

        digits = check_int("digits", digits, low=1, high=10)
        if label is not None and not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}")
        name = self.metric.replace("_", " ") if label is None else label
        if self.difference is None:
            return str(self)
        d = self.difference
        pct = int(round(100 * d.confidence))
        ev = (f"mean paired difference in {name}, {self.a} − {self.b}: {fmt_number(d.mean, digits)}; "
              f"{pct}% CI [{fmt_number(d.low, digits)}, {fmt_number(d.high, digits)}]; {d.n} seeds")
        if self.outcome == "a":
            head = f"{self.a} is better than {self.b}"
        elif self.outcome == "b":
            head = f"{self.b} is better than {self.a}"
        elif self.outcome == "tie":
            head = f"no significant difference between {self.a} and {self.b}"
        else:
            return f"no verdict ({self.reason}); {ev}"
        return f"{head} ({ev})"


def verdict(a: Any, b: Any, *, names: tuple[str, str] = ("A", "B"), metric: str = "metric",
            higher_is_better: bool = False, confidence: float = 0.95, method: str = "t",
            seed: int = 0) -> Verdict:
    """The protocol's verdict on two methods' paired results.

    Parameters
    ----------
    a, b : array_like, shape (n,)
        Per-seed results of the two methods on the same seeds, same order. NaN
        marks a diverged run: the verdict is then undecided (never averaged over).
    names : (str, str), optional
        The methods' names, used in the verdict's text.
    metric : str, optional
        The metric's name.
    higher_is_better : bool, optional
        ``True`` for accuracies, ``False`` (default) for losses.
    confidence, method, seed
        As in :func:`paired_difference`.

    Returns
    -------
    Verdict
        ``"a"`` if the interval of ``a - b`` lies on ``a``'s good side of zero,
        ``"b"`` if on ``b``'s, ``"tie"`` if it contains zero, ``"undecided"``
        if some run diverged.

    Raises
    ------
    ValueError, TypeError
        For arrays of different lengths, too few seeds, or bad arguments.
    """
    if not (isinstance(names, tuple) and len(names) == 2 and all(isinstance(x, str) for x in names)):
        raise TypeError("names must be a tuple of two str")
    if not isinstance(metric, str):
        raise TypeError(f"metric must be a str, got {type(metric).__name__}")
    if not isinstance(higher_is_better, bool):
        raise TypeError(f"higher_is_better must be a bool, got {type(higher_is_better).__name__}")
    check_scalar("confidence", confidence, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    check_choice("method", method, ("t", "bootstrap"))
    check_int("seed", seed, low=0)
    aa = check_array("a", a, ndim=1, finite=False)
    bb = check_array("b", b, ndim=1, finite=False)
    if aa.shape != bb.shape:
        raise ValueError(f"a and b must have the same length (paired seeds), got {aa.size} and {bb.size}")
    if np.any(np.isinf(aa)) or np.any(np.isinf(bb)):
        raise ValueError("a and b must not contain inf (mark diverged runs with nan)")
    bad = [nm for nm, x in zip(names, (aa, bb)) if np.any(np.isnan(x))]
    if bad:
        counts = ", ".join(f"{nm}: {int(np.sum(np.isnan(x)))}/{x.size}"
                           for nm, x in zip(names, (aa, bb)) if np.any(np.isnan(x)))
        return Verdict(names[0], names[1], metric, "undecided", None, higher_is_better,
                       f"diverged seeds ({counts})")
    d = paired_difference(aa, bb, confidence=confidence, method=method, seed=seed)
    if not d.excludes_zero:
        outcome = "tie"
    else:
        a_bigger = d.low > 0
        outcome = "a" if a_bigger == higher_is_better else "b"
    return Verdict(names[0], names[1], metric, outcome, d, higher_is_better)
