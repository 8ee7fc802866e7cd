"""Tests of the EG optimisers and the learned step sizes against independent oracles."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

from lrtheory import constrained, constrained_problems
from lrtheory.optim.eg import EGD, NormalizedEGD, eg_update, normalized_eg_update
from lrtheory.optim.stepsize import EGStepSize, HypergradientSGD

DT = torch.float64


def _params(seed: int, positive: bool = False) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    shapes = [(3,), (2, 4), (5,)]
    ps = [torch.randn(s, generator=g, dtype=DT) for s in shapes]
    if positive:
        ps = [p.abs() + 0.1 for p in ps]
    return [torch.nn.Parameter(p) for p in ps]


def _loss(params: list[torch.Tensor], seed: int = 0) -> torch.Tensor:
    # A smooth non-quadratic loss coupling all tensors.
    g = torch.Generator().manual_seed(100 + seed)
    total = 0.0
    for p in params:
        target = torch.randn(p.shape, generator=g, dtype=DT)
        total = total + ((p - target) ** 2).sum() + 0.1 * torch.log1p(p**2).sum()
    return total


def _run(opt_cls, params, num_steps: int, **kw) -> list[torch.Tensor]:
    opt = opt_cls(params, **kw)
    for _ in range(num_steps):
        opt.zero_grad()
        _loss(params).backward()
        opt.step()
    return [p.detach().clone() for p in params]


# --------------------------------------------------------------------------- EGD
def test_egd_matches_numpy_eg_and_closed_form():
    ps = _params(0, positive=True)
    start = [p.detach().clone() for p in ps]
    opt = EGD(ps, lr=0.05)
    opt.zero_grad()
    _loss(ps).backward()
    grads = [p.grad.clone() for p in ps]
    opt.step()
    for p, p0, g in zip(ps, start, grads):
        np.testing.assert_allclose(p.detach().numpy(), constrained.eg_update(p0.numpy(), g.numpy(), 0.05), rtol=1e-14)


@pytest.mark.parametrize("cls,kw", [(EGD, {"lr": 0.05}), (NormalizedEGD, {"lr": 0.3})])
def test_eg_foreach_equals_loop(cls, kw):
    a, b = _params(1, positive=True), _params(1, positive=True)
    ra = _run(cls, a, 20, foreach=True, **kw)
    rb = _run(cls, b, 20, foreach=False, **kw)
    for x, y in zip(ra, rb):
        torch.testing.assert_close(x, y, rtol=1e-13, atol=1e-15)


def test_egd_refuses_negative_initial_params():
    with pytest.raises(ValueError, match="negative"):
        EGD([torch.nn.Parameter(torch.tensor([1.0, -0.5]))])
    opt = EGD([torch.nn.Parameter(torch.ones(2))])
    with pytest.raises(ValueError, match="params\\[0\\]"):
        opt.add_param_group({"params": [torch.nn.Parameter(-torch.ones(2))]})
    with pytest.raises(ValueError, match="lr"):
        EGD([torch.nn.Parameter(torch.ones(2))], lr=-1.0)


def test_egd_keeps_sign_and_solves_nnls():
    prob = constrained_problems.nnls_problem(50, 8, seed=4)
    A, b = _nnls_data()
    theta = torch.nn.Parameter(torch.ones(8, dtype=DT))
    opt = EGD([theta], lr=0.2)
    At, bt = torch.tensor(A), torch.tensor(b)
    for _ in range(4000):
        opt.zero_grad()
        (0.5 * ((At @ theta - bt) ** 2).sum() / 50).backward()
        opt.step()
        assert bool((theta >= 0).all())
    np.testing.assert_allclose(theta.detach().numpy(), prob.minimizer, atol=1e-4)


def _nnls_data():
    from lrtheory.experiments import make_rng

    rng = make_rng(4)
    A = rng.standard_normal((50, 8))
    theta_true = rng.uniform(0.5, 1.5, 8) * (rng.random(8) < 0.5)
    return A, A @ theta_true + 0.5 * rng.standard_normal(50)


def test_normalized_egd_matches_numpy_and_stays_on_simplex():
    w0 = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=DT)
    w = torch.nn.Parameter(w0.clone())
    g = torch.tensor([3.0, -1.0, 0.5, 100.0], dtype=DT)
    w.grad = g.clone()
    NormalizedEGD([w], lr=0.7).step()
    np.testing.assert_allclose(w.detach().numpy(), constrained.normalized_eg_update(w0.numpy(), g.numpy(), 0.7),
                               rtol=1e-13)
    torch.testing.assert_close(normalized_eg_update(w0, g, 0.7), w.detach())
    assert abs(float(w.detach().sum()) - 1.0) < 1e-14
    with pytest.raises(ValueError, match="positive sum"):
        NormalizedEGD([torch.nn.Parameter(torch.zeros(3))])


def test_eg_update_pure_function():
    t = torch.tensor([0.0, 1.0, 2.0], dtype=DT)
    g = torch.tensor([1.0, -1.0, 0.5], dtype=DT)
    torch.testing.assert_close(eg_update(t, g, 0.1), t * torch.exp(-0.1 * g))


# --------------------------------------------------------------------------- EGStepSize
@pytest.mark.parametrize("direction,ref", [
    ("sgd", lambda ps: torch.optim.SGD(ps, lr=0.03)),
    ("momentum", lambda ps: torch.optim.SGD(ps, lr=0.03, momentum=0.8)),
    ("adam", lambda ps: torch.optim.Adam(ps, lr=0.03, betas=(0.8, 0.95), eps=1e-6)),
])
@pytest.mark.parametrize("per_coordinate", [True, False])
def test_eg_step_size_with_zero_meta_lr_is_torch_optimizer(direction, ref, per_coordinate):
    a, b = _params(2), _params(2)
    opt = EGStepSize(a, lr=0.03, meta_lr=0.0, direction=direction, momentum=0.8, betas=(0.8, 0.95), eps=1e-6,
                     per_coordinate=per_coordinate)
    tref = ref(b)
    for _ in range(15):
        for o, ps in ((opt, a), (tref, b)):
            o.zero_grad()
            _loss(ps).backward()
            o.step()
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-12)


def test_gradient_signal_pairs_consecutive_gradients():
    """signal="gradient": ν_{t+1} = ν_t exp(γ g_{t−1} ⊙ g_t) whatever the direction; equal to the default for SGD."""
    p = _params(13)
    opt = EGStepSize(p, lr=0.01, meta_lr=0.03, direction="adam", signal="gradient")
    grads = []
    for _ in range(4):
        opt.zero_grad()
        _loss(p).backward()
        grads.append([q.grad.clone() for q in p])
        opt.step()
    for i, q in enumerate(p):
        acc = sum(grads[k - 1][i] * grads[k][i] for k in range(1, 4))
        torch.testing.assert_close(opt.state[q]["nu"], torch.exp(0.03 * acc), rtol=1e-11, atol=0)
    a, b = _params(14), _params(14)
    ra = _run(EGStepSize, a, 6, lr=0.01, meta_lr=0.03, signal="gradient")
    rb = _run(EGStepSize, b, 6, lr=0.01, meta_lr=0.03)
    for x, y in zip(ra, rb):
        torch.testing.assert_close(x, y, rtol=0, atol=0)


def test_init_nu_scales_lr():
    a, b = _params(3), _params(3)
    _run(EGStepSize, a, 5, lr=0.01, meta_lr=0.0, init_nu=3.0)
    _run(torch.optim.SGD, b, 5, lr=0.03)
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("direction", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("per_coordinate", [True, False])
@pytest.mark.parametrize("signal", ["direction", "gradient"])
def test_eg_step_size_foreach_equals_loop(direction, per_coordinate, signal):
    a, b = _params(5), _params(5)
    kw = dict(lr=0.02, meta_lr=0.5, direction=direction, per_coordinate=per_coordinate, nu_min=0.01, nu_max=50.0,
              signal=signal)
    ra = _run(EGStepSize, a, 25, foreach=True, **kw)
    rb = _run(EGStepSize, b, 25, foreach=False, **kw)
    for x, y in zip(ra, rb):
        torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("direction", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("per_coordinate", [True, False])
def test_eg_step_size_is_eg_on_the_autograd_hypergradient(direction, per_coordinate):
    """ν_{t+1} = ν_t exp(−(γ/η) ∂L(θ_t)/∂ν_t), the hypergradient taken by autograd through one step."""
    lr, meta = 0.05, 0.02
    ps = _params(6)
    opt = EGStepSize(ps, lr=lr, meta_lr=meta, direction=direction, per_coordinate=per_coordinate)
    for _ in range(3):
        opt.zero_grad()
        _loss(ps).backward()
        opt.step()
    # the last step was θ_t = θ_{t−1} − η ν_t ⊙ u_{t−1}; rebuild it with ν_t as a leaf
    states = [opt.state[p] for p in ps]
    nu_t = [s["nu"].clone().requires_grad_(True) for s in states]
    u_prev = [s["prev_direction"].clone() for s in states]
    theta_prev = [p.detach() + lr * s["nu"] * s["prev_direction"] for p, s in zip(ps, states)]
    if per_coordinate:
        theta_t = [tp - lr * n * u for tp, n, u in zip(theta_prev, nu_t, u_prev)]
        leaves = nu_t
    else:
        leaf = nu_t[0]
        theta_t = [tp - lr * leaf * u for tp, u in zip(theta_prev, u_prev)]
        leaves = [leaf]
    hyper = torch.autograd.grad(_loss(theta_t), leaves)
    expected = [n.detach() * torch.exp(-(meta / lr) * h) for n, h in zip(leaves, hyper)]
    opt.zero_grad()
    _loss(ps).backward()
    opt.step()
    got = [s["nu"] for s in states] if per_coordinate else [states[0]["nu"]]
    for x, y in zip(got, expected):
        torch.testing.assert_close(x, y, rtol=1e-10, atol=1e-12)


def test_eg_step_size_closed_form_from_one():
    """Starting at ν = 1 with u = g: ν_{t+1} = exp(γ Σ_k g_{k−1} ⊙ g_k)."""
    p = _params(7)
    opt = EGStepSize(p, lr=0.02, meta_lr=0.03)
    history: list[list[torch.Tensor]] = []
    for _ in range(10):
        opt.zero_grad()
        _loss(p).backward()
        history.append([q.grad.clone() for q in p])
        opt.step()
    for i, q in enumerate(p):
        acc = sum(history[k - 1][i] * history[k][i] for k in range(1, 10))
        torch.testing.assert_close(opt.state[q]["nu"], torch.exp(0.03 * acc), rtol=1e-11, atol=0)


def test_eg_step_size_state_dict_roundtrip():
    a = _params(8)
    opt = EGStepSize(a, lr=0.02, meta_lr=0.2, direction="adam")
    for _ in range(4):
        opt.zero_grad()
        _loss(a).backward()
        opt.step()
    b = [torch.nn.Parameter(p.detach().clone()) for p in a]
    opt2 = EGStepSize(b, lr=0.02, meta_lr=0.2, direction="adam")
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    for o, ps in ((opt, a), (opt2, b)):
        for _ in range(3):
            o.zero_grad()
            _loss(ps).backward()
            o.step()
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y, rtol=0, atol=0)
    assert len(opt.effective_lrs()[0]) == sum(p.numel() for p in a)


def test_eg_step_size_argument_errors():
    p = _params(0)
    for kw, name in [({"lr": -1.0}, "lr"), ({"meta_lr": -0.1}, "meta_lr"), ({"direction": "rmsprop"}, "direction"),
                     ({"momentum": 1.0}, "momentum"), ({"init_nu": 0.0}, "init_nu"), ({"betas": (0.9, 1.0)}, "betas"),
                     ({"nu_max": 0.0}, "nu_max"), ({"signal": "hessian"}, "signal")]:
        with pytest.raises(ValueError, match=name):
            EGStepSize(p, **kw)
    with pytest.raises(TypeError, match="per_coordinate"):
        EGStepSize(p, per_coordinate=1)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- HypergradientSGD
def test_hypergradient_sgd_zero_hyper_lr_is_sgd():
    a, b = _params(9), _params(9)
    ra = _run(HypergradientSGD, a, 12, lr=0.04, hyper_lr=0.0)
    rb = _run(torch.optim.SGD, b, 12, lr=0.04)
    for x, y in zip(ra, rb):
        torch.testing.assert_close(x, y, rtol=1e-13, atol=1e-14)


def test_hypergradient_sgd_foreach_equals_loop():
    a, b = _params(10), _params(10)
    ra = _run(HypergradientSGD, a, 20, lr=0.02, hyper_lr=1e-3, foreach=True)
    rb = _run(HypergradientSGD, b, 20, lr=0.02, hyper_lr=1e-3, foreach=False)
    for x, y in zip(ra, rb):
        torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-13)


def test_hypergradient_sgd_is_descent_on_the_autograd_hypergradient():
    """α_t = α_{t−1} − β ∂L(θ_t)/∂α_{t−1}, with θ_t = θ_{t−1} − α_{t−1} g_{t−1} rebuilt under autograd."""
    beta = 2e-3
    ps = _params(11)
    opt = HypergradientSGD(ps, lr=0.03, hyper_lr=beta)
    for _ in range(3):
        opt.zero_grad()
        _loss(ps).backward()
        opt.step()
    states = [opt.state[p] for p in ps]
    alpha_prev = states[0]["lr"].clone().requires_grad_(True)
    theta_prev = [p.detach() + s["lr"] * s["prev_grad"] for p, s in zip(ps, states)]
    theta_t = [tp - alpha_prev * s["prev_grad"] for tp, s in zip(theta_prev, states)]
    (h,) = torch.autograd.grad(_loss(theta_t), [alpha_prev])
    expected = alpha_prev.detach() - beta * h
    opt.zero_grad()
    _loss(ps).backward()
    opt.step()
    torch.testing.assert_close(states[0]["lr"], expected, rtol=1e-12, atol=1e-14)
    assert float(opt.effective_lrs()[0]) == float(expected)


def test_hypergradient_sgd_errors():
    with pytest.raises(ValueError, match="hyper_lr"):
        HypergradientSGD(_params(0), hyper_lr=-1.0)


def test_scalar_eg_and_hd_agree_to_first_order():
    """For small γ, ν = exp(γ s) ≈ 1 + γ s: the multiplicative and additive scalar rules agree to O(γ²)."""
    gamma = 1e-5
    a, b = _params(12), _params(12)
    lr = 0.02
    oa = EGStepSize(a, lr=lr, meta_lr=gamma, per_coordinate=False)
    ob = HypergradientSGD(b, lr=lr, hyper_lr=lr * gamma)
    for _ in range(2):
        for o, ps in ((oa, a), (ob, b)):
            o.zero_grad()
            _loss(ps).backward()
            o.step()
    ea, eb = float(oa.effective_lrs()[0]), float(ob.effective_lrs()[0])
    assert ea != lr and math.isclose(ea - lr, eb - lr, rel_tol=1e-2)
