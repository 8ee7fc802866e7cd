"""Tests of lrtheory.free_weight against brute force, scipy, closed forms and literal loops."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.optimize import minimize, minimize_scalar

from lrtheory import bounds as B
from lrtheory import free_weight as FW
from lrtheory import schedule_solver as SS


def _f(steps, w, g, R):
    return B.combined_bound(np.append(steps, w), g, R)


def test_optimal_weight_against_scalar_minimisation(rng):
    for _ in range(30):
        T = int(rng.integers(2, 40))
        g = np.exp(rng.uniform(-1, 1, T))
        steps = np.exp(rng.uniform(-3, 1, T - 1))
        w, val = FW.optimal_last_weight(steps, g, 1.3)
        res = minimize_scalar(lambda u: _f(steps, math.exp(u), g, 1.3), bracket=(math.log(w) - 1, math.log(w) + 1),
                              tol=1e-12)
        assert val <= res.fun * (1 + 1e-12)
        assert val == pytest.approx(_f(steps, w, g, 1.3), rel=1e-13)
        assert math.exp(res.x) == pytest.approx(w, rel=1e-4)


def test_one_step_weight_is_closed_form():
    w, val = FW.optimal_last_weight([], [0.4], 3.0)
    assert w == pytest.approx(3.0 / 0.4) and val == pytest.approx(1.2)


def test_recursion_ends_with_the_best_weight(rng):
    g = np.exp(rng.uniform(-1, 1, 60))
    opt = SS.optimal_combined_schedule(g, 0.7)
    w, val = FW.optimal_last_weight(opt[:-1], g, 0.7)
    assert w == pytest.approx(opt[-1], rel=1e-6)
    assert val == pytest.approx(SS.combined_optimum_value(g, 0.7), rel=1e-12)


def test_zero_updates_keep_a_positive_weight():
    # the last positive update has an empty tail, so the bound grows like 1/w at w -> 0
    for steps in ([1.0, 0.0], [0.0, 0.0], [0.0, 2.0, 0.0]):
        g = np.ones(len(steps) + 1)
        w, val = FW.optimal_last_weight(steps, g, 1.0)
        assert w > 0
        res = minimize_scalar(lambda u: _f(np.array(steps), math.exp(u), g, 1.0), bracket=(-3, 1), tol=1e-12)
        assert val <= res.fun * (1 + 1e-12)


def test_best_base_rate_against_nelder_mead(rng):
    for _ in range(10):
        T = int(rng.integers(3, 30))
        g = np.exp(rng.uniform(-1, 1, T))
        shape = np.exp(rng.uniform(-2, 0, T - 1))
        c, w, val = FW.best_base_rate(shape, g, 1.1)
        assert val == pytest.approx(_f(c * shape, w, g, 1.1), rel=1e-10)
        res = minimize(lambda z: _f(math.exp(z[0]) * shape, math.exp(z[1]), g, 1.1),
                       [math.log(c) + 0.4, math.log(w) - 0.4], method="Nelder-Mead",
                       options={"xatol": 1e-10, "fatol": 1e-15, "maxiter": 40000})
        assert val <= res.fun * (1 + 1e-9)


def test_best_base_rate_recovers_the_optimum_for_its_own_shape(rng):
    g = np.exp(rng.uniform(-1, 1, 40))
    opt = SS.optimal_combined_schedule(g, 2.0)
    c, w, val = FW.best_base_rate(opt[:-1] / opt[:-1].max(), g, 2.0)
    assert val == pytest.approx(SS.combined_optimum_value(g, 2.0), rel=1e-9)
    assert c == pytest.approx(opt[:-1].max(), rel=1e-4) and w == pytest.approx(opt[-1], rel=1e-4)


def test_bound_along_training_is_the_prefix_bound(rng):
    T = 25
    g = np.exp(rng.uniform(-1, 1, T))
    steps = np.exp(rng.uniform(-2, 0, T - 1))
    curve = FW.bound_along_training(steps, g, 0.9)
    ref = [FW.optimal_last_weight(steps[:t - 1], g[:t], 0.9)[1] for t in range(1, T + 1)]
    np.testing.assert_allclose(curve, ref, rtol=1e-9)
    sub = FW.bound_along_training(steps, g, 0.9, times=[1, 7, 25])
    np.testing.assert_allclose(sub, [ref[0], ref[6], ref[24]], rtol=1e-9)
    assert curve[0] == pytest.approx(0.9 * g[0])


def _defazio_literal(lr, g, R):
    T = len(lr)
    e = [lr[t] ** 2 * g[t] ** 2 for t in range(T)]
    out = (R**2 + sum(e)) / (2 * sum(lr))
    for k in range(T - 1):
        out += 0.5 * lr[k] / sum(lr[k + 1:]) * sum(e[k:]) / sum(lr[k:])
    return out


@settings(max_examples=200)
@given(st.lists(st.tuples(st.floats(0.01, 10.0), st.floats(0.05, 20.0)), min_size=1, max_size=25),
       st.floats(0.1, 5.0))
def test_defazio_form_equals_combined_bound(pairs, R):
    lr = np.array([p[0] for p in pairs])
    g = np.array([p[1] for p in pairs])
    val = FW.refined_last_iterate_bound(lr, g, R)
    assert val == pytest.approx(B.combined_bound(lr, g, R), rel=1e-10)
    assert val == pytest.approx(_defazio_literal(lr, g, R), rel=1e-10)


def test_defazio_form_conventions():
    assert FW.refined_last_iterate_bound([0.0, 0.0], [1.0, 1.0], 1.0) == math.inf
    assert FW.refined_last_iterate_bound([1.0, 0.0], [1.0, 1.0], 1.0) == math.inf


@pytest.mark.parametrize("T", [1, 2, 3, 10, 100, 1000])
def test_linear_decay_closed_form(T):
    c, val = FW.linear_decay_bound(T, 1.4, 0.6)
    lin = (T + 1 - np.arange(1, T + 1)).astype(float)
    g = np.full(T, 0.6)
    assert B.combined_bound(c * lin, g, 1.4) == pytest.approx(val, rel=1e-12)
    assert val < min(B.combined_bound(m * c * lin, g, 1.4) for m in (0.99, 1.01))


def test_linear_decay_limit():
    T = 10**6
    assert FW.linear_decay_bound(T, 1.0, 1.0)[1] * math.sqrt(T) == pytest.approx(2.0, rel=1e-4)


def test_free_end_schedule_closed_form_for_constant_gradients():
    T = 80
    steps, w = FW.free_end_schedule(np.ones(T), 1.0)
    t = np.arange(1, T)
    big = (T - 1) + 4.0
    np.testing.assert_allclose(steps, (T + 3 - t) / big**1.5)
    assert w == pytest.approx(8.0 / big**1.5)
    excess = B.combined_bound(np.append(steps, w), np.ones(T), 1.0) / SS.combined_optimum_value(np.ones(T), 1.0) - 1
    assert 0 < excess < 0.005


@pytest.mark.parametrize("call", [
    lambda: FW.optimal_last_weight([1.0], [1.0], 1.0),               # lengths
    lambda: FW.optimal_last_weight([1.0], [1.0, 0.0], 1.0),          # G_T = 0
    lambda: FW.optimal_last_weight([-1.0], [1.0, 1.0], 1.0),
    lambda: FW.optimal_last_weight([np.nan], [1.0, 1.0], 1.0),
    lambda: FW.optimal_last_weight([1.0], [1.0, 1.0], 0.0),
    lambda: FW.best_base_rate([0.0, 0.0], [1.0, 1.0, 1.0], 1.0),
    lambda: FW.bound_along_training([1.0], [1.0, 1.0], 1.0, times=[0]),
    lambda: FW.bound_along_training([1.0], [0.0, 1.0], 1.0),
    lambda: FW.linear_decay_bound(0, 1.0, 1.0),
    lambda: FW.linear_decay_bound(5, 1.0, 0.0),
    lambda: FW.free_end_schedule([1.0], 1.0),
    lambda: FW.refined_last_iterate_bound([1.0, 1.0], [1.0], 1.0),
])
def test_bad_input_value_errors(call):
    with pytest.raises(ValueError):
        call()


def test_bad_input_type_errors():
    with pytest.raises(TypeError, match="steps"):
        FW.optimal_last_weight("abc", [1.0, 1.0], 1.0)
    with pytest.raises(TypeError, match="num_steps"):
        FW.linear_decay_bound(2.5, 1.0, 1.0)
    with pytest.raises(ValueError, match="radius"):
        FW.best_base_rate([1.0], [1.0, 1.0], float("nan"))
