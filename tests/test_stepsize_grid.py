"""The stacked η0 × γ grid of chapter 4 against one registry optimiser per cell (train_seeds_reference)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lrtheory import stepsize_grid
from lrtheory.batched import train_seeds_reference
from lrtheory.datasets import load_dataset
from lrtheory.sweeps import make_classifier


@pytest.fixture(scope="module")
def small_data():
    data = load_dataset("digits", device="cpu", dtype=torch.float64, val_size=0.2, test_size=0.2)
    return data


@pytest.mark.parametrize("rule, kind", [(r, "mlp") for r in stepsize_grid.RULES] + [("eg_scalar", "logreg")])
def test_grid_equals_one_optimizer_per_cell(small_data, rule, kind):
    lrs, metas, seeds = (0.05, 0.5), {"eg_scalar": (0.0, 1.0), "eg_coordinate": (3.0,),
                                      "hd": (0.1,), "amid": (0.2, 5.0)}[rule], (3, 7)
    res = stepsize_grid.train_grid(rule, kind, small_data, lrs, metas, seeds=seeds, epochs=1, batch_size=200,
                                   hidden=8)
    assert res.metrics["train_loss"].shape == (2, len(metas), 2) and res.steps == 6  # 1078 examples, batches of 200
    for i, lr in enumerate(lrs):
        for j, meta in enumerate(metas):
            ref = train_seeds_reference(
                lambda s: make_classifier(kind, 64, 10, hidden=8, seed=s, dtype=torch.float64),
                lambda ps, lr_, meta=meta: stepsize_grid.optimizer_for(rule, ps, lr_, meta),
                lr, small_data, seeds=seeds, epochs=1, batch_size=200)
            for key in ("train_loss", "val_loss", "test_acc"):
                np.testing.assert_allclose(res.metrics[key][i, j], ref.metrics[key], rtol=1e-9, atol=1e-12)
            assert np.array_equal(res.diverged[i, j], ref.diverged)


def test_failures_are_scored_as_no_training(small_data):
    res = stepsize_grid.train_grid("eg_scalar", "logreg", small_data, (0.1, 1e4), (1.0,), seeds=(0, 1), epochs=1)
    assert res.diverged[1].all() and not res.diverged[0].any()
    scored = res.scored("train_loss")
    assert np.all(scored[1] == res.initial_loss) and np.all(scored[0] < res.initial_loss)
    assert np.all(res.worst("train_loss") == res.initial_loss)
    assert np.all(res.scored("test_acc")[1] == 0.1)
    np.testing.assert_allclose(res.median("train_loss"), np.median(scored, axis=0))
    with pytest.raises(ValueError, match="metric"):
        res.scored("test_f1")


def test_losses_worse_than_no_training_are_capped():
    """A run that trains (train loss below its start) but ends with a huge validation loss scores as no training."""
    val = np.array([[[0.5, 9.0]]])
    metrics = {"train_loss": np.array([[[0.4, 1.0]]]), "val_loss": val, "val_acc": np.array([[[0.9, 0.3]]])}
    res = stepsize_grid.GridResult("amid", "mlp", (1.0,), (0.1,), (0, 1), metrics, np.zeros((1, 1, 2), bool),
                                   2.3, 5)
    np.testing.assert_array_equal(res.scored("val_loss"), [[[0.5, 2.3]]])
    np.testing.assert_array_equal(res.scored("val_acc"), [[[0.9, 0.3]]])  # accuracies are not capped


def test_bad_arguments_are_named(small_data):
    with pytest.raises(ValueError, match="rule"):
        stepsize_grid.train_grid("adam", "logreg", small_data, (0.1,), (1.0,), seeds=(0, 1), epochs=1)
    with pytest.raises(ValueError, match="lrs"):
        stepsize_grid.train_grid("hd", "logreg", small_data, (-0.1,), (1.0,), seeds=(0, 1), epochs=1)
    with pytest.raises(ValueError, match="lrs"):
        stepsize_grid.train_grid("hd", "logreg", small_data, (float("nan"),), (1.0,), seeds=(0, 1), epochs=1)
    with pytest.raises(TypeError, match="data"):
        stepsize_grid.train_grid("hd", "logreg", None, (0.1,), (1.0,), seeds=(0, 1), epochs=1)
    with pytest.raises(ValueError, match="rule"):
        stepsize_grid.optimizer_for("sgd", [torch.zeros(1, requires_grad=True)], 0.1, 0.1)
