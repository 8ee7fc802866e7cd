"""Tests for lrtheory.modified against closed forms (quadratics, sympy derivatives, exact GD steps)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import sympy as sp

from lrtheory import flows, problems
from lrtheory import modified as M


def _toy_sympy():
    a, b = sp.symbols("a b")
    loss = (a * b - 1) ** 2 / 2
    grad = sp.lambdify((a, b), [sp.diff(loss, v) for v in (a, b)])
    hess = sp.lambdify((a, b), sp.hessian(loss, (a, b)))
    third = [[[sp.diff(loss, i, j, k) for k in (a, b)] for j in (a, b)] for i in (a, b)]
    return grad, hess, sp.lambdify((a, b), third)


def test_toy_derivatives_match_sympy(rng):
    P = M.balanced_toy()
    grad, hess, third = _toy_sympy()
    for _ in range(5):
        th, u, v = rng.normal(size=(3, 2))
        assert np.allclose(P.grad(th), grad(*th), rtol=1e-12, atol=1e-12)
        assert np.allclose(P.hess(th), np.array(hess(*th), dtype=float), rtol=1e-12, atol=1e-12)
        T = np.array(third(*th), dtype=float)
        assert np.allclose(M.balanced_toy_third(th, u, v), np.einsum("ijk,j,k->i", T, u, v), atol=1e-12)


def test_finite_differences_match_exact(rng):
    P = M.balanced_toy()
    for _ in range(5):
        th, v = rng.normal(size=(2, 2))
        assert np.allclose(M.hessian_vector_fd(P.grad, th, v), P.hess(th) @ v, rtol=1e-7, atol=1e-8)
        assert np.allclose(M.third_derivative_fd(P.grad, th, v), M.balanced_toy_third(th, v, v),
                           rtol=1e-5, atol=1e-6)
    assert np.all(M.hessian_vector_fd(P.grad, th, np.zeros(2)) == 0)


def test_quadratic_modified_fields_closed_form(rng):
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    bvec = np.array([1.0, -1.0])
    Q = problems.quadratic(A, bvec)
    lr = 0.1
    th = rng.normal(size=2)
    g = A @ th - bvec
    f1 = M.modified_gradient_field(Q.grad, lr, 1, hess=Q.hess)
    f2 = M.modified_gradient_field(Q.grad, lr, 2, hess=Q.hess, third=lambda t, u, v: np.zeros(2))
    assert np.allclose(f1(th), -g - lr / 2 * A @ g, rtol=1e-13)
    assert np.allclose(f2(th), -g - lr / 2 * A @ g - lr**2 / 3 * A @ A @ g, rtol=1e-13)
    assert np.allclose(M.modified_gradient_field(Q.grad, lr, 2)(th), f2(th), rtol=1e-6)
    assert np.allclose(M.modified_gradient_field(Q.grad, lr, 0)(th), -g)


@pytest.mark.parametrize("order", [0, 1, 2])
def test_quadratic_fields_approach_the_exact_log_field(order):
    # On a quadratic, GD maps e -> (I - lr A) e, which is the exact time-lr flow of the
    # linear field e' = (logm(I - lr A) / lr) e; the order-p field differs by O(lr^(p+1)).
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    Q = problems.quadratic(A)
    th = np.array([0.7, -0.4])
    errs = []
    lrs = np.array([0.04, 0.02, 0.01])
    for lr in lrs:
        exact = np.real(scipy.linalg.logm(np.eye(2) - lr * A)) / lr @ th
        f = M.modified_gradient_field(Q.grad, lr, order, hess=Q.hess, third=lambda t, u, v: np.zeros(2))
        errs.append(np.linalg.norm(f(th) - exact))
    slope = np.polyfit(np.log(lrs), np.log(errs), 1)[0]
    assert abs(slope - (order + 1)) < 0.1


@pytest.mark.parametrize("order", [0, 1, 2])
def test_local_error_order_on_toy(order):
    P = M.balanced_toy()
    th = np.array([1.5, 0.2])
    lrs = np.array([0.08, 0.04, 0.02, 0.01])
    errs = []
    for lr in lrs:
        step = th - lr * P.grad(th)
        f = M.modified_gradient_field(P.grad, lr, order, hess=P.hess, third=M.balanced_toy_third)
        end = flows.integrate_flow(f, th, lr, t_eval=[lr], rtol=1e-13, atol=1e-15).theta[-1]
        errs.append(np.linalg.norm(step - end))
    slope = np.polyfit(np.log(lrs), np.log(errs), 1)[0]
    assert abs(slope - (order + 2)) < 0.2


def test_imbalance_gd_factor_is_exact(rng):
    P = M.balanced_toy()
    for _ in range(10):
        th = rng.normal(size=2)
        lr = rng.uniform(0, 0.5)
        new = th - lr * P.grad(th)
        assert np.isclose(M.imbalance(new), M.imbalance(th) * M.imbalance_gd_factor(th, lr), rtol=1e-12, atol=1e-14)


def test_imbalance_rate_along_modified_flow(rng):
    P = M.balanced_toy()
    lr = 0.1
    f = M.modified_gradient_field(P.grad, lr, 1, hess=P.hess)
    for _ in range(5):
        th = rng.normal(size=2)
        d_dt = np.array([2 * th[0], -2 * th[1]]) @ f(th)
        assert np.isclose(d_dt, M.imbalance_modified_rate(th, lr) * M.imbalance(th), rtol=1e-10, atol=1e-12)
        # and gradient flow conserves it
        assert np.isclose(np.array([2 * th[0], -2 * th[1]]) @ (-P.grad(th)), 0.0, atol=1e-12)


def test_minimum_sharpness_matches_hessian():
    P = M.balanced_toy()
    for a in (0.3, 1.0, 2.5, -1.7):
        th = np.array([a, 1.0 / a])
        lam = np.linalg.eigvalsh(P.hess(th)).max()
        assert np.isclose(M.minimum_sharpness(M.imbalance(th)), lam, rtol=1e-12)


def test_argument_errors():
    P = M.balanced_toy()
    with pytest.raises(ValueError, match="order"):
        M.modified_gradient_field(P.grad, 0.1, 3)
    with pytest.raises(ValueError, match="lr"):
        M.modified_gradient_field(P.grad, -0.1)
    with pytest.raises(TypeError, match="grad"):
        M.modified_gradient_field(None, 0.1)
    with pytest.raises(TypeError, match="hess"):
        M.modified_gradient_field(P.grad, 0.1, hess=3)
    with pytest.raises(ValueError, match="theta"):
        M.imbalance(np.zeros(3))
    with pytest.raises(ValueError, match="eps"):
        M.hessian_vector_fd(P.grad, np.zeros(2), np.ones(2), eps=0.0)
    with pytest.raises(ValueError, match="u"):
        M.balanced_toy_third(np.zeros(2), np.zeros(3), np.zeros(2))


from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=200, deadline=None)
@given(a=st.floats(-3, 3), b=st.floats(-3, 3), lr=st.floats(0, 1))
def test_gd_step_never_unbalances_the_toy(a, b, lr):
    # whenever lr * |ab - 1| < 1, one GD step keeps the sign of a^2 - b^2 and does not increase |a^2 - b^2|
    th = np.array([a, b])
    r = a * b - 1
    if lr * abs(r) >= 1:
        return
    new = th - lr * M.balanced_toy().grad(th)
    d0, d1 = M.imbalance(th), M.imbalance(new)
    assert abs(d1) <= abs(d0) * (1 + 1e-12) + 1e-12
    assert d0 * d1 >= -1e-12


def test_exact_eigen_rate_branches():
    lr = 0.1
    lam = np.array([0.5, 3.0, 10.0, 15.0, 25.0, -2.0])
    mu = M.exact_eigen_rate(lam, lr)
    inside = lr * lam < 1
    assert np.all(mu[inside].imag == 0)
    finite = np.isfinite(mu.real)
    assert np.allclose(np.exp(lr * mu[finite]), (1 - lr * lam)[finite])   # one step, exactly, on every branch
    assert list(finite).count(False) == 1 and mu[2].real == -np.inf        # gamma * lambda = 1 removes it
    assert np.allclose(mu[[3, 4]].imag, np.pi / lr)               # past 1/lambda no real rate exists
    small = np.array([0.01, 0.02])
    series = -small - lr * small**2 / 2 - lr**2 * small**3 / 3
    assert np.allclose(M.exact_eigen_rate(small, lr).real, series, rtol=1e-8, atol=0)


@pytest.mark.parametrize("lr", [0.05, 0.3, 0.45])
def test_principal_flow_quadratic_hits_every_gd_iterate(rng, lr):
    Q = rng.normal(size=(3, 3))
    A = Q @ Q.T
    A = A / np.linalg.eigvalsh(A).max() * 4.0                      # lambda_max = 4: lr*lambda from 0.2 to 1.8
    theta0 = rng.normal(size=3)
    k = np.arange(6)
    path = M.principal_flow_quadratic(A, theta0, lr, k * lr)
    iterates = flows.gd_iterates(lambda t: A @ t, theta0, lr, 5)
    assert np.allclose(path.real, iterates, atol=1e-12)
    assert np.allclose(path.imag, 0, atol=1e-12)
    half = M.principal_flow_quadratic(A, theta0, lr, (k[:-1] + 0.5) * lr)
    if lr * 4.0 < 1:
        assert np.allclose(half.imag, 0)
        # and the path solves theta' = (log(I - lr A) / lr) theta
        Mlog = scipy.linalg.logm(np.eye(3) - lr * A).real / lr
        t, h = 0.37, 1e-6
        d = (M.principal_flow_quadratic(A, theta0, lr, [t + h]) - M.principal_flow_quadratic(A, theta0, lr, [t - h]))
        assert np.allclose(d[0].real / (2 * h), Mlog @ M.principal_flow_quadratic(A, theta0, lr, [t])[0].real,
                           rtol=1e-5, atol=1e-8)
    else:
        assert np.abs(half.imag).max() > 1e-3                     # between the steps it leaves the real space


def test_exact_field_argument_errors():
    with pytest.raises(ValueError, match="lr"):
        M.exact_eigen_rate([1.0], 0.0)
    with pytest.raises(ValueError, match="A"):
        M.principal_flow_quadratic(np.array([[1.0, 2.0], [0.0, 1.0]]), np.zeros(2), 0.1, [0.0])
    with pytest.raises(ValueError, match="times"):
        M.principal_flow_quadratic(np.eye(2), np.zeros(2), 0.1, [-1.0])
    with pytest.raises(ValueError, match="theta0"):
        M.principal_flow_quadratic(np.eye(2), np.zeros(3), 0.1, [0.0])
