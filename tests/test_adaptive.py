"""Tests of lrtheory.adaptive against independent oracles (closed forms, slow loops, Monte Carlo)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lrtheory import adaptive
from lrtheory.flows import gd_iterates, step_times
from lrtheory.problems import quadratic, rosenbrock

finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
vec3 = arrays(np.float64, 3, elements=finite)


def test_gd_run_matches_flows_gd_iterates():
    p = quadratic(np.diag([1.0, 10.0]))
    run = adaptive.run_adaptive(p.grad, [1.0, 1.0], "gd", 0.05, 30)
    np.testing.assert_allclose(run.theta, gd_iterates(p.grad, [1.0, 1.0], 0.05, 30), rtol=0, atol=1e-14)
    np.testing.assert_allclose(run.times, step_times(np.full(30, 0.05)))


def test_gd_closed_form_on_quadratic():
    lam, lr, n = 3.0, 0.2, 25
    p = quadratic(np.array([[lam]]))
    run = adaptive.run_adaptive(p.grad, [2.0], "gd", lr, n)
    np.testing.assert_allclose(run.theta[:, 0], 2.0 * (1 - lr * lam) ** np.arange(n + 1), rtol=1e-12)


@given(theta=vec3, grad=vec3, lr=st.floats(1e-3, 1.0))
@settings(max_examples=50, deadline=None)
def test_sign_moves_each_coordinate_by_lr(theta, grad, lr):
    new = adaptive.sign_update(theta, grad, lr)
    moved = np.abs(new - theta)
    np.testing.assert_allclose(moved[grad != 0], lr, rtol=1e-9)
    np.testing.assert_array_equal(moved[grad == 0], 0.0)


@given(theta=vec3, grad=vec3, lr=st.floats(1e-3, 1.0))
@settings(max_examples=50, deadline=None)
def test_normalized_moves_by_lr_along_gradient(theta, grad, lr):
    new, step = adaptive.normalized_update(theta, grad, lr)
    if np.linalg.norm(grad) == 0:
        assert step == np.inf and np.array_equal(new, theta)
    else:
        assert np.linalg.norm(new - theta) == pytest.approx(lr, rel=1e-9)
        assert step * np.linalg.norm(grad) == pytest.approx(lr, rel=1e-12)


def _rms_loop_reference(grad_fn, theta0, lr, alpha, eps, n, scalar):
    """A plain transcription of the article's equations, one scalar at a time."""
    theta = [float(v) for v in theta0]
    d = len(theta)
    G = 0.0 if scalar else [0.0] * d
    out = [list(theta)]
    for _ in range(n):
        g = [float(v) for v in grad_fn(np.array(theta))]
        if scalar:
            G = alpha * G + (1 - alpha) * sum(v * v for v in g)
            theta = [theta[i] - lr / (G + eps) ** 0.5 * g[i] for i in range(d)]
        else:
            G = [alpha * G[i] + (1 - alpha) * g[i] ** 2 for i in range(d)]
            theta = [theta[i] - lr / (G[i] + eps) ** 0.5 * g[i] for i in range(d)]
        out.append(list(theta))
    return np.array(out)


@pytest.mark.parametrize("method,scalar", [("rmsprop_scalar", True), ("rmsprop_coordinate", False)])
def test_rmsprop_matches_transcription(method, scalar):
    p = rosenbrock()
    run = adaptive.run_adaptive(p.grad, [-1.0, 1.5], method, 0.01, 60, alpha=0.9, eps=1e-6)
    ref = _rms_loop_reference(p.grad, [-1.0, 1.5], 0.01, 0.9, 1e-6, 60, scalar)
    np.testing.assert_allclose(run.theta, ref, rtol=1e-12, atol=1e-14)


def test_limits_alpha0_eps0():
    """λ = 0, ε = 0: scalar RMSprop is normalised descent, per-coordinate RMSprop is sign descent."""
    p = rosenbrock()
    x0 = [-1.2, 1.0]
    a = adaptive.run_adaptive(p.grad, x0, "rmsprop_scalar", 0.01, 40, alpha=0.0, eps=0.0)
    b = adaptive.run_adaptive(p.grad, x0, "normalized", 0.01, 40)
    np.testing.assert_allclose(a.theta, b.theta, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(a.lrs, b.lrs, rtol=1e-12)
    c = adaptive.run_adaptive(p.grad, x0, "rmsprop_coordinate", 0.01, 40, alpha=0.0, eps=0.0)
    s = adaptive.run_adaptive(p.grad, x0, "sign", 0.01, 40)
    np.testing.assert_allclose(c.theta, s.theta, rtol=1e-12, atol=1e-14)


def test_times_are_cumulative_lrs():
    p = quadratic(np.diag([1.0, 4.0]))
    run = adaptive.run_adaptive(p.grad, [1.0, -1.0], "rmsprop_scalar", 0.05, 20, alpha=0.9)
    np.testing.assert_allclose(run.times, step_times(run.lrs))
    G = 0.0
    for k in range(20):
        G = 0.9 * G + 0.1 * run.grads[k] @ run.grads[k]
        assert run.lrs[k] == pytest.approx(0.05 / np.sqrt(G + 1e-8), rel=1e-12)
    c = adaptive.run_adaptive(p.grad, [1.0, -1.0], "rmsprop_coordinate", 0.05, 20)
    assert c.lrs.shape == (20, 2) and c.times.shape == (21, 2)


def test_eps_outside():
    theta, G, step = adaptive.rmsprop_coordinate_update([1.0], [2.0], [0.0], 0.1, 0.5, 0.3, eps_inside=False)
    assert G[0] == pytest.approx(2.0) and step[0] == pytest.approx(0.1 / (np.sqrt(2.0) + 0.3))
    assert theta[0] == pytest.approx(1.0 - 0.2 / (np.sqrt(2.0) + 0.3))


def test_zero_gradient_coordinate_stays():
    theta, G, steps = adaptive.rmsprop_coordinate_update([1.0, 2.0], [0.0, 1.0], [0.0, 0.0], 0.1, 0.0, 0.0)
    assert theta[0] == 1.0 and np.isinf(steps[0]) and theta[1] == pytest.approx(1.9)
    with pytest.raises(ValueError, match="eps"):
        adaptive.rmsprop_scalar_update([1.0], [0.0], 0.0, 0.1, 0.5, 0.0)


def test_divergence_is_reported():
    p = quadratic(np.array([[10.0]]))
    with pytest.raises(ValueError, match="lr"):
        adaptive.run_adaptive(p.grad, [1.0], "gd", 0.5, 2000)


@pytest.mark.parametrize(
    "kwargs,exc,name",
    [
        ({"method": "adam"}, ValueError, "method"),
        ({"lr": -1.0}, ValueError, "lr"),
        ({"lr": "x"}, TypeError, "lr"),
        ({"num_steps": 1.5}, TypeError, "num_steps"),
        ({"alpha": 1.0}, ValueError, "alpha"),
        ({"eps": -1.0}, ValueError, "eps"),
        ({"G0": -1.0}, ValueError, "G0"),
        ({"theta0": [[1.0]]}, ValueError, "theta0"),
    ],
)
def test_argument_checks(kwargs, exc, name):
    p = quadratic(np.eye(1))
    args = {"grad": p.grad, "theta0": [1.0], "method": "gd", "lr": 0.1, "num_steps": 3}
    args.update(kwargs)
    with pytest.raises(exc, match=name):
        adaptive.run_adaptive(**args)
    with pytest.raises(TypeError, match="grad"):
        adaptive.run_adaptive(1.0, [1.0], "gd", 0.1, 3)


@given(
    theta=vec3,
    grad=arrays(np.float64, 3, elements=st.floats(0.01, 10) | st.floats(-10, -0.01)),
    scale=arrays(np.float64, 3, elements=st.floats(0.01, 100)),
    G=arrays(np.float64, 3, elements=st.floats(0.0, 5.0)),
)
@settings(max_examples=60, deadline=None)
def test_coordinate_rmsprop_is_invariant_to_coordinate_scaling(theta, grad, scale, G):
    """eps = 0: g -> c*g, G -> c^2*G leaves the update of (b) unchanged (chapter 1's invariance)."""
    a, _, _ = adaptive.rmsprop_coordinate_update(theta, grad, G, 0.1, 0.9, 0.0)
    b, _, _ = adaptive.rmsprop_coordinate_update(theta, scale * grad, scale**2 * G, 0.1, 0.9, 0.0)
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@given(theta=vec3, grad=arrays(np.float64, 3, elements=st.floats(0.01, 10)), c=st.floats(0.01, 100), G=st.floats(0.0, 5.0))
@settings(max_examples=60, deadline=None)
def test_scalar_rmsprop_is_invariant_to_global_scaling_only(theta, grad, c, G):
    a, _, _ = adaptive.rmsprop_scalar_update(theta, grad, G, 0.1, 0.9, 0.0)
    b, _, _ = adaptive.rmsprop_scalar_update(theta, c * grad, c**2 * G, 0.1, 0.9, 0.0)
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    # a non-uniform scaling turns the update of (a), unlike that of (b)
    g0, scale = np.array([1.0, 1.0, 1.0]), np.array([1.0, 10.0, 100.0])
    d, _, _ = adaptive.rmsprop_scalar_update(np.zeros(3), scale * g0, 0.0, 0.1, 0.9, 0.0)
    assert np.allclose(d / np.linalg.norm(d), -scale / np.linalg.norm(scale))
