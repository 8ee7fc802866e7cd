"""Tests of the rotation helpers of lrtheory.datasets (chapter 1's rotation test)."""

from __future__ import annotations

import numpy as np
import pytest

from lrtheory.datasets import load_arrays, load_dataset, random_orthogonal, rotate_features


def test_random_orthogonal_is_orthogonal_and_seeded():
    Q = random_orthogonal(64, 7)
    np.testing.assert_allclose(Q.T @ Q, np.eye(64), atol=1e-12)
    np.testing.assert_array_equal(Q, random_orthogonal(64, 7))
    assert not np.allclose(Q, random_orthogonal(64, 8))
    assert abs(random_orthogonal(1, 0)[0, 0]) == 1.0
    # Haar: the mean of Q_11^2 over draws is 1/d
    d = 5
    m = np.mean([random_orthogonal(d, s)[0, 0] ** 2 for s in range(400)])
    assert abs(m - 1 / d) < 0.05


def test_rotate_features_numpy_and_torch_agree():
    a = load_arrays("wine", val_size=0.2, test_size=0.2)
    Q = random_orthogonal(a.num_features, 1)
    ra = rotate_features(a, Q)
    np.testing.assert_allclose(ra.X_test, a.X_test @ Q.T)
    np.testing.assert_allclose(ra.X_val @ Q, a.X_val, atol=1e-12)
    assert ra.y_train is a.y_train and ra.name == a.name
    t = load_dataset("wine", device="cpu", val_size=0.2, test_size=0.2)
    rt = rotate_features(t, Q)
    np.testing.assert_allclose(rt.X_train.numpy(), ra.X_train, rtol=1e-5, atol=1e-5)
    assert rt.X_train.dtype == t.X_train.dtype


@pytest.mark.parametrize(
    "args,exc,name",
    [
        ((0, 1), ValueError, "d"),
        ((3, -1), ValueError, "seed"),
        ((3.0, 1), TypeError, "d"),
    ],
)
def test_random_orthogonal_bad_input(args, exc, name):
    with pytest.raises(exc, match=name):
        random_orthogonal(*args)


def test_rotate_features_bad_input():
    a = load_arrays("iris")
    with pytest.raises(ValueError, match="orthogonal"):
        rotate_features(a, 2 * np.eye(4))
    with pytest.raises(ValueError, match="Q"):
        rotate_features(a, np.eye(3))
    with pytest.raises(TypeError, match="split"):
        rotate_features(a.X_train, np.eye(4))
