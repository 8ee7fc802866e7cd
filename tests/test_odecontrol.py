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
