#!/usr/bin/env python
"""Build the small extract of Schaipp et al.'s training logs that chapter 2 vendors.

The logs of "The surprising agreement between convex optimization theory and
learning-rate scheduling for large model training" (Schaipp, Hägele, Taylor,
Simsekli, Bach, 2025) are public under the MIT licence in
https://github.com/fabian-sp/lr-scheduling (folder ``data/``, one JSON file per
run, 42 MB in all).  This script reads a clone of that repository (a bare git
directory works: files are read with ``git show``) and writes
``lrtheory/data/schaipp2025_124m.json``: for the 124M-parameter model trained for
50,000 iterations, the final validation loss of every run of the learning-rate
sweeps of the constant, WSD (linear cooldowns of 10-90%, a 1-sqrt cooldown of
20%) and cosine schedules, and three validation-loss curves at base rate 1e-3.

Usage::

    python scripts/extract_schaipp_logs.py /path/to/lr-scheduling [--commit SHA]

The extract records the source address, commit and licence; the book never
downloads anything.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "lrtheory" / "data" / "schaipp2025_124m.json"
PATTERN = re.compile(r"^data/(stable-124m|ann124-[0-9.]+|cos-zero-124m|cos-10-124m)_slimpajama_llama_norm_"
                     r"nlayers12_nhead12_lr([0-9.e-]+)_sched_(wsd|cos)_warmup300_decay_(linear|sqrt)_"
                     r"[0-9.]+_iter50000_bs50x2_ws2_seed0_data_seed1337\.json$")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=True, text=True).stdout


def curve(run: dict, start: int = 0) -> tuple[list[int], list[float]]:
    h = run["history"]["val"]
    seen: dict[int, float] = {}
    for it, v in zip(h["iter"], h["val_loss"]):
        seen.setdefault(int(it), float(v))            # first record of an iteration (runs were resumed)
    its = sorted(i for i in seen if i >= start)
    return its, [round(seen[i], 5) for i in its]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("repo", type=Path, help="a clone (or bare git directory) of fabian-sp/lr-scheduling")
    ap.add_argument("--commit", default="HEAD")
    args = ap.parse_args()
    commit = git(args.repo, "rev-parse", args.commit).strip()
    licence = git(args.repo, "show", f"{commit}:LICENSE")
    finals, runs = [], {}
    for path in sorted(git(args.repo, "ls-tree", "-r", "--name-only", commit, "data").split()):
        m = PATTERN.match(path)
        if not m:
            continue
        run = json.loads(git(args.repo, "show", f"{commit}:{path}"))
        cfg = run["config"]
        kind, lr = m.group(1), float(cfg["lr"])
        if kind == "stable-124m":
            entry = {"schedule": "constant", "cooldown": 0.0, "decay": None, "final_lr": None}
        elif kind.startswith("ann124"):
            entry = {"schedule": "wsd", "cooldown": float(cfg["wsd_fract_decay"]), "decay": cfg["decay_type"],
                     "final_lr": 0.0}
        else:
            entry = {"schedule": "cosine", "cooldown": 1.0, "decay": None,
                     "final_lr": 0.1 if kind == "cos-10-124m" else 0.0}
        entry.update(lr=lr, final_val_loss=round(float(run["summary"]["final-val/loss"]), 5), file=path)
        finals.append(entry)
        runs[(entry["schedule"], entry["cooldown"], entry["decay"], entry["final_lr"], lr)] = run
    curves = {}
    stable = runs[("constant", 0.0, None, None, 1e-3)]
    its, vals = curve(stable)
    curves["constant"] = {"lr": 1e-3, "iter": its, "val_loss": vals}
    cool_its, cool_vals = curve(runs[("wsd", 0.2, "linear", 0.0, 1e-3)], start=40000)
    pre = [(i, v) for i, v in zip(its, vals) if i < 40000]
    curves["WSD 20%"] = {"lr": 1e-3, "iter": [i for i, _ in pre] + cool_its,
                         "val_loss": [v for _, v in pre] + cool_vals,
                         "note": "the cooldown run branches from the constant run at iteration 40000"}
    cits, cvals = curve(runs[("cosine", 1.0, None, 0.0, 1e-3)])
    curves["cosine"] = {"lr": 1e-3, "iter": cits, "val_loss": cvals}
    setup = {k: stable["config"][k] for k in ("iterations", "warmup_steps", "batch_size", "acc_steps",
                                               "world_size", "sequence_length", "opt", "beta1", "beta2",
                                               "weight_decay", "grad_clip", "n_layer", "n_embd", "dataset")}
    out = {
        "source": "https://github.com/fabian-sp/lr-scheduling",
        "commit": commit,
        "paper": ("F. Schaipp, A. Hägele, A. Taylor, U. Simsekli, F. Bach: The surprising agreement between "
                  "convex optimization theory and learning-rate scheduling for large model training (2025)"),
        "license": licence,
        "extracted_by": "scripts/extract_schaipp_logs.py",
        "setup": setup,
        "finals": finals,
        "curves": curves,
    }
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(finals)} runs)")


if __name__ == "__main__":
    main()
