"""Tests of the bundled data-set loaders."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn import datasets as skd

from lrtheory.datasets import DATASETS, load_arrays, load_dataset

SIZES = {"digits": (1797, 64, 10), "breast_cancer": (569, 30, 2), "wine": (178, 13, 3), "iris": (150, 4, 3)}


@pytest.mark.parametrize("name", DATASETS)
def test_split_sizes_and_classes(name):
    n, d, k = SIZES[name]
    s = load_arrays(name)
    assert s.X_train.shape[0] + s.X_test.shape[0] == n
    assert s.num_features == d and s.num_classes == k
    assert abs(s.X_test.shape[0] - 0.25 * n) <= 1
    # stratified: every class is present in both halves
    assert set(np.unique(s.y_train)) == set(np.unique(s.y_test)) == set(range(k))


def test_standardisation_uses_training_statistics():
    s = load_arrays("wine")
    np.testing.assert_allclose(s.X_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(s.X_train.std(axis=0), 1.0, atol=1e-12)
    # the test half is transformed with the training statistics, so it is not exactly standardised
    assert np.abs(s.X_test.mean(axis=0)).max() > 1e-3


def test_unstandardised_rows_are_rows_of_the_original_data():
    raw = skd.load_digits()
    s = load_arrays("digits", standardize=False)
    rows = {r.tobytes(): t for r, t in zip(raw.data.astype(np.float64), raw.target)}
    for x, y in zip(s.X_test[:50], s.y_test[:50]):
        assert rows[x.tobytes()] == y


def test_constant_features_are_not_divided_by_zero():
    s = load_arrays("digits")  # digits has always-zero pixels
    assert np.all(np.isfinite(s.X_train)) and np.all(np.isfinite(s.X_test))


def test_split_is_deterministic_and_seeded():
    a, b, c = load_arrays("iris", seed=1), load_arrays("iris", seed=1), load_arrays("iris", seed=2)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, c.X_train)


def test_tensors_match_arrays():
    a = load_arrays("breast_cancer")
    t = load_dataset("breast_cancer", device="cpu", dtype=torch.float64)
    assert t.X_train.dtype == torch.float64 and t.y_train.dtype == torch.int64
    np.testing.assert_array_equal(t.X_train.numpy(), a.X_train)
    np.testing.assert_array_equal(t.y_test.numpy(), a.y_test)
    assert load_dataset("iris", device="cpu").X_train.dtype == torch.float32


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="name must be one of"):
        load_arrays("mnist")
    with pytest.raises(ValueError, match="test_size must be < 1.0"):
        load_arrays("iris", test_size=1.0)
    with pytest.raises(ValueError, match="test_size must be > 0.0"):
        load_arrays("iris", test_size=0.0)
    with pytest.raises(TypeError, match="seed must be an integer"):
        load_arrays("iris", seed=0.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="dtype must be a floating torch.dtype"):
        load_dataset("iris", dtype=torch.int32)


@pytest.mark.parametrize("name", DATASETS)
def test_validation_split_leaves_the_test_set_unchanged_and_partitions_the_data(name):
    n, d, k = SIZES[name]
    plain = load_arrays(name, test_size=0.2, standardize=False)
    three = load_arrays(name, test_size=0.2, val_size=0.2, standardize=False)
    np.testing.assert_array_equal(plain.X_test, three.X_test)
    assert three.X_train.shape[0] + three.X_val.shape[0] + three.X_test.shape[0] == n
    assert abs(three.X_val.shape[0] - 0.2 * n) <= 2
    rows = lambda X: {r.tobytes() for r in X}  # noqa: E731
    assert not rows(three.X_train) & rows(three.X_val)   # digits has no duplicate rows across classes here
    assert rows(three.X_train) | rows(three.X_val) == rows(plain.X_train)
    assert set(np.unique(three.y_val)) == set(range(k))
    assert plain.X_val is None and plain.y_val is None


def test_validation_part_is_standardised_with_training_statistics():
    s = load_arrays("wine", val_size=0.2, test_size=0.2)
    np.testing.assert_allclose(s.X_train.mean(axis=0), 0.0, atol=1e-12)
    assert np.abs(s.X_val.mean(axis=0)).max() > 1e-3
    t = load_dataset("wine", val_size=0.2, test_size=0.2, device="cpu", dtype=torch.float64)
    np.testing.assert_array_equal(t.X_val.numpy(), s.X_val)
    assert load_dataset("wine", device="cpu").X_val is None


def test_validation_split_bad_arguments():
    with pytest.raises(ValueError, match="test_size \\+ val_size must be < 1"):
        load_arrays("iris", test_size=0.5, val_size=0.5)
    with pytest.raises(ValueError, match="val_size must be >= 0.0"):
        load_arrays("iris", val_size=-0.1)
    with pytest.raises(ValueError, match="val_size must be finite"):
        load_arrays("iris", val_size=float("nan"))
    with pytest.raises(TypeError, match="standardize must be a bool"):
        load_arrays("iris", standardize="yes")  # type: ignore[arg-type]
