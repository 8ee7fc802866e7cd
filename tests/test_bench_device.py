"""Device-parametrized checks of the optimizers' fast paths: run on the CPU always, on CUDA when present.

No other test exercises the book's optimizers on a GPU; ``scripts/device_check.sh`` runs this file
there. On a machine without CUDA the ``cuda`` cases skip and say so. The oracle of every case is the
plain per-tensor loop (``foreach=False``) on the CPU in float64, the reference twin of the contract
suite.
"""

from __future__ import annotations

import pytest
import torch

from lrtheory.optim import REGISTRY
from lrtheory.optim._base import foreach_sub_scaled_

DEVICES = ["cpu", "cuda"]


def _device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine: the CUDA branch is checked by scripts/device_check.sh on a GPU")
    return torch.device(name)


def _problem(device, dtype, seed=0, shapes=((7, 5), (5,), (3, 4, 2))):
    gen = torch.Generator().manual_seed(seed)
    params = [(torch.rand(s, generator=gen, dtype=torch.float64) + 0.5) for s in shapes]
    grads = [[torch.randn(s, generator=gen, dtype=torch.float64) * 0.1 for s in shapes] for _ in range(4)]
    to = dict(device=device, dtype=dtype)
    return [p.to(**to).requires_grad_(True) for p in params], [[g.to(**to) for g in gs] for gs in grads]


def _run(name, device, dtype, foreach):
    params, grads = _problem(device, dtype)
    opt = REGISTRY[name](params, lr=1e-2, foreach=foreach)
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = g.clone()
        opt.step()
    return [p.detach().to("cpu", torch.float64) for p in params]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_fast_path_on_the_device_equals_the_cpu_float64_loop(name, device):
    dev = _device(device)
    oracle = _run(name, torch.device("cpu"), torch.float64, foreach=False)
    for foreach in (False, True):
        got = _run(name, dev, torch.float32, foreach=foreach)
        for a, b in zip(got, oracle):
            torch.testing.assert_close(a, b, rtol=2e-5, atol=2e-6)
        assert not all(torch.equal(a, b) for a, b in zip(got, _problem("cpu", torch.float64)[0]))  # it moved


@pytest.mark.parametrize("device", DEVICES)
def test_foreach_sub_scaled_both_branches(device):
    dev = _device(device)
    params, (grads, *_) = _problem(dev, torch.float32)
    before = [p.detach().clone() for p in params]
    scale = torch.tensor(0.3, device=dev)
    with torch.no_grad():
        foreach_sub_scaled_([p.data for p in params], grads, scale)
    for p, p0, g in zip(params, before, grads):
        torch.testing.assert_close(p.detach(), p0 - 0.3 * g, rtol=1e-6, atol=1e-7)
