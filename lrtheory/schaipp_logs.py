"""A vendored extract of the training logs of Schaipp et al. (2025), and the schedules they used.

Schaipp, Hägele, Taylor, Simsekli and Bach trained 124M-parameter Llama-style
language models (AdamW, 50,000 iterations, 300 warmup steps) with constant,
warmup–stable–decay (WSD) and cosine schedules at several base rates, and
published the logs under the MIT licence at
https://github.com/fabian-sp/lr-scheduling.  ``lrtheory/data/schaipp2025_124m.json``
holds a small extract (41 final validation losses and three loss curves), made
by ``scripts/extract_schaipp_logs.py``; it records the source commit and the
licence text.  Chapter 2 sets the shape of the combined bound beside these
curves and tests the learning-rate transfer the bound predicts.

* :func:`load_extract`: the extract as a :class:`LogExtract`;
* :meth:`LogExtract.sweep`: final validation loss against base rate for one schedule;
* :func:`log_schedule`: the shape of one of their schedules for N steps
  (linear warmup, then constant, WSD or cosine), to evaluate the bound on.

Nothing is downloaded.  Derived in chapter 2.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import check_choice, check_int, check_scalar

__all__ = ["LogExtract", "load_extract", "log_schedule"]


@dataclass(frozen=True)
class LogExtract:
    """The vendored extract.

    Attributes
    ----------
    source, commit, paper, license : str
        Where the logs come from, at which commit, and under which licence.
    setup : dict
        The training configuration shared by every run.
    finals : list of dict
        One entry per run: ``schedule`` ("constant", "wsd", "cosine"), ``cooldown``
        (fraction), ``decay`` ("linear", "sqrt" or ``None``), ``final_lr``
        (fraction of the base rate at the end, or ``None``), ``lr`` and
        ``final_val_loss``.
    curves : dict of str to dict
        ``"constant"``, ``"WSD 20%"``, ``"cosine"``: ``iter`` and ``val_loss`` at base rate ``lr``.
    """

    source: str
    commit: str
    paper: str
    license: str
    setup: dict[str, Any]
    finals: list[dict[str, Any]]
    curves: dict[str, dict[str, Any]]

    def sweep(self, schedule: str, *, cooldown: float | None = None, decay: str | None = None,
              final_lr: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Base rates and final validation losses of one schedule's learning-rate sweep, by rate.

        Parameters
        ----------
        schedule : {"constant", "wsd", "cosine"}
        cooldown, decay, final_lr : optional
            Select among the runs of that schedule (``None``: any).

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)

        Raises
        ------
        ValueError
            If no run matches.
        """
        schedule = check_choice("schedule", schedule, ("constant", "wsd", "cosine"))
        if cooldown is not None:
            cooldown = check_scalar("cooldown", cooldown, low=0.0, high=1.0)
        if decay is not None:
            decay = check_choice("decay", decay, ("linear", "sqrt"))
        if final_lr is not None:
            final_lr = check_scalar("final_lr", final_lr, low=0.0, high=1.0)
        rows = [f for f in self.finals if f["schedule"] == schedule
                and (cooldown is None or abs(f["cooldown"] - cooldown) < 1e-9)
                and (decay is None or f["decay"] == decay)
                and (final_lr is None or f["final_lr"] == final_lr)]
        if not rows:
            raise ValueError(f"no run of schedule {schedule!r} with cooldown={cooldown}, decay={decay}, "
                             f"final_lr={final_lr} in the extract")
        rows.sort(key=lambda f: f["lr"])
        return np.array([f["lr"] for f in rows]), np.array([f["final_val_loss"] for f in rows])


def load_extract() -> LogExtract:
    """Read ``lrtheory/data/schaipp2025_124m.json`` (shipped with the package).

    Returns
    -------
    LogExtract
    """
    from importlib import resources

    text = resources.files("lrtheory").joinpath("data", "schaipp2025_124m.json").read_text(encoding="utf-8")
    d = json.loads(text)
    return LogExtract(d["source"], d["commit"], d["paper"], d["license"], d["setup"], d["finals"], d["curves"])


def log_schedule(schedule: str, num_steps: int, *, warmup: int = 0, cooldown: float = 0.2,
                 decay: str = "linear", final_lr: float = 0.0) -> np.ndarray:
    """The shape (base rate 1) of one of the schedules of the logs, over ``num_steps`` updates.

    Parameters
    ----------
    schedule : {"constant", "wsd", "cosine"}
    num_steps : int
        N ≥ 1.
    warmup : int, optional
        Linear warmup steps (``(k + 1)/W`` at step k < W).
    cooldown : float, optional
        WSD cooldown fraction.
    decay : {"linear", "sqrt"}, optional
        WSD cooldown shape.
    final_lr : float, optional
        Cosine's end value as a fraction f of the base rate:
        f + (1 − f)(1 + cos(π j/J))/2 over the J = N − W steps after the warmup.

    Returns
    -------
    numpy.ndarray, shape (N,)

    Notes
    -----
    As in :mod:`lrtheory.schedules`, every update keeps a positive rate and the
    rate that would come next is the end value (zero for WSD).  Derived in chapter 2.
    """
    from .schedules import wsd_schedule

    schedule = check_choice("schedule", schedule, ("constant", "wsd", "cosine"))
    N = check_int("num_steps", num_steps, low=1)
    warmup = check_int("warmup", warmup, low=0, high=N - 1)
    final_lr = check_scalar("final_lr", final_lr, low=0.0, high=1.0)
    k = np.arange(N)
    if schedule == "constant":
        return np.asarray(wsd_schedule(k, N, 1.0, warmup=warmup, cooldown=0.0))
    if schedule == "wsd":
        return np.asarray(wsd_schedule(k, N, 1.0, warmup=warmup, cooldown=cooldown, decay=decay))
    j = np.clip(k - warmup, 0, None)
    cos = final_lr + (1 - final_lr) * 0.5 * (1 + np.cos(np.pi * j / (N - warmup)))
    return np.where(k < warmup, (k + 1.0) / max(warmup, 1), cos)
