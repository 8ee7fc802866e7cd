"""Tests for lrtheory.penalties against closed forms on quadratics and linear models, and SGD simulations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from lrtheory import penalties as P


def _quadratic_batches(rng, m=3, d=4):
    A = []
    for _ in range(m):
        Q = rng.normal(size=(d, d))
        A.append(Q @ Q.T / d + 0.1 * np.eye(d))
    c = rng.normal(size=(m, d))
    return np.array(A), c


def test_sgd_noise_penalty_value_and_gradient_closed_form(rng):
    A, c = _quadratic_batches(rng)
    m, d = c.shape
    theta0 = rng.normal(size=d)
    th = torch.tensor(theta0, requires_grad=True)
    At, ct = torch.tensor(A), torch.tensor(c)
    losses = [0.5 * (th - ct[k]) @ At[k] @ (th - ct[k]) for k in range(m)]
    pen = P.sgd_noise_penalty(losses, [th], 0.3)
    g = np.array([A[k] @ (theta0 - c[k]) for k in range(m)])
    gbar = g.mean(axis=0)
    want = 0.3 / (4 * m) * ((g - gbar) ** 2).sum()
    assert pen.item() == pytest.approx(want, rel=1e-12)
    # the identity mean_k |g_k|^2 = |g|^2 + mean_k |g_k - g|^2 that splits SGD's implicit term
    assert (g**2).sum(1).mean() == pytest.approx((gbar**2).sum() + ((g - gbar) ** 2).sum(1).mean(), rel=1e-12)
    (grad,) = torch.autograd.grad(pen, th)
    Abar = A.mean(axis=0)
    want_grad = 0.3 / (2 * m) * sum((A[k] - Abar) @ (g[k] - gbar) for k in range(m))
    assert np.allclose(grad.numpy(), want_grad, rtol=1e-12)
    one = P.sgd_noise_penalty([0.5 * (th - ct[0]) @ At[0] @ (th - ct[0])], [th], 0.3)
    assert one.item() == 0.0


def test_sgd_mean_iterate_drift_matches_the_penalty(rng):
    # one epoch of SGD over m batches, averaged over all m! orders, minus one epoch of GD:
    # -(gamma^2 / 4) grad sum_k |g_k - g|^2 + O(gamma^3)
    A, c = _quadratic_batches(rng)
    m, d = c.shape
    theta0 = rng.normal(size=d)
    Abar = A.mean(axis=0)
    cbar_grad = lambda th: sum(A[k] @ (th - c[k]) for k in range(m)) / m
    th = torch.tensor(theta0, requires_grad=True)
    At, ct = torch.tensor(A), torch.tensor(c)
    losses = [0.5 * (th - ct[k]) @ At[k] @ (th - ct[k]) for k in range(m)]
    (gp,) = torch.autograd.grad(P.sgd_noise_penalty(losses, [th], 1.0), th)
    errs = []
    for lr in (0.02, 0.01, 0.005):
        ends = []
        for order in itertools.permutations(range(m)):
            t = theta0.copy()
            for k in order:
                t = t - lr * A[k] @ (t - c[k])
            ends.append(t)
        t = theta0.copy()
        for _ in range(m):
            t = t - lr * cbar_grad(t)
        drift = np.mean(ends, axis=0) - t
        pred = -(m * lr) * lr * gp.numpy()
        errs.append(np.linalg.norm(drift - pred) / np.linalg.norm(pred))
    assert errs[0] < 0.1
    assert errs[1] / errs[0] == pytest.approx(0.5, abs=0.08) and errs[2] / errs[1] == pytest.approx(0.5, abs=0.08)
    del Abar


def test_flooding_two_steps_are_a_gradient_penalty_step(rng):
    # on a quadratic, descent then ascent is exactly theta - gamma^2 H g
    d = 3
    Q = rng.normal(size=(d, d))
    A = Q @ Q.T + np.eye(d)
    theta0 = rng.normal(size=d)
    lr = 0.05
    At = torch.tensor(A)
    th = torch.tensor(theta0, requires_grad=True)
    loss0 = 0.5 * th @ At @ th
    t1 = theta0 - lr * A @ theta0
    level = 0.5 * (loss0.item() + 0.5 * t1 @ A @ t1)
    t = torch.tensor(theta0, requires_grad=True)
    for _ in range(2):
        (g,) = torch.autograd.grad(P.flooded_loss(0.5 * t @ At @ t, level), t)
        t = (t - lr * g).detach().requires_grad_(True)
    assert np.allclose(t.detach().numpy(), theta0 - lr**2 * A @ A @ theta0, rtol=1e-12)
    assert P.flooded_loss(torch.tensor(0.2), 0.5).item() == pytest.approx(0.8)
    assert P.flooded_loss(torch.tensor(0.7), 0.5).item() == pytest.approx(0.7)


def test_adversarial_inputs_and_penalty_on_a_linear_model(rng):
    n, d = 7, 3
    Xn = rng.normal(size=(n, d))
    tn = rng.normal(size=n)
    w = torch.tensor(rng.normal(size=d), requires_grad=True)
    X, t = torch.tensor(Xn), torch.tensor(tn)
    ex = lambda Z: 0.5 * (Z @ w - t) ** 2
    r = Xn @ w.detach().numpy() - tn
    eps = 0.01
    Xa = P.adversarial_inputs(ex, X, eps)
    assert np.allclose(Xa.numpy(), Xn + eps * r[:, None] * w.detach().numpy()[None, :], rtol=1e-12)
    pen = P.input_gradient_penalty(ex, X, eps)
    assert pen.item() == pytest.approx(0.5 * eps * np.mean(r**2) * (w.detach().numpy() ** 2).sum(), rel=1e-12)
    # adversarial training's parameter gradient is the penalised loss's, to first order in eps
    diffs = []
    for e in (0.02, 0.01, 0.005):
        (g_adv,) = torch.autograd.grad(ex(P.adversarial_inputs(ex, X, e)).mean(), w)
        (g_pen,) = torch.autograd.grad(ex(X).mean() + P.input_gradient_penalty(ex, X, e), w)
        (g_plain,) = torch.autograd.grad(ex(X).mean(), w)
        diffs.append(((g_adv - g_pen).norm() / (g_adv - g_plain).norm()).item())
    assert diffs[1] / diffs[0] == pytest.approx(0.5, abs=0.05) and diffs[0] < 0.2


def test_argument_errors():
    th = torch.zeros(2, requires_grad=True)
    loss = (th**2).sum()
    with pytest.raises(TypeError, match="batch_losses"):
        P.sgd_noise_penalty([], [th], 0.1)
    with pytest.raises(TypeError, match="batch_losses"):
        P.sgd_noise_penalty(loss, [th], 0.1)
    with pytest.raises(ValueError, match="lr"):
        P.sgd_noise_penalty([loss], [th], -1.0)
    with pytest.raises(TypeError, match="lr"):
        P.sgd_noise_penalty([loss], [th], "0.1")
    with pytest.raises(ValueError, match="level"):
        P.flooded_loss(loss, float("nan"))
    with pytest.raises(ValueError, match="loss"):
        P.flooded_loss(th, 0.1)
    with pytest.raises(TypeError, match="loss"):
        P.flooded_loss(0.3, 0.1)
    X = torch.zeros(4, 2)
    with pytest.raises(TypeError, match="example_loss"):
        P.adversarial_inputs(None, X, 0.1)
    with pytest.raises(TypeError, match="X"):
        P.input_gradient_penalty(lambda Z: Z.sum(1), np.zeros((4, 2)), 0.1)
    with pytest.raises(ValueError, match="eps"):
        P.adversarial_inputs(lambda Z: Z.sum(1), X, -0.1)
    with pytest.raises(ValueError, match="example_loss"):
        P.adversarial_inputs(lambda Z: Z.sum(), X, 0.1)


def test_sgd_drift_equals_a_direct_loop():
    import itertools

    from lrtheory.batched import cross_entropy_losses
    from lrtheory.experiments import torch_generator
    from lrtheory.sweeps import make_classifier

    gen = torch_generator(3)
    X = torch.randn(13, 4, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 3, (13,), generator=gen)
    make = lambda s: make_classifier("mlp", 4, 3, hidden=5, seed=s, dtype=torch.float64)
    res = P.sgd_drift(make, X, y, seeds=(0, 2), lrs=[0.05, 0.1], num_batches=3, partition_seed=4)
    parts = torch.randperm(13, generator=torch.Generator().manual_seed(4))[:12].reshape(3, 4)
    for j, s in enumerate((0, 2)):
        for i, lr in enumerate((0.05, 0.1)):
            ends = []
            for order in itertools.permutations(range(3)):
                net = make(s)
                for k in order:
                    loss = cross_entropy_losses(net(X[parts[k]]), y[parts[k]]).mean()
                    grads = torch.autograd.grad(loss, list(net.parameters()))
                    with torch.no_grad():
                        for p, g in zip(net.parameters(), grads):
                            p.sub_(lr * g)
                ends.append(torch.cat([p.detach().reshape(-1) for p in net.parameters()]))
            net = make(s)
            Xu, yu = X[parts.reshape(-1)], y[parts.reshape(-1)]
            for _ in range(3):
                grads = torch.autograd.grad(cross_entropy_losses(net(Xu), yu).mean(), list(net.parameters()))
                with torch.no_grad():
                    for p, g in zip(net.parameters(), grads):
                        p.sub_(lr * g)
            gd = torch.cat([p.detach().reshape(-1) for p in net.parameters()])
            D = torch.stack(ends).mean(0) - gd
            net = make(s)
            ps = list(net.parameters())
            bl = [cross_entropy_losses(net(X[parts[k]]), y[parts[k]]).mean() for k in range(3)]
            gp = torch.cat([g.reshape(-1) for g in torch.autograd.grad(P.sgd_noise_penalty(bl, ps, lr), ps)])
            pred = -3 * lr * gp
            assert res.measured[i, j] == pytest.approx(D.norm().item(), rel=1e-9)
            assert res.predicted[i, j] == pytest.approx(pred.norm().item(), rel=1e-9)
            assert res.rel_error[i, j] == pytest.approx(((D - pred).norm() / pred.norm()).item(), rel=1e-9)
    # and the prediction is good to first order: the error halves with the rate
    assert np.all(res.rel_error[1] / res.rel_error[0] > 1.6) and np.all(res.rel_error[0] < 0.2)
    with pytest.raises(ValueError, match="num_batches"):
        P.sgd_drift(make, X, y, seeds=(0,), lrs=[0.1], num_batches=6)
    with pytest.raises(ValueError, match="lrs"):
        P.sgd_drift(make, X, y, seeds=(0,), lrs=[0.0], num_batches=2)
