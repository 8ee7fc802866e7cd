"""Tests of lrtheory.ssl_modes against the toy flow, numpy's roots and scipy's integrator."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from lrtheory import ssl_modes, ssl_toy


def test_reduces_to_the_stop_gradient_toy():
    rng = np.random.default_rng(0)
    phi, theta = rng.normal(size=(2, 50))
    toy = ssl_toy.stopgrad_flow(np.stack([phi, theta], axis=-1))
    modes = ssl_modes.mode_flow(np.stack([phi, theta**2], axis=-1))
    np.testing.assert_allclose(modes[:, 0], toy[:, 0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(modes[:, 1], 2 * theta * toy[:, 1], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kw", [dict(alpha_p=0.5, eta=0.05, sigma2=0.3), dict(alpha_p=3.0, eta=0.1, sigma2=0.0),
                                dict(alpha_p=1.0, eta=0.02, sigma2=1.0, tau=0.9)])
def test_fixed_points_are_zeros_of_the_field(kw):
    pts = ssl_modes.mode_fixed_points(**kw)
    v, t = kw.get("sigma2", 0.0), kw.get("tau", 1.0)
    want = sorted(np.roots([1 + v, -t, kw["eta"]]).real, reverse=True)
    assert len(pts) == 2
    np.testing.assert_allclose([p for p, _ in pts], want, rtol=1e-12)
    np.testing.assert_allclose(ssl_modes.mode_flow(np.array(pts), **kw), 0.0, atol=1e-13)


def test_strong_weight_decay_leaves_only_collapse():
    assert ssl_modes.mode_fixed_points(eta=0.3, sigma2=0.0) == []      # 4 * 0.3 > 1
    assert ssl_modes.mode_fixed_points(eta=0.2, sigma2=0.5) == []      # 4 * 0.2 * 1.5 > 1
    out = ssl_modes.mode_outcome(np.array([[0.6, 0.5], [1.0, 2.0]]), 50.0, eta=0.3)
    assert not out.any()


def test_rk4_matches_scipy_and_keeps_the_invariant():
    x0 = np.array([0.6, 0.01])
    kw = dict(alpha_p=2.0, eta=0.0, sigma2=0.2)
    got = ssl_modes.integrate_modes(x0, 30.0, dt=0.01, **kw)
    ref = solve_ivp(lambda t, y: ssl_modes.mode_flow(y, **kw), (0, 30.0), x0, rtol=1e-11, atol=1e-13).y[:, -1]
    np.testing.assert_allclose(got, ref, rtol=1e-7, atol=1e-9)
    # with eta = 0, s - p^2 / alpha_p is conserved
    assert got[1] - got[0] ** 2 / 2.0 == pytest.approx(x0[1] - x0[0] ** 2 / 2.0, abs=1e-9)


def test_outcome_of_the_article_start():
    start = np.array([[0.6, 0.01]])
    assert ssl_modes.mode_outcome(start, 200.0)[0]                    # the toy: healthy
    assert ssl_modes.mode_outcome(start, 200.0, eta=0.05)[0]
    # the healthy end is the larger fixed point
    end = ssl_modes.integrate_modes(start[0], 400.0, eta=0.05)
    np.testing.assert_allclose(end, ssl_modes.mode_fixed_points(eta=0.05)[0], rtol=1e-6)
    s_far = np.array([[0.6, 1e-8]])
    assert not ssl_modes.mode_outcome(s_far, 200.0, eta=0.1, alpha_p=0.1)[0]


def test_bad_input():
    with pytest.raises(ValueError, match="alpha_p"):
        ssl_modes.mode_flow([0.5, 0.5], alpha_p=0.0)
    with pytest.raises(ValueError, match="state"):
        ssl_modes.mode_flow([0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="eta"):
        ssl_modes.mode_fixed_points(eta=0.0)
    with pytest.raises(ValueError, match="state0"):
        ssl_modes.mode_outcome([[0.5, 0.0]], 1.0)
