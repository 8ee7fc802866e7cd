"""The traffic table of :mod:`lrtheory.optim.traffic` against a measurement of every tensor operation of a step.

The oracle is independent of the table: a :class:`TorchDispatchMode` sees
every aten operation that one ``step()`` runs and counts, per operation, the
parameter-sized tensors it reads (its tensor inputs, except ``out=``
buffers) and writes (its mutated arguments, or its outputs when it mutates
nothing).  Divided by the model size, these are the (reads, writes) per
entry of the table's fast path.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from lrtheory.optim import REGISTRY
from lrtheory.optim.traffic import COMPULSORY, FAST_PATH, traffic_bytes_per_element

SHAPES = [(64, 32), (96,), (48, 8)]  # every tensor larger than any scalar bookkeeping
BIG = min(math.prod(s) for s in SHAPES)


class TrafficCounter(TorchDispatchMode):
    """Count parameter-sized reads and writes of every aten operation run inside the mode."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.writes = 0
        self.ops: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        schema = func._schema
        result = func(*args, **kwargs)
        if any(r.alias_info is not None and not r.alias_info.is_write for r in schema.returns):
            return result  # a view (reshape, view, …) moves no data
        written, out_args = [], []
        for i, arg in enumerate(schema.arguments):
            value = args[i] if i < len(args) else kwargs.get(arg.name)
            if arg.alias_info is not None and arg.alias_info.is_write and value is not None:
                # out= buffers and a copy's destination are written, not read
                is_out = arg.name == "out" or arg.is_out or func.name().split("::")[-1].startswith(("copy_",
                                                                                                    "_foreach_copy_"))
                (out_args if is_out else written).append(value)
        out_ids = {id(t) for t in tree_flatten(out_args)[0] if isinstance(t, torch.Tensor)}
        seen: set[tuple] = set()  # the same memory passed twice (addcmul_(G, g, g), dot(u, u)) is read once
        inputs = []
        for t in tree_flatten((args, kwargs))[0]:
            if isinstance(t, torch.Tensor) and id(t) not in out_ids:
                key = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape))
                if key not in seen:
                    seen.add(key)
                    inputs.append(t)
        reads = sum(t.numel() for t in inputs if t.numel() >= BIG)
        targets = written + out_args if (written or out_args) else [result]
        writes = sum(t.numel() for t in tree_flatten(targets)[0] if isinstance(t, torch.Tensor) and t.numel() >= BIG)
        if reads or writes:
            self.ops.append(f"{func}: {reads}r {writes}w")
        self.reads += reads
        self.writes += writes
        return result


def measure(name: str, nonfinite: str = "ignore") -> tuple[float, float]:
    gen = torch.Generator().manual_seed(0)
    params = [(torch.rand(s, generator=gen) + 0.5).requires_grad_(True) for s in SHAPES]
    opt = REGISTRY[name](params, lr=1e-3, foreach=True)
    for group in opt.param_groups:
        group["nonfinite"] = nonfinite
    for _ in range(2):  # the second step is the steady state (lazy state and buffers exist)
        for p in params:
            p.grad = torch.randn(p.shape, generator=gen)
        if _ == 0:
            opt.step()
            continue
        with TrafficCounter() as counter:
            opt.step()
    total = sum(p.numel() for p in params)
    return counter.reads / total, counter.writes / total


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_fast_path_traffic_is_what_the_table_says(name):
    reads, writes = measure(name)
    assert (reads, writes) == FAST_PATH[name]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_compulsory_traffic_is_a_lower_bound_of_the_fast_path(name):
    (cr, cw), (fr, fw) = COMPULSORY[name], FAST_PATH[name]
    assert cr <= fr and cw <= fw and cr >= 2 and cw >= 1  # every step reads θ and g and writes θ


def test_the_finiteness_check_reads_the_gradient_once_more():
    base, checked = measure("SignDescent"), measure("SignDescent", nonfinite="skip")
    assert checked == (base[0] + 1, base[1])
    assert traffic_bytes_per_element("SignDescent", 4, path="fast", nonfinite="skip") == 4 * (base[0] + 1 + base[1])


def test_traffic_bytes_per_element_and_its_errors():
    assert traffic_bytes_per_element("torch.SGD") == 12  # STREAM's in-place triad: 3 passes of 4 bytes
    assert traffic_bytes_per_element("RMSpropCoordinate", 2) == 10
    assert traffic_bytes_per_element("torch.Adam", nonfinite="skip") == 28  # torch has no check
    assert set(REGISTRY) <= set(COMPULSORY) and set(REGISTRY) == set(FAST_PATH)
    with pytest.raises(ValueError, match="name"):
        traffic_bytes_per_element("Newton")
    with pytest.raises(ValueError, match="name"):
        traffic_bytes_per_element("torch.SGD", path="fast")
    with pytest.raises(ValueError, match="itemsize"):
        traffic_bytes_per_element("EGD", 0)
    with pytest.raises(ValueError, match="path"):
        traffic_bytes_per_element("EGD", path="slow")


def test_the_counter_counts_an_in_place_triad_as_three_passes():
    """The oracle itself: θ += s·g reads θ and g and writes θ; an out= copy reads one and writes one."""
    a, b, c = torch.ones(BIG), torch.ones(BIG), torch.empty(BIG)
    with TrafficCounter() as counter:
        a.add_(b, alpha=0.5)
        torch.mul(b, 2.0, out=c)
        torch._foreach_add_([a], [b])
        c.copy_(a)
        b.addcmul_(a, a)
        a.view(-1)
    assert (counter.reads, counter.writes) == (8 * BIG, 5 * BIG)
