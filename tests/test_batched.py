"""The batched-seed runner against its per-seed loop (the oracle) and against sweeps.train_classifier."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lrtheory import batched, sweeps
from lrtheory.datasets import load_dataset
from lrtheory.experiments import torch_generator
from lrtheory.optim import RMSpropCoordinate, RMSpropScalar, SignDescent


@pytest.fixture(scope="module")
def data64():
    return load_dataset("wine", device="cpu", dtype=torch.float64, val_size=0.2, test_size=0.2)


def _mlp(data, hidden=8):
    return lambda s: sweeps.make_classifier("mlp", data.num_features, data.num_classes, hidden=hidden, seed=s,
                                            device="cpu", dtype=data.X_train.dtype)


class _Custom(torch.nn.Module):
    """Not a plain Sequential: the runner must fall back to torch.func.vmap."""

    def __init__(self, d, k, seed):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.w = torch.nn.Parameter(torch.randn(d, k, generator=g, dtype=torch.float64) * 0.1)

    def forward(self, x):
        return torch.sin(x) @ self.w


OPTS = {
    "sgd-momentum": (lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9), 0.05),
    "adam": (lambda p, lr: torch.optim.Adam(p, lr=lr), 0.01),
    "rmsprop-coordinate": (lambda p, lr: RMSpropCoordinate(p, lr=lr), 0.01),
    "sign": (lambda p, lr: SignDescent(p, lr=lr), 1e-3),
    "rmsprop-scalar": (lambda p, lr: RMSpropScalar(p, lr=lr), 0.1),   # not elementwise: per-seed optimisers
}


@pytest.mark.parametrize("name", list(OPTS))
def test_batched_equals_the_per_seed_loop_in_float64(data64, name):
    make_opt, lr = OPTS[name]
    kw = dict(seeds=(3, 0, 7), epochs=3, batch_size=16, schedule=lambda t: 1.0 / (1 + 0.1 * t))
    a = batched.train_seeds(_mlp(data64), make_opt, lr, data64, **kw)
    b = batched.train_seeds_reference(_mlp(data64), make_opt, lr, data64, **kw)
    np.testing.assert_allclose(a.history, b.history, rtol=1e-11, atol=1e-13)
    for k in b.metrics:
        np.testing.assert_allclose(a.metrics[k], b.metrics[k], rtol=1e-11, atol=1e-13)
    assert a.steps == b.steps == 3 * int(np.ceil(len(data64.y_train) / 16))
    assert set(a.metrics) == {"train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc"}


def test_vmap_fallback_equals_the_loop(data64):
    d, k = data64.num_features, data64.num_classes
    make = lambda s: _Custom(d, k, s)  # noqa: E731
    make_opt = lambda p, lr: torch.optim.SGD(p, lr=lr)  # noqa: E731
    a = batched.train_seeds(make, make_opt, 0.1, data64, seeds=(0, 1), epochs=2, batch_size=32)
    b = batched.train_seeds_reference(make, make_opt, 0.1, data64, seeds=(0, 1), epochs=2, batch_size=32)
    np.testing.assert_allclose(a.metrics["test_loss"], b.metrics["test_loss"], rtol=1e-11)


def test_reference_equals_sweeps_train_classifier(data64):
    """The oracle itself agrees with the book's first-edition trainer (F.cross_entropy, same batches)."""
    make_opt = lambda p, lr: torch.optim.SGD(p, lr=lr)  # noqa: E731
    ref = batched.train_seeds_reference(_mlp(data64), make_opt, 0.1, data64, seeds=(5,), epochs=2, batch_size=16)
    model = _mlp(data64)(5)
    old = sweeps.train_classifier(model, make_opt(model.parameters(), 0.1), data64, epochs=2, batch_size=16, seed=5)
    assert ref.metrics["test_loss"][0] == pytest.approx(old.test_loss, rel=1e-10)
    assert ref.metrics["train_acc"][0] == pytest.approx(old.train_acc)


def test_methods_on_one_seed_see_the_same_weights_and_the_same_batches(data64):
    seen: dict[str, list[torch.Tensor]] = {}

    def spy(tag):
        def loss_fn(logits, targets):
            seen.setdefault(tag, []).append(targets.clone())
            return batched.cross_entropy_losses(logits, targets)
        return loss_fn

    seeds = (2, 9)
    runs = {}
    for tag, (make_opt, lr) in (("sgd", OPTS["sgd-momentum"]), ("scalar", OPTS["rmsprop-scalar"])):
        runs[tag] = batched.train_seeds(_mlp(data64), make_opt, lr, data64, seeds=seeds, epochs=2, batch_size=16,
                                        loss_fn=spy(tag))
    # same initial weights: the same initial full-data loss per seed
    np.testing.assert_array_equal(runs["sgd"].history[:, 0], runs["scalar"].history[:, 0])
    # same batches: identical target sequences, and they are each seed's own permutation
    assert len(seen["sgd"]) == len(seen["scalar"])
    for x, y in zip(seen["sgd"], seen["scalar"]):
        assert torch.equal(x, y)
    n = len(data64.y_train)
    perm = torch.randperm(n, generator=torch_generator(9))
    first = seen["sgd"][1].reshape(2, -1)[1]          # call 0 is the initial full-data loss
    assert torch.equal(first, data64.y_train[perm[:16]])


def test_a_diverging_seed_is_flagged_and_does_not_touch_the_others(data64):
    """A deep linear net on a squared loss: scaling seed 1's weights by 10 scales its curvature by 100."""
    d, k = data64.num_features, data64.num_classes

    def make(s):
        torch.manual_seed(s)
        m = torch.nn.Sequential(torch.nn.Linear(d, 4), torch.nn.Linear(4, k)).double()
        if s == 1:
            with torch.no_grad():
                for p in m.parameters():
                    p.mul_(10.0)
        return m

    def squared(logits, targets):
        return ((logits - torch.nn.functional.one_hot(targets, k).to(logits)) ** 2).sum(dim=1)

    make_opt = lambda p, lr: torch.optim.SGD(p, lr=lr)  # noqa: E731
    kw = dict(epochs=3, batch_size=16, loss_fn=squared)
    both = batched.train_seeds(make, make_opt, 0.03, data64, seeds=(0, 1), **kw)
    alone = batched.train_seeds(make, make_opt, 0.03, data64, seeds=(0,), **kw)
    assert both.diverged.tolist() == [False, True]
    assert np.isnan(both.metrics["test_loss"][1]) and np.isfinite(both.metrics["test_loss"][0])
    assert both.metrics["test_loss"][0] == pytest.approx(alone.metrics["test_loss"][0], rel=1e-12)
    assert both.as_protocol()["diverged"].tolist() == [False, True]
    ref = batched.train_seeds_reference(make, make_opt, 0.03, data64, seeds=(0, 1), **kw)
    assert ref.diverged.tolist() == [False, True]


def test_is_elementwise():
    p = [torch.zeros(2, requires_grad=True)]
    assert batched.is_elementwise(torch.optim.Adam(p))
    assert batched.is_elementwise(RMSpropCoordinate(p))
    assert not batched.is_elementwise(RMSpropScalar(p))
    assert not batched.is_elementwise(torch.optim.LBFGS(p))
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer"):
        batched.is_elementwise("adam")


def test_bad_input(data64):
    make_opt = lambda p, lr: torch.optim.SGD(p, lr=lr)  # noqa: E731
    kw = dict(seeds=(0,), epochs=1, batch_size=8)
    with pytest.raises(ValueError, match="lr must be > 0"):
        batched.train_seeds(_mlp(data64), make_opt, 0.0, data64, **kw)
    with pytest.raises(ValueError, match="lr must be finite"):
        batched.train_seeds(_mlp(data64), make_opt, float("nan"), data64, **kw)
    with pytest.raises(ValueError, match="seeds must be distinct"):
        batched.train_seeds(_mlp(data64), make_opt, 0.1, data64, seeds=(1, 1), epochs=1, batch_size=8)
    with pytest.raises(TypeError, match="data must be a TensorSplit"):
        batched.train_seeds(_mlp(data64), make_opt, 0.1, "digits", **kw)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="make_model must be callable"):
        batched.train_seeds(None, make_opt, 0.1, data64, **kw)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no buffers"):
        batched.train_seeds(lambda s: torch.nn.BatchNorm1d(13).double(), make_opt, 0.1, data64, **kw)
    with pytest.raises(ValueError, match="schedule\\(step\\) must be >= 0"):
        batched.train_seeds(_mlp(data64), make_opt, 0.1, data64, schedule=lambda t: -1.0, **kw)


def test_classifier_run_is_train_seeds_of_the_book_classifier(data64):
    make_opt = lambda p, lr: torch.optim.SGD(p, lr=lr)  # noqa: E731
    run = batched.classifier_run("mlp", make_opt, data64, epochs=2, batch_size=16, hidden=8)
    out = run(0.1, (4, 2))
    ref = batched.train_seeds_reference(_mlp(data64), make_opt, 0.1, data64, seeds=(4, 2), epochs=2, batch_size=16)
    np.testing.assert_allclose(out["val_loss"], ref.metrics["val_loss"], rtol=1e-11)
    assert out["diverged"].tolist() == [False, False]
    with pytest.raises(ValueError, match="kind must be one of"):
        batched.classifier_run("cnn", make_opt, data64, epochs=1, batch_size=8)


@pytest.mark.parametrize("name", ["sgd-momentum", "rmsprop-scalar"])
def test_l2_penalty_batched_equals_the_loop_and_the_objective(data64, name):
    make_opt, lr = OPTS[name]
    kw = dict(seeds=(1, 5), epochs=2, batch_size=16, l2=0.03)
    a = batched.train_seeds(_mlp(data64), make_opt, lr, data64, **kw)
    b = batched.train_seeds_reference(_mlp(data64), make_opt, lr, data64, **kw)
    np.testing.assert_allclose(a.history, b.history, rtol=1e-11, atol=1e-13)
    for k in b.metrics:
        np.testing.assert_allclose(a.metrics[k], b.metrics[k], rtol=1e-11, atol=1e-13)
    # the objective at the start is the data loss plus (l2/2)|theta|^2 of the initial model
    m = _mlp(data64)(1)
    with torch.no_grad():
        want = float(torch.nn.functional.cross_entropy(m(data64.X_train), data64.y_train)
                     + 0.015 * sum((p * p).sum() for p in m.parameters()))
    assert a.history[0, 0] == pytest.approx(want, rel=1e-12)
    assert np.all(a.metrics["train_objective"] > a.metrics["train_loss"])
    with pytest.raises(ValueError, match="l2"):
        batched.train_seeds(_mlp(data64), make_opt, lr, data64, seeds=(1,), epochs=1, batch_size=8, l2=-1.0)


def test_logreg_optimum_is_stationary_and_below_every_run(data64):
    opt = sweeps.logreg_optimum(data64.X_train, data64.y_train, data64.num_classes, 0.01)
    W = torch.tensor(opt.weight, requires_grad=True)
    b = torch.tensor(opt.bias, requires_grad=True)
    f = torch.nn.functional.cross_entropy(data64.X_train @ W.T + b, data64.y_train) \
        + 0.005 * ((W * W).sum() + (b * b).sum())
    f.backward()
    assert float(f.detach()) == pytest.approx(opt.value, rel=1e-12)
    assert float(torch.cat([W.grad.ravel(), b.grad]).norm()) < 1e-6
    run = batched.classifier_run("logreg", lambda p, lr: torch.optim.SGD(p, lr=lr), data64, epochs=30,
                                 batch_size=len(data64.y_train), init="zeros", l2=0.01)(0.5, (0, 1))
    assert np.all(run["train_objective"] >= opt.value - 1e-12)
    assert np.all(run["train_objective"] - opt.value < 0.05)
    with pytest.raises(ValueError, match="l2"):
        sweeps.logreg_optimum(data64.X_train, data64.y_train, data64.num_classes, 0.0)
    with pytest.raises(ValueError, match="y must"):
        sweeps.logreg_optimum(data64.X_train, data64.y_train[:-1], data64.num_classes, 0.01)


def test_rotation_commutes_with_sgd_and_scalar_rmsprop_not_with_per_coordinate(data64):
    from lrtheory.datasets import random_orthogonal, rotate_features

    Q = random_orthogonal(data64.num_features, 3)
    rot = rotate_features(data64, Q)
    np.testing.assert_allclose(rot.X_train.norm(dim=1).numpy(), data64.X_train.norm(dim=1).numpy(), rtol=1e-12)
    kw = dict(epochs=2, batch_size=16, init="zeros", l2=0.01)
    for make_opt, lr, same in ((lambda p, lr: torch.optim.SGD(p, lr=lr), 0.1, True),
                               (lambda p, lr: RMSpropScalar(p, lr=lr), 0.05, True),
                               (lambda p, lr: RMSpropCoordinate(p, lr=lr), 0.01, False)):
        a = batched.classifier_run("logreg", make_opt, data64, **kw)(lr, (0, 1))
        r = batched.classifier_run("logreg", make_opt, rot, **kw)(lr, (0, 1))
        close = np.allclose(a["train_objective"], r["train_objective"], rtol=1e-10)
        assert close == same
    with pytest.raises(ValueError, match="init='zeros'"):
        sweeps.make_classifier("mlp", 4, 3, seed=0, init="zeros")
