"""Tests of the experiment protocol against oracles: coverage, closed forms, synthetic optima."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from lrtheory.protocol import (
    DIVERGENCE_FACTOR,
    MIN_SEEDS,
    TUNING_SEED_OFFSET,
    Comparison,
    LogGrid,
    SeedPlan,
    compare_methods,
    comparison_table,
    diverged,
    log_grid,
    paired_difference,
    seed_plan,
    tune,
    verdict,
)


# ----------------------------------------------------------------------------- seeds


@pytest.mark.parametrize("mode", ["quick", "standard", "full"])
def test_seed_plan_sizes_and_disjointness(mode):
    p = seed_plan(mode=mode)
    assert len(p.evaluation) == MIN_SEEDS[mode]
    assert not set(p.tuning) & set(p.evaluation)
    assert min(p.tuning) >= TUNING_SEED_OFFSET
    assert seed_plan(24, mode=mode).evaluation == tuple(range(24))


def test_seed_plan_refuses_fewer_seeds_than_the_mode_minimum():
    with pytest.raises(ValueError, match="n_eval must be >= 5"):
        seed_plan(3, mode="standard")
    with pytest.raises(ValueError, match="disjoint"):
        SeedPlan(tuning=(1, 2), evaluation=(2, 3))
    with pytest.raises(ValueError, match="distinct"):
        SeedPlan(tuning=(1,), evaluation=(2, 2))
    with pytest.raises(TypeError, match="n_eval must be an integer"):
        seed_plan(2.0, mode="quick")  # type: ignore[arg-type]


def test_seed_plans_with_different_bases_do_not_overlap():
    a, b = seed_plan(5, mode="standard", base=0), seed_plan(5, mode="standard", base=5)
    assert not set(a.evaluation) & set(b.evaluation)
    assert not set(a.tuning) & set(b.tuning)


# ----------------------------------------------------------------------------- grids


def test_log_grid_has_a_constant_ratio_and_its_end_points():
    g = log_grid(1e-3, 1e-1, 5)
    v = np.array(g.values)
    assert v[0] == 1e-3 and v[-1] == 1e-1
    np.testing.assert_allclose(v[1:] / v[:-1], g.ratio, rtol=1e-10)
    assert g.ratio == pytest.approx(10 ** 0.5)


def test_log_grid_extension_respects_limits():
    g = log_grid(0.1, 0.4, 3, limits=(0.0, 0.5))
    assert len(g.extend("high", 3)) == 3          # 0.8 > 0.5: nothing added
    low = g.extend("low", 2)
    assert low.values[0] == pytest.approx(0.025) and len(low) == 5


def test_log_grid_bad_input():
    with pytest.raises(ValueError, match="hi must be > lo"):
        log_grid(1.0, 0.5, 3)
    with pytest.raises(ValueError, match="lo must be > 0"):
        log_grid(0.0, 1.0, 3)
    with pytest.raises(ValueError, match="num must be >= 1"):
        log_grid(0.1, 1.0, 0)
    with pytest.raises(ValueError, match="values must not be empty"):
        LogGrid((), 2.0)
    with pytest.raises(ValueError, match="lo must be finite"):
        log_grid(math.nan, 1.0, 3)


# ----------------------------------------------------------------------------- divergence


def test_divergence_rule():
    assert diverged([2.3, 1.0, 0.5]) is False
    assert diverged([2.3, 15.0, 0.4]) is False          # a catapult below 10x the start
    assert diverged([2.3, 7.8e58, 1.0]) is True           # the metalr case of chapter 4
    assert diverged([2.3, math.nan]) is True
    assert diverged([2.3, math.inf]) is True
    assert diverged([2.3, 2.3 * DIVERGENCE_FACTOR * 1.01]) is True
    np.testing.assert_array_equal(diverged([[1.0, 0.5], [1.0, 20.0]]), [False, True])
    assert diverged([2.3, 15.0], factor=5.0) is True


def test_divergence_bad_input():
    with pytest.raises(ValueError, match="losses must not be empty"):
        diverged([])
    with pytest.raises(ValueError, match="initial loss"):
        diverged([math.nan, 1.0])
    with pytest.raises(ValueError, match="factor must be > 1"):
        diverged([1.0], factor=1.0)


# ----------------------------------------------------------------------------- tuning


def _parabola(center: float, noise: float = 0.0):
    def evaluate(v, seeds):
        return [(math.log10(v) - math.log10(center)) ** 2 + noise * (s % 7) for s in seeds]
    return evaluate


def test_tune_finds_an_interior_optimum_without_extending():
    r = tune(_parabola(1e-2), log_grid(1e-4, 1.0, 5), (1, 2))
    assert r.best == pytest.approx(1e-2) and r.extensions == 0
    assert not r.on_edge and not r.at_limit and r.scores.shape == (5, 2)


def test_tune_extends_a_grid_whose_best_point_is_on_an_edge():
    # the optimum 1e-5 lies two decades below the first grid
    r = tune(_parabola(1e-5), log_grid(1e-3, 1e-1, 3), (1,), max_extensions=3)
    assert r.best == pytest.approx(1e-5) and r.extensions >= 1 and not r.on_edge
    assert 0 < r.best_index < len(r.grid) - 1


def test_tune_reports_an_edge_it_could_not_leave_and_a_hard_limit():
    r = tune(_parabola(1e-9), log_grid(1e-3, 1e-1, 3), (1,), max_extensions=1)
    assert r.on_edge and r.best == pytest.approx(1e-5) and r.extensions == 1
    lim = tune(_parabola(10.0), log_grid(0.01, 1.0, 3, limits=(0.0, 1.0)), (1,))
    assert lim.at_limit and not lim.on_edge and lim.best == 1.0


def test_tune_never_chooses_a_diverged_point_and_counts_it():
    def evaluate(v, seeds):
        return [math.nan if v > 0.05 else math.log10(v) for _ in seeds]  # larger is better until divergence
    r = tune(evaluate, log_grid(1e-3, 1.0, 4), (1, 2), minimize=False)
    assert r.best == pytest.approx(0.01) and r.diverged_points == 2
    assert np.isnan(r.scores[-1]).all()


def test_tune_bad_input():
    g = log_grid(0.1, 1.0, 3)
    with pytest.raises(ValueError, match="every grid point diverged"):
        tune(lambda v, s: [math.nan] * len(s), g, (1,))
    with pytest.raises(ValueError, match="one score per seed"):
        tune(lambda v, s: [1.0], g, (1, 2))
    with pytest.raises(ValueError, match="seeds must not be empty"):
        tune(_parabola(0.3), g, ())
    with pytest.raises(TypeError, match="grid must be a LogGrid"):
        tune(_parabola(0.3), [0.1, 1.0], (1,))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="evaluate must be callable"):
        tune(None, g, (1,))  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- statistics


def test_t_interval_is_the_closed_form():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=7), rng.normal(size=7)
    d = a - b
    half = stats.t.ppf(0.975, 6) * d.std(ddof=1) / math.sqrt(7)
    r = paired_difference(a, b)
    assert r.mean == pytest.approx(d.mean())
    assert (r.low, r.high) == pytest.approx((d.mean() - half, d.mean() + half))


def test_t_interval_covers_the_true_difference_95_percent_of_the_time():
    rng = np.random.default_rng(2026)
    sims, n, true = 2000, 5, 0.3
    hits = 0
    for _ in range(sims):
        base = rng.normal(size=n)                     # shared seed effect (pairing)
        a = base + true + rng.normal(scale=0.5, size=n)
        b = base + rng.normal(scale=0.5, size=n)
        r = paired_difference(a, b)
        hits += r.low <= true <= r.high
    tol = 3 * math.sqrt(0.95 * 0.05 / sims)
    assert abs(hits / sims - 0.95) < tol


def test_bootstrap_interval_covers_roughly_95_percent():
    rng = np.random.default_rng(7)
    sims, n, true = 300, 20, -0.2
    hits = 0
    for i in range(sims):
        d = true + rng.normal(size=n)
        r = paired_difference(d, np.zeros(n), method="bootstrap", seed=i, n_resamples=999)
        hits += r.low <= true <= r.high
    # BCa on 20 normal samples under-covers slightly; a binomial tolerance around 0.94
    assert 0.89 < hits / sims < 0.985


def test_paired_difference_bad_input():
    with pytest.raises(ValueError, match="at least 2 paired seeds"):
        paired_difference([1.0], [2.0])
    with pytest.raises(ValueError, match="at least 10 paired seeds"):
        paired_difference([1.0, 2.0, 3.0], [2.0, 2.0, 2.0], method="bootstrap")
    with pytest.raises(ValueError, match="same length"):
        paired_difference([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="a must contain only finite values"):
        paired_difference([1.0, math.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="method must be one of"):
        paired_difference([1.0, 2.0], [1.0, 2.0], method="z")


def test_identical_differences_give_a_point_interval():
    r = paired_difference([1.0, 2.0, 3.0], [0.5, 1.5, 2.5])
    assert r.low == r.high == pytest.approx(0.5) and r.excludes_zero


def test_verdict_directions_ties_and_divergence():
    a = np.array([1.0, 1.1, 0.9, 1.05, 0.95])
    lower = a - 0.5
    v = verdict(a, lower, names=("A", "B"), metric="loss")
    assert v.outcome == "b" and v.winner == "B" and str(v) == "B better than A"
    acc = verdict(a, lower, names=("A", "B"), metric="acc", higher_is_better=True)
    assert acc.winner == "A"
    rng = np.random.default_rng(0)
    tie = verdict(a, a + rng.normal(scale=0.2, size=5) * [1, -1, 1, -1, 1], names=("A", "B"))
    assert tie.outcome == "tie" and tie.winner is None and "no significant" in tie.sentence()
    bad = verdict([1.0, math.nan], [1.0, 2.0], names=("A", "B"))
    assert bad.outcome == "undecided" and "A: 1/2" in bad.reason and not bad.decided
    with pytest.raises(ValueError, match="inf"):
        verdict([1.0, math.inf], [1.0, 2.0])
    with pytest.raises(TypeError, match="names must be a tuple"):
        verdict([1.0, 2.0], [1.0, 2.0], names="AB")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- comparisons


def _method(center: float, offset: float, seed_effect: float = 0.1):
    """A fake training run: validation loss a parabola in log lr, test loss offset + seed noise."""
    def run(v, seeds):
        s = np.array(seeds, dtype=float)
        base = (math.log10(v) - math.log10(center)) ** 2
        noise = seed_effect * np.sin(s)               # shared by methods on the same seed: paired
        return {"val_loss": base + noise, "test_loss": base + offset + noise + 0.001 * np.cos(3 * s),
                "test_acc": 0.9 - base - offset + 0.0 * s}
    return run


def test_compare_methods_tunes_on_validation_and_pairs_evaluation_seeds():
    plan = seed_plan(5, mode="standard")
    cmp_ = compare_methods({"good": (log_grid(1e-3, 1e-1, 5), _method(1e-2, 0.0)),
                            "worse": (log_grid(1e-2, 1.0, 5), _method(1e-1, 0.05))},
                           plan, tune_metric="val_loss")
    assert isinstance(cmp_, Comparison)
    assert cmp_.methods["good"].value == pytest.approx(1e-2)
    assert cmp_.methods["worse"].value == pytest.approx(1e-1)
    v = cmp_.verdict("good", "worse", "test_loss")
    assert v.winner == "good" and v.difference.mean == pytest.approx(-0.05, abs=2e-3)
    assert cmp_.verdict("good", "worse", "test_acc").winner == "good"
    winner, vs = cmp_.best("test_loss")
    assert winner == "good" and set(vs) == {"worse"}
    table = comparison_table(cmp_, ["test_loss", "test_acc"])
    assert table.count("\n") == 3 and "| good |" in table and "0/5" in table


def test_compare_methods_refuses_test_tuning_and_unequal_budgets():
    plan = seed_plan(mode="quick")
    with pytest.raises(ValueError, match="must not read the test set"):
        compare_methods({"a": (log_grid(0.1, 1.0, 3), _method(0.3, 0.0))}, plan, tune_metric="test_loss")
    with pytest.raises(ValueError, match="same grid size"):
        compare_methods({"a": (log_grid(0.1, 1.0, 3), _method(0.3, 0.0)),
                         "b": (log_grid(0.1, 1.0, 4), _method(0.3, 0.0))}, plan, tune_metric="val_loss")
    with pytest.raises(ValueError, match="one value per seed"):
        compare_methods({"a": (0.1, lambda v, s: {"val_loss": [1.0]})}, plan, tune_metric="val_loss")


def test_a_method_stuck_on_its_grid_edge_blocks_the_verdict():
    plan = seed_plan(mode="quick")
    cmp_ = compare_methods({"edge": (log_grid(1.0, 10.0, 3), _method(1e-6, 0.0)),
                            "fine": (log_grid(1e-2, 1.0, 3), _method(0.1, 0.0))},
                           plan, tune_metric="val_loss", max_extensions=1)
    assert cmp_.methods["edge"].tuning.on_edge
    v = cmp_.verdict("edge", "fine", "test_loss")
    assert v.outcome == "undecided" and "edge of its grid" in v.reason


def test_diverged_evaluation_seeds_are_counted_not_averaged():
    plan = seed_plan(mode="quick")

    def run(v, seeds):
        return {"val_loss": [1.0] * len(seeds), "test_loss": [1.0, math.nan][:len(seeds)]}
    cmp_ = compare_methods({"a": (0.1, run), "b": (0.1, _method(0.1, 0.0))}, plan, tune_metric="val_loss")
    assert cmp_.methods["a"].diverged.tolist() == [False, True]
    assert np.isnan(cmp_.methods["a"].metrics["val_loss"][1])   # every metric of a diverged seed
    assert cmp_.verdict("a", "b", "test_loss").outcome == "undecided"
    assert "1/2" in cmp_.table(["test_loss"])
