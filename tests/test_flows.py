"""Tests of the flow integrator and Euler iterates against closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

from lrtheory.flows import euler_iterates, gd_iterates, gradient_flow, integrate_flow, step_times
from lrtheory.problems import quadratic


def test_gradient_flow_of_a_quadratic_is_a_matrix_exponential(rng):
    M = rng.standard_normal((3, 3))
    A = M @ M.T + np.eye(3)
    q = quadratic(A)
    x0 = rng.standard_normal(3)
    t = np.linspace(0, 2, 9)
    sol = gradient_flow(q.grad, x0, 2.0, t_eval=t)
    exact = np.stack([expm(-A * s) @ x0 for s in t])
    np.testing.assert_allclose(sol.theta, exact, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(sol.t, t)
    assert sol.nfev > 0


def test_integrate_flow_rotation_conserves_radius():
    field = lambda th: np.array([-th[1], th[0]])  # noqa: E731
    sol = integrate_flow(field, [1.0, 0.0], 2 * np.pi, t_eval=[0.0, np.pi, 2 * np.pi])
    np.testing.assert_allclose(sol.theta[-1], [1.0, 0.0], atol=1e-8)
    np.testing.assert_allclose(sol.theta[1], [-1.0, 0.0], atol=1e-8)


def test_zero_time_returns_the_start():
    sol = integrate_flow(lambda th: -th, [2.0], 0.0)
    np.testing.assert_array_equal(sol.theta, [[2.0]])


def test_gd_on_a_quadratic_matches_the_closed_form(rng):
    lam = np.array([0.5, 3.0])
    q = quadratic(np.diag(lam))
    x0 = np.array([1.0, -2.0])
    lr, n = 0.2, 25
    it = gd_iterates(q.grad, x0, lr, n)
    k = np.arange(n + 1)[:, None]
    np.testing.assert_allclose(it, x0 * (1 - lr * lam) ** k, rtol=1e-12, atol=1e-15)


def test_scheduled_steps_and_times():
    q = quadratic(np.eye(1))
    lrs = np.array([0.1, 0.2, 0.3])
    it = gd_iterates(q.grad, [1.0], lrs, 3)
    np.testing.assert_allclose(it[:, 0], np.cumprod([1.0, 0.9, 0.8, 0.7]))
    np.testing.assert_allclose(step_times(lrs), [0.0, 0.1, 0.3, 0.6])


def test_euler_global_error_is_first_order():
    # dθ/dt = -θ, θ(0)=1: Euler gives (1-γ)^(t/γ); its error at t=1 is ~ γ e^{-1}/2
    errs = []
    for lr in (0.02, 0.01, 0.005):
        it = euler_iterates(lambda th: -th, [1.0], lr, int(round(1 / lr)))
        errs.append(abs(it[-1, 0] - np.exp(-1)))
    slopes = np.diff(np.log(errs)) / np.diff(np.log([0.02, 0.01, 0.005]))
    np.testing.assert_allclose(slopes, 1.0, atol=0.02)


def test_divergence_is_reported_as_nan():
    q = quadratic(np.diag([1.0, 100.0]))
    it = gd_iterates(q.grad, [1.0, 1.0], 0.05, 2000)  # 0.05 > 2/100: unstable
    assert np.isnan(it[-1]).all() and np.isfinite(it[0]).all()


def test_bad_arguments():
    with pytest.raises(ValueError, match="lr must be non-negative"):
        gd_iterates(lambda th: th, [1.0], -0.1, 3)
    with pytest.raises(ValueError, match="lr must be a scalar or have length num_steps=3"):
        gd_iterates(lambda th: th, [1.0], [0.1, 0.1], 3)
    with pytest.raises(ValueError, match="lr must contain only finite values"):
        gd_iterates(lambda th: th, [1.0], np.nan, 3)
    with pytest.raises(TypeError, match="grad must be callable"):
        gd_iterates(1.0, [1.0], 0.1, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="num_steps must be >= 0"):
        euler_iterates(lambda th: th, [1.0], 0.1, -1)
    with pytest.raises(ValueError, match="theta0 must have ndim"):
        integrate_flow(lambda th: th, [[1.0]], 1.0)
    with pytest.raises(ValueError, match="t_final must be >= 0.0"):
        integrate_flow(lambda th: th, [1.0], -1.0)
    with pytest.raises(ValueError, match="t_eval must be increasing"):
        integrate_flow(lambda th: th, [1.0], 1.0, t_eval=[0.5, 0.2])
    with pytest.raises(ValueError, match="rtol must be > 0.0"):
        integrate_flow(lambda th: th, [1.0], 1.0, rtol=0.0)
    with pytest.raises(ValueError, match="lrs must be non-negative"):
        step_times([0.1, -0.1])


def test_failed_integration_raises():
    with pytest.raises(ValueError, match="integration failed"):
        integrate_flow(lambda th: th**2, [1.0], 2.0)  # blows up at t = 1
