"""Chapter 5's network experiments: SimSiam's variants over seeds, through the protocol.

* :data:`VARIANTS`: the switches of each variant (model and training keywords
  for :class:`lrtheory.ssl_stacked.StackedSimSiam` and
  :func:`lrtheory.ssl_train.train_stacked`);
* :func:`variant_runner`: a ``run(lr, seeds)`` callable for
  :func:`lrtheory.protocol.compare_methods` that trains one variant on the
  given seeds (one stacked model) and returns per-seed metrics: the collapse
  measures, the final loss, and k-NN / linear-probe accuracy on the validation
  split (tuning) and the test split (reported once);
* :func:`eigen_alignment`: how nearly a linear predictor W_p shares the
  eigenvectors of F = E[z zᵀ] (Tian, Chen & Ganguli, 2021), against a
  random matrix.

Derived in chapter 5.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from ._validation import check_array, check_int, check_tensor
from .protocol import check_seeds
from .ssl_data import DigitImages
from .ssl_stacked import StackedSimSiam
from .ssl_train import score_stacked, train_stacked

__all__ = ["VARIANTS", "variant_runner", "offdiag_share", "eigen_alignment"]

VARIANTS: dict[str, dict[str, dict[str, Any]]] = {
    "SimSiam": {"model": {}, "train": {}},
    "no stop-gradient": {"model": {}, "train": {"stop_gradient": False}},
    "no predictor": {"model": {"predictor": "none"}, "train": {}},
    "fixed random predictor": {"model": {"predictor": "fixed"}, "train": {}},
    "no projector BN": {"model": {"projector_bn": False}, "train": {}},
    "no projector BN, no predictor": {"model": {"projector_bn": False, "predictor": "none"}, "train": {}},
    "linear predictor": {"model": {"predictor": "linear"}, "train": {}},
    "DirectPred": {"model": {"predictor": "linear"}, "train": {"directpred": True}},
    "mean target": {"model": {}, "train": {"objective": "mean_target", "stop_gradient": False}},
    "mean target + stop-gradient": {"model": {}, "train": {"objective": "mean_target", "stop_gradient": True}},
}
"""Each variant's keywords: ``model`` for ``StackedSimSiam``, ``train`` for ``train_stacked``."""


def variant_runner(data: DigitImages, *, model: dict[str, Any] | None = None, train: dict[str, Any] | None = None,
                   num_steps: int, keep: dict[tuple[int, ...], Any] | None = None,
                   **train_kwargs: Any) -> Callable[[float, tuple[int, ...]], dict[str, np.ndarray]]:
    """A protocol run function for one SimSiam variant on ``digits``.

    Parameters
    ----------
    data : DigitImages
        With a validation part (``load_digit_images(val_size=...)``): the
        network trains on ``X_train`` without labels; the k-NN and the probe
        are fitted on the training labels and scored on validation and test.
    model, train : dict, optional
        The variant's keywords (an entry of :data:`VARIANTS`).
    num_steps : int
        SGD steps per run.
    keep : dict, optional
        If given, ``keep[seeds] = (model, history)`` is stored for every run.
    **train_kwargs
        Further keywords for :func:`lrtheory.ssl_train.train_stacked` (batch
        size, augmentations, schedule, ...).

    Returns
    -------
    callable
        ``run(lr, seeds)`` returning a dict of per-seed arrays: ``std``,
        ``rank``, ``top_pc``, ``loss`` (mean of the last 10 % of steps),
        ``knn_val``, ``lin_val``, ``knn_test``, ``lin_test``.

    Notes
    -----
    Derived in chapter 5.
    """
    if not isinstance(data, DigitImages):
        raise TypeError(f"data must be a DigitImages, got {type(data).__name__}")
    if data.X_val is None or data.y_val is None:
        raise ValueError("data must have a validation part (load_digit_images(val_size=...))")
    for name, d in (("model", model), ("train", train), ("keep", keep)):
        if d is not None and not isinstance(d, dict):
            raise TypeError(f"{name} must be a dict, got {type(d).__name__}")
    num_steps = check_int("num_steps", num_steps, low=1)
    mk, tk = dict(model or {}), {**(train or {}), **train_kwargs}

    def run(lr: float, seeds: tuple[int, ...]) -> dict[str, np.ndarray]:
        seeds = check_seeds("seeds", seeds)
        net = StackedSimSiam(seeds, **mk)
        hist = train_stacked(net, data.X_train, num_steps=num_steps, lr=lr, **tk)
        out = score_stacked(net, (data.X_train, data.y_train),
                            {"val": (data.X_val, data.y_val), "test": (data.X_test, data.y_test)},
                            collapse_images=data.X_train[:512])
        tail = max(num_steps // 10, 1)
        out["loss"] = hist.loss[-tail:].mean(0)
        if keep is not None:
            keep[seeds] = (net, hist)
        return out

    return run


def offdiag_share(m: Any) -> float:
    """Share of the squared Frobenius norm of a square matrix that lies off its diagonal.

    Parameters
    ----------
    m : array_like or torch.Tensor, shape (k, k)
        Not all zero.

    Returns
    -------
    float
        0 for a diagonal matrix; about (k − 1)/k for a matrix of i.i.d. entries.

    Notes
    -----
    Σ_{i≠j} m_ij² / Σ_ij m_ij².  Derived in chapter 5.
    """
    a = check_array("m", m.detach().cpu().numpy() if torch.is_tensor(m) else m, ndim=2).astype(float)
    if a.shape[0] != a.shape[1] or a.shape[0] < 2:
        raise ValueError(f"m must be a square matrix of size >= 2, got shape {a.shape}")
    total = float((a**2).sum())
    if total == 0.0:
        raise ValueError("m must not be all zero")
    return float((total - (np.diag(a) ** 2).sum()) / total)


def eigen_alignment(w: torch.Tensor, z: torch.Tensor, *, k: int = 8) -> tuple[float, float]:
    """How nearly ``w`` maps the top-k eigenvectors of F = E[z zᵀ] to multiples of themselves.

    Parameters
    ----------
    w : torch.Tensor, shape (d, d)
        A linear predictor W_p.
    z : torch.Tensor, shape (n, d)
        Projections of n inputs (eval mode).
    k : int, optional
        Number of leading eigenvectors u_1, …, u_k of F (default 8, ≤ d).

    Returns
    -------
    (float, float)
        The mean over the k eigenvectors of |cos(W_p u_i, u_i)| (1 when each
        is an eigenvector of W_p), and :func:`offdiag_share` of U_kᵀ W_p U_k
        (0 when W_p is diagonal in F's eigenbasis).

    Notes
    -----
    F = zᵀz / n (uncentred, as in Tian, Chen & Ganguli's analysis).  Derived in
    chapter 5.
    """
    check_tensor("w", w, ndim=2, dtype_kind="float")
    check_tensor("z", z, ndim=2, dtype_kind="float")
    d = w.shape[0]
    if w.shape != (d, d) or z.shape[1] != d or z.shape[0] < 2:
        raise ValueError(f"w must be (d, d) and z (n >= 2, d), got {tuple(w.shape)} and {tuple(z.shape)}")
    k = check_int("k", k, low=1, high=d)
    zz = z.detach().double().cpu()
    f = zz.T @ zz / zz.shape[0]
    _, u = torch.linalg.eigh(f)
    u = u[:, -k:].flip(1)
    wd = w.detach().double().cpu()
    wu = wd @ u
    cos = (wu * u).sum(0).abs() / wu.norm(dim=0).clamp_min(1e-300)
    share = offdiag_share(u.T @ wd @ u) if k >= 2 else 0.0
    return float(cos.mean()), share
