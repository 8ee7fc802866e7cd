"""Step-time benchmark of the book's optimisers against ``torch.optim``.

Run it as a script::

    python -m lrtheory.bench                         # 1M, 10M, 50M parameters, CPU (CUDA if present)
    python -m lrtheory.bench --sizes 1M 10M --repeats 15
    python -m lrtheory.bench --sizes 20k --optimizers torch.SGD --repeats 2 --out /tmp

For each model size it builds a transformer-shaped list of float32 tensors
(:func:`model_shapes`) with a fixed random gradient each, and one optimiser
per name over those same tensors: every optimiser of
:data:`lrtheory.optim.REGISTRY` (multi-tensor path) and ``torch.optim``
SGD, RMSprop, Adagrad and Adam with ``foreach=True``.  A plain tensor copy
of the same number of elements, the bandwidth yardstick, is one more
contestant, and so is a float32 matrix product (up to 1024 x 1024 on CPU,
4096 x 4096 on CUDA), the compute yardstick.  After ``warmup`` untimed steps
each, the contestants take
turns: ``repeats`` rounds of one timed step each, the order rotated every
round, so that a busy machine slows every contestant alike and the ratios
stay meaningful.  Times are summarised by their median and quartiles.  (The
optimisers share the parameter tensors, each keeping its own state: the
values do not matter for the timing, and the memory stays that of one
model.)  It prints a table and writes ``benchmarks/results-<device>.json``,
which the book's appendix renders.

The memory-traffic model (:func:`traffic_bytes_per_param`) counts the
bytes a step must move per parameter: read the parameter and its gradient,
write the parameter, read and write each parameter-sized state buffer, plus
the extra reads of a step that needs a reduction (a norm, an inner product)
before it can update anything.  Dividing that traffic by the step time gives the
step's effective bandwidth, reported as a fraction of the copy bandwidth.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ._validation import check_bool, check_callable, check_choice, check_instance, check_int, check_str
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
)

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
    "copy_bandwidth",
    "run_benchmark",
    "evaluate_targets",
    "format_table",
    "validate_results",
    "results_path",
    "find_results",
    "load_results",
    "main",
]

TORCH_OPTIMIZERS: tuple[str, ...] = ("torch.SGD", "torch.RMSprop", "torch.Adagrad", "torch.Adam", "torch.Adam(fused)")
"""The ``torch.optim`` baselines, run with ``foreach=True``; ``torch.Adam(fused)`` is Adam with
``fused=True`` (one kernel per step), the reference for what fusion buys."""

EXTRA_READS: dict[str, int] = {"RMSpropScalar": 1, "AdaGradNorm": 1, "HypergradientSGD": 1, "NormalizedEGD": 2}
"""Extra parameter-sized reads of a step that needs a reduction before it can update anything:
the group norm of g (RMSpropScalar, AdaGradNorm: g read twice), the group inner product of
g with the previous g (HypergradientSGD: previous g read twice), the per-tensor sum of
θ exp(-lr g) (NormalizedEGD: θ and g read twice)."""

BENCH_KWARGS: dict[str, dict[str, Any]] = {}
"""Construction arguments per optimiser name (default: ``lr=1e-3``)."""

def model_shapes(num_params: int) -> list[tuple[int, ...]]:
    """Tensor shapes of a small transformer with about ``num_params`` parameters.

    Parameters
    ----------
    num_params : int
        Target parameter count (at least 1000).

    Returns
    -------
    list of tuple of int
        A token embedding ``(V, d)``, then per block: two layer norms
        (``(d,)`` weight and bias each), the attention input ``(3d, d)`` +
        ``(3d,)`` and output ``(d, d)`` + ``(d,)`` projections, and the MLP
        ``(4d, d)`` + ``(4d,)``, ``(d, 4d)`` + ``(d,)``; then a final layer
        norm.  The total is within ``d`` of ``num_params``.

    Notes
    -----
    The width ``d`` is the largest of a ladder of usual widths with
    ``12 d^2 <= num_params / 4``; the number of blocks ``L`` fills about 80%
    of the budget (a block has ``12 d^2 + 13 d`` parameters) and the
    embedding's vocabulary ``V`` the rest.  A mix of large matrices and many
    small vectors is what an optimiser meets in practice: the small tensors
    test the per-tensor overhead, the large ones the bandwidth.
    """
    num_params = check_int("num_params", num_params, low=1000)
    ladder = (4, 8, 16, 32, 64, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 4096)
    d = max([w for w in ladder if 12 * w * w <= num_params / 4] or [ladder[0]])
    block = 12 * d * d + 13 * d
    num_blocks = max(1, int(0.8 * num_params) // block)
    vocab = max(1, round((num_params - num_blocks * block - 2 * d) / d))
    shapes: list[tuple[int, ...]] = [(vocab, d)]
    for _ in range(num_blocks):
        shapes += [(d,), (d,), (3 * d, d), (3 * d,), (d, d), (d,)]
        shapes += [(d,), (d,), (4 * d, d), (4 * d,), (d, 4 * d), (d,)]
    shapes += [(d,), (d,)]
    return shapes


def traffic_bytes_per_param(optimizer: "torch.optim.Optimizer", name: str = "") -> float:
    """Bytes a step must read and write per parameter (the compulsory-traffic model).

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        An optimiser that has taken at least one step (its state exists).
    name : str, optional
        Its registry name, to look up :data:`EXTRA_READS`.

    Returns
    -------
    float
        Total bytes over all parameters divided by the number of parameters.

    Notes
    -----
    For a parameter of ``n`` entries of ``s`` bytes each, with ``k`` state
    buffers of ``n`` entries and ``r`` extra reads (:data:`EXTRA_READS`),

    .. math:: B = s\\,(3 + 2k + r)

    bytes per entry: read θ and g, write θ (3), read and write each buffer
    (2k).  Scalars (step counters, a group-wide accumulator) are negligible.
    A fused kernel moves exactly this; an unfused multi-tensor step makes
    several passes and moves more, so the effective bandwidth it reaches
    (B / step time) is a lower bound on the bandwidth it really uses.
    Bytes are counted as STREAM counts them (no write-allocate traffic).
    """
    import torch

    check_instance("optimizer", optimizer, torch.optim.Optimizer)
    extra = EXTRA_READS.get(check_str("name", name), 0)
    total_bytes = 0
    total_params = 0
    for group in optimizer.param_groups:
        for p in group["params"]:
            n, s = p.numel(), p.element_size()
            buffers = sum(
                1
                for v in optimizer.state.get(p, {}).values()
                if hasattr(v, "numel") and v.is_floating_point() and v.numel() == n and n > 1
            )
            total_bytes += n * s * (3 + 2 * buffers + extra)
            total_params += n
    if total_params == 0:
        raise ValueError("optimizer has no parameters")
    return total_bytes / total_params


def time_calls(fn: Callable[[], Any], *, warmup: int, repeats: int, sync: Callable[[], None] = lambda: None) -> list[float]:
    """Seconds taken by each of ``repeats`` calls of ``fn`` after ``warmup`` untimed calls."""
    check_callable("fn", fn)
    check_callable("sync", sync)
    warmup = check_int("warmup", warmup, low=0)
    repeats = check_int("repeats", repeats, low=1)
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return times


def _sync_for(device: "torch.device") -> Callable[[], None]:
    import torch

    return torch.cuda.synchronize if device.type == "cuda" else (lambda: None)


def copy_bandwidth(num_params: int, device: "str | torch.device | None", *, warmup: int = 2, repeats: int = 10) -> tuple[float, float]:
    """Median seconds and bandwidth (GB/s) of copying a float32 tensor of ``num_params`` entries.

    The copy reads and writes ``4 num_params`` bytes each, so the bandwidth is
    ``8 num_params / t`` (10^9 bytes per GB).
    """
    import torch

    from .experiments import get_device

    num_params = check_int("num_params", num_params, low=1)
    device = get_device(device)
    src = torch.ones(num_params, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    times = time_calls(lambda: dst.copy_(src), warmup=warmup, repeats=repeats, sync=_sync_for(device))
    seconds = statistics.median(times)
    return seconds, 2 * src.numel() * src.element_size() / seconds / 1e9


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


def _bench_size(names: Sequence[str], shapes: Sequence[tuple[int, ...]], device: "torch.device", *,
                warmup: int, repeats: int, seed: int, nonfinite: str | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Time the copy and every optimiser at one size, in interleaved rounds; return (size row, rows)."""
    import torch

    from .experiments import progress

    gen = torch.Generator(device="cpu").manual_seed(seed)
    params = []
    for shape in shapes:
        p = (torch.rand(shape, generator=gen) + 0.5).to(device).requires_grad_(True)
        p.grad = (torch.randn(shape, generator=gen) * 1e-3).to(device)
        params.append(p)
    total = sum(p.numel() for p in params)
    src = torch.ones(total, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    optimizers = {name: _make_optimizer(name, params) for name in names}  # the parameters are shared
    for name, (source, opt) in optimizers.items():
        if nonfinite is not None and source == "lrtheory":
            for group in opt.param_groups:
                group["nonfinite"] = nonfinite
    n_mm = 4096 if device.type == "cuda" else min(1024, max(64, int(total**0.5)))  # small for smoke runs
    mat = torch.randn(n_mm, n_mm, generator=gen).to(device)
    tasks: dict[str, Callable[[], Any]] = {"(copy)": lambda: dst.copy_(src), "(matmul)": lambda: mat @ mat}
    tasks.update({name: opt.step for name, (_, opt) in optimizers.items()})
    sync = _sync_for(device)
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

    def stats(ts: list[float]) -> dict[str, float]:
        q = statistics.quantiles(ts, n=4, method="inclusive") if len(ts) > 1 else [ts[0]] * 3
        return {"median_s": statistics.median(ts), "q1_s": q[0], "q3_s": q[2], "min_s": min(ts)}

    copy_s = statistics.median(times["(copy)"])
    size_row = {"label": "", "num_params": total, "num_tensors": len(shapes), "copy_seconds": copy_s,
                "copy_bandwidth_gbs": 2 * total * src.element_size() / copy_s / 1e9,
                "matmul_gflops": 2 * n_mm**3 / statistics.median(times["(matmul)"]) / 1e9}
    rows = [{"optimizer": name, "source": source, **stats(times[name]),
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


def run_benchmark(sizes: Sequence[int | str] = ("1M", "10M", "50M"), optimizers: Sequence[str] | None = None, *,
                  repeats: int = 10, warmup: int = 3, device: "str | torch.device | None" = None, seed: int = 0,
                  preliminary: bool = False, note: str = "", nonfinite: str | None = None) -> dict[str, Any]:
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

    Returns
    -------
    dict
        ``{"schema", "metadata", "sizes", "results", "targets"}``; see
        :func:`validate_results` for the fields.
    """
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
    dev = get_device(device)
    size_rows, rows = [], []
    for num_params in sizes:
        shapes = model_shapes(num_params)
        size_row, size_results = _bench_size(names, shapes, dev, warmup=warmup, repeats=repeats, seed=seed,
                                             nonfinite=nonfinite)
        label = size_row["label"] = size_label(num_params)
        total, copy_gbs = size_row["num_params"], size_row["copy_bandwidth_gbs"]
        size_rows.append(size_row)
        for row in size_results:
            row.update(size=label, num_params=total)
            row["effective_bandwidth_gbs"] = row["bytes_per_param"] * total / row["median_s"] / 1e9
            row["fraction_of_copy"] = row["effective_bandwidth_gbs"] / copy_gbs
            rows.append(row)
    for row in rows:
        counterpart = COUNTERPARTS.get(row["optimizer"], "torch.SGD") if row["source"] == "lrtheory" else None
        base = [r for r in rows if r["optimizer"] == counterpart and r["size"] == row["size"]]
        row["counterpart"] = counterpart
        row["ratio_to_counterpart"] = row["median_s"] / base[0]["median_s"] if base else None
    device_name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else (platform.processor() or platform.machine())
    metadata = {
        "device": dev.type, "device_name": device_name, "torch_version": torch.__version__,
        "python_version": platform.python_version(), "num_threads": torch.get_num_threads(),
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
                           device=args.device, preliminary=args.preliminary, note=args.note, nonfinite=args.nonfinite)
    result["metadata"]["command"] = "python -m lrtheory.bench " + " ".join(argv if argv is not None else sys.argv[1:])
    print(format_table(result))
    for t in result["targets"]:
        if t["met"] is not None:
            print(f"target {t['kind']:<8} {t['optimizer']:<18} {t['size']:>5}: {t['value']:.3f} "
                  f"({'<=' if t['kind'] == 'ratio' else '>='} {t['threshold']}) {'met' if t['met'] else 'MISSED'}")
    if args.out != "-":
        path = results_path(result["metadata"]["device"], args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
