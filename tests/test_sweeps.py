"""Tests of lrtheory.sweeps: determinism, a hand-written training loop as oracle, closed-form cosines."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lrtheory import sweeps
from lrtheory.datasets import load_dataset
from lrtheory.optim.rmsprop import RMSpropScalar, SignDescent


@pytest.fixture(scope="module")
def data():
    return load_dataset("iris", device="cpu", dtype=torch.float64)


def test_make_classifier_is_seeded_and_leaves_global_rng(data):
    state = torch.random.get_rng_state()
    a = sweeps.make_classifier("mlp", 4, 3, hidden=5, seed=3, dtype=torch.float64)
    assert torch.equal(state, torch.random.get_rng_state())
    b = sweeps.make_classifier("mlp", 4, 3, hidden=5, seed=3, dtype=torch.float64)
    c = sweeps.make_classifier("mlp", 4, 3, hidden=5, seed=4, dtype=torch.float64)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    assert not torch.equal(next(a.parameters()), next(c.parameters()))
    assert sweeps.make_classifier("logreg", 4, 3, seed=0)(torch.zeros(2, 4)).shape == (2, 3)


def test_full_batch_training_equals_manual_loop(data):
    """batch_size >= n: the shuffle does not matter, and training is plain gradient descent."""
    model = sweeps.make_classifier("logreg", 4, 3, seed=0, dtype=torch.float64)
    res = sweeps.train_classifier(model, torch.optim.SGD(model.parameters(), lr=0.5), data,
                                  epochs=7, batch_size=10_000, seed=0)
    ref = sweeps.make_classifier("logreg", 4, 3, seed=0, dtype=torch.float64)
    W, b = ref.weight.detach().clone(), ref.bias.detach().clone()
    for _ in range(7):
        W.requires_grad_(True)
        b.requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(data.X_train @ W.T + b, data.y_train)
        gW, gb = torch.autograd.grad(loss, (W, b))
        W, b = (W - 0.5 * gW).detach(), (b - 0.5 * gb).detach()
    torch.testing.assert_close(model.weight.detach(), W)
    with torch.no_grad():
        out = data.X_test @ W.T + b
        assert res.test_loss == pytest.approx(torch.nn.functional.cross_entropy(out, data.y_test).item(), rel=1e-12)
        assert res.test_acc == pytest.approx((out.argmax(1) == data.y_test).double().mean().item())
    assert not res.diverged


def test_lr_sweep_order_determinism_and_divergence(data):
    make = lambda ps, lr: torch.optim.SGD(ps, lr=lr)  # noqa: E731
    r1 = sweeps.lr_sweep("mlp", make, [0.1, 1e308], data, epochs=3, batch_size=16, seeds=(0, 1), hidden=8)
    r2 = sweeps.lr_sweep("mlp", make, [0.1, 1e308], data, epochs=3, batch_size=16, seeds=(0, 1), hidden=8)
    assert [(r.lr, r.seed) for r in r1] == [(0.1, 0), (0.1, 1), (1e308, 0), (1e308, 1)]
    assert [r.test_loss for r in r1[:2]] == [r.test_loss for r in r2[:2]]
    assert r1[0].test_loss != r1[1].test_loss
    assert all(r.diverged and np.isnan(r.test_loss) for r in r1[2:]) and not any(r.diverged for r in r1[:2])


def test_update_cosine_closed_forms(data):
    model = sweeps.make_classifier("logreg", 4, 3, seed=0, dtype=torch.float64)
    cos = sweeps.update_cosine(model, lambda ps, lr: torch.optim.SGD(ps, lr=lr), 0.1, data.X_train, data.y_train, num_steps=3)
    np.testing.assert_allclose(cos, 1.0, atol=1e-12)
    cos = sweeps.update_cosine(model, lambda ps, lr: RMSpropScalar(ps, lr=lr), 0.1, data.X_train, data.y_train, num_steps=3)
    np.testing.assert_allclose(cos, 1.0, atol=1e-12)
    # sign descent: cos = ||g||_1 / (sqrt(d) ||g||_2)
    model = sweeps.make_classifier("logreg", 4, 3, seed=1, dtype=torch.float64)
    loss = torch.nn.functional.cross_entropy(model(data.X_train), data.y_train)
    g = torch.cat([x.reshape(-1) for x in torch.autograd.grad(loss, list(model.parameters()))])
    expected = (g.abs().sum() / (g.numel() ** 0.5 * g.norm())).item()
    cos = sweeps.update_cosine(model, lambda ps, lr: SignDescent(ps, lr=lr), 0.01, data.X_train, data.y_train)
    assert cos[0] == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize(
    "call,exc,name",
    [
        (lambda d: sweeps.make_classifier("cnn", 4, 3, seed=0), ValueError, "kind"),
        (lambda d: sweeps.make_classifier("mlp", 0, 3, seed=0), ValueError, "num_features"),
        (lambda d: sweeps.lr_sweep("mlp", None, [0.1], d, epochs=1, batch_size=4), TypeError, "make_optimizer"),
        (lambda d: sweeps.lr_sweep("mlp", lambda p, lr: None, [-0.1], d, epochs=1, batch_size=4), ValueError, "lrs"),
        (lambda d: sweeps.lr_sweep("mlp", lambda p, lr: None, [], d, epochs=1, batch_size=4), ValueError, "lrs"),
        (lambda d: (lambda m: sweeps.train_classifier(m, torch.optim.SGD(m.parameters(), lr=0.1), d, epochs=-1,
                                                      batch_size=4, seed=0))(
            sweeps.make_classifier("logreg", d.num_features, d.num_classes, seed=0)), ValueError, "epochs"),
    ],
)
def test_argument_checks(data, call, exc, name):
    with pytest.raises(exc, match=name):
        call(data)
