"""Tests of lrtheory.optim.rmsprop: torch.optim.RMSprop where conventions coincide, the numpy
twins in lrtheory.adaptive, foreach == reference loop, state_dict round trips, argument checks."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from lrtheory import adaptive
from lrtheory.optim.rmsprop import RMSpropCoordinate, RMSpropScalar, SignDescent
from lrtheory.problems import rosenbrock

DT = torch.float64


def _model_params(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(3, 4, generator=g, dtype=DT), torch.randn(4, generator=g, dtype=DT),
            torch.randn(2, 4, generator=g, dtype=DT)]


def _loss(params, x):
    w1, b, w2 = params
    h = torch.tanh(x @ w1 + b)
    return (h @ w2.T).pow(2).sum() + (w1 ** 3).sum() * 0.1


def _run(make_opt, num_steps=15, seed=0, params=None):
    params = [p.clone().requires_grad_(True) for p in (params or _model_params(seed))]
    opt = make_opt(params)
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(seed + 1), dtype=DT)
    for _ in range(num_steps):
        opt.zero_grad()
        _loss(params, x).backward()
        opt.step()
    return [p.detach() for p in params], opt


@pytest.mark.parametrize("eps,eps_inside", [(1e-3, False), (0.0, True), (0.0, False)])
@pytest.mark.parametrize("foreach", [False, True])
def test_coordinate_equals_torch_rmsprop(eps, eps_inside, foreach):
    """eps outside the root (or eps = 0), G0 = 0, no momentum: exactly torch.optim.RMSprop."""
    ours, _ = _run(lambda ps: RMSpropCoordinate(ps, lr=0.01, alpha=0.9, eps=eps, eps_inside=eps_inside, foreach=foreach))
    ref, _ = _run(lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=eps, foreach=False))
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_eps_inside_differs_from_torch():
    ours, _ = _run(lambda ps: RMSpropCoordinate(ps, lr=0.01, alpha=0.9, eps=1e-2))
    ref, _ = _run(lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-2))
    assert max((a - b).abs().max().item() for a, b in zip(ours, ref)) > 1e-6


@pytest.mark.parametrize(
    "make",
    [
        lambda ps, fe: SignDescent(ps, lr=0.01, foreach=fe),
        lambda ps, fe: RMSpropCoordinate(ps, lr=0.01, alpha=0.9, eps=1e-4, foreach=fe),
        lambda ps, fe: RMSpropCoordinate(ps, lr=0.01, alpha=0.5, eps=0.0, initial_accumulator_value=0.3, foreach=fe),
        lambda ps, fe: RMSpropScalar(ps, lr=0.01, alpha=0.9, eps=1e-4, foreach=fe),
        lambda ps, fe: RMSpropScalar(ps, lr=0.01, alpha=0.9, eps=1e-4, eps_inside=False, foreach=fe),
    ],
)
def test_foreach_equals_reference_loop(make):
    a, _ = _run(lambda ps: make(ps, False))
    b, _ = _run(lambda ps: make(ps, True))
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y, rtol=1e-13, atol=1e-13)


def _numpy_twin(opt_factory, method, num_steps=40, **kw):
    p = rosenbrock()
    theta = torch.tensor([-1.2, 1.0], dtype=DT, requires_grad=True)
    opt = opt_factory([theta])
    traj = [theta.detach().clone().numpy()]
    for _ in range(num_steps):
        opt.zero_grad()
        x, y = theta[0], theta[1]
        ((1 - x) ** 2 + 100 * (y - x * x) ** 2).backward()
        opt.step()
        traj.append(theta.detach().clone().numpy())
    run = adaptive.run_adaptive(p.grad, [-1.2, 1.0], method, 0.01, num_steps, **kw)
    return np.array(traj), run.theta


@pytest.mark.parametrize("foreach", [False, True])
def test_equal_to_numpy_versions(foreach):
    t, n = _numpy_twin(lambda ps: SignDescent(ps, lr=0.01, foreach=foreach), "sign")
    np.testing.assert_allclose(t, n, rtol=1e-12, atol=1e-12)
    t, n = _numpy_twin(lambda ps: RMSpropCoordinate(ps, lr=0.01, alpha=0.9, eps=1e-6, foreach=foreach),
                       "rmsprop_coordinate", alpha=0.9, eps=1e-6)
    np.testing.assert_allclose(t, n, rtol=1e-12, atol=1e-12)
    t, n = _numpy_twin(lambda ps: RMSpropScalar(ps, lr=0.01, alpha=0.9, eps=1e-6, foreach=foreach),
                       "rmsprop_scalar", alpha=0.9, eps=1e-6)
    np.testing.assert_allclose(t, n, rtol=1e-12, atol=1e-12)


def test_scalar_uses_global_norm_over_tensors():
    """One scalar step size for all tensors: every tensor moves parallel to its gradient, by the same factor."""
    params = [torch.tensor([3.0, 4.0], dtype=DT, requires_grad=True), torch.tensor([12.0], dtype=DT, requires_grad=True)]
    opt = RMSpropScalar(params, lr=0.1, alpha=0.0, eps=0.0)
    params[0].grad = torch.tensor([3.0, 4.0], dtype=DT)
    params[1].grad = torch.tensor([12.0], dtype=DT)
    opt.step()
    # ||g|| = 13, so every entry moves by 0.1 * g / 13
    torch.testing.assert_close(params[0].detach(), torch.tensor([3.0 - 0.3 / 13, 4.0 - 0.4 / 13], dtype=DT))
    torch.testing.assert_close(params[1].detach(), torch.tensor([12.0 - 1.2 / 13], dtype=DT))
    assert opt.state[params[0]]["square_avg"].item() == pytest.approx(169.0)


def test_scalar_with_one_entry_equals_coordinate():
    def one(make):
        w = torch.tensor([0.7], dtype=DT, requires_grad=True)
        opt = make([w])
        for _ in range(10):
            opt.zero_grad()
            (w ** 4 - w).sum().backward()
            opt.step()
        return w.detach()
    torch.testing.assert_close(one(lambda ps: RMSpropScalar(ps, lr=0.05, alpha=0.9, eps=1e-3)),
                               one(lambda ps: RMSpropCoordinate(ps, lr=0.05, alpha=0.9, eps=1e-3)), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("cls", [SignDescent, RMSpropScalar, RMSpropCoordinate])
def test_state_dict_round_trip(cls):
    _, opt = _run(lambda ps: cls(ps, lr=0.01), num_steps=5)
    params2 = [p.clone().requires_grad_(True) for p in _model_params(0)]
    opt2 = cls(params2, lr=0.01)
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    s1, s2 = opt.state_dict(), opt2.state_dict()
    assert s1["param_groups"] == s2["param_groups"]
    for k in s1["state"]:
        for key, v in s1["state"][k].items():
            if isinstance(v, torch.Tensor):
                torch.testing.assert_close(v, s2["state"][k][key])
            else:
                assert v == s2["state"][k][key]


@pytest.mark.parametrize(
    "cls,kwargs,name",
    [
        (SignDescent, {"lr": -1.0}, "lr"),
        (RMSpropCoordinate, {"alpha": 1.0}, "alpha"),
        (RMSpropCoordinate, {"eps": -1e-8}, "eps"),
        (RMSpropScalar, {"initial_accumulator_value": -1.0}, "initial_accumulator_value"),
        (RMSpropScalar, {"lr": float("nan")}, "lr"),
    ],
)
def test_bad_hyperparameters(cls, kwargs, name):
    with pytest.raises(ValueError, match=name):
        cls([torch.zeros(2, requires_grad=True)], **kwargs)


@pytest.mark.parametrize("cls", [SignDescent, RMSpropScalar, RMSpropCoordinate])
def test_refuses_sparse_and_skips_none(cls):
    w = torch.zeros(3, requires_grad=True)
    v = torch.ones(2, requires_grad=True)
    opt = cls([w, v], lr=0.1)
    w.grad = torch.ones(3)
    opt.step()  # v has no grad: untouched
    assert torch.equal(v.detach(), torch.ones(2))
    w.grad = torch.ones(3).to_sparse()
    with pytest.raises(RuntimeError, match="sparse"):
        opt.step()


def test_zero_gradient_with_eps0_does_not_move():
    for fe in (False, True):
        w = torch.tensor([1.0, 2.0], dtype=DT, requires_grad=True)
        opt = RMSpropCoordinate([w], lr=0.1, alpha=0.5, eps=0.0, foreach=fe)
        w.grad = torch.tensor([0.0, 1.0], dtype=DT)
        opt.step()
        assert w[0].item() == 1.0 and torch.isfinite(w).all()
