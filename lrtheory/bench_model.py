"""The benchmark's model and its traffic model: what a step must move per parameter.

:func:`model_shapes` lays out a transformer-shaped list of tensors of a given
size; :func:`traffic_bytes_per_param` counts the compulsory bytes an
optimiser's step moves per parameter (the model of the appendix "What an
optimizer step costs").  Re-exported by :mod:`lrtheory.bench`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._validation import check_instance, check_int, check_str

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["EXTRA_READS", "model_shapes", "traffic_bytes_per_param"]

EXTRA_READS: dict[str, int] = {"RMSpropScalar": 1, "AdaGradNorm": 1, "HypergradientSGD": 1, "NormalizedEGD": 2}
"""Extra parameter-sized reads of a step that needs a reduction before it can update anything:
the group norm of g (RMSpropScalar, AdaGradNorm: g read twice), the group inner product of
g with the previous g (HypergradientSGD: previous g read twice), the per-tensor sum of
θ exp(-lr g) (NormalizedEGD: θ and g read twice).

Only the fallback for a name that :data:`lrtheory.optim.traffic.COMPULSORY` does not list: that
table (reads and writes per entry, derived and tested by the optimisers' own module) is the
traffic model of every optimiser it names."""


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
        Its benchmark name: a name listed in
        :data:`lrtheory.optim.traffic.COMPULSORY` (``"(fused)"`` stripped) takes
        its counts from there; any other name is counted from the state.

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

    from .optim.traffic import COMPULSORY, traffic_bytes_per_element

    check_instance("optimizer", optimizer, torch.optim.Optimizer)
    name = check_str("name", name)
    extra = EXTRA_READS.get(name, 0)
    base = name.removesuffix("(fused)") if name.removesuffix("(fused)") in COMPULSORY else name
    if base in COMPULSORY:
        sizes = {p.element_size() for group in optimizer.param_groups for p in group["params"]}
        if len(sizes) == 1:
            return float(traffic_bytes_per_element(base, sizes.pop(), path="compulsory", nonfinite="ignore"))
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
