"""Tests of lrtheory.ssl_toy against independent oracles: sympy, scipy's integrator, finite steps."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from lrtheory import flows, ssl_toy, ssl_toy_gd

PHI, THETA = sp.symbols("phi theta", real=True)
LOSS = sp.Rational(1, 2) * (PHI * THETA - THETA) ** 2
# the two gradient branches: through the prediction phi*theta, and through the target theta
T_PRED, T_TARGET = sp.symbols("t_pred t_target", real=True)
LOSS_SPLIT = sp.Rational(1, 2) * (PHI * T_PRED - T_TARGET) ** 2
GRAD_PRED = sp.diff(LOSS_SPLIT, T_PRED).subs({T_PRED: THETA, T_TARGET: THETA})
GRAD_TARGET = sp.diff(LOSS_SPLIT, T_TARGET).subs({T_PRED: THETA, T_TARGET: THETA})
SYMBOLIC = {
    "stopgrad": (-sp.diff(LOSS, PHI), -GRAD_PRED),
    "full": (-sp.diff(LOSS, PHI), -sp.diff(LOSS, THETA)),
    "removed": (-sp.diff(LOSS, PHI), -GRAD_TARGET),
}
INVARIANT = {
    "stopgrad": PHI**2 - THETA**2,
    "full": (PHI - 1) ** 2 - THETA**2,
    "removed": PHI + THETA**2 / 2,
}


def test_symbolic_full_is_sum_of_branches():
    assert sp.simplify(GRAD_PRED + GRAD_TARGET - sp.diff(LOSS, THETA)) == 0


@pytest.mark.parametrize("system", ssl_toy.SYSTEMS)
def test_flow_matches_sympy(system, rng):
    pts = rng.normal(size=(50, 2))
    f = sp.lambdify((PHI, THETA), SYMBOLIC[system], "numpy")
    want = np.stack(np.broadcast_arrays(*f(pts[:, 0], pts[:, 1])), axis=-1)
    np.testing.assert_allclose(ssl_toy.toy_flow(system)(pts), want, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("system", ssl_toy.SYSTEMS)
def test_invariant_has_zero_time_derivative(system, rng):
    dphi, dtheta = SYMBOLIC[system]
    q = INVARIANT[system]
    assert sp.simplify(sp.diff(q, PHI) * dphi + sp.diff(q, THETA) * dtheta) == 0
    pts = rng.normal(size=(10, 2))
    np.testing.assert_allclose(
        ssl_toy.conserved_quantity(system, pts[:, 0], pts[:, 1]),
        sp.lambdify((PHI, THETA), q, "numpy")(pts[:, 0], pts[:, 1]),
    )


@pytest.mark.parametrize("system", ssl_toy.SYSTEMS)
def test_invariant_step_change_is_exact(system):
    lr = sp.symbols("lr", positive=True)
    dphi, dtheta = SYMBOLIC[system]
    q = INVARIANT[system]
    after = q.subs({PHI: PHI + lr * dphi, THETA: THETA + lr * dtheta}, simultaneous=True)
    got = ssl_toy_gd.invariant_step_change
    pts = [(0.6, 0.1), (-1.3, 0.7), (2.0, -1.5)]
    for p, t in pts:
        want = float((after - q).subs({PHI: p, THETA: t, lr: 0.37}))
        assert float(got(system, p, t, 0.37)) == pytest.approx(want, rel=1e-12, abs=1e-15)
        # and it agrees with an actual step
        s1 = ssl_toy_gd.toy_update(system, [p, t], 0.37)
        dq = ssl_toy.conserved_quantity(system, s1[0], s1[1]) - ssl_toy.conserved_quantity(system, p, t)
        assert float(dq) == pytest.approx(want, rel=1e-9, abs=1e-14)


@pytest.mark.parametrize("system", ssl_toy.SYSTEMS)
def test_exact_limit_matches_integrated_flow(system):
    rng = np.random.default_rng(7)
    pts = rng.uniform(-2, 2, size=(16, 2))
    phi_inf, theta_inf = ssl_toy.exact_limit(system, pts[:, 0], pts[:, 1])
    q0 = ssl_toy.conserved_quantity(system, pts[:, 0], pts[:, 1])
    checked = 0
    for k, p in enumerate(pts):
        # stay away from the basin boundaries, where convergence is only algebraic
        margin = {"stopgrad": min(abs(q0[k] - 1), abs(q0[k]) if p[0] < 0 else 1),
                  "full": abs(q0[k]), "removed": abs(q0[k] - 1)}[system]
        if margin < 0.05:
            continue
        sol = flows.integrate_flow(ssl_toy.toy_flow(system), p, 3000.0, t_eval=[0.0, 3000.0],
                                   rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(sol.theta[-1], [phi_inf[k], theta_inf[k]], atol=1e-6)
        checked += 1
    assert checked >= 10


def test_article_initial_condition():
    # phi(0) = 0.6, theta(0) = 0.1: only the stop-gradient system keeps theta away from 0
    assert not ssl_toy.collapses("stopgrad", 0.6, 0.1)
    assert ssl_toy.collapses("full", 0.6, 0.1)
    assert ssl_toy.collapses("removed", 0.6, 0.1)
    phi, theta = ssl_toy.exact_limit("stopgrad", 0.6, 0.1)
    assert (float(phi), float(theta)) == pytest.approx((1.0, np.sqrt(0.65)))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(ssl_toy.SYSTEMS),
       st.floats(-3, 3, allow_nan=False), st.floats(-3, 3, allow_nan=False))
def test_limit_is_equilibrium_on_the_same_level_set(system, phi0, theta0):
    phi, theta = ssl_toy.exact_limit(system, phi0, theta0)
    # an equilibrium: the vector field vanishes
    np.testing.assert_allclose(ssl_toy.toy_flow(system)(np.array([phi, theta])), 0.0, atol=1e-9)
    # on the orbit's level set of the invariant
    q0 = ssl_toy.conserved_quantity(system, phi0, theta0)
    q1 = ssl_toy.conserved_quantity(system, phi, theta)
    assert float(q1) == pytest.approx(float(q0), rel=1e-9, abs=1e-9)
    # the sign of theta never flips (theta = 0 is invariant)
    assert float(theta) * theta0 >= 0


def test_collapse_map_shape_and_values():
    phis = np.array([-1.0, 0.5, 2.0])
    thetas = np.array([0.5, 1.9])
    m = ssl_toy.collapse_map("stopgrad", phis, thetas)
    assert m.shape == (2, 3)
    want = [[ssl_toy.collapses("stopgrad", p, t) for p in phis] for t in thetas]
    np.testing.assert_array_equal(m, want)


def test_toy_gd_matches_euler_iterates():
    for system in ssl_toy.SYSTEMS:
        got = ssl_toy_gd.toy_gd(system, [[0.6, 0.1], [1.5, -0.4]], 0.3, 40)
        for j, s0 in enumerate([[0.6, 0.1], [1.5, -0.4]]):
            want = flows.euler_iterates(ssl_toy.toy_flow(system), s0, 0.3, 40)
            np.testing.assert_allclose(got[:, j], want, rtol=1e-14)


def test_toy_gd_marks_divergence_as_nan():
    out = ssl_toy_gd.toy_gd("stopgrad", [[0.6, 0.1], [0.6, 0.1]], 50.0, 30)
    assert np.isnan(out[-1]).all()


def test_loss_vanishes_on_equilibria():
    assert ssl_toy.toy_loss(1.0, 3.0) == 0.0
    assert ssl_toy.toy_loss(-2.0, 0.0) == 0.0
    assert float(ssl_toy.toy_loss(0.6, 0.1)) == pytest.approx(0.5 * 0.04**2)


def test_argument_checks():
    with pytest.raises(ValueError, match="system"):
        ssl_toy.toy_flow("other")
    with pytest.raises(ValueError, match="state"):
        ssl_toy.stopgrad_flow([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="lr"):
        ssl_toy_gd.toy_update("full", [0.1, 0.2], -1.0)
    with pytest.raises(TypeError, match="num_steps"):
        ssl_toy_gd.toy_gd("full", [0.1, 0.2], 0.1, 2.5)
    with pytest.raises(ValueError, match="phi0"):
        ssl_toy.exact_limit("full", np.nan, 0.1)
    with pytest.raises(ValueError, match="phi_grid"):
        ssl_toy.collapse_map("full", [[0.1]], [0.2])


def test_gd_outcome_small_lr_agrees_with_flow():
    rng = np.random.default_rng(3)
    pts = rng.uniform(-2, 2, size=(200, 2))
    got = ssl_toy_gd.gd_outcome("stopgrad", pts, 0.05, 6000)
    flow_collapses = ssl_toy.collapses("stopgrad", pts[:, 0], pts[:, 1])
    decided = got != 2
    assert decided.mean() > 0.8
    np.testing.assert_array_equal(got[decided] == 0, flow_collapses[decided])
    assert ssl_toy_gd.OUTCOMES[int(ssl_toy_gd.gd_outcome("stopgrad", [0.6, 0.1], 50.0, 30))] == "other"
