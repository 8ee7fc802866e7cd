"""Memory traffic of one optimiser step, per parameter entry: the compulsory minimum and what the fast path moves.

A step of an elementwise optimiser on a large model is bound by memory
bandwidth, so its natural yardstick is the number of parameter-sized
passes it makes: every pass reads or writes one tensor of the model's size.
Counted as STREAM counts (an in-place update reads and writes the same lines;
no write-allocate), per parameter entry, for the default hyperparameters and
``nonfinite="ignore"`` (the default ``"skip"`` and ``"raise"`` policies add
one read of the gradient: the finiteness check, see
``lrtheory.optim._nonfinite``):

``COMPULSORY[name] = (reads, writes)``
    the least any implementation must move: read θ and g and each
    parameter-sized state buffer, write θ and each buffer, plus the re-reads
    forced by a reduction whose result the update needs (a norm, an inner
    product, a per-tensor sum) — a fused kernel moves exactly this;
``FAST_PATH[name] = (reads, writes)``
    what the default multi-tensor (``foreach``) path of :mod:`lrtheory.optim`
    moves on the CPU in eager mode, one count per pass (each torch operation
    is one pass). ``tests/test_optim_traffic.py`` measures it by intercepting
    every tensor operation of a step, so the table cannot drift from the code.

Derivations (θ parameter, g gradient; "pass" = one parameter-sized tensor
read or written):

=====================  ===========  ==========================================================
optimiser              compulsory   fast path (eager, CPU)
=====================  ===========  ==========================================================
SignDescent            (2, 1)       sign(g)→b (1, 1); θ −= lr b (2, 1): (3, 2)
RMSpropScalar          (3, 1)       ‖g‖ (1, 0) first; θ −= s g (2, 1): (3, 1)
RMSpropCoordinate      (3, 2)       G ·= α (1, 1); G += (1−α) g² (2, 1); √(G+ε)→b
                                    (1, 1) + (1, 1); θ −= lr g/b (3, 1): (8, 5)
AdaGradNorm            (3, 1)       ‖g‖ (1, 0) first; θ −= s g (2, 1): (3, 1)
EGD                    (2, 1)       −η g→b (1, 1); exp (1, 1); θ ·= b (2, 1): (4, 3)
NormalizedEGD          (4, 1)       min g (1, 0); −η(g − min)→b (1, 1); exp (1, 1);
                                    ·θ (2, 1); Σ (1, 0); b·(1/Σ)→θ (1, 1): (7, 4)
EGStepSize             (4, 3)       u ·= g (2, 1); ·γ (1, 1); exp (1, 1); ν ·= u (2, 1);
                                    θ −= η ν g (3, 1); u ← g (1, 1): (10, 6)
HypergradientSGD       (4, 2)       ⟨u, g⟩ (2, 0) first; θ −= α g (2, 1); u ← g (1, 1): (5, 2)
EGGainScale            (7, 4)       cos(m, g) per tensor (4, 0); gains from the signs
                                    (10, 8); m (4, 2); θ −= s m in place (2, 1);
                                    ḡ (2, 1): (22, 12)
=====================  ===========  ==========================================================

Compulsory counts of the reductions: NormalizedEGD must finish Σ θ e^{−ηg}
before it writes any entry, so it reads θ and g twice (an online
log-sum-exp finds the shift in the same first pass); RMSpropScalar and
AdaGradNorm read g for its norm before the update; HypergradientSGD reads
the previous gradient u and g for ⟨u, g⟩, then θ and g for the update and
writes θ and u; EGGainScale reads its momentum buffer and g for the cosine
(each tensor has its own scale) before the update reads θ, g, gains,
momentum and gradient average and writes all but g. EGStepSize (direction
``"sgd"``, per coordinate) reads θ, g, ν and the previous direction and writes θ, ν and the direction. Learned ν and
scalar accumulators live in float32 or wider: for a bfloat16 model a ν pass
costs 4 bytes, not 2 (:func:`traffic_bytes_per_element` assumes one dtype).
The torch baselines (``torch.SGD``: read θ, g, write θ; ``torch.RMSprop`` and
``torch.Adagrad``: one buffer; ``torch.Adam``/``AdamW``: two) are listed
under their benchmark names.
"""

from __future__ import annotations

from .._validation import check_choice, check_int, check_str

__all__ = ["COMPULSORY", "FAST_PATH", "traffic_bytes_per_element"]

COMPULSORY: dict[str, tuple[int, int]] = {
    "SignDescent": (2, 1),
    "RMSpropScalar": (3, 1),
    "RMSpropCoordinate": (3, 2),
    "AdaGradNorm": (3, 1),
    "EGD": (2, 1),
    "NormalizedEGD": (4, 1),
    "EGStepSize": (4, 3),
    "HypergradientSGD": (4, 2),
    "EGGainScale": (7, 4),
    "torch.SGD": (2, 1),
    "torch.RMSprop": (3, 2),
    "torch.Adagrad": (3, 2),
    "torch.Adam": (4, 3),
    "torch.Adam(fused)": (4, 3),
    "torch.AdamW": (4, 3),
}
"""(reads, writes) per parameter entry of the least traffic of one step (default settings)."""

FAST_PATH: dict[str, tuple[int, int]] = {
    "SignDescent": (3, 2),
    "RMSpropScalar": (3, 1),
    "RMSpropCoordinate": (8, 5),
    "AdaGradNorm": (3, 1),
    "EGD": (4, 3),
    "NormalizedEGD": (7, 4),
    "EGStepSize": (10, 6),
    "HypergradientSGD": (5, 2),
    "EGGainScale": (22, 12),
}
"""(reads, writes) per parameter entry that the eager multi-tensor path moves on the CPU (measured by the tests)."""


def traffic_bytes_per_element(name: str, itemsize: int = 4, *, path: str = "compulsory",
                              nonfinite: str = "ignore") -> int:
    """Bytes one step reads plus writes per parameter entry.

    Parameters
    ----------
    name : str
        An optimiser of :data:`COMPULSORY` (book optimisers by class name,
        torch baselines as ``"torch.Adam"`` …).
    itemsize : int, optional
        Bytes per entry of the parameters and their state (4: float32).
    path : {"compulsory", "fast"}, optional
        The least traffic (:data:`COMPULSORY`) or what the eager fast path
        moves (:data:`FAST_PATH`, book optimisers only).
    nonfinite : {"ignore", "skip", "raise"}, optional
        The book optimisers' non-finite policy: ``"skip"`` and ``"raise"``
        read the gradient once more (torch baselines: ignored).

    Returns
    -------
    int

    Raises
    ------
    ValueError
        For an unknown ``name``, ``path`` or ``nonfinite``, or ``itemsize`` < 1.

    Notes
    -----
    (reads + writes) · itemsize, with the counts derived in the module
    docstring. Used by the benchmark's yardstick (appendix on performance).
    """
    name = check_str("name", name)
    itemsize = check_int("itemsize", itemsize, low=1)
    path = check_choice("path", path, ("compulsory", "fast"))
    nonfinite = check_choice("nonfinite", nonfinite, ("ignore", "skip", "raise"))
    table = COMPULSORY if path == "compulsory" else FAST_PATH
    if name not in table:
        raise ValueError(f"name: unknown optimiser {name!r} for path {path!r} (known: {sorted(table)})")
    reads, writes = table[name]
    if nonfinite != "ignore" and not name.startswith("torch."):
        reads += 1
    return (reads + writes) * itemsize
