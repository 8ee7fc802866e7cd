"""The in-place yardstick: each kernel does what its name says, and the bandwidth is bytes over best time."""

from __future__ import annotations

import pytest
import torch

from lrtheory import bench_stream


def _buffers(n=1000):
    return torch.linspace(1.0, 2.0, n), torch.linspace(-1.0, 3.0, n)


@pytest.mark.parametrize(
    "name, first",
    [
        ("scale", lambda a, b: a * 1.001),
        ("add", lambda a, b: a + b),
        ("triad", lambda a, b: a + 1e-3 * b),
    ],
)
def test_kernels_update_in_place_and_undo_on_the_next_call(name, first):
    a, b = _buffers()
    a0, b0 = a.clone(), b.clone()
    ptr = a.data_ptr()
    fn = bench_stream.stream_kernel(name, a, b)
    fn()
    torch.testing.assert_close(a, first(a0, b0), rtol=1e-6, atol=1e-6)
    fn()  # the second call applies the inverse, so that a stays bounded over many calls
    torch.testing.assert_close(a, a0, rtol=1e-5, atol=1e-5)
    assert a.data_ptr() == ptr and torch.equal(b, b0)  # in place; b only read
    for _ in range(1000):
        fn()
    torch.testing.assert_close(a, a0, rtol=1e-3, atol=1e-3)


def test_kernel_bytes_are_the_compulsory_traffic_of_in_place_updates():
    # scale reads and writes a; add and triad also read b: 4-byte entries
    assert bench_stream.STREAM_KERNELS == {"scale": 2 * 4, "add": 3 * 4, "triad": 3 * 4}


def test_kernel_checks_its_buffers():
    a, b = _buffers()
    with pytest.raises(ValueError, match="name"):
        bench_stream.stream_kernel("copy", a, b)
    with pytest.raises(TypeError, match="b"):
        bench_stream.stream_kernel("add", a, [1.0])
    with pytest.raises(ValueError, match="b must match a"):
        bench_stream.stream_kernel("add", a, b[:10])


def test_bandwidth_is_bytes_over_the_best_time(monkeypatch):
    """With a fake clock (each call 'takes' a known time) the figures follow from STREAM_KERNELS alone."""
    durations = iter([0.5, 0.25, 0.4] * 1000)  # scale, add, triad, repeated: every call of a kernel alike
    monkeypatch.setattr(bench_stream, "time_calls", lambda fn, warmup, repeats, sync: [next(durations)])
    threads = torch.get_num_threads()
    out = bench_stream.stream_bandwidth(10**6, "cpu", threads=(1, 2), repeats=3, warmup=0)
    assert torch.get_num_threads() == threads  # restored
    assert set(out) == {"1", "2"}
    for row in out.values():
        assert row["scale_gbs"] == pytest.approx(8e6 / 0.5 / 1e9)
        assert row["add_gbs"] == pytest.approx(12e6 / 0.25 / 1e9)
        assert row["triad_gbs"] == pytest.approx(12e6 / 0.4 / 1e9)
        assert row["best_kernel"] == "add" and row["best_gbs"] == row["add_gbs"]


def test_bandwidth_real_run_is_positive_and_checks_arguments():
    out = bench_stream.stream_bandwidth(20_000, "cpu", threads=[1], repeats=2, warmup=1)
    assert list(out) == ["1"] and out["1"]["best_gbs"] == max(out["1"][f"{k}_gbs"] for k in ("scale", "add", "triad"))
    assert out["1"]["best_gbs"] > 0
    with pytest.raises(TypeError, match="threads"):
        bench_stream.stream_bandwidth(100, "cpu", threads=2)
    with pytest.raises(ValueError, match="threads"):
        bench_stream.stream_bandwidth(100, "cpu", threads=[0])
    with pytest.raises(ValueError, match="num_params"):
        bench_stream.stream_bandwidth(0, "cpu")


def test_time_calls_warms_up_then_times_each_call():
    calls, syncs = [], []
    times = bench_stream.time_calls(lambda: calls.append(1), warmup=2, repeats=3, sync=lambda: syncs.append(1))
    assert len(calls) == 5 and len(times) == 3 and all(t >= 0 for t in times)
    assert len(syncs) == 4  # after the warm-up, then after each timed call
