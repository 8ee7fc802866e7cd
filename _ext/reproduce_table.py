"""The ``reproduce-table`` directive: the book's "What you can reproduce" tables, generated.

A page writes

    ```{reproduce-table}
    ```

and gets, at build time, after every chapter has executed:

* a table of headline results per chapter (under the chapter's title, linked):
  for every chapter in the table of contents (``chapters/*``), every value the
  chapter glued with :func:`lrtheory.reproduce.headline` (glue keys
  ``chN-headline-*``), with the claim, the value as computed in this build, the
  run mode it was computed in, and a link to the notebook cell that computes it
  (``cell [N]``, N its execution count; the anchor ``nb-cell-N`` comes from
  ``_ext/reading_path.py``);
* a table of run times: the execution time of each chapter in this build
  (from myst-nb's execution record), and the times for the other run modes
  when a timings file (``reproduce_timings.json``, written by
  ``scripts/run_chapter_notebook.py --record``) is present.

Everything comes from the executed notebooks in ``_build/jupyter_execute``:
nothing is typed.  Missing chapters, chapters without headline keys and a
missing timings file are not errors (the tables say what is absent), so the
page builds with ``-W`` at every stage of the book.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

HEADLINE_KEY = re.compile(r"^ch(?P<chapter>[1-9][0-9]?)-headline-(?P<name>[a-z0-9]+(?:-[a-z0-9]+)*)$")
HEADLINE_KEY_IN_SOURCE = re.compile(r"""["'](ch[1-9][0-9]?-headline-[a-z0-9]+(?:-[a-z0-9]+)*)["']""")
MODES = ("quick", "standard", "full")


class reproduce_table(nodes.General, nodes.Element):
    """Placeholder, replaced by the tables once all chapters have executed."""


class ReproduceTableDirective(SphinxDirective):
    has_content = False
    required_arguments = 0
    optional_arguments = 0

    def run(self) -> list[nodes.Node]:
        docs = getattr(self.env, "reproduce_table_docs", set())
        docs.add(self.env.docname)
        self.env.reproduce_table_docs = docs
        return [reproduce_table()]


# --------------------------------------------------------------------------- reading the build


def chapter_docs(app: Sphinx) -> list[str]:
    """The chapters of this build, in table-of-contents order."""
    env = app.env
    order = [d for d in getattr(env, "toctree_includes", {}).get(app.config.root_doc, [])]
    seen: list[str] = []

    def walk(doc: str) -> None:
        if doc in seen:
            return
        seen.append(doc)
        for child in env.toctree_includes.get(doc, []):
            walk(child)

    for d in order:
        walk(d)
    rest = sorted(d for d in env.found_docs if d not in seen)
    return [d for d in seen + rest if d.startswith("chapters/")]


def read_headlines(folder: Path, docname: str) -> list[dict[str, Any]]:
    """Headline records glued in one executed chapter, with the index of the cell that glued each."""
    glue_path = folder / f"{docname}.glue.json"
    if not glue_path.is_file():
        return []
    glue = json.loads(glue_path.read_text(encoding="utf-8"))
    cells: dict[str, int] = {}
    nb_path = folder / f"{docname}.ipynb"
    if nb_path.is_file():
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        code_index = 0
        for cell in nb.get("cells", []):
            if cell.get("cell_type") != "code":
                continue
            # the cell's number is its execution count (In [N]), which the page's anchor
            # nb-cell-N carries (_ext/reading_path.py); a notebook saved from the cache has
            # no counts, and in a run from the top the count is the code cell's position
            code_index = cell.get("execution_count") or code_index + 1
            for out in cell.get("outputs", []):
                name = out.get("metadata", {}).get("scrapbook", {}).get("name")
                if name:
                    cells.setdefault(name, code_index)
            # myst-nb strips glue outputs from the notebooks it saves: find the key in the source
            source = "".join(cell.get("source", ""))
            for key in HEADLINE_KEY_IN_SOURCE.findall(source):
                cells.setdefault(key, code_index)
    records = []
    for key, output in glue.items():
        if not HEADLINE_KEY.match(key):
            continue
        data = output.get("data", {})
        record = None
        for mime, payload in data.items():
            if mime.endswith("vnd.lrtheory.headline+json") and isinstance(payload, dict):
                record = dict(payload)
        if record is None:  # glued with plain glue(): the number only
            record = {"key": key, "claim": key, "text": data.get("text/plain", "?"), "mode": None}
        record["cell"] = cells.get(key)
        records.append(record)
    return sorted(records, key=lambda r: r["key"])


def read_timings(app: Sphinx) -> dict[str, Any]:
    path = Path(app.srcdir) / app.config.reproduce_timings_file
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def exec_runtime(env: Any, docname: str) -> tuple[float | None, str | None]:
    try:
        from myst_nb.sphinx_ import NbMetadataCollector

        data = NbMetadataCollector.get_exec_data(env, docname)
    except Exception:
        data = None
    if not data:
        return None, None
    return data.get("runtime"), data.get("method")


# --------------------------------------------------------------------------- building nodes


def _table(header: list[str], rows: list[list[nodes.Node | str]], classes: list[str]) -> nodes.table:
    table = nodes.table(classes=classes)
    group = nodes.tgroup(cols=len(header))
    table += group
    for _ in header:
        group += nodes.colspec(colwidth=1)
    thead = nodes.thead()
    group += thead
    row = nodes.row()
    for h in header:
        row += nodes.entry("", nodes.paragraph(text=h))
    thead += row
    tbody = nodes.tbody()
    group += tbody
    for cells in rows:
        row = nodes.row()
        for c in cells:
            para = nodes.paragraph()
            para += c if isinstance(c, nodes.Node) else nodes.Text(str(c))
            row += nodes.entry("", para)
        tbody += row
    return table


def _seconds(x: Any) -> str:
    if x is None:
        return "not measured"
    return f"{float(x):.1f} s"


def build_tables(app: Sphinx, fromdoc: str) -> list[nodes.Node]:
    env = app.env
    folder = Path(env.mystnb_config.output_folder) if hasattr(env, "mystnb_config") else Path(app.outdir).parent / "jupyter_execute"
    chapters = chapter_docs(app)
    if not chapters:
        return [nodes.paragraph(text="No chapter is part of this build yet, so there is nothing to reproduce here.")]
    build_mode = os.environ.get("LRTHEORY_MODE", "").strip().lower() or "standard"
    timings = read_timings(app).get("chapters", {})

    def link(doc: str) -> nodes.reference:
        title = env.titles[doc].astext() if doc in env.titles else doc
        uri = app.builder.get_relative_uri(fromdoc, doc)
        return nodes.reference("", title, internal=True, refuri=uri)

    def cell_link(doc: str, cell: int | None) -> nodes.Node | str:
        if not cell:
            return "?"
        uri = app.builder.get_relative_uri(fromdoc, doc) + f"#nb-cell-{cell}"
        return nodes.reference("", f"cell [{cell}]", internal=True, refuri=uri)

    results: list[nodes.Node] = []
    time_rows: list[list[nodes.Node | str]] = []
    missing: list[str] = []
    for doc in chapters:
        records = read_headlines(folder, doc)
        if not records:
            missing.append(doc)
        else:
            rows: list[list[nodes.Node | str]] = [
                [r.get("claim", r["key"]), r.get("text", "?"), r.get("mode") or "?", cell_link(doc, r.get("cell"))]
                for r in records
            ]
            heading = nodes.paragraph(classes=["reproduce-chapter"])
            heading += nodes.strong("", "", link(doc))
            results.append(heading)
            results.append(_table(["Result", "Value", "Mode", "Computed in"], rows, ["reproduce-results"]))
        runtime, method = exec_runtime(env, doc)
        # a cached build may reuse an execution from another mode: trust the mode the values record
        modes_seen = {r.get("mode") for r in records} & set(MODES)
        run_mode = modes_seen.pop() if len(modes_seen) == 1 else build_mode
        recorded = timings.get(doc, {})
        row: list[nodes.Node | str] = [link(doc)]
        for mode in MODES:
            if mode == run_mode and runtime is not None:
                row.append(f"{_seconds(runtime)} (this build)")
            else:
                row.append(_seconds(recorded.get(mode, {}).get("seconds")))
        row.append(nodes.literal(text=f"python scripts/run_chapter_notebook.py {doc}.md --mode quick"))
        time_rows.append(row)

    out: list[nodes.Node] = []
    if results:
        out.extend(results)
    else:
        out.append(nodes.paragraph(text="No chapter of this build has marked a headline result yet."))
    if missing:
        para = nodes.paragraph(text="Chapters without marked headline results: ")
        for i, doc in enumerate(missing):
            if i:
                para += nodes.Text(", ")
            para += link(doc)
        para += nodes.Text(".")
        out.append(para)
    out.append(
        nodes.paragraph(
            text=f"Time to execute each chapter as a notebook (this build ran in {build_mode} mode):"
        )
    )
    out.append(_table(["Chapter", "quick", "standard", "full", "Command"], time_rows, ["reproduce-times"]))
    machine = read_timings(app).get("machine")
    if machine:
        out.append(nodes.paragraph(text=f"Times not marked 'this build' were recorded on: {machine}."))
    return out


def fill_tables(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for node in list(doctree.findall(reproduce_table)):
        node.replace_self(build_tables(app, docname))


def always_outdated(app: Sphinx, env: Any, added: set[str], changed: set[str], removed: set[str]) -> list[str]:
    """Re-read (and so rewrite) the pages with the directive on every build.

    Their content depends on other documents' executions and on the timings
    file, which Sphinx does not track as dependencies; the page is small.
    """
    docs = getattr(env, "reproduce_table_docs", set())
    return sorted(d for d in docs if d in env.found_docs)


def purge(app: Sphinx, env: Any, docname: str) -> None:
    getattr(env, "reproduce_table_docs", set()).discard(docname)


def merge(app: Sphinx, env: Any, docnames: set[str], other: Any) -> None:
    docs = getattr(env, "reproduce_table_docs", set())
    docs |= getattr(other, "reproduce_table_docs", set())
    env.reproduce_table_docs = docs


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("reproduce_timings_file", "reproduce_timings.json", "env")
    app.add_node(reproduce_table)
    app.add_directive("reproduce-table", ReproduceTableDirective)
    app.connect("doctree-resolved", fill_tables)
    app.connect("env-get-outdated", always_outdated)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
