"""Tests of lrtheory.schedules and lrtheory.schedule_solver against closed forms,
scipy's optimiser, brute force and slow loops."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lrtheory import bounds as B
from lrtheory import schedules as S
from lrtheory import schedule_solver as SS


# --- fixed shapes ---------------------------------------------------------------------

def test_fixed_shapes_closed_forms():
    T = 10
    k = np.arange(T)
    np.testing.assert_allclose(S.constant_schedule(k, T, 0.3), np.full(T, 0.3))
    np.testing.assert_allclose(S.linear_decay_schedule(k, T, 2.0), 2.0 * (T - k) / T)
    np.testing.assert_allclose(S.cosine_schedule(k, T, 1.0), [0.5 * (1 + math.cos(math.pi * i / T)) for i in k])
    assert S.linear_decay_schedule(T - 1, T, 1.0) == pytest.approx(1 / T)   # last rate positive
    assert isinstance(S.cosine_schedule(0, T, 1.0), float)
    assert S.constant_schedule(3, T, 0.5) == 0.5


@pytest.mark.parametrize("func", [S.constant_schedule, S.linear_decay_schedule, S.cosine_schedule])
def test_fixed_shapes_errors(func):
    with pytest.raises(ValueError, match="step"):
        func(10, 10, 1.0)
    with pytest.raises(ValueError, match="step"):
        func(0.5, 10, 1.0)
    with pytest.raises(ValueError, match="num_steps"):
        func(0, 0, 1.0)
    with pytest.raises(ValueError, match="lr"):
        func(0, 10, -1.0)
    with pytest.raises(ValueError, match="lr"):
        func(0, 10, float("nan"))
    with pytest.raises(TypeError, match="num_steps"):
        func(0, 2.0, 1.0)


# --- gradient-based schedules ---------------------------------------------------------

def test_gradient_schedules_closed_forms(rng):
    g = rng.uniform(0.2, 3.0, 12)
    R = 1.3
    T = g.size
    q = [sum(g[:t + 1] ** -2.0) for t in range(T)]
    v = [sum(g[:t + 1] ** 2) for t in range(T)]
    np.testing.assert_allclose(S.adagrad_norm_schedule(g, R), [R / math.sqrt(x) for x in v])
    np.testing.assert_allclose(S.adagrad_norm_schedule(g, R, eps=0.5), [R / (math.sqrt(x) + 0.5) for x in v])
    np.testing.assert_allclose(S.inverse_sq_grad_schedule(g, R), R * g**-2.0 / math.sqrt(q[-1]))
    np.testing.assert_allclose(S.causal_inverse_sq_grad_schedule(g, R), R * g**-2.0 / np.sqrt(q))
    guess = [R * g[t] ** -2.0 * (q[-1] - q[t]) / q[-1] ** 1.5 for t in range(T)]
    np.testing.assert_allclose(S.refined_guess_schedule(g, R), guess, atol=1e-15)
    shifted = [R * g[t] ** -2.0 * (q[-1] - (q[t - 1] if t else 0.0)) / q[-1] ** 1.5 for t in range(T)]
    np.testing.assert_allclose(S.refined_guess_schedule(g, R, include_current=True), shifted)
    causal = [R * g[t] ** -2.0 / math.sqrt(q[t]) * (1 - (t + 1) / T) for t in range(T)]
    np.testing.assert_allclose(S.refined_causal_schedule(g, R), causal, atol=1e-15)
    causal1 = [R * g[t] ** -2.0 / math.sqrt(q[t]) * (1 - t / T) for t in range(T)]
    np.testing.assert_allclose(S.refined_causal_schedule(g, R, include_current=True), causal1)
    vt = B.last_iterate_accumulator(g)
    np.testing.assert_allclose(S.last_iterate_causal_schedule(g, R), R / np.sqrt(T * vt))
    np.testing.assert_allclose(S.last_iterate_constant_schedule(g, R), R / np.sqrt(T * vt[-1]))


def test_guess_and_causal_variant_end_at_zero_and_break_the_bound(rng):
    g = rng.uniform(0.5, 2.0, 20)
    assert S.refined_guess_schedule(g, 1.0)[-1] == 0.0
    assert S.refined_causal_schedule(g, 1.0)[-1] == 0.0
    assert B.combined_bound(S.refined_guess_schedule(g, 1.0), g, 1.0) == math.inf
    assert B.combined_bound(S.refined_causal_schedule(g, 1.0), g, 1.0) == math.inf
    assert math.isfinite(B.combined_bound(S.refined_guess_schedule(g, 1.0, include_current=True), g, 1.0))


@pytest.mark.parametrize("func", [S.inverse_sq_grad_schedule, S.causal_inverse_sq_grad_schedule,
                                  S.refined_guess_schedule, S.refined_causal_schedule,
                                  SS.optimal_combined_schedule])
def test_inverse_gradient_schedules_need_positive_norms(func):
    with pytest.raises(ValueError, match="grad_norms"):
        func([1.0, 0.0], 1.0)
    with pytest.raises(ValueError, match="grad_norms"):
        func([], 1.0)
    with pytest.raises(ValueError, match="radius"):
        func([1.0], -1.0)


def test_adagrad_norm_schedule_zero_first_norm():
    with pytest.raises(ValueError, match="grad_norms"):
        S.adagrad_norm_schedule([0.0, 1.0], 1.0)
    assert np.all(np.isfinite(S.adagrad_norm_schedule([0.0, 1.0], 1.0, eps=1e-3)))


# --- the exact optimum of the combined bound ------------------------------------------

def test_optimum_for_one_step_is_closed_form():
    # T = 1: R²/(2η) + ηG²/2 is least at η = R/G, value RG
    assert SS.optimal_combined_schedule([3.0], 2.0)[0] == pytest.approx(2.0 / 3.0)
    assert SS.combined_optimum_value([3.0], 2.0) == pytest.approx(6.0)


def test_optimum_for_two_steps_by_brute_force():
    g = np.array([1.5, 0.7])
    a, b = np.meshgrid(np.linspace(1e-3, 2.0, 1200), np.linspace(1e-3, 2.0, 1200))
    vals = 1.0 / (2 * (a + b)) + 0.5 * (a**2 * g[0] ** 2 / b + b * g[1] ** 2)
    i = np.unravel_index(np.argmin(vals), vals.shape)
    assert SS.combined_optimum_value(g, 1.0) == pytest.approx(vals[i], rel=1e-5)
    np.testing.assert_allclose(SS.optimal_combined_schedule(g, 1.0), [a[i], b[i]], atol=3e-3)


@pytest.mark.parametrize("T", [2, 5, 40, 300])
def test_solver_matches_recursion_for_constant_gradients(T):
    g = np.full(T, 2.5)
    R = 0.7
    res = SS.solve_combined_bound(g, R)
    exact = SS.combined_optimum_value(g, R)
    assert res.success
    assert res.value == pytest.approx(exact, rel=1e-9)
    assert res.value >= exact * (1 - 1e-12)
    opt = SS.optimal_combined_schedule(g, R)
    np.testing.assert_allclose(res.lr, opt, rtol=0, atol=1e-4 * opt.max())
    assert B.combined_bound(opt, g, R) == pytest.approx(exact, rel=1e-12)


def test_solver_matches_recursion_for_varying_gradients(rng):
    for T in (3, 30, 120):
        g = np.exp(rng.normal(size=T) * 0.4) * (1 + 3 * np.exp(-np.arange(T) / 10))
        res = SS.solve_combined_bound(g, 1.9)
        exact = SS.combined_optimum_value(g, 1.9)
        assert res.value == pytest.approx(exact, rel=1e-8)
        opt = SS.optimal_combined_schedule(g, 1.9)
        np.testing.assert_allclose(res.lr, opt, atol=1e-3 * opt.max())


def test_constant_gradient_optimum_tends_to_continuum():
    # √T · min F / (R G) → 2, the value of the continuous relaxation (from above, for T ≥ 100)
    vals = [SS.combined_optimum_value(np.ones(T), 1.0) * math.sqrt(T) for T in (100, 1000, 10000, 100000)]
    assert all(v > 2.0 for v in vals)
    assert all(x > y for x, y in zip(vals[1:], vals[2:]))
    assert abs(vals[-1] - 2.0) < 1e-4
    assert SS.combined_optimum_value(np.ones(10), 1.0) * math.sqrt(10) < 2.0


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.integers(0, 2**32 - 1))
def test_optimum_is_stationary_and_positive(seed):
    r = np.random.default_rng(seed)
    T = int(r.integers(1, 30))
    g = np.exp(r.uniform(-2, 2, T))
    opt = SS.optimal_combined_schedule(g, 1.0)
    assert np.all(opt > 0)
    grad = B.combined_bound_grad(opt, g, 1.0)
    assert np.max(np.abs(grad)) <= 1e-8 * np.max(g**2)


def test_best_scaling_agrees_with_scipy(rng):
    from scipy.optimize import minimize_scalar

    g = rng.uniform(0.5, 2.0, 25)
    shape = S.linear_decay_schedule(np.arange(25), 25, 1.0)
    for bound in (B.combined_bound, B.weighted_average_bound, B.last_iterate_bound, B.average_bound):
        c, val = SS.best_scaling(bound, shape, g, 1.2)
        res = minimize_scalar(lambda lc: bound(np.exp(lc) * shape, g, 1.2), bounds=(-10, 10), method="bounded",
                              options={"xatol": 1e-10})
        assert val == pytest.approx(res.fun, rel=1e-8)
        assert c == pytest.approx(math.exp(res.x), rel=1e-4)
    c, val = SS.best_scaling(B.combined_bound, S.refined_guess_schedule(g, 1.0), g, 1.0)
    assert val == math.inf and math.isnan(c)
    with pytest.raises(TypeError, match="bound"):
        SS.best_scaling(1.0, shape, g, 1.0)


# --- two-pass helpers -----------------------------------------------------------------

def test_smoothing_against_a_loop(rng):
    g = rng.uniform(0.1, 5.0, 37)
    for w in (1, 2, 5, 10, 100):
        want = []
        for t in range(37):
            lo, hi = max(0, t - w // 2), min(37, t - w // 2 + w)
            want.append(math.sqrt(np.mean(g[lo:hi] ** 2)))
        np.testing.assert_allclose(SS.smooth_grad_norms(g, w), want, rtol=1e-12)
    np.testing.assert_allclose(SS.smooth_grad_norms(g, 1), g, rtol=1e-12)
    with pytest.raises(ValueError, match="window"):
        SS.smooth_grad_norms(g, 0)


def test_refined_schedule_from_norms(rng):
    g = rng.uniform(0.5, 2.0, 50)
    for method in ("optimal", "guess"):
        lr = SS.refined_schedule_from_norms(g, lr=0.3, window=5, method=method)
        assert lr.max() == pytest.approx(0.3) and np.all(lr > 0)
    smooth = SS.smooth_grad_norms(g, 5)
    opt = SS.optimal_combined_schedule(smooth, 1.0)
    np.testing.assert_allclose(SS.refined_schedule_from_norms(g, lr=1.0, window=5), opt / opt.max())
    with pytest.raises(ValueError, match="method"):
        SS.refined_schedule_from_norms(g, lr=1.0, window=5, method="best")
    with pytest.raises(ValueError, match="lr"):
        SS.refined_schedule_from_norms(g, lr=0.0, window=5)


def test_online_causal_schedule_matches_batch_formula(rng):
    g = rng.uniform(0.5, 2.0, 30)
    for include in (True, False):
        online = SS.CausalRefinedSchedule(30, 1.4, beta=0.0, include_current=include)
        got = [online(x) for x in g]
        np.testing.assert_allclose(got, S.refined_causal_schedule(g, 1.4, include_current=include), atol=1e-14)
    with pytest.raises(ValueError, match="num_steps"):
        online(1.0)
    with pytest.raises(ValueError, match="beta"):
        SS.CausalRefinedSchedule(3, 1.0, beta=1.0)
    ema = SS.CausalRefinedSchedule(3, 1.0, beta=0.5)
    assert ema(2.0) == pytest.approx(1.0 / 2.0)   # bias-corrected: Ĝ_1 = ‖g_1‖, η_1 = R/Ĝ_1


# --- warmup-stable-decay ---------------------------------------------------------------

def test_wsd_limits_are_linear_decay_and_constant():
    N = 37
    k = np.arange(N)
    np.testing.assert_allclose(S.wsd_schedule(k, N, 0.8, cooldown=1.0), S.linear_decay_schedule(k, N, 0.8))
    np.testing.assert_allclose(S.wsd_schedule(k, N, 0.8, cooldown=0.0), np.full(N, 0.8))
    w = S.wsd_schedule(k, N, 1.0, warmup=5, cooldown=0.0)
    np.testing.assert_allclose(w[:5], np.arange(1, 6) / 5)
    np.testing.assert_allclose(w[5:], 1.0)


def test_wsd_cooldown_closed_forms():
    N, C = 50, 10                                   # 20% of 50 steps
    k = np.arange(N)
    lin = S.wsd_schedule(k, N, 2.0, cooldown=0.2)
    sq = S.wsd_schedule(k, N, 2.0, cooldown=0.2, decay="sqrt")
    np.testing.assert_allclose(lin[:N - C], 2.0)
    j = np.arange(C)
    np.testing.assert_allclose(lin[N - C:], 2.0 * (1 - j / C))
    np.testing.assert_allclose(sq[N - C:], 2.0 * (1 - np.sqrt(j / C)))
    assert np.all(lin > 0) and np.all(sq > 0)       # the rate that would come next is the zero
    assert isinstance(S.wsd_schedule(3, N, 1.0), float)
    assert np.all(np.diff(lin) <= 0) and np.all(sq <= lin + 1e-15)


def test_wsd_errors():
    with pytest.raises(ValueError, match="warmup"):
        S.wsd_schedule(0, 10, 1.0, warmup=9, cooldown=0.5)
    with pytest.raises(ValueError, match="decay"):
        S.wsd_schedule(0, 10, 1.0, decay="cosine")
    with pytest.raises(ValueError, match="cooldown"):
        S.wsd_schedule(0, 10, 1.0, cooldown=1.5)
    with pytest.raises(ValueError, match="warmup"):
        S.wsd_schedule(0, 10, 1.0, warmup=-1)
    with pytest.raises(TypeError, match="warmup"):
        S.wsd_schedule(0, 10, 1.0, warmup=1.5)
    with pytest.raises(ValueError, match="step"):
        S.wsd_schedule(10, 10, 1.0)
