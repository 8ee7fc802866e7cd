"""Tests of the shared argument checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrtheory._validation import check_array, check_callable, check_choice, check_int, check_scalar


def test_check_scalar_accepts_and_converts():
    assert check_scalar("lr", 1) == 1.0
    assert isinstance(check_scalar("lr", np.float32(0.5)), float)
    assert check_scalar("lr", np.array(2.0)) == 2.0


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_check_scalar_refuses_non_finite(bad):
    with pytest.raises(ValueError, match="lr must be finite"):
        check_scalar("lr", bad)


@pytest.mark.parametrize("bad", ["0.1", None, True, [0.1], 1 + 2j])
def test_check_scalar_refuses_non_reals(bad):
    with pytest.raises(TypeError, match="lr must be a real number"):
        check_scalar("lr", bad)


def test_check_scalar_bounds_name_the_argument():
    with pytest.raises(ValueError, match=r"lr must be > 0.0, got 0.0"):
        check_scalar("lr", 0.0, low=0.0, low_inclusive=False)
    with pytest.raises(ValueError, match=r"lr must be >= 0.0, got -1.0"):
        check_scalar("lr", -1.0, low=0.0)
    with pytest.raises(ValueError, match=r"beta must be < 1.0"):
        check_scalar("beta", 1.0, high=1.0, high_inclusive=False)
    assert check_scalar("beta", 1.0, high=1.0) == 1.0


def test_check_int():
    assert check_int("n", np.int64(3), low=0) == 3
    with pytest.raises(TypeError, match="n must be an integer"):
        check_int("n", 3.0)
    with pytest.raises(TypeError, match="n must be an integer"):
        check_int("n", True)
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        check_int("n", 0, low=1)
    with pytest.raises(ValueError, match="n must be <= 5, got 6"):
        check_int("n", 6, high=5)


def test_check_array_shape_and_values():
    arr = check_array("x", [[1, 2], [3, 4]], ndim=2, shape=(2, None))
    assert arr.dtype == float and arr.shape == (2, 2)
    with pytest.raises(ValueError, match=r"x must have ndim in \(1,\)"):
        check_array("x", [[1.0]], ndim=1)
    with pytest.raises(ValueError, match=r"x must have shape \(3,\)"):
        check_array("x", [1.0, 2.0], shape=(3,))
    with pytest.raises(ValueError, match="x must contain only finite values"):
        check_array("x", [1.0, np.nan])
    with pytest.raises(ValueError, match="x must be non-negative"):
        check_array("x", [1.0, -1.0], nonnegative=True)
    with pytest.raises(TypeError, match="x must be array-like"):
        check_array("x", ["a", "b"])
    assert np.isnan(check_array("x", [np.nan], finite=False)).all()


def test_check_choice():
    assert check_choice("mode", "quick", ("quick", "full")) == "quick"
    with pytest.raises(ValueError, match=r"mode must be one of \('quick', 'full'\), got 'slow'"):
        check_choice("mode", "slow", ("quick", "full"))


def test_check_callable():
    assert check_callable("grad", len) is len
    with pytest.raises(TypeError, match="grad must be callable, got float"):
        check_callable("grad", 1.0)
