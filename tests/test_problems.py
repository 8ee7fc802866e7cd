"""Tests of the toy problems against finite differences and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import approx_fprime, minimize

from lrtheory.problems import quadratic, rosenbrock


def fd_hessian(grad, x, h=1e-6):
    d = x.shape[0]
    return np.stack([(grad(x + h * e) - grad(x - h * e)) / (2 * h) for e in np.eye(d)], axis=1)


@pytest.fixture
def spd(rng):
    M = rng.standard_normal((4, 4))
    return M @ M.T + 0.5 * np.eye(4)


def test_quadratic_derivatives_match_finite_differences(spd, rng):
    b = rng.standard_normal(4)
    q = quadratic(spd, b)
    x = rng.standard_normal(4)
    np.testing.assert_allclose(q.grad(x), approx_fprime(x, q.loss, 1e-7), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(q.hess(x), fd_hessian(q.grad, x), rtol=1e-6, atol=1e-6)


def test_quadratic_minimizer_agrees_with_scipy(spd, rng):
    b = rng.standard_normal(4)
    q = quadratic(spd, b)
    res = minimize(q.loss, np.zeros(4), jac=q.grad, method="BFGS", options={"gtol": 1e-10})
    np.testing.assert_allclose(q.minimizer, res.x, atol=1e-6)
    np.testing.assert_allclose(q.grad(q.minimizer), 0.0, atol=1e-10)


def test_quadratic_is_vectorised_over_leading_axes(spd, rng):
    q = quadratic(spd)
    grid = rng.standard_normal((3, 5, 4))
    vals = q.loss(grid)
    assert vals.shape == (3, 5)
    assert np.isclose(vals[1, 2], q.loss(grid[1, 2]))
    assert q.grad(grid).shape == (3, 5, 4) and q.hess(grid).shape == (3, 5, 4, 4)


def test_singular_quadratic_has_no_minimizer():
    assert quadratic(np.diag([1.0, 0.0])).minimizer is None


def test_quadratic_bad_input():
    with pytest.raises(ValueError, match="A must be square"):
        quadratic(np.ones((2, 3)))
    with pytest.raises(ValueError, match="A must be symmetric"):
        quadratic(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="A must be positive semi-definite"):
        quadratic(np.diag([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"b must have shape \(2,\)"):
        quadratic(np.eye(2), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"theta must have shape \(\.\.\., 2\)"):
        quadratic(np.eye(2)).loss(np.zeros(3))
    with pytest.raises(ValueError, match="theta must contain only finite values"):
        quadratic(np.eye(2)).grad(np.array([np.nan, 0.0]))


def test_rosenbrock_derivatives_and_minimum(rng):
    r = rosenbrock(1.5, 30.0)
    x = rng.standard_normal(2)
    np.testing.assert_allclose(r.grad(x), approx_fprime(x, r.loss, 1e-8), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(r.hess(x), fd_hessian(r.grad, x), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(r.minimizer, [1.5, 2.25])
    assert r.loss(r.minimizer) == 0.0
    np.testing.assert_allclose(r.grad(r.minimizer), 0.0)
    res = minimize(r.loss, np.zeros(2), jac=r.grad, method="BFGS", options={"gtol": 1e-10})
    np.testing.assert_allclose(res.x, r.minimizer, atol=1e-5)


def test_rosenbrock_bad_input():
    with pytest.raises(ValueError, match="b must be > 0.0"):
        rosenbrock(1.0, 0.0)
    with pytest.raises(ValueError, match="a must be finite"):
        rosenbrock(np.nan)
