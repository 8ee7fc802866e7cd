"""Long runs of chapter 4: label noise, the L-BFGS optimum (against scikit-learn), collapse detection."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from lrtheory import metalr_long as ml
from lrtheory.datasets import load_dataset


@pytest.fixture(scope="module")
def data():
    d = load_dataset("digits", device="cpu", dtype=torch.float64, val_size=0.2, test_size=0.2)
    return dataclasses.replace(d, X_train=d.X_train[:300], y_train=d.y_train[:300])


def test_noisy_labels_touch_only_training_labels(data):
    nd = ml.noisy_labels(data, 0.5, seed=3)
    changed = float((nd.y_train != data.y_train).double().mean())
    assert 0.3 < changed < 0.6  # half replaced, a tenth of those by the same class
    assert torch.equal(nd.y_test, data.y_test) and torch.equal(ml.noisy_labels(data, 0.0, seed=3).y_train,
                                                               data.y_train)
    assert torch.equal(nd.y_train, ml.noisy_labels(data, 0.5, seed=3).y_train)
    with pytest.raises(ValueError, match="fraction"):
        ml.noisy_labels(data, 1.5, seed=0)


def test_lbfgs_optimum_matches_scikit_learn(data):
    from sklearn.linear_model import LogisticRegression

    nd = ml.noisy_labels(data, 0.4, seed=0)
    value, w = ml.lbfgs_optimum(nd)
    X, y = nd.X_train.numpy(), nd.y_train.numpy()
    clf = LogisticRegression(C=1e10, tol=1e-12, max_iter=20000).fit(X, y)
    p = clf.predict_proba(X)
    sk = float(-np.mean(np.log(p[np.arange(len(y)), y])))
    assert value <= sk + 1e-7 and abs(value - sk) < 1e-5


def test_train_long_records_and_collapse_step(data):
    run = ml.train_long(data, lambda ps: torch.optim.SGD(ps, lr=0.1), 40, eval_every=10, seed=0)
    assert list(run.steps) == [0, 10, 20, 30, 40] and np.isnan(run.lr[0]) and np.all(run.lr[1:] == 0.1)
    assert run.train_loss[-1] < run.train_loss[0] and not run.diverged and run.sharpness > 0
    assert ml.collapse_step([0, 1, 2, 3, 4], [np.nan, 1.0, 2.0, 0.5, 0.1]) == 4
    assert ml.collapse_step([0, 1, 2], [1.0, 0.9, 0.8]) is None
    with pytest.raises(ValueError, match="same length"):
        ml.collapse_step([0, 1], [1.0])
