"""Walk the whole public API with bad inputs and print what happened (the counts of issue 19).

Usage::

    PYTHONPATH=. python scripts/bad_input_report.py [--list OUTCOME ...] [--only PREFIX]

Prints the number of calls and of each outcome (clear, allowed, silent,
obscure, hang), the outcomes by kind of bad value, and then every call whose
outcome is in ``--list`` (default: silent, obscure, hang).  The engine and the
table of valid examples are the ones of the test-suite
(``tests/badinput_engine.py``, ``tests/badinput_table.py``).
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
os.environ.setdefault("LRTHEORY_MODE", "quick")
os.environ.setdefault("MPLBACKEND", "Agg")

import badinput_engine as engine  # noqa: E402
import badinput_table as table  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", nargs="*", default=["silent", "obscure", "hang", "invalid-example"])
    parser.add_argument("--only", default="", help="only keys starting with this prefix")
    args = parser.parse_args(argv)
    api = engine.public_api()
    results: list[engine.Result] = []
    missing, skipped, slow = [], [], []
    t0 = time.perf_counter()
    for key, obj in api.items():
        if not key.startswith(args.only):
            continue
        if table.skipped(key):
            skipped.append(key)
            continue
        sig = engine.signature_of(obj)
        if sig is not None and not [p for p in sig.parameters.values() if p.name != "self"]:
            continue
        entry = table.EXAMPLES.get(key)
        if entry is None:
            missing.append(key)
            continue
        t1 = time.perf_counter()
        results += engine.walk_entry(key, obj, entry, table.allowed)
        slow.append((time.perf_counter() - t1, key))
    total = time.perf_counter() - t0
    counts = engine.summarize(results)
    print(f"{len(api)} public callables; {len(skipped)} skipped; {len(missing)} without an entry: {missing}")
    print(f"{counts['calls']} calls in {total:.1f} s: " + ", ".join(f"{k} {counts[k]}" for k in engine.OUTCOMES)
          + f", invalid examples {counts.get('invalid-example', 0)}")
    by_kind: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for r in results:
        by_kind[r.kind][r.outcome] += 1
    for kind in sorted(by_kind):
        print(f"  {kind:14s} " + "  ".join(f"{o} {by_kind[kind][o]}" for o in engine.OUTCOMES if by_kind[kind][o]))
    print("slowest entries: " + ", ".join(f"{k} {s:.2f}s" for s, k in sorted(slow, reverse=True)[:8]))
    for r in results:
        if r.outcome in args.list:
            print(f"{r.outcome:8s} {r.key}({r.arg}={r.kind}) {r.detail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
