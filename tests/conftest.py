"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def rng():
    """A numpy Generator with a fixed seed, for tests that need random data."""
    import numpy as np

    return np.random.default_rng(20261123)


# Property tests are deterministic (the same examples on every run and machine) and
# leave no example database behind.
from hypothesis import settings  # noqa: E402

settings.register_profile("lrtheory", derandomize=True, database=None, deadline=None)
settings.load_profile("lrtheory")
