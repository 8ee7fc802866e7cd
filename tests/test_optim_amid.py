"""EGGainScale (Amid et al. 2022) against a numpy transcription of its equations and against autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lrtheory.optim.amid import EGGainScale, direction_cosine, gain_update, scale_update

DT = torch.float64


def numpy_reference(theta0, grad_fn, steps, *, split, lr, momentum, gain_lr, scale_lr, grad_avg, gain_min,
                    gain_max, scale_min, scale_max, sign_gains=True, normalized_scale=True):
    """The EG-DD rule written out in numpy on a flat vector cut into tensors at ``split``, step by step.

    Transcribed from the equations of the module docstring (one scale and one cosine per tensor,
    the learning rate inside the momentum buffer, eps = 1e-10 on both norms).
    """
    theta = np.array(theta0, dtype=float)
    parts = np.split(np.arange(theta.size), split)
    p = np.ones_like(theta)
    s = np.ones(len(parts))
    m = np.zeros_like(theta)
    gbar = np.zeros_like(theta)
    scales, gains = [], []
    for t in range(1, steps + 1):
        g = grad_fn(theta)
        for k, idx in enumerate(parts):
            if normalized_scale:
                sig = (g[idx] / (np.linalg.norm(g[idx]) + 1e-10)) @ (m[idx] / (np.linalg.norm(m[idx]) + 1e-10))
            else:
                sig = g[idx] @ m[idx]
            s[k] = min(max(s[k] * np.exp(scale_lr * sig), scale_min), scale_max)
        if sign_gains:
            p = np.clip(p * np.exp(gain_lr * np.sign(g) * np.sign(gbar)), gain_min, gain_max)
        else:
            p = np.clip(p * np.exp(gain_lr * g * gbar / (1 - grad_avg ** max(t - 1, 1))), gain_min, gain_max)
        m = momentum * m + lr * p * g
        s_full = np.concatenate([np.full(idx.size, s[k]) for k, idx in enumerate(parts)])
        theta = theta - s_full * m
        gbar = grad_avg * gbar + (1 - grad_avg) * g
        scales.append(s.copy())
        gains.append(p.copy())
    return theta, np.array(scales), np.array(gains)


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(12, 7))
    b = rng.normal(size=12)

    def grad_np(x):
        r = A @ x - b
        return A.T @ (r / (1 + r**2)) / len(b)  # gradient of mean(0.5 log(1 + r^2))

    return A, b, grad_np


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("sign_gains,normalized_scale", [(True, True), (False, False)])
def test_matches_numpy_transcription(foreach, sign_gains, normalized_scale):
    A, b, grad_np = _problem()
    kw = dict(lr=0.3, momentum=0.8, gain_lr=0.1 if sign_gains else 5.0, scale_lr=0.2 if normalized_scale else 20.0,
              grad_avg=0.7, gain_min=0.5, gain_max=3.0, scale_min=0.2, scale_max=4.0)
    theta0 = np.linspace(-1, 1, 7)
    ref, ref_scales, ref_gains = numpy_reference(theta0, grad_np, 60, split=[3], sign_gains=sign_gains,
                                                 normalized_scale=normalized_scale, **kw)
    # torch: the vector as two tensors of one group, each with its own scale
    x = torch.tensor(theta0, dtype=DT)
    params = [torch.nn.Parameter(x[:3].clone()), torch.nn.Parameter(x[3:].reshape(2, 2).clone())]
    opt = EGGainScale(params, foreach=foreach, sign_gains=sign_gains, normalized_scale=normalized_scale, **kw)
    scales = []
    for _ in range(60):
        flat = torch.cat([params[0].detach(), params[1].detach().reshape(-1)]).numpy()
        g = grad_np(flat)
        params[0].grad = torch.tensor(g[:3], dtype=DT)
        params[1].grad = torch.tensor(g[3:].reshape(2, 2), dtype=DT)
        opt.step()
        scales.append([float(opt.state[q]["scale"]) for q in params])
    out = torch.cat([params[0].detach(), params[1].detach().reshape(-1)]).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(scales, ref_scales, rtol=1e-12)
    gains = torch.cat([opt.state[params[0]]["gain"], opt.state[params[1]]["gain"].reshape(-1)]).numpy()
    np.testing.assert_allclose(gains, ref_gains[-1], rtol=1e-12)
    # the rule did something: gains moved, and the two tensors' scales differ
    assert np.ptp(ref_gains[-1]) > 0 and np.ptp(ref_scales) > 0.1
    assert np.abs(ref_scales[:, 0] - ref_scales[:, 1]).max() > 1e-3
    lrs = opt.effective_lrs()[0].numpy()
    s_full = np.concatenate([np.full(3, ref_scales[-1, 0]), np.full(4, ref_scales[-1, 1])])
    np.testing.assert_allclose(lrs, kw["lr"] * s_full * ref_gains[-1], rtol=1e-12)


def test_defaults_are_the_reference_implementation_s():
    """Lingvo's EGDD: gain_lr 0.01, scale_lr 0.001, beta 0.9, gains in [0.01, 100], scales in [0.1, 10]."""
    opt = EGGainScale([torch.nn.Parameter(torch.zeros(2))])
    g = opt.param_groups[0]
    assert (g["gain_lr"], g["scale_lr"], g["grad_avg"]) == (0.01, 0.001, 0.9)
    assert (g["gain_min"], g["gain_max"], g["scale_min"], g["scale_max"]) == (0.01, 100.0, 0.1, 10.0)
    assert g["sign_gains"] is True and g["normalized_scale"] is True


def test_scale_signal_is_the_hypergradient_in_log_scale():
    """d L(theta_t) / d log s = -eta s <u_{t-1}, g_t>: the cosine has the opposite sign (autograd)."""
    A, b, _ = _problem(1)
    At, bt = torch.tensor(A), torch.tensor(b)

    def loss(x):
        return 0.5 * torch.log1p((At @ x - bt) ** 2).mean()

    x = torch.nn.Parameter(torch.zeros(7, dtype=DT))
    opt = EGGainScale([x], lr=0.5, momentum=0.5, gain_lr=0.0, scale_lr=0.0)
    for _ in range(3):
        opt.zero_grad()
        loss(x).backward()
        opt.step()
    st = opt.state[x]
    u = st["momentum_buffer"].clone()
    log_s = torch.zeros((), dtype=DT, requires_grad=True)
    before = x.detach() + u  # undo the last step (scale 1; the buffer already holds eta)
    (h,) = torch.autograd.grad(loss(before - torch.exp(log_s) * u), log_s)
    opt.zero_grad()
    loss(x).backward()
    g = x.grad
    torch.testing.assert_close(h, -(u @ g))
    cos = float(u @ g / (u.norm() * g.norm()))
    assert np.sign(cos) == -np.sign(float(h)) != 0


def test_pure_updates_clamp_and_respect_signs():
    gain = torch.ones(4, dtype=DT)
    g = torch.tensor([1.0, -2.0, 0.0, 3.0], dtype=DT)
    avg = torch.tensor([2.0, 1.0, 5.0, -1.0], dtype=DT)
    out = gain_update(gain, g, avg, 0.5, 0.1, 10.0)
    np.testing.assert_allclose(out.numpy(), np.exp([0.5, -0.5, 0.0, -0.5]))
    out = gain_update(gain, g, avg, 50.0, 0.1, 10.0)
    np.testing.assert_allclose(out.numpy(), [10.0, 0.1, 1.0, 0.1])
    s = scale_update(torch.tensor(1.0, dtype=DT), torch.tensor(0.5, dtype=DT), 2.0, 1e-3, 1e3)
    assert float(s) == pytest.approx(np.e)
    s = scale_update(torch.tensor(1.0, dtype=DT), torch.tensor(-1.0, dtype=DT), 100.0, 1e-3, 1e3)
    assert float(s) == pytest.approx(1e-3)


def test_first_step_is_plain_heavy_ball():
    x = torch.nn.Parameter(torch.tensor([1.0, -2.0], dtype=DT))
    x.grad = torch.tensor([0.5, 0.25], dtype=DT)
    opt = EGGainScale([x], lr=0.1, gain_lr=1.0, scale_lr=1.0)
    opt.step()
    torch.testing.assert_close(x.detach(), torch.tensor([0.95, -2.025], dtype=DT))
    assert float(opt.state[x]["scale"]) == 1.0 and torch.equal(opt.state[x]["gain"], torch.ones(2, dtype=DT))


def test_bad_bounds_are_refused():
    x = [torch.nn.Parameter(torch.zeros(2))]
    with pytest.raises(ValueError, match="gain_min"):
        EGGainScale(x, gain_min=1.5)
    with pytest.raises(ValueError, match="scale_max"):
        EGGainScale(x, scale_max=0.5)
    with pytest.raises(TypeError, match="gain_lr"):
        EGGainScale(x, gain_lr="fast")
    with pytest.raises(TypeError, match="sign_gains"):
        EGGainScale(x, sign_gains=1)
    with pytest.raises(TypeError, match="normalized_scale"):
        EGGainScale(x, normalized_scale="yes")


def test_direction_cosine_is_the_eps_normalised_inner_product():
    rng = np.random.default_rng(3)
    g, m = rng.normal(size=(2, 5, 3))
    want = (g / (np.linalg.norm(g) + 1e-10)).ravel() @ (m / (np.linalg.norm(m) + 1e-10)).ravel()
    got = direction_cosine(torch.tensor(g), torch.tensor(m))
    assert float(got) == pytest.approx(want, rel=1e-12) and -1 <= float(got) <= 1
    assert float(direction_cosine(torch.tensor(g), torch.zeros(5, 3, dtype=DT))) == 0.0
    assert float(direction_cosine(torch.tensor(g), torch.tensor(2 * g))) == pytest.approx(1.0)


def test_direction_cosine_refuses_bad_input():
    with pytest.raises(TypeError, match="grad"):
        direction_cosine(None, torch.zeros(2))
    with pytest.raises(TypeError, match="buf"):
        direction_cosine(torch.zeros(2), [0.0, 0.0])
    with pytest.raises(ValueError, match="shape"):
        direction_cosine(torch.zeros(2), torch.zeros(3))
