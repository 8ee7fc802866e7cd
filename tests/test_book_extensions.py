"""The book's Sphinx extensions (``_ext/``) on a tiny book built by Sphinx itself.

One small project is built once (no kernel: the notebook comes with its
outputs and execution is off), with the extensions the book registers in
``_config.yml``: ``reading_path`` (check cells behind a toggle, notebook copies
of figures off the page, cell anchors, ``{glue:md}`` as MyST),
``ipynb_download`` (the cleaned download) and ``reproduce_table`` (results
linked to their cells).  The pure helpers are tested without Sphinx.
"""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))

import ipynb_download  # noqa: E402
import reading_path  # noqa: E402

COPY = {"lrtheory": {"role": "notebook-copy"}}
GLUE_PREFIX = "application/papermill.record/"


def _png(width: int = 30, height: int = 20, colour: str = "white") -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _glue(key: str, data: dict) -> nbformat.NotebookNode:
    return nbformat.v4.new_output(
        "display_data", data={GLUE_PREFIX + k: v for k, v in data.items()},
        metadata={"scrapbook": {"name": key, "mime_prefix": GLUE_PREFIX}})


def _cell(source: str, count: int, outputs=(), tags=()) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source, execution_count=count)
    cell.outputs = list(outputs)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def _chapter(src: Path) -> nbformat.NotebookNode:
    md = nbformat.v4.new_markdown_cell
    figure = _png(40, 20, "white")
    copy_of_figure = nbformat.v4.new_output("display_data", data={"image/png": figure, "text/plain": "<Figure>"},
                                            metadata=COPY)
    table = nbformat.v4.new_output("display_data", data={"text/markdown": "| a | b |\n|---|---|\n| 1 | 2 |",
                                                         "text/plain": "<Markdown>"})
    cells = [
        md("# A tiny chapter\n\nThe order is {glue:md}`ch9-order`, plain {glue:text}`ch9-order:.1f`."),
        _cell("x = 1\nprint(x)", 1, [nbformat.v4.new_output("stream", name="stdout", text="1\n")]),
        _cell("assert x == 1\nassert x > 0\nassert x < 2", 2, tags=["check"]),
        _cell("assert x\nprint('ok')", 3, [nbformat.v4.new_output("stream", name="stdout", text="ok\n")],
              tags=["check"]),
        _cell("show(table(x))", 4, [table], tags=["check"]),
        _cell("glue_figure('ch9-fig', fig)", 5, [_glue("ch9-fig", {"image/png": figure, "text/plain": "<Figure>"}),
                                               copy_of_figure], tags=["check"]),
        md("```{glue:figure} ch9-fig\n:name: fig-ch9\n:alt: A white rectangle.\n\nA figure.\n```"),
        _cell("for _ in bar: pass", 6, [
            nbformat.v4.new_output("stream", name="stderr",
                                   text=f"{sys.prefix}/lib/site-packages/tqdm/auto.py:21: TqdmWarning: IProgress\n"),
            nbformat.v4.new_output("stream", name="stdout",
                                   text=" 10%|#  | 1/10 [00:00<00:01, 9.1it/s]\r100%|###| 10/10\rdone\n"
                                        f"read {src}/chapters/data.json\n"),
        ]),
        _cell("glue_number('ch9-order', 1.02, symbol='p')\nheadline('ch9-headline-order', 1.02, 'Order')", 7, [
            _glue("ch9-order", {"text/plain": "1.02", "text/markdown": "$p = 1.02$"}),
            _glue("ch9-headline-order", {"text/plain": "1.02",
                                         "application/vnd.lrtheory.headline+json": {
                                             "key": "ch9-headline-order", "claim": "Order", "text": "1.02",
                                             "mode": "quick"}}),
        ]),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


CONF = """
import sys
sys.path.insert(0, {ext!r})
project = "tiny"
extensions = ["myst_nb", "sphinx_exercise", "ipynb_download", "reproduce_table", "reading_path"]
nb_execution_mode = "off"
nb_render_markdown_format = "myst"
myst_enable_extensions = ["dollarmath", "colon_fence"]
suppress_warnings = ["mystnb.unknown_mime_type"]
html_theme = "basic"
exclude_patterns = ["_build"]
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("tiny_book")
    (src / "conf.py").write_text(CONF.format(ext=str(ROOT / "_ext")), encoding="utf-8")
    (src / "index.md").write_text("# Tiny\n\n```{toctree}\nchapters/09_tiny\nreproduce\n```\n", encoding="utf-8")
    (src / "reproduce.md").write_text("# Reproduce\n\n```{reproduce-table}\n```\n", encoding="utf-8")
    (src / "chapters").mkdir()
    nbformat.write(_chapter(src), str(src / "chapters" / "09_tiny.ipynb"))
    out = src / "_build" / "html"
    done = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", str(src), str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def _cell_html(page: str, n: int) -> str:
    """The HTML of code cell [n], from its opening tag to the next cell's."""
    own = page.index(f'id="nb-cell-{n}"')
    start = page.rfind("<div", 0, own)
    nxt = page.find('id="nb-cell-', own + 10)
    return page[start: page.rfind("<div", 0, nxt) if nxt > 0 else len(page)]


def test_check_cells_fold_behind_labelled_toggles(site: Path) -> None:
    page = (site / "chapters" / "09_tiny.html").read_text(encoding="utf-8")
    teaching = _cell_html(page, 1)
    assert "<details" not in teaching and "tag_check" not in teaching
    three = _cell_html(page, 2)
    assert "lrt-check" in three and "Show the 3 checks" in three and "Hide the 3 checks" in three
    one = _cell_html(page, 3)
    # printed text goes with the code: the whole cell folds ("above-input" wraps input and output)
    assert "Show the check" in one and one.index("<details") < one.index("cell_input") < one.index("</details>")
    assert one.index("ok") < one.index("</details>")
    table = _cell_html(page, 4)
    # an output worth showing stays on the page: only the code folds
    assert "Show the supporting code" in table
    assert table.index("</details>") < table.index("cell_output") and "<table" in table
    figure = _cell_html(page, 5)
    assert "Show the code of the figure" in figure


def test_notebook_copies_stay_off_the_page_and_the_glued_figure_appears_once(site: Path) -> None:
    page = (site / "chapters" / "09_tiny.html").read_text(encoding="utf-8")
    assert len(re.findall(r"<img ", page)) == 1  # the {glue:figure}, not the notebook copy
    assert "cell_output" not in _cell_html(page, 5)
    assert 'id="fig-ch9"' in page


def test_glue_md_renders_myst_math_and_glue_text_the_float(site: Path) -> None:
    page = (site / "chapters" / "09_tiny.html").read_text(encoding="utf-8")
    assert "$p = 1.02$" not in page
    assert re.search(r'class="math[^"]*">\\\(p = 1.02\\\)', page), "the glued $math$ was not parsed as math"
    assert re.search(r'plain <span class="pasted-text">1.0</span>', page)


def test_download_keeps_the_figures_and_drops_the_noise(site: Path) -> None:
    nb = json.loads((site / "_sources" / "chapters" / "09_tiny.ipynb").read_text(encoding="utf-8"))
    outputs = {c["execution_count"]: c.get("outputs", []) for c in nb["cells"] if c["cell_type"] == "code"}
    copies = [o for o in outputs[5] if o.get("metadata", {}).get("lrtheory") == COPY["lrtheory"]]
    assert copies and "image/png" in copies[0]["data"]
    assert all(o.get("name") != "stderr" for o in outputs[6])
    (stdout,) = outputs[6]
    text = "".join(stdout["text"])
    assert "\r" not in text and "it/s" not in text and "done" in text
    assert str(site.parents[1]) not in text and "read chapters/data.json" in text
    assert "".join([c["source"] for c in nb["cells"] if c["cell_type"] == "code"][1]).startswith("assert x == 1")


def test_reproduce_table_links_results_to_cells_and_names_the_chapter_once(site: Path) -> None:
    page = (site / "reproduce.html").read_text(encoding="utf-8")
    assert re.search(r'href="chapters/09_tiny.html#nb-cell-7"[^>]*>cell \[7\]', page), page[-3000:]
    results = page[page.index("reproduce-chapter"): page.index("reproduce-times")]
    assert results.count("A tiny chapter") == 1


# ----------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(("source", "count"), [
    ("assert a\nassert b", 2),
    ("for x in xs:\n    assert x > 0\n", 1),
    ("def f():\n    assert True\nassert f() is None", 2),
    ("%matplotlib inline\n!ls\nassert a\nassert b", 2),  # magics: counted line by line
    ("x = 'assert'", 0),
])
def test_count_asserts(source: str, count: int) -> None:
    assert reading_path.count_asserts(source) == count


def test_check_labels() -> None:
    assert reading_path.check_labels(12) == ("Show the 12 checks", "Hide the 12 checks")
    assert reading_path.check_labels(1) == ("Show the check", "Hide the check")
    assert reading_path.check_labels(0)[0] == "Show the supporting code"
    assert reading_path.check_labels(0, "plotting.glue_figure('k', fig)")[0] == "Show the code of the figure"


def test_is_notebook_copy() -> None:
    assert reading_path.is_notebook_copy({"metadata": COPY})
    assert not reading_path.is_notebook_copy({"metadata": {"lrtheory": "x"}})
    assert not reading_path.is_notebook_copy({"metadata": {}})
    assert not reading_path.is_notebook_copy({})


def test_clean_notebook_shortens_paths_of_this_machine() -> None:
    nb = nbformat.v4.new_notebook(cells=[_cell("x", 1, [nbformat.v4.new_output(
        "execute_result", data={"text/plain": f"'{sys.prefix}/bin/python'"}, execution_count=1)])])
    ipynb_download.clean_notebook(nb, ROOT)
    assert nb.cells[0].outputs[0]["data"]["text/plain"] == "'<venv>/bin/python'"
    pairs = ipynb_download.path_replacements(ROOT)
    assert [len(old) for old, _ in pairs] == sorted((len(old) for old, _ in pairs), reverse=True)
