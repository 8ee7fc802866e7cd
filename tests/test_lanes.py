"""Tests for lrtheory.lanes and lrtheory.lane_dynamics against per-lane loops and dense Hessians."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lrtheory import curvature, lane_dynamics as LD, lanes as L
from lrtheory.batched import cross_entropy_losses
from lrtheory.experiments import torch_generator
from lrtheory.sweeps import make_classifier

from hessian_oracle import dense_hessian


def _setup(S=3, n=24, d=5, h=4, C=3):
    gen = torch_generator(11)
    X = torch.randn(n, d, generator=gen, dtype=torch.float64)
    y = torch.randint(0, C, (n,), generator=gen)
    models = [make_classifier("mlp", d, C, hidden=h, seed=s, dtype=torch.float64) for s in range(S)]
    return models, X, y


def test_stack_flatten_and_losses_match_each_model():
    models, X, y = _setup()
    P = L.stack_models(models)
    flat = L.flatten_lanes(models[0], P)
    for i, m in enumerate(models):
        assert torch.equal(flat[i], torch.cat([p.detach().reshape(-1) for p in m.parameters()]))
    want = [torch.nn.functional.cross_entropy(m(X), y).item() for m in models]
    assert np.allclose(L.lane_losses(models[0], P, X, y), want, rtol=1e-12)
    onehot = torch.nn.functional.one_hot(y, 3).double()
    want_mse = [(0.5 * ((m(X) - onehot) ** 2).sum(1).mean()).item() for m in models]
    assert np.allclose(L.lane_losses(models[0], P, X, y, loss="mse"), want_mse, rtol=1e-12)
    R = L.repeat_lanes(P, 2)
    assert torch.equal(L.flatten_lanes(models[0], R)[3:], flat)


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_gd_lanes_equals_per_lane_reference(loss):
    models, X, y = _setup()
    P = L.stack_models(models)
    kw = dict(lr=[0.5, 1.0, 2.0], num_steps=[4, 0, 3], penalty=[0.0, 1.0, 3.0], loss=loss)
    fast = LD.gd_lanes(models[0], P, X, y, **kw)
    ref = LD.gd_lanes_reference(models[0], P, X, y, **kw)
    for k in P:
        assert torch.allclose(fast.params[k], ref.params[k], rtol=1e-11, atol=1e-13)
    assert np.allclose(fast.losses, ref.losses, rtol=1e-11, equal_nan=True)
    assert np.array_equal(fast.steps, [4, 0, 3]) and not fast.diverged.any()
    # the input stack is not modified
    assert torch.equal(L.flatten_lanes(models[0], P), L.flatten_lanes(models[0], L.stack_models(models)))


def test_gd_lanes_equals_torch_sgd():
    models, X, y = _setup(S=1)
    P = L.stack_models(models)
    fast = LD.gd_lanes(models[0], P, X, y, lr=0.3, num_steps=5)
    m = models[0]
    opt = torch.optim.SGD(m.parameters(), lr=0.3)
    for _ in range(5):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(m(X), y).backward()
        opt.step()
    for k, p in m.named_parameters():
        assert torch.allclose(fast.params[k][0], p.detach(), rtol=1e-12, atol=1e-14)


def test_gd_lanes_minibatches_follow_the_given_order():
    models, X, y = _setup(S=2)
    P = L.stack_models(models)
    order = torch.tensor([[[0, 1, 2, 3], [4, 5, 6, 7]], [[8, 9, 10, 11], [0, 5, 9, 13]]])
    fast = LD.gd_lanes(models[0], P, X, y, lr=0.7, num_steps=2, batches=order)
    for i, m in enumerate(models):
        for t in range(2):
            idx = order[i, t]
            loss = cross_entropy_losses(m(X[idx]), y[idx]).mean()
            grads = torch.autograd.grad(loss, list(m.parameters()))
            with torch.no_grad():
                for p, g in zip(m.parameters(), grads):
                    p.sub_(0.7 * g)
        for k, p in m.named_parameters():
            assert torch.allclose(fast.params[k][i], p.detach(), rtol=1e-12, atol=1e-14)


def test_gd_lanes_divergence_is_per_lane():
    models, X, y = _setup(S=2)
    P = L.stack_models(models)
    run = LD.gd_lanes(models[0], P, X, y, lr=[1e-2, 1e5], num_steps=60, loss="mse")
    assert list(run.diverged) == [False, True]
    assert np.isfinite(run.losses[0]).all() and run.steps[0] == 60 and run.steps[1] < 60
    assert not np.isfinite(L.flatten_lanes(models[0], run.params)[1].numpy()).all() or \
        not np.isfinite(run.losses[1, run.steps[1]])
    ref = LD.gd_lanes(models[0], {k: v[:1] for k, v in P.items()}, X, y, lr=1e-2, num_steps=60, loss="mse")
    assert torch.allclose(L.flatten_lanes(models[0], run.params)[0], L.flatten_lanes(models[0], ref.params)[0])


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_lane_sharpness_matches_dense_hessians(loss):
    models, X, y = _setup()
    P = L.stack_models(models)
    pen = [0.0, 0.5, 2.0]
    est = LD.lane_sharpness(models[0], P, X, y, penalty=pen, loss=loss, num_iters=600, tol=1e-10)
    for i, m in enumerate(models):
        lam = torch.linalg.eigvalsh(dense_hessian(m, X, y, pen[i], loss)).max().item()
        assert abs(est.eigenvalues[i] - lam) <= 1e-5 * abs(lam)
    one = curvature.sharpness(torch.nn.functional.cross_entropy(models[0](X), y), list(models[0].parameters()),
                              num_iters=600, tol=1e-10)
    if loss == "cross_entropy":
        assert abs(one.eigenvalue - est.eigenvalues[0]) <= 1e-5 * abs(one.eigenvalue)


def test_argument_errors():
    models, X, y = _setup(S=2)
    P = L.stack_models(models)
    m = models[0]
    with pytest.raises(TypeError, match="models"):
        L.stack_models([])
    with pytest.raises(ValueError, match="model"):
        L.stack_models([torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))])
    with pytest.raises(ValueError, match="same"):
        L.stack_models([m, make_classifier("mlp", 5, 3, hidden=7, seed=0, dtype=torch.float64)])
    with pytest.raises(ValueError, match="lr"):
        LD.gd_lanes(m, P, X, y, lr=[0.1, -1.0], num_steps=2)
    with pytest.raises(ValueError, match="lr"):
        LD.gd_lanes(m, P, X, y, lr=[0.1, 0.2, 0.3], num_steps=2)
    with pytest.raises(ValueError, match="lr"):
        LD.gd_lanes(m, P, X, y, lr=float("nan"), num_steps=2)
    with pytest.raises(TypeError, match="num_steps"):
        LD.gd_lanes(m, P, X, y, lr=0.1, num_steps=2.5)
    with pytest.raises(ValueError, match="num_steps"):
        LD.gd_lanes(m, P, X, y, lr=0.1, num_steps=-1)
    with pytest.raises(ValueError, match="penalty"):
        LD.gd_lanes(m, P, X, y, lr=0.1, num_steps=1, penalty=-0.5)
    with pytest.raises(ValueError, match="loss"):
        LD.gd_lanes(m, P, X, y, lr=0.1, num_steps=1, loss="hinge")
    with pytest.raises(TypeError, match="batches"):
        LD.gd_lanes(m, P, X, y, lr=0.1, num_steps=1, batches=torch.zeros(2, 1, 3))
    with pytest.raises(ValueError, match="batches"):
        LD.gd_lanes(m, P, X, y, lr=0.1, num_steps=1, batches=torch.full((2, 1, 3), 99))
    with pytest.raises(TypeError, match="X"):
        LD.gd_lanes(m, P, X.numpy(), y, lr=0.1, num_steps=1)
    with pytest.raises(ValueError, match="X"):
        LD.gd_lanes(m, P, X.float(), y, lr=0.1, num_steps=1)
    with pytest.raises(ValueError, match="y"):
        LD.gd_lanes(m, P, X, y[:-1], lr=0.1, num_steps=1)
    with pytest.raises(ValueError, match="X"):
        LD.gd_lanes(m, P, X * float("nan"), y, lr=0.1, num_steps=1)
    with pytest.raises(ValueError, match="lr"):
        LD.gd_lanes(m, P, X, y, lr=[0.1], num_steps=1)                # one value for two lanes
    with pytest.raises(TypeError, match="params"):
        LD.gd_lanes(m, {}, X, y, lr=0.1, num_steps=1)
    with pytest.raises(ValueError, match="params"):
        LD.gd_lanes(m, {k: v[:, :1] for k, v in P.items()}, X, y, lr=0.1, num_steps=1)
    with pytest.raises(ValueError, match="start"):
        LD.lane_sharpness(m, P, X, y, start=torch.zeros(2, 3))
    with pytest.raises(ValueError, match="num_iters"):
        LD.lane_sharpness(m, P, X, y, num_iters=0)
    with pytest.raises(ValueError, match="repeats"):
        L.repeat_lanes(P, 0)
