"""The batched-seed benchmark: its code path (tiny sizes) and the equality it relies on, at its own setting."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lrtheory import bench_batched
from lrtheory.batched import train_seeds, train_seeds_reference
from lrtheory.datasets import load_dataset
from lrtheory.sweeps import make_classifier


def test_benchmark_smoke_rows_and_metadata():
    threads = torch.get_num_threads()
    out = bench_batched.batched_benchmark(2, threads=[1], epochs=1, batch_size=256, hidden=4, repeats=1,
                                          optimizer="sgd", lr=0.1)
    assert torch.get_num_threads() == threads  # restored
    assert out["schema"] == bench_batched.BATCHED_SCHEMA
    (r,) = out["rows"]
    assert r["threads"] == 1 and r["batched_s"] > 0 and r["loop_s"] > 0
    assert r["speedup"] == pytest.approx(r["loop_s"] / r["batched_s"])
    assert r["max_abs_diff_test_loss"] < 1e-4  # float32, same seeds and batches
    n_train = len(load_dataset("digits", val_size=0.2, test_size=0.2).y_train)
    assert r["steps"] == -(-n_train // 256)  # one epoch of ceil(n / batch) steps
    meta = out["metadata"]
    assert meta["num_seeds"] == 2 and meta["dataset"] == "digits" and len(meta["load_average_before"]) == 3
    json.dumps(out)


def test_benchmark_checks_its_arguments():
    with pytest.raises(ValueError, match="optimizer"):
        bench_batched.batched_benchmark(2, optimizer="lbfgs")
    with pytest.raises(TypeError, match="threads"):
        bench_batched.batched_benchmark(2, threads=1)
    with pytest.raises(ValueError, match="num_seeds"):
        bench_batched.batched_benchmark(0)


def test_main_prints_and_writes(tmp_path, capsys):
    assert bench_batched.main(["--seeds", "2", "--threads", "1", "--epochs", "1", "--batch-size", "512",
                               "--repeats", "1", "--optimizer", "sgd", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "speed-up" in printed and "batched-cpu.json" in printed
    data = json.loads((tmp_path / "batched-cpu.json").read_text())
    assert data["metadata"]["num_seeds"] == 2 and len(data["rows"]) == 1


@pytest.mark.parametrize("name, num_seeds", [("adam", 16), ("rmsprop-scalar", 4)])
def test_batched_equals_the_loop_on_the_benchmarked_digits_mlp_in_float64(name, num_seeds):
    """The benchmark's setting (digits, MLP of width 64, 16 seeds) in float64: both runners agree to rounding,
    seed by seed, for the shared-optimiser path (Adam, all 16 seeds) and the per-seed-optimiser path
    (RMSpropScalar, 4 seeds)."""
    data = load_dataset("digits", device="cpu", dtype=torch.float64, val_size=0.2, test_size=0.2)

    def make_model(seed):
        return make_classifier("mlp", data.num_features, data.num_classes, hidden=64, seed=seed, device="cpu",
                               dtype=torch.float64)

    make_opt = bench_batched._factory(name)
    kw = dict(seeds=tuple(range(num_seeds)), epochs=1, batch_size=128)
    a = train_seeds(make_model, make_opt, 1e-2, data, **kw)
    b = train_seeds_reference(make_model, make_opt, 1e-2, data, **kw)
    np.testing.assert_allclose(a.history, b.history, rtol=1e-10, atol=1e-12)
    for k in b.metrics:
        np.testing.assert_allclose(a.metrics[k], b.metrics[k], rtol=1e-10, atol=1e-12)
    assert len(set(np.round(b.metrics["test_loss"], 8))) == num_seeds  # different runs, not one run repeated
    assert not a.diverged.any()
