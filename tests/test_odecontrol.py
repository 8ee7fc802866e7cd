"""Tests of lrtheory.odecontrol against closed forms and scipy."""

from __future__ import annotations

import numpy as np
import pytest

from lrtheory import odecontrol
from lrtheory.flows import gradient_flow
from lrtheory.problems import quadratic, rosenbrock


def test_rk45_steps_follow_the_flow():
    p = quadratic(np.diag([1.0, 5.0]))
    rec = odecontrol.rk45_steps(p.grad, [1.0, 1.0], 3.0, rtol=1e-6, atol=1e-9)
    assert rec.t[0] == 0.0 and rec.t[-1] == pytest.approx(3.0)
    exact = np.stack([np.exp(-rec.t), np.exp(-5 * rec.t)], axis=1)
    np.testing.assert_allclose(rec.theta, exact, atol=1e-5)
    assert np.all(rec.h > 0) and rec.h.size == rec.t.size - 1


def test_rk45_loose_tolerance_takes_fewer_steps():
    p = rosenbrock()
    tight = odecontrol.rk45_steps(p.grad, [-1.0, 1.0], 1.0, rtol=1e-8, atol=1e-10)
    loose = odecontrol.rk45_steps(p.grad, [-1.0, 1.0], 1.0, rtol=1e-3, atol=1e-6)
    assert loose.h.size < tight.h.size


def test_euler_local_error_against_exact_flow():
    """½γ²‖Hg‖ is the leading term: the ratio to the true one-step error tends to 1."""
    p = rosenbrock()
    theta = np.array([-0.5, 0.8])
    for lr in (1e-3, 1e-4):
        exact = gradient_flow(p.grad, theta, lr, t_eval=[lr]).theta[-1]
        true_err = np.linalg.norm(exact - (theta - lr * p.grad(theta)))
        assert odecontrol.euler_local_error(p.grad, p.hess, theta, lr) / true_err == pytest.approx(1.0, abs=50 * lr)
    lr = odecontrol.euler_error_lr(p.grad, p.hess, theta, 1e-6)
    assert odecontrol.euler_local_error(p.grad, p.hess, theta, lr) == pytest.approx(1e-6)


def test_euler_error_lr_on_1d_quadratic_closed_form():
    lam = 4.0
    p = quadratic(np.array([[lam]]))
    # H g = lam^2 theta
    assert odecontrol.euler_error_lr(p.grad, p.hess, [0.5], 1e-4) == pytest.approx(np.sqrt(2e-4 / (lam**2 * 0.5)))
    assert odecontrol.euler_error_lr(p.grad, p.hess, [0.0], 1e-4) == np.inf


def test_heun_euler_descent_controls_error_and_is_gd():
    p = rosenbrock()
    tol = 1e-4
    rec = odecontrol.heun_euler_descent(p.grad, [-1.0, 1.0], tol, 200)
    assert rec.theta.shape == (201, 2)
    for k in range(200):  # every accepted step is a gradient-descent step with lr = h_k ...
        np.testing.assert_allclose(rec.theta[k + 1], rec.theta[k] - rec.h[k] * p.grad(rec.theta[k]), rtol=1e-12, atol=1e-14)
    # ... and its true local error is about tol (the estimate is first-order accurate)
    errs = [np.linalg.norm(gradient_flow(p.grad, rec.theta[k], rec.h[k], t_eval=[rec.h[k]]).theta[-1] - rec.theta[k + 1])
            for k in range(0, 200, 20)]
    assert max(errs) < 3 * tol
    assert p.loss(rec.theta[-1]) < p.loss(rec.theta[0])


@pytest.mark.parametrize(
    "call,exc,name",
    [
        (lambda: odecontrol.rk45_steps(np.sin, [1.0], 0.0), ValueError, "t_final"),
        (lambda: odecontrol.rk45_steps(np.sin, [1.0], 1.0, method="Radau"), ValueError, "method"),
        (lambda: odecontrol.rk45_steps(1.0, [1.0], 1.0), TypeError, "grad"),
        (lambda: odecontrol.euler_error_lr(np.sin, np.cos, [1.0], -1.0), ValueError, "tol"),
        (lambda: odecontrol.heun_euler_descent(np.sin, [1.0], 1e-3, -1), ValueError, "num_steps"),
        (lambda: odecontrol.heun_euler_descent(np.sin, [1.0], 1e-3, 3, safety=0.0), ValueError, "safety"),
    ],
)
def test_argument_checks(call, exc, name):
    with pytest.raises(exc, match=name):
        call()


def test_stability_polynomial_rk4_is_taylor():
    """Classical RK4 on y' = λy reproduces exp(z) to 4th order: R(z) = Σ_{k≤4} z^k/k!."""
    A = np.array([[0, 0, 0, 0], [0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 1, 0.0]])
    b = np.array([1, 2, 2, 1]) / 6
    np.testing.assert_allclose(odecontrol.rk_stability_polynomial(A, b), [1, 1, 1 / 2, 1 / 6, 1 / 24])
    # the boundary solves R(-x) = 1 (|R| = 1) with x in (2.5, 3): check by substitution
    x = odecontrol.real_stability_boundary((A, b))
    assert 2.5 < x < 3.0
    assert abs(np.polynomial.Polynomial([1, 1, 1 / 2, 1 / 6, 1 / 24])(-x)) == pytest.approx(1.0, abs=1e-9)


def test_stability_boundaries_named():
    assert odecontrol.real_stability_boundary("Euler") == pytest.approx(2.0, abs=1e-12)
    # RK45 (Dormand-Prince 5th-order weights): R agrees with exp to order 5
    from scipy.integrate import RK45

    b = RK45.B
    A = np.zeros((b.size, b.size))
    A[:, : RK45.A.shape[1]] = RK45.A
    c = odecontrol.rk_stability_polynomial(A, b)
    np.testing.assert_allclose(c[:6], [1, 1, 1 / 2, 1 / 6, 1 / 24, 1 / 120], rtol=1e-12)
    x = odecontrol.real_stability_boundary("RK45")
    assert abs(np.polynomial.Polynomial(c)(-x)) == pytest.approx(1.0, abs=1e-9)
    # and a linear decay integrated by scipy with step just beyond x*/λ would grow: check inside is stable
    assert abs(np.polynomial.Polynomial(c)(-0.99 * x)) < 1.0
    with pytest.raises(ValueError, match="method"):
        odecontrol.real_stability_boundary("Radau")
    with pytest.raises(ValueError, match="A must"):
        odecontrol.rk_stability_polynomial(np.ones((2, 2)), np.ones(2))


def test_rk45_steps_are_solve_ivps_steps_and_count_evaluations():
    from scipy.integrate import solve_ivp

    p = rosenbrock()
    rec = odecontrol.rk45_steps(p.grad, [-1.0, 1.0], 2.0, rtol=1e-5, atol=1e-8)
    sol = solve_ivp(lambda _t, y: -p.grad(y), (0.0, 2.0), [-1.0, 1.0], rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(rec.t, sol.t, rtol=0, atol=0)
    assert rec.nfev == sol.nfev and rec.evals[-1] == sol.nfev
    assert np.all(np.diff(rec.evals)[1:] % 6 == 0)   # Dormand-Prince: 6 new evaluations per try (FSAL)
    # stopping at a target loss, with an infinite horizon
    L0 = p.loss(np.array([-1.0, 1.0]))
    stopped = odecontrol.rk45_steps(p.grad, [-1.0, 1.0], np.inf, rtol=1e-5, atol=1e-8,
                                    stop=lambda th: p.loss(th) < 0.5 * L0)
    assert p.loss(stopped.theta[-1]) < 0.5 * L0 <= p.loss(stopped.theta[-2])
    capped = odecontrol.rk45_steps(p.grad, [-1.0, 1.0], np.inf, max_evals=40)
    assert capped.evals[-2] < 40 <= capped.nfev
    with pytest.raises(ValueError, match="t_final"):
        odecontrol.rk45_steps(p.grad, [-1.0, 1.0], np.inf)


def test_controller_factor_closed_forms():
    assert odecontrol.controller_factor(0.25, 1.0, 1.0, 1.0, 2, "I") == pytest.approx(2.0)
    # Gustafsson's PI: (tol/e)^{0.3/k} (e_prev/e)^{0.4/k}
    e, ep = 0.3, 0.7
    want = (1.0 / e) ** (0.3 / 2) * (ep / e) ** (0.4 / 2)
    assert odecontrol.controller_factor(e, ep, 1.3, 1.0, 2, "PI") == pytest.approx(want, rel=1e-12)
    # H211b: (tol/e)^{1/8} (tol/e_prev)^{1/8} (ratio)^{-1/4}
    want = (1 / e) ** 0.125 * (1 / ep) ** 0.125 * 1.3 ** -0.25
    assert odecontrol.controller_factor(e, ep, 1.3, 1.0, 2, "H211b") == pytest.approx(want, rel=1e-12)
    with pytest.raises(ValueError, match="gains"):
        odecontrol.controller_factor(e, ep, 1.0, 1.0, 2, "PID")
    with pytest.raises(TypeError, match="gains"):
        odecontrol.controller_factor(e, ep, 1.0, 1.0, 2, (1.0, 0.0))
    with pytest.raises(ValueError, match="gains"):
        odecontrol.controller_factor(e, ep, 1.0, 1.0, 2, (1.0, float("nan"), 0.0))
    with pytest.raises(TypeError, match="stop must return a bool"):
        odecontrol.heun_euler_descent(np.sin, [1.0], 1e-3, 3, stop=lambda th: None)
    with pytest.raises(ValueError, match="err"):
        odecontrol.controller_factor(0.0, ep, 1.0, 1.0, 2, "I")


def test_heun_euler_controllers_at_the_edge_follow_the_linear_loop():
    """Oracle: the linearised loop of lrtheory.steploop (eigenvalues) against the nonlinear runs."""
    from lrtheory import steploop

    c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
    R = np.array([[c, -s], [s, c]])
    lam = 50.0
    p = quadratic(R @ np.diag([1.0, lam]) @ R.T)
    rec_i = odecontrol.heun_euler_descent(p.grad, [0.9, 0.7], 1e-3, 400, controller="I")
    rec_pi = odecontrol.heun_euler_descent(p.grad, [0.9, 0.7], 1e-3, 400, controller="PI")
    u_i, u_pi = np.log(rec_i.h * lam / 2), np.log(rec_pi.h * lam / 2)
    rho, period = steploop.measured_modes(u_i[150:250], 2)
    assert rho == pytest.approx(1.0, abs=0.01) and period == pytest.approx(6.0, abs=0.05)
    assert steploop.loop_modes(steploop.edge_loop_matrix("I")) == pytest.approx((1.0, 6.0), abs=1e-9)
    assert np.abs(u_pi[-100:]).max() < 1e-9 < np.abs(u_i[-100:]).max()       # PI settles on the edge
    assert steploop.loop_modes(steploop.edge_loop_matrix("PI"))[0] < 0.8
    # every accepted step: Euler with the recorded error estimate below tol, one gradient per try
    for rec in (rec_i, rec_pi):
        assert np.all(rec.errors <= 1e-3) and rec.errors.shape == rec.h.shape
        assert rec.evals[0] == 1 and rec.evals[-1] == rec.nfev == len(rec.h) + rec.rejected + 1
        np.testing.assert_allclose(rec.theta[1:], rec.theta[:-1] - rec.h[:, None] * p.grad(rec.theta[:-1]),
                                   rtol=1e-12, atol=1e-14)


def test_heun_euler_stop_and_max_evals():
    p = rosenbrock()
    L0 = p.loss(np.array([-1.0, 1.0]))
    rec = odecontrol.heun_euler_descent(p.grad, [-1.0, 1.0], 1e-4, 10**6, controller="PI",
                                        stop=lambda th: p.loss(th) < 1e-2 * L0)
    assert p.loss(rec.theta[-1]) < 1e-2 * L0 <= p.loss(rec.theta[-2])
    capped = odecontrol.heun_euler_descent(p.grad, [-1.0, 1.0], 1e-4, 10**6, max_evals=50)
    assert capped.nfev == 50
    with pytest.raises(ValueError, match="max_evals"):
        odecontrol.heun_euler_descent(p.grad, [-1.0, 1.0], 1e-4, 3, max_evals=0)
    with pytest.raises(TypeError, match="stop"):
        odecontrol.heun_euler_descent(p.grad, [-1.0, 1.0], 1e-4, 3, stop=1)
