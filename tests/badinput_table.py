"""Valid example arguments for every public callable of lrtheory, and the allow-lists.

This is the one file to edit when a public function is added (the suite
``tests/test_bad_input.py`` fails, naming it, until it has an entry here).

How to add an entry
-------------------
Add one line to :data:`EXAMPLES`, keyed by the public path that the failure
message prints (``"module.function"``, ``"module.Class"`` for a constructor,
``"module.Class.method"`` for a method)::

    "flows.step_times": ex(lambda: dict(lrs=[0.1, 0.2])),

The ``lambda`` returns *valid* keyword arguments for one call, fresh each
time (so that a call that mutates its arguments cannot spoil the next one).
Give every argument you want fuzzed a value, including optional ones; the
suite replaces one argument at a time with NaN, ±inf, complex, None, strings,
wrong shapes, empty inputs and wrong types (chosen from the kind of the valid
value: an int gets different bad values than an array or a callable), and
expects a ``TypeError``/``ValueError`` whose message names the argument.
For a method, return the instance under the key ``"self"`` (it is not fuzzed).
Options of :func:`ex`:

* ``free_text=("desc",)``: string arguments for which any string is valid
  (labels, keys, paths); otherwise a made-up string must be refused.
* ``skip={"arg": "reason"}``: arguments not fuzzed (any value is valid).
* ``timeout=``: seconds per bad-input call (default 10, generous for a busy
  machine: a correct call takes milliseconds); a call that runs longer is a hang.

Where a bad-looking input is legitimate (NaN in a loss history that a
divergence check inspects, an array of any shape for a vectorised function),
add it to :data:`ALLOW` with the reason, keyed by ``(path, argument, kind)``
(``"*"`` matches every argument or every kind).  Whole callables that are
not fuzzed go to :data:`SKIP`, with the reason.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import sympy as sp
import torch

import badinput_optim


@dataclass
class Example:
    """Valid keyword arguments of one callable (see the module docstring)."""

    make: Callable[[], dict[str, Any]]
    free_text: tuple[str, ...] = ()
    skip: dict[str, str] = field(default_factory=dict)
    timeout: float = 10.0


def ex(make: Callable[[], dict[str, Any]], *, free_text: tuple[str, ...] = (),
       skip: dict[str, str] | None = None, timeout: float = 10.0) -> Example:
    return Example(make, tuple(free_text), dict(skip or {}), timeout)


# --------------------------------------------------------------------------- shared valid objects

@functools.cache
def _split():
    from lrtheory.datasets import TensorSplit

    g = torch.Generator().manual_seed(0)
    return TensorSplit(torch.randn(12, 4, generator=g), torch.arange(12) % 3,
                       torch.randn(6, 4, generator=g), torch.arange(6) % 3, 3, "toy",
                       torch.randn(6, 4, generator=g), torch.arange(6) % 3)


def split():
    return _split()


def arrays():
    from lrtheory.datasets import ArraySplit

    s = _split()
    return dict(X_train=s.X_train.double().numpy(), y_train=s.y_train.numpy(), X_test=s.X_test.double().numpy(),
                y_test=s.y_test.numpy(), num_classes=3, name="toy", X_val=s.X_val.double().numpy(),
                y_val=s.y_val.numpy()), ArraySplit


def tensors():
    s = _split()
    return dict(X_train=s.X_train, y_train=s.y_train, X_test=s.X_test, y_test=s.y_test, num_classes=3,
                name="toy", X_val=s.X_val, y_val=s.y_val)


@functools.cache
def quad():
    from lrtheory.problems import quadratic

    return quadratic([[2.0, 0.0], [0.0, 1.0]], [1.0, 0.0])


def logreg(seed: int = 0):
    from lrtheory.sweeps import make_classifier

    return make_classifier("logreg", 4, 3, seed=seed, device="cpu")


def sgd(params, lr=0.1):
    return torch.optim.SGD(params, lr=lr)


def _evaluate(value: float, seeds: tuple[int, ...]) -> list[float]:
    return [(math.log10(value) + 1.0) ** 2 + 0.01 * s for s in range(len(seeds))]


def _run(value: float, seeds: tuple[int, ...]) -> dict[str, Any]:
    base = (math.log10(value) + 1.0) ** 2
    return {"val_loss": [base + 0.1 * i for i in range(len(seeds))],
            "test_acc": [0.9 - 0.01 * i for i in range(len(seeds))]}


def _run_b(value: float, seeds: tuple[int, ...]) -> dict[str, Any]:
    base = (math.log10(value) + 1.0) ** 2 + 0.5
    return {"val_loss": [base + 0.07 * i for i in range(len(seeds))],
            "test_acc": [0.8 + 0.02 * i for i in range(len(seeds))]}


def plan():
    from lrtheory.protocol import SeedPlan

    return SeedPlan((10000,), (0, 1, 2))


def grid():
    from lrtheory.protocol import log_grid

    return log_grid(0.01, 1.0, 5)


@functools.cache
def comparison():
    from lrtheory.protocol import compare_methods

    return compare_methods({"m1": (grid(), _run), "m2": (grid(), _run_b)}, plan(), tune_metric="val_loss")


def verdict_obj():
    from lrtheory.protocol import verdict

    return verdict([1.0, 2.0, 3.0], [1.5, 2.5, 3.7], names=("A", "B"))


def axes():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="line")
    return ax


def figure():
    import matplotlib.pyplot as plt

    return plt.figure()


def _frame(value: float):
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(1, 1))
    fig.gca().plot([0, value])
    return fig


def graph():
    """Parameters and a loss built from them (a cubic, so the Hessian is not constant)."""
    p = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    return p, (p**3).sum() + p[0] * p[1]


def simsiam():
    from lrtheory.ssl import SimSiam

    torch.manual_seed(0)
    return SimSiam(64, 8, 4, 2)


@functools.cache
def _images():
    return torch.rand(8, 1, 8, 8, generator=torch.Generator().manual_seed(1))


def digit_split():
    from lrtheory.ssl_data import load_digit_images

    return load_digit_images(device="cpu", val_size=0.15)


def stacked():
    from lrtheory.ssl_stacked import StackedSimSiam

    return StackedSimSiam([0, 1], hidden_dim=8, out_dim=4, pred_hidden_dim=2)


def images(n: int = 8):
    return _images()[:n]


def generator():
    return torch.Generator().manual_seed(0)


def params_with_grads():
    m = torch.nn.Linear(3, 2)
    m(torch.ones(1, 3)).sum().backward()
    return list(m.parameters())


def stepped_optimizer():
    p = torch.ones(4, requires_grad=True)
    opt = torch.optim.Adam([p], lr=0.1)
    p.grad = torch.ones(4)
    opt.step()
    return opt


@functools.cache
def bench_result():
    from lrtheory.bench import run_benchmark

    return run_benchmark(["1000"], ["torch.SGD"], repeats=1, warmup=0, device="cpu", threads=[1])


@functools.cache
def bench_file() -> str:
    import json
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp(prefix="lrtheory-badinput-")) / "results-cpu.json"
    path.write_text(json.dumps(bench_result()))
    return str(path)


def schedule():
    from lrtheory.schedule_solver import CausalRefinedSchedule

    return CausalRefinedSchedule(5, 1.0)


def TOY_X():
    return np.array([[1.0, 0.5, 1.0], [-0.5, 1.0, 1.0], [0.3, -1.0, 1.0], [-1.0, -0.2, 1.0]]) / 2.0


def TOY_Y():
    return np.array([1.0, -1.0, 1.0, -1.0])


def toy_problem(loss: str = "logistic"):
    from lrtheory.convex_sgd import LinearProblem

    return LinearProblem("toy", loss, TOY_X(), TOY_Y(), 0.1 if loss == "logistic" else 0.0, 1.0)


def toy_run():
    from lrtheory.schedule_runs import ScheduleRun

    return ScheduleRun(toy_problem(), 0.0, [1.0, 0.5], batch_size=2)


def _quick_plan():
    from lrtheory.protocol import seed_plan

    return seed_plan(mode="quick")


def _grid3():
    from lrtheory.protocol import log_grid

    return log_grid(0.05, 0.2, 3)


@functools.cache
def _log_extract():
    from lrtheory.schaipp_logs import load_extract

    return load_extract()


x, y, h = sp.symbols("x y h")
G3 = [1.0, 2.0, 3.0]
LR3 = [0.1, 0.2, 0.3]
XY_FIELD = lambda: [-x, -y + x]  # noqa: E731


def ledger():
    """A claims ledger for the method entries."""
    from lrtheory.claims import ClaimsLedger

    return ClaimsLedger(2)


def raw_grad(th: Any) -> np.ndarray:
    """The gradient of quad() as a user would write it: no checks of its own."""
    return np.asarray(th) * np.array([2.0, 1.0]) - np.array([1.0, 0.0])


def raw_hess(th: Any) -> np.ndarray:
    return np.diag([2.0, 1.0])


# --------------------------------------------------------------------------- the table

# chapter 3's lanes: a tiny MLP, two stacked copies, and data on the same dtype
def mlp(seed: int = 0):
    from lrtheory.sweeps import make_classifier

    return make_classifier("mlp", 4, 3, hidden=3, seed=seed, device="cpu")


def lane_stack():
    from lrtheory.lanes import stack_models

    return stack_models([mlp(0), mlp(1), mlp(2)])   # three lanes: a pair of values is a wrong shape


def lane_data():
    s = _split()
    return s.X_train, s.y_train


def lane_kw(**extra):
    X, y = lane_data()
    return dict(model=mlp(0), params=lane_stack(), X=X, y=y, **extra)


def batch_losses():
    p = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    return p, [(p**3).sum(), p[0] * p[1] + p[1] ** 2]


EXAMPLES: dict[str, Example] = {
    # experiments
    "experiments.get_mode": ex(lambda: dict(mode="quick")),
    "experiments.by_mode": ex(lambda: dict(quick=1, standard=2, full=3, mode="quick"),
                              skip={"quick": "any value", "standard": "any value", "full": "any value"}),
    "experiments.get_device": ex(lambda: dict(device="cpu")),
    "experiments.make_rng": ex(lambda: dict(seed=0)),
    "experiments.torch_generator": ex(lambda: dict(seed=0, device="cpu")),
    "experiments.seed_everything": ex(lambda: dict(seed=0)),
    "experiments.progress": ex(lambda: dict(iterable=[1, 2, 3], desc="x", total=3, disable=True),
                               free_text=("desc",), skip={"iterable": "any iterable"}),
    # protocol
    "protocol.SeedPlan": ex(lambda: dict(tuning=(10000,), evaluation=(0, 1))),
    "protocol.seed_plan": ex(lambda: dict(n_eval=2, n_tune=1, mode="quick", base=0)),
    "protocol.check_seeds": ex(lambda: dict(name="seeds", seeds=[0, 1]), free_text=("name",)),
    "protocol.LogGrid": ex(lambda: dict(values=(0.1, 0.2), ratio=2.0, limits=(0.0, 10.0))),
    "protocol.LogGrid.extend": ex(lambda: dict(self=grid(), side="low", num=2)),
    "protocol.log_grid": ex(lambda: dict(lo=0.1, hi=1.0, num=3, limits=(0.0, 10.0))),
    "protocol.diverged": ex(lambda: dict(losses=[1.0, 0.5, 0.2], initial=1.0, factor=10.0)),
    "protocol.tune": ex(lambda: dict(evaluate=_evaluate, grid=grid(), seeds=[10000, 10001], minimize=True,
                                     max_extensions=1, extend_by=1, progress_desc="t"),
                        free_text=("progress_desc",)),
    "protocol.paired_difference": ex(lambda: dict(a=[1.0, 2.0, 3.0], b=[1.5, 2.0, 2.2], confidence=0.95,
                                                  method="t", seed=0, n_resamples=200)),
    "protocol.Verdict.sentence": ex(lambda: dict(self=verdict_obj(), digits=2, label="loss"), free_text=("label",)),
    "protocol.verdict": ex(lambda: dict(a=[1.0, 2.0, 3.0], b=[1.5, 2.0, 2.2], names=("A", "B"), metric="loss",
                                        higher_is_better=False, confidence=0.95, method="t", seed=0),
                           free_text=("metric",)),
    "protocol.MethodResult.mean_ci": ex(lambda: dict(self=comparison().methods["m1"], metric="val_loss",
                                                     confidence=0.95)),
    "protocol.Comparison.verdict": ex(lambda: dict(self=comparison(), a="m1", b="m2", metric="val_loss",
                                                   higher_is_better=False, confidence=0.95, method="t")),
    "protocol.Comparison.best": ex(lambda: dict(self=comparison(), metric="val_loss", higher_is_better=False,
                                                confidence=0.95)),
    "protocol.Comparison.table": ex(lambda: dict(self=comparison(), metrics=["val_loss"], digits=3)),
    "protocol.compare_methods": ex(lambda: dict(methods={"m1": (grid(), _run), "m2": (grid(), _run_b)},
                                                plan=plan(), tune_metric="val_loss", minimize=True,
                                                max_extensions=0, higher_is_better={"val_loss": False},
                                                progress_desc="c"),
                                   free_text=("progress_desc",)),
    "protocol.comparison_table": ex(lambda: dict(comparison=comparison(), metrics=["val_loss", "test_acc"],
                                                 digits=3)),
    # batched
    "batched.is_elementwise": ex(lambda: dict(optimizer=sgd([torch.zeros(1, requires_grad=True)]))),
    "batched.cross_entropy_losses": ex(lambda: dict(logits=torch.randn(4, 3), targets=torch.tensor([0, 1, 2, 0]))),
    "batched.train_seeds": ex(lambda: dict(make_model=logreg, make_optimizer=sgd, lr=0.1, data=split(),
                                           seeds=[0, 1], epochs=1, batch_size=6,
                                           loss_fn=_cross_entropy(), schedule=lambda t: 1.0,
                                           elementwise=True, divergence_factor=10.0, l2=0.01)),
    "batched.classifier_run": ex(lambda: dict(kind="logreg", make_optimizer=sgd, data=split(), epochs=1,
                                              batch_size=6, hidden=4, init="zeros")),
    "batched.train_seeds_reference": ex(lambda: dict(make_model=logreg, make_optimizer=sgd, lr=0.1, data=split(),
                                                     seeds=[0, 1], epochs=1, batch_size=6,
                                                     loss_fn=_cross_entropy(), schedule=lambda t: 1.0,
                                                     divergence_factor=10.0, l2=0.01)),
    # fmt
    "fmt.fmt_number": ex(lambda: dict(x=0.5, digits=3)),
    "fmt.fmt_latex": ex(lambda: dict(x=0.5, digits=3)),
    "fmt.GluedNumber": ex(lambda: dict(value=1.5, digits=3, symbol="x", unit=" s", as_math=True),
                          free_text=("symbol", "unit")),
    "fmt.glue_number": ex(lambda: dict(key="k", value=1.5, digits=3, symbol="x", unit=" s", as_math=True),
                          free_text=("key", "symbol", "unit"),),
    "fmt.md_table": ex(lambda: dict(header=["a", "b"], rows=[["x", 0.5]])),
    # datasets
    "datasets.ArraySplit": ex(lambda: arrays()[0], free_text=("name",)),
    "datasets.TensorSplit": ex(tensors, free_text=("name",)),
    "datasets.load_arrays": ex(lambda: dict(name="iris", test_size=0.25, seed=0, standardize=True, val_size=0.2)),
    "datasets.random_orthogonal": ex(lambda: dict(d=3, seed=0)),
    "datasets.rotate_features": ex(lambda: dict(split=split(), Q=np.eye(4)[[1, 0, 3, 2]])),
    "datasets.load_dataset": ex(lambda: dict(name="iris", test_size=0.25, seed=0, standardize=True, val_size=0.2,
                                             device="cpu", dtype=torch.float64)),
    # problems
    "problems.Problem": ex(lambda: dict(name="p", dim=2, loss_fn=quad().loss_fn, grad_fn=quad().grad_fn,
                                        hess_fn=quad().hess_fn, minimizer=np.array([0.5, 0.0])),
                           free_text=("name",)),
    "problems.Problem.loss": ex(lambda: dict(self=quad(), theta=[0.5, 0.5])),
    "problems.Problem.grad": ex(lambda: dict(self=quad(), theta=[0.5, 0.5])),
    "problems.Problem.hess": ex(lambda: dict(self=quad(), theta=[0.5, 0.5])),
    "problems.quadratic": ex(lambda: dict(A=[[2.0, 0.0], [0.0, 1.0]], b=[1.0, 0.0], name="q"), free_text=("name",)),
    "problems.rosenbrock": ex(lambda: dict(a=1.0, b=100.0)),
    "problems.check_point": ex(lambda: dict(name="theta", theta=[0.1, 0.2], dim=2), free_text=("name",)),
    # flows
    "flows.integrate_flow": ex(lambda: dict(field=lambda th: -th, theta0=[1.0, 0.5], t_final=1.0,
                                            t_eval=[0.0, 0.5, 1.0], rtol=1e-6, atol=1e-8, method="RK45")),
    "flows.gradient_flow": ex(lambda: dict(grad=raw_grad, theta0=[1.0, 0.5], t_final=1.0, rtol=1e-6)),
    "flows.euler_iterates": ex(lambda: dict(field=lambda th: -th, theta0=[1.0, 0.5], lr=0.1, num_steps=3,
                                            stop_if_diverged=True)),
    "flows.gd_iterates": ex(lambda: dict(grad=raw_grad, theta0=[1.0, 0.5], lr=0.1, num_steps=3,
                                         stop_if_diverged=True)),
    "flows.step_times": ex(lambda: dict(lrs=[0.1, 0.2])),
    "flows.distance_to_path": ex(lambda: dict(points=[[0.5, 0.2]], path=[[0.0, 0.0], [1.0, 0.0]])),
    # plotting
    "plotting.subplots": ex(lambda: dict(nrows=1, ncols=1, width=3.0, height=2.0)),
    "plotting.color": ex(lambda: dict(i=0)),
    "plotting.use_book_style": ex(lambda: dict(figure_format="svg")),
    "plotting.legend_outside": ex(lambda: dict(ax=axes(), ncol=1)),
    "plotting.glue_figure": ex(lambda: dict(key="k", fig=figure()), free_text=("key",),),
    "plotting.errorbar_comparison": ex(lambda: dict(ax=axes(), comparison=comparison(), metric="val_loss",
                                                    label="x", reference="m1"), free_text=("label",)),
    # adaptive
    "adaptive.gd_update": ex(lambda: dict(theta=[1.0, 2.0], grad=[0.5, -0.5], lr=0.1)),
    "adaptive.normalized_update": ex(lambda: dict(theta=[1.0, 2.0], grad=[0.5, -0.5], lr=0.1)),
    "adaptive.sign_update": ex(lambda: dict(theta=[1.0, 2.0], grad=[0.5, -0.5], lr=0.1)),
    "adaptive.error_control_lr": ex(lambda: dict(grad=[0.5, -0.5], lr=0.1)),
    "adaptive.rmsprop_scalar_update": ex(lambda: dict(theta=[1.0, 2.0], grad=[0.5, -0.5], G=0.1, lr=0.1,
                                                      alpha=0.9, eps=1e-8, eps_inside=True)),
    "adaptive.rmsprop_coordinate_update": ex(lambda: dict(theta=[1.0, 2.0], grad=[0.5, -0.5], G=[0.1, 0.2],
                                                          lr=0.1, alpha=0.9, eps=1e-8, eps_inside=True)),
    "adaptive.run_adaptive": ex(lambda: dict(grad=raw_grad, theta0=[1.0, 2.0], method="rmsprop_scalar", lr=0.1,
                                             num_steps=3, alpha=0.9, eps=1e-8, eps_inside=True, G0=0.0)),
    # gradstats
    "gradstats.update_angle": ex(lambda: dict(update=[[0.1, 0.2]], grad=[[-0.1, -0.3]])),
    "gradstats.expected_minibatch_sq_grad": ex(lambda: dict(per_example_grads=[[1.0, 2.0], [3.0, 4.0]],
                                                            batch_size=2)),
    # odecontrol
    "odecontrol.rk45_steps": ex(lambda: dict(grad=raw_grad, theta0=[1.0, 0.5], t_final=1.0, rtol=1e-3,
                                             atol=1e-6, method="RK45", max_evals=500,
                                             stop=lambda th: bool(th[0] < 0.0), on_failure="raise")),
    "odecontrol.controller_factor": ex(lambda: dict(err=0.5, err_prev=0.4, ratio_prev=1.1, tol=1.0, order=2,
                                                    gains="PI")),
    "localerror.euler_local_error": ex(lambda: dict(grad=raw_grad, hess=raw_hess, theta=[1.0, 0.5], lr=0.1)),
    "localerror.euler_error_lr": ex(lambda: dict(grad=raw_grad, hess=raw_hess, theta=[1.0, 0.5], tol=1e-3)),
    "odecontrol.heun_euler_descent": ex(lambda: dict(grad=raw_grad, theta0=[1.0, 0.5], tol=1e-3, num_steps=3,
                                                     lr0=1e-3, safety=0.9, max_factor=5.0, controller="PI",
                                                     max_evals=100, stop=lambda th: bool(th[0] < 0.0))),
    # steploop
    "steploop.rk_stability_polynomial": ex(lambda: dict(A=[[0.0, 0.0], [1.0, 0.0]], b=[0.5, 0.5])),
    "steploop.real_stability_boundary": ex(lambda: dict(method="RK23")),
    "steploop.edge_loop_matrix": ex(lambda: dict(controller="PI", alpha=None, kappa=2.0, order=2)),
    "steploop.loop_modes": ex(lambda: dict(matrix=[[0.5, 0.1], [0.0, 0.3]])),
    "steploop.measured_modes": ex(lambda: dict(sequence=list(0.9 ** np.arange(20) * np.cos(np.arange(20))),
                                               order=2)),
    # solvercost
    "localerror.quadratic_flow_map": ex(lambda: dict(A=[[2.0, 0.0], [0.0, 1.0]], b=[1.0, 0.0])),
    "localerror.numerical_flow_map": ex(lambda: dict(grad=raw_grad, rtol=1e-8, atol=1e-10)),
    "localerror.true_local_errors": ex(lambda: dict(flow=lambda th, h: np.asarray(th) * 0.9,
                                                    theta=[[1.0, 0.5], [0.9, 0.45]], h=[0.1])),
    "solvercost.descent_gaps": ex(lambda: dict(problem=quad(), theta0=[0.0, 0.5], method="gd", lrs=[0.1, 0.2],
                                               num_steps=5, alpha=0.9, eps=1e-8)),
    "solvercost.controller_run": ex(lambda: dict(problem=quad(), theta0=[0.0, 0.5], method="heun_euler_PI",
                                                 tol=1e-3, targets=[1e-2], max_evals=200)),
    "solvercost.evals_to_targets": ex(lambda: dict(evals=[0, 1, 2], gaps=[1.0, 0.5, 0.01], targets=[0.1])),
    "solvercost.target_costs": ex(lambda: dict(problem=quad(), theta0=[0.0, 0.5], method="gd", values=[0.1],
                                               targets=[1e-2], max_evals=50, alpha=0.9, eps=1e-8)),
    "solvercost.best_costs": ex(lambda: dict(cost_fn=lambda v: np.abs(np.log10(np.asarray(v)))[:, None] + 1.0,
                                             grid=grid(), max_extensions=1, extend_by=2)),
    # rmsflow
    "rmsflow.rmsprop_clock_iterates": ex(lambda: dict(grad=raw_grad, theta0=[1.0, 0.5], lr=0.1, alpha=0.9,
                                                      num_steps=3, coordinate=True, eps=1e-8, G0=[1.0, 1.0])),
    "rmsflow.coupled_flow": ex(lambda: dict(grad=raw_grad, theta0=[1.0, 0.5], tau=0.5, s_eval=[0.0, 0.1, 0.2],
                                            coordinate=True, eps=1e-8, G0=[1.0, 1.0])),
    "rmsflow.quasi_static_flow": ex(lambda: dict(grad=raw_grad, theta0=[1.0, 0.5], s_eval=[0.0, 0.1],
                                                 coordinate=False, eps=1e-8)),
    "rmsflow.adagrad_iterates": ex(lambda: dict(grad=raw_grad, theta0=[1.0, 0.5], lr=0.1, num_steps=3,
                                                coordinate=False, b0=0.1)),
    "rmsflow.adam_iterates": ex(lambda: dict(grad=raw_grad, theta0=[1.0, 0.5], lr=0.1, num_steps=3, beta1=0.9,
                                             beta2=0.99, eps=1e-8, coordinate=True, bias_correction=True)),
    "rmsflow.momentum_edge": ex(lambda: dict(beta1=0.9)),
    # regimes
    "regimes.regime_map": ex(lambda: dict(grad=raw_grad, theta0=[1.0, 0.5], lrs=[0.1], one_minus_alpha=[0.5],
                                          s_final=0.2, lam_max=2.0, tol=0.05, eps=1e-8)),
    # claims
    "claims.ClaimsLedger": ex(lambda: dict(expected=2)),
    "claims.ClaimsLedger.record": ex(lambda: dict(self=ledger(), key="C1", claim="a claim", where="here",
                                                  verdict="holds", evidence="a check"),
                                     free_text=("key", "claim", "where", "evidence")),
    # sweeps
    "sweeps.make_classifier": ex(lambda: dict(kind="mlp", num_features=4, num_classes=3, hidden=5, seed=0,
                                              device="cpu", dtype=torch.float64, init="default")),
    "sweeps.logreg_optimum": ex(lambda: dict(X=split().X_train.double().numpy(), y=split().y_train.numpy(),
                                             num_classes=3, l2=0.1, gtol=1e-10)),
    "sweeps.train_classifier": ex(lambda: (lambda m: dict(model=m, optimizer=sgd(m.parameters()), data=split(),
                                                          epochs=1, batch_size=6, seed=0))(logreg())),
    "sweeps.lr_sweep": ex(lambda: dict(kind="logreg", make_optimizer=sgd, lrs=[0.1], data=split(), epochs=1,
                                       batch_size=6, seeds=[0], hidden=4, progress_desc="s"),
                          free_text=("progress_desc",)),
    "sweeps.update_cosine": ex(lambda: dict(model=logreg(), make_optimizer=sgd, lr=0.1, X=split().X_train,
                                            y=split().y_train, num_steps=1)),
    # bounds
    "bounds.tail_sums": ex(lambda: dict(lr=LR3)),
    "bounds.last_iterate_accumulator": ex(lambda: dict(grad_norms=G3)),
    **{f"bounds.{name}": ex(lambda: dict(lr=LR3, grad_norms=G3, radius=1.0))
       for name in ("classic_average_bound", "average_bound", "weighted_average_bound", "last_iterate_bound",
                    "combined_bound", "combined_bound_grad")},
    **{f"bounds.{name}": ex(lambda: dict(grad_norms=G3, radius=1.0))
       for name in ("classic_average_optimum", "weighted_average_optimum", "last_iterate_optimum")},
    # schedules
    **{f"schedules.{name}": ex(lambda: dict(step=1, num_steps=10, lr=0.1))
       for name in ("constant_schedule", "linear_decay_schedule", "cosine_schedule")},
    "schedules.adagrad_norm_schedule": ex(lambda: dict(grad_norms=G3, radius=1.0, eps=0.0)),
    **{f"schedules.{name}": ex(lambda: dict(grad_norms=G3, radius=1.0))
       for name in ("inverse_sq_grad_schedule", "causal_inverse_sq_grad_schedule",
                    "last_iterate_constant_schedule", "last_iterate_causal_schedule")},
    **{f"schedules.{name}": ex(lambda: dict(grad_norms=G3, radius=1.0, include_current=True))
       for name in ("refined_guess_schedule", "refined_causal_schedule")},
    # schedule_solver
    "schedule_solver.combined_recursion": ex(lambda: dict(grad_norms=G3)),
    "schedule_solver.optimal_combined_schedule": ex(lambda: dict(grad_norms=G3, radius=1.0)),
    "schedule_solver.combined_optimum_value": ex(lambda: dict(grad_norms=G3, radius=1.0)),
    "schedule_solver.solve_combined_bound": ex(lambda: dict(grad_norms=G3, radius=1.0, lr0=LR3, max_iter=50,
                                                            tol=1e-10)),
    "schedule_solver.best_scaling": ex(lambda: dict(bound=_average_bound(), lr=LR3, grad_norms=G3, radius=1.0)),
    "schedule_solver.smooth_grad_norms": ex(lambda: dict(grad_norms=G3, window=2)),
    "schedule_solver.refined_schedule_from_norms": ex(lambda: dict(grad_norms=G3, lr=0.1, window=2,
                                                                   method="optimal")),
    "schedule_solver.CausalRefinedSchedule": ex(lambda: dict(num_steps=5, radius=1.0, beta=0.9,
                                                             include_current=True)),
    "schedule_solver.CausalRefinedSchedule.__call__": ex(lambda: dict(self=schedule(), grad_norm=1.0)),
    "schedules.wsd_schedule": ex(lambda: dict(step=1, num_steps=10, lr=0.1, warmup=1, cooldown=0.2,
                                              decay="linear")),
    # free_weight
    "free_weight.optimal_last_weight": ex(lambda: dict(steps=[0.5, 0.3], grad_norms=G3, radius=1.0)),
    "free_weight.best_base_rate": ex(lambda: dict(shape=[1.0, 0.5], grad_norms=G3, radius=1.0)),
    "free_weight.bound_along_training": ex(lambda: dict(steps=[0.5, 0.3], grad_norms=G3, radius=1.0,
                                                        times=[1, 3])),
    "free_weight.refined_last_iterate_bound": ex(lambda: dict(lr=LR3, grad_norms=G3, radius=1.0)),
    "free_weight.linear_decay_bound": ex(lambda: dict(num_steps=5, radius=1.0, grad_norm=1.0)),
    "free_weight.free_end_schedule": ex(lambda: dict(grad_norms=G3, radius=1.0)),
    # schedule_tables
    "schedule_tables.candidate_schedules": ex(lambda: dict(grad_norms=G3, radius=1.0)),
    "schedule_tables.fixed_shapes": ex(lambda: dict(num_steps=10, cooldowns=(0.2,))),
    "schedule_tables.excess_over_optimum": ex(lambda: dict(settings={"a": G3}, radius=1.0)),
    "schedule_tables.excess_markdown": ex(lambda: dict(excess={("a", "b"): (0.1, 0.05)})),
    "schedule_tables.shape_table": ex(lambda: dict(horizons=[5], radius=1.0, grad_norm=1.0, cooldowns=(0.2,))),
    # convex_sgd
    "convex_sgd.LinearProblem": ex(lambda: dict(name="toy", loss="logistic", X=TOY_X(), y=TOY_Y(), l2=0.1,
                                                box=1.0), free_text=("name",)),
    "convex_sgd.LinearProblem.objective": ex(lambda: dict(self=toy_problem(), theta=np.zeros(3))),
    "convex_sgd.LinearProblem.gradient": ex(lambda: dict(self=toy_problem(), theta=np.zeros(3))),
    "convex_sgd.make_problem": ex(lambda: dict(data="iris", loss="absolute", l2=0.0, box=0.5, unit_rows=True,
                                               positive_class=1, seed=0)),
    "convex_sgd.solve_problem": ex(lambda: dict(problem=toy_problem())),
    "convex_sgd.run_sgd": ex(lambda: dict(problem=toy_problem(), rates=[0.1, 0.1], seeds=[0, 1], batch_size=2,
                                          sampling="epochs", record_every=1, theta_star=np.zeros(3),
                                          device="cpu")),
    "convex_sgd.run_sgd_reference": ex(lambda: dict(problem=toy_problem(), rates=[0.1, 0.1], seeds=[0, 1],
                                                    batch_size=2, sampling="epochs")),
    # schedule_runs
    "schedule_runs.bounds_hold": ex(lambda: dict(problem=toy_problem("absolute"), theta_star=[0.2, 0.0, 0.0],
                                                 L_star=1.0, shapes={"c": np.ones(3)}, seeds=[0, 1],
                                                 grad_norm=2.0, domain_radius=2.0, batch_size=1)),
    "schedule_runs.refined_shapes": ex(lambda: dict(mean_sq_norms=[1.0, 0.5, 0.4, 0.3], window=2)),
    "schedule_runs.ScheduleRun": ex(lambda: dict(problem=toy_problem(), L_star=0.0, shape=[1.0, 0.5],
                                                 batch_size=2, sampling="epochs", prefetch=(0.1,))),
    "schedule_runs.ScheduleRun.__call__": ex(lambda: dict(self=toy_run(), value=0.1, seeds=(0, 1))),
    "schedule_runs.parabolic_argmin": ex(lambda: dict(values=[0.1, 0.2, 0.4], scores=[1.0, 0.5, 0.8])),
    "schedule_runs.predicted_base_rates": ex(lambda: dict(shapes={"c": [1.0, 0.5]}, grad_norms=G3, radius=1.0)),
    "schedule_runs.schedule_comparison": ex(lambda: dict(
        problem=toy_problem(), L_star=0.0, theta_star=[0.2, 0.0, 0.0], fixed={"constant": np.ones(3)},
        plan=_quick_plan(), grid=_grid3(), batch_size=2, first_seeds=(500, 501), window=1), timeout=30.0),
    # schaipp_logs
    "schaipp_logs.LogExtract.sweep": ex(lambda: dict(self=_log_extract(), schedule="wsd", cooldown=0.2,
                                                     decay="linear", final_lr=0.0)),
    "schaipp_logs.log_schedule": ex(lambda: dict(schedule="wsd", num_steps=10, warmup=1, cooldown=0.2,
                                                 decay="linear", final_lr=0.0)),
    # symbolic
    "symbolic.bernoulli_operator_series": ex(lambda: dict(order=2, x=x)),
    "symbolic.bernoulli_operator_coefficients": ex(lambda: dict(order=2)),
    "symbolic.lie_derivative": ex(lambda: dict(u=x**2, field=XY_FIELD(), variables=[x, y])),
    "symbolic.flow_series": ex(lambda: dict(field=XY_FIELD(), variables=[x, y], h=h, order=2)),
    "symbolic.euler_step": ex(lambda: dict(field=XY_FIELD(), variables=[x, y], h=h)),
    "symbolic.modified_field_terms": ex(lambda: dict(field=XY_FIELD(), variables=[x, y], h=h, order=1)),
    "symbolic.modified_field": ex(lambda: dict(field=XY_FIELD(), variables=[x, y], h=h, order=1)),
    "symbolic.modified_field_residuals": ex(lambda: dict(field=XY_FIELD(), candidate=XY_FIELD(), variables=[x, y],
                                                         h=h, order=1)),
    "symbolic.is_modified_field": ex(lambda: dict(field=XY_FIELD(), candidate=XY_FIELD(), variables=[x, y], h=h,
                                                  order=0)),
    "symbolic.gradient_field": ex(lambda: dict(loss=x**2 + x * y, variables=[x, y])),
    "symbolic.field_curl": ex(lambda: dict(field=XY_FIELD(), variables=[x, y])),
    # modified
    "modified.hessian_vector_fd": ex(lambda: dict(grad=raw_grad, theta=[1.0, 0.5], v=[1.0, 0.0], eps=1e-5)),
    "modified.third_derivative_fd": ex(lambda: dict(grad=raw_grad, theta=[1.0, 0.5], v=[1.0, 0.0], eps=1e-3)),
    "modified.modified_gradient_field": ex(lambda: dict(grad=raw_grad, lr=0.1, order=2, hess=raw_hess,
                                                        third=lambda th, u, v: np.zeros(2), eps=1e-4)),
    "modified.balanced_toy_third": ex(lambda: dict(theta=[1.0, 0.5], u=[1.0, 0.0], v=[0.0, 1.0])),
    "modified.imbalance": ex(lambda: dict(theta=[1.0, 0.5])),
    "modified.imbalance_gd_factor": ex(lambda: dict(theta=[1.0, 0.5], lr=0.1)),
    "modified.imbalance_modified_rate": ex(lambda: dict(theta=[1.0, 0.5], lr=0.1)),
    "modified.minimum_sharpness": ex(lambda: dict(imbalance_value=0.5)),
    # curvature
    "curvature.flat_grad": ex(lambda: (lambda p, loss: dict(loss=loss, params=[p], create_graph=False))(*graph())),
    "curvature.hessian_vector_product": ex(lambda: (lambda p, loss: dict(
        loss=loss, params=[p], vector=torch.ones(2, dtype=torch.float64)))(*graph())),
    "curvature.sharpness": ex(lambda: (lambda p, loss: dict(loss=loss, params=[p], num_iters=5, tol=1e-6,
                                                             seed=0))(*graph())),
    "curvature.gradient_norm_sq": ex(lambda: (lambda p, loss: dict(loss=loss, params=[p],
                                                                    create_graph=False))(*graph())),
    "curvature.egr_penalty": ex(lambda: (lambda p, loss: dict(loss=loss, params=[p], lr=0.1))(*graph())),
    "curvature.train_full_batch": ex(lambda: (lambda p: dict(params=[p], loss_fn=lambda: (p**2).sum(), lr=0.1,
                                                             num_steps=3, penalty_lr=0.01, target_loss=0.0,
                                                             desc="x"))(graph()[0]), free_text=("desc",)),
    # lanes, lane_dynamics, trajectory, penalties (chapter 3)
    "lanes.stack_models": ex(lambda: dict(models=[mlp(0), mlp(1)])),
    "lanes.repeat_lanes": ex(lambda: dict(params=lane_stack(), repeats=2)),
    "lanes.flatten_lanes": ex(lambda: dict(model=mlp(0), params=lane_stack())),
    "lanes.lane_losses": ex(lambda: lane_kw(loss="mse")),
    "lanes.lane_metrics": ex(lambda: dict(model=mlp(0), params=lane_stack(), data=split(), loss="mse")),
    "lane_dynamics.gd_lanes": ex(lambda: lane_kw(lr=[0.1, 0.2, 0.3], num_steps=[2, 1, 0], penalty=[0.0, 0.5, 1.0],
                                                 batches=torch.zeros((3, 2, 3), dtype=torch.int64),
                                                 loss="cross_entropy", desc="x"), free_text=("desc",)),
    "lane_dynamics.gd_lanes_reference": ex(lambda: lane_kw(lr=0.1, num_steps=2, penalty=0.5, loss="mse")),
    "lane_dynamics.lane_sharpness": ex(lambda: lane_kw(penalty=0.5, loss="cross_entropy", num_iters=3, tol=1e-3,
                                                       seed=0, start=torch.ones(3, 27))),
    "trajectory.trajectory_test": ex(lambda: dict(make_model=mlp, X=lane_data()[0], y=lane_data()[1], seeds=(0, 1),
                                                  lrs=[0.5, 1.0], small_lr=0.25, time=1.0, sharpness_iters=3,
                                                  sharpness_tol=1e-3, desc="x"), free_text=("desc",)),
    "trajectory.loglog_slopes": ex(lambda: dict(x=[0.1, 0.2, 0.4], dist=[[1.0, 2.0], [2.0, 4.0], [4.0, 8.0]])),
    "trajectory.track_sharpness": ex(lambda: lane_kw(lr=0.1, num_steps=2, every=1, loss="cross_entropy",
                                                     num_iters=3, first_iters=3, tol=1e-3, seed=0, desc="x"),
                                     free_text=("desc",)),
    "trajectory.fixed_time_runs": ex(lambda: dict(make_model=mlp, data=split(), seeds=(0, 1),
                                                  configs={"a": (0.5, 0.0), "b": (0.5, 0.25)}, time=1.0,
                                                  sharpness_iters=3, desc="x"), free_text=("desc",)),
    "penalties.sgd_noise_penalty": ex(lambda: (lambda p, ls: dict(batch_losses=ls, params=[p], lr=0.1))(
        *batch_losses())),
    "penalties.sgd_drift": ex(lambda: dict(make_model=mlp, X=lane_data()[0], y=lane_data()[1], seeds=(0,),
                                           lrs=[0.1, 0.2], num_batches=2, partition_seed=0)),
    "penalties.flooded_loss": ex(lambda: dict(loss=torch.tensor(0.3), level=0.1)),
    "penalties.adversarial_inputs": ex(lambda: dict(example_loss=lambda Z: (Z**2).sum(1), X=torch.randn(4, 2),
                                                    eps=0.1)),
    "penalties.input_gradient_penalty": ex(lambda: dict(example_loss=lambda Z: (Z**2).sum(1), X=torch.randn(4, 2),
                                                        eps=0.1)),
    "modified.exact_eigen_rate": ex(lambda: dict(eigenvalues=[0.5, 2.0, 15.0], lr=0.1)),
    "modified.principal_flow_quadratic": ex(lambda: dict(A=[[2.0, 0.0], [0.0, 1.0]], theta0=[1.0, 1.0], lr=0.1,
                                                         times=[0.0, 0.1, 0.25])),
    # constrained
    **{f"constrained.{name}": ex(lambda: dict(theta=[0.5, 0.5], grad=[1.0, -1.0], lr=0.1))
       for name in ("eg_update", "normalized_eg_update", "pgd_nonnegative_update", "pgd_simplex_update")},
    "constrained.em_mixture_update": ex(lambda: dict(theta=[0.5, 0.5], grad=[-1.2, -0.8], lr=0.0)),
    "constrained.project_nonnegative": ex(lambda: dict(x=[1.0, -1.0])),
    "constrained.project_simplex": ex(lambda: dict(x=[0.5, 0.7], radius=1.0)),
    "constrained.project_simplex_reference": ex(lambda: dict(x=[0.5, 0.7], radius=1.0, num_iters=20)),
    "constrained.run_constrained": ex(lambda: dict(method="eg", grad=lambda th: th - 0.5, theta0=[0.5, 0.5],
                                                   lr=0.1, num_steps=3)),
    # constrained_problems
    "constrained_problems.nnls_problem": ex(lambda: dict(num_rows=5, num_cols=3, seed=0, noise=0.5, density=0.5)),
    "constrained_problems.mixture_problem": ex(lambda: dict(num_samples=20, num_components=4, seed=0, width=0.6,
                                                            num_true=2)),
    "constrained_problems.mixture_weights_reference": ex(lambda: dict(P=[[0.5, 0.2], [0.1, 0.9], [0.3, 0.3]])),
    # metalr
    "metalr.make_classifier": ex(lambda: dict(kind="mlp", num_features=4, num_classes=3, seed=0, hidden=5,
                                              device="cpu", dtype=torch.float64)),
    "metalr.train_classifier": ex(lambda: dict(data=split(), kind="logistic", make_optimizer=sgd, num_steps=3,
                                               batch_size=4, seed=0, hidden=4)),
    "metalr.cosine": ex(lambda: dict(a=torch.tensor([1.0, 2.0]), b=torch.tensor([2.0, 1.0]))),
    # ssl_toy
    "ssl_toy.toy_loss": ex(lambda: dict(phi=[0.5, 1.5], theta=[1.0, 0.5])),
    **{f"ssl_toy.{name}": ex(lambda: dict(state=[0.5, 1.0]))
       for name in ("stopgrad_flow", "full_flow", "removed_flow")},
    "ssl_toy.toy_flow": ex(lambda: dict(system="full")),
    "ssl_toy_gd.toy_update": ex(lambda: dict(system="full", state=[0.5, 1.0], lr=0.1)),
    "ssl_toy_gd.toy_gd": ex(lambda: dict(system="full", state0=[0.5, 1.0], lr=0.1, num_steps=3)),
    "ssl_toy.conserved_quantity": ex(lambda: dict(system="stopgrad", phi=[0.5, 1.5], theta=[1.0, 0.5])),
    "ssl_toy_gd.invariant_step_change": ex(lambda: dict(system="stopgrad", phi=[0.5, 1.5], theta=[1.0, 0.5], lr=0.1)),
    "ssl_toy.exact_limit": ex(lambda: dict(system="removed", phi0=[0.5, 1.5], theta0=[1.0, 0.5])),
    "ssl_toy.collapses": ex(lambda: dict(system="removed", phi0=[0.5, 1.5], theta0=[1.0, 0.5])),
    "ssl_toy.collapse_map": ex(lambda: dict(system="full", phi_grid=[0.5, 1.5], theta_grid=[0.1, 1.0])),
    "ssl_toy_gd.gd_outcome": ex(lambda: dict(system="full", state0=[0.5, 1.0], lr=0.1, num_steps=3, tol=1e-3)),
    # ssl_modes (chapter 5)
    "ssl_modes.mode_flow": ex(lambda: dict(state=[0.5, 0.5], alpha_p=1.0, eta=0.0, sigma2=0.0, tau=1.0)),
    "ssl_modes.mode_fixed_points": ex(lambda: dict(alpha_p=1.0, eta=0.05, sigma2=0.0, tau=1.0)),
    "ssl_modes.integrate_modes": ex(lambda: dict(state0=[0.5, 0.5], t_end=1.0, dt=0.1, alpha_p=1.0, eta=0.0,
                                                 sigma2=0.0, tau=1.0)),
    "ssl_modes.mode_outcome": ex(lambda: dict(state0=[0.5, 0.5], t_end=1.0, alpha_p=1.0, eta=0.05, sigma2=0.0,
                                              tau=1.0, dt=0.1)),
    "ssl_study.variant_runner": ex(lambda: dict(data=digit_split(), model={}, train={}, num_steps=1, keep={})),
    "ssl_study.offdiag_share": ex(lambda: dict(m=np.eye(3) + 0.1)),
    "ssl_study.eigen_alignment": ex(lambda: dict(w=torch.eye(4), z=torch.randn(6, 4), k=2)),
    # ssl_data
    "ssl_data.load_digit_images": ex(lambda: dict(seed=0, device="cpu", dtype=torch.float64, val_size=0.0)),
    "ssl_data.augment": ex(lambda: dict(images=images(4), generator=generator(), max_shift=1, min_crop_area=0.6,
                                        noise_std=0.1)),
    "ssl_data.augmentation_mean": ex(lambda: dict(images=images(4), generator=generator(), num_samples=2)),
    "ssl_data.shift_reference": ex(lambda: dict(images=images(4), dy=1, dx=0)),
    # ssl
    "ssl.SimSiam": ex(lambda: dict(in_dim=64, hidden_dim=8, out_dim=4, pred_hidden_dim=2, predictor="learned",
                                   projector_bn=True)),
    "ssl.negative_cosine": ex(lambda: dict(p=torch.randn(4, 3), z=torch.randn(4, 3), stop_gradient=True)),
    "ssl.simsiam_loss": ex(lambda: dict(model=simsiam(), x1=images(4), x2=images(4).flip(0), stop_gradient=True)),
    "ssl.mean_target_loss": ex(lambda: dict(model=simsiam(), x_view=images(4), x_mean=images(4).flip(0),
                                            stop_gradient=False)),
    "ssl.collapse_std": ex(lambda: dict(z=torch.randn(4, 3))),
    "ssl_loop.grad_norm": ex(lambda: dict(params=params_with_grads())),
    "ssl_loop.train_ssl": ex(lambda: dict(model=simsiam(), images=images(8), num_steps=2, seed=0, objective="simsiam",
                                     stop_gradient=True, batch_size=4, lr=0.05, momentum=0.9, weight_decay=1e-4,
                                     num_mean_samples=2, augment_kwargs={"max_shift": 1}, device="cpu",
                                     eval_every=1, eval_images=images(4), desc="x"), free_text=("desc",)),
    # ssl_eval
    "ssl_eval.embed": ex(lambda: dict(module=torch.nn.Linear(64, 3), images=images(4).reshape(4, 64), batch_size=2)),
    "ssl_eval.knn_accuracy": ex(lambda: dict(train_x=torch.randn(6, 3), train_y=torch.tensor([0, 1, 2, 0, 1, 2]),
                                             test_x=torch.randn(3, 3), test_y=torch.tensor([0, 1, 2]), k=3)),
    "ssl_eval.linear_probe_accuracy": ex(lambda: dict(train_x=torch.randn(6, 3),
                                                      train_y=torch.tensor([0, 1, 2, 0, 1, 2]),
                                                      test_x=torch.randn(3, 3), test_y=torch.tensor([0, 1, 2]),
                                                      ridge=1.0)),
    "ssl_eval.singular_values": ex(lambda: dict(z=torch.randn(6, 3), center=True)),
    "ssl_eval.effective_rank": ex(lambda: dict(z=torch.randn(6, 3), center=True)),
    "ssl_eval.top_pc_share": ex(lambda: dict(z=torch.randn(6, 3))),
    # ssl_stacked, ssl_train (chapter 5)
    "ssl_stacked.StackedSimSiam": ex(lambda: dict(seeds=[0, 1], hidden_dim=8, out_dim=4, pred_hidden_dim=2)),
    "ssl_train.collapse_measures": ex(lambda: dict(z=torch.randn(2, 6, 3))),
    "ssl_train.directpred_matrix": ex(lambda: dict(f_hat=torch.eye(3), eps=0.1)),
    "ssl_train.train_stacked": ex(lambda: dict(model=stacked(), images=images(8), num_steps=2, objective="simsiam",
                                               stop_gradient=True, batch_size=4, lr=0.05, predictor_lr_ratio=1.0,
                                               encoder_schedule="constant", momentum=0.9, weight_decay=1e-4,
                                               directpred=False, directpred_rho=0.3, num_mean_samples=2,
                                               augment_kwargs={"max_shift": 1}, eval_every=1,
                                               eval_images=images(4), desc="x"), free_text=("desc",)),
    "ssl_train.score_stacked": ex(lambda: dict(model=stacked(), train=(images(8), torch.arange(8) % 2),
                                               evaluate={"val": (images(4), torch.arange(4) % 2)},
                                               collapse_images=images(4))),
    # metalr_long
    "metalr_long.noisy_labels": ex(lambda: dict(data=split(), fraction=0.2, seed=0)),
    "metalr_long.lbfgs_optimum": ex(lambda: dict(data=split(), tol=1e-8, max_iter=500)),
    "metalr_long.train_long": ex(lambda: dict(data=split(), make_optimizer=lambda ps: sgd(ps), num_steps=3,
                                              eval_every=1, seed=0, batch_size=4)),
    "metalr_long.collapse_step": ex(lambda: dict(steps=[0, 1, 2, 3], lr=[1.0, 0.5, 0.05, 0.01], fraction=0.1)),
    # stepsize_grid
    "stepsize_grid.train_grid": ex(lambda: dict(rule="hd", kind="logreg", data=split(), lrs=[0.1], metas=[0.01],
                                                seeds=[0], epochs=1, batch_size=6, hidden=4,
                                                divergence_factor=10.0)),
    "stepsize_grid.optimizer_for": ex(lambda: dict(rule="hd", params=[torch.zeros(2, requires_grad=True)],
                                                   lr=0.1, meta=0.01)),
    **{f"stepsize_grid.GridResult.{m}": ex(lambda: dict(self=study().grid, metric="val_loss"))
       for m in ("scored", "worst", "median")},
    # stepsize_study
    "stepsize_study.study_rule": ex(lambda: dict(rule="hd", kind="logreg", data=split(), lrs=_lrs2(),
                                                 metas=_metas2(), plan=SeedPlan2(), epochs=1, batch_size=6,
                                                 hidden=4, max_extensions=0)),
    **{f"stepsize_study.RuleStudy.{m}": ex(lambda: dict(self=study(), stat="worst", metric="val_loss"))
       for m in ("evaluation", "at_chosen")},
    **{f"stepsize_study.BaselineResult.{m}": ex(lambda: dict(self=baselines()["SGD"], metric="val_loss"))
       for m in ("worst", "median")},
    "stepsize_study.make_baseline": ex(lambda: dict(name="Adam", value=0.01)),
    "stepsize_study.run_baselines": ex(lambda: dict(kind="logreg", data=split(), lrs=_lrs2(), seeds=[0], epochs=1,
                                                    batch_size=6, hidden=4, names=["SGD"])),
    "stepsize_study.heatmap": ex(lambda: dict(ax=axes(), study=study(), metric="val_loss", stat="median",
                                              baselines=baselines(), vmin=0.1, vmax=10.0)),
    # interactive
    "interactive.slider_figure": ex(lambda: dict(key="k", draw=_frame, values=[0.1, 0.2], label="γ", initial=0,
                                                 value_format="{:.3g}", glue=False),
                                    free_text=("key", "label", "value_format")),
    # bench (bench re-exports the functions of bench_results)
    "bench.parse_size": ex(lambda: dict(text="1k")),
    "bench.size_label": ex(lambda: dict(num_params=1000)),
    "bench.model_shapes": ex(lambda: dict(num_params=2000)),
    "bench.traffic_bytes_per_param": ex(lambda: dict(optimizer=stepped_optimizer(), name="SignDescent"),
                                        free_text=("name",)),
    "bench.time_calls": ex(lambda: dict(fn=lambda: None, warmup=1, repeats=2, sync=lambda: None)),
    "bench_stream.stream_kernel": ex(lambda: dict(name="triad", a=torch.ones(8), b=torch.ones(8))),
    "bench_stream.stream_bandwidth": ex(lambda: dict(num_params=100, device=torch.device("cpu"), threads=[1],
                                                     repeats=2, warmup=1)),
    "bench.run_benchmark": ex(lambda: dict(sizes=["1000"], optimizers=["torch.SGD"], repeats=1, warmup=0,
                                           device="cpu", seed=0, preliminary=False, note="n", nonfinite="skip",
                                           threads=[1]),
                              free_text=("note",)),
    "bench.evaluate_targets": ex(lambda: dict(result=bench_result())),
    "bench.format_table": ex(lambda: dict(result=bench_result())),
    "bench.validate_results": ex(lambda: dict(result=bench_result())),
    "bench_batched.batched_benchmark": ex(lambda: dict(num_seeds=2, threads=[1], epochs=1, batch_size=256, hidden=4,
                                                       repeats=1, optimizer="sgd", lr=0.1)),
    "bench.results_path": ex(lambda: dict(device="cpu", directory="benchmarks"), free_text=("directory",)),
    "bench.find_results": ex(lambda: dict(device="cpu", start="."), free_text=("start",)),
    "bench.load_results": ex(lambda: dict(path=bench_file()), free_text=("path",)),
    # reproduce
    "reproduce.headline": ex(lambda: dict(key="ch1-headline-x", value=1.5, claim="A claim.", fmt=".3f"),
                             free_text=("claim",),),
    "reproduce.make_headline": ex(lambda: dict(key="ch1-headline-x", value=1.5, claim="A claim.", fmt=".3f"),
                                  free_text=("claim",)),
    "reproduce.parse_headline_key": ex(lambda: dict(key="ch1-headline-x")),
    "reproduce.display_text": ex(lambda: dict(value=-0.0612, fmt=".2f")),
    # optim (entries in tests/badinput_optim.py)
    **badinput_optim.entries(ex),
}


def _lrs2():
    from lrtheory.protocol import log_grid

    return log_grid(0.05, 0.2, 2)


def _metas2():
    from lrtheory.protocol import log_grid

    return log_grid(0.001, 0.01, 2)


def SeedPlan2():  # noqa: N802 - reads like the class it builds
    from lrtheory.protocol import SeedPlan

    return SeedPlan((10000,), (0, 1))


@functools.cache
def study():
    from lrtheory.stepsize_study import study_rule

    return study_rule("hd", "logreg", split(), _lrs2(), _metas2(), SeedPlan2(), epochs=1, batch_size=6, hidden=4,
                      max_extensions=0)


@functools.cache
def baselines():
    from lrtheory.stepsize_study import run_baselines

    return run_baselines("logreg", split(), _lrs2(), [0], epochs=1, batch_size=6, hidden=4, names=["SGD"])


def _cross_entropy():
    from lrtheory.batched import cross_entropy_losses

    return cross_entropy_losses


def _average_bound():
    from lrtheory.bounds import average_bound

    return average_bound


# --------------------------------------------------------------------------- not fuzzed at all

_RECORD = ("a result record: the library builds it from arguments it has already checked, and its "
           "constructor is not an entry point of the API (read its fields, do not build it)")

SKIP: dict[str, str] = {
    **badinput_optim.SKIP,  # the optimisers' abstract base and pure kernels (reasons there)
    "bench.main": ("the command-line entry point: argparse reports bad arguments on the command line "
                   "(usage message, exit status 2); its values reach run_benchmark, which is fuzzed"),
    "bench_batched.main": ("the command-line entry point: argparse reports bad arguments on the command line "
                           "(usage message, exit status 2); its values reach batched_benchmark, which is fuzzed"),
    "ssl.SimSiam.encode": "a torch module's forward pass: no checks on the hot path (train_ssl and embed check)",
    "ssl.SimSiam.forward": "a torch module's forward pass: no checks on the hot path (train_ssl and embed check)",
    **{k: _RECORD for k in (
        "protocol.TuneResult", "protocol.PairedDifference", "protocol.Verdict", "protocol.MethodResult",
        "protocol.Comparison", "batched.SeedRuns", "flows.FlowSolution", "adaptive.AdaptiveRun",
        "odecontrol.StepRecord", "sweeps.TrainResult", "schedule_solver.SolverResult",
        "curvature.SharpnessResult", "curvature.TrainResult", "metalr.TrainHistory", "ssl_data.DigitImages",
        "ssl.TrainHistory", "reproduce.Headline", "interactive.SliderFigure", "metalr_long.LongRun",
        "stepsize_grid.GridResult", "stepsize_study.RuleStudy", "stepsize_study.BaselineResult",
        "solvercost.BestCosts", "rmsflow.ClockRun", "regimes.RegimeMap", "sweeps.LogregOptimum",
        "claims.Claim",
        "lane_dynamics.LaneRun", "lane_dynamics.LaneSharpness", "trajectory.TrajectoryTest",
        "trajectory.SharpnessTrack", "penalties.SgdDrift",
        "convex_sgd.SGDRuns", "schedule_runs.BoundCheck", "schedule_runs.ScheduleStudy",
        "schedule_tables.Candidate", "schaipp_logs.LogExtract")},
}


# --------------------------------------------------------------------------- legitimate inputs

_VECTORISED = "vectorised over leading axes / broadcasting: an array of any shape is valid"
_DIVERGING = ("no finiteness check on the training path: NaN outputs are how a diverging run shows, "
              "and train_ssl records them as they are")


def _nonfinite(key: str, arg: str, reason: str) -> dict[tuple[str, str, str], str]:
    return {(key, arg, kind): reason for kind in ("nan", "inf", "-inf")}


_DIVERGED_LOSS = "non-finite losses are what the divergence rule detects"
_FORMATS = "formats non-finite values as NaN, ∞, −∞ (documented)"
_COSINE = "the cosine of a non-finite vector is NaN (documented; a diverged step)"

ALLOW: dict[tuple[str, str, str], str] = {
    **badinput_optim.ALLOW,
    **_nonfinite("protocol.diverged", "losses", _DIVERGED_LOSS),
    ("protocol.diverged", "losses", "wrong-shape"): "a 2-d array holds several runs, one per row (documented)",
    ("protocol.verdict", "a", "nan"): "NaN marks a diverged seed: the verdict is 'undecided' (documented)",
    ("protocol.verdict", "b", "nan"): "NaN marks a diverged seed: the verdict is 'undecided' (documented)",
    ("protocol.tune", "evaluate", "returns-nan"): "NaN scores mark diverged runs (documented)",
    **_nonfinite("fmt.fmt_number", "x", _FORMATS),
    **_nonfinite("fmt.fmt_latex", "x", _FORMATS),
    **_nonfinite("fmt.GluedNumber", "value", "formats any real like fmt_number; glue_number refuses non-finite"),
    **_nonfinite("batched.cross_entropy_losses", "logits", "non-finite logits are how a diverged seed shows"),
    ("batched.train_seeds", "loss_fn", "returns-nan"): "a non-finite loss marks the seed diverged (the rule)",
    ("batched.train_seeds_reference", "loss_fn", "returns-nan"): "a non-finite loss marks the seed diverged",
    **_nonfinite("metalr.cosine", "a", _COSINE),
    **_nonfinite("metalr.cosine", "b", _COSINE),
    ("metalr.cosine", "*", "wrong-shape"): "the cosine of two tensors as flat vectors: only the number of entries counts",
    **_nonfinite("ssl.negative_cosine", "*", _DIVERGING),
    **_nonfinite("ssl.collapse_std", "z", _DIVERGING),
    **_nonfinite("ssl_train.collapse_measures", "z", _DIVERGING),
    ("ssl.simsiam_loss", "*", "wrong-shape"): "the backbone flattens its input: any shape with in_dim entries per row",
    ("ssl_loop.grad_norm", "params", "nan"): "reads only the parameters' .grad, not their values",
    ("ssl_loop.grad_norm", "params", "complex"): "reads only the parameters' .grad, not their values",
    ("ssl_loop.grad_norm", "params", "empty"): "no parameters, no gradient: the norm is 0 (documented)",
    **{(f"curvature.{k}", "loss", "wrong-shape"): "a one-element loss is a scalar (torch's autograd takes it)"
       for k in ("flat_grad", "hessian_vector_product", "sharpness", "gradient_norm_sq", "egr_penalty")},
    ("flows.step_times", "lrs", "empty"): "no steps: the flow time is t_0 = 0 only",
    **_nonfinite("solvercost.evals_to_targets", "gaps", "a non-finite gap (a blown-up run) never counts as reached "
                 "(documented)"),
    ("solvercost.evals_to_targets", "gaps", "wrong-shape"): "a 2-d array holds several runs, one per column "
                                                            "(documented)",
    ("odecontrol.rk45_steps", "t_final", "inf"): "an infinite horizon is valid when max_evals or stop ends the run "
                                                 "(documented)",
    ("constrained.project_nonnegative", "x", "empty"): _VECTORISED,
    ("constrained.project_nonnegative", "x", "wrong-shape"): _VECTORISED,
    ("constrained.project_simplex", "x", "wrong-shape"): _VECTORISED,
    ("constrained.project_simplex_reference", "x", "wrong-shape"): _VECTORISED,
    ("modified.minimum_sharpness", "imbalance_value", "wrong-shape"): _VECTORISED,
    ("modified.exact_eigen_rate", "eigenvalues", "wrong-shape"): _VECTORISED,
    ("modified.exact_eigen_rate", "eigenvalues", "empty"): _VECTORISED,
    ("modified.principal_flow_quadratic", "times", "empty"): "no times, no points: an empty path (documented)",
    ("penalties.flooded_loss", "loss", "wrong-shape"): "a one-element loss is a scalar (as in curvature's helpers)",
    ("ssl_toy.collapse_map", "*", "empty"): "an empty grid gives an empty map",
    ("convex_sgd.run_sgd", "rates", "wrong-shape"): "a 2-d array holds one row of rates per run (documented)",
    ("convex_sgd.run_sgd_reference", "rates", "wrong-shape"): "a 2-d array holds one row of rates per run",
    ("schedule_runs.ScheduleRun", "prefetch", "empty"): "nothing to prefetch: the default",
    ("schedule_tables.fixed_shapes", "cooldowns", "empty"): "no cooldown fractions, no WSD shapes (documented)",
    ("schedule_tables.shape_table", "cooldowns", "empty"): "no cooldown fractions, no WSD shapes",
    **_nonfinite("schedule_runs.parabolic_argmin", "scores", "nan or inf marks a diverged grid point (documented)"),
    ("metalr_long.collapse_step", "lr", "nan"): "NaN records are ignored (documented: a rate not yet measured)",
    **{(f"ssl_toy.{k}", "*", "wrong-shape"): _VECTORISED
       for k in ("toy_loss", "conserved_quantity", "exact_limit", "collapses")},
    ("ssl_toy_gd.invariant_step_change", "*", "wrong-shape"): _VECTORISED,
}


def allowed(key: str, arg: str, kind: str) -> str | None:
    """The reason why ``kind`` is a legitimate value of ``arg`` in ``key``, or ``None``."""
    for (k, a, kd), reason in ALLOW.items():
        if k == key and a in (arg, "*") and (kd == kind or kd == "*" or (kd.endswith("*") and kind.startswith(kd[:-1]))):
            return reason
    return None


def skipped(key: str) -> str | None:
    """The reason why ``key`` is not fuzzed, or ``None``."""
    for k, reason in SKIP.items():
        if k == key or (k.endswith(".*") and key.startswith(k[:-1])):
            return reason
    return None
