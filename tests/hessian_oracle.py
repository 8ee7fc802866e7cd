"""A dense Hessian through autograd: the oracle of the lane and trajectory tests' sharpness checks."""

from __future__ import annotations

import torch
from torch.func import functional_call


def dense_hessian(model, X, y, penalty=0.0, loss="cross_entropy"):
    """Full Hessian of the mean loss (plus ¼·penalty·‖∇L‖²) in the model's flattened parameters."""
    names = [k for k, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    sizes = [p.numel() for p in model.parameters()]
    flat0 = torch.cat([p.detach().reshape(-1) for p in model.parameters()])

    def loss_of(flat):
        parts = torch.split(flat, sizes)
        params = {k: t.reshape(s) for k, t, s in zip(names, parts, shapes)}
        z = functional_call(model, params, (X,))
        if loss == "cross_entropy":
            val = torch.nn.functional.cross_entropy(z, y)
        else:
            val = 0.5 * ((z - torch.nn.functional.one_hot(y, z.shape[1]).double()) ** 2).sum(1).mean()
        if penalty:
            (g,) = torch.autograd.grad(val, flat, create_graph=True)
            val = val + 0.25 * penalty * (g @ g)
        return val

    return torch.autograd.functional.hessian(loss_of, flat0.clone().requires_grad_(True), vectorize=True)
