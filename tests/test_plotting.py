"""Tests of the book's figure style."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
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
        assert w == pytest.approx(plotting.COLUMN_WIDTH_IN) and h == pytest.approx(6.2, abs=1 / plotting.CSS_PX_PER_IN)
        line, = axes[0, 0].plot([0, 1], [0, 1])
        assert line.get_color() == plotting.PALETTE[0]
        assert not axes[0, 0].spines["top"].get_visible()
    finally:
        plt.close(fig)


@pytest.mark.parametrize(("width", "height"), [(None, 3.4), (6.33, 2.55), (7.0, None)])
def test_figure_sizes_are_whole_css_pixels(width, height):
    fig, _ = plotting.subplots(width=width, height=height)
    try:
        for inches in fig.get_size_inches():
            assert inches * plotting.CSS_PX_PER_IN == pytest.approx(round(inches * plotting.CSS_PX_PER_IN), abs=1e-9)
        if height is not None:
            assert fig.get_size_inches()[1] == pytest.approx(height, abs=0.5 / plotting.CSS_PX_PER_IN)
    finally:
        plt.close(fig)


def test_use_book_style_sets_rcparams():
    with mpl.rc_context():
        plotting.use_book_style()
        assert mpl.rcParams["savefig.facecolor"] == "white"
        assert mpl.rcParams["figure.dpi"] == plotting.CSS_PX_PER_IN
        assert mpl.rcParams["savefig.dpi"] >= 2 * plotting.CSS_PX_PER_IN
    with pytest.raises(ValueError, match="figure_format must be one of"):
        plotting.use_book_style("jpeg")
    with pytest.raises(TypeError, match="figure_format must be a str"):
        plotting.use_book_style(None)


@pytest.fixture
def ipython_shell():
    """A real IPython shell, as in a notebook kernel (cleared afterwards)."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    saved = {k: dict(f.type_printers) for k, f in shell.display_formatter.formatters.items()}
    try:
        yield shell
    finally:
        for k, f in shell.display_formatter.formatters.items():
            f.type_printers.clear()
            f.type_printers.update(saved.get(k, {}))
        InteractiveShell.clear_instance()


def test_default_width_is_the_column_and_figures_render_at_it(ipython_shell):
    """use_book_style makes IPython render a default figure as an undated SVG exactly one column wide."""
    import re

    with mpl.rc_context():
        plotting.use_book_style()
        fig, ax = plotting.subplots()
        try:
            ax.plot([0, 1], [1, 0], label="a")
            ax.legend()
            data, _ = ipython_shell.display_formatter.format(fig)
        finally:
            plt.close(fig)
    # the SVG for the book's pages, and a 2x PNG for untrusted notebooks (JupyterLab shows SVG only when trusted)
    assert "image/svg+xml" in data and "image/png" in data
    svg = data["image/svg+xml"]
    width_pt = float(re.search(r'<svg[^>]*\bwidth="([0-9.]+)pt"', svg).group(1))
    # 72 pt per inch: the SVG is exactly the column wide, so the browser shows it at natural size
    assert width_pt == pytest.approx(72 * plotting.COLUMN_WIDTH_IN)
    assert width_pt / 72 * plotting.CSS_PX_PER_IN == pytest.approx(672)
    assert "<dc:date>" not in svg


@pytest.mark.parametrize("figure_format", ["svg", "retina"])
def test_png_is_at_twice_the_displayed_size(ipython_shell, figure_format):
    import struct

    with mpl.rc_context():
        plotting.use_book_style(figure_format)
        fig, _ = plotting.subplots(height=2.0)
        try:
            data, meta = ipython_shell.display_formatter.format(fig)
        finally:
            plt.close(fig)
    png = data["image/png"]
    png = png if isinstance(png, bytes) else __import__("base64").b64decode(png)
    width_px, height_px = struct.unpack(">II", png[16:24])
    shown = meta["image/png"]["width"]
    assert shown == pytest.approx(plotting.COLUMN_WIDTH_IN * plotting.CSS_PX_PER_IN, abs=1)
    assert width_px >= 2 * shown - 1 and height_px >= 2 * meta["image/png"]["height"] - 1


def _display_scale(fig) -> float:
    """How much the page shrinks a figure: 1 up to the column width, less beyond."""
    return min(1.0, plotting.COLUMN_WIDTH_IN / fig.get_size_inches()[0])


@pytest.mark.parametrize("shape", [(1, 1), (1, 2), (2, 3)])
def test_no_text_below_the_minimum_at_display_size(shape):
    """Every text of a typical book figure (title, labels, ticks, legend, suptitle) is >= 9 pt as shown."""
    from matplotlib.text import Text

    fig, axes = plotting.subplots(*shape)
    try:
        for k, ax in enumerate(np.atleast_1d(axes).ravel()):
            ax.plot([1, 10], [1, 100], label="gradient descent")
            ax.plot([1, 10], [2, 50], label="flow")
            ax.set_xscale("log")
            ax.set_title(f"panel {k}")
            ax.set_xlabel("step")
            ax.set_ylabel("loss")
            ax.annotate("edge", (2, 20))
            ax.legend()
        fig.suptitle("a figure")
        fig.canvas.draw()
        sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]
        assert len(sizes) >= 10
        assert min(sizes) * _display_scale(fig) >= plotting.MIN_FONT_PT
        assert fig.get_size_inches()[0] <= plotting.COLUMN_WIDTH_IN
    finally:
        plt.close(fig)


def test_a_figure_wider_than_the_column_would_shrink_its_text():
    """The oracle of the test above can fail: a 10-inch figure's 9 pt ticks show at 6.3 pt."""
    fig, _ = plotting.subplots(width=10.0)
    try:
        assert 9.0 * _display_scale(fig) < plotting.MIN_FONT_PT
    finally:
        plt.close(fig)


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
