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


def _toy_comparison():
    import numpy as np

    from lrtheory.protocol import compare_methods, log_grid, seed_plan

    def run(offset):
        def f(v, seeds):
            s = np.array(seeds, dtype=float)
            return {"val_loss": (np.log10(v) + 1) ** 2 + 0 * s, "test_loss": offset + 0.01 * np.sin(s)
                    + 0.001 * np.cos(5 * s) * offset}
        return f
    return compare_methods({"a": (log_grid(0.01, 1.0, 3), run(1.0)), "b": (log_grid(0.01, 1.0, 3), run(2.0))},
                           seed_plan(mode="standard"), tune_metric="val_loss")


def test_errorbar_comparison_draws_one_row_per_method_and_differences():
    cmp_ = _toy_comparison()
    fig, (ax1, ax2) = plotting.subplots(1, 2)
    try:
        plotting.errorbar_comparison(ax1, cmp_, "test_loss")
        assert [t.get_text() for t in ax1.get_yticklabels()] == ["a", "b"]
        plotting.errorbar_comparison(ax2, cmp_, "test_loss", reference="a")
        assert [t.get_text() for t in ax2.get_yticklabels()] == ["b"]
        # the difference b - a is about 1: the point sits there
        x = ax2.lines[0].get_xdata()[0]
        assert x == pytest.approx(1.0, abs=0.01)
        with pytest.raises(ValueError, match="reference must be one of"):
            plotting.errorbar_comparison(ax2, cmp_, "test_loss", reference="c")
        with pytest.raises(TypeError, match="comparison must be a Comparison"):
            plotting.errorbar_comparison(ax2, {}, "test_loss")
    finally:
        plt.close(fig)


def test_glue_figure_glues_displays_a_notebook_copy_and_closes(monkeypatch):
    import IPython.display
    import myst_nb

    calls = []
    monkeypatch.setattr(myst_nb, "glue", lambda key, obj, display=True: calls.append(("glue", key, display)))
    monkeypatch.setattr(IPython.display, "display", lambda obj, metadata=None: calls.append(("display", metadata)))
    fig, _ = plotting.subplots()
    plotting.glue_figure("ch0-fig-x", fig)
    assert calls == [("glue", "ch0-fig-x", False), ("display", plotting.NOTEBOOK_COPY_METADATA)]
    assert not plt.fignum_exists(fig.number)
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure"):
        plotting.glue_figure("k", "not a figure")
