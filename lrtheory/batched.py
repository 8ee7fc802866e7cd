"""Train the seeds of one configuration as one batched model (torch.func + vmap).

The protocol (:mod:`lrtheory.protocol`) asks for 5 to 24 seeds per comparison.
Run one after another, small models spend their time in Python and autograd
overhead, not in arithmetic; stacked into one model, the seeds share every
kernel launch.  :func:`train_seeds` does that for any small ``nn.Module``
without buffers: the seeds' modules are stacked with
:func:`torch.func.stack_module_state`, and the forward pass is
:func:`torch.func.functional_call` under :func:`torch.vmap` -- or, for the
book's classifiers (an ``nn.Linear``, or an ``nn.Sequential`` of linear layers
and parameter-free elementwise activations), batched matrix products, which
are faster still.  Every seed keeps its own initial weights and its own
mini-batch order, exactly as the per-seed loop :func:`train_seeds_reference`
(the oracle of the tests) has them.

Optimisers.  Where the update is *elementwise* (each entry's step depends only
on its own gradient and state: SGD with momentum, Adam, AdamW, RMSprop,
Adagrad, and the book's ``SignDescent``, ``RMSpropCoordinate``, ``EGD``), one
optimiser over the stacked tensors equals one optimiser per seed.  Where it is
not (a norm or inner product over the model: ``RMSpropScalar``,
``AdaGradNorm``, ``HypergradientSGD``, ``EGStepSize``), each seed keeps its own
leaf tensors and its own optimiser, and only the forward and backward passes
are batched.  :func:`is_elementwise` decides; pass ``elementwise=False`` to force
the safe path for an optimiser it does not know.

Used by the protocol's comparisons in every chapter; torch is imported inside
the functions only.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

import numpy as np

from ._validation import check_bool, check_callable, check_int, check_scalar, check_tensor

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from .datasets import TensorSplit

__all__ = ["SeedRuns", "is_elementwise", "cross_entropy_losses", "train_seeds", "train_seeds_reference",
           "classifier_run"]

OptimizerFactory = Callable[[Iterable["torch.Tensor"], float], "torch.optim.Optimizer"]
LossFn = Callable[["torch.Tensor", "torch.Tensor"], "torch.Tensor"]

_ELEMENTWISE_TORCH = ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam")


@dataclass(frozen=True)
class SeedRuns:
    """Results of one configuration trained on several seeds.

    Attributes
    ----------
    seeds : tuple of int
        The seeds, in order; every array below follows this order.
    lr : float
        The base learning rate.
    metrics : dict of str to numpy.ndarray
        Final ``train_loss``, ``train_acc``, ``test_loss``, ``test_acc`` and, when
        the split has one, ``val_loss`` and ``val_acc`` (and ``train_objective``
        when trained with an ``l2`` penalty): one value per seed, ``nan`` for
        diverged seeds.
    history : numpy.ndarray, shape (num_seeds, epochs + 1)
        Column 0: the full training loss before training; column ``e``: the mean
        of epoch ``e``'s mini-batch losses, each taken before its step (``nan``
        from the epoch in which a seed diverged).  Cheap (no extra forward pass),
        and what the divergence rule reads.
    diverged : numpy.ndarray of bool
        The protocol's rule (:func:`lrtheory.protocol.diverged`): a non-finite
        mini-batch loss, or a recorded training loss above ``divergence_factor``
        times the initial one.
    steps : int
        Optimiser steps per seed.
    """

    seeds: tuple[int, ...]
    lr: float
    metrics: dict[str, np.ndarray]
    history: np.ndarray
    diverged: np.ndarray
    steps: int

    def as_protocol(self) -> dict[str, np.ndarray]:
        """The metrics plus ``"diverged"``: what a run of :func:`lrtheory.protocol.compare_methods` returns."""
        out = dict(self.metrics)
        out["diverged"] = self.diverged.copy()
        return out


def is_elementwise(optimizer: Any) -> bool:
    """Whether ``optimizer`` updates every entry from that entry's own gradient and state alone.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        An optimiser instance.

    Returns
    -------
    bool
        ``True`` for torch's SGD, Adam, AdamW, RMSprop, Adagrad, Adamax, NAdam and
        RAdam (their updates are per entry; the step count is shared by all seeds)
        and for book optimisers whose class sets ``elementwise = True``; ``False``
        otherwise (the safe answer).

    Raises
    ------
    TypeError
        If ``optimizer`` is not a ``torch.optim.Optimizer``.
    """
    import torch

    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    cls = type(optimizer)
    if cls.__module__.startswith("torch.optim") and cls.__name__ in _ELEMENTWISE_TORCH:
        return True
    return bool(getattr(cls, "elementwise", False))


def cross_entropy_losses(logits: "torch.Tensor", targets: "torch.Tensor") -> "torch.Tensor":
    """Per-example cross-entropy (the default loss of :func:`train_seeds`).

    Parameters
    ----------
    logits : torch.Tensor, shape (n, num_classes)
    targets : torch.Tensor of int64, shape (n,)

    Returns
    -------
    torch.Tensor, shape (n,)

    Notes
    -----
    Computed as :math:`\\operatorname{logsumexp}(z) - z_y`, which equals
    ``torch.nn.functional.cross_entropy(..., reduction="none")`` to rounding and
    is about 2.5 times faster on a CPU for ten classes (the log-softmax kernel is
    slow for a short last dimension).
    """
    import torch

    check_tensor("logits", logits, ndim=2, dtype_kind="float", finite=False)  # NaN: a diverged seed
    check_tensor("targets", targets, ndim=1, dtype_kind="int", finite=False)
    if targets.shape[0] != logits.shape[0]:
        raise ValueError(f"targets must have one label per row of logits ({logits.shape[0]}), "
                         f"got {targets.shape[0]}")
    return torch.logsumexp(logits, dim=1) - logits.gather(1, targets[:, None]).squeeze(1)


def _returning(name: str, fn: Callable[..., Any], kind: type) -> Callable[..., Any]:
    """``fn`` checked to return a ``kind`` (the message names ``name``)."""

    def checked(*args: Any) -> Any:
        out = fn(*args)
        if not isinstance(out, kind):
            raise TypeError(f"{name} must return a {kind.__module__}.{kind.__name__}, got {type(out).__name__}")
        return out

    return checked


def _checked_loss(loss_fn: LossFn) -> LossFn:
    import torch

    def checked(logits: "torch.Tensor", targets: "torch.Tensor") -> "torch.Tensor":
        out = loss_fn(logits, targets)
        if not isinstance(out, torch.Tensor) or out.shape != targets.shape:
            got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise TypeError(f"loss_fn must return a tensor of per-example losses, shape {tuple(targets.shape)}, "
                            f"got {got}")
        return out

    return checked


def _check_common(make_model: Any, make_optimizer: Any, lr: Any, data: Any, seeds: Any, epochs: Any,
                  batch_size: Any, loss_fn: Any, schedule: Any, divergence_factor: Any):
    import torch

    from .datasets import TensorSplit
    from .protocol import check_seeds

    make_model = _returning("make_model", check_callable("make_model", make_model), torch.nn.Module)
    make_optimizer = _returning("make_optimizer", check_callable("make_optimizer", make_optimizer),
                                torch.optim.Optimizer)
    lr = check_scalar("lr", lr, low=0.0, low_inclusive=False)
    if not isinstance(data, TensorSplit):
        raise TypeError(f"data must be a TensorSplit, got {type(data).__name__}")
    seeds = check_seeds("seeds", seeds)
    epochs = check_int("epochs", epochs, low=0)
    batch_size = check_int("batch_size", batch_size, low=1)
    loss_fn = cross_entropy_losses if loss_fn is None else _checked_loss(check_callable("loss_fn", loss_fn))
    if schedule is not None:
        check_callable("schedule", schedule)
    divergence_factor = check_scalar("divergence_factor", divergence_factor, low=1.0, low_inclusive=False)
    return make_model, make_optimizer, lr, seeds, epochs, batch_size, loss_fn, divergence_factor


def _penalty(params: dict[str, "torch.Tensor"], S: int, l2: float) -> "torch.Tensor":
    """(λ/2)‖θ_s‖² of every seed s of stacked parameters (leading dimension S)."""
    return 0.5 * l2 * sum((p * p).reshape(S, -1).sum(dim=1) for p in params.values())


def _factor(schedule: Any, step: int) -> float:
    f = schedule(step)
    return check_scalar("schedule(step)", f, low=0.0)


def _elementwise_activations() -> tuple[type, ...]:
    import torch.nn as nn

    return (nn.Tanh, nn.ReLU, nn.Sigmoid, nn.GELU, nn.SiLU, nn.Identity, nn.LeakyReLU, nn.ELU, nn.Softplus)


def _layer_plan(module: "torch.nn.Module") -> list[tuple[Any, ...]] | None:
    """Linear/activation steps of a plain classifier, or ``None`` when vmap must be used."""
    import torch.nn as nn

    acts = _elementwise_activations()
    if isinstance(module, nn.Linear):
        return [("linear", "weight", "bias" if module.bias is not None else None)]
    if type(module) is not nn.Sequential:
        return None
    plan: list[tuple[Any, ...]] = []
    for name, sub in module.named_children():
        if type(sub) is nn.Linear:
            plan.append(("linear", f"{name}.weight", f"{name}.bias" if sub.bias is not None else None))
        elif type(sub) in acts and not any(True for _ in sub.parameters()):
            plan.append(("act", sub))
        else:
            return None
    return plan


def _plan_forward(plan: list[tuple[Any, ...]], params: dict[str, "torch.Tensor"], x: "torch.Tensor") -> "torch.Tensor":
    """Seed-batched forward pass: ``x`` is (S, B, d), or (B, d) shared by all seeds."""
    import torch

    for item in plan:
        if item[0] == "linear":
            W = params[item[1]]
            x = torch.matmul(x, W.transpose(1, 2)) if x.dim() == 2 else torch.bmm(x, W.transpose(1, 2))
            if item[2] is not None:
                x = x + params[item[2]].unsqueeze(1)
        else:
            x = item[1](x)
    return x


def _metrics_of(logits: "torch.Tensor", y: "torch.Tensor", loss_fn: LossFn) -> tuple[np.ndarray, np.ndarray]:
    """Mean loss and accuracy per seed for logits of shape (S, n, C)."""
    import torch

    S, n, C = logits.shape
    with torch.no_grad():
        loss = loss_fn(logits.reshape(S * n, C), y.repeat(S)).reshape(S, n).mean(dim=1)
        acc = (logits.argmax(dim=2) == y[None, :]).double().mean(dim=1)
    return loss.double().cpu().numpy(), acc.cpu().numpy()


def train_seeds(
    make_model: Callable[[int], "torch.nn.Module"],
    make_optimizer: OptimizerFactory,
    lr: float,
    data: "TensorSplit",
    *,
    seeds: Sequence[int],
    epochs: int,
    batch_size: int,
    loss_fn: LossFn | None = None,
    schedule: Callable[[int], float] | None = None,
    elementwise: bool | None = None,
    divergence_factor: float = 10.0,
    l2: float = 0.0,
) -> SeedRuns:
    """Train one model per seed, all seeds at once, with per-seed data order.

    Parameters
    ----------
    make_model : callable
        ``make_model(seed)`` returns a fresh, seeded ``nn.Module`` (no batch-norm,
        no dropout) on ``data``'s device and dtype, e.g.
        ``lambda s: sweeps.make_classifier("mlp", 64, 10, seed=s)``.
    make_optimizer : callable
        ``make_optimizer(params, lr)`` returns a ``torch.optim.Optimizer``.
    lr : float
        Base learning rate (> 0).
    data : TensorSplit
        Training data (and the validation and test parts that are scored at the end).
    seeds : sequence of int
        Distinct seeds; seed ``s`` fixes the model's initialisation
        (``make_model(s)``) and its batch order (a ``torch.Generator`` seeded with
        ``s`` drawing one permutation per epoch, as in
        :func:`lrtheory.sweeps.train_classifier`).
    epochs : int
        Passes over the training set (≥ 0).
    batch_size : int
        Examples per step; the last batch of an epoch may be smaller.
    loss_fn : callable, optional
        ``loss_fn(logits, targets)`` returning per-example losses (default
        :func:`cross_entropy_losses`); each seed's step minimises its batch mean.
    schedule : callable, optional
        ``schedule(step)`` (step = 0, 1, …) returns a factor ≥ 0; the learning rate
        of step ``t`` is ``lr * schedule(t)``.
    elementwise : bool, optional
        Force (``True``) or refuse (``False``) one optimiser over the stacked
        parameters; default :func:`is_elementwise` of the optimiser.
    divergence_factor : float, optional
        The protocol's divergence multiple (default 10).
    l2 : float, optional
        λ ≥ 0 of a penalty (λ/2)‖θ‖² over all parameters added to every seed's
        objective (default 0).  With λ > 0 the metrics gain ``train_objective``
        (training loss plus penalty), and the recorded history and the
        divergence rule read the objective.  Unlike an optimiser's weight decay
        it changes the loss, so every optimiser sees the same well-posed problem
        (for logistic regression: a unique minimiser).

    Returns
    -------
    SeedRuns

    Raises
    ------
    TypeError, ValueError
        For bad arguments, naming the argument; ``ValueError`` if the models'
        parameters differ in shape between seeds or a model has buffers.

    Notes
    -----
    Seeds are independent, so the gradient of the *sum* of the seeds' batch
    losses with respect to the stacked parameters is, slice by slice, each
    seed's own gradient; an elementwise optimiser on the stack therefore makes
    each seed's own step.  A seed whose loss becomes non-finite is marked
    diverged, its gradients are zeroed from then on (so that neither a shared
    optimiser's non-finite check nor its statistics see it), and its metrics are
    ``nan``.  In float64 the result equals :func:`train_seeds_reference` to
    rounding (the tests check this).  Chapter 1 introduces it; every chapter's
    protocol comparisons use it.
    """
    import torch
    from torch.func import functional_call, stack_module_state

    from .experiments import torch_generator
    from .protocol import diverged as protocol_diverged

    make_model, make_optimizer, lr, seeds, epochs, batch_size, loss_fn, factor = _check_common(
        make_model, make_optimizer, lr, data, seeds, epochs, batch_size, loss_fn, schedule, divergence_factor)
    l2 = check_scalar("l2", l2, low=0.0)
    if elementwise is not None:
        elementwise = check_bool("elementwise", elementwise)
    models = [make_model(s) for s in seeds]
    for m in models:
        if not isinstance(m, torch.nn.Module):
            raise TypeError(f"make_model must return an nn.Module, got {type(m).__name__}")
        if any(True for _ in m.buffers()):
            raise ValueError("make_model's modules must have no buffers (batch-norm cannot be batched here)")
    shapes = [tuple((k, tuple(p.shape)) for k, p in m.named_parameters()) for m in models]
    if len(set(shapes)) != 1:
        raise ValueError("make_model must return models of the same architecture for every seed")
    S = len(seeds)
    names = [k for k, _ in models[0].named_parameters()]
    plan = _layer_plan(models[0])
    if plan is not None:
        def batched_forward(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
            return _plan_forward(plan, params, x)

        full_forward = batched_forward
    else:
        base = copy.deepcopy(models[0]).to("meta")

        def forward(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
            return functional_call(base, params, (x,))

        batched_forward = torch.vmap(forward, in_dims=(0, 0))
        full_forward = torch.vmap(forward, in_dims=(0, None))

    probe = make_optimizer([torch.zeros(1, requires_grad=True)], lr)
    shared = is_elementwise(probe) if elementwise is None else bool(elementwise)
    del probe
    if shared:
        stacked, _ = stack_module_state(models)
        leaves = [stacked[k] for k in names]
        optimizers = [make_optimizer(leaves, lr)]

        def params_now() -> dict[str, torch.Tensor]:
            return stacked
    else:
        per_seed = [[p.detach().clone().requires_grad_(True) for _, p in m.named_parameters()] for m in models]
        optimizers = [make_optimizer(ps, lr) for ps in per_seed]

        def params_now() -> dict[str, torch.Tensor]:
            return {k: torch.stack([ps[i] for ps in per_seed]) for i, k in enumerate(names)}
    del models

    X, y = data.X_train, data.y_train
    n = int(X.shape[0])
    gens = [torch_generator(s, device="cpu") for s in seeds]
    alive = torch.ones(S, dtype=torch.bool)
    history = np.full((S, epochs + 1), np.nan)

    with torch.no_grad():
        history[:, 0], _ = _metrics_of(full_forward(params_now(), X), y, loss_fn)
        if l2 > 0:
            history[:, 0] += _penalty(params_now(), S, l2).double().cpu().numpy()
    step = 0
    for epoch in range(epochs):
        perms = torch.stack([torch.randperm(n, generator=g) for g in gens]).to(X.device)
        epoch_sum = torch.zeros(S, dtype=torch.float64)
        for start in range(0, n, batch_size):
            idx = perms[:, start:start + batch_size]
            if schedule is not None:
                f = _factor(schedule, step)
                for opt in optimizers:
                    for group in opt.param_groups:
                        group["lr"] = lr * f
            for opt in optimizers:
                opt.zero_grad(set_to_none=True)
            params = params_now()
            logits = batched_forward(params, X[idx])
            B, C = idx.shape[1], logits.shape[-1]
            losses = loss_fn(logits.reshape(S * B, C), y[idx].reshape(S * B)).reshape(S, B).mean(dim=1)
            if l2 > 0:
                losses = losses + _penalty(params, S, l2)
            detached = losses.detach().double().cpu()
            epoch_sum += detached * idx.shape[1]
            alive &= torch.isfinite(detached)
            if not bool(alive.any()):
                break
            losses.sum().backward()
            dead = ~alive
            if shared:
                if bool(dead.any()):
                    for p in leaves:
                        p.grad[dead.to(p.device)] = 0.0
                optimizers[0].step()
            else:
                for i, opt in enumerate(optimizers):
                    if bool(alive[i]):
                        opt.step()
            step += 1
        history[:, epoch + 1] = np.where(alive.numpy(), (epoch_sum / n).numpy(), np.nan)
        if not bool(alive.any()):
            break
    dead = (~alive).numpy()
    if np.all(np.isfinite(history[:, 0])) and np.all(history[:, 0] > 0):
        div = dead | protocol_diverged(np.where(np.isnan(history), np.inf, history), factor=factor)
    else:
        div = dead
    metrics: dict[str, np.ndarray] = {}
    with torch.no_grad():
        params = params_now()
        parts = [("train", data.X_train, data.y_train), ("test", data.X_test, data.y_test)]
        if data.X_val is not None:
            parts.append(("val", data.X_val, data.y_val))
        for part, Xp, yp in parts:
            loss, acc = _metrics_of(full_forward(params, Xp), yp, loss_fn)
            metrics[f"{part}_loss"] = np.where(div, np.nan, loss)
            metrics[f"{part}_acc"] = np.where(div, np.nan, acc)
        if l2 > 0:
            pen = _penalty(params, S, l2).double().cpu().numpy()
            metrics["train_objective"] = np.where(div, np.nan, metrics["train_loss"] + pen)
    return SeedRuns(seeds, lr, metrics, history, div, step)


def train_seeds_reference(
    make_model: Callable[[int], "torch.nn.Module"],
    make_optimizer: OptimizerFactory,
    lr: float,
    data: "TensorSplit",
    *,
    seeds: Sequence[int],
    epochs: int,
    batch_size: int,
    loss_fn: LossFn | None = None,
    schedule: Callable[[int], float] | None = None,
    divergence_factor: float = 10.0,
    l2: float = 0.0,
) -> SeedRuns:
    """The per-seed loop that :func:`train_seeds` batches: the slow oracle of its tests.

    Parameters and result as in :func:`train_seeds` (``elementwise`` does not apply).

    Notes
    -----
    One model and one optimiser per seed, trained one after another with the
    same per-seed generator and the same stopping rule; nothing is shared.
    Chapter 1.
    """
    import torch

    from .experiments import torch_generator
    from .protocol import diverged as protocol_diverged

    make_model, make_optimizer, lr, seeds, epochs, batch_size, loss_fn, factor = _check_common(
        make_model, make_optimizer, lr, data, seeds, epochs, batch_size, loss_fn, schedule, divergence_factor)
    l2 = check_scalar("l2", l2, low=0.0)
    X, y = data.X_train, data.y_train
    n = int(X.shape[0])
    S = len(seeds)
    history = np.full((S, epochs + 1), np.nan)
    alive = np.ones(S, dtype=bool)
    finals: list[torch.nn.Module] = []
    steps = 0
    for i, s in enumerate(seeds):
        model = make_model(s)
        opt = make_optimizer(list(model.parameters()), lr)
        gen = torch_generator(s, device="cpu")

        def penalty() -> "torch.Tensor":
            return 0.5 * l2 * sum((p * p).sum() for p in model.parameters())

        def full_loss() -> float:
            with torch.no_grad():
                return float(loss_fn(model(X), y).mean() + (penalty() if l2 > 0 else 0.0))

        history[i, 0] = full_loss()
        step = 0
        for epoch in range(epochs):
            perm = torch.randperm(n, generator=gen).to(X.device)
            epoch_sum = 0.0
            for start in range(0, n, batch_size):
                idx = perm[start:start + batch_size]
                if schedule is not None:
                    f = _factor(schedule, step)
                    for group in opt.param_groups:
                        group["lr"] = lr * f
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(X[idx]), y[idx]).mean()
                if l2 > 0:
                    loss = loss + penalty()
                if not torch.isfinite(loss):
                    alive[i] = False
                    break
                epoch_sum += float(loss.detach()) * idx.shape[0]
                loss.backward()
                opt.step()
                step += 1
            if not alive[i]:
                break
            history[i, epoch + 1] = epoch_sum / n
        steps = max(steps, step)
        finals.append(model)
    if np.all(np.isfinite(history[:, 0])) and np.all(history[:, 0] > 0):
        div = ~alive | protocol_diverged(np.where(np.isnan(history), np.inf, history), factor=factor)
    else:
        div = ~alive
    metrics: dict[str, np.ndarray] = {}
    parts = [("train", data.X_train, data.y_train), ("test", data.X_test, data.y_test)]
    if data.X_val is not None:
        parts.append(("val", data.X_val, data.y_val))
    with torch.no_grad():
        for part, Xp, yp in parts:
            logits = torch.stack([m(Xp) for m in finals])
            loss, acc = _metrics_of(logits, yp, loss_fn)
            metrics[f"{part}_loss"] = np.where(div, np.nan, loss)
            metrics[f"{part}_acc"] = np.where(div, np.nan, acc)
        if l2 > 0:
            pen = np.array([float(0.5 * l2 * sum((p * p).sum() for p in m.parameters())) for m in finals])
            metrics["train_objective"] = np.where(div, np.nan, metrics["train_loss"] + pen)
    return SeedRuns(seeds, lr, metrics, history, div, steps)


def classifier_run(kind: str, make_optimizer: OptimizerFactory, data: "TensorSplit", *, epochs: int,
                   batch_size: int, hidden: int = 64, init: str = "default", **kwargs: Any) -> Callable[[float, tuple[int, ...]],
                                                                                   dict[str, np.ndarray]]:
    """A protocol ``run(value, seeds)`` that trains the book's classifier at learning rate ``value``.

    Parameters
    ----------
    kind : {"logreg", "mlp"}
        The model (:func:`lrtheory.sweeps.make_classifier`).
    make_optimizer : callable
        ``make_optimizer(params, lr)``.
    data : TensorSplit
        With a validation part when the comparison tunes on validation.
    epochs, batch_size : int
        As in :func:`train_seeds`.
    hidden : int, optional
        MLP width (default 64).
    init : {"default", "zeros"}, optional
        Passed to :func:`lrtheory.sweeps.make_classifier`.
    **kwargs
        Passed on to :func:`train_seeds` (``loss_fn``, ``schedule``, ``divergence_factor``, ...).

    Returns
    -------
    callable
        ``run(lr, seeds)`` returning :meth:`SeedRuns.as_protocol` (metrics per seed and
        ``"diverged"``), for :func:`lrtheory.protocol.compare_methods`.

    Notes
    -----
    Chapter 1's digits comparison is its first user.
    """
    from .datasets import TensorSplit
    from .sweeps import make_classifier
    from ._validation import check_choice

    check_choice("kind", kind, ("logreg", "mlp"))
    check_callable("make_optimizer", make_optimizer)
    if not isinstance(data, TensorSplit):
        raise TypeError(f"data must be a TensorSplit, got {type(data).__name__}")
    epochs = check_int("epochs", epochs, low=0)
    batch_size = check_int("batch_size", batch_size, low=1)
    hidden = check_int("hidden", hidden, low=1)
    check_choice("init", init, ("default", "zeros"))

    def make_model(seed: int) -> "torch.nn.Module":
        return make_classifier(kind, data.num_features, data.num_classes, hidden=hidden, seed=seed,
                               device=data.X_train.device, dtype=data.X_train.dtype, init=init)

    def run(lr: float, seeds: tuple[int, ...]) -> dict[str, np.ndarray]:
        return train_seeds(make_model, make_optimizer, lr, data, seeds=seeds, epochs=epochs,
                           batch_size=batch_size, **kwargs).as_protocol()

    return run
