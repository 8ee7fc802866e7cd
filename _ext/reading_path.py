"""The reading path: checks behind a toggle, notebook copies of figures off the page, cell anchors.

Three things happen to every notebook page of the book (nothing changes in the
executed notebooks themselves):

* **Check cells collapse.**  A code cell tagged ``check`` (cells that only
  verify: asserts, glue bookkeeping, table builders, sweep loops) is folded
  behind a toggle labelled with what it holds, "Show the 12 checks" where 12
  is the number of ``assert`` statements in the cell ("Show the check" for
  one; for none, "Show the code of the figure" when the cell glues a figure
  or a slider, else "Show the supporting code").  The cell's output is folded
  with it unless it is worth showing (an image, HTML, Markdown or a table:
  then only the code is folded and the output stays on the page); printed
  text goes with the code.  A cell's own ``mystnb: code_prompt_show`` /
  ``code_prompt_hide`` metadata wins over the generated labels.  The toggle
  is myst-nb's own (``hide-cell`` / ``hide-input``); this extension only
  sets it up before myst-nb's ``HideInputCells`` post-transform runs.

* **Notebook copies of figures stay in the notebook.**  A figure glued with
  :func:`lrtheory.plotting.glue_figure` (and a slider from
  :func:`lrtheory.interactive.slider_figure`) is also displayed once, with the
  output metadata ``{"lrtheory": {"role": "notebook-copy"}}``, so that a
  notebook shows it where it is made.  The book places the figure with
  ``{glue:figure}`` and its caption, so those copies are left out of the HTML
  pages; the downloaded ``.ipynb`` keeps them (see ``ipynb_download``).

* **Glued Markdown is MyST.**  ``{glue:md}`key``` renders the glued Markdown
  as MyST (with ``$math$``), as ``{glue:md}`key:myst``` does; myst-nb's role
  defaults to CommonMark, which would print the ``$`` of
  :func:`lrtheory.fmt.glue_number`'s ``$symbol = value$`` literally.
  ``{glue:md}`key:commonmark``` still asks for CommonMark.

* **Code cells get anchors.**  Each code cell's container gets the id
  ``nb-cell-N``, N its execution count (In [N] in the notebook), so the
  reproduce table can link a result to the cell that computes it and the
  browser tests can name the cell they complain about.

myst-nb 1.4 offers no hook to filter outputs by their metadata before it turns
them into document nodes (its renderer plugins are entry points of installed
packages), so the output filter wraps one method of its Sphinx renderer; the
wrapper checks at start-up that the method is there, so a myst-nb upgrade that
moves it fails the build loudly instead of putting the copies back on the page.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.transforms.post_transforms import SphinxPostTransform

CHECK_TAG = "check"
COPY_ROLE = "notebook-copy"
CELL_ID = "nb-cell-{}"


# --------------------------------------------------------------------------- labels


def count_asserts(source: str) -> int:
    """Number of ``assert`` statements in a cell's code (IPython magics tolerated)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        # a cell with %magics or !shell lines: count assert statements line by line
        return sum(1 for line in source.splitlines() if re.match(r"\s*assert\b", line))
    return sum(isinstance(node, ast.Assert) for node in ast.walk(tree))


FIGURE_CALL = re.compile(r"\b(?:glue_figure|slider_figure)\(")


def check_labels(n_asserts: int, source: str = "") -> tuple[str, str]:
    """The toggle's (show, hide) labels for a check cell with ``n_asserts`` asserts."""
    if n_asserts == 0 and FIGURE_CALL.search(source):
        return "Show the code of the figure", "Hide the code of the figure"
    if n_asserts == 0:
        return "Show the supporting code", "Hide the supporting code"
    if n_asserts == 1:
        return "Show the check", "Hide the check"
    return f"Show the {n_asserts} checks", f"Hide the {n_asserts} checks"


# --------------------------------------------------------------------------- notebook copies


def is_notebook_copy(output: Any) -> bool:
    """True for an output that :func:`lrtheory.plotting.glue_figure` displayed for notebook readers."""
    meta = output.get("metadata") if hasattr(output, "get") else None
    if not isinstance(meta, dict):
        return False
    role = meta.get("lrtheory")
    return isinstance(role, dict) and role.get("role") == COPY_ROLE


def _install_output_filter() -> None:
    from myst_nb.sphinx_ import SphinxNbRenderer

    original = getattr(SphinxNbRenderer, "_get_nb_code_cell_outputs", None)
    if original is None:
        raise ExtensionError(
            "reading_path: myst_nb.sphinx_.SphinxNbRenderer._get_nb_code_cell_outputs is gone "
            "(myst-nb changed); the notebook copies of figures would appear twice on the pages"
        )
    if getattr(original, "_lrtheory_filter", False):
        return

    def outputs_without_copies(self: Any, token: Any) -> tuple[int | None, list[Any]]:
        exec_count, outputs = original(self, token)
        return exec_count, [o for o in outputs if not is_notebook_copy(o)]

    outputs_without_copies._lrtheory_filter = True  # type: ignore[attr-defined]
    SphinxNbRenderer._get_nb_code_cell_outputs = outputs_without_copies  # type: ignore[method-assign]


# --------------------------------------------------------------------------- the transform


def _is_code_cell(node: nodes.Node) -> bool:
    return isinstance(node, nodes.container) and node.get("nb_element") == "cell_code"


def _output_worth_showing(output: nodes.Element) -> bool:
    """An output container holds something beyond printed text (image, HTML, Markdown, table)."""
    for child in output.children:
        if isinstance(child, nodes.literal_block) and "stream" in child.get("classes", []):
            continue
        return True
    return False


class ReadingPath(SphinxPostTransform):
    """Anchor every code cell and fold the ``check`` cells (before myst-nb's HideInputCells, 199)."""

    default_priority = 190
    formats = ("html",)

    def run(self, **kwargs: Any) -> None:
        for cell in list(self.document.findall(_is_code_cell)):
            count = cell.get("exec_count")
            if isinstance(count, int) and CELL_ID.format(count) not in cell["ids"]:
                cell["ids"].append(CELL_ID.format(count))
            metadata = cell.get("cell_metadata") or {}
            tags = metadata.get("tags") or []
            if CHECK_TAG not in tags or not cell.children:
                continue
            source = cell.children[0]
            if source.get("nb_element") != "cell_code_source":
                continue  # remove-input: nothing to fold
            has_output = cell.children[-1].get("nb_element") == "cell_code_output"
            show_output = has_output and _output_worth_showing(cell.children[-1])
            code = source.astext()
            show, hide = check_labels(count_asserts(code), code)
            own = metadata.get("mystnb") or {}
            cell["hide_mode"] = "input" if show_output else "all"
            cell["prompt_show"] = own.get("code_prompt_show", show)
            cell["prompt_hide"] = own.get("code_prompt_hide", hide)
            cell["classes"].append("lrt-check")


def _myst_markdown_role() -> Any:
    from myst_nb.ext.glue.roles import PasteMarkdownRole

    class PasteMystMarkdownRole(PasteMarkdownRole):
        """``{glue:md}`` with MyST as the default format (``key`` means ``key:myst``)."""

        def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
            if ":" not in self.text:
                self.text = f"{self.text}:myst"
            return super().run()

    return PasteMystMarkdownRole()


def setup(app: Sphinx) -> dict[str, Any]:
    _install_output_filter()
    app.setup_extension("myst_nb")
    app.add_role_to_domain("glue", "md", _myst_markdown_role(), override=True)
    app.add_post_transform(ReadingPath)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
