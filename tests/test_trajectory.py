"""Tests for lrtheory.trajectory against per-lane loops (lane_dynamics' reference) and synthetic slopes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lrtheory import lane_dynamics as LD, lanes as L, trajectory as T
from lrtheory.experiments import torch_generator
from lrtheory.sweeps import make_classifier

from hessian_oracle import dense_hessian


def _data(n=30, d=4, C=3):
    gen = torch_generator(7)
    X = torch.randn(n, d, generator=gen, dtype=torch.float64)
    y = torch.randint(0, C, (n,), generator=gen)
    return X, y


def _make(seed):
    return make_classifier("mlp", 4, 3, hidden=5, seed=seed, dtype=torch.float64)


def test_trajectory_test_equals_a_direct_computation():
    X, y = _data()
    lrs, eta, time, seeds = [0.25, 0.5, 1.0], 0.125, 1.0, (0, 3)
    res = T.trajectory_test(_make, X, y, seeds=seeds, lrs=lrs, small_lr=eta, time=time, sharpness_iters=200)
    m = _make(0)
    for j, s in enumerate(seeds):
        P = L.stack_models([_make(s)])
        ref = L.flatten_lanes(m, LD.gd_lanes_reference(m, P, X, y, lr=eta, num_steps=8).params)[0]
        for i, g in enumerate(lrs):
            run = LD.gd_lanes_reference(m, P, X, y, lr=g, num_steps=int(time / g))
            ctl = LD.gd_lanes_reference(m, P, X, y, lr=eta, num_steps=8, penalty=g - eta)
            f_run = L.flatten_lanes(m, run.params)[0]
            assert np.isclose(res.dist_flow[i, j], float(torch.linalg.vector_norm(f_run - ref)), rtol=1e-9)
            f_ctl = L.flatten_lanes(m, ctl.params)[0]
            assert np.isclose(res.dist_modified[i, j], float(torch.linalg.vector_norm(f_run - f_ctl)), rtol=1e-9)
            assert np.allclose(res.losses[i][j], run.losses[0], rtol=1e-10)
            lam_ctl = LD.lane_sharpness(m, P, X, y, penalty=g - eta, num_iters=600, tol=1e-8).eigenvalues[0]
            assert abs(res.control_sharpness[i, j] - lam_ctl) <= 5e-3 * lam_ctl
        lam0 = torch.linalg.eigvalsh(dense_hessian(_make(s), X, y)).max().item()
        assert abs(res.initial_sharpness[j] - lam0) <= 1e-4 * lam0
    assert res.edge == pytest.approx(2 / res.initial_sharpness.max())
    lam = max(res.initial_sharpness.max(), res.final_sharpness.max())
    assert np.array_equal(res.inside(), np.array(lrs) * lam < 1)
    # the first-order picture on this small problem: the modified flow is the closer model
    assert np.all(res.dist_modified < res.dist_flow)


def test_loglog_slopes_recovers_known_powers():
    x = np.array([0.1, 0.2, 0.4, 0.8])
    d = np.stack([3 * x, 0.5 * x**2, 2 * x**1.5], axis=1)
    assert np.allclose(T.loglog_slopes(x, d), [1.0, 2.0, 1.5])


def test_track_sharpness_matches_segments():
    X, y = _data()
    m = _make(0)
    P = L.stack_models([_make(0), _make(1)])
    tr = T.track_sharpness(m, P, X, y, lr=[0.5, 1.5], num_steps=7, every=3, num_iters=150, first_iters=300,
                           tol=1e-8)
    assert list(tr.steps) == [0, 3, 6, 7]
    whole = LD.gd_lanes(m, P, X, y, lr=[0.5, 1.5], num_steps=7)
    assert np.allclose(tr.losses, whole.losses, rtol=1e-11)
    for k, n in enumerate(tr.steps):
        part = LD.gd_lanes(m, P, X, y, lr=[0.5, 1.5], num_steps=int(n)).params
        for i in range(2):
            one = _make(0)
            with torch.no_grad():
                for name, p in one.named_parameters():
                    p.copy_(part[name][i])
            lam = torch.linalg.eigvalsh(dense_hessian(one, X, y)).max().item()
            assert abs(tr.sharpness[k, i] - lam) <= 1e-3 * lam
    assert not tr.diverged.any()


def test_argument_errors():
    X, y = _data()
    kw = dict(seeds=(0,), lrs=[0.5, 1.0], small_lr=0.25, time=1.0)
    with pytest.raises(TypeError, match="make_model"):
        T.trajectory_test(None, X, y, **kw)
    with pytest.raises(ValueError, match="lrs"):
        T.trajectory_test(_make, X, y, **{**kw, "lrs": [1.0, 0.5]})
    with pytest.raises(ValueError, match="lrs"):
        T.trajectory_test(_make, X, y, **{**kw, "lrs": [0.3, 1.0]})
    with pytest.raises(ValueError, match="small_lr"):
        T.trajectory_test(_make, X, y, **{**kw, "small_lr": 0.3, "lrs": [0.5]})
    with pytest.raises(ValueError, match="time"):
        T.trajectory_test(_make, X, y, **{**kw, "time": -1.0})
    with pytest.raises(ValueError, match="seeds"):
        T.trajectory_test(_make, X, y, **{**kw, "seeds": (0, 0)})
    with pytest.raises(ValueError, match="x"):
        T.loglog_slopes([1.0], [[1.0]])
    with pytest.raises(ValueError, match="dist"):
        T.loglog_slopes([1.0, 2.0], [[1.0]])
    with pytest.raises(ValueError, match="positive"):
        T.loglog_slopes([1.0, 2.0], [[1.0], [0.0]])
    m = _make(0)
    P = L.stack_models([m])
    with pytest.raises(ValueError, match="every"):
        T.track_sharpness(m, P, X, y, lr=0.1, num_steps=3, every=0)


def test_fixed_time_runs_match_single_runs():
    from lrtheory.datasets import TensorSplit

    X, y = _data()
    data = TensorSplit(X[:20], y[:20], X[20:], y[20:], 3, "toy", X[10:20], y[10:20])
    configs = {"a": (0.25, 0.0), "b": (0.5, 0.0), "c": (0.25, 0.75)}
    out = T.fixed_time_runs(_make, data, seeds=(1, 4), configs=configs, time=1.0, sharpness_iters=300)
    assert list(out) == ["a", "b", "c"]
    m = _make(0)
    for name, (lr, pen) in configs.items():
        P = L.stack_models([_make(1), _make(4)])
        ref = LD.gd_lanes_reference(m, P, data.X_train, data.y_train, lr=lr, num_steps=int(1.0 / lr), penalty=pen)
        want = L.lane_metrics(m, ref.params, data)
        for k, v in want.items():
            assert np.allclose(out[name][k], v, rtol=1e-10)
        lam = LD.lane_sharpness(m, ref.params, data.X_train, data.y_train, num_iters=2000, tol=1e-9).eigenvalues
        assert np.allclose(out[name]["sharpness"], lam, rtol=2e-3)
        assert not out[name]["diverged"].any()
    with pytest.raises(ValueError, match="whole"):
        T.fixed_time_runs(_make, data, seeds=(1,), configs={"a": (0.3, 0.0)}, time=1.0)
    with pytest.raises(TypeError, match="configs"):
        T.fixed_time_runs(_make, data, seeds=(1,), configs={}, time=1.0)


def test_lane_metrics_match_the_model():
    from lrtheory.datasets import TensorSplit

    X, y = _data()
    data = TensorSplit(X[:20], y[:20], X[20:], y[20:], 3, "toy")
    ms = [_make(0), _make(1)]
    out = L.lane_metrics(ms[0], L.stack_models(ms), data)
    assert sorted(out) == ["test_acc", "test_loss", "train_acc", "train_loss"]
    for i, mm in enumerate(ms):
        with torch.no_grad():
            assert out["test_loss"][i] == pytest.approx(torch.nn.functional.cross_entropy(mm(X[20:]), y[20:]).item())
            assert out["train_acc"][i] == pytest.approx((mm(X[:20]).argmax(1) == y[:20]).double().mean().item())
