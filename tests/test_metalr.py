"""Tests of lrtheory.metalr (training runs that record step sizes and step agreement)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lrtheory import metalr
from lrtheory.datasets import load_dataset
from lrtheory.optim.stepsize import EGStepSize


def test_cosine_closed_form():
    a = torch.tensor([1.0, 0.0])
    b = torch.tensor([1.0, 1.0])
    assert math.isclose(metalr.cosine(a, b), 1 / math.sqrt(2), rel_tol=1e-6)
    assert math.isnan(metalr.cosine(a, torch.zeros(2)))


def test_make_classifier_seeded_and_leaves_global_rng_alone():
    state = torch.random.get_rng_state()
    m1 = metalr.make_classifier("mlp", 5, 3, seed=1, device="cpu")
    m2 = metalr.make_classifier("mlp", 5, 3, seed=1, device="cpu")
    assert torch.equal(torch.random.get_rng_state(), state)
    for p, q in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(p, q)
    with pytest.raises(ValueError, match="kind"):
        metalr.make_classifier("cnn", 5, 3, seed=0)


def test_train_classifier_records_and_is_deterministic():
    data = load_dataset("iris", device="cpu")
    runs = [metalr.train_classifier(data, "logistic", lambda ps: torch.optim.SGD(ps, lr=0.1), 30,
                                    batch_size=16, seed=3) for _ in range(2)]
    np.testing.assert_array_equal(runs[0].loss, runs[1].loss)
    np.testing.assert_allclose(runs[0].lr_mean, 0.1)
    assert math.isnan(runs[0].grad_cos[0]) and np.all(np.abs(runs[0].grad_cos[1:]) <= 1 + 1e-6)
    # for plain SGD the update is −lr·g, so the update cosine equals the gradient cosine
    np.testing.assert_allclose(runs[0].update_cos[1:], runs[0].grad_cos[1:], atol=1e-5)
    np.testing.assert_allclose(runs[0].signal_cos[1:], runs[0].grad_cos[1:], atol=1e-5)
    assert runs[0].final_train_loss < runs[0].loss[0] and not runs[0].diverged


def test_train_classifier_reads_learned_step_sizes():
    data = load_dataset("iris", device="cpu")
    h = metalr.train_classifier(data, "logistic", lambda ps: EGStepSize(ps, lr=0.05, meta_lr=1.0,
                                                                       per_coordinate=False), 20, seed=0)
    assert h.lr_mean[0] == pytest.approx(0.05) and h.lr_mean[-1] != pytest.approx(0.05)
    with pytest.raises(TypeError, match="make_optimizer"):
        metalr.train_classifier(data, "logistic", 3, 5, seed=0)  # type: ignore[arg-type]


def test_divergence_follows_the_protocol_rule_not_only_nan():
    """A finite but exploding loss (the 7.8e58 case) is a divergence; a healthy run is not."""
    data = load_dataset("digits", device="cpu", dtype=torch.float64)
    h = metalr.train_classifier(data, "logistic", lambda ps: torch.optim.SGD(ps, lr=1e3), 20, seed=0)
    assert math.isfinite(h.final_train_loss) and h.final_train_loss > 10 * h.initial_train_loss
    assert h.diverged
    ok = metalr.train_classifier(data, "logistic", lambda ps: torch.optim.SGD(ps, lr=0.1), 20, seed=0)
    assert not ok.diverged and ok.final_train_loss < ok.initial_train_loss
    with pytest.raises(ValueError, match="divergence_factor"):
        metalr.train_classifier(data, "logistic", lambda ps: torch.optim.SGD(ps, lr=0.1), 2, seed=0,
                                divergence_factor=0.5)
