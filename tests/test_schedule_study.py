"""Tests of lrtheory.schedule_tables, lrtheory.schedule_runs and lrtheory.schaipp_logs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrtheory import bounds as B
from lrtheory import convex_sgd as C
from lrtheory import free_weight as FW
from lrtheory import schaipp_logs as L
from lrtheory import schedule_runs as SR
from lrtheory import schedule_solver as SS
from lrtheory import schedule_tables as ST
from lrtheory import schedules as S
from lrtheory.protocol import log_grid, seed_plan


def test_candidates_and_excess():
    T = 60
    g = 1 + 3 * np.exp(-np.arange(T) / 6)
    cands = ST.candidate_schedules(g, 1.0)
    assert all(c.steps.size == T - 1 for c in cands.values())
    np.testing.assert_allclose(cands["exact optimum"].steps, SS.optimal_combined_schedule(g, 1.0)[:-1])
    assert cands["guess (article)"].weight == 0.0 and cands["guess, free weight"].weight is None
    ex = ST.excess_over_optimum({"g": g})
    assert abs(ex["g", "exact optimum"][0]) < 1e-12 and abs(ex["g", "exact optimum"][1]) < 1e-8
    assert math.isinf(ex["g", "guess (article)"][0]) and math.isinf(ex["g", "guess (article)"][1])
    assert math.isnan(ex["g", "cosine"][0])
    # every excess is >= 0: nothing beats the exact minimum
    assert all(v[1] >= -1e-9 for v in ex.values() if not math.isnan(v[1]))
    table = ST.excess_markdown(ex)
    assert table.count("\n") == len(cands) + 1 and "∞" in table and "—" in table


def test_fixed_shapes_and_shape_table():
    shapes = ST.fixed_shapes(99)
    np.testing.assert_allclose(shapes["linear decay"], S.linear_decay_schedule(np.arange(99), 99, 1.0))
    assert set(shapes) == {"constant", "WSD 20%", "WSD 50%", "cosine", "linear decay"}
    tab = ST.shape_table([50])
    g = np.ones(50)
    for name, (c, val, ex) in tab[50].items():
        if name == "exact optimum":
            assert val == pytest.approx(SS.combined_optimum_value(g, 1.0))
            continue
        # the tabulated bound is attained by the tabulated base rate (and some weight) ...
        st = ST.fixed_shapes(49)[name]
        assert val <= B.combined_bound(np.append(c * st, c * st[-1]), g, 1.0) * (1 + 1e-12)
        assert ex >= 0
    with pytest.raises(ValueError, match="horizons"):
        ST.shape_table([1])


def test_parabolic_argmin():
    v = np.geomspace(0.01, 10, 13)
    s = (np.log(v) - math.log(0.3)) ** 2
    assert SR.parabolic_argmin(v, s) == pytest.approx(0.3, rel=1e-9)
    assert SR.parabolic_argmin(v, 1.0 - s) == v[-1]               # concave: the best (edge) grid value
    assert SR.parabolic_argmin(v, np.log(v)) == v[0]             # best on the edge: the grid value
    with pytest.raises(ValueError, match="values"):
        SR.parabolic_argmin([1.0, 2.0], [1.0, 2.0])


def test_schedule_run_caches_and_prefetches():
    p = C.make_problem("breast_cancer", "absolute", unit_rows=True, box=0.5)
    _, Ls = C.solve_problem(p)
    shape = S.linear_decay_schedule(np.arange(30), 30, 1.0)
    run = SR.ScheduleRun(p, Ls, shape, batch_size=8, prefetch=(0.1, 0.2, 0.4))
    out = run(0.2, (5, 6))
    assert run.calls == 1
    run(0.4, (5, 6))
    run(0.1, (5, 6))
    assert run.calls == 1                                         # the grid came in one call
    direct = C.run_sgd(p, 0.2 * shape, [5, 6], batch_size=8)
    np.testing.assert_allclose(out["train_gap"], direct.objective - Ls)
    run(0.8, (5, 6))
    assert run.calls == 2


def test_refined_shapes():
    msq = (1 + 4 * np.exp(-np.arange(100) / 10)) ** 2
    shapes, g = SR.refined_shapes(msq, window=5)
    assert g.size == 101 and g[-1] == g[-2]
    for v in shapes.values():
        assert v.size == 100 and v.max() == pytest.approx(1.0) and np.all(v > 0)
    peak = int(np.argmax(shapes["refined optimum"]))
    assert peak > 0
    np.testing.assert_allclose(shapes["refined, flat warmup"][:peak + 1], 1.0)
    np.testing.assert_allclose(shapes["refined, flat warmup"][peak:], shapes["refined optimum"][peak:])


def test_bounds_hold_on_a_small_run():
    p = C.make_problem("breast_cancer", "absolute", unit_rows=True, box=0.5)
    th, Ls = C.solve_problem(p)
    T = 40
    shapes = {"constant": np.ones(T - 1), "linear": S.linear_decay_schedule(np.arange(T - 1), T - 1, 1.0)}
    out = SR.bounds_hold(p, th, Ls, shapes, seeds=range(30), grad_norm=1.0,
                         domain_radius=float(np.linalg.norm(0.5 + np.abs(th))))
    for chk in out.values():
        assert chk.measured["last"][1] < chk.bounds["combined"]
        assert chk.pathwise_ok and chk.classic_ok
        assert chk.rates.size == T
        assert chk.bounds["combined"] == pytest.approx(
            FW.best_base_rate(shapes[chk.name], np.ones(T), float(np.linalg.norm(th)))[2])
    with pytest.raises(ValueError, match="seeds"):
        SR.bounds_hold(p, th, Ls, shapes, seeds=[1], grad_norm=1.0, domain_radius=1.0)


def test_schedule_comparison_smoke():
    p = C.make_problem("breast_cancer", "absolute", unit_rows=True, box=0.5)
    th, Ls = C.solve_problem(p)
    N = 40
    fixed = {"constant": np.ones(N), "linear decay": S.linear_decay_schedule(np.arange(N), N, 1.0)}
    plan = seed_plan(mode="quick")
    study = SR.schedule_comparison(p, Ls, th, fixed, plan=plan, grid=log_grid(0.05, 3.2, 7), batch_size=8,
                                   first_seeds=(500, 501), window=5)
    assert set(study.comparison.methods) == {"constant", "linear decay", "refined optimum",
                                             "refined, flat warmup", "refined guess"}
    assert study.G_hat.size == N + 1 and study.mean_sq_norms.size == N
    assert set(study.predicted) == set(study.predicted_constant_G) == set(study.comparison.methods)
    with pytest.raises(ValueError, match="first_seeds"):
        SR.schedule_comparison(p, Ls, th, fixed, plan=plan, grid=log_grid(0.05, 3.2, 7), batch_size=8,
                               first_seeds=plan.evaluation, window=5)


def test_log_extract():
    e = L.load_extract()
    assert "MIT License" in e.license and len(e.commit) == 40 and len(e.finals) == 41
    lrs, losses = e.sweep("wsd", cooldown=0.2, decay="linear")
    assert np.all(np.diff(lrs) > 0) and lrs.size == 4 and np.all((2.5 < losses) & (losses < 3.5))
    for cv in e.curves.values():
        assert np.all(np.diff(cv["iter"]) > 0) and len(cv["iter"]) == len(cv["val_loss"])
    with pytest.raises(ValueError, match="no run"):
        e.sweep("wsd", cooldown=0.33)
    with pytest.raises(ValueError, match="schedule"):
        e.sweep("step")


def test_log_schedule_shapes():
    N = 100
    k = np.arange(N)
    np.testing.assert_allclose(L.log_schedule("wsd", N, warmup=5, cooldown=0.2),
                               S.wsd_schedule(k, N, 1.0, warmup=5, cooldown=0.2))
    cos = L.log_schedule("cosine", N, warmup=0, final_lr=0.1)
    np.testing.assert_allclose(cos, 0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * k / N)))
    const = L.log_schedule("constant", N, warmup=4)
    np.testing.assert_allclose(const[:4], np.arange(1, 5) / 4) and np.testing.assert_allclose(const[4:], 1.0)
    with pytest.raises(ValueError, match="warmup"):
        L.log_schedule("constant", N, warmup=N)
