"""Tests of lrtheory.rmsflow against scipy, closed forms, torch.optim and the chapter's update rules."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from lrtheory import adaptive, rmsflow
from lrtheory.flows import distance_to_path, gradient_flow
from lrtheory.problems import quadratic

C, S = np.cos(np.pi / 6), np.sin(np.pi / 6)
ROT = np.array([[C, -S], [S, C]])
P = quadratic(ROT @ np.diag([1.0, 10.0]) @ ROT.T)
X0 = np.array([0.9, 0.7])


def test_clock_iterates_are_rmsprop():
    for coordinate, method in ((True, "rmsprop_coordinate"), (False, "rmsprop_scalar")):
        G0 = np.full(2 if coordinate else 1, 0.37)
        run = rmsflow.rmsprop_clock_iterates(P.grad, X0, 0.01, 0.9, 50, coordinate=coordinate, G0=G0)
        ref = adaptive.run_adaptive(P.grad, X0, method, 0.01, 50, alpha=0.9, eps=1e-8, G0=0.37)
        np.testing.assert_allclose(run.theta, ref.theta, rtol=1e-13)
        np.testing.assert_allclose(run.s, 0.01 * np.arange(51))
    warm = rmsflow.rmsprop_clock_iterates(P.grad, X0, 0.01, 0.9, 1)
    np.testing.assert_allclose(warm.G[0], P.grad(X0) ** 2)


@pytest.mark.parametrize("coordinate", [True, False])
def test_iterates_converge_to_the_coupled_flow_at_first_order(coordinate):
    tau, s_end = 0.5, 1.0
    errs = []
    for n in (100, 200, 400):
        lr = s_end / n
        run = rmsflow.rmsprop_clock_iterates(P.grad, X0, lr, 1 - lr / tau, n, coordinate=coordinate)
        theta, _ = rmsflow.coupled_flow(P.grad, X0, tau, run.s, coordinate=coordinate)
        errs.append(np.abs(run.theta - theta).max())
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    np.testing.assert_allclose(orders, 1.0, atol=0.02)


def test_scalar_coupled_flow_stays_on_the_gradient_flow_path():
    theta, _ = rmsflow.coupled_flow(P.grad, X0, 0.3, np.linspace(0, 1.5, 200), coordinate=False)
    path = gradient_flow(P.grad, X0, 20.0, t_eval=np.concatenate([[0.0], np.geomspace(1e-4, 20.0, 3000)])).theta
    assert distance_to_path(theta, path).max() < 1e-5
    theta_b, _ = rmsflow.coupled_flow(P.grad, X0, 0.3, np.linspace(0, 1.5, 200), coordinate=True)
    assert distance_to_path(theta_b, path).max() > 0.05


def test_quasi_static_flow_is_the_sign_flow_on_a_line():
    line = quadratic(np.array([[3.0]]))
    s = np.linspace(0.0, 0.5, 11)
    out = rmsflow.quasi_static_flow(line.grad, [0.8], s, eps=1e-12)
    np.testing.assert_allclose(out[:, 0], 0.8 - s, atol=1e-7)
    # fixed alpha: the iterates approach it as lr -> 0
    errs = []
    for n in (100, 200, 400):
        run = rmsflow.rmsprop_clock_iterates(P.grad, X0, 0.2 / n, 0.9, n, coordinate=False)
        errs.append(np.abs(run.theta - rmsflow.quasi_static_flow(P.grad, X0, run.s, coordinate=False)).max())
    assert errs[0] > errs[1] > errs[2] and errs[1] / errs[2] > 1.8


def test_adagrad_against_torch_and_the_rmsprop_identity():
    torch = pytest.importorskip("torch")
    th = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adagrad([th], lr=0.1, eps=0.0, initial_accumulator_value=0.25)
    A = torch.tensor(P.hess(X0)[0] if P.hess(X0).ndim == 3 else P.hess(X0), dtype=torch.float64)
    ref = [th.detach().numpy().copy()]
    for _ in range(30):
        opt.zero_grad()
        (0.5 * th @ A @ th).backward()
        opt.step()
        ref.append(th.detach().numpy().copy())
    mine, _ = rmsflow.adagrad_iterates(P.grad, X0, 0.1, 30, coordinate=True, b0=0.5)
    np.testing.assert_allclose(mine, np.array(ref), rtol=1e-12)
    # AdaGrad-norm = RMSprop (a) with alpha_n = 1 - 1/(n+1) and lr_n = eta / sqrt(n+1)
    theta, steps = rmsflow.adagrad_iterates(P.grad, X0, 0.05, 40)
    G, th_ = 0.0, X0.copy()
    for n in range(40):
        g = P.grad(th_)
        a_n = 1.0 - 1.0 / (n + 1)
        th_, G, step = adaptive.rmsprop_scalar_update(th_, g, G, 0.05 / np.sqrt(n + 1), a_n, eps=0.0)
        assert step == pytest.approx(steps[n, 0], rel=1e-12)
    np.testing.assert_allclose(th_, theta[-1], rtol=1e-12)


def test_adam_against_torch():
    torch = pytest.importorskip("torch")
    th = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([th], lr=0.02, betas=(0.8, 0.95), eps=1e-6)
    A = torch.tensor(P.hess(X0), dtype=torch.float64)
    ref = [th.detach().numpy().copy()]
    for _ in range(40):
        opt.zero_grad()
        (0.5 * th @ A @ th).backward()
        opt.step()
        ref.append(th.detach().numpy().copy())
    mine, _ = rmsflow.adam_iterates(P.grad, X0, 0.02, 40, beta1=0.8, beta2=0.95, eps=1e-6)
    np.testing.assert_allclose(mine, np.array(ref), rtol=1e-11)


def test_momentum_edge_is_where_a_root_reaches_minus_one():
    b, x, z = sp.symbols("beta x z", real=True)
    poly = z**2 - (1 + b - (1 - b) * x) * z + b
    sol = sp.solve(poly.subs(z, -1), x)
    assert len(sol) == 1 and sp.simplify(sol[0] - 2 * (1 + b) / (1 - b)) == 0
    for beta in (0.0, 0.5, 0.9):
        edge = rmsflow.momentum_edge(beta)
        for hl, inside in ((0.99 * edge, True), (1.01 * edge, False)):
            roots = np.roots([1.0, -(1 + beta - (1 - beta) * hl), beta])
            assert (np.abs(roots).max() < 1.0) == inside
    assert rmsflow.momentum_edge(0.9) == pytest.approx(38.0)


def test_distance_to_path():
    path = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    d = distance_to_path(np.array([[0.5, 0.2], [2.0, 0.5], [-1.0, 0.0]]), path)
    np.testing.assert_allclose(d, [0.2, 1.0, 1.0])


@pytest.mark.parametrize(
    "call,exc,name",
    [
        (lambda: rmsflow.rmsprop_clock_iterates(P.grad, X0, 0.0, 0.9, 3), ValueError, "lr"),
        (lambda: rmsflow.rmsprop_clock_iterates(P.grad, X0, 0.1, 1.0, 3), ValueError, "alpha"),
        (lambda: rmsflow.rmsprop_clock_iterates(P.grad, X0, 0.1, 0.9, 3, G0=[1.0]), ValueError, "G0"),
        (lambda: rmsflow.rmsprop_clock_iterates(P.grad, X0, 0.1, 0.9, 3, coordinate=1), TypeError, "coordinate"),
        (lambda: rmsflow.coupled_flow(P.grad, X0, 0.0, [0.0, 1.0]), ValueError, "tau"),
        (lambda: rmsflow.coupled_flow(P.grad, X0, 1.0, [1.0, 0.5]), ValueError, "s_eval"),
        (lambda: rmsflow.quasi_static_flow(P.grad, X0, [0.0, 1.0], eps=0.0), ValueError, "eps"),
        (lambda: rmsflow.adagrad_iterates("g", X0, 0.1, 3), TypeError, "grad"),
        (lambda: rmsflow.adam_iterates(P.grad, X0, 0.1, 3, beta1=1.0), ValueError, "beta1"),
        (lambda: rmsflow.adam_iterates(P.grad, X0, 0.1, 3, bias_correction=1), TypeError, "bias_correction"),
        (lambda: rmsflow.momentum_edge(-0.1), ValueError, "beta1"),
        (lambda: distance_to_path(np.zeros((2, 2)), np.zeros((1, 2))), ValueError, "path"),
    ],
)
def test_argument_checks(call, exc, name):
    with pytest.raises(exc, match=name):
        call()
