"""Tests of lrtheory.regimes: the corners of the phase diagram are the limits the theory predicts."""

from __future__ import annotations

import numpy as np
import pytest

from lrtheory import regimes, rmsflow
from lrtheory.problems import quadratic

C, S = np.cos(np.pi / 6), np.sin(np.pi / 6)
ROT = np.array([[C, -S], [S, C]])
LAM = 100.0
P = quadratic(ROT @ np.diag([1.0, LAM]) @ ROT.T)
X0 = np.array([0.9, 0.7])


def test_corners_of_the_map():
    m = regimes.regime_map(P.grad, X0, [1e-3, 0.05], [1e-3, 1.0], s_final=1.0, lam_max=LAM)
    names = np.array(regimes.REGIMES)[m.code]
    assert names[0, 1] == "memoryless flow"       # short memory, small budget
    assert names[0, 0] == "coupled ODE"           # long memory tau = 1
    assert names[1, 1] == "stability edge"        # large budget, no memory
    # the distances are the direct measurements
    run = rmsflow.rmsprop_clock_iterates(P.grad, X0, 1e-3, 1 - 1e-3, 1000, coordinate=False)
    cpl, _ = rmsflow.coupled_flow(P.grad, X0, 1.0, run.s, coordinate=False)
    assert m.d_coupled[0, 0] == pytest.approx(np.linalg.norm(run.theta - cpl, axis=1).max(), rel=1e-6)
    assert m.peak_edge[1, 1] >= 2.0 > m.peak_edge[0, 1]


@pytest.mark.parametrize(
    "kw,exc,name",
    [
        ({"lrs": []}, ValueError, "lrs"),
        ({"one_minus_alpha": [0.0]}, ValueError, "one_minus_alpha"),
        ({"one_minus_alpha": [1.5]}, ValueError, "one_minus_alpha"),
        ({"s_final": 0.0}, ValueError, "s_final"),
        ({"lam_max": -1.0}, ValueError, "lam_max"),
        ({"tol": np.nan}, ValueError, "tol"),
    ],
)
def test_argument_checks(kw, exc, name):
    args = {"lrs": [0.01], "one_minus_alpha": [0.5], "s_final": 0.1, "lam_max": LAM}
    args.update(kw)
    with pytest.raises(exc, match=name):
        regimes.regime_map(P.grad, X0, args.pop("lrs"), args.pop("one_minus_alpha"), **args)
