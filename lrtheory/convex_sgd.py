"""Projected SGD on convex losses of linear models, many runs at once (chapter 2).

Chapter 2 tests its bounds on real features: does SGD actually stay below
them, and does the schedule that minimises a bound train best?  Both questions
need many runs of SGD on a problem whose minimum is known exactly.  This module
has

* :class:`LinearProblem` and :func:`make_problem`: ℓ2-regularised logistic
  regression, or the absolute loss abs(1 − y θ·x) (least absolute deviations fit
  of ±1 labels, Lipschitz and non-smooth, with no exact fit), on one of the
  book's data sets, optionally with unit-length feature rows and a box domain;
* :func:`solve_problem`: the exact minimum L* and a minimiser θ* from scipy
  (L-BFGS-B for the logistic loss, the linear program of the absolute loss
  with :func:`scipy.optimize.linprog`);
* :func:`run_sgd`: projected mini-batch SGD in torch for any number of runs at
  once, each with its own rates and its own seeded sample order, recording the
  gradient norms, the objective along training and the sampled regret;
* :func:`run_sgd_reference`: the same, one run at a time in numpy (the slow
  oracle of the tests).

With ``sampling="epochs"`` a run reshuffles the training set every epoch
exactly as :func:`lrtheory.batched.train_seeds` does (same generator, same
permutations), and without penalty or box the two agree (the tests check it);
``sampling="replacement"`` draws independent examples, which is what the
bounds assume.  Every run starts at θ_1 = 0 and applies its rates η_1, …, η_N,
so it returns θ_{N+1}.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ._validation import check_array, check_choice, check_int, check_scalar

__all__ = ["LinearProblem", "make_problem", "solve_problem", "SGDRuns", "run_sgd", "run_sgd_reference"]

LOSSES = ("logistic", "absolute")


@dataclass(frozen=True)
class LinearProblem:
    """A convex loss of a linear model θ·x on fixed training data.

    Attributes
    ----------
    name : str
    loss : {"logistic", "absolute"}
        log(1 + exp(−y θ·x)) or abs(1 − y θ·x).
    X : numpy.ndarray, shape (n, d)
        Features, the last column the bias input.
    y : numpy.ndarray, shape (n,)
        Labels in {−1, +1}.
    l2 : float
        λ ≥ 0 of the penalty λ/2 ‖θ‖² on every coordinate but the bias.
    box : float or None
        b > 0 for the domain [−b, b]^d (SGD then projects by clipping), or no domain.
    """

    name: str
    loss: str
    X: np.ndarray
    y: np.ndarray
    l2: float = 0.0
    box: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str, got {type(self.name).__name__}")
        check_choice("loss", self.loss, LOSSES)
        X = check_array("X", self.X, ndim=2)
        if X.shape[0] < 1 or X.shape[1] < 1:
            raise ValueError(f"X must hold at least one example and one feature, got shape {X.shape}")
        y = check_array("y", self.y, shape=(X.shape[0],))
        if not np.all(np.abs(y) == 1):
            raise ValueError("y must hold labels -1 and +1")
        check_scalar("l2", self.l2, low=0.0)
        if self.box is not None:
            check_scalar("box", self.box, low=0.0, low_inclusive=False)
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)

    @property
    def dim(self) -> int:
        """d, the number of parameters."""
        return int(self.X.shape[1])

    def objective(self, theta: Any) -> np.ndarray:
        """L(θ) = mean loss + λ/2 ‖θ without bias‖², for θ of shape (d,) or (runs, d)."""
        th = check_array("theta", theta, ndim=(1, 2))
        two = th.ndim == 2
        th = th if two else th[None, :]
        if th.shape[1] != self.dim:
            raise ValueError(f"theta must have {self.dim} entries per run, got {th.shape[1]}")
        m = self.y[None, :] * (th @ self.X.T)
        per = np.logaddexp(0.0, -m) if self.loss == "logistic" else np.abs(1.0 - m)
        out = per.mean(axis=1) + 0.5 * self.l2 * np.sum(th[:, :-1] ** 2, axis=1)
        return out if two else out[:1].copy()

    def gradient(self, theta: Any) -> np.ndarray:
        """A (sub)gradient of :meth:`objective` at θ of shape (d,), with sign(0) = 0."""
        th = check_array("theta", theta, shape=(self.dim,))
        m = self.y * (self.X @ th)
        coef = _coef(self.loss, m, self.y)
        g = self.X.T @ coef / self.X.shape[0]
        g[:-1] += self.l2 * th[:-1]
        return g


def _coef(loss: str, m: np.ndarray, y: np.ndarray) -> np.ndarray:
    if loss == "logistic":
        return -y * 0.5 * (1.0 - np.tanh(0.5 * m))          # −y σ(−m), stable
    return -y * np.sign(1.0 - m)


def make_problem(data: str, loss: str, *, l2: float = 0.0, box: float | None = None,
                 unit_rows: bool = False, positive_class: int = 1, seed: int = 0) -> LinearProblem:
    """A :class:`LinearProblem` on the training part of one of the book's data sets.

    Parameters
    ----------
    data : str
        A name from :data:`lrtheory.datasets.DATASETS`.
    loss : {"logistic", "absolute"}
    l2 : float, optional
        λ ≥ 0 (the absolute loss takes λ = 0 only: its minimum is a linear program).
    box : float, optional
        Half-width b > 0 of the domain [−b, b]^d.
    unit_rows : bool, optional
        Scale every row (features and the bias input 1) to unit length, so that
        every per-example (sub)gradient of the absolute loss has norm ≤ 1.
    positive_class : int, optional
        The class labelled +1 (every other class is −1).
    seed : int, optional
        Seed of the split (:func:`lrtheory.datasets.load_arrays` with 20% validation
        and 20% test data, standardised features).

    Returns
    -------
    LinearProblem
    """
    from .datasets import DATASETS, load_arrays

    data = check_choice("data", data, DATASETS)
    loss = check_choice("loss", loss, LOSSES)
    l2 = check_scalar("l2", l2, low=0.0)
    if loss == "absolute" and l2 > 0:
        raise ValueError("l2 must be 0 for the absolute loss (its minimum is computed as a linear program)")
    if box is not None:
        box = check_scalar("box", box, low=0.0, low_inclusive=False)
    if not isinstance(unit_rows, bool):
        raise TypeError(f"unit_rows must be a bool, got {type(unit_rows).__name__}")
    positive_class = check_int("positive_class", positive_class, low=0)
    a = load_arrays(data, val_size=0.2, test_size=0.2, seed=check_int("seed", seed, low=0))
    if positive_class >= a.num_classes:
        raise ValueError(f"positive_class must be < {a.num_classes} for {data!r}, got {positive_class}")
    X = np.concatenate([a.X_train, np.ones((a.X_train.shape[0], 1))], axis=1)
    if unit_rows:
        X = X / np.linalg.norm(X, axis=1, keepdims=True)
    y = np.where(a.y_train == positive_class, 1.0, -1.0)
    return LinearProblem(f"{data}, {loss} loss", loss, X, y, l2, box)


def solve_problem(problem: LinearProblem) -> tuple[np.ndarray, float]:
    """A minimiser θ* and the minimum L* of the problem (on its box, if any), from scipy.

    Parameters
    ----------
    problem : LinearProblem

    Returns
    -------
    (numpy.ndarray, float)

    Notes
    -----
    The logistic objective is smooth: :func:`scipy.optimize.minimize` with
    L-BFGS-B and the analytic gradient, tolerances at rounding level; the result
    is checked to be stationary (projected gradient below 10⁻⁸).  The absolute
    loss is the linear program min (1/n) Σ u_i subject to u_i ≥ ±(1 − y_i θ·x_i)
    and the box, solved by HiGHS through :func:`scipy.optimize.linprog`.
    """
    from scipy.optimize import linprog, minimize

    if not isinstance(problem, LinearProblem):
        raise TypeError(f"problem must be a LinearProblem, got {type(problem).__name__}")
    n, d = problem.X.shape
    bounds = [(-problem.box, problem.box)] * d if problem.box is not None else [(None, None)] * d
    if problem.loss == "logistic":
        res = minimize(lambda th: (float(problem.objective(th)[0]), problem.gradient(th)), np.zeros(d),
                       jac=True, method="L-BFGS-B", bounds=bounds,
                       options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 20000, "maxcor": 30})
        th = res.x
        g = problem.gradient(th)
        if problem.box is not None:          # projected gradient at the box
            g = np.where((th >= problem.box - 1e-12) & (g < 0) | (th <= -problem.box + 1e-12) & (g > 0), 0.0, g)
        if not (res.success and np.linalg.norm(g) < 1e-8):
            raise RuntimeError(f"L-BFGS-B did not converge on {problem.name}: {res.message}")
        return th, float(problem.objective(th)[0])
    A = problem.y[:, None] * problem.X                 # rows y_i x_i
    eye = np.eye(n)
    A_ub = np.block([[-A, -eye], [A, -eye]])           # 1 − a·θ ≤ u and a·θ − 1 ≤ u
    b_ub = np.concatenate([-np.ones(n), np.ones(n)])
    c = np.concatenate([np.zeros(d), np.full(n, 1.0 / n)])
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=bounds + [(0, None)] * n, method="highs")
    if not res.success:
        raise RuntimeError(f"linprog failed on {problem.name}: {res.message}")
    th = res.x[:d]
    return th, float(problem.objective(th)[0])


@dataclass(frozen=True)
class SGDRuns:
    """The outcome of :func:`run_sgd` (one row per run).

    Attributes
    ----------
    theta : numpy.ndarray, shape (runs, d)
        The final iterates θ_{N+1}.
    objective : numpy.ndarray, shape (runs,)
        L(θ_{N+1}).
    grad_norms : numpy.ndarray, shape (runs, N)
        ‖g_t‖ of the mini-batch (sub)gradient used by update t (penalty included).
    path : numpy.ndarray, shape (runs, K) or None
        L(θ_t) at the iterates t in ``path_steps`` (``record_every > 0``).
    path_steps : numpy.ndarray of int, shape (K,)
        The iterates t recorded (1 = the start).
    regret : numpy.ndarray, shape (runs, N) or None
        L(x_t, θ_t) − L(x_t, θ*) on each mini-batch (when ``theta_star`` is given).
    diverged : numpy.ndarray of bool, shape (runs,)
        The protocol's rule (:func:`lrtheory.protocol.diverged`) on the recorded objective.
    """

    theta: np.ndarray
    objective: np.ndarray
    grad_norms: np.ndarray
    path: np.ndarray | None
    path_steps: np.ndarray
    regret: np.ndarray | None
    diverged: np.ndarray


def _indices(seeds: Sequence[int], n: int, num_steps: int, batch_size: int, sampling: str):
    """Per-run sample indices (runs, N, B) and the batch size of each step, from seeded generators."""
    import torch

    from .experiments import torch_generator

    if sampling == "replacement":
        idx = torch.stack([torch.randint(0, n, (num_steps, batch_size), generator=torch_generator(s))
                           for s in seeds])
        return idx, np.full(num_steps, batch_size)
    per_epoch = math.ceil(n / batch_size)
    epochs = math.ceil(num_steps / per_epoch)
    k = np.arange(num_steps)
    j = k % per_epoch
    sizes = np.minimum(batch_size, n - j * batch_size)
    pos = (k // per_epoch * n + j * batch_size)[:, None] + np.arange(batch_size)[None, :]
    pos = np.where(np.arange(batch_size)[None, :] < sizes[:, None], pos, pos[:, :1])   # pad with a valid index
    perms = torch.stack([torch.cat([torch.randperm(n, generator=g) for _ in range(epochs)])
                         for g in (torch_generator(s) for s in seeds)])
    return perms[:, torch.as_tensor(pos)], sizes


def _seed_tuple(name: str, seeds: Any) -> tuple[int, ...]:
    """Seeds as a tuple of non-negative ints (repeats allowed: runs may share a sample order)."""
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__len__") or not hasattr(seeds, "__iter__"):
        raise TypeError(f"{name} must be a sequence of int, got {type(seeds).__name__}")
    return tuple(check_int(name, s, low=0) for s in seeds)


def _check_run_args(problem, rates, seeds, batch_size, sampling, record_every, theta_star):
    if not isinstance(problem, LinearProblem):
        raise TypeError(f"problem must be a LinearProblem, got {type(problem).__name__}")
    r = check_array("rates", rates, ndim=(1, 2), nonnegative=True)
    seeds = _seed_tuple("seeds", seeds)
    if not seeds:
        raise ValueError("seeds must not be empty")
    if r.ndim == 1:
        r = np.broadcast_to(r, (len(seeds), r.size))
    if r.shape[0] != len(seeds):
        raise ValueError(f"rates must have one row per seed ({len(seeds)}), got shape {r.shape}")
    if r.shape[1] < 1:
        raise ValueError("rates must hold at least one update")
    batch_size = check_int("batch_size", batch_size, low=1, high=problem.X.shape[0])
    sampling = check_choice("sampling", sampling, ("epochs", "replacement"))
    record_every = check_int("record_every", record_every, low=0)
    if theta_star is not None:
        theta_star = check_array("theta_star", theta_star, shape=(problem.dim,))
    return r, seeds, batch_size, sampling, record_every, theta_star


def run_sgd(problem: LinearProblem, rates: Any, seeds: Sequence[int], *, batch_size: int,
            sampling: str = "epochs", record_every: int = 0, theta_star: Any = None,
            device: Any = None) -> SGDRuns:
    """Projected mini-batch SGD from θ_1 = 0, many runs at once, in torch (float64).

    Parameters
    ----------
    problem : LinearProblem
    rates : array_like, shape (N,) or (runs, N)
        The rates η_1, …, η_N (shared, or one row per run).
    seeds : sequence of int
        One seed per run (runs may share a seed: same samples, other rates); a
        seed fixes the sample order.
    batch_size : int
        Examples per update (1 ≤ B ≤ n).
    sampling : {"epochs", "replacement"}, optional
        Reshuffle every epoch (as :func:`lrtheory.batched.train_seeds`), or draw
        independent examples (as the bounds assume).
    record_every : int, optional
        Record L(θ_t) every this many iterates (and at the last); 0: only the end.
    theta_star : array_like, shape (d,), optional
        A minimiser, to record the sampled regret L(x_t, θ_t) − L(x_t, θ*).
    device : str or torch.device, optional
        Default :func:`lrtheory.experiments.get_device`.

    Returns
    -------
    SGDRuns

    Notes
    -----
    Update t is θ_{t+1} = Π(θ_t − η_t g_t) with g_t the mean (sub)gradient of the
    loss over the mini-batch plus λθ (bias excluded), and Π the clipping onto
    the box (the identity without one).  Equal to :func:`run_sgd_reference` to
    rounding.  Chapter 2.
    """
    import torch

    from .experiments import get_device
    from .protocol import diverged as protocol_diverged

    r, seeds, B, sampling, every, theta_star = _check_run_args(problem, rates, seeds, batch_size, sampling,
                                                              record_every, theta_star)
    dev = get_device(device)
    runs, N = r.shape
    n, d = problem.X.shape
    X = torch.as_tensor(problem.X, dtype=torch.float64, device=dev)
    y = torch.as_tensor(problem.y, dtype=torch.float64, device=dev)
    R = torch.as_tensor(np.ascontiguousarray(r), dtype=torch.float64, device=dev)
    idx_all, sizes = _indices(seeds, n, N, B, sampling)
    idx_all = idx_all.to(dev)
    theta = torch.zeros(runs, d, dtype=torch.float64, device=dev)
    mask = torch.ones(d, dtype=torch.float64, device=dev)
    mask[-1] = 0.0
    star = None if theta_star is None else torch.as_tensor(theta_star, dtype=torch.float64, device=dev)
    norms = torch.empty(runs, N, dtype=torch.float64, device=dev)
    regret = torch.empty(runs, N, dtype=torch.float64, device=dev) if star is not None else None
    steps = [1] + ([t for t in range(1 + every, N + 1, every)] if every else []) + [N + 1]
    steps = sorted(set(steps))
    path = torch.empty(runs, len(steps), dtype=torch.float64, device=dev)

    def full(th: torch.Tensor) -> torch.Tensor:
        m = y[None, :] * (th @ X.T)
        per = torch.nn.functional.softplus(-m) if problem.loss == "logistic" else (1.0 - m).abs()
        return per.mean(1) + 0.5 * problem.l2 * (th[:, :-1] ** 2).sum(1)

    def per_loss(m: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.softplus(-m) if problem.loss == "logistic" else (1.0 - m).abs()

    col = 0
    with torch.no_grad():
        for k in range(N):
            if steps[col] == k + 1:
                path[:, col] = full(theta)
                col += 1
            b = int(sizes[k])
            idx = idx_all[:, k, :b]
            Xb, yb = X[idx], y[idx]                                   # (runs, b, d), (runs, b)
            m = yb * torch.bmm(Xb, theta[:, :, None])[:, :, 0]
            if problem.loss == "logistic":
                coef = -yb * torch.sigmoid(-m)
            else:
                coef = -yb * torch.sign(1.0 - m)
            g = torch.bmm(coef[:, None, :], Xb)[:, 0, :] / b + problem.l2 * mask * theta
            norms[:, k] = g.norm(dim=1)
            if regret is not None:
                m_star = yb * (Xb @ star)
                regret[:, k] = (per_loss(m) - per_loss(m_star)).mean(1)
            theta = theta - R[:, k:k + 1] * g
            if problem.box is not None:
                theta = theta.clamp(-problem.box, problem.box)
        path[:, col] = full(theta)
    path_np = path.cpu().numpy()
    with np.errstate(invalid="ignore"):
        div = protocol_diverged(np.where(np.isfinite(path_np), path_np, np.inf)) if path_np[:, 0].min() > 0 \
            else ~np.all(np.isfinite(path_np), axis=1)
    return SGDRuns(theta.cpu().numpy(), path_np[:, -1].copy(), norms.cpu().numpy(),
                   path_np if every else None, np.array(steps), None if regret is None else regret.cpu().numpy(),
                   np.asarray(div, dtype=bool))


def run_sgd_reference(problem: LinearProblem, rates: Any, seeds: Sequence[int], *, batch_size: int,
                      sampling: str = "epochs") -> np.ndarray:
    """The per-run numpy loop that :func:`run_sgd` batches: final iterates, shape (runs, d).

    Parameters
    ----------
    problem, rates, seeds, batch_size, sampling
        As in :func:`run_sgd`.

    Returns
    -------
    numpy.ndarray, shape (runs, d)

    Notes
    -----
    One run after another, with :meth:`LinearProblem.gradient` on each
    mini-batch and the same sample indices; the oracle of the tests.  Chapter 2.
    """
    r, seeds, B, sampling, _, _ = _check_run_args(problem, rates, seeds, batch_size, sampling, 0, None)
    idx_all, sizes = _indices(seeds, problem.X.shape[0], r.shape[1], B, sampling)
    idx_all = idx_all.numpy()
    out = np.zeros((len(seeds), problem.dim))
    for i in range(len(seeds)):
        th = np.zeros(problem.dim)
        for k in range(r.shape[1]):
            sub = idx_all[i, k, :int(sizes[k])]
            part = LinearProblem(problem.name, problem.loss, problem.X[sub], problem.y[sub], problem.l2, None)
            th = th - r[i, k] * part.gradient(th)
            if problem.box is not None:
                th = np.clip(th, -problem.box, problem.box)
        out[i] = th
    return out
