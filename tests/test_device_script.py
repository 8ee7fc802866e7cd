"""scripts/device_check.sh in its CPU dry run: it passes, skips the CUDA parts saying so, and writes its JSON."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from lrtheory.bench_results import load_results

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "device_check.sh"


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("bc") is None, reason="needs bash and bc")
@pytest.mark.skipif(torch.cuda.is_available(), reason="the dry run is the CPU mode; on a GPU run the script itself")
def test_dry_run_passes_skips_cuda_and_writes_json(tmp_path):
    env = {**os.environ, "DEVICE_CHECK_DRY": "1", "OUT": str(tmp_path), "PYTHON": sys.executable,
           "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.run(["bash", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads((tmp_path / "device-check.json").read_text(encoding="utf-8"))
    assert summary["schema"] == "lrtheory.device_check/1"
    assert summary["cuda_available"] is False and summary["gpu"] is None and summary["dry_run"] is True
    assert summary["torch_version"] == torch.__version__ and summary["failed"] == []
    steps = {s["name"]: s for s in summary["steps"]}
    assert list(steps) == ["probe", "cuda-tests", "bench", "chapters"]
    assert steps["probe"]["status"] == steps["bench"]["status"] == "passed"
    for name in ("cuda-tests", "chapters"):  # the CUDA parts are skipped, and the entry says why
        assert steps[name]["status"] == "skipped" and "no CUDA device" in steps[name]["detail"]
    assert "skipped" in proc.stdout and "no GPU: CUDA parts skipped" in proc.stdout
    assert all(s["seconds"] >= 0 for s in summary["steps"])
    assert summary["total_seconds"] >= sum(s["seconds"] for s in summary["steps"]) - 1.0
    assert summary["total_seconds"] <= elapsed + 1.0
    bench = load_results(tmp_path / "results-cpu.json")  # the benchmark's own file, validated
    assert {r["optimizer"] for r in bench["results"]} == {"SignDescent", "torch.SGD", "torch.SGD(fused)"}
    assert bench["metadata"]["stream_threads"] == [1]


def test_a_failing_step_fails_the_script(tmp_path):
    """The script reports a failed step in the JSON and exits non-zero (here: an interpreter that always fails)."""
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    env = {**os.environ, "DEVICE_CHECK_DRY": "1", "OUT": str(tmp_path / "out"), "PYTHON": sys.executable}
    # the probe runs with a broken interpreter only: point PYTHON at the fake for that call via a wrapper
    wrapper = tmp_path / "wrap"
    wrapper.write_text(f"#!/bin/sh\ncase \"$*\" in *torch.cuda.get_device_properties*) exec {fake} ;; esac\n"
                       f"exec {sys.executable} \"$@\"\n")
    wrapper.chmod(0o755)
    env.update(PYTHON=str(wrapper), PYTHONPATH=str(ROOT), DEVICE_CHECK_ONLY="probe")
    proc = subprocess.run(["bash", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    summary = json.loads((tmp_path / "out" / "device-check.json").read_text(encoding="utf-8"))
    assert summary["failed"] == ["probe"] and summary["cuda_available"] is False  # no probe: treated as no GPU
    steps = {s["name"]: s for s in summary["steps"]}
    assert "exit status 3" in steps["probe"]["detail"]
    assert steps["bench"]["status"] == "skipped" and "not selected" in steps["bench"]["detail"]
