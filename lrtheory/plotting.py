"""One figure style for the whole book.

Nothing here touches matplotlib's global state at import time.  Chapters
either wrap their plotting in ``with book_style():`` or call
:func:`use_book_style` once at the top (which a notebook may do: it is the
notebook's own process).  Figures have an opaque white background, so they
stay readable when the book's theme is switched to dark mode.

The palette is Okabe & Ito's colour-blind-safe set; line styles cycle with
the colours so that curves stay distinguishable in greyscale too.

Figures are made for the book's text column: :data:`COLUMN_WIDTH_IN` is the
width of a figure in the column of the HTML theme at a 1280 px window, and
the default width of :func:`subplots`.  A figure of that width is shown at its
natural size, so the style's font sizes (none below :data:`MIN_FONT_PT`) are
the sizes a reader sees.  :func:`use_book_style` also makes IPython render
figures as SVG (or PNG at twice the displayed resolution), which is what
``glue`` stores for the book and what a notebook shows.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Sequence

from ._validation import check_int, check_scalar

__all__ = ["PALETTE", "LINESTYLES", "COLUMN_WIDTH_IN", "CSS_PX_PER_IN", "MIN_FONT_PT", "FIGURE_FORMATS",
           "book_style", "use_book_style", "subplots", "color", "legend_outside", "glue_figure",
           "errorbar_comparison"]

COLUMN_WIDTH_IN: float = 7.0
"""Width of the book's figures in inches: the figure box of the text column.

Measured in the built book (sphinx-book-theme 1.3, window 1280 px wide): a
figure in a chapter is 672 CSS px wide, and a CSS inch is 96 px.  A figure
this wide is displayed at its natural size; a wider one is shrunk (and its
text with it), which the browser tests report.
"""

CSS_PX_PER_IN: float = 96.0
"""CSS pixels per inch: how browsers size an SVG's ``pt`` and a 2x PNG's ``width``."""

MIN_FONT_PT: float = 9.0
"""The smallest font size, in points at display size, that the style uses."""

FIGURE_FORMATS: tuple[str, ...] = ("svg", "retina")
"""Inline figure formats :func:`use_book_style` can select: SVG, or PNG at 2x the displayed size."""

PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow (last: weak on white)
)
"""Okabe-Ito colour-blind-safe colours, in the order curves receive them."""

LINESTYLES: tuple[Any, ...] = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), "-", "--")
"""Line styles paired with :data:`PALETTE`."""


def _style() -> dict[str, Any]:
    from cycler import cycler

    return {
        "figure.figsize": (COLUMN_WIDTH_IN, 3.2),
        # 96 dpi: one figure inch is one CSS inch on screen; saved PNGs (and the rasters
        # inside SVGs) get twice that, so they stay sharp on high-density screens
        "figure.dpi": CSS_PX_PER_IN,
        "savefig.dpi": 2 * CSS_PX_PER_IN,
        "savefig.bbox": None,
        "svg.hashsalt": "lrtheory",
        "figure.facecolor": "white",
        "savefig.facecolor": "white",
        "axes.facecolor": "white",
        "axes.edgecolor": "#333333",
        "axes.labelcolor": "#111111",
        "axes.titlesize": 10.5,
        "axes.labelsize": 10,
        "axes.grid": True,
        "grid.color": "#dddddd",
        "grid.linewidth": 0.6,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": cycler(color=list(PALETTE)) + cycler(linestyle=list(LINESTYLES)),
        "lines.linewidth": 1.8,
        "legend.frameon": False,
        "legend.fontsize": 9,
        "legend.title_fontsize": 9,
        "legend.handlelength": 1.8,
        "legend.borderaxespad": 0.3,
        "legend.labelspacing": 0.3,
        "xtick.labelsize": 9,
        "ytick.labelsize": 9,
        "xtick.color": "#333333",
        "ytick.color": "#333333",
        "font.size": 10,
        "figure.titlesize": 10.5,
        "figure.labelsize": 10,
        "figure.constrained_layout.use": True,
        "image.cmap": "viridis",
    }


@contextlib.contextmanager
def book_style() -> Iterator[None]:
    """Context manager that applies the book's figure style inside a ``with`` block.

    Yields
    ------
    None

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from lrtheory.plotting import book_style
    >>> with book_style():
    ...     import matplotlib.pyplot as plt
    ...     fig, ax = plt.subplots()
    """
    import matplotlib as mpl

    with mpl.rc_context(_style()):
        yield


def use_book_style(figure_format: str = "svg") -> None:
    """Apply the book's figure style to the current process for good.

    Meant for the first cell of a notebook; library code uses :func:`book_style`.
    Inside IPython (a notebook, or a chapter executed by the book) it also
    selects the inline figure format, so that displayed and glued figures are
    SVG (or PNG at twice the displayed resolution) of exactly the figure's size.

    Parameters
    ----------
    figure_format : {"svg", "retina"}, optional
        ``"svg"`` (default): vector figures, sharp at any zoom, which the book's
        pages show; each output also carries a PNG at 2x the displayed size,
        which an untrusted notebook (JupyterLab renders SVG only in trusted
        ones) and a PDF show.  ``"retina"``: the PNG only, for figures with very
        many markers where an SVG would be heavy.

    Raises
    ------
    TypeError
        If ``figure_format`` is not a str.
    ValueError
        If ``figure_format`` is not one of :data:`FIGURE_FORMATS`.

    Notes
    -----
    IPython's default saves figures with ``bbox_inches="tight"``, which changes
    their size; the book's figures are saved at their own size instead (the
    style uses constrained layout, so nothing is cut off), so a figure of
    :data:`COLUMN_WIDTH_IN` fills the column exactly.  SVGs carry no date, so
    two builds write the same files.
    """
    import matplotlib as mpl

    if not isinstance(figure_format, str):
        raise TypeError(f"figure_format must be a str, got {type(figure_format).__name__}")
    if figure_format not in FIGURE_FORMATS:
        raise ValueError(f"figure_format must be one of {FIGURE_FORMATS}, got {figure_format!r}")
    mpl.rcParams.update(_style())
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the tool chain
        return
    if get_ipython() is None:
        return
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    if figure_format == "svg":
        # the PNG rides along: JupyterLab shows SVG only in trusted notebooks (a downloaded
        # one is not), and LaTeX prefers PNG; the book's HTML picks the SVG
        set_matplotlib_formats("svg", "retina", bbox_inches=None, metadata={"Date": None},
                               dpi=2 * CSS_PX_PER_IN)
    else:
        set_matplotlib_formats("retina", bbox_inches=None, metadata={"Date": None})


def color(i: int) -> str:
    """Return the ``i``-th colour of :data:`PALETTE` (cycling).

    Parameters
    ----------
    i : int
        Index, any non-negative integer.

    Returns
    -------
    str
        A hex colour string.
    """
    i = check_int("i", i, low=0)
    return PALETTE[i % len(PALETTE)]


def subplots(
    nrows: int = 1,
    ncols: int = 1,
    *,
    width: float | None = None,
    height: float | None = None,
    **kwargs: Any,
) -> tuple[Any, Any]:
    """Create a figure in the book's style, sized for the page.

    Parameters
    ----------
    nrows, ncols : int, optional
        Grid of axes.
    width, height : float, optional
        Figure size in inches; by default the column width
        (:data:`COLUMN_WIDTH_IN`) and 3.0 inches per row (plus 0.2), both
        rounded to whole CSS pixels (1/96 inch).  A width above the column is
        accepted, but the page shrinks the figure
        and its text to fit (the browser tests flag a figure shown below 0.8 of
        its natural size).
    **kwargs
        Passed on to :func:`matplotlib.pyplot.subplots`.

    Returns
    -------
    (Figure, Axes or array of Axes)
    """
    import matplotlib.pyplot as plt

    nrows = check_int("nrows", nrows, low=1)
    ncols = check_int("ncols", ncols, low=1)
    w = COLUMN_WIDTH_IN if width is None else check_scalar("width", width, low=0.5)
    h = 3.0 * nrows + 0.2 if height is None else check_scalar("height", height, low=0.5)
    # whole CSS pixels: an SVG of 326.4 px blurs (and antialiases) its last row on screen
    w, h = round(w * CSS_PX_PER_IN) / CSS_PX_PER_IN, round(h * CSS_PX_PER_IN) / CSS_PX_PER_IN
    with book_style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(w, h), **kwargs)
    # the style must persist for drawing: attach it to the figure's axes
    _apply_axes_style(axes)
    return fig, axes


def _apply_axes_style(axes: Any) -> None:
    import numpy as np

    style = _style()
    for ax in np.atleast_1d(axes).ravel():
        ax.set_prop_cycle(style["axes.prop_cycle"])
        ax.grid(True, color=style["grid.color"], linewidth=style["grid.linewidth"])
        ax.spines["top"].set_visible(False)
        ax.spines["right"].set_visible(False)


def _check_axes(ax: Any) -> Any:
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    return ax


def legend_outside(ax: Any, *, ncol: int = 1) -> Any:
    """Place ``ax``'s legend to the right of the axes, outside the plot area.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes whose legend to place.
    ncol : int, optional
        Number of legend columns.

    Returns
    -------
    matplotlib.legend.Legend
    """
    _check_axes(ax)
    ncol = check_int("ncol", ncol, low=1)
    return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), ncol=ncol, frameon=False)


NOTEBOOK_COPY_METADATA = {"lrtheory": {"role": "notebook-copy"}}
"""Metadata of the figure copy that :func:`glue_figure` displays for notebook readers."""


def glue_figure(key: str, fig: Any) -> None:
    """Glue ``fig`` for the book under ``key``, show it to notebook readers, and close it.

    The figure is glued with ``display=False`` (the book places it with a
    ``{glue:figure}`` directive, with its caption) and also displayed once with
    the metadata :data:`NOTEBOOK_COPY_METADATA`, so that a notebook run
    locally, or downloaded from the book, shows the figure where it was made;
    the book's build drops that copy from the HTML page.

    Parameters
    ----------
    key : str
        The glue key (``chN-fig-...``).
    fig : matplotlib.figure.Figure
        The figure; it is closed afterwards.

    Raises
    ------
    TypeError
        If ``key`` is not a non-empty str or ``fig`` not a matplotlib Figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    if not isinstance(key, str) or not key:
        raise TypeError("key must be a non-empty str")
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    from IPython.display import display
    from myst_nb import glue

    glue(key, fig, display=False)
    display(fig, metadata=NOTEBOOK_COPY_METADATA)
    plt.close(fig)


def errorbar_comparison(ax: Any, comparison: Any, metric: str, *, label: str | None = None,
                        reference: str | None = None) -> Any:
    """The protocol's error-bar figure: each method's mean and 95 % interval on ``metric``.

    With ``reference``, the plot shows instead each other method's *paired
    difference* to the reference method with its 95 % interval (the quantity the
    verdicts are made from), and a zero line.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw (horizontal bars, one row per method).
    comparison : lrtheory.protocol.Comparison
        From :func:`lrtheory.protocol.compare_methods`.
    metric : str
        A metric every method reports.
    label : str, optional
        Axis label (default: the metric's name).
    reference : str, optional
        A method's name: plot paired differences to it.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.

    Notes
    -----
    Diverged seeds are not averaged: a method with a diverged seed is drawn as a
    cross with the count in its label.  Used by every chapter's comparisons.
    """
    import math

    import numpy as np

    from .protocol import Comparison

    _check_axes(ax)
    if not isinstance(comparison, Comparison):
        raise TypeError(f"comparison must be a Comparison, got {type(comparison).__name__}")
    if not isinstance(metric, str):
        raise TypeError(f"metric must be a str, got {type(metric).__name__}")
    if label is not None and not isinstance(label, str):
        raise TypeError(f"label must be a str, got {type(label).__name__}")
    names = list(comparison.methods)
    if reference is not None and reference not in names:
        raise ValueError(f"reference must be one of {names}, got {reference!r}")
    rows = [nm for nm in names if nm != reference]
    for i, nm in enumerate(rows):
        r = comparison.methods[nm]
        n_div = int(r.diverged.sum())
        tag = f"{nm} ({n_div} diverged)" if n_div else nm
        if reference is None:
            mean, half, _ = r.mean_ci(metric)
            err = None if not math.isfinite(half) else half
        else:
            v = comparison.verdict(nm, reference, metric)
            if v.difference is None:
                mean, err = math.nan, None
            else:
                mean, err = v.difference.mean, [[v.difference.mean - v.difference.low],
                                                [v.difference.high - v.difference.mean]]
        y = len(rows) - 1 - i
        if math.isfinite(mean):
            ax.errorbar([mean], [y], xerr=err, fmt="o", color=color(i), capsize=3, ms=5)
        else:
            ax.plot([0.0], [y], marker="x", color=color(i), ms=7, ls="none")
        rows[i] = tag
    ax.set_yticks(np.arange(len(rows))[::-1])
    ax.set_yticklabels(rows)
    if reference is not None:
        ax.axvline(0.0, color="#555555", lw=0.8)
        ax.set_xlabel(label or f"{metric} minus {reference}'s (paired, 95% CI)")
    else:
        ax.set_xlabel(label or f"{metric} (mean, 95% CI)")
    ax.grid(True, axis="x")
    return ax
