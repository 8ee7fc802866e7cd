#!/usr/bin/env bash
# One short run of everything that can use a CUDA GPU, with results and timings as JSON.
#
#   scripts/device_check.sh                      # on a machine with one CUDA GPU: < 8 minutes
#   DEVICE_CHECK_DRY=1 scripts/device_check.sh   # CPU dry run: tiny sizes, seconds (the test-suite runs this)
#   DEVICE_CHECK_ONLY="probe bench" scripts/device_check.sh   # only these steps (the others: "not selected")
#
# Output folder: $OUT if set, else ./device-results.  It holds device-check.json (one entry per step:
# status passed / failed / skipped / timeout, seconds, and what was skipped and why), the benchmark's
# results-<device>.json, and one log per step.  Installs nothing beyond the project's own setup
# (`make venv`, only when .venv is missing; $PYTHON overrides the interpreter).  On a machine
# without CUDA every CUDA step is skipped and says so, and the script still exits 0 unless a step
# that did run failed.
#
# Steps (GPU run):
#   1. probe        torch version, CUDA device name, memory
#   2. cuda-tests   tests/test_bench_device.py (every optimizer's loop and foreach paths on the GPU
#                   against the CPU float64 loop; both branches of foreach_sub_scaled_) and the tests
#                   of the other suites whose id names cuda
#   3. bench        python -m lrtheory.bench at 10M, 50M, 200M parameters against the fused torch
#                   baselines (torch.SGD/Adagrad/Adam/AdamW with fused=True on the GPU)
#   4. chapters     each chapter through nbval in LRTHEORY_MODE=full, each with an equal share of
#                   the time left before the budget (DEVICE_CHECK_BUDGET, default 470 s after the
#                   start) and at most CHAPTER_TIMEOUT seconds (default 120); the stated subset is
#                   whatever finishes in that time: a chapter that runs out is recorded as "timeout"
#                   (with its limit), not as a failure.  The step limits (30 + 90 + 45 + 120 s, then
#                   the chapters' shares) keep the whole run under 8 minutes.
set -u

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${OUT:-$ROOT/device-results}"
DRY="${DEVICE_CHECK_DRY:-0}"
CHAPTER_TIMEOUT="${CHAPTER_TIMEOUT:-120}"
BUDGET="${DEVICE_CHECK_BUDGET:-470}"
mkdir -p "$OUT"
STEPS="$OUT/steps.jsonl"
: > "$STEPS"
START_ALL=$(date +%s.%N)

if [ -n "${PYTHON:-}" ]; then
    PY="$PYTHON"
elif [ -x "$ROOT/.venv/bin/python" ]; then
    PY="$ROOT/.venv/bin/python"
else
    echo "device_check: no .venv; running the project's own setup (make venv)"
    make venv >"$OUT/make-venv.log" 2>&1 || { echo "device_check: make venv failed (see $OUT/make-venv.log)"; exit 1; }
    PY="$ROOT/.venv/bin/python"
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

record() {  # name status seconds detail
    "$PY" -c 'import json, sys; print(json.dumps({"name": sys.argv[1], "status": sys.argv[2],
        "seconds": round(float(sys.argv[3]), 3), "detail": sys.argv[4]}))' "$1" "$2" "$3" "$4" >> "$STEPS"
    printf 'device_check: %-22s %-8s %7.1f s  %s\n' "$1" "$2" "$3" "$4"
}

selected() {  # step name (a chapter step counts as "chapters")
    [ -z "${DEVICE_CHECK_ONLY:-}" ] && return 0
    case " $DEVICE_CHECK_ONLY " in *" $1 "*|*" ${1%%-*}s "*) return 0 ;; esac
    return 1
}

run_step() {  # name timeout_seconds detail command...
    local name="$1" limit="$2" detail="$3"; shift 3
    local t0 t1 rc status
    if ! selected "$name"; then record "$name" skipped 0 "not selected (DEVICE_CHECK_ONLY)"; return; fi
    t0=$(date +%s.%N)
    timeout "$limit" "$@" >"$OUT/$name.log" 2>&1
    rc=$?
    t1=$(date +%s.%N)
    case $rc in
        0) status=passed ;;
        124) status=timeout; detail="$detail; stopped after $limit s" ;;
        *) status=failed; detail="$detail; exit status $rc, see $name.log" ;;
    esac
    record "$name" "$status" "$(echo "$t1 - $t0" | bc)" "$detail"
}

run_step probe 30 "torch and device" "$PY" -c '
import json, platform, sys, torch
info = {"torch_version": torch.__version__, "python_version": platform.python_version(),
        "cuda_available": torch.cuda.is_available(), "gpu": None}
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    info.update(gpu=p.name, gpu_memory_gib=round(p.total_memory / 2**30, 1))
json.dump(info, open(sys.argv[1], "w"))' "$OUT/probe.json"
CUDA=$("$PY" -c 'import json, sys; print(int(json.load(open(sys.argv[1]))["cuda_available"]))' "$OUT/probe.json" \
       2>/dev/null || echo 0)

if [ "$CUDA" = 1 ]; then
    run_step cuda-tests 90 "device-parametrized optimizer tests and the CUDA branch of foreach_sub_scaled_" \
        "$PY" -m pytest -q -p no:cacheprovider tests/test_bench_device.py
    run_step cuda-tests-other 45 "tests of the other suites whose id names cuda" \
        "$PY" -m pytest -q -p no:cacheprovider tests -k cuda --ignore=tests/test_bench_device.py \
        --ignore=tests/browser -o addopts=""
else
    record cuda-tests skipped 0 "no CUDA device on this machine: the CUDA tests need a GPU"
fi

if [ "$CUDA" = 1 ]; then
    run_step bench 120 "python -m lrtheory.bench at 10M, 50M, 200M on cuda against fused torch baselines" \
        "$PY" -m lrtheory.bench --device cuda --sizes 10M 50M 200M --repeats 10 --warmup 3 --out "$OUT" \
        --note "scripts/device_check.sh"
elif [ "$DRY" = 1 ]; then
    run_step bench 60 "dry run: the benchmark's code path on the CPU at 20k parameters (no CUDA device)" \
        "$PY" -m lrtheory.bench --device cpu --sizes 20k --repeats 2 --warmup 1 --stream-threads 1 \
        --optimizers SignDescent torch.SGD torch.SGD\(fused\) --out "$OUT" --note "device_check dry run"
else
    record bench skipped 0 "no CUDA device: run python -m lrtheory.bench for the CPU benchmark"
fi

if [ "$CUDA" = 1 ]; then
    chapters=(chapters/0*.md)
    left=${#chapters[@]}
    for ch in "${chapters[@]}"; do
        stem=$(basename "$ch" .md)
        now=$(date +%s.%N)
        share=$(echo "($BUDGET - ($now - $START_ALL)) / $left" | bc)
        [ "$share" -gt "$CHAPTER_TIMEOUT" ] && share=$CHAPTER_TIMEOUT
        if [ "$share" -lt 5 ]; then
            record "chapter-$stem" skipped 0 "no time left in the ${BUDGET} s budget"
        else
            run_step "chapter-$stem" "$share" "$ch in full mode through nbval (limit $share s)" \
                env LRTHEORY_MODE=full "$PY" -m pytest -q -p no:cacheprovider "$ch"
        fi
        left=$((left - 1))
    done
else
    record chapters skipped 0 "no CUDA device: full mode on a CPU takes far longer than this script's budget"
fi

END_ALL=$(date +%s.%N)
"$PY" - "$STEPS" "$OUT/device-check.json" "$(echo "$END_ALL - $START_ALL" | bc)" "$OUT/probe.json" "$DRY" <<'PY'
import json, sys
from datetime import datetime, timezone

steps = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
try:
    probe = json.load(open(sys.argv[4], encoding="utf-8"))
except (OSError, ValueError):
    probe = {"cuda_available": False, "gpu": None, "torch_version": None, "python_version": None}
cuda = bool(probe["cuda_available"])
summary = {
    "schema": "lrtheory.device_check/1",
    "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "cuda_available": cuda,
    "gpu": probe.get("gpu"),
    "gpu_memory_gib": probe.get("gpu_memory_gib"),
    "dry_run": sys.argv[5] == "1",
    "torch_version": probe.get("torch_version"),
    "python_version": probe.get("python_version"),
    "total_seconds": round(float(sys.argv[3]), 3),
    "steps": steps,
    "failed": [s["name"] for s in steps if s["status"] == "failed"],
}
with open(sys.argv[2], "w", encoding="utf-8") as fh:
    json.dump(summary, fh, indent=1)
    fh.write("\n")
print(f"device_check: wrote {sys.argv[2]} ({len(steps)} steps, {summary['total_seconds']:.1f} s, "
      f"{'GPU ' + summary['gpu'] if cuda else 'no GPU: CUDA parts skipped'})")
sys.exit(1 if summary["failed"] else 0)
PY
