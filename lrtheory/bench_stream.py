"""The benchmark's bandwidth yardstick: in-place STREAM-style kernels.

An optimiser step updates its parameters and state buffers *in place*: it
reads a cache line and writes the same line back.  Its fair yardstick is a
kernel with the same access pattern, not a copy into a second buffer (which
also pays the write-allocate read of the destination, traffic that the copy's
``8`` bytes per element do not count).  :func:`stream_bandwidth` times three
in-place kernels on preallocated float32 buffers of a given length (the
benchmark passes the optimiser's parameter count, so that the yardstick's
working set is as far out of cache as the optimiser's):

========  ==================  ==========================
kernel    operation           compulsory bytes / element
========  ==================  ==========================
scale     ``a *= s``          8 (read a, write a)
add       ``a += b``          12 (read a, b, write a)
triad     ``a += s * b``      12 (read a, b, write a)
========  ==================  ==========================

Each kernel is timed best-of-``repeats`` (the least disturbed call on a
shared machine) at every requested thread count; the *attainable bandwidth*
of a thread count is the best of the three.  Bytes are counted as STREAM
counts them (McCalpin 1995; no write-allocate traffic, which an
in-place kernel does not incur).  The appendix "What an optimizer step
costs" derives the model.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ._validation import check_callable, check_int

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["STREAM_KERNELS", "time_calls", "stream_kernel", "stream_bandwidth"]

STREAM_KERNELS: dict[str, int] = {"scale": 8, "add": 12, "triad": 12}
"""Compulsory bytes per float32 element of each in-place kernel (read and write the same lines)."""


def time_calls(fn: Callable[[], Any], *, warmup: int, repeats: int, sync: Callable[[], None] = lambda: None) -> list[float]:
    """Seconds taken by each of ``repeats`` calls of ``fn`` after ``warmup`` untimed calls.

    Parameters
    ----------
    fn : callable
        Called with no arguments.
    warmup, repeats : int
        Untimed calls first (>= 0), then timed calls (>= 1).
    sync : callable, optional
        Called after the warm-up and after each timed call (e.g.
        ``torch.cuda.synchronize``), so that asynchronous work is counted.

    Returns
    -------
    list of float
        One wall-clock duration per timed call.
    """
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


def check_threads(threads: Any) -> list[int]:
    """``threads`` as a list of thread counts (>= 1); TypeError/ValueError naming ``threads`` otherwise."""
    if isinstance(threads, (str, bytes)) or not isinstance(threads, (list, tuple)) or not threads:
        raise TypeError(f"threads must be a non-empty list or tuple of ints, got {type(threads).__name__}")
    return [check_int("threads", t, low=1) for t in threads]


def stream_kernel(name: str, a: "torch.Tensor", b: "torch.Tensor") -> Callable[[], Any]:
    """The in-place kernel ``name`` on the preallocated buffers ``a`` and ``b``, as a no-argument call.

    Parameters
    ----------
    name : {"scale", "add", "triad"}
        See :data:`STREAM_KERNELS`.
    a, b : torch.Tensor
        Finite floating-point buffers of the same shape, dtype and device; ``a``
        is updated in place.

    Returns
    -------
    callable
        Each call runs the kernel once and allocates nothing.

    Notes
    -----
    The scale factor alternates between ``s`` and ``1/s`` and the triad's
    between ``+s`` and ``-s``, so that repeated calls keep ``a`` bounded (and
    never denormal) however many times the kernel runs.  Appendix "What an
    optimizer step costs".
    """
    from ._validation import check_choice
    from ._validation_tensor import check_tensor

    check_choice("name", name, tuple(STREAM_KERNELS))
    check_tensor("a", a, dtype_kind="float", nonempty=True)  # finite: a NaN would make the timing meaningless
    check_tensor("b", b, dtype_kind="float", nonempty=True)
    if a.shape != b.shape or a.dtype != b.dtype or a.device != b.device:
        raise ValueError(f"b must match a in shape, dtype and device, got {tuple(b.shape)} {b.dtype} {b.device} "
                         f"against {tuple(a.shape)} {a.dtype} {a.device}")
    flip = [False]

    def scale() -> None:
        flip[0] = not flip[0]
        a.mul_(1.001 if flip[0] else 1 / 1.001)

    def add() -> None:
        flip[0] = not flip[0]
        (a.add_ if flip[0] else a.sub_)(b)

    def triad() -> None:
        flip[0] = not flip[0]
        a.add_(b, alpha=1e-3 if flip[0] else -1e-3)

    return {"scale": scale, "add": add, "triad": triad}[name]


def stream_bandwidth(num_params: int, device: "str | torch.device | None" = None, *,
                     threads: Sequence[int] = (1, 2), repeats: int = 10, warmup: int = 2) -> dict[str, dict[str, Any]]:
    """Attainable bandwidth of in-place kernels on float32 buffers of ``num_params`` entries.

    Parameters
    ----------
    num_params : int
        Length of each buffer (the benchmark passes the model's parameter count).
    device : str, torch.device or None, optional
        Default: CUDA when available, else CPU.
    threads : sequence of int, optional
        CPU thread counts to measure at (``torch.set_num_threads``; restored
        afterwards).  Ignored on CUDA, where one entry ``"gpu"`` is returned.
    repeats, warmup : int, optional
        Timed calls (best of them is kept) and untimed calls per kernel.

    Returns
    -------
    dict
        ``{str(threads): {"scale_gbs", "add_gbs", "triad_gbs", "best_gbs",
        "best_kernel"}}``, bandwidths in GB/s (10^9 bytes per second).

    Notes
    -----
    A kernel of :math:`b` compulsory bytes per element (:data:`STREAM_KERNELS`)
    that takes :math:`t` seconds at best on :math:`N` elements reaches
    :math:`b N / t`.  The rounds interleave the three kernels so that a load
    that comes and goes on a shared machine disturbs them alike.
    """
    import torch

    from .experiments import get_device

    num_params = check_int("num_params", num_params, low=1)
    counts = check_threads(threads)
    repeats = check_int("repeats", repeats, low=1)
    warmup = check_int("warmup", warmup, low=0)
    dev = get_device(device)
    a = torch.ones(num_params, dtype=torch.float32, device=dev)
    b = torch.full_like(a, 0.5)
    kernels = {k: stream_kernel(k, a, b) for k in STREAM_KERNELS}
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    before = torch.get_num_threads()
    out: dict[str, dict[str, Any]] = {}
    try:
        for count in (["gpu"] if dev.type == "cuda" else counts):
            if count != "gpu":
                torch.set_num_threads(count)
            best = {k: float("inf") for k in kernels}
            for fn in kernels.values():
                time_calls(fn, warmup=warmup, repeats=1, sync=sync)
            for _ in range(repeats):
                for k, fn in kernels.items():
                    best[k] = min(best[k], time_calls(fn, warmup=0, repeats=1, sync=sync)[0])
            row = {f"{k}_gbs": STREAM_KERNELS[k] * num_params / best[k] / 1e9 for k in kernels}
            top = max(kernels, key=lambda k: row[f"{k}_gbs"])
            out[str(count)] = {**row, "best_gbs": row[f"{top}_gbs"], "best_kernel": top}
    finally:
        torch.set_num_threads(before)
    return out
