"""Chapter 4's study helpers: γ chosen on tuning seeds with edge extension, baselines from their packages."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch

from lrtheory import stepsize_study
from lrtheory.datasets import load_dataset
from lrtheory.protocol import SeedPlan, log_grid


@pytest.fixture(scope="module")
def data():
    return load_dataset("digits", device="cpu", val_size=0.2, test_size=0.2)


def test_choice_reads_tuning_seeds_and_extends_an_edge(data):
    plan = SeedPlan(evaluation=(0, 1), tuning=(1000,))
    # hypergradient SGD from a tiny start: the largest beta of a too-small grid is best, so the grid grows
    st = stepsize_study.study_rule("hd", "logreg", data, log_grid(1e-3, 1e-2, 2), log_grid(1e-4, 1e-3, 2), plan,
                                   epochs=1, max_extensions=1)
    assert st.extensions == 1 and len(st.grid.metas) == 4 and st.grid.metas[-1] > 1e-3
    assert st.grid.seeds == (1000, 0, 1) and st.n_tune == 1
    score = st.grid.worst("val_loss")[:, :1].mean(axis=1)
    assert st.n_tied >= 1 and st.meta == st.grid.metas[st.chosen]
    assert st.chosen == int(np.argmin(score)) or st.n_tied > 1
    assert st.on_edge == (st.chosen in (0, len(st.grid.metas) - 1))
    assert st.at_chosen("worst", "train_loss").shape == (2,)
    with pytest.raises(TypeError, match="LogGrid"):
        stepsize_study.study_rule("hd", "logreg", data, (1e-3,), log_grid(1e-4, 1e-3, 2), plan, epochs=1)


def test_baselines_come_from_their_packages(data):
    from dog import DoG
    from prodigyopt import Prodigy
    from dadaptation import DAdaptSGD

    p = [torch.zeros(2, requires_grad=True)]
    assert isinstance(stepsize_study.make_baseline("DoG", 0.01)(p, 1.0), DoG)
    opt = stepsize_study.make_baseline("Prodigy", 0.01)(p, 1.0)
    assert isinstance(opt, Prodigy) and opt.param_groups[0]["d"] == 0.01
    assert isinstance(stepsize_study.make_baseline("D-Adaptation", None)(p, 1.0), DAdaptSGD)
    res = stepsize_study.run_baselines("logreg", data, log_grid(1e-3, 1e-2, 2), (0, 1), epochs=1,
                                       names=("DoG", "SGD"))
    assert res["SGD"].default is None and res["DoG"].default["train_loss"].shape == (2,)
    assert res["DoG"].swept["test_acc"].shape == (2, 2) and res["DoG"].worst("test_acc").shape == (2,)
    with pytest.raises(ValueError, match="name"):
        stepsize_study.make_baseline("LBFGS", None)


def test_heatmap_draws(data):
    import matplotlib.pyplot as plt

    plan = SeedPlan(evaluation=(0, 1), tuning=(1000,))
    st = stepsize_study.study_rule("eg_scalar", "logreg", data, log_grid(1e-2, 1e-1, 2), log_grid(0.1, 1.0, 3),
                                   plan, epochs=1, max_extensions=0)
    fig, ax = plt.subplots()
    cbar = stepsize_study.heatmap(ax, st, "train_loss")
    assert ax.images and cbar is not None
    plt.close(fig)


def test_ties_in_the_worst_case_are_broken_by_the_median():
    """Every gamma fails at the largest eta0 (worst case = no training): the median over eta0 decides."""
    from lrtheory.stepsize_grid import GridResult

    init = 2.3
    # axis 0: eta0 (3 values), axis 1: gamma (4 values), axis 2: seeds (1 tuning + 1 evaluation)
    val = np.array([[[0.9, 0.9], [0.5, 0.5], [0.7, 0.7], [0.4, 0.4]],
                    [[0.8, 0.8], [0.3, 0.3], [0.6, 0.6], [0.2, 0.2]],
                    [[np.nan, np.nan], [np.nan, np.nan], [np.nan, np.nan], [1.0, 1.0]]])
    div = np.isnan(val)
    metrics = {"val_loss": val, "train_loss": np.where(div, np.nan, val)}
    grid = GridResult("amid", "mlp", (0.1, 1.0, 10.0), (0.01, 0.1, 1.0, 10.0), (1000, 0), metrics, div, init, 10)
    # gammas 0-2 fail at eta0 = 10 and score init; gamma 3 does not fail: no tie, gamma 3 wins (an edge)
    assert stepsize_study._choose(grid, 1) == (3, 1)
    metrics2 = {k: v[:, :3] for k, v in metrics.items()}
    grid2 = GridResult("amid", "mlp", (0.1, 1.0, 10.0), (0.01, 0.1, 1.0), (1000, 0), metrics2, div[:, :3], init, 10)
    # three-way tie at the untrained loss; medians over eta0 are 0.9, 0.5, 0.7 -> gamma index 1
    assert stepsize_study._choose(grid2, 1) == (1, 3)
