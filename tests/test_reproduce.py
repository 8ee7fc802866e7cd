"""lrtheory.reproduce (headline results) and the reproduce page's reader (_ext/reproduce_table.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from lrtheory import reproduce
from lrtheory.reproduce import HEADLINE_MIME, make_headline, parse_headline_key

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("key", "expected"),
    [("ch1-headline-order", (1, "order")), ("ch12-headline-flat-minima-2", (12, "flat-minima-2"))],
)
def test_parse_headline_key(key: str, expected: tuple[int, str]) -> None:
    assert parse_headline_key(key) == expected


@pytest.mark.parametrize(
    "key", ["ch1-order", "ch0-headline-x", "ch1-headline-", "ch1-headline-Upper", "ch1-headline-a_b", "fig-ch1-headline-x"]
)
def test_bad_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match="key"):
        make_headline(key, 1.0, "claim")


def test_argument_checks_name_the_argument() -> None:
    with pytest.raises(TypeError, match="key"):
        parse_headline_key(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="value"):
        make_headline("ch1-headline-x", float("nan"), "claim")
    with pytest.raises(TypeError, match="value"):
        make_headline("ch1-headline-x", "1.0", "claim")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="claim"):
        make_headline("ch1-headline-x", 1.0, "   ")
    with pytest.raises(TypeError, match="claim"):
        make_headline("ch1-headline-x", 1.0, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fmt"):
        make_headline("ch1-headline-x", 1.0, "claim", fmt=".2q")


def test_record_and_plain_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LRTHEORY_MODE", "full")
    h = make_headline("ch3-headline-gap", np.float64(0.012345), "The  gap\n after training", fmt=".3f")
    assert repr(h) == repr(0.012345)
    rec = h.record()
    assert rec == {
        "key": "ch3-headline-gap", "chapter": 3, "name": "gap", "value": 0.012345,
        "claim": "The gap after training", "fmt": ".3f", "mode": "full", "text": "0.012",
    }


def test_glued_output_is_a_valid_notebook_output() -> None:
    """What glue() writes (IPython's display formatter, with the papermill prefix) passes nbformat's schema."""
    import IPython.core.formatters

    h = make_headline("ch2-headline-rate", 0.5, "A rate")
    bundle, metadata = IPython.core.formatters.format_display_data(h)
    assert bundle["text/plain"] == "0.5" and bundle[HEADLINE_MIME]["value"] == 0.5
    prefix = "application/papermill.record/"
    output = nbformat.v4.new_output(
        "display_data", data={prefix + k: v for k, v in bundle.items()},
        metadata={"scrapbook": {"name": h.key, "mime_prefix": prefix}},
    )
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x", execution_count=1)
    cell.outputs = [output]
    nb.cells = [cell]
    nbformat.validate(nb)  # raises on an invalid MIME bundle


def test_glue_text_role_formats_the_plain_text() -> None:
    """myst-nb's {glue:text} formats text/plain: a headline's is the bare number."""
    from myst_nb.core.variables import format_plain_text

    h = make_headline("ch2-headline-rate", 0.123456, "A rate")
    assert format_plain_text(repr(h), ".2f") == "0.12"


def test_headline_glues_through_myst_nb(monkeypatch: pytest.MonkeyPatch) -> None:
    """headline() hands myst_nb.glue the checked object, hidden (display=False), and returns None."""
    import myst_nb

    calls = []
    monkeypatch.setattr(myst_nb, "glue", lambda name, obj, display=True: calls.append((name, obj, display)))
    assert reproduce.headline("ch4-headline-loss", 0.25, "Final loss", fmt=".2f") is None
    ((name, obj, display),) = calls
    assert name == "ch4-headline-loss" and display is False and obj.record()["text"] == "0.25"
    with pytest.raises(ValueError, match="key"):
        reproduce.headline("headline-loss", 0.25, "Final loss")
    assert len(calls) == 1


def test_module_has_no_import_time_effects() -> None:
    assert "torch" not in reproduce.__dict__ and "myst_nb" not in reproduce.__dict__


# ----------------------------------------------------------------------------- the page's reader


@pytest.fixture
def reproduce_table():
    sys.path.insert(0, str(ROOT / "_ext"))
    try:
        import reproduce_table as module

        yield module
    finally:
        sys.path.remove(str(ROOT / "_ext"))


def test_reader_finds_headlines_and_cells(tmp_path: Path, reproduce_table) -> None:
    folder = tmp_path / "jupyter_execute"
    (folder / "chapters").mkdir(parents=True)
    prefix = "application/papermill.record/"
    h = make_headline("ch1-headline-order", 1.02, "Fitted order", fmt=".2f")
    glued = {
        h.key: {"output_type": "display_data", "data": {prefix + "text/plain": "1.02", prefix + HEADLINE_MIME: h.record()}},
        "ch1-other": {"output_type": "display_data", "data": {prefix + "text/plain": "3"}},
        "ch1-headline-plain": {"output_type": "display_data", "data": {"text/plain": "7"}},
    }
    (folder / "chapters" / "01_x.glue.json").write_text(json.dumps(glued), encoding="utf-8")
    nb = nbformat.v4.new_notebook()
    c1 = nbformat.v4.new_code_cell('headline("ch1-headline-plain", 7.0, "x")')  # found by its source
    c2 = nbformat.v4.new_code_cell("b")
    c2.outputs = [nbformat.v4.new_output("display_data", data={"text/plain": "1.02"},
                                         metadata={"scrapbook": {"name": h.key}})]
    nb.cells = [nbformat.v4.new_markdown_cell("m"), c1, c2]
    nbformat.write(nb, str(folder / "chapters" / "01_x.ipynb"))
    records = reproduce_table.read_headlines(folder, "chapters/01_x")
    assert [r["key"] for r in records] == ["ch1-headline-order", "ch1-headline-plain"]
    assert records[0]["text"] == "1.02" and records[0]["claim"] == "Fitted order" and records[0]["cell"] == 2
    assert records[1]["text"] == "7" and records[1]["cell"] == 1
    assert reproduce_table.read_headlines(folder, "chapters/02_missing") == []


def test_reader_key_pattern_matches_package(reproduce_table) -> None:
    assert reproduce_table.HEADLINE_KEY.pattern == reproduce.HEADLINE_KEY.pattern


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        (-0.0612, ".2f", "\u22120.06"),
        (0.0612, ".2f", "0.06"),
        (1.5e-7, ".2g", "1.5 \u00d7 10\u207b\u2077"),
        (-2.0e12, ".1e", "\u22122.0 \u00d7 10\u00b9\u00b2"),
        (123.0, ".4g", "123"),
    ],
)
def test_display_text_uses_true_minus_and_no_e_notation(value: float, fmt: str, expected: str) -> None:
    """Oracle: the strings written out by hand for each case."""
    from lrtheory.reproduce import display_text

    assert display_text(value, fmt) == expected
    assert "e" not in display_text(value, fmt).lower().replace("\u00d7", "")


@pytest.mark.parametrize(("value", "fmt", "exc", "name"), [
    (float("nan"), ".2f", ValueError, "value"), ("1", ".2f", TypeError, "value"),
    (1.0, 2, TypeError, "fmt"), (1.0, "q", ValueError, "fmt"),
])
def test_display_text_bad_input(value: object, fmt: object, exc: type, name: str) -> None:
    from lrtheory.reproduce import display_text

    with pytest.raises(exc, match=name):
        display_text(value, fmt)  # type: ignore[arg-type]
