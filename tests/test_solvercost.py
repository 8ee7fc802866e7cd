"""Tests of lrtheory.solvercost against closed forms, scipy and the per-run reference (adaptive.run_adaptive)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

from lrtheory import adaptive, localerror, odecontrol, solvercost
from lrtheory.problems import quadratic, rosenbrock
from lrtheory.protocol import log_grid

C, S = np.cos(np.pi / 6), np.sin(np.pi / 6)
A = np.array([[C, -S], [S, C]]) @ np.diag([1.0, 30.0]) @ np.array([[C, S], [-S, C]])


def test_flow_maps_agree_with_expm_and_scipy():
    b = np.array([0.3, -0.2])
    exact = localerror.quadratic_flow_map(A, b)
    p = quadratic(A, b)
    num = localerror.numerical_flow_map(p.grad)
    th = np.array([0.9, 0.7])
    star = np.linalg.solve(A, b)
    for h in (0.0, 0.01, 0.3):
        want = star + expm(-A * h) @ (th - star)
        np.testing.assert_allclose(exact(th, h), want, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(num(th, h), want, rtol=1e-9, atol=1e-11)


def test_true_local_error_of_gd_on_a_line_is_the_closed_form():
    """|e^{-x} - (1 - x)| |theta| with x = h*lambda: 0.568 of the leading term at the edge x = 2."""
    lam = 4.0
    p = quadratic(np.array([[lam]]))
    flow = localerror.quadratic_flow_map(np.array([[lam]]))
    for x in (0.1, 1.0, 2.0):
        run = adaptive.run_adaptive(p.grad, [0.7], "gd", x / lam, 5)
        err = localerror.true_local_errors(flow, run.theta, run.lrs)
        want = abs(np.exp(-x) - (1 - x)) * np.abs(run.theta[:-1, 0])
        np.testing.assert_allclose(err, want, rtol=1e-12)
        leading = np.array([odecontrol.euler_local_error(p.grad, p.hess, th, x / lam) for th in run.theta[:-1]])
        if x == 2.0:
            np.testing.assert_allclose(err / leading, (1 + np.exp(-2.0)) / 2, rtol=1e-12)


@pytest.mark.parametrize("method", ["gd", "sign", "rmsprop_scalar", "rmsprop_coordinate"])
def test_descent_gaps_columns_are_single_runs(method):
    p = rosenbrock()
    x0 = np.array([-1.2, 1.0])
    lrs = np.array([1e-4, 1e-3, 3e-3])
    gaps = solvercost.descent_gaps(p, x0, method, lrs, 60, alpha=0.9, eps=1e-8)
    for j, lr in enumerate(lrs):
        run = adaptive.run_adaptive(p.grad, x0, method, lr, 60, alpha=0.9, eps=1e-8)
        np.testing.assert_allclose(gaps[:, j], p.loss(run.theta) / p.loss(x0), rtol=1e-10)
    blown = solvercost.descent_gaps(p, x0, "gd", [0.05], 30)
    assert np.isinf(blown[-1, 0])


def test_evals_to_targets_and_controller_run():
    ev = np.array([0, 2, 5, 9])
    gaps = np.array([[1.0, 1.0], [0.5, np.nan], [0.05, 0.2], [0.001, 0.2]])
    out = solvercost.evals_to_targets(ev, gaps, [0.6, 0.1, 0.01])
    np.testing.assert_array_equal(out, [[2, 5, 9], [5, np.inf, np.inf]])
    p = quadratic(A)
    x0 = np.array([0.9, 0.7])
    for method in solvercost.CONTROLLER_METHODS:
        rec = solvercost.controller_run(p, x0, method, 1e-4, targets=[1e-2, 1e-6], max_evals=20000)
        gap = p.loss(rec.theta) / p.loss(x0)
        assert gap[-1] <= 1e-6 < gap[-2] and rec.evals[-1] == rec.nfev and not rec.failed
    rec = solvercost.controller_run(p, x0, "heun_euler_I", 1e-4, targets=[1e-6], max_evals=20000)
    ref = odecontrol.heun_euler_descent(p.grad, x0, 1e-4, len(rec.h), controller="I")
    np.testing.assert_allclose(rec.theta, ref.theta, rtol=1e-13)
    # a loose RK45 on a stiff problem blows up: reported as failed, not raised
    stiff = quadratic(np.diag([1.0, 1e4]))
    bad = solvercost.controller_run(stiff, x0, "rk45", 1e3, targets=[1e-8], max_evals=3000)
    gaps_bad = stiff.loss(bad.theta) / stiff.loss(x0)
    assert np.isinf(solvercost.evals_to_targets(bad.evals, gaps_bad, [1e-8])[0])


def test_target_costs_is_evals_to_targets_of_single_runs():
    p = quadratic(A)
    x0 = np.array([0.9, 0.7])
    tg = [1e-2, 1e-5]
    costs, rej = solvercost.target_costs(p, x0, "gd", [0.01, 0.05], targets=tg, max_evals=3000)
    for j, lr in enumerate((0.01, 0.05)):
        run = adaptive.run_adaptive(p.grad, x0, "gd", lr, 3000)
        np.testing.assert_array_equal(costs[j], solvercost.evals_to_targets(np.arange(3001), p.loss(run.theta) /
                                                                            p.loss(x0), tg))
    assert np.all(rej == 0)
    costs, rej = solvercost.target_costs(p, x0, "heun_euler_PI", [1e-4], targets=tg, max_evals=3000)
    rec = solvercost.controller_run(p, x0, "heun_euler_PI", 1e-4, targets=tg, max_evals=3000)
    np.testing.assert_array_equal(costs[0], solvercost.evals_to_targets(rec.evals, p.loss(rec.theta) / p.loss(x0), tg))
    assert rej[0] == rec.rejected
    with pytest.raises(ValueError, match="method"):
        solvercost.target_costs(p, x0, "bfgs", [1e-4], targets=tg, max_evals=30)


def test_best_costs_extends_the_grid_to_an_outside_optimum():
    def cost(values):   # target 1 is cheapest at 1e-5, target 2 at 3e-2 (inside), target 3 never reached
        v = np.log10(values)[:, None]
        return np.column_stack([10 + (v[:, 0] + 5) ** 2, 10 + (v[:, 0] + 1.5) ** 2, np.full(len(values), np.inf)])

    res = solvercost.best_costs(cost, log_grid(1e-3, 1e-1, 5), max_extensions=3)
    assert res.extensions >= 1 and min(res.grid.values) <= 1e-5 * 1.0001
    assert res.best_value[0] == pytest.approx(1e-5, rel=1e-6) and not res.on_edge[0]
    assert res.best_value[1] == pytest.approx(10**-1.5, rel=1e-6)
    assert np.isnan(res.best_value[2]) and np.isinf(res.best_cost[2]) and not res.on_edge[2]
    stuck = solvercost.best_costs(cost, log_grid(1e-3, 1e-1, 5), max_extensions=0)
    assert stuck.on_edge[0] and stuck.extensions == 0


@pytest.mark.parametrize(
    "call,exc,name",
    [
        (lambda: localerror.quadratic_flow_map(-np.eye(2)), ValueError, "A"),
        (lambda: localerror.quadratic_flow_map(np.eye(2), [1.0]), ValueError, "b"),
        (lambda: localerror.quadratic_flow_map(np.eye(2))(np.zeros(2), -1.0), ValueError, "h"),
        (lambda: localerror.numerical_flow_map(3.0), TypeError, "grad"),
        (lambda: localerror.true_local_errors(np.sin, np.zeros((3, 2)), np.ones(3)), ValueError, "h"),
        (lambda: solvercost.descent_gaps("x", [0.0, 0.0], "gd", [0.1], 3), TypeError, "problem"),
        (lambda: solvercost.descent_gaps(rosenbrock(), [-1.0, 1.0], "adam", [0.1], 3), ValueError, "method"),
        (lambda: solvercost.descent_gaps(rosenbrock(), [-1.0, 1.0], "gd", [], 3), ValueError, "lrs"),
        (lambda: solvercost.descent_gaps(rosenbrock(), [1.0, 1.0], "gd", [0.1], 3), ValueError, "theta0"),
        (lambda: solvercost.controller_run(rosenbrock(), [-1.0, 1.0], "rk45", 1e-3, targets=[2.0], max_evals=9),
         ValueError, "targets"),
        (lambda: solvercost.evals_to_targets([0, 1], [1.0], [0.1]), ValueError, "gaps"),
        (lambda: solvercost.best_costs(np.sin, [1e-3, 1e-2]), TypeError, "grid"),
    ],
)
def test_argument_checks(call, exc, name):
    with pytest.raises(exc, match=name):
        call()
