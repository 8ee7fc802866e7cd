"""Comparisons of several methods with equal budgets on paired seeds, and the one table layout (chapter 1)."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .._validation import check_array, check_bool, check_callable, check_int, check_scalar, check_str
from .grids import LogGrid, TuneResult, tune
from .seeds import SeedPlan
from .stats import Verdict, verdict

__all__ = ["MethodResult", "Comparison", "compare_methods", "comparison_table"]



@dataclass(frozen=True)
class MethodResult:
    """One method of a :class:`Comparison`: its tuning and its evaluation.

    Attributes
    ----------
    name : str
    tuning : TuneResult or None
        ``None`` for a method without a tuned hyperparameter (a fixed value).
    value : float
        The hyperparameter it was evaluated at.
    metrics : dict of str to numpy.ndarray
        Every metric on every evaluation seed (``nan`` for diverged seeds).
    diverged : numpy.ndarray of bool
        Which evaluation seeds diverged.
    """

    name: str
    tuning: TuneResult | None
    value: float
    metrics: dict[str, np.ndarray]
    diverged: np.ndarray

    def mean_ci(self, metric: str, confidence: float = 0.95) -> tuple[float, float, int]:
        """Mean, t-interval half-width and number of finite seeds of ``metric``.

        Parameters
        ----------
        metric : str
            A metric name of this method.
        confidence : float, optional
            Level of the interval (default 0.95).

        Returns
        -------
        (float, float, int)
            ``nan`` mean and half-width when fewer than two seeds are finite.
        """
        from scipy import stats

        if metric not in self.metrics:
            raise ValueError(f"metric must be one of {sorted(self.metrics)}, got {metric!r}")
        confidence = check_scalar("confidence", confidence, low=0.0, high=1.0, low_inclusive=False,
                                  high_inclusive=False)
        x = self.metrics[metric]
        x = x[np.isfinite(x)]
        if x.size < 2:
            return (float(x.mean()) if x.size else math.nan), math.nan, int(x.size)
        half = float(stats.t.ppf(0.5 + confidence / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
        return float(x.mean()), half, int(x.size)


@dataclass(frozen=True)
class Comparison:
    """Several methods tuned with equal budgets and evaluated on the same seeds.

    Attributes
    ----------
    methods : dict of str to MethodResult
        In the order given to :func:`compare_methods`.
    plan : SeedPlan
        The seeds used.
    tune_metric : str
        The validation metric the tuning minimised (or maximised).
    grid_size : int
        Points per method's starting grid (equal for all tuned methods).
    """

    methods: dict[str, MethodResult]
    plan: SeedPlan
    tune_metric: str
    grid_size: int
    higher_is_better: dict[str, bool] = field(default_factory=dict)

    def verdict(self, a: str, b: str, metric: str, *, higher_is_better: bool | None = None,
                confidence: float = 0.95, method: str = "t") -> Verdict:
        """The paired verdict of methods ``a`` and ``b`` on ``metric``.

        A method whose tuned value stayed on a grid edge makes the verdict undecided.

        Parameters
        ----------
        a, b : str
            Method names.
        metric : str
            A metric every method reports.
        higher_is_better : bool, optional
            Direction; default from the comparison (``*acc*`` metrics higher, others lower).
        confidence, method
            As in :func:`paired_difference`.

        Returns
        -------
        Verdict
        """
        for nm, arg in ((a, "a"), (b, "b")):
            if nm not in self.methods:
                raise ValueError(f"{arg} must be one of {list(self.methods)}, got {nm!r}")
        if a == b:
            raise ValueError("a and b must be different methods")
        hib = self._direction(metric) if higher_is_better is None else higher_is_better
        for nm in (a, b):
            t = self.methods[nm].tuning
            if t is not None and t.on_edge:
                return Verdict(a, b, metric, "undecided", None, hib,
                               f"{nm}'s tuned value {t.best:.3g} sits on the edge of its grid")
        for nm in (a, b):
            if metric not in self.methods[nm].metrics:
                raise ValueError(f"metric must be one of {sorted(self.methods[nm].metrics)}, got {metric!r}")
        return verdict(self.methods[a].metrics[metric], self.methods[b].metrics[metric], names=(a, b),
                       metric=metric, higher_is_better=hib, confidence=confidence, method=method)

    def _direction(self, metric: str) -> bool:
        if metric in self.higher_is_better:
            return self.higher_is_better[metric]
        return "acc" in metric

    def best(self, metric: str, *, higher_is_better: bool | None = None,
             confidence: float = 0.95) -> tuple[str | None, dict[str, Verdict]]:
        """The method with the best mean on ``metric``, if it beats every other significantly.

        The intervals are Bonferroni-adjusted for the ``k - 1`` comparisons of the
        leader with each other method (each at level ``1 - (1 - confidence)/(k - 1)``).

        Parameters
        ----------
        metric : str
            The metric.
        higher_is_better : bool, optional
            Direction (default from the metric's name).
        confidence : float, optional
            Family-wise confidence (default 0.95).

        Returns
        -------
        (str or None, dict of str to Verdict)
            The winner (``None`` when the leader does not beat all others
            significantly, or some verdict is undecided) and the leader's verdict
            against each other method.
        """
        names = list(self.methods)
        if len(names) < 2:
            raise ValueError("a comparison needs at least two methods to name a best one")
        confidence = check_scalar("confidence", confidence, low=0.0, high=1.0, low_inclusive=False,
                                  high_inclusive=False)
        hib = self._direction(metric) if higher_is_better is None else check_bool("higher_is_better",
                                                                                  higher_is_better)
        means = {}
        for nm in names:
            x = self.methods[nm].metrics.get(metric)
            if x is None:
                raise ValueError(f"metric must be reported by every method; {nm!r} lacks {metric!r}")
            means[nm] = float(np.mean(x)) if np.all(np.isfinite(x)) else (-math.inf if hib else math.inf)
        leader = (max if hib else min)(names, key=lambda nm: means[nm])
        level = 1 - (1 - confidence) / (len(names) - 1)
        vs = {nm: self.verdict(leader, nm, metric, higher_is_better=hib, confidence=level)
              for nm in names if nm != leader}
        ok = all(v.outcome == "a" for v in vs.values())
        return (leader if ok else None), vs

    def table(self, metrics: Sequence[str], *, digits: int = 3) -> str:
        """The protocol's table as GitHub Markdown (see :func:`comparison_table`)."""
        return comparison_table(self, metrics, digits=digits)


def compare_methods(methods: Mapping[str, tuple[Any, Callable[..., Mapping[str, Any]]]], plan: SeedPlan, *,
                    tune_metric: str, minimize: bool = True, max_extensions: int = 3,
                    higher_is_better: Mapping[str, bool] | None = None,
                    progress_desc: str | None = None) -> Comparison:
    """Tune every method on validation with equal budgets, then evaluate all on the same seeds.

    Parameters
    ----------
    methods : mapping of str to (LogGrid or float, callable)
        For each method, its hyperparameter grid (a :class:`LogGrid`; or a plain
        float for a method with nothing to tune) and ``run(value, seeds)``,
        which trains one model per seed at ``value`` and returns a mapping of
        metric name to one value per seed (``nan`` for a diverged seed).  The
        mapping must contain ``tune_metric`` and may contain test metrics;
        a ``"diverged"`` entry (bools), if present, marks diverged seeds.
    plan : SeedPlan
        Tuning seeds for the grids, evaluation seeds for the chosen values.
    tune_metric : str
        The metric the tuning reads; it must not be a test metric (a name
        containing ``"test"`` is refused).
    minimize : bool, optional
        Whether the tuning minimises ``tune_metric`` (default) or maximises it.
    max_extensions : int, optional
        Passed to :func:`tune`.
    higher_is_better : mapping of str to bool, optional
        Direction of metrics whose name does not tell (by default a metric
        containing ``"acc"`` is higher-is-better, every other lower-is-better).
    progress_desc : str, optional
        Prefix of the progress bars.

    Returns
    -------
    Comparison

    Raises
    ------
    ValueError
        If the tuned methods' grids differ in size (unequal budgets), the tuning
        metric reads the test set, or a run returns malformed metrics.
    """
    if not isinstance(methods, Mapping) or len(methods) < 1:
        raise TypeError("methods must be a non-empty mapping of name to (grid, run)")
    if not isinstance(plan, SeedPlan):
        raise TypeError(f"plan must be a SeedPlan, got {type(plan).__name__}")
    if not isinstance(tune_metric, str) or not tune_metric:
        raise TypeError("tune_metric must be a non-empty str")
    if progress_desc is not None:
        check_str("progress_desc", progress_desc)
    if higher_is_better is not None and not (
            isinstance(higher_is_better, Mapping)
            and all(isinstance(k, str) and isinstance(v, bool) for k, v in higher_is_better.items())):
        raise TypeError("higher_is_better must be a mapping of metric name (str) to bool, "
                        f"got {type(higher_is_better).__name__}")
    if "test" in tune_metric.lower():
        raise ValueError(f"tune_metric must not read the test set, got {tune_metric!r} "
                         "(tune on validation or training metrics)")
    sizes = set()
    for name, spec in methods.items():
        if not isinstance(name, str):
            raise TypeError("methods' names must be str")
        if not (isinstance(spec, tuple) and len(spec) == 2):
            raise TypeError(f"methods[{name!r}] must be a (grid, run) tuple")
        grid, fn = spec
        check_callable(f"methods[{name!r}] run", fn)
        if isinstance(grid, LogGrid):
            sizes.add(len(grid))
        elif not isinstance(grid, numbers.Real) or isinstance(grid, bool):
            raise TypeError(f"methods[{name!r}] grid must be a LogGrid or a float")
    if len(sizes) > 1:
        raise ValueError(f"every tuned method must get the same grid size (equal budgets), got {sorted(sizes)}")
    hib = dict(higher_is_better or {})
    out: dict[str, MethodResult] = {}
    for name, (grid, fn) in methods.items():
        tuning = None
        if isinstance(grid, LogGrid):
            def evaluate(v: float, seeds: tuple[int, ...], fn=fn, name=name) -> np.ndarray:
                res = _check_metrics(name, fn(v, seeds), len(seeds))
                if tune_metric not in res:
                    raise ValueError(f"methods[{name!r}] run must report tune_metric {tune_metric!r}")
                x = res[tune_metric].copy()
                x[res["diverged"]] = np.nan
                return x
            desc = f"{progress_desc}: {name}" if progress_desc else None
            tuning = tune(evaluate, grid, plan.tuning, minimize=minimize, max_extensions=max_extensions,
                          progress_desc=desc)
            value = tuning.best
        else:
            value = float(check_scalar(f"methods[{name!r}] grid", grid))
        res = _check_metrics(name, fn(value, plan.evaluation), len(plan.evaluation))
        div = res.pop("diverged")
        metrics = {k: np.where(div, np.nan, v) for k, v in res.items()}
        out[name] = MethodResult(name, tuning, value, metrics, div)
    return Comparison(out, plan, tune_metric, sizes.pop() if sizes else 1, hib)


def _check_metrics(name: str, res: Any, n: int) -> dict[str, np.ndarray]:
    if not isinstance(res, Mapping):
        raise TypeError(f"methods[{name!r}] run must return a mapping of metric name to values")
    out = {}
    div = np.zeros(n, dtype=bool)
    for k, v in res.items():
        if k == "diverged":
            dv = np.asarray(v)
            if dv.shape != (n,) or dv.dtype != bool:
                raise ValueError(f"methods[{name!r}] run's 'diverged' must be {n} bools")
            div = div | dv
            continue
        arr = check_array(f"methods[{name!r}] metric {k!r}", v, ndim=1, finite=False)
        if arr.shape != (n,):
            raise ValueError(f"methods[{name!r}] metric {k!r} must have one value per seed ({n}), "
                             f"got shape {arr.shape}")
        out[k] = arr
    for arr in out.values():
        div = div | ~np.isfinite(arr)
    out["diverged"] = div
    return out


def comparison_table(comparison: Comparison, metrics: Sequence[str], *, digits: int = 3) -> str:
    """The protocol's one table layout, as GitHub Markdown.

    Columns: method, chosen value (with its grid and any edge note), then for
    each metric ``mean ± half-width of the 95 % t interval``, then the number of
    seeds and of diverged seeds.

    Parameters
    ----------
    comparison : Comparison
    metrics : sequence of str
        Metrics to show, in order.
    digits : int, optional
        Significant digits (default 3).

    Returns
    -------
    str
        A Markdown table (display it with ``IPython.display.Markdown``).
    """
    from ..fmt import fmt_number, md_table

    if not isinstance(comparison, Comparison):
        raise TypeError(f"comparison must be a Comparison, got {type(comparison).__name__}")
    if isinstance(metrics, str) or not isinstance(metrics, Sequence):
        raise TypeError(f"metrics must be a sequence of metric names, got {type(metrics).__name__}")
    if not metrics:
        raise ValueError("metrics must not be empty")
    if not all(isinstance(m, str) for m in metrics):
        raise TypeError("metrics must hold metric names (str)")
    digits = check_int("digits", digits, low=1, high=10)
    head = (["method", "chosen value (grid)"] + [f"{m.replace('_', ' ')} (mean ± 95% CI)" for m in metrics]
            + ["seeds", "diverged"])
    rows = []
    for r in comparison.methods.values():
        chosen = r.tuning.describe() if r.tuning is not None else f"{fmt_number(r.value, digits)} (fixed)"
        cells = [r.name, chosen]
        for m in metrics:
            mean, half, k = r.mean_ci(m)
            cells.append("—" if not math.isfinite(mean) else
                         f"{fmt_number(mean, digits)} ± {fmt_number(half, 2)}" if math.isfinite(half)
                         else fmt_number(mean, digits))
        cells += [str(r.diverged.size), f"{int(r.diverged.sum())}/{r.diverged.size}"]
        rows.append(cells)
    return md_table(head, rows)
