"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def rng():
    """A numpy Generator with a fixed seed, for tests that need random data."""
    import numpy as np

    return np.random.default_rng(20261123)
