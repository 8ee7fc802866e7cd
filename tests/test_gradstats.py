"""Tests of lrtheory.gradstats against closed forms and Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lrtheory import gradstats


def test_update_angle():
    g = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 0.0]])
    u = np.array([[-2.0, 0.0], [-1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(gradstats.update_angle(u, g), [0.0, np.pi / 4, np.pi], atol=1e-7)
    assert np.isnan(gradstats.update_angle([0.0, 0.0], [1.0, 0.0]))


@given(g=arrays(np.float64, 4, elements=st.floats(0.01, 10)) , signs=arrays(np.int8, 4, elements=st.sampled_from([-1, 1])))
@settings(max_examples=50, deadline=None)
def test_sign_angle_bound(g, signs):
    """sign descent turns the direction by at most arccos(1/sqrt(d)) (Cauchy-Schwarz)."""
    grad = g * signs
    ang = gradstats.update_angle(-np.sign(grad), grad)
    assert np.cos(ang) >= 1 / np.sqrt(4) - 1e-12


def test_expected_minibatch_sq_grad_monte_carlo(rng):
    per = rng.normal(size=(50, 3)) + np.array([1.0, -0.5, 0.0])
    B = 5
    exact = gradstats.expected_minibatch_sq_grad(per, B)
    idx = rng.integers(0, 50, size=(200_000, B))
    gb = per[idx].mean(axis=1)
    mc = (gb**2).mean(axis=0)
    se = (gb**2).std(axis=0) / np.sqrt(idx.shape[0])
    assert np.all(np.abs(mc - exact) < 5 * se)
    np.testing.assert_allclose(gradstats.expected_minibatch_sq_grad(per, 10**9), per.mean(0) ** 2, rtol=1e-6)


def test_argument_checks():
    with pytest.raises(ValueError, match="batch_size"):
        gradstats.expected_minibatch_sq_grad(np.ones((3, 2)), 0)
    with pytest.raises(ValueError, match="per_example_grads"):
        gradstats.expected_minibatch_sq_grad(np.ones(3), 2)
    with pytest.raises(ValueError, match="grad"):
        gradstats.update_angle([1.0, 2.0], [1.0])
