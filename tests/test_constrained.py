"""Tests of lrtheory.constrained against independent oracles (scipy, closed forms, KKT)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import minimize, nnls

from lrtheory import constrained as c
from lrtheory import constrained_problems as cp

finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False)


def test_eg_update_closed_form_and_sign(rng):
    theta = rng.random(6)
    theta[2] = 0.0
    grad = rng.standard_normal(6) * 5
    out = c.eg_update(theta, grad, 0.3)
    np.testing.assert_allclose(out, theta * np.exp(-0.3 * grad), rtol=0, atol=0)
    assert np.all(out >= 0) and out[2] == 0.0


def test_eg_update_is_gd_in_log_space_to_first_order(rng):
    # log θ' − log θ = −η g exactly: GD on φ = log θ with the factor e^φ dropped.
    theta = rng.random(5) + 0.1
    grad = rng.standard_normal(5)
    np.testing.assert_allclose(np.log(c.eg_update(theta, grad, 0.2)) - np.log(theta), -0.2 * grad, atol=1e-14)


def test_eg_update_refuses_negative_theta():
    with pytest.raises(ValueError, match="theta"):
        c.eg_update([1.0, -0.1], [0.0, 0.0], 0.1)
    with pytest.raises(ValueError, match="lr"):
        c.eg_update([1.0], [0.0], -1.0)
    with pytest.raises(ValueError, match="grad"):
        c.eg_update([1.0, 2.0], [0.0], 0.1)


def test_normalized_eg_equals_kl_prox_solution(rng):
    # Oracle: the normalised EG step solves min_w η<g,w> + KL(w||θ) on the simplex (scipy).
    theta = rng.dirichlet(np.ones(5))
    grad = rng.standard_normal(5)
    lr = 0.7
    out = c.normalized_eg_update(theta, grad, lr)

    def obj(w):
        w = np.maximum(w, 1e-300)
        return lr * grad @ w + np.sum(w * np.log(w / theta))

    res = minimize(obj, np.full(5, 0.2), method="SLSQP", bounds=[(1e-12, 1)] * 5,
                   constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}], options={"ftol": 1e-15})
    np.testing.assert_allclose(out, res.x, atol=1e-6)
    assert abs(out.sum() - 1) < 1e-14


def test_normalized_eg_no_overflow_and_batched(rng):
    theta = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    grad = np.array([[-1e4, 1e4, 0.0], [1.0, 2.0, 3.0]])
    out = c.normalized_eg_update(theta, grad, 1.0)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[0], [1.0, 0.0, 0.0])
    w = theta[1] * np.exp(-grad[1])
    np.testing.assert_allclose(out[1], w / w.sum(), rtol=1e-14)
    with pytest.raises(ValueError, match="theta"):
        c.normalized_eg_update([0.0, 0.0], [1.0, 1.0], 0.1)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 9)), elements=finite),
       st.floats(0.1, 10))
def test_project_simplex_matches_bisection_reference(x, radius):
    fast = c.project_simplex(x, radius)
    slow = c.project_simplex_reference(x, radius)
    np.testing.assert_allclose(fast, slow, atol=1e-9)
    assert np.all(fast >= 0)
    np.testing.assert_allclose(fast.sum(axis=-1), radius, rtol=1e-12, atol=1e-9)


def test_project_simplex_matches_scipy_qp(rng):
    x = rng.standard_normal(6) * 2
    res = minimize(lambda w: 0.5 * np.sum((w - x) ** 2), np.full(6, 1 / 6), jac=lambda w: w - x,
                   method="SLSQP", bounds=[(0, None)] * 6,
                   constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}], options={"ftol": 1e-15})
    np.testing.assert_allclose(c.project_simplex(x), res.x, atol=1e-7)


def test_project_simplex_fixed_points_and_errors():
    w = np.array([0.2, 0.3, 0.5])
    np.testing.assert_allclose(c.project_simplex(w), w, atol=1e-15)
    with pytest.raises(ValueError, match="radius"):
        c.project_simplex(w, radius=0.0)
    with pytest.raises(ValueError, match="x"):
        c.project_simplex(3.0)


def test_projected_updates(rng):
    theta = rng.standard_normal(4)
    grad = rng.standard_normal(4)
    np.testing.assert_array_equal(c.pgd_nonnegative_update(theta, grad, 0.1), np.maximum(theta - 0.1 * grad, 0))
    np.testing.assert_array_equal(c.project_nonnegative([-1.0, 2.0]), [0.0, 2.0])
    np.testing.assert_allclose(c.pgd_simplex_update(theta, grad, 0.1), c.project_simplex(theta - 0.1 * grad))


def test_nnls_problem_minimizer_is_scipy_and_kkt():
    p = cp.nnls_problem(40, 15, seed=3)
    g = p.grad(p.minimizer)
    # KKT: gradient zero on the support, non-negative where the constraint is active.
    on = p.minimizer > 0
    assert np.all(np.abs(g[on]) < 1e-10)
    assert np.all(g[~on] > -1e-10)
    assert (~on).any(), "the toy problem should have active constraints"


def test_nnls_problem_derivatives(rng):
    p = cp.nnls_problem(30, 6, seed=1)
    t = rng.random(6)
    e = 1e-6
    num = np.array([(p.loss(t + e * v) - p.loss(t - e * v)) / (2 * e) for v in np.eye(6)])
    np.testing.assert_allclose(p.grad(t), num, atol=1e-7)
    np.testing.assert_allclose(p.hess(t), p.hess(t).T)


@pytest.mark.parametrize("method,lr", [("eg", 0.2), ("pgd_nonnegative", 0.2)])
def test_runners_reach_scipy_nnls(method, lr):
    p = cp.nnls_problem(50, 8, seed=4)
    it = c.run_constrained(method, p.grad, np.ones(8), lr, 4000)
    assert np.all(it >= 0)
    ref, _ = nnls(*_nnls_data(50, 8, 4))
    np.testing.assert_allclose(it[-1], ref, atol=1e-4)


def _nnls_data(m, n, seed):
    from lrtheory.experiments import make_rng

    rng = make_rng(seed)
    A = rng.standard_normal((m, n))
    theta_true = rng.uniform(0.5, 1.5, n) * (rng.random(n) < 0.5)
    b = A @ theta_true + 0.5 * rng.standard_normal(m)
    return A, b


def test_mixture_problem_kkt_and_gradient(rng):
    p = cp.mixture_problem(300, 10, seed=2)
    w = p.minimizer
    assert abs(w.sum() - 1) < 1e-12 and np.all(w >= 0)
    g = p.grad(w)
    assert abs(g @ w + 1) < 1e-12  # identity Σ w_k ∂_k L = −1
    on = w > 1e-8
    np.testing.assert_allclose(g[on], -1.0, atol=1e-5)
    assert np.all(g[~on] > -1 - 1e-5)
    t = rng.dirichlet(np.ones(10))
    e = 1e-6
    num = np.array([(p.loss(t + e * v) - p.loss(t - e * v)) / (2 * e) for v in np.eye(10)])
    np.testing.assert_allclose(p.grad(t), num, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("method,lr", [("normalized_eg", 0.5), ("pgd_simplex", 0.05)])
def test_runners_reach_mixture_answer(method, lr):
    p = cp.mixture_problem(300, 10, seed=2)
    it = c.run_constrained(method, p.grad, np.full(10, 0.1), lr, 3000)
    np.testing.assert_allclose(it.sum(axis=1), 1.0, atol=1e-12)
    assert p.loss(it[-1]) - p.loss(p.minimizer) < 1e-7


def test_run_constrained_errors():
    with pytest.raises(ValueError, match="method"):
        c.run_constrained("adam", lambda t: t, [1.0], 0.1, 3)
    with pytest.raises(TypeError, match="grad"):
        c.run_constrained("eg", 3, [1.0], 0.1, 3)
    with pytest.raises(ValueError, match="num_steps"):
        c.run_constrained("eg", lambda t: t, [1.0], 0.1, -1)


def test_em_mixture_increases_likelihood_and_reaches_the_slsqp_answer():
    from lrtheory import constrained, constrained_problems

    """EM's defining property (monotone likelihood) and its fixed point, against SLSQP's answer."""
    mix = constrained_problems.mixture_problem(300, 8, seed=2)
    w = np.full(8, 1 / 8)
    losses = [mix.loss(w)]
    for _ in range(3000):
        w = constrained.em_mixture_update(w, mix.grad(w))
        losses.append(mix.loss(w))
    assert np.all(np.diff(losses) <= 1e-13) and abs(w.sum() - 1) < 1e-12
    assert losses[-1] - mix.loss(mix.minimizer) < 1e-6
    run = constrained.run_constrained("em_mixture", mix.grad, np.full(8, 1 / 8), 0.0, 5)
    np.testing.assert_allclose(run[1], constrained.em_mixture_update(np.full(8, 1 / 8), mix.grad(np.full(8, 1 / 8))))
    with pytest.raises(ValueError, match="grad"):
        constrained.em_mixture_update(np.ones(3) / 3, np.ones(2))
