"""Seeds of the protocol: disjoint tuning and evaluation seeds, scaled with the run mode (chapter 1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .._validation import check_int, check_str

__all__ = ["MIN_SEEDS", "TUNING_SEED_OFFSET", "SeedPlan", "seed_plan", "check_seeds"]

MIN_SEEDS: dict[str, int] = {"quick": 2, "standard": 5, "full": 10}
"""Evaluation seeds per comparison in each run mode (a chapter may ask for more)."""

TUNING_SEED_OFFSET = 10_000
"""Tuning seeds start here; evaluation seeds start at the plan's ``base`` (< this offset)."""

_DEFAULT_TUNING = {"quick": 1, "standard": 2, "full": 3}



@dataclass(frozen=True)
class SeedPlan:
    """Disjoint tuning and evaluation seeds for one comparison.

    Attributes
    ----------
    tuning : tuple of int
        Seeds on which hyperparameters are chosen (validation metrics only).
    evaluation : tuple of int
        Seeds on which the chosen configurations are scored; every method runs on
        all of them, so differences can be paired seed by seed.
    """

    tuning: tuple[int, ...]
    evaluation: tuple[int, ...]

    def __post_init__(self) -> None:
        for name in ("tuning", "evaluation"):
            seeds = getattr(self, name)
            if not isinstance(seeds, tuple) or not seeds:
                raise ValueError(f"{name} must be a non-empty tuple of seeds")
            for s in seeds:
                check_int(name, s, low=0)
            if len(set(seeds)) != len(seeds):
                raise ValueError(f"{name} seeds must be distinct, got {seeds}")
        common = set(self.tuning) & set(self.evaluation)
        if common:
            raise ValueError(f"tuning and evaluation seeds must be disjoint; both contain {sorted(common)}")


def seed_plan(n_eval: int | None = None, n_tune: int | None = None, *, mode: str | None = None,
              base: int = 0) -> SeedPlan:
    """Evaluation and tuning seeds for one comparison, scaled with the run mode.

    Parameters
    ----------
    n_eval : int, optional
        Number of evaluation seeds. Default: :data:`MIN_SEEDS` of the mode (2 in
        ``quick``, 5 in ``standard``, 10 in ``full``); a chapter may ask for more,
        never for fewer.
    n_tune : int, optional
        Number of tuning seeds (default 1, 2, 3 by mode).
    mode : str, optional
        Run mode (default: :func:`lrtheory.experiments.get_mode`).
    base : int, optional
        First evaluation seed (default 0), below :data:`TUNING_SEED_OFFSET`.
        Comparisons that must not share seeds use different bases.

    Returns
    -------
    SeedPlan
        Evaluation seeds ``base, base+1, ...`` and tuning seeds
        ``TUNING_SEED_OFFSET + base, ...``: disjoint by construction.

    Raises
    ------
    ValueError
        If ``n_eval`` is below the mode's minimum, or a count or ``base`` is out of range.

    Examples
    --------
    >>> seed_plan(mode="quick")
    SeedPlan(tuning=(10000,), evaluation=(0, 1))
    """
    from ..experiments import get_mode

    m = get_mode(mode)
    low = MIN_SEEDS[m]
    n_eval = low if n_eval is None else check_int("n_eval", n_eval, low=1)
    if n_eval < low:
        raise ValueError(f"n_eval must be >= {low} in {m!r} mode (the protocol's minimum), got {n_eval}")
    n_tune = _DEFAULT_TUNING[m] if n_tune is None else check_int("n_tune", n_tune, low=1)
    base = check_int("base", base, low=0, high=TUNING_SEED_OFFSET - 1)
    if base + n_eval > TUNING_SEED_OFFSET:
        raise ValueError(f"base + n_eval must be <= {TUNING_SEED_OFFSET}, got {base + n_eval}")
    return SeedPlan(tuning=tuple(TUNING_SEED_OFFSET + base + i for i in range(n_tune)),
                    evaluation=tuple(base + i for i in range(n_eval)))


def check_seeds(name: str, seeds: Any) -> tuple[int, ...]:
    """Check a sequence of distinct non-negative integer seeds and return it as a tuple.

    Parameters
    ----------
    name : str
        The argument's name, for the error message.
    seeds : sequence of int
        The seeds.

    Returns
    -------
    tuple of int

    Raises
    ------
    TypeError
        If ``seeds`` is not a sequence of integers.
    ValueError
        If it is empty, repeats a seed, or holds a negative one.
    """
    name = check_str("name", name)
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) and not isinstance(seeds, np.ndarray):
        raise TypeError(f"{name} must be a sequence of int, got {type(seeds).__name__}")
    out = tuple(check_int(name, s, low=0) for s in seeds)
    if not out:
        raise ValueError(f"{name} must not be empty")
    if len(set(out)) != len(out):
        raise ValueError(f"{name} must be distinct, got {out}")
    return out
