"""Chapter 2's comparisons of schedules in the combined bound: the candidates and the tables.

Everything here is numpy: a schedule is judged by the value of the combined
last-iterate bound (:func:`lrtheory.bounds.combined_bound`) on the iterate θ_T
it produces, with the last rate read as the free weight of
:mod:`lrtheory.free_weight`.

* :func:`candidate_schedules`: the schedules the chapter compares for one
  sequence G_1, …, G_T: the exact optimum, the source article's guess and its
  causal variant (with the free weight), the first edition's shifted repair,
  the free-end relaxation, and the fixed shapes (linear, cosine, constant, WSD);
* :func:`excess_over_optimum`: each candidate's bound over the exact minimum,
  at the scale its formula prescribes and at its best base rate;
* :func:`fixed_shapes` and :func:`shape_table`: the fixed shapes of Schaipp et
  al. (2025) at their optimal base rates, and the predicted ratios of those rates;
* :func:`excess_markdown`: the Markdown table of :func:`excess_over_optimum`.

Derived in chapter 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from ._validation import check_array, check_int, check_scalar
from .bounds import _check_norms, _check_radius, combined_bound
from .free_weight import best_base_rate, free_end_schedule, optimal_last_weight
from .schedule_solver import combined_optimum_value, optimal_combined_schedule
from .schedules import (constant_schedule, cosine_schedule, linear_decay_schedule, refined_causal_schedule,
                        refined_guess_schedule, wsd_schedule)

__all__ = ["Candidate", "candidate_schedules", "fixed_shapes", "excess_over_optimum", "excess_markdown",
           "shape_table"]


@dataclass(frozen=True)
class Candidate:
    """A schedule for T − 1 updates, with the last weight its formula gives (if any).

    Attributes
    ----------
    name : str
    steps : numpy.ndarray, shape (T − 1,)
        The updates η_1, …, η_{T−1} at the formula's scale (or base rate 1 for a
        fixed shape).
    weight : float or None
        The last weight the formula prescribes; ``None``: choose it optimally
        (:func:`lrtheory.free_weight.optimal_last_weight`).
    has_scale : bool
        Whether the formula fixes the scale (a fixed shape only has a base rate to tune).
    """

    name: str
    steps: np.ndarray
    weight: float | None
    has_scale: bool


def fixed_shapes(num_steps: int, *, cooldowns: Sequence[float] = (0.2, 0.5)) -> dict[str, np.ndarray]:
    """Constant, WSD (linear cooldown of each fraction), cosine and linear decay at base rate 1.

    Parameters
    ----------
    num_steps : int
        N ≥ 1 updates.
    cooldowns : sequence of float, optional
        Cooldown fractions of the WSD shapes (default 20% and 50%; empty: no WSD shape).

    Returns
    -------
    dict of str to numpy.ndarray
        Names ``"constant"``, ``"WSD 20%"``, …, ``"cosine"``, ``"linear decay"``.
    """
    N = check_int("num_steps", num_steps, low=1)
    if isinstance(cooldowns, (str, bytes)) or not isinstance(cooldowns, Sequence):
        raise TypeError(f"cooldowns must be a sequence of fractions, got {type(cooldowns).__name__}")
    cooldowns = [check_scalar("cooldowns", c, low=0.0, high=1.0) for c in cooldowns]
    k = np.arange(N)
    out = {"constant": np.asarray(constant_schedule(k, N, 1.0))}
    for c in cooldowns:
        out[f"WSD {100 * c:.0f}%"] = np.asarray(wsd_schedule(k, N, 1.0, cooldown=c))
    out["cosine"] = np.asarray(cosine_schedule(k, N, 1.0))
    out["linear decay"] = np.asarray(linear_decay_schedule(k, N, 1.0))
    return out


def candidate_schedules(grad_norms: Any, radius: float) -> dict[str, Candidate]:
    """The schedules chapter 2 compares, for one sequence G_1, …, G_T (T ≥ 2).

    Parameters
    ----------
    grad_norms : array_like, shape (T,)
        Strictly positive G_t.
    radius : float
        R > 0.

    Returns
    -------
    dict of str to Candidate

    Notes
    -----
    ``"guess (article)"`` and ``"causal (article)"`` are the source's formulas:
    their last entry is 0, which as a *weight* makes the bound infinite, so
    they are kept with that zero; ``"guess, free weight"`` and
    ``"causal, free weight"`` keep their T − 1 updates and take the best
    weight; ``"shifted guess (1st ed.)"`` and ``"shifted causal (1st ed.)"``
    are the index-shifted versions of the first edition, whose own last entry
    is their weight; ``"free-end relaxation"`` is
    :func:`lrtheory.free_weight.free_end_schedule`.
    """
    g = _check_norms(grad_norms, positive=True)
    radius = _check_radius(radius)
    if g.size < 2:
        raise ValueError("grad_norms must hold at least two entries (one update and the weight)")
    opt = optimal_combined_schedule(g, radius)
    guess = refined_guess_schedule(g, radius)
    causal = refined_causal_schedule(g, radius)
    shifted = refined_guess_schedule(g, radius, include_current=True)
    shifted_c = refined_causal_schedule(g, radius, include_current=True)
    fe_steps, fe_w = free_end_schedule(g, radius)
    out = {
        "exact optimum": Candidate("exact optimum", opt[:-1], float(opt[-1]), True),
        "guess (article)": Candidate("guess (article)", guess[:-1], float(guess[-1]), True),
        "guess, free weight": Candidate("guess, free weight", guess[:-1], None, True),
        "shifted guess (1st ed.)": Candidate("shifted guess (1st ed.)", shifted[:-1], float(shifted[-1]), True),
        "free-end relaxation": Candidate("free-end relaxation", fe_steps, fe_w, True),
        "causal (article)": Candidate("causal (article)", causal[:-1], float(causal[-1]), True),
        "causal, free weight": Candidate("causal, free weight", causal[:-1], None, True),
        "shifted causal (1st ed.)": Candidate("shifted causal (1st ed.)", shifted_c[:-1], float(shifted_c[-1]),
                                              True),
    }
    for name, shape in fixed_shapes(g.size - 1, cooldowns=(0.2,)).items():
        out[name] = Candidate(name, shape, None, False)
    return out


def _formula_value(cand: Candidate, g: np.ndarray, radius: float) -> float:
    if not cand.has_scale:
        return math.nan
    if cand.weight is None:
        return optimal_last_weight(cand.steps, g, radius)[1]
    return combined_bound(np.append(cand.steps, cand.weight), g, radius)


def excess_over_optimum(settings: Mapping[str, Any], radius: float = 1.0) -> dict[tuple[str, str], tuple[float, float]]:
    """Each candidate's combined bound over the exact minimum, in every setting of G.

    Parameters
    ----------
    settings : mapping of str to array_like
        Named sequences G_1, …, G_T (each T ≥ 2, all entries > 0).
    radius : float, optional
        R (default 1; the relative excess does not depend on it).

    Returns
    -------
    dict of (setting, candidate) to (float, float)
        F/F* − 1 at the formula's scale (``nan`` for a fixed shape, ``inf`` for a
        zero weight) and at the best base rate with the best weight (the
        updates' shape only).
    """
    if not isinstance(settings, Mapping) or not settings:
        raise TypeError("settings must be a non-empty mapping of name to gradient norms")
    radius = _check_radius(radius)
    out: dict[tuple[str, str], tuple[float, float]] = {}
    for sname, gseq in settings.items():
        g = _check_norms(gseq, positive=True)
        fstar = combined_optimum_value(g, radius)
        for cname, cand in candidate_schedules(g, radius).items():
            at_formula = _formula_value(cand, g, radius) / fstar - 1
            if cand.weight is not None and cand.weight == 0 and np.any(cand.steps > 0):
                tuned = math.inf                       # the printed schedule, zero weight included
            else:
                tuned = best_base_rate(cand.steps, g, radius)[2] / fstar - 1
            out[sname, cname] = (float(at_formula), float(tuned))
    return out


def _pct(x: float) -> str:
    if math.isnan(x):
        return "—"
    if math.isinf(x):
        return "∞"
    return f"{100 * max(x, 0.0):.2f}%"


def excess_markdown(excess: Mapping[tuple[str, str], tuple[float, float]]) -> str:
    """The table of :func:`excess_over_optimum`: one row per candidate, "formula / tuned" per setting."""
    from .fmt import md_table

    if not isinstance(excess, Mapping) or not excess:
        raise TypeError("excess must be a non-empty mapping, as returned by excess_over_optimum")
    for key, val in excess.items():
        if not (isinstance(key, tuple) and len(key) == 2 and isinstance(val, tuple) and len(val) == 2):
            raise ValueError("excess must map (setting, candidate) to (formula, tuned), as excess_over_optimum does")
        check_array("excess", val, ndim=1, finite=False)
    settings = list(dict.fromkeys(s for s, _ in excess))
    names = list(dict.fromkeys(c for _, c in excess))
    head = ["schedule"] + [f"{s} (formula / tuned)" for s in settings]
    rows = [[c] + [f"{_pct(excess[s, c][0])} / {_pct(excess[s, c][1])}" for s in settings] for c in names]
    return md_table(head, rows)


def shape_table(horizons: Sequence[int], *, radius: float = 1.0, grad_norm: float = 1.0,
                cooldowns: Sequence[float] = (0.2, 0.5)) -> dict[int, dict[str, tuple[float, float, float]]]:
    """The fixed shapes at their optimal base rates, for constant G, at several horizons.

    Parameters
    ----------
    horizons : sequence of int
        Values of T ≥ 2 (the bounded iterate is θ_T, after T − 1 updates).
    radius, grad_norm : float, optional
        R and the constant G (default 1 and 1).
    cooldowns : sequence of float, optional
        WSD cooldown fractions.

    Returns
    -------
    dict of int to dict of str to (float, float, float)
        For each T and shape: the optimal base rate c*, the bound there, and its
        excess over the exact minimum; the shape ``"exact optimum"`` is included
        with its own base rate (its peak rate).
    """
    if isinstance(horizons, (str, bytes)) or not isinstance(horizons, Sequence) or not horizons:
        raise TypeError(f"horizons must be a non-empty sequence of int, got {type(horizons).__name__}")
    radius = _check_radius(radius)
    out: dict[int, dict[str, tuple[float, float, float]]] = {}
    for T in horizons:
        T = check_int("horizons", T, low=2)
        g = np.full(T, check_scalar("grad_norm", grad_norm, low=0.0, low_inclusive=False))
        fstar = combined_optimum_value(g, radius)
        row = {}
        for name, shape in fixed_shapes(T - 1, cooldowns=cooldowns).items():
            c, _, value = best_base_rate(shape, g, radius)
            row[name] = (c, value, value / fstar - 1)
        opt = optimal_combined_schedule(g, radius)
        row["exact optimum"] = (float(opt[:-1].max()), fstar, 0.0)
        out[T] = row
    return out
