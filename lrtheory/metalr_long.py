"""Long runs of a learned step size against the exact optimum of the training loss (torch + scipy).

Chapter 4's long-horizon question: on top of Adam (or SGD) and with noisy
labels, when does a learned learning rate collapse, what does that cost in
training loss measured against the exact minimum, and what does it do to the
accuracy on clean test labels?

* :func:`noisy_labels` replaces a fraction of the training labels by random ones;
* :func:`lbfgs_optimum` minimises the full-batch training loss of multinomial
  logistic regression with :func:`scipy.optimize.minimize` (L-BFGS-B) — the
  exact reference a finite run is measured against;
* :func:`train_long` trains with mini-batches and records, every few steps, the
  optimiser's step size, the full training loss, and the clean test accuracy;
  at the end it measures the sharpness (largest Hessian eigenvalue of the full
  training loss) for the edge-of-stability comparison;
* :func:`collapse_step` finds when a recorded rate fell below a fraction of its peak.

Derived in chapter 4.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ._validation import check_array, check_callable, check_instance, check_int, check_scalar

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from .datasets import TensorSplit

__all__ = ["noisy_labels", "lbfgs_optimum", "LongRun", "train_long", "collapse_step"]


def noisy_labels(data: "TensorSplit", fraction: float, *, seed: int) -> "TensorSplit":
    """A copy of ``data`` with ``fraction`` of the training labels replaced by uniformly random classes.

    Parameters
    ----------
    data : TensorSplit
    fraction : float
        In [0, 1]; each training label is replaced with this probability (the
        random class may equal the true one).
    seed : int
        Seed of the choice.

    Returns
    -------
    TensorSplit
        Validation and test labels are untouched (clean).
    """
    import torch

    from .datasets import TensorSplit
    from .experiments import make_rng

    if not isinstance(data, TensorSplit):
        raise TypeError(f"data must be a TensorSplit, got {type(data).__name__}")
    fraction = check_scalar("fraction", fraction, low=0.0, high=1.0)
    rng = make_rng(seed)
    y = data.y_train.clone()
    flip = rng.random(len(y)) < fraction
    y[torch.as_tensor(flip, device=y.device)] = torch.as_tensor(
        rng.integers(0, data.num_classes, int(flip.sum())), device=y.device, dtype=y.dtype)
    return dataclasses.replace(data, y_train=y)


def lbfgs_optimum(data: "TensorSplit", *, tol: float = 1e-11, max_iter: int = 20000) -> tuple[float, np.ndarray]:
    """Minimum of the mean cross-entropy of multinomial logistic regression on the training set.

    Parameters
    ----------
    data : TensorSplit
        Training part used (float64 is used internally whatever its dtype).
    tol : float, optional
        ``gtol`` and ``ftol`` of L-BFGS-B.
    max_iter : int, optional

    Returns
    -------
    (float, numpy.ndarray)
        The minimal loss and the minimiser (weights then biases, flat).

    Raises
    ------
    RuntimeError
        If L-BFGS-B does not report convergence.

    Notes
    -----
    The loss is convex; with label noise the classes overlap and the minimum is
    attained. (On separable data the infimum is 0 and is not attained.)
    Chapter 4.
    """
    from scipy.optimize import minimize
    from scipy.special import log_softmax

    tol = check_scalar("tol", tol, low=0.0, low_inclusive=False)
    max_iter = check_int("max_iter", max_iter, low=1)
    from .datasets import TensorSplit

    check_instance("data", data, TensorSplit)
    X = data.X_train.detach().cpu().double().numpy()
    y = data.y_train.detach().cpu().numpy()
    n, d = X.shape
    C = data.num_classes
    onehot = np.eye(C)[y]

    def f(w: np.ndarray) -> tuple[float, np.ndarray]:
        W, b = w[: d * C].reshape(C, d), w[d * C:]
        logp = log_softmax(X @ W.T + b, axis=1)
        r = (np.exp(logp) - onehot) / n  # d loss / d logits
        return float(-np.sum(logp * onehot) / n), np.concatenate([(r.T @ X).ravel(), r.sum(axis=0)])

    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # small products: threads only spin
        res = minimize(f, np.zeros(d * C + C), jac=True, method="L-BFGS-B",
                       options={"gtol": tol, "ftol": tol, "maxiter": max_iter, "maxfun": 2 * max_iter})
    if not res.success:
        raise RuntimeError(f"L-BFGS-B did not converge: {res.message}")
    return float(res.fun), res.x


@dataclass(frozen=True)
class LongRun:
    """What :func:`train_long` records (chapter 4).

    Attributes
    ----------
    steps : numpy.ndarray of int
        The steps after which the records were taken (0 = before training).
    lr : numpy.ndarray
        Median step size of the optimiser (``effective_lrs()``, or group 0's ``lr``).
    train_loss, train_acc, test_acc : numpy.ndarray
        Full-batch training loss and accuracy (on the labels trained on) and
        test accuracy (clean labels).
    sharpness : float
        Largest eigenvalue of the Hessian of the full training loss at the end.
    diverged : bool
        The protocol's rule on ``train_loss``.
    """

    steps: np.ndarray
    lr: np.ndarray
    train_loss: np.ndarray
    train_acc: np.ndarray
    test_acc: np.ndarray
    sharpness: float
    diverged: bool


def train_long(data: "TensorSplit", make_optimizer: Callable[[list], Any], num_steps: int, *, eval_every: int,
               seed: int, batch_size: int = 16) -> LongRun:
    """Train logistic regression with mini-batches and record rate, loss and clean test accuracy.

    Parameters
    ----------
    data : TensorSplit
        Training labels as trained on (e.g. from :func:`noisy_labels`); test labels clean.
    make_optimizer : callable
        Called with the list of parameters.
    num_steps : int
        Optimiser steps.
    eval_every : int
        Record every this many steps (and at steps 0 and ``num_steps``).
    seed : int
        Initial weights (:func:`lrtheory.metalr.make_classifier`) and batch order.
    batch_size : int, optional
        Default 16.

    Returns
    -------
    LongRun

    Notes
    -----
    Batches are drawn by reshuffling every epoch, as in
    :func:`lrtheory.metalr.train_classifier`. Chapter 4.
    """
    import torch
    import torch.nn.functional as F

    from .curvature import sharpness
    from .experiments import torch_generator
    from .metalr import _current_lrs, make_classifier
    from .protocol import diverged as protocol_diverged

    from .datasets import TensorSplit

    check_instance("data", data, TensorSplit)
    check_callable("make_optimizer", make_optimizer)
    num_steps = check_int("num_steps", num_steps, low=1)
    eval_every = check_int("eval_every", eval_every, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    X, y = data.X_train, data.y_train
    model = make_classifier("logistic", data.num_features, data.num_classes, seed=seed, device=X.device,
                            dtype=X.dtype)
    params = list(model.parameters())
    opt = check_instance("the value returned by make_optimizer", make_optimizer(params), torch.optim.Optimizer)
    gen = torch_generator(seed, device="cpu")
    rec: dict[str, list[float]] = {k: [] for k in ("steps", "lr", "train_loss", "train_acc", "test_acc")}

    def record(t: int) -> None:
        with torch.no_grad():
            logits = model(X)
            lrs = _current_lrs(opt)
            rec["steps"].append(t)
            rec["lr"].append(float(lrs.median()) if lrs is not None and t > 0 else math.nan)
            rec["train_loss"].append(float(F.cross_entropy(logits, y)))
            rec["train_acc"].append(float((logits.argmax(1) == y).double().mean()))
            rec["test_acc"].append(float((model(data.X_test).argmax(1) == data.y_test).double().mean()))

    record(0)
    n = X.shape[0]
    order, pos = torch.randperm(n, generator=gen), 0
    for t in range(1, num_steps + 1):
        if pos + batch_size > n:
            order, pos = torch.randperm(n, generator=gen), 0
        idx = order[pos:pos + batch_size].to(X.device)
        pos += batch_size
        opt.zero_grad()
        loss = F.cross_entropy(model(X[idx]), y[idx])
        if not torch.isfinite(loss):
            record(t)
            break
        loss.backward()
        opt.step()
        if t % eval_every == 0 or t == num_steps:
            record(t)
    losses = np.array(rec["train_loss"])
    div = bool(protocol_diverged(losses)) if math.isfinite(losses[0]) and losses[0] > 0 else True
    full = F.cross_entropy(model(X), y)
    lam = float(sharpness(full, params, seed=seed).eigenvalue) if not div else math.nan
    return LongRun(np.array(rec["steps"]), np.array(rec["lr"]), losses, np.array(rec["train_acc"]),
                   np.array(rec["test_acc"]), lam, div)


def collapse_step(steps: Any, lr: Any, *, fraction: float = 0.1) -> int | None:
    """First recorded step after the peak at which ``lr`` is below ``fraction`` × its peak.

    Parameters
    ----------
    steps, lr : array_like
        Record steps and rates (``nan`` entries are ignored).
    fraction : float, optional
        In (0, 1), default 0.1 (a fall by a decade).

    Returns
    -------
    int or None
        ``None`` if the rate never falls that far.
    """
    s = check_array("steps", steps, ndim=1)
    if np.any(s != np.round(s)):
        raise ValueError("steps must hold whole step numbers")
    r = check_array("lr", lr, ndim=1, finite=False)
    if np.any(np.isinf(r)):
        raise ValueError("lr must hold finite rates (nan where none was recorded)")
    if s.shape != r.shape:
        raise ValueError("steps and lr must have the same length")
    fraction = check_scalar("fraction", fraction, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    ok = np.isfinite(r)
    if not ok.any():
        return None
    peak_i = int(np.nanargmax(np.where(ok, r, -np.inf)))
    below = np.nonzero(ok[peak_i:] & (r[peak_i:] < fraction * r[peak_i]))[0]
    return int(s[peak_i + below[0]]) if below.size else None
