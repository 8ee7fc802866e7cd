"""Many copies ("lanes") of one small network, stacked: the data structure of chapter 3's experiments.

Chapter 3 compares gradient-descent *trajectories*: the same network from the
same initial weights at several learning rates, with and without an explicit
gradient penalty, on several seeds.  Run one after another these are hundreds
of tiny runs whose cost is Python and autograd overhead; stacked along a
leading "lane" axis they share every matrix product.  Lanes are independent:
the gradient of the *sum* of the lanes' losses with respect to the stacked
parameters is, slice by slice, each lane's own gradient.

* :func:`stack_models` stacks the parameters of several copies of one model;
  :func:`repeat_lanes` repeats lanes (one start point for several rates);
  :func:`flatten_lanes` gives each lane's parameters as one vector;
* :func:`lane_losses` gives each lane's mean loss (:data:`LOSSES`) on shared data, and
  :func:`lane_metrics` every lane's losses and accuracies on a train/validation/test split.

:mod:`lrtheory.lane_dynamics` runs gradient descent and power iteration in
every lane at once.  The models are the book's classifiers: an ``nn.Linear``
or an ``nn.Sequential`` of linear layers and parameter-free elementwise
activations (the batched products of :func:`lrtheory.batched.train_seeds`).
Derived and used in chapter 3; torch is imported inside the functions only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ._validation import check_array, check_int

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["LOSSES", "stack_models", "repeat_lanes", "flatten_lanes", "lane_losses", "lane_metrics"]

Params = dict  # dict[str, torch.Tensor], every entry of shape (lanes, ...)


def _plan(model: Any) -> list[tuple[Any, ...]]:
    import torch

    from .batched import _layer_plan

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    plan = _layer_plan(model)
    if plan is None:
        raise ValueError("model must be an nn.Linear or an nn.Sequential of nn.Linear layers and "
                         "parameter-free elementwise activations")
    return plan


def _check_params(model: Any, params: Any) -> tuple[list[tuple[Any, ...]], int]:
    import torch

    plan = _plan(model)
    if not isinstance(params, dict) or not params:
        raise TypeError("params must be a non-empty dict of stacked tensors (see stack_models)")
    names = [k for k, _ in model.named_parameters()]
    if sorted(params) != sorted(names):
        raise ValueError(f"params must have the model's parameter names {names}, got {sorted(params)}")
    lanes = None
    for k, p in model.named_parameters():
        v = params[k]
        if not isinstance(v, torch.Tensor) or not v.is_floating_point():
            raise TypeError(f"params[{k!r}] must be a floating torch.Tensor")
        if tuple(v.shape[1:]) != tuple(p.shape):
            raise ValueError(f"params[{k!r}] must have shape (lanes, {', '.join(map(str, p.shape))}), "
                             f"got {tuple(v.shape)}")
        lanes = v.shape[0] if lanes is None else lanes
        if v.shape[0] != lanes:
            raise ValueError("params must have the same number of lanes in every entry")
    if not lanes:
        raise ValueError("params must have at least one lane")
    return plan, int(lanes)


def _check_data(X: Any, y: Any, params: Params) -> None:
    from ._validation import check_tensor

    check_tensor("X", X, ndim=2, dtype_kind="float", nonempty=True)
    check_tensor("y", y, shape=(X.shape[0],), dtype_kind="int", finite=False, nonnegative=True)
    first = next(iter(params.values()))
    if X.dtype != first.dtype or X.device != first.device:
        raise ValueError(f"X must have the parameters' dtype and device ({first.dtype}, {first.device}), "
                         f"got ({X.dtype}, {X.device})")


def _check_models(name: str, models: Any) -> list[Any]:
    import torch

    if isinstance(models, torch.nn.Module) or not isinstance(models, Sequence) or not models:
        raise TypeError(f"{name} must be a non-empty sequence of torch.nn.Module")
    for m in models:
        if not isinstance(m, torch.nn.Module):
            raise TypeError(f"{name} must contain torch.nn.Module, got {type(m).__name__}")
        if _layer_plan_of(m) is None:
            raise ValueError(f"{name} must be nn.Linear or nn.Sequential of nn.Linear layers and "
                             "parameter-free elementwise activations")
    return list(models)


def _layer_plan_of(model: Any) -> list[tuple[Any, ...]] | None:
    from .batched import _layer_plan

    return _layer_plan(model)


def stack_models(models: Sequence[Any]) -> Params:
    """Stack the parameters of copies of one model into lanes (detached copies).

    Parameters
    ----------
    models : sequence of torch.nn.Module
        Models of one architecture (e.g. one per seed).

    Returns
    -------
    dict of str to torch.Tensor
        Entry ``k`` has shape ``(len(models), *shape_k)``; lane ``i`` is model ``i``.

    Raises
    ------
    TypeError, ValueError
        For an empty sequence, a non-module, or models of different shapes.

    Notes
    -----
    Derived in chapter 3.
    """
    import torch

    models = _check_models("models", models)
    shapes = {tuple((k, tuple(p.shape)) for k, p in m.named_parameters()) for m in models}
    if len(shapes) != 1:
        raise ValueError("models must all have the same parameter names and shapes")
    names = [k for k, _ in models[0].named_parameters()]
    return {k: torch.stack([dict(m.named_parameters())[k].detach() for m in models]).clone() for k in names}


def repeat_lanes(params: Params, repeats: int) -> Params:
    """Repeat every lane ``repeats`` times, as blocks: lanes ``(r, i)`` ↦ ``r * S + i``.

    Parameters
    ----------
    params : dict of str to torch.Tensor
        Stacked parameters with ``S`` lanes.
    repeats : int
        Number of copies, ≥ 1.

    Returns
    -------
    dict of str to torch.Tensor
        ``S * repeats`` lanes; block ``r`` is a copy of all ``S`` input lanes.

    Notes
    -----
    Used in chapter 3 to start runs at several learning rates from every seed.
    """
    import torch

    repeats = check_int("repeats", repeats, low=1)
    if not isinstance(params, dict) or not params or not all(isinstance(v, torch.Tensor) for v in params.values()):
        raise TypeError("params must be a non-empty dict of stacked tensors")
    return {k: v.detach().repeat(repeats, *([1] * (v.dim() - 1))) for k, v in params.items()}


def flatten_lanes(model: Any, params: Params) -> "torch.Tensor":
    """Each lane's parameters as one flat vector (model order), shape ``(lanes, n)``.

    Parameters
    ----------
    model : torch.nn.Module
        The architecture (for the order of the parameters).
    params : dict of str to torch.Tensor
        Stacked parameters.

    Returns
    -------
    torch.Tensor, shape (lanes, n)

    Notes
    -----
    Distances between trajectories in chapter 3 are Euclidean norms of
    differences of these rows.
    """
    import torch

    _, S = _check_params(model, params)
    return torch.cat([params[k].reshape(S, -1) for k, _ in model.named_parameters()], dim=1)


def _forward(plan: list[tuple[Any, ...]], params: Params, X: "torch.Tensor") -> "torch.Tensor":
    from .batched import _plan_forward

    return _plan_forward(plan, params, X)


LOSSES = ("cross_entropy", "mse")
"""The losses a lane can descend: mean cross-entropy, or the mean over examples of
half the squared distance between the logits and the one-hot label (the squared
loss of Cohen et al.'s edge-of-stability experiments)."""


def _example_losses(kind: str, logits: "torch.Tensor", targets: "torch.Tensor") -> "torch.Tensor":
    """Per-example losses of logits (N, C) against int64 targets (N,)."""
    import torch

    from .batched import cross_entropy_losses

    if kind == "cross_entropy":
        return cross_entropy_losses(logits, targets)
    onehot = torch.nn.functional.one_hot(targets, logits.shape[1]).to(logits.dtype)
    return 0.5 * ((logits - onehot) ** 2).sum(dim=1)


def _losses(plan: list[tuple[Any, ...]], params: Params, X: "torch.Tensor", y: "torch.Tensor",
            kind: str = "cross_entropy") -> "torch.Tensor":
    logits = _forward(plan, params, X)
    S, n, C = logits.shape
    targets = y.repeat(S) if y.dim() == 1 else y.reshape(S * n)
    return _example_losses(kind, logits.reshape(S * n, C), targets).reshape(S, n).mean(dim=1)


def _check_loss(loss: Any) -> str:
    from ._validation import check_choice

    return check_choice("loss", loss, LOSSES)


def lane_losses(model: Any, params: Params, X: "torch.Tensor", y: "torch.Tensor", *,
                loss: str = "cross_entropy") -> np.ndarray:
    """Each lane's mean loss (default: cross-entropy) on ``(X, y)``.

    Parameters
    ----------
    model : torch.nn.Module
        The architecture.
    params : dict of str to torch.Tensor
        Stacked parameters.
    X, y : torch.Tensor
        Shared data, shapes ``(n, d)`` and ``(n,)``.
    loss : {"cross_entropy", "mse"}, optional
        The loss (see :data:`LOSSES`).

    Returns
    -------
    numpy.ndarray, shape (lanes,)

    Notes
    -----
    Derived in chapter 3.
    """
    import torch

    plan, _ = _check_params(model, params)
    _check_data(X, y, params)
    kind = _check_loss(loss)
    with torch.no_grad():
        return _losses(plan, params, X, y, kind).double().cpu().numpy()


def _per_lane(name: str, value: Any, S: int, *, low: float, low_inclusive: bool) -> np.ndarray:
    arr = check_array(name, value, ndim=(0, 1))
    if arr.ndim == 0:
        arr = np.full(S, float(arr))
    if arr.shape != (S,):
        raise ValueError(f"{name} must be a scalar or have one entry per lane ({S}), got shape {arr.shape}")
    if np.any(arr < low) or (not low_inclusive and np.any(arr == low)):
        raise ValueError(f"{name} must be {'>=' if low_inclusive else '>'} {low} in every lane")
    return arr


def _per_lane_steps(value: Any, S: int) -> np.ndarray:
    if isinstance(value, (bool, np.bool_)):
        raise TypeError("num_steps must be an integer or an array of integers")
    arr = np.atleast_1d(np.asarray(value))
    if arr.dtype.kind not in "iu":
        raise TypeError(f"num_steps must be an integer or an array of integers, got dtype {arr.dtype}")
    if np.ndim(value) == 0:
        arr = np.full(S, int(arr[0]))
    elif arr.ndim != 1:
        raise ValueError(f"num_steps must be a scalar or one-dimensional, got shape {arr.shape}")
    if arr.shape != (S,):
        raise ValueError(f"num_steps must be a scalar or have one entry per lane ({S}), got shape {arr.shape}")
    if np.any(arr < 0):
        raise ValueError("num_steps must be >= 0 in every lane")
    return arr.astype(np.int64)




def lane_metrics(model: Any, params: Params, data: Any, *, loss: str = "cross_entropy") -> dict[str, np.ndarray]:
    """Every lane's loss and accuracy on each part of a split (train, validation if any, test).

    Parameters
    ----------
    model : torch.nn.Module
        The architecture.
    params : dict of str to torch.Tensor
        Stacked parameters.
    data : lrtheory.datasets.TensorSplit
        The split.
    loss : {"cross_entropy", "mse"}, optional
        The loss reported as ``<part>_loss``.

    Returns
    -------
    dict of str to numpy.ndarray
        ``train_loss``, ``train_acc``, ``test_loss``, ``test_acc`` and, when the
        split has a validation part, ``val_loss`` and ``val_acc``; one value per lane.

    Notes
    -----
    The shape of a protocol run's result (:func:`lrtheory.protocol.compare_methods`).
    Derived in chapter 3.
    """
    import torch

    from .datasets import TensorSplit

    if not isinstance(data, TensorSplit):
        raise TypeError(f"data must be a TensorSplit, got {type(data).__name__}")
    plan, _ = _check_params(model, params)
    kind = _check_loss(loss)
    parts = [("train", data.X_train, data.y_train), ("test", data.X_test, data.y_test)]
    if data.X_val is not None:
        parts.append(("val", data.X_val, data.y_val))
    out: dict[str, np.ndarray] = {}
    with torch.no_grad():
        for name, Xp, yp in parts:
            _check_data(Xp, yp, params)
            logits = _forward(plan, params, Xp)
            S, n, C = logits.shape
            out[f"{name}_loss"] = _example_losses(kind, logits.reshape(S * n, C), yp.repeat(S)).reshape(
                S, n).mean(dim=1).double().cpu().numpy()
            out[f"{name}_acc"] = (logits.argmax(dim=2) == yp[None, :]).double().mean(dim=1).cpu().numpy()
    return out
