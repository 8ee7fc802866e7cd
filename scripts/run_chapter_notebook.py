#!/usr/bin/env python
"""Run book chapters as notebooks, the way a reader does on their own machine.

For each chapter (a jupytext MyST-markdown file) this

1. converts it to a notebook with the jupytext command line,
   ``jupytext --to ipynb --output OUT.ipynb chapters/NN_name.md``;
2. executes that notebook top to bottom in a fresh ``python3`` kernel with
   nbclient (the engine behind ``jupyter nbconvert --execute`` and
   ``jupyter execute``), in the chapter's folder, with ``LRTHEORY_MODE`` set
   to the chosen run mode; the executed notebook, outputs included, is saved
   over OUT.ipynb;
3. reports the wall time, and with ``--record FILE`` stores it in a JSON file
   of timings that the book's "What you can reproduce" page reads.

Usage::

    python scripts/run_chapter_notebook.py chapters/01_rmsprop_ode.md [more.md ...]
        [--mode quick|standard|full] [--output-dir DIR] [--timeout SECONDS]
        [--record reproduce_timings.json]

The exit status is 0 when every chapter ran without an error, 1 otherwise.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODES = ("quick", "standard", "full")


def convert(chapter: Path, notebook: Path) -> None:
    """``jupytext --to ipynb`` the chapter into ``notebook`` (the jupytext CLI, as a reader runs it)."""
    notebook.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "jupytext", "--quiet", "--to", "ipynb", "--output", str(notebook), str(chapter)]
    subprocess.run(cmd, check=True)


def execute(notebook: Path, workdir: Path, mode: str, timeout: int) -> float:
    """Execute ``notebook`` in place with nbclient, in ``workdir``, in run mode ``mode``; return seconds."""
    import nbclient
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    saved = {k: os.environ.get(k) for k in ("LRTHEORY_MODE", "MPLBACKEND", "LRTHEORY_PROGRESS")}
    os.environ["LRTHEORY_MODE"] = mode  # the kernel inherits this process's environment
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("LRTHEORY_PROGRESS", "0")
    client = nbclient.NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    )
    start = time.perf_counter()
    try:
        client.execute()
    finally:
        seconds = time.perf_counter() - start
        nbformat.write(nb, str(notebook))
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return seconds


def machine_description() -> str:
    """A one-line description of this machine (CPU count, accelerator when torch sees one)."""
    text = f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}"
    try:
        import torch

        if torch.cuda.is_available():
            text += f", GPU {torch.cuda.get_device_name(0)}"
        else:
            text += ", no GPU"
    except ImportError:
        pass
    return text


def record(path: Path, results: dict[str, float], mode: str) -> None:
    """Merge ``results`` (docname -> seconds) for ``mode`` into the JSON timings file ``path``."""
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    chapters = data.setdefault("chapters", {})
    today = _dt.date.today().isoformat()
    for doc, seconds in results.items():
        chapters.setdefault(doc, {})[mode] = {"seconds": round(seconds, 2), "date": today}
    data["machine"] = machine_description()
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def docname(chapter: Path) -> str:
    """``chapters/01_x`` for ``.../chapters/01_x.md`` (the Sphinx document name, when under the book)."""
    try:
        return chapter.resolve().relative_to(ROOT).with_suffix("").as_posix()
    except ValueError:
        return chapter.with_suffix("").name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="+", type=Path, help="chapter files (jupytext MyST markdown)")
    parser.add_argument("--mode", choices=MODES, default=os.environ.get("LRTHEORY_MODE") or "quick")
    parser.add_argument("--output-dir", type=Path, default=ROOT / "_build" / "notebooks",
                        help="where the executed .ipynb files go (default: _build/notebooks)")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per cell (default 1200)")
    parser.add_argument("--record", type=Path, default=None, help="JSON timings file to update")
    args = parser.parse_args(argv)

    failed = 0
    results: dict[str, float] = {}
    for chapter in args.chapters:
        if not chapter.is_file():
            print(f"FAIL {chapter}: no such file", file=sys.stderr)
            failed += 1
            continue
        notebook = args.output_dir / f"{chapter.stem}.ipynb"
        try:
            convert(chapter, notebook)
            seconds = execute(notebook, chapter.resolve().parent, args.mode, args.timeout)
        except Exception as exc:  # report every chapter, then fail
            first = str(exc).strip().splitlines()
            print(f"FAIL {chapter} ({args.mode}): {type(exc).__name__}: {first[-1] if first else ''}", file=sys.stderr)
            print(f"     the partly executed notebook is {notebook}", file=sys.stderr)
            failed += 1
            continue
        results[docname(chapter)] = seconds
        print(f"ok   {chapter} ({args.mode}) in {seconds:.1f} s -> {notebook}")
    if args.record is not None and results:
        record(args.record, results, args.mode)
        print(f"recorded {len(results)} timing(s) in {args.record}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
