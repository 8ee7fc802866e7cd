"""Gradient descent and sharpness in every lane at once (chapter 3).

* :func:`gd_lanes` runs full-batch gradient descent in every lane of a stack
  (:mod:`lrtheory.lanes`), optionally on the penalised loss
  L + (c/4)‖∇L‖² with a coefficient c per lane, or mini-batch SGD with a
  given batch order per lane; :func:`gd_lanes_reference` is its per-lane
  oracle, built on :func:`lrtheory.curvature.train_full_batch`;
* :func:`lane_sharpness` estimates each lane's largest Hessian eigenvalue (of
  L, or of the penalised loss) by batched power iteration
  (:func:`lrtheory.trajectory.track_sharpness` follows it along a run).

The gradient of the sum of the lanes' (penalised) losses is, slice by slice,
each lane's own gradient, and the Hessian of the sum is block-diagonal, so
one backward pass or one Hessian-vector product serves every lane.  Derived
and used in chapter 3; torch is imported inside the functions only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validation import check_int, check_scalar
from .lanes import (Params, _check_data, _check_loss, _check_params, _example_losses, _losses, _per_lane,
                    _per_lane_steps)

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["LaneRun", "gd_lanes", "gd_lanes_reference", "LaneSharpness", "lane_sharpness"]


@dataclass(frozen=True)
class LaneRun:
    """Outcome of :func:`gd_lanes`.

    Attributes
    ----------
    params : dict of str to torch.Tensor
        The parameters after each lane's last step (detached); a diverged lane
        keeps the parameters at which its loss became non-finite.
    losses : numpy.ndarray, shape (lanes, max_steps + 1)
        Full-batch training loss (without penalty) before each step and after a
        lane's last one; ``nan`` after a lane's end.
    steps : numpy.ndarray of int, shape (lanes,)
        Steps taken per lane (fewer than asked where a lane diverged).
    diverged : numpy.ndarray of bool, shape (lanes,)
        Lanes whose loss became non-finite (they stop there).

    Notes
    -----
    Derived in chapter 3.
    """

    params: Params = field(repr=False)
    losses: np.ndarray = field(repr=False)
    steps: np.ndarray
    diverged: np.ndarray


def gd_lanes(model: Any, params: Params, X: "torch.Tensor", y: "torch.Tensor", *, lr: Any, num_steps: Any,
             penalty: Any = 0.0, batches: "torch.Tensor | None" = None, loss: str = "cross_entropy",
             desc: str | None = None) -> LaneRun:
    """Gradient descent in every lane at once: θ ← θ − γ ∇(L + (c/4)‖∇L‖²), per lane γ, c and step count.

    Parameters
    ----------
    model : torch.nn.Module
        The architecture (its own parameters are not used or changed).
    params : dict of str to torch.Tensor
        Stacked initial parameters (:func:`stack_models`), not modified.
    X, y : torch.Tensor
        Training data, shapes ``(n, d)`` and ``(n,)``, on the parameters' device and dtype.
    lr : float or array_like, shape (lanes,)
        Learning rate γ > 0 of each lane.
    num_steps : int or array_like of int, shape (lanes,)
        Steps of each lane; a lane stops (is frozen) after its own count.
    penalty : float or array_like, shape (lanes,), optional
        Coefficient c ≥ 0 of the explicit penalty (c/4)‖∇L‖² (default 0: plain GD).
        With a penalty, L is the loss of the step's batch.
    batches : torch.Tensor of int64, shape (lanes, max_steps, B), optional
        Mini-batch SGD: step ``t`` of lane ``i`` uses the examples
        ``batches[i, t]``. Default: full-batch gradient descent.
    loss : {"cross_entropy", "mse"}, optional
        The training loss L (see :data:`LOSSES`).
    desc : str, optional
        Label of the progress bar.

    Returns
    -------
    LaneRun

    Raises
    ------
    TypeError, ValueError
        For bad arguments, naming the argument.

    Notes
    -----
    Plain full-batch steps are ``torch.optim.SGD`` steps without momentum; with
    a penalty each step back-propagates through the gradient's graph (double
    back-propagation), as :func:`lrtheory.curvature.train_full_batch` does for
    one model. A lane whose loss becomes non-finite is frozen and marked
    diverged; the other lanes are unaffected (the lanes never mix). Derived in
    chapter 3, where it runs the trajectory test and the catapult.
    """
    import torch

    from .experiments import progress

    plan, S = _check_params(model, params)
    _check_data(X, y, params)
    lr = _per_lane("lr", lr, S, low=0.0, low_inclusive=False)
    steps = _per_lane_steps(num_steps, S)
    pen = _per_lane("penalty", penalty, S, low=0.0, low_inclusive=True)
    kind = _check_loss(loss)
    T = int(steps.max())
    if batches is not None:
        if not isinstance(batches, torch.Tensor) or batches.dtype != torch.int64 or batches.dim() != 3:
            raise TypeError("batches must be an int64 torch.Tensor of shape (lanes, max_steps, batch_size)")
        if batches.shape[0] != S or batches.shape[1] < T or batches.shape[2] < 1:
            raise ValueError(f"batches must have shape ({S}, >= {T}, >= 1), got {tuple(batches.shape)}")
        if int(batches.min()) < 0 or int(batches.max()) >= X.shape[0]:
            raise ValueError("batches must hold indices into X")
        batches = batches.to(X.device)
    if desc is not None and not isinstance(desc, str):
        raise TypeError(f"desc must be a str, got {type(desc).__name__}")
    first = next(iter(params.values()))
    names = list(params)
    theta = {k: params[k].detach().clone().requires_grad_(True) for k in names}
    leaves = [theta[k] for k in names]
    saved = {k: torch.zeros_like(theta[k]) for k in names}
    lr_t = torch.as_tensor(lr, dtype=first.dtype, device=first.device)
    pen_t = torch.as_tensor(pen, dtype=first.dtype, device=first.device)
    use_pen = bool(np.any(pen > 0))
    losses = np.full((S, T + 1), np.nan)
    alive = np.ones(S, dtype=bool)
    taken = np.zeros(S, dtype=np.int64)
    for t in progress(range(T + 1), desc=desc):
        record = alive & (steps >= t)
        if batches is None:
            value = _losses(plan, theta, X, y, kind)
            full = value.detach().double().cpu().numpy()
        else:
            with torch.no_grad():
                full = _losses(plan, theta, X, y, kind).double().cpu().numpy()
        losses[record, t] = full[record]
        newly = alive & ~np.isfinite(full)
        if newly.any():
            # keep the diverged lanes' parameters as they were, and compute on zeros from now on
            # (non-finite and huge values make every later product slow)
            sel = torch.as_tensor(newly, device=first.device)
            with torch.no_grad():
                for k in names:
                    shape = (S,) + (1,) * (theta[k].dim() - 1)
                    saved[k] = torch.where(sel.view(shape), theta[k], saved[k])
                    theta[k].masked_fill_(sel.view(shape).expand_as(theta[k]), 0.0)
            if batches is None:
                value = _losses(plan, theta, X, y, kind)   # the graph must see the zeroed lanes
        alive &= ~newly
        move = alive & (steps > t)
        if t == T or not move.any():
            break
        if batches is not None:
            idx = batches[:, t]
            value = _losses(plan, theta, X[idx], y[idx], kind)
        total = value.sum()
        if use_pen:
            g = torch.autograd.grad(total, leaves, create_graph=True)
            gsq = sum((gi.reshape(S, -1) ** 2).sum(dim=1) for gi in g)
            total = total + (0.25 * pen_t * gsq).sum()
        grads = torch.autograd.grad(total, leaves)
        mask = torch.as_tensor(move, device=first.device)
        with torch.no_grad():
            for p, gi in zip(leaves, grads):
                shape = (S,) + (1,) * (p.dim() - 1)
                step = lr_t.view(shape) * gi
                p.sub_(torch.where(mask.view(shape), step, torch.zeros_like(step)))
        taken += move
    dead = torch.as_tensor(~alive, device=first.device)
    out = {k: torch.where(dead.view((S,) + (1,) * (theta[k].dim() - 1)), saved[k], theta[k]).detach()
           for k in names}
    return LaneRun(out, losses, taken, ~alive)


def gd_lanes_reference(model: Any, params: Params, X: "torch.Tensor", y: "torch.Tensor", *, lr: Any,
                       num_steps: Any, penalty: Any = 0.0, loss: str = "cross_entropy") -> LaneRun:
    """The per-lane loop that :func:`gd_lanes` must equal (full batch only): the tests' oracle.

    Parameters
    ----------
    model, params, X, y, lr, num_steps, penalty, loss
        As in :func:`gd_lanes`.

    Returns
    -------
    LaneRun

    Notes
    -----
    Each lane is loaded into a copy of ``model`` and trained by
    :func:`lrtheory.curvature.train_full_batch` (one model, one
    ``torch.autograd.grad`` per step). Slow; for tests. Chapter 3.
    """
    import copy

    import torch

    from .curvature import train_full_batch

    _, S = _check_params(model, params)
    _check_data(X, y, params)
    kind = _check_loss(loss)
    lr = _per_lane("lr", lr, S, low=0.0, low_inclusive=False)
    steps = _per_lane_steps(num_steps, S)
    pen = _per_lane("penalty", penalty, S, low=0.0, low_inclusive=True)
    T = int(steps.max())
    names = [k for k, _ in model.named_parameters()]
    finals: dict[str, list[torch.Tensor]] = {k: [] for k in names}
    losses = np.full((S, T + 1), np.nan)
    taken = np.zeros(S, dtype=np.int64)
    div = np.zeros(S, dtype=bool)
    for i in range(S):
        m = copy.deepcopy(model)
        with torch.no_grad():
            for k, p in m.named_parameters():
                p.copy_(params[k][i])
        ps = list(m.parameters())

        def loss_fn() -> torch.Tensor:
            return _example_losses(kind, m(X), y).mean()

        res = train_full_batch(ps, loss_fn, float(lr[i]), int(steps[i]), penalty_lr=float(pen[i]))
        losses[i, :len(res.losses)] = res.losses
        taken[i], div[i] = res.steps, res.diverged
        for k, p in m.named_parameters():
            finals[k].append(p.detach())
    return LaneRun({k: torch.stack(v) for k, v in finals.items()}, losses, taken, div)


@dataclass(frozen=True)
class LaneSharpness:
    """Outcome of :func:`lane_sharpness`.

    Attributes
    ----------
    eigenvalues : numpy.ndarray, shape (lanes,)
        Estimate of each lane's largest (algebraic) Hessian eigenvalue.
    vectors : torch.Tensor, shape (lanes, n)
        Unit eigenvector estimates (flattened in model order).
    iterations : int
        Power iterations used (both phases together).
    converged : numpy.ndarray of bool, shape (lanes,)
        Whether each lane's Rayleigh quotient settled to ``tol``.

    Notes
    -----
    Derived in chapter 3.
    """

    eigenvalues: np.ndarray
    vectors: "torch.Tensor" = field(repr=False)
    iterations: int
    converged: np.ndarray


def lane_sharpness(model: Any, params: Params, X: "torch.Tensor", y: "torch.Tensor", *, penalty: Any = 0.0,
                   loss: str = "cross_entropy", num_iters: int = 100, tol: float = 1e-6, seed: int = 0,
                   start: "torch.Tensor | None" = None) -> LaneSharpness:
    """Largest Hessian eigenvalue of each lane's loss (or penalised loss) by batched power iteration.

    Parameters
    ----------
    model : torch.nn.Module
        The architecture.
    params : dict of str to torch.Tensor
        Stacked parameters (not modified).
    X, y : torch.Tensor
        Data of the loss, shapes ``(n, d)`` and ``(n,)``.
    penalty : float or array_like, shape (lanes,), optional
        Coefficient c ≥ 0: the Hessian is that of L + (c/4)‖∇L‖² (default 0).
    loss : {"cross_entropy", "mse"}, optional
        The loss L (see :data:`LOSSES`).
    num_iters : int, optional
        Maximum power iterations per phase (default 100).
    tol : float, optional
        Relative change of the Rayleigh quotient at which a lane has converged.
    seed : int, optional
        Seed of the Gaussian start vectors (ignored when ``start`` is given).
    start : torch.Tensor, shape (lanes, n), optional
        Start vectors, e.g. the previous estimate along a trajectory.

    Returns
    -------
    LaneSharpness

    Notes
    -----
    The Hessian of the sum of the lanes' losses is block-diagonal, so one
    Hessian-vector product of the sum (Pearlmutter's double back-propagation)
    gives every lane's own product. As in :func:`lrtheory.curvature.sharpness`,
    lanes whose dominant eigenvalue μ is negative get a second phase on
    H − μI, restarted from the start vector. The penalised Hessian needs
    third derivatives (three nested backward passes). Derived in chapter 3.
    """
    import torch

    from .experiments import torch_generator

    plan, S = _check_params(model, params)
    _check_data(X, y, params)
    pen = _per_lane("penalty", penalty, S, low=0.0, low_inclusive=True)
    kind = _check_loss(loss)
    num_iters = check_int("num_iters", num_iters, low=1)
    tol = check_scalar("tol", tol, low=0.0)
    seed = check_int("seed", seed, low=0)
    first = next(iter(params.values()))
    names = [k for k, _ in model.named_parameters()]
    theta = {k: params[k].detach().clone().requires_grad_(True) for k in names}
    leaves = [theta[k] for k in names]
    sizes = [int(np.prod(theta[k].shape[1:])) for k in names]
    n = sum(sizes)
    total = _losses(plan, theta, X, y, kind).sum()
    g = torch.autograd.grad(total, leaves, create_graph=True)
    if np.any(pen > 0):
        pen_t = torch.as_tensor(pen, dtype=first.dtype, device=first.device)
        gsq = sum((gi.reshape(S, -1) ** 2).sum(dim=1) for gi in g)
        g = torch.autograd.grad(total + (0.25 * pen_t * gsq).sum(), leaves, create_graph=True)
    gflat = torch.cat([gi.reshape(S, -1) for gi in g], dim=1)

    def hvp(v: torch.Tensor) -> torch.Tensor:
        if not gflat.requires_grad:
            return torch.zeros_like(v)
        hv = torch.autograd.grad(gflat, leaves, grad_outputs=v, retain_graph=True, allow_unused=True)
        return torch.cat([(torch.zeros_like(p) if h is None else h).reshape(S, -1)
                          for p, h in zip(leaves, hv)], dim=1).detach()

    if start is None:
        gen = torch_generator(seed, device="cpu")
        v0 = torch.randn(S, n, generator=gen, dtype=torch.float64).to(device=first.device, dtype=first.dtype)
    else:
        from ._validation import check_tensor

        check_tensor("start", start, shape=(S, n), dtype_kind="float")
        v0 = start.detach().to(device=first.device, dtype=first.dtype)
    norms = torch.linalg.vector_norm(v0, dim=1, keepdim=True)
    if bool((norms == 0).any()):
        raise ValueError("start must have no zero rows")
    v0 = v0 / norms

    def power(shift: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int, np.ndarray]:
        v, lam = v0.clone(), torch.zeros(S, dtype=first.dtype, device=first.device)
        done = np.zeros(S, dtype=bool)
        it = 0
        for it in range(1, num_iters + 1):
            w = hvp(v) - shift[:, None] * v
            new = (v * w).sum(dim=1)
            nrm = torch.linalg.vector_norm(w, dim=1, keepdim=True)
            v = torch.where(nrm > 0, w / torch.where(nrm > 0, nrm, torch.ones_like(nrm)), v)
            if it > 1:
                rel = ((new - lam).abs() <= tol * new.abs().clamp_min(1e-12)).cpu().numpy()
                done |= rel | (nrm[:, 0] == 0).cpu().numpy()
            lam = new
            if done.all():
                break
        return lam, v, it, done

    zero = torch.zeros(S, dtype=first.dtype, device=first.device)
    lam, v, its, done = power(zero)
    neg = (lam < 0).cpu().numpy()
    if neg.any():
        shift = torch.where(lam < 0, lam, zero)
        lam2, v2, its2, done2 = power(shift)
        sel = torch.as_tensor(neg, device=first.device)
        lam = torch.where(sel, lam2 + shift, lam)
        v = torch.where(sel[:, None], v2, v)
        done = np.where(neg, done2, done)
        its += its2
    return LaneSharpness(lam.double().cpu().numpy(), v, its, done)

