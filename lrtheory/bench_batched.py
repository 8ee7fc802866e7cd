"""Benchmark of the batched-seed runner against the per-seed loop (digits MLP).

Run it as a script::

    python -m lrtheory.bench_batched                  # 16 seeds, 1 and 2 threads
    python -m lrtheory.bench_batched --seeds 4 --epochs 1 --out -

It trains the book's one-hidden-layer MLP on ``digits`` for the same seeds,
epochs and batches twice: once with :func:`lrtheory.batched.train_seeds`
(all seeds as one batched model) and once with
:func:`lrtheory.batched.train_seeds_reference` (one model after another),
best of ``repeats`` runs each, at every requested thread count.  It prints the
times and the speed-up and writes ``benchmarks/batched-<device>.json``, which
the appendix renders.  The two runners' equality in float64 is a test
(``tests/test_batched.py``), not part of this benchmark; the file records the
largest float32 difference of their final test losses as a sanity check.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from ._validation import check_choice, check_int
from .bench_results import write_json

__all__ = ["BATCHED_SCHEMA", "batched_benchmark", "main"]

BATCHED_SCHEMA = "lrtheory.bench_batched/1"
"""Identifier of the JSON layout written by :func:`batched_benchmark`."""

_OPTIMIZERS = ("adam", "sgd", "rmsprop-scalar")


def _factory(name: str) -> Any:
    import torch

    from .optim import RMSpropScalar

    return {"adam": lambda p, lr: torch.optim.Adam(p, lr=lr),
            "sgd": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9),
            "rmsprop-scalar": lambda p, lr: RMSpropScalar(p, lr=lr)}[name]


def batched_benchmark(num_seeds: int = 16, *, threads: Sequence[int] = (1, 2), epochs: int = 2,
                      batch_size: int = 32, hidden: int = 64, repeats: int = 3,
                      optimizer: str = "adam", lr: float = 1e-2) -> dict[str, Any]:
    """Time :func:`~lrtheory.batched.train_seeds` against the per-seed loop on the digits MLP.

    Parameters
    ----------
    num_seeds : int, optional
        Seeds ``0 .. num_seeds - 1`` (default 16).
    threads : sequence of int, optional
        CPU thread counts (``torch.set_num_threads``, restored afterwards).
    epochs, batch_size, hidden : int, optional
        The training run (as in :func:`lrtheory.batched.train_seeds`) and the MLP width.
    repeats : int, optional
        Runs per runner and thread count; the best is kept.
    optimizer : {"adam", "sgd", "rmsprop-scalar"}, optional
        ``torch.optim.Adam``, SGD with momentum 0.9 (both elementwise: one
        optimiser over the stacked seeds) or the book's ``RMSpropScalar``
        (not elementwise: one optimiser per seed, batched forward and backward).
    lr : float, optional
        Learning rate.

    Returns
    -------
    dict
        ``{"schema", "metadata", "rows"}``; one row per thread count with
        ``batched_s``, ``loop_s``, ``speedup`` (loop over batched) and
        ``max_abs_diff_test_loss``.

    Notes
    -----
    Both runners see the same data, seeds, batches and number of steps, so
    the speed-up is the saving of running the seeds as one model: one kernel
    launch and one autograd graph per step instead of ``num_seeds``.
    Appendix "What an optimizer step costs".
    """
    import numpy as np
    import torch

    from ._validation import check_scalar
    from .batched import train_seeds, train_seeds_reference
    from .bench_stream import check_threads
    from .datasets import load_dataset
    from .sweeps import make_classifier

    num_seeds = check_int("num_seeds", num_seeds, low=1)
    counts = check_threads(threads)
    epochs = check_int("epochs", epochs, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    hidden = check_int("hidden", hidden, low=1)
    repeats = check_int("repeats", repeats, low=1)
    check_choice("optimizer", optimizer, _OPTIMIZERS)
    lr = check_scalar("lr", lr, low=0.0, low_inclusive=False)
    data = load_dataset("digits", device="cpu", dtype=torch.float32, val_size=0.2, test_size=0.2)
    make_opt = _factory(optimizer)

    def make_model(seed: int) -> torch.nn.Module:
        return make_classifier("mlp", data.num_features, data.num_classes, hidden=hidden, seed=seed, device="cpu",
                               dtype=torch.float32)

    seeds = tuple(range(num_seeds))
    kw = dict(seeds=seeds, epochs=epochs, batch_size=batch_size)
    before = torch.get_num_threads()
    load_before = list(os.getloadavg())
    rows = []
    try:
        for count in counts:
            torch.set_num_threads(count)
            best = {"batched": float("inf"), "loop": float("inf")}
            out: dict[str, Any] = {}
            for _ in range(repeats):
                for name, fn in (("batched", train_seeds), ("loop", train_seeds_reference)):
                    start = time.perf_counter()
                    out[name] = fn(make_model, make_opt, lr, data, **kw)
                    best[name] = min(best[name], time.perf_counter() - start)
            diff = float(np.max(np.abs(out["batched"].metrics["test_loss"] - out["loop"].metrics["test_loss"])))
            rows.append({"threads": count, "batched_s": best["batched"], "loop_s": best["loop"],
                         "speedup": best["loop"] / best["batched"], "steps": out["loop"].steps,
                         "max_abs_diff_test_loss": diff})
    finally:
        torch.set_num_threads(before)
    metadata = {"device": "cpu", "device_name": platform.processor() or platform.machine(),
                "torch_version": torch.__version__, "cpu_count": os.cpu_count() or 0, "num_seeds": num_seeds,
                "epochs": epochs, "batch_size": batch_size, "hidden": hidden, "repeats": repeats,
                "optimizer": optimizer, "lr": lr, "dataset": "digits", "dtype": "float32",
                "load_average_before": load_before, "load_average_after": list(os.getloadavg()),
                "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    return {"schema": BATCHED_SCHEMA, "metadata": metadata, "rows": rows}


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (``python -m lrtheory.bench_batched --help``)."""
    parser = argparse.ArgumentParser(prog="python -m lrtheory.bench_batched", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=16, help="number of seeds (default 16)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default 1 2)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--optimizer", choices=_OPTIMIZERS, default="adam")
    parser.add_argument("--out", default="benchmarks", help="folder of batched-cpu.json ('-' to skip writing)")
    args = parser.parse_args(argv)
    result = batched_benchmark(args.seeds, threads=args.threads, epochs=args.epochs, batch_size=args.batch_size,
                               repeats=args.repeats, optimizer=args.optimizer)
    meta = result["metadata"]
    print(f"digits MLP (hidden {meta['hidden']}), {meta['num_seeds']} seeds, {meta['epochs']} epochs, "
          f"batch {meta['batch_size']}, {meta['optimizer']}, best of {meta['repeats']}")
    for r in result["rows"]:
        print(f"{r['threads']} thread(s): batched {r['batched_s']:.3f} s, per-seed loop {r['loop_s']:.3f} s, "
              f"speed-up {r['speedup']:.1f}x (float32 test-loss difference {r['max_abs_diff_test_loss']:.1e})")
    if args.out != "-":
        write_json(Path(args.out) / "batched-cpu.json", result)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
