"""Tests for lrtheory.curvature against torch.autograd.functional.hessian and closed forms."""

from __future__ import annotations

import pytest
import torch
from torch.func import functional_call

from lrtheory import curvature as C
from lrtheory.experiments import seed_everything, torch_generator


def _small_model():
    seed_everything(3)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    gen = torch_generator(5)
    X = torch.randn(20, 3, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 2, (20,), generator=gen)
    return model, X, y


def _full_hessian(model, X, y):
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    sizes = [p.numel() for p in model.parameters()]
    flat0 = torch.cat([p.detach().reshape(-1) for p in model.parameters()])

    def loss_of(flat):
        parts = torch.split(flat, sizes)
        params = {n: t.reshape(s) for n, t, s in zip(names, parts, shapes)}
        return torch.nn.functional.cross_entropy(functional_call(model, params, (X,)), y)

    return torch.autograd.functional.hessian(loss_of, flat0)


def test_hvp_matches_full_hessian():
    model, X, y = _small_model()
    H = _full_hessian(model, X, y)
    params = list(model.parameters())
    v = torch.randn(H.shape[0], generator=torch_generator(1), dtype=torch.float64)
    loss = torch.nn.functional.cross_entropy(model(X), y)
    assert torch.allclose(C.hessian_vector_product(loss, params, v), H @ v, rtol=1e-10, atol=1e-12)


def test_sharpness_matches_eigvalsh():
    model, X, y = _small_model()
    H = _full_hessian(model, X, y)
    lam = torch.linalg.eigvalsh(H).max().item()
    loss = torch.nn.functional.cross_entropy(model(X), y)
    res = C.sharpness(loss, list(model.parameters()), num_iters=2000, tol=1e-12, seed=0)
    assert res.converged
    assert abs(res.eigenvalue - lam) <= 1e-6 * abs(lam)
    Hv = H @ res.vector
    assert torch.allclose(Hv, lam * res.vector, atol=1e-4)


def test_sharpness_when_dominant_eigenvalue_is_negative():
    A = torch.diag(torch.tensor([-5.0, 1.0, 2.0], dtype=torch.float64))
    theta = torch.tensor([0.3, -0.2, 0.5], dtype=torch.float64, requires_grad=True)
    loss = 0.5 * theta @ A @ theta
    res = C.sharpness(loss, [theta], num_iters=500, tol=1e-12, seed=2)
    assert abs(res.eigenvalue - 2.0) < 1e-8


def test_sharpness_is_deterministic_given_seed():
    model, X, y = _small_model()
    params = list(model.parameters())
    r1 = C.sharpness(torch.nn.functional.cross_entropy(model(X), y), params, num_iters=5, seed=7)
    r2 = C.sharpness(torch.nn.functional.cross_entropy(model(X), y), params, num_iters=5, seed=7)
    assert r1.eigenvalue == r2.eigenvalue


def test_egr_penalty_on_quadratic_closed_form():
    A = torch.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=torch.float64)
    theta = torch.tensor([0.4, -1.2], dtype=torch.float64, requires_grad=True)
    lr = 0.3
    loss = 0.5 * theta @ A @ theta
    pen = C.egr_penalty(loss, [theta], lr)
    assert torch.isclose(pen, lr / 4 * theta @ A @ A @ theta)
    (g,) = torch.autograd.grad(pen, theta)
    assert torch.allclose(g, lr / 2 * A @ A @ theta.detach())
    assert torch.isclose(C.gradient_norm_sq(0.5 * theta @ A @ theta, [theta]), theta @ A @ A @ theta)


def test_train_full_batch_equals_torch_sgd():
    model, X, y = _small_model()
    clone, _, _ = _small_model()
    params = list(model.parameters())
    res = C.train_full_batch(params, lambda: torch.nn.functional.cross_entropy(model(X), y), 0.2, 7)
    opt = torch.optim.SGD(clone.parameters(), lr=0.2, momentum=0.0)
    for _ in range(7):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(clone(X), y).backward()
        opt.step()
    assert res.steps == 7 and len(res.losses) == 8 and not res.diverged
    for p, q in zip(model.parameters(), clone.parameters()):
        assert torch.allclose(p, q, rtol=1e-12, atol=1e-14)


def test_train_full_batch_with_penalty_on_quadratic():
    A = torch.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=torch.float64)
    theta0 = torch.tensor([0.4, -1.2], dtype=torch.float64)
    theta = theta0.clone().requires_grad_(True)
    lr, plr = 0.1, 0.5
    C.train_full_batch([theta], lambda: 0.5 * theta @ A @ theta, lr, 1, penalty_lr=plr)
    expected = theta0 - lr * (A @ theta0 + plr / 2 * A @ A @ theta0)
    assert torch.allclose(theta.detach(), expected, rtol=1e-13)


def test_train_full_batch_target_and_divergence():
    theta = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    res = C.train_full_batch([theta], lambda: 0.5 * (theta**2).sum(), 0.5, 100, target_loss=1e-6)
    assert res.reached_target and res.losses[-1] <= 1e-6 and res.steps < 100
    theta = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    res = C.train_full_batch([theta], lambda: 0.5 * (theta**2).sum(), 3.0, 2000)
    assert res.diverged and not res.reached_target


def test_argument_errors():
    theta = torch.tensor([1.0], requires_grad=True)
    loss = (theta**2).sum()
    with pytest.raises(ValueError, match="lr"):
        C.egr_penalty(loss, [theta], -1.0)
    with pytest.raises(TypeError, match="loss"):
        C.flat_grad(3.0, [theta])
    with pytest.raises(ValueError, match="params"):
        C.flat_grad(loss, [])
    with pytest.raises(ValueError, match="vector"):
        C.hessian_vector_product(loss, [theta], torch.zeros(2))
    with pytest.raises(ValueError, match="num_iters"):
        C.sharpness(loss, [theta], num_iters=0)
    with pytest.raises(ValueError, match="num_steps"):
        C.train_full_batch([theta], lambda: (theta**2).sum(), 0.1, -1)
    with pytest.raises(TypeError, match="loss_fn"):
        C.train_full_batch([theta], None, 0.1, 1)


from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 6))
def test_sharpness_matches_eigvalsh_on_random_quadratics(seed, n):
    gen = torch_generator(seed)
    B = torch.randn(n, n, generator=gen, dtype=torch.float64)
    A = (B + B.T) / 2
    theta = torch.randn(n, generator=gen, dtype=torch.float64).requires_grad_(True)
    res = C.sharpness(0.5 * theta @ A @ theta, [theta], num_iters=5000, tol=1e-13, seed=seed)
    lam = torch.linalg.eigvalsh(A)
    assert res.eigenvalue <= lam.max().item() + 1e-9          # a Rayleigh quotient never overshoots
    gap = (lam.max() - lam[-2]).item() if n > 1 else 1.0
    if gap > 1e-2 and (lam.max() - lam.min()).item() > 1e-6:
        assert abs(res.eigenvalue - lam.max().item()) < 1e-6 * max(1.0, lam.abs().max().item())
