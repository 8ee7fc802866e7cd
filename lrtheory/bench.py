"""Step-time benchmark of the book's optimisers against the fastest ``torch.optim`` paths.

Run it as a script::

    python -m lrtheory.bench                         # 1M, 10M, 50M parameters, CPU (CUDA if present)
    python -m lrtheory.bench --sizes 1M 10M --repeats 15
    python -m lrtheory.bench --sizes 20k --optimizers torch.SGD --repeats 2 --out /tmp

For each model size it builds a transformer-shaped list of float32 tensors
(:func:`model_shapes`) with a fixed random gradient each, and one optimiser
per name over those same tensors: every optimiser of
:data:`lrtheory.optim.REGISTRY` (multi-tensor path) and the ``torch.optim``
baselines of :data:`TORCH_OPTIMIZERS`, each in its fastest form on the device
(``fused=True`` for SGD, Adagrad, Adam and AdamW, ``foreach=True`` otherwise,
and the ``foreach`` forms as well for comparison).  The yardstick is the
attainable bandwidth of in-place STREAM-style kernels
(:func:`lrtheory.bench_stream.stream_bandwidth`) on buffers as long as the
model, measured at 1 and 2 threads just before the optimisers, and the same
three kernels timed in the optimisers' own rounds; a tensor copy (the old,
write-allocating yardstick) and a float32 matrix product (the compute
yardstick) are timed too.  After ``warmup`` untimed steps each, the
contestants take turns: ``repeats`` rounds of one timed step each, the order
rotated every round.  Times are summarised by their best (the least
disturbed step on a shared machine: the targets use it), median and
quartiles.  No ``torch.compile`` is involved, so no compilation time can leak
into a row.  The optimisers share the parameter tensors, each keeping its
own state.  It prints a table and writes ``benchmarks/results-<device>.json``,
which the book's appendix renders.

The memory-traffic model (:func:`traffic_bytes_per_param`) counts the
compulsory bytes a step moves per parameter: read the parameter and its
gradient, write the parameter, read and write each parameter-sized state
buffer, plus the extra reads of a step that needs a reduction (a norm, an
inner product) before it can update anything.  Dividing that traffic by the
best step time gives the step's effective bandwidth, reported as a fraction
of the attainable bandwidth at the same thread count.
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ._validation import check_bool, check_choice, check_int, check_str
from .bench_results import (
    COUNTERPARTS,
    SCHEMA,
    TARGETS,
    evaluate_targets,
    parse_size,
    size_label,
    find_results,
    format_table,
    load_results,
    results_path,
    validate_results,
    write_json,
)
from .bench_model import EXTRA_READS, model_shapes, traffic_bytes_per_param
from .bench_stream import STREAM_KERNELS, check_threads, stream_bandwidth, stream_kernel, time_calls

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "SCHEMA",
    "TORCH_OPTIMIZERS",
    "COUNTERPARTS",
    "EXTRA_READS",
    "BENCH_KWARGS",
    "parse_size",
    "size_label",
    "model_shapes",
    "traffic_bytes_per_param",
    "time_calls",
    "run_benchmark",
    "evaluate_targets",
    "format_table",
    "validate_results",
    "results_path",
    "find_results",
    "load_results",
    "main",
]

TORCH_OPTIMIZERS: tuple[str, ...] = (
    "torch.SGD", "torch.SGD(fused)", "torch.RMSprop", "torch.Adagrad", "torch.Adagrad(fused)",
    "torch.Adam", "torch.Adam(fused)", "torch.AdamW(fused)",
)
"""The ``torch.optim`` baselines: a plain name runs with ``foreach=True``, ``(fused)`` with
``fused=True`` (one kernel per step).  torch 2.13 has fused CPU and CUDA kernels for SGD,
Adagrad, Adam and AdamW; RMSprop has none, so its ``foreach`` form is its fastest path."""

BENCH_KWARGS: dict[str, dict[str, Any]] = {}
"""Construction arguments per optimiser name (default: ``lr=1e-3``)."""

def _make_optimizer(name: str, params: list) -> tuple[str, Any]:
    import torch

    if name in TORCH_OPTIMIZERS:
        base, fused = name.split(".", 1)[1].removesuffix("(fused)"), name.endswith("(fused)")
        cls = getattr(torch.optim, base)
        return "torch", cls(params, lr=1e-3, **({"fused": True} if fused else {"foreach": True}))
    from .optim import REGISTRY

    if name not in REGISTRY:
        raise ValueError(f"optimizers: unknown optimizer {name!r} (registry: {sorted(REGISTRY)})")
    kwargs = {"lr": 1e-3, **BENCH_KWARGS.get(name, {}), "foreach": True}
    return "lrtheory", REGISTRY[name](params, **kwargs)


def _stats(ts: list[float]) -> dict[str, float]:
    q = statistics.quantiles(ts, n=4, method="inclusive") if len(ts) > 1 else [ts[0]] * 3
    return {"median_s": statistics.median(ts), "q1_s": q[0], "q3_s": q[2], "min_s": min(ts)}


def _bench_size(names: Sequence[str], shapes: Sequence[tuple[int, ...]], device: "torch.device", *,
                warmup: int, repeats: int, seed: int, nonfinite: str | None,
                threads: Sequence[int]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Time the yardsticks and every optimiser at one size, in interleaved rounds; return (size row, rows)."""
    import torch

    from .experiments import progress

    gen = torch.Generator(device="cpu").manual_seed(seed)
    params = []
    for shape in shapes:
        p = (torch.rand(shape, generator=gen) + 0.5).to(device).requires_grad_(True)
        p.grad = (torch.randn(shape, generator=gen) * 1e-3).to(device)
        params.append(p)
    total = sum(p.numel() for p in params)
    stream = stream_bandwidth(total, device, threads=threads, repeats=repeats, warmup=max(warmup, 1))
    src = torch.ones(total, dtype=torch.float32, device=device)
    dst = torch.full_like(src, 0.5)
    optimizers = {name: _make_optimizer(name, params) for name in names}  # the parameters are shared
    for name, (source, opt) in optimizers.items():
        if nonfinite is not None and source == "lrtheory":
            for group in opt.param_groups:
                group["nonfinite"] = nonfinite
    n_mm = 4096 if device.type == "cuda" else min(1024, max(64, int(total**0.5)))  # small for smoke runs
    mat = torch.randn(n_mm, n_mm, generator=gen).to(device)
    tasks: dict[str, Callable[[], Any]] = {"(copy)": lambda: dst.copy_(src), "(matmul)": lambda: mat @ mat}
    tasks.update({f"({k})": stream_kernel(k, src, dst) for k in STREAM_KERNELS})  # the yardstick, in the rounds
    tasks.update({name: opt.step for name, (_, opt) in optimizers.items()})
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for fn in tasks.values():
        for _ in range(max(warmup, 1)):
            fn()
    times: dict[str, list[float]] = {key: [] for key in tasks}
    keys = list(tasks)
    for r in progress(range(repeats), desc=f"{size_label(total)} params"):
        for key in keys[r % len(keys):] + keys[: r % len(keys)]:  # rotate the order every round
            sync()
            start = time.perf_counter()
            tasks[key]()
            sync()
            times[key].append(time.perf_counter() - start)

    run_threads = "gpu" if device.type == "cuda" else str(torch.get_num_threads())
    in_rounds = {f"{k}_gbs": b * total / min(times[f"({k})"]) / 1e9 for k, b in STREAM_KERNELS.items()}
    in_rounds["best_gbs"] = max(in_rounds.values())
    # what the run's threads can attain: at least what fewer threads were seen to attain
    usable = [v["best_gbs"] for t, v in stream.items() if t == run_threads or (t.isdigit() and run_threads.isdigit()
                                                                            and int(t) <= int(run_threads))]
    attainable = max([in_rounds["best_gbs"], *usable])
    copy_s = statistics.median(times["(copy)"])
    size_row = {"label": "", "num_params": total, "num_tensors": len(shapes), "copy_seconds": copy_s,
                "copy_bandwidth_gbs": 2 * total * src.element_size() / copy_s / 1e9,
                "matmul_gflops": 2 * n_mm**3 / statistics.median(times["(matmul)"]) / 1e9,
                "stream": stream, "in_rounds": in_rounds, "run_threads": run_threads,
                "attainable_gbs": attainable}
    rows = [{"optimizer": name, "source": source, **_stats(times[name]),
             "bytes_per_param": traffic_bytes_per_param(opt, name)} for name, (source, opt) in optimizers.items()]
    del optimizers, tasks, params, src, dst, mat
    gc.collect()
    return size_row, rows


def _names(name: str, value: Any) -> Sequence[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list or tuple, got {type(value).__name__}")
    return value


def _size(name: str, value: Any) -> int:
    try:
        return parse_size(value)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{name}: {exc}") from None


def _largest_cache() -> int | None:
    """Size in bytes of the largest CPU cache (Linux sysfs), ``None`` where it cannot be read."""
    from pathlib import Path

    sizes = []
    for f in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*/size"):
        text = f.read_text().strip().upper()
        scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:], 1)
        digits = text[:-1] if text[-1:] in "KMG" else text
        if digits.isdigit():
            sizes.append(int(digits) * scale)
    return max(sizes) if sizes else None


def _add_derived(rows: list[dict[str, Any]], size_rows: list[dict[str, Any]]) -> None:
    """Effective bandwidths, fractions of the yardsticks, and the ratio to the counterpart's fastest path."""
    by_label = {s["label"]: s for s in size_rows}
    for row in rows:
        size = by_label[row["size"]]
        row["effective_bandwidth_gbs"] = row["bytes_per_param"] * row["num_params"] / row["min_s"] / 1e9
        row["fraction_of_attainable"] = row["effective_bandwidth_gbs"] / size["attainable_gbs"]
        row["fraction_of_copy"] = row["effective_bandwidth_gbs"] / size["copy_bandwidth_gbs"]
    for row in rows:
        counterpart = COUNTERPARTS.get(row["optimizer"], "torch.SGD") if row["source"] == "lrtheory" else None
        paths = [r for r in rows if counterpart is not None and r["size"] == row["size"]
                 and r["optimizer"].removesuffix("(fused)") == counterpart]
        fastest = min(paths, key=lambda r: r["min_s"]) if paths else None
        row["counterpart"] = counterpart
        row["counterpart_fastest"] = fastest["optimizer"] if fastest else None
        row["ratio_to_counterpart"] = row["min_s"] / fastest["min_s"] if fastest else None
        row["coincides"] = bool(fastest and fastest["bytes_per_param"] == row["bytes_per_param"])


def run_benchmark(sizes: Sequence[int | str] = ("1M", "10M", "50M"), optimizers: Sequence[str] | None = None, *,
                  repeats: int = 10, warmup: int = 3, device: "str | torch.device | None" = None, seed: int = 0,
                  preliminary: bool = False, note: str = "", nonfinite: str | None = None,
                  threads: Sequence[int] = (1, 2)) -> dict[str, Any]:
    """Time every optimiser at every size; return the results as a JSON-ready dict.

    Parameters
    ----------
    sizes : sequence of int or str
        Model sizes (``"1M"``, ``20000`` ...), see :func:`model_shapes`.
    optimizers : sequence of str, optional
        Registry names and/or :data:`TORCH_OPTIMIZERS`; default: all of both.
    repeats, warmup : int
        Timed and untimed steps per optimiser and size.
    device : str, torch.device or None
        Default: CUDA when available, else CPU.
    seed : int
        Seed of the random parameters and gradients.
    preliminary : bool
        Mark the numbers as preliminary (e.g. measured on a busy machine).
    note : str
        Free text stored in the metadata.
    nonfinite : {"skip", "raise", "ignore"} or None
        Non-finite-gradient policy forced on the book's optimisers (``None``:
        their default).
    threads : sequence of int
        CPU thread counts at which the yardstick is measured (the optimisers
        run at the current ``torch.get_num_threads()``).

    Returns
    -------
    dict
        ``{"schema", "metadata", "sizes", "results", "targets"}``; see
        :func:`validate_results` for the fields.

    Notes
    -----
    A row's ``fraction_of_attainable`` is :math:`B N / t_{\\min}` divided by
    the attainable bandwidth at the run's thread count (the best in-place
    kernel, :mod:`lrtheory.bench_stream`); its ``ratio_to_counterpart`` is
    its best step time over the best of the counterpart's paths (foreach or
    fused, whichever is faster here), and ``coincides`` says whether the two
    move the same compulsory traffic.  The load average before and after is
    recorded in the metadata.  Appendix "What an optimizer step costs".
    """
    import os

    import torch

    from .experiments import get_device
    from .optim import REGISTRY

    sizes = [_size("sizes", s) for s in _names("sizes", sizes)]
    names = list(_names("optimizers", optimizers)) if optimizers is not None else [*sorted(REGISTRY), *TORCH_OPTIMIZERS]
    for name in names:
        if name not in TORCH_OPTIMIZERS and name not in REGISTRY:
            raise ValueError(f"optimizers: unknown optimizer {name!r}")
    if nonfinite is not None:
        check_choice("nonfinite", nonfinite, ("skip", "raise", "ignore"))
    repeats, warmup = check_int("repeats", repeats, low=1), check_int("warmup", warmup, low=0)
    seed = check_int("seed", seed, low=0)
    preliminary = check_bool("preliminary", preliminary)
    note = check_str("note", note)
    threads = check_threads(threads)
    dev = get_device(device)
    load_before = list(os.getloadavg())
    size_rows, rows = [], []
    for num_params in sizes:
        shapes = model_shapes(num_params)
        size_row, size_results = _bench_size(names, shapes, dev, warmup=warmup, repeats=repeats, seed=seed,
                                             nonfinite=nonfinite, threads=threads)
        label = size_row["label"] = size_label(num_params)
        size_rows.append(size_row)
        for row in size_results:
            row.update(size=label, num_params=size_row["num_params"])
            rows.append(row)
    _add_derived(rows, size_rows)
    device_name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else (platform.processor() or platform.machine())
    metadata = {
        "device": dev.type, "device_name": device_name, "torch_version": torch.__version__,
        "python_version": platform.python_version(), "num_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count() or 0, "stream_threads": threads, "largest_cache_bytes": _largest_cache(),
        "load_average_before": load_before, "load_average_after": list(os.getloadavg()),
        "dtype": "float32", "warmup": warmup, "repeats": repeats, "seed": seed,
        "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "preliminary": bool(preliminary), "note": note, "nonfinite": nonfinite,
    }
    result = {"schema": SCHEMA, "metadata": metadata, "sizes": size_rows, "results": rows}
    result["targets"] = evaluate_targets(result)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (``python -m lrtheory.bench --help``)."""
    parser = argparse.ArgumentParser(prog="python -m lrtheory.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["1M", "10M", "50M"], help="model sizes, e.g. 1M 10M 50M")
    parser.add_argument("--optimizers", nargs="+", default=None, help="registry names and/or torch.SGD torch.RMSprop ...")
    parser.add_argument("--repeats", type=int, default=10, help="timed steps per optimizer and size")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--stream-threads", type=int, nargs="+", default=[1, 2],
                        help="thread counts of the in-place yardstick (default: 1 2)")
    parser.add_argument("--nonfinite", choices=("skip", "raise", "ignore"), default=None,
                        help="non-finite gradient policy forced on the book's optimizers")
    parser.add_argument("--preliminary", action="store_true", help="mark the numbers preliminary (busy machine)")
    parser.add_argument("--note", default="", help="free text for the metadata")
    parser.add_argument("--out", default="benchmarks", help="folder of results-<device>.json ('-' to skip writing)")
    args = parser.parse_args(argv)
    if args.threads is not None:
        import torch

        torch.set_num_threads(check_int("threads", args.threads, low=1))
    result = run_benchmark(args.sizes, args.optimizers, repeats=args.repeats, warmup=args.warmup,
                           device=args.device, preliminary=args.preliminary, note=args.note, nonfinite=args.nonfinite,
                           threads=args.stream_threads)
    result["metadata"]["command"] = "python -m lrtheory.bench " + " ".join(argv if argv is not None else sys.argv[1:])
    print(format_table(result))
    for t in result["targets"]:
        if t["met"] is not None:
            print(f"target {t['kind']:<8} {t['optimizer']:<18} {t['size']:>5}: {t['value']:.3f} "
                  f"({'<=' if t['kind'] == 'ratio' else '>='} {t['threshold']}) {'met' if t['met'] else 'MISSED'}")
    if args.out != "-":
        write_json(results_path(result["metadata"]["device"], args.out), result)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
