"""Learning-rate sweeps of small torch classifiers on the bundled data sets (chapter 1).

:func:`make_classifier` builds a seeded logistic regression or one-hidden-layer
MLP, :func:`train_classifier` trains it with mini-batches drawn from a seeded
torch generator and reports train/test loss and accuracy, and :func:`lr_sweep`
repeats that over learning rates and seeds; :func:`logreg_optimum` solves the
L2-penalised logistic regression exactly (scipy's Newton-CG), for optimality gaps.  torch is imported inside the
functions only, so importing this module stays cheap.

Derived in chapter 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

import numpy as np

from ._validation import (
    check_array,
    check_callable,
    check_choice,
    check_float_dtype,
    check_instance,
    check_int,
    check_scalar,
    check_str,
    check_tensor,
)

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from .datasets import TensorSplit

__all__ = ["TrainResult", "make_classifier", "train_classifier", "lr_sweep", "update_cosine", "LogregOptimum",
           "logreg_optimum"]

OptimizerFactory = Callable[[Iterable["torch.nn.Parameter"], float], "torch.optim.Optimizer"]


@dataclass(frozen=True)
class TrainResult:
    """Final metrics of one training run (losses are mean cross-entropies; ``nan`` if diverged)."""

    lr: float
    seed: int
    train_loss: float
    test_loss: float
    train_acc: float
    test_acc: float
    diverged: bool


def make_classifier(kind: str, num_features: int, num_classes: int, *, hidden: int = 64, seed: int,
                    device: Any = None, dtype: Any = None, init: str = "default") -> "torch.nn.Module":
    """A seeded linear ("logreg") or one-hidden-layer tanh ("mlp") classifier.

    Parameters
    ----------
    kind : {"logreg", "mlp"}
        Logistic regression (one linear layer) or Linear–tanh–Linear.
    num_features, num_classes : int
        Input and output sizes, ≥ 1.
    hidden : int, optional
        Hidden width of the MLP (default 64).
    seed : int
        Seed of the initialisation (torch's default layer initialisers).
    device, dtype : optional
        Where and in which floating dtype to put the parameters.
    init : {"default", "zeros"}, optional
        torch's default initialisers (seeded), or all parameters zero (only for
        ``"logreg"``, where it is the natural start of a convex problem and makes
        a run commute with a rotation of the features; chapter 1).

    Returns
    -------
    torch.nn.Module
        Maps ``(n, num_features)`` to logits ``(n, num_classes)``.
    """
    import torch

    from .experiments import get_device

    check_choice("kind", kind, ("logreg", "mlp"))
    num_features = check_int("num_features", num_features, low=1)
    num_classes = check_int("num_classes", num_classes, low=1)
    hidden = check_int("hidden", hidden, low=1)
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    check_choice("init", init, ("default", "zeros"))
    if init == "zeros" and kind != "logreg":
        raise ValueError("init='zeros' is only for kind='logreg' (a zero MLP has no gradient to its hidden layer)")
    dtype = check_float_dtype("dtype", dtype, torch.float32)
    dev = get_device(device)
    gen_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        if kind == "logreg":
            model = torch.nn.Linear(num_features, num_classes)
        else:
            model = torch.nn.Sequential(torch.nn.Linear(num_features, hidden), torch.nn.Tanh(),
                                        torch.nn.Linear(hidden, num_classes))
    finally:
        torch.random.set_rng_state(gen_state)
    if init == "zeros":
        with torch.no_grad():
            for p in model.parameters():
                p.zero_()
    return model.to(device=dev, dtype=dtype)


def _evaluate(model: "torch.nn.Module", X: "torch.Tensor", y: "torch.Tensor") -> tuple[float, float]:
    import torch

    with torch.no_grad():
        out = model(X)
        loss = torch.nn.functional.cross_entropy(out, y).item()
        acc = (out.argmax(dim=1) == y).double().mean().item()
    return loss, acc


def train_classifier(
    model: "torch.nn.Module",
    optimizer: "torch.optim.Optimizer",
    data: "TensorSplit",
    *,
    epochs: int,
    batch_size: int,
    seed: int,
) -> TrainResult:
    """Train ``model`` in place with mini-batch cross-entropy and report final metrics.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier producing logits.
    optimizer : torch.optim.Optimizer
        Built on ``model.parameters()``; its first group's ``lr`` is reported.
    data : TensorSplit
        From :func:`lrtheory.datasets.load_dataset`.
    epochs : int
        Passes over the training set, ≥ 0.
    batch_size : int
        Examples per step, ≥ 1 (the last batch of an epoch may be smaller;
        ``batch_size ≥ n`` gives full-batch gradient descent).
    seed : int
        Seed of the generator that shuffles each epoch.

    Returns
    -------
    TrainResult
        With ``diverged=True`` (and ``nan`` metrics) if a loss became non-finite.
    """
    import torch

    from .datasets import TensorSplit
    from .experiments import torch_generator

    check_instance("model", model, torch.nn.Module)
    check_instance("optimizer", optimizer, torch.optim.Optimizer)
    check_instance("data", data, TensorSplit)
    epochs = check_int("epochs", epochs, low=0)
    batch_size = check_int("batch_size", batch_size, low=1)
    gen = torch_generator(seed, device="cpu")
    n = int(data.X_train.shape[0])
    lr = float(optimizer.param_groups[0]["lr"])
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen).to(data.X_train.device)
        for start in range(0, n, batch_size):
            idx = perm[start:start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(data.X_train[idx]), data.y_train[idx])
            if not torch.isfinite(loss):
                nan = float("nan")
                return TrainResult(lr, seed, nan, nan, nan, nan, True)
            loss.backward()
            optimizer.step()
    tr_loss, tr_acc = _evaluate(model, data.X_train, data.y_train)
    te_loss, te_acc = _evaluate(model, data.X_test, data.y_test)
    diverged = not (np.isfinite(tr_loss) and np.isfinite(te_loss))
    return TrainResult(lr, seed, tr_loss, te_loss, tr_acc, te_acc, diverged)


def lr_sweep(
    kind: str,
    make_optimizer: OptimizerFactory,
    lrs: Sequence[float],
    data: "TensorSplit",
    *,
    epochs: int,
    batch_size: int,
    seeds: Sequence[int] = (0,),
    hidden: int = 64,
    progress_desc: str | None = None,
) -> list[TrainResult]:
    """Train one fresh classifier per (learning rate, seed) and collect the results.

    Parameters
    ----------
    kind : {"logreg", "mlp"}
        Model family (:func:`make_classifier`).
    make_optimizer : callable
        ``make_optimizer(params, lr)`` returns an optimiser.
    lrs : sequence of float
        Learning rates (> 0).
    data : TensorSplit
        The data (its device is used for the model).
    epochs, batch_size
        As in :func:`train_classifier`.
    seeds : sequence of int, optional
        One run per seed; the seed sets both the initialisation and the batch order.
    hidden : int, optional
        MLP width.
    progress_desc : str, optional
        Label of the progress bar (quiet in the quick mode).

    Returns
    -------
    list of TrainResult
        In the order ``for lr in lrs for seed in seeds``.
    """
    import torch

    from .datasets import TensorSplit
    from .experiments import progress

    check_callable("make_optimizer", make_optimizer)
    check_choice("kind", kind, ("logreg", "mlp"))
    check_instance("data", data, TensorSplit)
    if progress_desc is not None:
        check_str("progress_desc", progress_desc)
    lrs = [check_scalar("lrs", lr, low=0.0, low_inclusive=False) for lr in _sequence("lrs", lrs)]
    seeds = [check_int("seeds", s, low=0) for s in _sequence("seeds", seeds)]
    if not lrs or not seeds:
        raise ValueError("lrs and seeds must be non-empty")
    out = []
    jobs = [(lr, s) for lr in lrs for s in seeds]
    for lr, s in progress(jobs, desc=progress_desc):
        model = make_classifier(kind, data.num_features, data.num_classes, hidden=hidden, seed=s,
                                device=data.X_train.device, dtype=data.X_train.dtype)
        opt = check_instance("the value returned by make_optimizer", make_optimizer(model.parameters(), lr),
                             torch.optim.Optimizer)
        out.append(train_classifier(model, opt, data, epochs=epochs, batch_size=batch_size, seed=s))
    return out


def _sequence(name: str, value: Any) -> Sequence[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence, got {type(value).__name__}")
    return value


def update_cosine(model: "torch.nn.Module", make_optimizer: OptimizerFactory, lr: float,
                  X: "torch.Tensor", y: "torch.Tensor", *, num_steps: int = 1) -> np.ndarray:
    """Cosine between the descent direction −Δθ and the full gradient, step by step.

    Parameters
    ----------
    model : torch.nn.Module
        The classifier (trained in place for ``num_steps`` full-batch steps).
    make_optimizer : callable
        ``make_optimizer(params, lr)``.
    lr : float
        Learning rate.
    X, y : torch.Tensor
        The batch defining the loss (cross-entropy).
    num_steps : int, optional
        Number of steps to record (≥ 1).

    Returns
    -------
    numpy.ndarray, shape (num_steps,)
        cos ∠(−Δθ, ∇L) over all parameters together: 1 for plain gradient
        descent and for any rule with a scalar learning rate.
    """
    import torch

    check_instance("model", model, torch.nn.Module)
    check_callable("make_optimizer", make_optimizer)
    lr = check_scalar("lr", lr, low=0.0, low_inclusive=False)
    check_tensor("X", X, ndim=2, dtype_kind="float", nonempty=True)
    check_tensor("y", y, shape=(X.shape[0],), dtype_kind="int", finite=False, nonnegative=True)
    num_steps = check_int("num_steps", num_steps, low=1)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = check_instance("the value returned by make_optimizer", make_optimizer(params, lr), torch.optim.Optimizer)
    cosines = []
    for _ in range(num_steps):
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(X), y).backward()
        before = [p.detach().clone() for p in params]
        grad = torch.cat([p.grad.reshape(-1) for p in params]).double()
        opt.step()
        delta = torch.cat([(p.detach() - b).reshape(-1) for p, b in zip(params, before)]).double()
        cosines.append((-(delta @ grad) / (delta.norm() * grad.norm())).item())
    return np.array(cosines)


@dataclass(frozen=True)
class LogregOptimum:
    """The minimiser of L2-penalised multinomial logistic regression (:func:`logreg_optimum`).

    Attributes
    ----------
    value : float
        L* = min over (W, b) of mean cross-entropy + (λ/2)(‖W‖² + ‖b‖²).
    weight : numpy.ndarray, shape (num_classes, num_features)
    bias : numpy.ndarray, shape (num_classes,)
    grad_norm : float
        Euclidean norm of the objective's gradient at the returned point.
    """

    value: float
    weight: np.ndarray
    bias: np.ndarray
    grad_norm: float


def logreg_optimum(X: Any, y: Any, num_classes: int, l2: float, *, gtol: float = 1e-10) -> LogregOptimum:
    """The exact optimum of the L2-penalised logistic regression that :func:`lrtheory.batched.train_seeds` trains.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Features (numpy, or a torch tensor on any device).
    y : array_like of int, shape (n,)
        Labels in ``0 … num_classes − 1``.
    num_classes : int
        ≥ 2.
    l2 : float
        λ > 0 (the penalty covers weights and biases, as ``train_seeds(..., l2=λ)`` does).
    gtol : float, optional
        Tolerance (> 0): Newton-CG's step tolerance, and the returned point must
        have a gradient norm below √gtol.

    Returns
    -------
    LogregOptimum

    Raises
    ------
    ValueError
        For bad input, or if the solver does not reach a gradient norm below √gtol.

    Notes
    -----
    With λ > 0 the objective is strictly convex and coercive, so it has exactly
    one minimiser; without the penalty, separable data (``digits`` is nearly so)
    have none, and "the training loss" of an optimiser only measures how far it
    ran towards infinity.  Solved in float64 by :func:`scipy.optimize.minimize`
    (Newton-CG, with the analytic gradient and Hessian-vector products
    H v = (1/n) Σ x̃ᵢ ⊗ (diag pᵢ − pᵢpᵢᵀ) x̃ᵢᵀv + λv; it converges in a few
    Newton steps where L-BFGS needs hundreds on raw, badly conditioned features).  Chapter 1 uses L* for the
    optimality gap of every optimiser.
    """
    from scipy.optimize import minimize
    from scipy.special import logsumexp, softmax

    if hasattr(X, "detach"):
        X = X.detach().cpu().numpy()
    if hasattr(y, "detach"):
        y = y.detach().cpu().numpy()
    X = check_array("X", X, ndim=2, nonempty=True)
    yy = np.asarray(y) if isinstance(y, (np.ndarray, list, tuple)) else None
    if yy is None or yy.shape != (X.shape[0],) or not np.issubdtype(yy.dtype, np.integer) or yy.dtype == bool:
        raise ValueError(f"y must be {X.shape[0]} integer labels")
    C = check_int("num_classes", num_classes, low=2)
    if yy.min() < 0 or yy.max() >= C:
        raise ValueError(f"y must hold labels in 0 .. {C - 1}")
    l2 = check_scalar("l2", l2, low=0.0, low_inclusive=False)
    gtol = check_scalar("gtol", gtol, low=0.0, low_inclusive=False)
    n, d = X.shape
    Y = np.eye(C)[yy]
    Xt = np.concatenate([X, np.ones((n, 1))], axis=1)      # the bias as a last feature

    def fun(z: np.ndarray) -> tuple[float, np.ndarray]:
        Z = Xt @ z.reshape(C, d + 1).T
        val = float(np.mean(logsumexp(Z, axis=1) - np.sum(Z * Y, axis=1)) + 0.5 * l2 * (z @ z))
        R = (softmax(Z, axis=1) - Y) / n
        return val, (R.T @ Xt).ravel() + l2 * z

    def hessp(z: np.ndarray, v: np.ndarray) -> np.ndarray:
        P = softmax(Xt @ z.reshape(C, d + 1).T, axis=1)
        U = Xt @ v.reshape(C, d + 1).T
        T = P * U - P * np.sum(P * U, axis=1, keepdims=True)     # (diag p - p p^T) u, example by example
        return (T.T @ Xt / n).ravel() + l2 * v

    res = minimize(fun, np.zeros(C * (d + 1)), jac=True, hessp=hessp, method="Newton-CG",
                   options={"xtol": gtol, "maxiter": 500})
    val, g = fun(res.x)
    gn = float(np.linalg.norm(g))
    if not gn < np.sqrt(gtol):
        raise ValueError(f"Newton-CG stopped at gradient norm {gn:.2e}: {res.message}")
    z = res.x.reshape(C, d + 1)
    return LogregOptimum(val, z[:, :d].copy(), z[:, d].copy(), gn)
