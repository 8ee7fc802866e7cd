"""Benchmark results: their JSON layout, the issue's targets, a text table, files.

The companion of :mod:`lrtheory.bench`: everything needed to read, check and
show a results file without running (or importing torch for) the benchmark.
The book's appendix uses :func:`find_results`, :func:`load_results` and
:func:`evaluate_targets`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ._validation import check_choice, check_int

__all__ = [
    "SCHEMA",
    "parse_size",
    "size_label",
    "COUNTERPARTS",
    "TARGETS",
    "evaluate_targets",
    "format_table",
    "validate_results",
    "results_path",
    "find_results",
    "load_results",
]

SCHEMA = "lrtheory.bench/2"
"""Identifier of the JSON layout written by :func:`run_benchmark` (2: the in-place yardstick and
the fused baselines; 1, the copy yardstick, is no longer read)."""

COUNTERPARTS: dict[str, str] = {
    "SignDescent": "torch.SGD",
    "RMSpropScalar": "torch.RMSprop",
    "RMSpropCoordinate": "torch.RMSprop",
    "AdaGradNorm": "torch.Adagrad",
    "EGD": "torch.SGD",
    "NormalizedEGD": "torch.SGD",
    "EGStepSize": "torch.Adam",
    "HypergradientSGD": "torch.SGD",
    "EGGainScale": "torch.SGD",
}
"""The nearest ``torch.optim`` algorithm of each book optimiser (default ``torch.SGD``); the
benchmark compares with the fastest of its measured paths (``foreach`` or ``fused``)."""

TARGETS: dict[str, Any] = {"min_params": 10_000_000, "fraction": 0.75, "ratio": 1.0}
"""The issue's targets, at every size of at least ``min_params`` parameters: every book
optimiser at ``fraction`` or more of the attainable bandwidth for its compulsory traffic, and
its best step time at most ``ratio`` times the fastest path of its counterpart wherever the two
move the same compulsory traffic (``coincides``)."""

_SUFFIX = {"k": 10**3, "m": 10**6, "g": 10**9}


def parse_size(text: str | int) -> int:
    """Parse a parameter count such as ``"1M"``, ``"50k"`` or ``"2000"``.

    Parameters
    ----------
    text : str or int
        A positive integer, optionally with suffix ``k``, ``M`` or ``G``.

    Returns
    -------
    int
    """
    if isinstance(text, int) and not isinstance(text, bool):
        return check_int("text", text, low=1)
    if not isinstance(text, str):
        raise TypeError(f"text (a size) must be a str or int, got {type(text).__name__}")
    raw = text.strip().lower().replace("_", "")
    scale = _SUFFIX.get(raw[-1:], 1)
    digits = raw[:-1] if raw[-1:] in _SUFFIX else raw
    try:
        value = float(digits) * scale
    except ValueError:
        raise ValueError(f"text (a size) must look like 1M, 50k or 2000, got {text!r}") from None
    if value < 1 or value != int(value):
        raise ValueError(f"text (a size) must be a positive whole number, got {text!r}")
    return int(value)


def size_label(num_params: int) -> str:
    """Short label of a size: ``1000000 -> "1M"``, ``20000 -> "20k"``."""
    num_params = check_int("num_params", num_params, low=1)
    for suffix, scale in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if num_params >= scale and num_params % (scale // 10) == 0:
            return f"{num_params / scale:g}{suffix}"
    return str(num_params)


def evaluate_targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Check the issue's targets (:data:`TARGETS`) against the measured rows.

    Parameters
    ----------
    result : dict
        A benchmark result (:func:`validate_results` layout).

    Returns
    -------
    list of dict
        One ``{"kind", "optimizer", "size", "counterpart", "threshold", "value",
        "met"}`` per book optimiser and size of at least ``TARGETS["min_params"]``
        parameters: kind ``"fraction"`` (of the attainable bandwidth) always,
        kind ``"ratio"`` (best step time over the counterpart's fastest path)
        where the work coincides.
    """
    _check_layout(result)
    out = []
    for size in result["sizes"]:
        if size["num_params"] < 0.9 * TARGETS["min_params"]:
            continue
        for r in result["results"]:
            if r["size"] != size["label"] or r["source"] != "lrtheory":
                continue
            value = r["fraction_of_attainable"]
            out.append({"kind": "fraction", "optimizer": r["optimizer"], "size": size["label"], "counterpart": None,
                        "threshold": TARGETS["fraction"], "value": value, "met": bool(value >= TARGETS["fraction"])})
            if r.get("coincides") and r.get("ratio_to_counterpart") is not None:
                value = r["ratio_to_counterpart"]
                out.append({"kind": "ratio", "optimizer": r["optimizer"], "size": size["label"],
                            "counterpart": r["counterpart_fastest"], "threshold": TARGETS["ratio"], "value": value,
                            "met": bool(value <= TARGETS["ratio"])})
    return out


def _check_layout(result: Any) -> None:
    if not (isinstance(result, dict) and isinstance(result.get("sizes"), list)
            and isinstance(result.get("results"), list)):
        raise TypeError(f"result must be a benchmark result (a dict with 'sizes' and 'results' lists), "
                        f"got {type(result).__name__}")


def _check_path(name: str, value: Any) -> Path:
    if not isinstance(value, (str, os.PathLike)) or isinstance(value, bytes):
        raise TypeError(f"{name} must be a str or path, got {type(value).__name__}")
    return Path(value)


def format_table(result: dict[str, Any]) -> str:
    """A plain-text table of the results (one line per optimiser and size, best-of-N times)."""
    _check_layout(result)
    head = (f"{'size':>6} {'optimizer':<20} {'best ms':>9} {'median':>9} {'B/param':>8} {'GB/s':>7} "
            f"{'of attain':>9} {'vs fastest torch':>24}")
    lines = [head, "-" * len(head)]
    for size in result["sizes"]:
        yard = ", ".join(f"{t} thr {v['best_gbs']:.1f} GB/s ({v['best_kernel']})" for t, v in size["stream"].items())
        lines.append(f"{size['label']:>6} yardstick: in-place {yard}; in rounds {size['in_rounds']['best_gbs']:.1f}; "
                     f"attainable {size['attainable_gbs']:.1f} GB/s; copy {size['copy_bandwidth_gbs']:.1f} GB/s")
        for r in (r for r in result["results"] if r["size"] == size["label"]):
            ratio = "" if r["ratio_to_counterpart"] is None else (
                f"{r['ratio_to_counterpart']:.2f}x {r['counterpart_fastest']}{'' if r['coincides'] else ' *'}")
            lines.append(f"{'':>6} {r['optimizer']:<20} {1e3 * r['min_s']:9.3f} {1e3 * r['median_s']:9.3f} "
                         f"{r['bytes_per_param']:8.1f} {r['effective_bandwidth_gbs']:7.2f} "
                         f"{r['fraction_of_attainable']:9.0%} {ratio:>24}")
    lines.append("* the counterpart moves different compulsory traffic: no ratio target")
    return "\n".join(lines)


_FIELDS = {
    "metadata": {"device": str, "device_name": str, "torch_version": str, "num_threads": int, "dtype": str,
                 "warmup": int, "repeats": int, "seed": int, "created_utc": str, "preliminary": bool, "note": str,
                 "cpu_count": int, "stream_threads": list, "load_average_before": list,
                 "load_average_after": list},
    "sizes": {"label": str, "num_params": int, "num_tensors": int, "copy_seconds": float, "copy_bandwidth_gbs": float,
              "matmul_gflops": float, "stream": dict, "in_rounds": dict, "run_threads": str,
              "attainable_gbs": float},
    "results": {"size": str, "num_params": int, "optimizer": str, "source": str, "median_s": float, "q1_s": float,
                "q3_s": float, "min_s": float, "bytes_per_param": float, "effective_bandwidth_gbs": float,
                "fraction_of_attainable": float, "fraction_of_copy": float, "coincides": bool},
    "targets": {"kind": str, "optimizer": str, "size": str, "threshold": float, "met": (bool, type(None))},
}


def validate_results(result: Any) -> dict[str, Any]:
    """Check that ``result`` has the layout :func:`run_benchmark` writes; return it.

    Raises
    ------
    ValueError
        Naming the first missing or ill-typed field.
    """
    if not isinstance(result, dict) or result.get("schema") != SCHEMA:
        raise ValueError(f"result: not a benchmark result of schema {SCHEMA!r}")
    for section, fields in _FIELDS.items():
        entries = result.get(section)
        entries = [entries] if section == "metadata" else entries
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ValueError(f"result[{section!r}] is missing or malformed")
        for i, entry in enumerate(entries):
            for key, kind in fields.items():
                ok = isinstance(entry.get(key), kind) or (kind is float and isinstance(entry.get(key), int))
                if key not in entry or not ok or isinstance(entry.get(key), bool) and kind in (int, float):
                    raise ValueError(f"result[{section!r}][{i}][{key!r}] is missing or not {kind}")
    for i, size in enumerate(result["sizes"]):
        for t, entry in [*size["stream"].items(), ("in rounds", size["in_rounds"])]:
            if not (isinstance(entry, dict) and isinstance(entry.get("best_gbs"), float) and entry["best_gbs"] > 0):
                raise ValueError(f"result['sizes'][{i}]['stream'][{t!r}] (or in_rounds) lacks a positive best_gbs")
    labels = {s["label"] for s in result["sizes"]}
    if any(r["size"] not in labels for r in result["results"]):
        raise ValueError("result['results'] names a size that is not in result['sizes']")
    return result


def results_path(device: str, directory: str | Path = "benchmarks") -> Path:
    """``<directory>/results-<device>.json``."""
    check_choice("device", device, ("cpu", "cuda", "mps"))
    return _check_path("directory", directory) / f"results-{device}.json"


def find_results(device: str = "cpu", start: str | Path | None = None) -> Path | None:
    """Find ``benchmarks/results-<device>.json`` in ``start`` (default: cwd) or a parent, else next to the package."""
    check_choice("device", device, ("cpu", "cuda", "mps"))
    here = (Path.cwd() if start is None else _check_path("start", start)).resolve()
    for folder in (here, *here.parents, Path(__file__).resolve().parents[1]):
        candidate = results_path(device, folder / "benchmarks")
        if candidate.is_file():
            return candidate
    return None


def write_json(path: Path, result: dict[str, Any]) -> None:
    """Write ``result`` as indented JSON to ``path`` (creating its folder) and say so on stdout."""
    path = _check_path("path", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


def load_results(path: str | Path) -> dict[str, Any]:
    """Read and validate a results file written by ``python -m lrtheory.bench``."""
    return validate_results(json.loads(_check_path("path", path).read_text(encoding="utf-8")))
