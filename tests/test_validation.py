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
    with pytest.raises(TypeError, match="x must hold numbers, got strings"):
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


def test_check_array_refuses_what_it_used_to_cast():
    with pytest.raises(TypeError, match="x must be real, got complex"):
        check_array("x", [1.0, 2j])
    with pytest.raises(TypeError, match="x must hold numbers, got strings"):
        check_array("x", ["0.1"])
    with pytest.raises(TypeError, match="x must be array-like of numbers, got str"):
        check_array("x", "0.1")
    with pytest.raises(TypeError, match="x must hold numbers, got booleans"):
        check_array("x", np.array([True]))
    with pytest.raises(TypeError, match="object entries"):
        check_array("x", [1.0, None])
    assert check_array("x", np.arange(3)).dtype == float  # integers are numbers
    assert check_array("x", np.arange(3), dtype=None).dtype.kind == "i"


def test_check_array_empty_and_shape_of():
    assert check_array("x", []).shape == (0,)
    with pytest.raises(ValueError, match="x must not be empty"):
        check_array("x", [], nonempty=True)
    with pytest.raises(ValueError, match=r"grad must have the shape of theta, \(2,\), got \(3,\)"):
        check_array("grad", [1.0, 2.0, 3.0], shape=(2,), shape_of="theta")


def test_check_returned():
    from lrtheory._validation import check_returned

    out = np.ones(2)
    assert check_returned("field", out, shape=(2,)) is out
    assert check_returned("field", [1, 2], shape=(2,)).dtype == float
    with pytest.raises(TypeError, match="the value returned by field must be an array of numbers, got None"):
        check_returned("field", None)
    with pytest.raises(ValueError, match=r"the value returned by field at \[1. 2.\] is not finite"):
        check_returned("field", np.array([np.nan, 1.0]), at=np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"returned by grad must have shape \(2,\), got \(3,\)"):
        check_returned("grad", np.ones(3), shape=(2,))
    assert np.isnan(check_returned("grad", np.array([np.nan]), finite=False)[0])


def test_check_bool_str_instance():
    from lrtheory._validation import check_bool, check_instance, check_str

    assert check_bool("flag", np.bool_(True)) is True
    for bad in (1, "yes", None, 0.5):
        with pytest.raises(TypeError, match="flag must be a bool"):
            check_bool("flag", bad)
    assert check_str("desc", "x") == "x"
    with pytest.raises(TypeError, match="desc must be a str, got bytes"):
        check_str("desc", b"x")
    with pytest.raises(ValueError, match="desc must not be empty"):
        check_str("desc", "", nonempty=True)
    assert check_instance("n", 3, int) == 3
    with pytest.raises(TypeError, match="n must be a builtins.int, got str"):
        check_instance("n", "3", int)


def test_check_tensor():
    import torch

    from lrtheory._validation import check_float_dtype, check_tensor

    t = torch.ones(2, 3)
    assert check_tensor("x", t, ndim=2, shape=(2, None), dtype_kind="float") is t
    cases = [
        (np.ones(3), {}, TypeError, "x must be a torch.Tensor, got ndarray"),
        (torch.ones(2, dtype=torch.complex64), {}, TypeError, "x must be real"),
        (torch.ones(2, dtype=torch.bool), {}, TypeError, "x must hold numbers"),
        (torch.ones(2, dtype=torch.int64), {"dtype_kind": "float"}, TypeError, "floating-point"),
        (torch.ones(2), {"dtype_kind": "int"}, TypeError, "x must be an integer tensor"),
        (torch.ones(2), {"ndim": 2}, ValueError, r"x must have ndim in \(2,\)"),
        (torch.ones(2), {"shape": (3,)}, ValueError, r"x must have shape \(3,\)"),
        (torch.ones(0), {"nonempty": True}, ValueError, "x must not be empty"),
        (torch.tensor([1.0, float("nan")]), {}, ValueError, "x must contain only finite values"),
        (torch.tensor([-1, 0]), {"nonnegative": True}, ValueError, "x must be non-negative"),
    ]
    for value, kw, exc, match in cases:
        with pytest.raises(exc, match=match):
            check_tensor("x", value, **kw)
    assert check_tensor("x", torch.tensor([float("nan")]), finite=False) is not None
    assert check_float_dtype("dtype", None, torch.float32) is torch.float32
    with pytest.raises(TypeError, match="dtype must be a floating torch.dtype"):
        check_float_dtype("dtype", torch.int64)


def test_huge_finite_values_pass_without_a_warning():
    from lrtheory._validation import check_returned

    assert check_array("x", [1e200, -1e300]).shape == (2,)  # filterwarnings=error: an overflow warning fails
    assert check_returned("f", np.array([1e300, 1e300]), shape=(2,)).shape == (2,)
