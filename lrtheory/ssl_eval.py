"""Evaluating self-supervised features with labels: k-NN and a ridge linear probe.

A representation learned without labels is judged by how well a simple
classifier on top of it does on held-out data:

* :func:`knn_accuracy`: each test point takes the majority label of its k
  nearest training points in cosine similarity (ties go to the smallest label);
* :func:`linear_probe_accuracy`: a linear classifier fitted in closed form by
  ridge regression on one-hot labels (features standardised with the
  training statistics, unpenalised intercept), the prediction being the arg max.

Both are deterministic (no iterative fitting, no random state).

Collapse is judged by the spectrum of a batch of outputs, not only by their
spread: :func:`effective_rank` (Roy & Vetterli, 2007) and
:func:`top_pc_share` see a *dimensional* collapse onto a few directions that
the per-channel std of :func:`lrtheory.ssl.collapse_std` cannot see.

Derived in chapter 5.
"""

from __future__ import annotations

from typing import Any

import torch

from ._validation import check_bool, check_instance, check_int, check_scalar, check_tensor

__all__ = ["embed", "knn_accuracy", "linear_probe_accuracy", "singular_values", "effective_rank",
           "top_pc_share"]


def _check_xy(name_x: str, x: Any, name_y: str, y: Any) -> tuple[torch.Tensor, torch.Tensor]:
    check_tensor(name_x, x, ndim=2, nonempty=True)
    check_tensor(name_y, y, dtype_kind="int", finite=False)
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise ValueError(f"{name_y} must be a 1-D tensor with one label per row of {name_x}")
    if y.dtype not in (torch.int64, torch.int32) or (y.numel() and int(y.min()) < 0):
        raise ValueError(f"{name_y} must hold non-negative integer labels")
    return x.double(), y.long()


@torch.no_grad()
def embed(module: torch.nn.Module, images: torch.Tensor, *, batch_size: int = 1024) -> torch.Tensor:
    """Features of ``images`` from ``module`` in eval mode, in batches (float64, on the CPU).

    Parameters
    ----------
    module : torch.nn.Module
        E.g. ``model.backbone`` or ``model.encode`` wrapped in a module.
    images : torch.Tensor
        Inputs (moved to the module's device).
    batch_size : int, optional

    Returns
    -------
    torch.Tensor, shape (n, d)
    """
    check_instance("module", module, torch.nn.Module)
    check_tensor("images", images, nonempty=True)
    batch_size = check_int("batch_size", batch_size, low=1)
    was_training = module.training
    module.eval()
    try:
        dev = next(module.parameters()).device
    except StopIteration:
        dev = images.device
    try:
        out = [module(images[i:i + batch_size].to(dev)).flatten(1).double().cpu()
               for i in range(0, images.shape[0], batch_size)]
    except RuntimeError as exc:  # the module's own complaint about its input, e.g. a shape mismatch
        raise ValueError(f"module cannot take images of shape {tuple(images.shape)}: {exc}") from None
    finally:
        module.train(was_training)
    return torch.cat(out)


def knn_accuracy(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor,
                 test_y: torch.Tensor, *, k: int = 5) -> float:
    """Accuracy of the k-nearest-neighbour classifier with cosine similarity.

    Parameters
    ----------
    train_x, test_x : torch.Tensor, shape (n, d) and (m, d)
    train_y, test_y : torch.Tensor of int, shape (n,) and (m,)
    k : int, optional
        Number of neighbours, 1 ≤ k ≤ n (default 5).

    Returns
    -------
    float
        Fraction of test points whose majority neighbour label is right.

    Notes
    -----
    Equivalent to scikit-learn's ``KNeighborsClassifier(k, metric="cosine",
    algorithm="brute")`` when no two distances tie.  Derived in chapter 5.
    """
    train_x, train_y = _check_xy("train_x", train_x, "train_y", train_y)
    test_x, test_y = _check_xy("test_x", test_x, "test_y", test_y)
    if train_x.shape[1] != test_x.shape[1]:
        raise ValueError("train_x and test_x must have the same number of columns")
    k = check_int("k", k, low=1, high=train_x.shape[0])
    a = torch.nn.functional.normalize(train_x, dim=1)
    b = torch.nn.functional.normalize(test_x, dim=1)
    nearest = (b @ a.T).topk(k, dim=1).indices
    num_classes = int(max(train_y.max(), test_y.max())) + 1
    votes = torch.nn.functional.one_hot(train_y[nearest], num_classes).sum(dim=1)
    pred = votes.argmax(dim=1)  # first maximum: ties go to the smallest label
    return float((pred == test_y.to(pred.device)).double().mean())


def linear_probe_accuracy(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor,
                          test_y: torch.Tensor, *, ridge: float = 1.0) -> float:
    """Test accuracy of a ridge-regression linear classifier fitted on frozen features.

    Parameters
    ----------
    train_x, test_x : torch.Tensor, shape (n, d) and (m, d)
    train_y, test_y : torch.Tensor of int
    ridge : float, optional
        Penalty α ≥ 0 on the weights (not the intercept), default 1.

    Returns
    -------
    float
        Fraction of test points classified correctly.

    Notes
    -----
    With standardised, centred features X and centred one-hot targets Y,
    W = (XᵀX + αI)⁻¹ XᵀY and the predicted class is arg max of (x − μ)W/σ + ȳ.
    This has the arg max of scikit-learn's ``RidgeClassifier(alpha)`` (which
    uses ±1 targets, an affine image of the one-hot ones).  Derived in chapter 5.
    """
    train_x, train_y = _check_xy("train_x", train_x, "train_y", train_y)
    test_x, test_y = _check_xy("test_x", test_x, "test_y", test_y)
    if train_x.shape[1] != test_x.shape[1]:
        raise ValueError("train_x and test_x must have the same number of columns")
    ridge = check_scalar("ridge", ridge, low=0.0)
    mu, sd = train_x.mean(0), train_x.std(0, unbiased=False)
    sd = torch.where(sd > 0, sd, torch.ones_like(sd))
    xs = (train_x - mu) / sd
    num_classes = int(max(train_y.max(), test_y.max())) + 1
    y = torch.nn.functional.one_hot(train_y, num_classes).double()
    ybar = y.mean(0)
    gram = xs.T @ xs + ridge * torch.eye(xs.shape[1], dtype=xs.dtype)
    w = torch.linalg.lstsq(gram, xs.T @ (y - ybar)).solution
    scores = ((test_x - mu) / sd) @ w + ybar
    return float((scores.argmax(1) == test_y).double().mean())


def _no_spread(z: torch.Tensor, s: torch.Tensor) -> bool:
    """True when the spectrum is rounding noise: identical rows (or all zeros)."""
    scale = float(z.detach().double().abs().max()) * z.shape[0] ** 0.5
    return float(s.max()) <= 1e-10 * scale if scale > 0 else True


def singular_values(z: torch.Tensor, *, center: bool = True) -> torch.Tensor:
    """Singular values of a batch of outputs (float64, descending), centred first by default.

    Parameters
    ----------
    z : torch.Tensor, shape (n, d)
        Outputs for n different inputs, n ≥ 2, finite.
    center : bool, optional
        Subtract the batch mean first (default ``True``): the spectrum is
        then that of the covariance, σ_i² = n λ_i.

    Returns
    -------
    torch.Tensor, shape (min(n, d),)

    Notes
    -----
    Derived in chapter 5.
    """
    check_tensor("z", z, ndim=2, dtype_kind="float")
    if z.shape[0] < 2 or z.shape[1] < 1:
        raise ValueError(f"z must have shape (n, d) with n >= 2 and d >= 1, got {tuple(z.shape)}")
    x = z.detach().double().cpu()
    if check_bool("center", center):
        x = x - x.mean(0)
    return torch.linalg.svdvals(x)


def effective_rank(z: torch.Tensor, *, center: bool = True) -> float:
    """Effective rank exp(H(p)), p the singular values of ``z`` normalised to sum 1.

    Parameters
    ----------
    z : torch.Tensor, shape (n, d)
        Outputs for n different inputs (eval mode), n ≥ 2.
    center : bool, optional
        Centre the batch first (default ``True``).

    Returns
    -------
    float
        Between 1 (every output on one line through the mean) and min(n, d)
        (all singular values equal); 0 for a batch of identical outputs
        (complete collapse, no spectrum at all).

    Notes
    -----
    With singular values σ_1 ≥ … ≥ σ_m and p_i = σ_i / Σ_j σ_j,
    erank(z) = exp(−Σ_i p_i log p_i) (Roy & Vetterli, 2007; terms with
    p_i = 0 count 0).  k equal non-zero singular values give exactly k, so
    a representation that spans k directions equally has effective rank k
    whatever the dimension d.  Derived in chapter 5.
    """
    s = singular_values(z, center=center)
    if _no_spread(z, s):
        return 0.0
    p = s / s.sum()
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


def top_pc_share(z: torch.Tensor) -> float:
    """Share of the variance of ``z`` along its first principal component, λ₁ / Σ λ_i.

    Parameters
    ----------
    z : torch.Tensor, shape (n, d)
        Outputs for n different inputs, n ≥ 2.

    Returns
    -------
    float
        In [1/min(n − 1, d), 1]: 1 for a rank-1 (e.g. antipodal) batch, 1/d for
        isotropic outputs; ``nan`` for identical outputs (no variance at all).

    Notes
    -----
    λ_i are the eigenvalues of the batch covariance, i.e. σ_i² of the
    centred batch.  Derived in chapter 5.
    """
    s = singular_values(z, center=True)
    if _no_spread(z, s):
        return float("nan")
    s2 = s**2
    return float(s2[0] / s2.sum())
