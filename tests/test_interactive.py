"""The offline slider figure: frames, unique ids, static fallback, determinism."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lrtheory import plotting  # noqa: E402
from lrtheory.interactive import SliderFigure, slider_figure  # noqa: E402


def _draw(v):
    fig, ax = plotting.subplots(width=4.0, height=3.0)
    x = np.linspace(0, 1, 50)
    ax.plot(x, np.sin(2 * np.pi * v * x))
    ax.set_ylim(-1.1, 1.1)
    return fig


def test_one_frame_per_value_and_only_the_initial_one_visible():
    s = slider_figure("ch0-fig-demo", _draw, [1.0, 2.0, 3.0], label="frequency", glue=False)
    assert isinstance(s, SliderFigure) and len(s.frames) == 3 and s.initial == 1
    page = s.html()
    assert page.count('class="lrt-frame"') == 3 and page.count(" hidden>") == 2
    assert 'type="range"' in page and 'max="2"' in page and "http" not in page.split("<svg")[0]
    assert s._repr_png_().startswith(b"\x89PNG")
    # frames differ (the drawing depends on the value) and ids never clash between frames
    assert len(set(s.frames)) == 3
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_html_is_deterministic():
    a = slider_figure("k", _draw, [1.0, 2.0], label="f", glue=False).html()
    b = slider_figure("k", _draw, [1.0, 2.0], label="f", glue=False).html()
    assert a == b


def test_bad_input():
    with pytest.raises(ValueError, match="values must hold 2 to 60"):
        slider_figure("k", _draw, [1.0], label="f", glue=False)
    with pytest.raises(ValueError, match="values must contain only finite"):
        slider_figure("k", _draw, [1.0, float("nan")], label="f", glue=False)
    with pytest.raises(TypeError, match="draw must return a matplotlib Figure"):
        slider_figure("k", lambda v: None, [1.0, 2.0], label="f", glue=False)
    with pytest.raises(TypeError, match="label must be a non-empty str"):
        slider_figure("k", _draw, [1.0, 2.0], label="", glue=False)
    with pytest.raises(ValueError, match="initial must be <= 1"):
        slider_figure("k", _draw, [1.0, 2.0], label="f", initial=2, glue=False)


def test_every_display_is_marked_as_a_notebook_copy():
    """A slider left as a cell's last expression is a notebook copy too: the page shows only the glued one."""
    from IPython.core.formatters import format_display_data

    s = slider_figure("ch0-fig-demo", _draw, [1.0, 2.0], label="frequency", glue=False)
    data, metadata = format_display_data(s)
    assert {"text/html", "image/png", "text/plain"} <= set(data)
    assert metadata.get("lrtheory") == plotting.NOTEBOOK_COPY_METADATA["lrtheory"]
