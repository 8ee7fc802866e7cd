"""Tests of run modes, device choice, seeding and progress bars."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from lrtheory import experiments as ex


def test_mode_from_environment(monkeypatch):
    monkeypatch.delenv(ex.MODE_ENV_VAR, raising=False)
    assert ex.get_mode() == "standard"
    for m in ex.MODES:
        monkeypatch.setenv(ex.MODE_ENV_VAR, m.upper())
        assert ex.get_mode() == m
    monkeypatch.setenv(ex.MODE_ENV_VAR, "fast")
    with pytest.raises(ValueError, match="LRTHEORY_MODE must be one of"):
        ex.get_mode()


def test_explicit_mode_overrides_environment(monkeypatch):
    monkeypatch.setenv(ex.MODE_ENV_VAR, "quick")
    assert ex.get_mode("full") == "full"
    with pytest.raises(ValueError, match="mode must be one of"):
        ex.get_mode("huge")
    with pytest.raises(TypeError, match="mode must be a str"):
        ex.get_mode(3)  # type: ignore[arg-type]


def test_by_mode(monkeypatch):
    assert ex.by_mode(quick=1, standard=2, full=3, mode="quick") == 1
    assert ex.by_mode(quick=1, standard=2, full=3, mode="standard") == 2
    assert ex.by_mode(quick=1, standard=2, full=3, mode="full") == 3
    assert ex.by_mode(quick=1, standard=2, mode="full") == 2  # full defaults to standard
    monkeypatch.setenv(ex.MODE_ENV_VAR, "quick")
    assert ex.by_mode(quick="q", standard="s") == "q"


def test_get_device():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert ex.get_device().type == expected
    assert ex.get_device("auto").type == expected
    assert ex.get_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="device is not a valid torch device"):
        ex.get_device("gpu0")
    with pytest.raises(TypeError, match="device must be a str"):
        ex.get_device(0)  # type: ignore[arg-type]
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device asks for CUDA"):
            ex.get_device("cuda")


def test_make_rng_is_reproducible_and_checked():
    a = ex.make_rng(7).standard_normal(5)
    b = ex.make_rng(7).standard_normal(5)
    c = ex.make_rng(8).standard_normal(5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # the oracle: numpy's own PCG64 generator seeded the same way
    np.testing.assert_array_equal(a, np.random.Generator(np.random.PCG64(7)).standard_normal(5))
    with pytest.raises(ValueError, match="seed must be >= 0"):
        ex.make_rng(-1)
    with pytest.raises(TypeError, match="seed must be an integer"):
        ex.make_rng(1.5)  # type: ignore[arg-type]


def test_torch_generator_matches_manual_seed():
    g = ex.torch_generator(3)
    ref = torch.Generator().manual_seed(3)
    assert torch.equal(torch.randn(4, generator=g), torch.randn(4, generator=ref))


def test_seed_everything_seeds_all_global_generators():
    ex.seed_everything(11)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    ex.seed_everything(11)
    second = (random.random(), np.random.rand(), torch.rand(1).item())
    assert first == second
    with pytest.raises(ValueError, match="seed must be <="):
        ex.seed_everything(2**32)


def test_progress_yields_everything(monkeypatch):
    monkeypatch.setenv(ex.MODE_ENV_VAR, "quick")
    assert list(ex.progress(range(5), desc="x")) == [0, 1, 2, 3, 4]
    assert list(ex.progress(iter([1, 2]), total=2, disable=True)) == [1, 2]


def test_import_has_no_side_effects():
    code = (
        "import sys, lrtheory, lrtheory.experiments, lrtheory.flows, lrtheory.problems, "
        "lrtheory.datasets, lrtheory.plotting\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
        "print(lrtheory.__version__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == __import__("lrtheory").__version__


def test_lazy_submodules():
    import lrtheory

    assert set(lrtheory.__all__) >= {"flows", "problems", "experiments", "datasets", "plotting", "optim"}
    assert lrtheory.flows.__name__ == "lrtheory.flows"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        lrtheory.nope  # noqa: B018
