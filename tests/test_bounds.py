"""Tests of lrtheory.bounds: slow reference loops, finite differences, and property
tests of every inequality of chapter 2 over thousands of random sequences."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from lrtheory import bounds as B
from lrtheory import schedules as S
from lrtheory import schedule_solver as SS

# Hypothesis draws seeds and lengths; numpy turns each into a sequence whose
# entries are log-uniform over four decades.  Every example carries a batch of
# BATCH sequences, so 500 examples test 2000 sequences per property while the
# per-example overhead of hypothesis stays small (a few seconds per test).
# A few tests also draw arrays element by element, to reach edge cases such
# as exact zeros.
BATCH = 4
PROP = settings(max_examples=500, deadline=None, derandomize=True, database=None)
EDGE = settings(max_examples=300, deadline=None, derandomize=True, database=None)


def seq_batches(min_size=1, max_size=40, low=1e-2, high=1e2):
    """Strategy: a list of BATCH (g, lr, R) triples of equal-length positive sequences."""
    def build(seed):
        r = np.random.default_rng(seed)
        out = []
        for _ in range(BATCH):
            n = int(r.integers(min_size, max_size + 1))
            g = np.exp(r.uniform(np.log(low), np.log(high), n))
            lr = np.exp(r.uniform(np.log(1e-3), np.log(10.0), n))
            out.append((g, lr, float(np.exp(r.uniform(np.log(0.1), np.log(10.0))))))
        return out
    return st.integers(0, 2**63 - 1).map(build)


def rates(n):
    """Non-negative rates, exact zeros included, as a strategy."""
    return arrays(np.float64, n, elements=st.one_of(st.just(0.0), st.floats(1e-3, 10.0)))


# --- slow reference twins --------------------------------------------------------------

def combined_bound_reference(lr, g, R):
    T = len(lr)
    total = R**2 / (2 * sum(lr))
    for t in range(1, T + 1):
        den = sum(lr[min(t + 1, T) - 1:])
        num = lr[t - 1] ** 2 * g[t - 1] ** 2
        total += 0.5 * (0.0 if num == 0 else (math.inf if den == 0 else num / den))
    return total


def last_iterate_reference(lr, g, R):
    T = len(lr)
    return R**2 / (2 * T * lr[-1]) + sum(
        lr[t - 1] ** 2 * g[t - 1] ** 2 / max(1, T - t) for t in range(1, T + 1)) / (2 * lr[-1])


def test_bounds_match_reference_loops(rng):
    for T in (1, 2, 3, 17):
        lr = rng.uniform(0.1, 2.0, T)
        g = rng.uniform(0.1, 3.0, T)
        R = 1.7
        assert B.combined_bound(lr, g, R) == pytest.approx(combined_bound_reference(lr, g, R), rel=1e-12)
        assert B.last_iterate_bound(lr, g, R) == pytest.approx(last_iterate_reference(lr, g, R), rel=1e-12)
        assert B.weighted_average_bound(lr, g, R) == pytest.approx(
            (R**2 + sum(lr[i] ** 2 * g[i] ** 2 for i in range(T))) / (2 * sum(lr)), rel=1e-12)
        assert B.average_bound(lr, g, R) == pytest.approx(
            (R**2 + sum(lr[i] ** 2 * g[i] ** 2 for i in range(T))) / (2 * T * lr[-1]), rel=1e-12)
        assert B.classic_average_bound(lr, g, R) == pytest.approx(
            R**2 / (2 * T * lr[-1]) + sum(lr[i] * g[i] ** 2 for i in range(T)) / (2 * T), rel=1e-12)
        v = [sum(g[k] ** 2 / max(1, t - k) for k in range(t + 1)) for t in range(T)]
        np.testing.assert_allclose(B.last_iterate_accumulator(g), v, rtol=1e-12)
        np.testing.assert_allclose(B.tail_sums(lr), [sum(lr[t:]) for t in range(T)], rtol=1e-12)


def test_accumulator_blocks_beyond_1024(rng):
    g = rng.uniform(0.5, 1.5, 1100)
    t = 1099
    want = sum(g[k] ** 2 / max(1, t - k) for k in range(t + 1))
    assert B.last_iterate_accumulator(g)[-1] == pytest.approx(want, rel=1e-12)


def test_combined_bound_zero_conventions():
    g = np.ones(3)
    assert B.combined_bound([1.0, 1.0, 0.0], g, 1.0) == math.inf     # η_{T-1}>0 over η_T=0
    assert B.combined_bound([1.0, 0.0, 0.0], g, 1.0) == math.inf     # η_1>0 over η_{2:3}=0
    assert B.combined_bound([0.0, 0.0, 1.0], g, 1.0) == pytest.approx(1.0)  # 1/2 + 0 + 0 + 1/2
    assert B.combined_bound([0.0, 0.0, 0.0], g, 1.0) == math.inf
    for f in (B.average_bound, B.classic_average_bound, B.last_iterate_bound):
        assert f([1.0, 0.0], [1.0, 1.0], 1.0) == math.inf


def test_combined_bound_grad_matches_finite_differences(rng):
    from scipy.optimize import approx_fprime

    for T in (1, 2, 5, 30):
        lr = rng.uniform(0.2, 1.5, T)
        g = rng.uniform(0.3, 2.0, T)
        num = approx_fprime(lr, lambda x: B.combined_bound(x, g, 1.3), 1e-7)
        np.testing.assert_allclose(B.combined_bound_grad(lr, g, 1.3), num, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("func", [B.classic_average_bound, B.average_bound, B.weighted_average_bound,
                                  B.last_iterate_bound, B.combined_bound])
def test_bad_input_errors_name_the_argument(func):
    with pytest.raises(ValueError, match="lr"):
        func([1.0, -1.0], [1.0, 1.0], 1.0)
    with pytest.raises(ValueError, match="lr"):
        func([1.0, np.nan], [1.0, 1.0], 1.0)
    with pytest.raises(ValueError, match="grad_norms"):
        func([1.0, 1.0], [1.0, -1.0], 1.0)
    with pytest.raises(ValueError, match="same length"):
        func([1.0, 1.0], [1.0], 1.0)
    with pytest.raises(ValueError, match="T >= 1"):
        func([], [], 1.0)
    with pytest.raises(ValueError, match="radius"):
        func([1.0], [1.0], 0.0)
    with pytest.raises(TypeError, match="radius"):
        func([1.0], [1.0], "1")
    with pytest.raises(ValueError, match="lr"):
        func([[1.0]], [[1.0]], 1.0)


def test_optima_are_attained_by_their_schedules(rng):
    g = rng.uniform(0.2, 3.0, 50)
    R = 0.8
    T = g.size
    const = np.full(T, R / np.sqrt(np.sum(g**2)))
    assert B.average_bound(const, g, R) == pytest.approx(B.classic_average_optimum(g, R), rel=1e-12)
    assert B.classic_average_bound(const, g, R) == pytest.approx(B.classic_average_optimum(g, R), rel=1e-12)
    assert B.weighted_average_bound(S.inverse_sq_grad_schedule(g, R), g, R) == pytest.approx(
        B.weighted_average_optimum(g, R), rel=1e-12)
    assert B.last_iterate_bound(S.last_iterate_constant_schedule(g, R), g, R) == pytest.approx(
        B.last_iterate_optimum(g, R), rel=1e-12)


# --- property tests: the inequalities of the chapter ----------------------------------

@EDGE
@given(arrays(np.float64, st.integers(1, 30), elements=st.one_of(st.just(0.0), st.floats(1e-3, 1e2))))
def test_telescoping_inequality_with_zeros(g):
    v = np.cumsum(g**2)
    if v[0] == 0:
        return
    v_prev = np.concatenate([[0.0], v[:-1]])
    assert np.sum((v - v_prev) / np.sqrt(v)) <= 2 * np.sqrt(v[-1]) * (1 + 1e-12)


@PROP
@given(seq_batches())
def test_telescoping_inequality(batch):
    for g, _, _ in batch:
        v = np.cumsum(g**2)
        v_prev = np.concatenate([[0.0], v[:-1]])
        assert np.sum((v - v_prev) / np.sqrt(v)) <= 2 * np.sqrt(v[-1]) * (1 + 1e-12)


@PROP
@given(seq_batches())
def test_adagrad_norm_is_within_50_percent(batch):
    for g, _, R in batch:
        lr = S.adagrad_norm_schedule(g, R)
        assert np.all(np.diff(lr) <= 0)                      # non-increasing, as the bound needs
        assert B.classic_average_bound(lr, g, R) <= 1.5 * B.classic_average_optimum(g, R) * (1 + 1e-12)


@PROP
@given(seq_batches(min_size=2))
def test_constant_rate_is_best_among_non_increasing(batch):
    for g, lr, R in batch:
        lr = np.sort(lr)[::-1]
        assert B.classic_average_bound(lr, g, R) >= B.classic_average_optimum(g, R) * (1 - 1e-12)
        assert B.average_bound(lr, g, R) >= B.classic_average_optimum(g, R) * (1 - 1e-12)
        assert B.last_iterate_bound(lr, g, R) >= B.last_iterate_optimum(g, R) * (1 - 1e-12)


@PROP
@given(seq_batches())
def test_cauchy_schwarz_weighted_optimum(batch):
    for g, lr, R in batch:
        assert B.weighted_average_bound(lr, g, R) >= B.weighted_average_optimum(g, R) * (1 - 1e-12)


@PROP
@given(seq_batches())
def test_causal_weighted_log_factor(batch):
    for g, _, R in batch:
        lr = S.causal_inverse_sq_grad_schedule(g, R)
        q = np.cumsum(g**-2.0)
        assert lr.sum() >= R * np.sqrt(q[-1]) * (1 - 1e-12)
        assert np.sum(lr**2 * g**2) <= R**2 * (1 + np.log(q[-1] / q[0])) * (1 + 1e-12)
        factor = 1 + 0.5 * np.log(q[-1] / q[0])
        assert B.weighted_average_bound(lr, g, R) <= B.weighted_average_optimum(g, R) * factor * (1 + 1e-12)


@PROP
@given(seq_batches())
def test_causal_last_iterate_log_factor(batch):
    for g, _, R in batch:
        T = g.size
        lr = S.last_iterate_causal_schedule(g, R)
        value = B.last_iterate_bound(lr, g, R)
        # the equality step of the chapter, and the final (3 + ln T) factor
        v = B.last_iterate_accumulator(g)
        w = 1.0 / np.maximum(1, T - np.arange(1, T + 1))
        closed = 0.5 * R * np.sqrt(v[-1] / T) * (1 + np.sum(g**2 / v * w))
        assert abs(value - closed) <= 1e-10 * closed
        assert value <= B.last_iterate_optimum(g, R) * (3 + np.log(T)) / 2 * (1 + 1e-12)


@PROP
@given(seq_batches(max_size=25, low=0.1, high=10.0))
def test_combined_bound_is_never_below_its_optimum(batch):
    for g, lr, R in batch:
        assert B.combined_bound(lr, g, R) >= SS.combined_optimum_value(g, R) * (1 - 1e-10)


@EDGE
@given(st.integers(1, 12).flatmap(lambda n: st.tuples(rates(n), arrays(np.float64, n, elements=st.floats(0.1, 10.0)))))
def test_combined_bound_with_zero_rates_is_never_below_its_optimum(pair):
    lr, g = pair
    assert B.combined_bound(lr, g, 1.0) >= SS.combined_optimum_value(g, 1.0) * (1 - 1e-10)


@PROP
@given(seq_batches(max_size=25))
def test_constant_rate_combined_equals_last_iterate(batch):
    for g, _, R in batch:
        lr = np.full(g.size, 0.37)
        a, b = B.combined_bound(lr, g, R), B.last_iterate_bound(lr, g, R)
        assert abs(a - b) <= 1e-12 * b
