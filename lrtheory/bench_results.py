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

SCHEMA = "lrtheory.bench/1"
"""Identifier of the JSON layout written by :func:`run_benchmark`."""

COUNTERPARTS: dict[str, str] = {
    "SignDescent": "torch.SGD",
    "RMSpropScalar": "torch.RMSprop",
    "RMSpropCoordinate": "torch.RMSprop",
    "AdaGradNorm": "torch.Adagrad",
    "EGD": "torch.SGD",
    "NormalizedEGD": "torch.SGD",
    "EGStepSize": "torch.Adam",
    "HypergradientSGD": "torch.SGD",
}
"""The nearest ``torch.optim`` baseline of each book optimiser (default ``torch.SGD``)."""

TARGETS: tuple[dict[str, Any], ...] = (
    {"kind": "ratio", "optimizer": "RMSpropScalar", "threshold": 1.1},
    {"kind": "ratio", "optimizer": "RMSpropCoordinate", "threshold": 1.1},
    {"kind": "ratio", "optimizer": "EGStepSize", "threshold": 1.3},
    {"kind": "fraction", "min_params": 50_000_000, "threshold": 0.6},
)
"""The issue's targets: step time at most ``threshold`` x the counterpart's; at 50M
parameters, every book optimiser's effective bandwidth at least 60% of the copy bandwidth."""

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

    Returns one entry per target and size (``met`` is ``None`` where the rows
    needed were not measured).
    """
    _check_layout(result)
    out = []
    for target in TARGETS:
        if target["kind"] == "ratio":
            for size in result["sizes"]:
                rows = [r for r in result["results"] if r["optimizer"] == target["optimizer"] and r["size"] == size["label"]]
                value = rows[0]["ratio_to_counterpart"] if rows else None
                out.append({"kind": "ratio", "optimizer": target["optimizer"], "size": size["label"],
                            "counterpart": COUNTERPARTS[target["optimizer"]], "threshold": target["threshold"],
                            "value": value, "met": None if value is None else bool(value <= target["threshold"])})
        else:
            for size in result["sizes"]:
                if size["num_params"] < 0.9 * target["min_params"]:
                    continue
                for r in result["results"]:
                    if r["size"] == size["label"] and r["source"] == "lrtheory":
                        out.append({"kind": "fraction", "optimizer": r["optimizer"], "size": size["label"],
                                    "counterpart": None, "threshold": target["threshold"],
                                    "value": r["fraction_of_copy"], "met": bool(r["fraction_of_copy"] >= target["threshold"])})
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
    """A plain-text table of the results (one line per optimiser and size)."""
    _check_layout(result)
    head = f"{'size':>6} {'optimizer':<20} {'ms/step':>9} {'IQR ms':>8} {'B/param':>8} {'GB/s':>7} {'of copy':>8} {'vs torch':>9}"
    lines = [head, "-" * len(head)]
    for size in result["sizes"]:
        lines.append(f"{size['label']:>6} {'(tensor copy)':<20} {1e3 * size['copy_seconds']:9.3f} {'':>8} "
                     f"{8:8.0f} {size['copy_bandwidth_gbs']:7.2f} {1.0:8.0%} {'':>9}")
        for r in (r for r in result["results"] if r["size"] == size["label"]):
            ratio = "" if r["ratio_to_counterpart"] is None else f"{r['ratio_to_counterpart']:.2f}x"
            lines.append(f"{'':>6} {r['optimizer']:<20} {1e3 * r['median_s']:9.3f} {1e3 * (r['q3_s'] - r['q1_s']):8.3f} "
                         f"{r['bytes_per_param']:8.1f} {r['effective_bandwidth_gbs']:7.2f} {r['fraction_of_copy']:8.0%} {ratio:>9}")
    return "\n".join(lines)


_FIELDS = {
    "metadata": {"device": str, "device_name": str, "torch_version": str, "num_threads": int, "dtype": str,
                 "warmup": int, "repeats": int, "seed": int, "created_utc": str, "preliminary": bool, "note": str},
    "sizes": {"label": str, "num_params": int, "num_tensors": int, "copy_seconds": float, "copy_bandwidth_gbs": float,
              "matmul_gflops": float},
    "results": {"size": str, "num_params": int, "optimizer": str, "source": str, "median_s": float, "q1_s": float,
                "q3_s": float, "min_s": float, "bytes_per_param": float, "effective_bandwidth_gbs": float,
                "fraction_of_copy": float},
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


def load_results(path: str | Path) -> dict[str, Any]:
    """Read and validate a results file written by ``python -m lrtheory.bench``."""
    return validate_results(json.loads(_check_path("path", path).read_text(encoding="utf-8")))
