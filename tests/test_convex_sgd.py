"""Tests of lrtheory.convex_sgd against its per-run numpy oracle, lrtheory.batched.train_seeds,
scikit-learn's median regression and stationarity."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lrtheory import batched
from lrtheory import convex_sgd as C
from lrtheory.datasets import load_dataset


@pytest.fixture(scope="module")
def problems():
    return {"logistic": C.make_problem("breast_cancer", "logistic", l2=1e-2),
            "absolute": C.make_problem("breast_cancer", "absolute", unit_rows=True, box=0.5)}


@pytest.mark.parametrize("kind", ["logistic", "absolute"])
@pytest.mark.parametrize("sampling", ["epochs", "replacement"])
def test_batched_runs_equal_the_per_run_loop(problems, kind, sampling):
    p = problems[kind]
    N = 60
    rates = np.stack([0.3 * np.linspace(1, 0.1, N), np.full(N, 0.05), 0.1 * np.ones(N)])
    seeds = [3, 4, 3]
    res = C.run_sgd(p, rates, seeds, batch_size=7, sampling=sampling)
    ref = C.run_sgd_reference(p, rates, seeds, batch_size=7, sampling=sampling)
    np.testing.assert_allclose(res.theta, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.objective, p.objective(ref), rtol=1e-10)
    if p.box is not None:
        assert np.all(np.abs(res.theta) <= p.box + 1e-15)


def test_epochs_match_train_seeds_without_penalty():
    p = C.make_problem("breast_cancer", "logistic")
    data = load_dataset("breast_cancer", val_size=0.2, test_size=0.2, seed=0, dtype=torch.float64)
    per_epoch = int(np.ceil(p.X.shape[0] / 16))
    N = 2 * per_epoch
    rates = 0.4 * np.linspace(1, 0.1, N)

    def make_model(seed):
        m = torch.nn.Linear(p.dim - 1, 1, dtype=torch.float64)
        torch.nn.init.zeros_(m.weight)
        torch.nn.init.zeros_(m.bias)
        return m

    def loss_fn(z, t):
        return torch.nn.functional.binary_cross_entropy_with_logits(z[:, 0], t.double(), reduction="none")

    sr = batched.train_seeds(make_model, lambda ps, lr: torch.optim.SGD(ps, lr=lr), 1.0, data, seeds=[3, 4],
                             epochs=2, batch_size=16, loss_fn=loss_fn, schedule=lambda k: rates[k])
    res = C.run_sgd(p, rates, [3, 4], batch_size=16)
    np.testing.assert_allclose(res.objective, sr.metrics["train_loss"], rtol=1e-10)


def test_records(problems):
    p = problems["absolute"]
    theta_star, _ = C.solve_problem(p)
    res = C.run_sgd(p, np.full(20, 0.05), [1, 2], batch_size=1, sampling="replacement", record_every=1,
                    theta_star=theta_star)
    assert res.path.shape == (2, 21) and list(res.path_steps) == list(range(1, 22))
    np.testing.assert_allclose(res.path[:, 0], p.objective(np.zeros(p.dim))[0])
    np.testing.assert_allclose(res.path[:, -1], res.objective)
    assert res.regret.shape == (2, 20) and res.grad_norms.shape == (2, 20)
    assert np.all(res.grad_norms <= 1 + 1e-12)                 # unit rows: G = 1
    coarse = C.run_sgd(p, np.full(20, 0.05), [1, 2], batch_size=1, sampling="replacement", record_every=6)
    assert list(coarse.path_steps) == [1, 7, 13, 19, 21]
    np.testing.assert_allclose(coarse.path[:, [0, 1, 2, 3]], res.path[:, [0, 6, 12, 18]])


def test_divergence_is_flagged(problems):
    res = C.run_sgd(problems["logistic"], np.array([[0.1] * 30, [1e4] * 30]), [0, 0], batch_size=4)
    assert list(res.diverged) == [False, True]


def test_absolute_minimum_is_median_regression(problems):
    from sklearn.linear_model import QuantileRegressor

    p = C.make_problem("breast_cancer", "absolute", unit_rows=True)          # no box
    theta, L = C.solve_problem(p)
    # |1 - y x.theta| = |y - x.theta| for y = +-1: least absolute deviations of the labels
    qr = QuantileRegressor(quantile=0.5, alpha=0.0, fit_intercept=False, solver="highs").fit(p.X, p.y)
    assert L == pytest.approx(float(np.mean(np.abs(p.y - p.X @ qr.coef_))), rel=1e-7)
    boxed = problems["absolute"]
    th_b, L_b = C.solve_problem(boxed)
    assert L_b >= L - 1e-12 and np.all(np.abs(th_b) <= 0.5 + 1e-9)
    probe = np.clip(th_b + 0.05 * np.random.default_rng(0).normal(size=(300, p.dim)), -0.5, 0.5)
    assert np.all(boxed.objective(probe) >= L_b - 1e-12)


def test_logistic_minimum_is_stationary(problems):
    p = problems["logistic"]
    theta, L = C.solve_problem(p)
    assert np.linalg.norm(p.gradient(theta)) < 1e-8
    eps = 1e-6
    e0 = np.eye(p.dim)[0]
    num = (p.objective(theta + eps * e0)[0] - p.objective(theta - eps * e0)[0]) / (2 * eps)
    assert abs(num) < 1e-6 and L == pytest.approx(p.objective(theta)[0])


def test_gradient_is_the_objective_derivative(problems, rng):
    p = problems["logistic"]
    th = 0.3 * rng.normal(size=p.dim)
    eps = 1e-6
    num = np.array([(p.objective(th + eps * e)[0] - p.objective(th - eps * e)[0]) / (2 * eps)
                    for e in np.eye(p.dim)])
    np.testing.assert_allclose(p.gradient(th), num, atol=1e-7)


def test_bad_input(problems):
    p = problems["logistic"]
    with pytest.raises(ValueError, match="rates"):
        C.run_sgd(p, np.ones((3, 5)), [1, 2], batch_size=2)
    with pytest.raises(ValueError, match="rates"):
        C.run_sgd(p, [-1.0, 1.0], [1], batch_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        C.run_sgd(p, [1.0], [1], batch_size=0)
    with pytest.raises(ValueError, match="sampling"):
        C.run_sgd(p, [1.0], [1], batch_size=2, sampling="shuffle")
    with pytest.raises(ValueError, match="seeds"):
        C.run_sgd(p, [1.0], [], batch_size=2)
    with pytest.raises(TypeError, match="problem"):
        C.run_sgd("p", [1.0], [1], batch_size=2)
    with pytest.raises(ValueError, match="l2"):
        C.make_problem("breast_cancer", "absolute", l2=0.1)
    with pytest.raises(ValueError, match="loss"):
        C.make_problem("breast_cancer", "hinge")
    with pytest.raises(ValueError, match="box"):
        C.make_problem("breast_cancer", "absolute", box=-1.0)
    with pytest.raises(ValueError, match="theta"):
        p.objective(np.zeros(3))
    with pytest.raises(TypeError, match="problem"):
        C.solve_problem(None)
