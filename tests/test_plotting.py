"""Tests of the book's figure style."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from lrtheory import plotting  # noqa: E402


def test_book_style_is_scoped():
    before = mpl.rcParams["axes.grid"], mpl.rcParams["figure.facecolor"]
    with plotting.book_style():
        assert mpl.rcParams["axes.grid"] is True
        assert mpl.rcParams["figure.facecolor"] == "white"
        assert list(mpl.rcParams["axes.prop_cycle"].by_key()["color"]) == list(plotting.PALETTE)
    assert (mpl.rcParams["axes.grid"], mpl.rcParams["figure.facecolor"]) == before


def test_subplots_applies_style_and_size():
    fig, axes = plotting.subplots(2, 3)
    try:
        assert axes.shape == (2, 3)
        w, h = fig.get_size_inches()
        assert w == pytest.approx(10.0) and h == pytest.approx(6.2)
        line, = axes[0, 0].plot([0, 1], [0, 1])
        assert line.get_color() == plotting.PALETTE[0]
        assert not axes[0, 0].spines["top"].get_visible()
    finally:
        plt.close(fig)


def test_use_book_style_sets_rcparams():
    with mpl.rc_context():
        plotting.use_book_style()
        assert mpl.rcParams["savefig.facecolor"] == "white"


def test_color_cycles_and_checks():
    assert plotting.color(0) == plotting.PALETTE[0]
    assert plotting.color(len(plotting.PALETTE)) == plotting.PALETTE[0]
    with pytest.raises(ValueError, match="i must be >= 0"):
        plotting.color(-1)
    with pytest.raises(ValueError, match="nrows must be >= 1"):
        plotting.subplots(0)
    with pytest.raises(ValueError, match="width must be >= 0.5"):
        plotting.subplots(width=0.1)


def test_legend_outside():
    fig, ax = plotting.subplots()
    try:
        ax.plot([0, 1], label="a")
        leg = plotting.legend_outside(ax, ncol=2)
        assert leg.get_texts()[0].get_text() == "a"
        with pytest.raises(ValueError, match="ncol must be >= 1"):
            plotting.legend_outside(ax, ncol=0)
    finally:
        plt.close(fig)
