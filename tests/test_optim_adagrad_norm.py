"""Tests of lrtheory.optim.adagrad_norm.AdaGradNorm: it is torch.optim.SGD with the
rate sequence lr/(√V_t + eps); foreach and reference paths agree; contract checks."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from lrtheory import schedules as S
from lrtheory.optim.adagrad_norm import AdaGradNorm, adagrad_norm_lr_update


def make_model(seed: int = 0, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    w1 = torch.randn(5, 4, generator=gen, dtype=dtype, requires_grad=True)
    b1 = torch.randn(5, generator=gen, dtype=dtype, requires_grad=True)
    w2 = torch.randn(3, 5, generator=gen, dtype=dtype, requires_grad=True)
    x = torch.randn(16, 4, generator=gen, dtype=dtype)
    y = torch.randn(16, 3, generator=gen, dtype=dtype)
    return [w1, b1, w2], x, y


def loss_fn(params, x, y):
    w1, b1, w2 = params
    return ((torch.tanh(x @ w1.T + b1) @ w2.T - y) ** 2).mean()


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_equals_sgd_with_the_matching_rate_sequence(foreach, weight_decay):
    params, x, y = make_model()
    twin = [p.detach().clone().requires_grad_(True) for p in params]
    lr, eps, v0 = 0.3, 1e-8, 0.25
    opt = AdaGradNorm(params, lr=lr, eps=eps, initial_accumulator_value=v0,
                      weight_decay=weight_decay, foreach=foreach)
    sgd = torch.optim.SGD(twin, lr=1.0, weight_decay=weight_decay)
    v = v0
    for _ in range(25):
        for ps, o in ((params, opt), (twin, sgd)):
            o.zero_grad()
            loss_fn(ps, x, y).backward()
        # the oracle: V_t from the twin's own gradients (weight decay included)
        v += sum(float(((p.grad + weight_decay * p.detach()) ** 2).sum()) for p in twin)
        sgd.param_groups[0]["lr"] = lr / (np.sqrt(v) + eps)
        opt.step()
        sgd.step()
        assert opt.last_lr()[0] == pytest.approx(lr / (np.sqrt(v) + eps), rel=1e-12)
    for p, q in zip(params, twin):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-14)


def test_foreach_equals_reference_in_float64():
    a, x, y = make_model(1)
    b = [p.detach().clone().requires_grad_(True) for p in a]
    oa = AdaGradNorm(a, lr=0.5, weight_decay=0.01, foreach=False)
    ob = AdaGradNorm(b, lr=0.5, weight_decay=0.01, foreach=True)
    for _ in range(20):
        for ps, o in ((a, oa), (b, ob)):
            o.zero_grad()
            loss_fn(ps, x, y).backward()
            o.step()
    for p, q in zip(a, b):
        torch.testing.assert_close(p, q, rtol=1e-13, atol=1e-15)
    for p, q in zip(a, b):
        torch.testing.assert_close(oa.state[p]["sum_sq"], ob.state[q]["sum_sq"], rtol=1e-13, atol=0)


def test_rates_match_the_numpy_schedule():
    params, x, y = make_model(2)
    opt = AdaGradNorm(params, lr=0.8, eps=0.0)
    norms, rates = [], []
    for _ in range(15):
        opt.zero_grad()
        loss_fn(params, x, y).backward()
        norms.append(float(torch.sqrt(sum((p.grad**2).sum() for p in params))))
        opt.step()
        rates.append(opt.last_lr()[0])
    np.testing.assert_allclose(rates, S.adagrad_norm_schedule(norms, 0.8), rtol=1e-12)


def test_pure_update():
    v, rate = adagrad_norm_lr_update(torch.tensor(1.0, dtype=torch.float64), torch.tensor(3.0, dtype=torch.float64),
                                     2.0, 0.0)
    assert float(v) == 4.0 and float(rate) == 1.0


def test_none_gradient_counts_as_zero_and_keeps_history():
    params, x, y = make_model(3)
    opt = AdaGradNorm(params, lr=0.1)
    opt.zero_grad()
    loss_fn(params, x, y).backward()
    opt.step()
    before = sum(float(opt.state[p]["sum_sq"]) for p in params)
    w2 = params[2]
    w2.grad = None                     # this tensor has no gradient at the next step
    for p in params[:2]:
        p.grad = torch.ones_like(p)
    w2_before = w2.detach().clone()
    opt.step()
    extra = sum(p.numel() for p in params[:2])
    after = sum(float(opt.state[p]["sum_sq"]) for p in params)
    assert after == pytest.approx(before + extra, rel=1e-12)
    assert opt.last_lr()[0] == pytest.approx(0.1 / (np.sqrt(after) + 1e-10), rel=1e-12)
    torch.testing.assert_close(w2, w2_before)


def test_state_dict_round_trip():
    a, x, y = make_model(4)
    opt = AdaGradNorm(a, lr=0.2)
    for _ in range(3):
        opt.zero_grad()
        loss_fn(a, x, y).backward()
        opt.step()
    b = [p.detach().clone().requires_grad_(True) for p in a]
    opt_b = AdaGradNorm(b, lr=0.2)
    opt_b.load_state_dict(copy.deepcopy(opt.state_dict()))
    for _ in range(3):
        for ps, o in ((a, opt), (b, opt_b)):
            o.zero_grad()
            loss_fn(ps, x, y).backward()
            o.step()
    for p, q in zip(a, b):
        torch.testing.assert_close(p, q, rtol=1e-13, atol=1e-15)


def test_float32_runs_and_groups_are_independent():
    p1 = torch.nn.Parameter(torch.ones(3))
    p2 = torch.nn.Parameter(torch.ones(2))
    opt = AdaGradNorm([{"params": [p1], "lr": 1.0}, {"params": [p2], "lr": 2.0}])
    p1.grad = torch.full((3,), 2.0)
    p2.grad = torch.full((2,), 1.0)
    opt.step()
    r1, r2 = opt.last_lr()
    assert r1 == pytest.approx(1.0 / np.sqrt(12.0), rel=1e-6)
    assert r2 == pytest.approx(2.0 / np.sqrt(2.0), rel=1e-6)
    assert p1.dtype == torch.float32


@pytest.mark.parametrize("name,kwargs", [("lr", {"lr": -1.0}), ("eps", {"eps": -1e-3}),
                                         ("initial_accumulator_value", {"initial_accumulator_value": -1.0}),
                                         ("weight_decay", {"weight_decay": float("nan")})])
def test_bad_hyperparameters(name, kwargs):
    with pytest.raises(ValueError, match=name):
        AdaGradNorm([torch.nn.Parameter(torch.ones(2))], **kwargs)


def test_sparse_and_complex_refused():
    p = torch.nn.Parameter(torch.ones(3))
    p.grad = torch.ones(3).to_sparse()
    with pytest.raises(RuntimeError, match="sparse"):
        AdaGradNorm([p]).step()
    c = torch.nn.Parameter(torch.ones(2, dtype=torch.complex64))
    with pytest.raises(TypeError, match="complex"):  # refused when the group is added
        AdaGradNorm([c])


def test_closure_returns_loss():
    params, x, y = make_model(5)
    opt = AdaGradNorm(params, lr=0.1)

    def closure():
        opt.zero_grad()
        loss = loss_fn(params, x, y)
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() > 0 and loss.requires_grad


def test_bfloat16_accumulator_keeps_growing():
    p = torch.nn.Parameter(torch.zeros(4, dtype=torch.bfloat16))
    opt = AdaGradNorm([p], lr=1.0)
    for _ in range(1000):
        p.grad = torch.full((4,), 0.5, dtype=torch.bfloat16)      # ‖g‖² = 1 per step
        opt.step()
    assert opt.state[p]["sum_sq"].dtype == torch.float32
    assert float(opt.state[p]["sum_sq"]) == 1000.0
