"""The trajectory test of the modified equation on a real network (chapter 3).

Backward error analysis predicts how far gradient descent at rate γ ends up,
after a fixed time T, from two continuous models of it:

* the gradient flow, approximated by gradient descent at a small rate η:
  distance of order γ − η (first order);
* the first-order modified flow θ' = −∇(L + (γ/4)‖∇L‖²), approximated by
  gradient descent at the same small rate η on the penalised loss
  L + ((γ − η)/4)‖∇L‖² (the coefficient γ − η leaves room for η's own
  implicit term η/4): distance of order γ² while γλ < 1.

:func:`trajectory_test` runs all of it for several seeds at once (every run
is a lane of :func:`lrtheory.lane_dynamics.gd_lanes`) and records what decides whether
a run sits inside the radius of the expansion: the initial sharpness λ0 of
every seed, the loss curve of every run at rate γ, and the sharpness of the
*penalised* loss that the small-rate control descends (a control that is
itself unstable, η·λ̃ > 2, would prove nothing).  :func:`loglog_slopes` fits
the per-seed slopes of log distance against log γ.  :func:`track_sharpness`
follows the sharpness and the loss along gradient descent (progressive
sharpening, the edge of stability, the catapult), and :func:`fixed_time_runs`
trains several (rate, penalty) configurations to a common time T for the
protocol's paired comparisons.

Derived and used in chapter 3; torch is imported inside the functions only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ._validation import check_array, check_callable, check_int, check_scalar

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from .lanes import Params

__all__ = ["TrajectoryTest", "trajectory_test", "loglog_slopes", "SharpnessTrack", "track_sharpness",
           "fixed_time_runs"]


@dataclass(frozen=True)
class TrajectoryTest:
    """Outcome of :func:`trajectory_test`; arrays over (rates, seeds).

    Attributes
    ----------
    lrs : numpy.ndarray, shape (G,)
        The learning rates γ, increasing.
    small_lr : float
        The small rate η of both references.
    time : float
        The common time T = (steps) × (rate) of every run.
    seeds : tuple of int
        The seeds (initial weights), in order.
    dist_flow : numpy.ndarray, shape (G, S)
        ‖θ_γ(T) − θ_η(T)‖: GD at γ against plain GD at η.
    dist_modified : numpy.ndarray, shape (G, S)
        ‖θ_γ(T) − θ̃(T)‖: GD at γ against GD at η on L + ((γ − η)/4)‖∇L‖².
    losses : list of numpy.ndarray
        ``losses[g]`` has shape (S, T/γ_g + 1): training loss of GD at γ_g
        before each step and after the last.
    initial_sharpness : numpy.ndarray, shape (S,)
        λ0 = λ_max(∇²L) at the initial weights of each seed.
    final_sharpness : numpy.ndarray, shape (S,)
        λ_max(∇²L) at time T along the small-rate reference.
    control_sharpness : numpy.ndarray, shape (G, S)
        λ_max of the Hessian of the penalised loss at the initial weights:
        the small-rate control is stable where η × this < 2.
    diverged : numpy.ndarray of bool, shape (G, S)
        Runs at γ whose loss became non-finite.

    Notes
    -----
    Derived in chapter 3.
    """

    lrs: np.ndarray
    small_lr: float
    time: float
    seeds: tuple[int, ...]
    dist_flow: np.ndarray
    dist_modified: np.ndarray
    losses: list = field(repr=False)
    initial_sharpness: np.ndarray
    final_sharpness: np.ndarray
    control_sharpness: np.ndarray
    diverged: np.ndarray

    @property
    def edge(self) -> float:
        """The stability edge 2/λ0 of the least stable seed (smallest over seeds)."""
        return float(2.0 / self.initial_sharpness.max())

    def inside(self) -> np.ndarray:
        """Which rates lie inside the radius: γ · max(λ0, λ(T)) < 1 for every seed."""
        lam = np.maximum(self.initial_sharpness, self.final_sharpness).max()
        return self.lrs * lam < 1.0


def trajectory_test(make_model: Callable[[int], Any], X: "torch.Tensor", y: "torch.Tensor", *,
                    seeds: Sequence[int], lrs: Sequence[float], small_lr: float, time: float,
                    sharpness_iters: int = 100, sharpness_tol: float = 1e-3,
                    desc: str | None = None) -> TrajectoryTest:
    """Distances at a fixed time between GD at each rate γ and its two small-rate models.

    Parameters
    ----------
    make_model : callable
        ``make_model(seed)`` returns a seeded classifier (an ``nn.Sequential`` of
        linear layers and elementwise activations) on ``X``'s device and dtype.
    X, y : torch.Tensor
        Full training set, shapes ``(n, d)`` and ``(n,)``; the loss is the mean cross-entropy.
    seeds : sequence of int
        Distinct seeds, at least one.
    lrs : sequence of float
        Rates γ > ``small_lr``, increasing, each with ``time / γ`` a whole number of steps.
    small_lr : float
        The small rate η of both references; ``time / η`` must be whole.
    time : float
        The common time T.
    sharpness_iters : int, optional
        Maximum power iterations of the penalised losses' sharpness (default
        100; ten times as many, at tolerance 1e-6, for the seeds' own λ0 and λ(T)).
    sharpness_tol : float, optional
        Relative tolerance of the penalised losses' sharpness (default 1e-3).
    desc : str, optional
        Prefix of the progress bars.

    Returns
    -------
    TrajectoryTest

    Raises
    ------
    TypeError, ValueError
        For bad arguments, naming the argument.

    Notes
    -----
    Runs: plain GD at η (one lane per seed), GD at η on the penalised loss with
    coefficient γ − η (one lane per rate and seed, all in lockstep), and GD at
    every γ for T/γ steps. Every lane starts from its seed's initial weights.
    Derived in chapter 3.
    """
    import torch

    from .lane_dynamics import gd_lanes, lane_sharpness
    from .lanes import _check_models, flatten_lanes, repeat_lanes, stack_models
    from .protocol import check_seeds

    check_callable("make_model", make_model)
    seeds = check_seeds("seeds", seeds)
    gam = check_array("lrs", lrs, ndim=1)
    if gam.size == 0:
        raise ValueError("lrs must not be empty")
    small_lr = check_scalar("small_lr", small_lr, low=0.0, low_inclusive=False)
    time = check_scalar("time", time, low=0.0, low_inclusive=False)
    sharpness_iters = check_int("sharpness_iters", sharpness_iters, low=1)
    sharpness_tol = check_scalar("sharpness_tol", sharpness_tol, low=0.0)
    if desc is not None and not isinstance(desc, str):
        raise TypeError(f"desc must be a str, got {type(desc).__name__}")
    if np.any(np.diff(gam) <= 0) or gam[0] <= small_lr:
        raise ValueError("lrs must be increasing and larger than small_lr")

    def whole(name: str, rate: np.ndarray) -> np.ndarray:
        n = time / rate
        k = np.round(n)
        if np.any(np.abs(n - k) > 1e-9 * np.maximum(1.0, n)) or np.any(k < 1):
            raise ValueError(f"time / {name} must be a whole number of steps (>= 1) for every rate")
        return k.astype(np.int64)

    n_gam = whole("lrs", gam)
    n_small = int(whole("small_lr", np.array([small_lr]))[0])
    models = _check_models("make_model's models", [make_model(s) for s in seeds])
    template = models[0]
    P = stack_models(models)
    del models
    S, G = len(seeds), gam.size
    pre = f"{desc}: " if desc else ""

    ref = gd_lanes(template, P, X, y, lr=small_lr, num_steps=n_small, desc=pre + "GD at the small rate")
    PP = repeat_lanes(P, G)
    coeff = np.repeat(gam - small_lr, S)
    ctl = gd_lanes(template, PP, X, y, lr=small_lr, num_steps=n_small, penalty=coeff,
                   desc=pre + "GD at the small rate on the penalised loss")
    run = gd_lanes(template, PP, X, y, lr=np.repeat(gam, S), num_steps=np.repeat(n_gam, S),
                   desc=pre + "GD at each rate")
    f_ref = flatten_lanes(template, ref.params)
    f_ctl = flatten_lanes(template, ctl.params).reshape(G, S, -1)
    f_run = flatten_lanes(template, run.params).reshape(G, S, -1)
    with torch.no_grad():
        d_flow = torch.linalg.vector_norm(f_run - f_ref[None], dim=2).double().cpu().numpy()
        d_mod = torch.linalg.vector_norm(f_run - f_ctl, dim=2).double().cpu().numpy()
    div = run.diverged.reshape(G, S)
    d_flow[div] = np.nan
    d_mod[div] = np.nan
    losses = [run.losses[g * S:(g + 1) * S, :n_gam[g] + 1] for g in range(G)]
    # the seeds' own sharpness is cheap: ten times the iterations, at 1e-6
    kw = dict(num_iters=10 * sharpness_iters, tol=1e-6, seed=0)
    lam0 = lane_sharpness(template, P, X, y, **kw).eigenvalues
    lamT = lane_sharpness(template, ref.params, X, y, **kw).eigenvalues
    lam_ctl = lane_sharpness(template, PP, X, y, penalty=coeff, num_iters=sharpness_iters, tol=sharpness_tol,
                             seed=0).eigenvalues.reshape(G, S)
    return TrajectoryTest(gam, small_lr, time, seeds, d_flow, d_mod, losses, lam0, lamT, lam_ctl, div)


def loglog_slopes(x: Any, dist: Any) -> np.ndarray:
    """Per-seed least-squares slopes of log(dist) against log(x).

    Parameters
    ----------
    x : array_like, shape (G,)
        Positive abscissae (e.g. the rates γ, or γ − η).
    dist : array_like, shape (G, S)
        Positive distances, one column per seed.

    Returns
    -------
    numpy.ndarray, shape (S,)

    Raises
    ------
    ValueError
        For fewer than two points, non-positive or non-finite entries, or a shape mismatch.

    Notes
    -----
    Chapter 3 asserts the slopes 1 and 2 of the trajectory test with these.
    """
    xx = check_array("x", x, ndim=1)
    d = check_array("dist", dist, ndim=2)
    if d.shape[0] != xx.size:
        raise ValueError(f"dist must have one row per entry of x ({xx.size}), got shape {d.shape}")
    if xx.size < 2:
        raise ValueError("x must hold at least two points")
    if np.any(xx <= 0) or np.any(d <= 0):
        raise ValueError("x and dist must be positive")
    lx = np.log(xx)
    return np.array([np.polyfit(lx, np.log(d[:, j]), 1)[0] for j in range(d.shape[1])])


@dataclass(frozen=True)
class SharpnessTrack:
    """Outcome of :func:`track_sharpness`.

    Attributes
    ----------
    steps : numpy.ndarray of int, shape (K,)
        The steps at which the sharpness was measured (0, every, 2·every, …, num_steps).
    sharpness : numpy.ndarray, shape (K, lanes)
        λ_max(∇²L) of every lane at those steps (``nan`` once a lane has diverged).
    losses : numpy.ndarray, shape (lanes, num_steps + 1)
        Training loss before every step and after the last.
    params : dict of str to torch.Tensor
        The parameters after the last step.
    diverged : numpy.ndarray of bool, shape (lanes,)

    Notes
    -----
    Derived in chapter 3.
    """

    steps: np.ndarray
    sharpness: np.ndarray
    losses: np.ndarray = field(repr=False)
    params: Params = field(repr=False)
    diverged: np.ndarray


def track_sharpness(model: Any, params: Params, X: "torch.Tensor", y: "torch.Tensor", *, lr: Any,
                    num_steps: int, every: int, loss: str = "cross_entropy", num_iters: int = 20,
                    first_iters: int = 300, tol: float = 1e-3, seed: int = 0,
                    desc: str | None = None) -> SharpnessTrack:
    """Full-batch gradient descent in every lane, with the sharpness measured every ``every`` steps.

    Parameters
    ----------
    model, params, X, y, lr, loss
        As in :func:`gd_lanes` (one step count for all lanes).
    num_steps : int
        Steps of every lane, ≥ 0.
    every : int
        Steps between two sharpness measurements, ≥ 1.
    num_iters : int, optional
        Power iterations per measurement after the first (default 20); each
        starts from the previous eigenvector estimate.
    first_iters : int, optional
        Power iterations of the first measurement (default 300).
    tol, seed
        As in :func:`lane_sharpness`.
    desc : str, optional
        Label of the progress bar (one tick per measurement).

    Returns
    -------
    SharpnessTrack

    Notes
    -----
    Gradient descent has no state besides the parameters, so running it in
    segments of ``every`` steps is the same run. Warm starts make each later
    measurement cheap while the top eigenvector moves slowly. Derived in
    chapter 3 (progressive sharpening, the edge of stability, the catapult).
    """
    from .experiments import progress
    from .lane_dynamics import gd_lanes, lane_sharpness
    from .lanes import _check_params, lane_losses

    _, S = _check_params(model, params)
    num_steps = check_int("num_steps", num_steps, low=0)
    every = check_int("every", every, low=1)
    num_iters = check_int("num_iters", num_iters, low=1)
    first_iters = check_int("first_iters", first_iters, low=1)
    if desc is not None and not isinstance(desc, str):
        raise TypeError(f"desc must be a str, got {type(desc).__name__}")
    marks = list(range(0, num_steps, every)) + [num_steps]
    cur, vec = params, None
    sharp = np.full((len(marks), S), np.nan)
    losses = np.full((S, num_steps + 1), np.nan)
    div = np.zeros(S, dtype=bool)
    for k in progress(range(len(marks)), desc=desc):
        est = lane_sharpness(model, cur, X, y, loss=loss, num_iters=first_iters if vec is None else num_iters,
                             tol=tol, seed=seed, start=vec)
        vec = est.vectors
        sharp[k] = np.where(div, np.nan, est.eigenvalues)
        if k == len(marks) - 1:
            break
        n = marks[k + 1] - marks[k]
        run = gd_lanes(model, cur, X, y, lr=lr, num_steps=n, loss=loss)
        losses[:, marks[k]:marks[k + 1] + 1] = run.losses
        div |= run.diverged
        cur = run.params
    if num_steps == 0:
        losses[:, 0] = lane_losses(model, cur, X, y, loss=loss)
    return SharpnessTrack(np.array(marks), sharp, losses, cur, div)


def fixed_time_runs(make_model: Callable[[int], Any], data: Any, *, seeds: Sequence[int],
                    configs: dict, time: float, sharpness_iters: int = 100,
                    desc: str | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Full-batch GD to a common time T for several (rate, penalty) configurations, as protocol runs.

    Parameters
    ----------
    make_model : callable
        ``make_model(seed)`` returns a seeded classifier on ``data``'s device and dtype.
    data : lrtheory.datasets.TensorSplit
        The split; GD runs on its full training part.
    seeds : sequence of int
        The evaluation seeds (the same for every configuration: paired).
    configs : dict of str to (float, float)
        ``name -> (lr, penalty)``: gradient descent at ``lr`` for ``time / lr``
        steps on L + (penalty/4)‖∇L‖².
    time : float
        The common time T; ``time / lr`` must be a whole number for every configuration.
    sharpness_iters : int, optional
        Power iterations of the final sharpness (tolerance 1e-4).
    desc : str, optional
        Prefix of the progress bars.

    Returns
    -------
    dict of str to dict of str to numpy.ndarray
        For each configuration, :func:`lrtheory.lanes.lane_metrics` plus
        ``sharpness`` (λ_max of the training loss at T) and ``diverged``, one
        value per seed: what a protocol ``run(value, seeds)`` returns.

    Notes
    -----
    Configurations with the same rate run in lockstep as lanes of one
    :func:`lrtheory.lane_dynamics.gd_lanes` call (penalised and plain ones apart). Derived in chapter 3, where
    :func:`lrtheory.protocol.compare_methods` reads the results.
    """
    from .datasets import TensorSplit
    from .lane_dynamics import gd_lanes, lane_sharpness
    from .lanes import _check_models, lane_metrics, repeat_lanes, stack_models
    from .protocol import check_seeds

    check_callable("make_model", make_model)
    if not isinstance(data, TensorSplit):
        raise TypeError(f"data must be a TensorSplit, got {type(data).__name__}")
    seeds = check_seeds("seeds", seeds)
    time = check_scalar("time", time, low=0.0, low_inclusive=False)
    sharpness_iters = check_int("sharpness_iters", sharpness_iters, low=1)
    if desc is not None and not isinstance(desc, str):
        raise TypeError(f"desc must be a str, got {type(desc).__name__}")
    if not isinstance(configs, dict) or not configs:
        raise TypeError("configs must be a non-empty dict of name -> (lr, penalty)")
    parsed: dict[str, tuple[float, float, int]] = {}
    for name, spec in configs.items():
        if not isinstance(name, str) or not (isinstance(spec, tuple) and len(spec) == 2):
            raise TypeError(f"configs[{name!r}] must be a (lr, penalty) tuple under a str name")
        lr = check_scalar(f"configs[{name!r}] lr", spec[0], low=0.0, low_inclusive=False)
        pen = check_scalar(f"configs[{name!r}] penalty", spec[1], low=0.0)
        n = time / lr
        if abs(n - round(n)) > 1e-9 * max(1.0, n) or round(n) < 1:
            raise ValueError(f"time / lr must be a whole number of steps for configs[{name!r}]")
        parsed[name] = (lr, pen, int(round(n)))
    models = _check_models("make_model's models", [make_model(s) for s in seeds])
    template, P = models[0], stack_models(models)
    del models
    S = len(seeds)
    out: dict[str, dict[str, np.ndarray]] = {}
    groups = sorted({(v[0], v[1] > 0) for v in parsed.values()})   # plain lanes skip the penalty's cost
    for lr, penalised in groups:
        names = [k for k, v in parsed.items() if v[0] == lr and (v[1] > 0) == penalised]
        pen = np.repeat([parsed[k][1] for k in names], S)
        run = gd_lanes(template, repeat_lanes(P, len(names)), data.X_train, data.y_train, lr=lr,
                       num_steps=parsed[names[0]][2], penalty=pen,
                       desc=f"{desc}: rate {lr:g}" if desc else None)
        metrics = lane_metrics(template, run.params, data)
        lam = lane_sharpness(template, run.params, data.X_train, data.y_train, num_iters=sharpness_iters,
                             tol=1e-4).eigenvalues
        for j, k in enumerate(names):
            sl = slice(j * S, (j + 1) * S)
            res = {m: v[sl].copy() for m, v in metrics.items()}
            res["sharpness"] = lam[sl].copy()
            res["diverged"] = run.diverged[sl].copy()
            out[k] = res
    return {k: out[k] for k in configs}
