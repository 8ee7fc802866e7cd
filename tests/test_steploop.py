"""Tests of lrtheory.steploop: the linearised loop at the edge against closed forms, sympy and runs."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from lrtheory import adaptive, steploop
from lrtheory.problems import quadratic


def test_i_controller_loop_is_a_sixth_root_of_unity():
    m = steploop.edge_loop_matrix("I")
    z = np.linalg.eigvals(m)
    nonzero = z[np.abs(z) > 1e-12]
    np.testing.assert_allclose(np.sort(np.angle(nonzero)), [-np.pi / 3, np.pi / 3], atol=1e-12)
    np.testing.assert_allclose(np.abs(nonzero), 1.0, atol=1e-12)


def test_rmsprop_loop_closed_form():
    """Characteristic polynomial z² − (3α − 1) z + α, derived symbolically from the linearised update."""
    a, w, v, z = sp.symbols("alpha w v z")
    w1 = a * w + 2 * (1 - a) * v
    v1 = v - w1
    M = sp.Matrix([[sp.diff(w1, w), sp.diff(w1, v)], [sp.diff(v1, w), sp.diff(v1, v)]])
    assert sp.expand(M.charpoly(z).as_expr() - (z**2 - (3 * a - 1) * z + a)) == 0
    for alpha in (0.0, 0.5, 0.9):
        num = steploop.edge_loop_matrix(alpha=alpha)
        np.testing.assert_allclose(num, np.array(M.subs(a, alpha), dtype=float), atol=1e-15)
    assert steploop.loop_modes(steploop.edge_loop_matrix(alpha=0.0)) == pytest.approx((1.0, 2.0))
    assert steploop.loop_modes(steploop.edge_loop_matrix(alpha=0.9))[0] == pytest.approx(np.sqrt(0.9))


def test_measured_modes_recovers_a_known_recurrence_and_an_rmsprop_run():
    rho, theta = 0.93, 2 * np.pi / 11
    n = np.arange(80)
    seq = rho**n * np.cos(theta * n + 0.3)
    assert steploop.measured_modes(seq, 2) == pytest.approx((rho, 11.0), rel=1e-9)
    c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
    R = np.array([[c, -s], [s, c]])
    p = quadratic(R @ np.diag([1.0, 50.0]) @ R.T)
    run = adaptive.run_adaptive(p.grad, [0.9, 0.7], "rmsprop_scalar", 0.01, 600, alpha=0.5, eps=0.0)
    u = np.log(run.lrs * 50.0 / 2)
    start = np.nonzero(np.abs(u) > 0.3)[0][-1] + 20
    measured = steploop.measured_modes(u[start:start + 120], 2)
    assert measured == pytest.approx(steploop.loop_modes(steploop.edge_loop_matrix(alpha=0.5)), rel=0.02)


@pytest.mark.parametrize(
    "call,exc,name",
    [
        (lambda: steploop.edge_loop_matrix(), ValueError, "exactly one"),
        (lambda: steploop.edge_loop_matrix("I", alpha=0.5), ValueError, "exactly one"),
        (lambda: steploop.edge_loop_matrix(alpha=1.0), ValueError, "alpha"),
        (lambda: steploop.edge_loop_matrix("I", kappa=0.0), ValueError, "kappa"),
        (lambda: steploop.edge_loop_matrix("I", order=0), ValueError, "order"),
        (lambda: steploop.edge_loop_matrix("X"), ValueError, "controller"),
        (lambda: steploop.loop_modes(np.ones((2, 3))), ValueError, "matrix"),
        (lambda: steploop.loop_modes([[np.nan]]), ValueError, "matrix"),
        (lambda: steploop.measured_modes([1.0, 2.0, 3.0], 2), ValueError, "sequence"),
        (lambda: steploop.measured_modes(np.ones(10), 0), ValueError, "order"),
    ],
)
def test_argument_checks(call, exc, name):
    with pytest.raises(exc, match=name):
        call()
