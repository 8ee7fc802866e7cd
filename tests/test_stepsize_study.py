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
    assert st.chosen == int(np.argmin(score)) and st.meta == st.grid.metas[st.chosen]
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
