"""Measurements on gradients and updates: update–gradient angles, mini-batch second moments.

Two quantities chapter 1 uses to test claims about RMSprop: the angle by
which an update turns away from the gradient (:func:`update_angle`), and
the expected entrywise square of a mini-batch gradient
(:func:`expected_minibatch_sq_grad`), which is what RMSprop's running
average estimates when it is fed mini-batch gradients.

Derived in chapter 1.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_array, check_int

__all__ = ["update_angle", "expected_minibatch_sq_grad"]


def update_angle(update: object, grad: object) -> np.ndarray:
    """Angle (radians) between the descent direction −Δ and the gradient g.

    Parameters
    ----------
    update : array_like, shape (..., d)
        Displacements Δ = θ_{k+1} − θ_k.
    grad : array_like, shape (..., d)
        The gradients they were computed from.

    Returns
    -------
    numpy.ndarray, shape (...)
        arccos(⟨−Δ, g⟩ / (‖Δ‖‖g‖)) in [0, π]; ``nan`` where Δ or g is zero.
        Zero means the update points straight down the gradient.

    Notes
    -----
    Plain descent and the scalar rules have angle 0; a per-coordinate rule
    turns the direction by up to arccos(1/√d) for sign descent. Derived in
    chapter 1.
    """
    update = check_array("update", update, ndim=(1, 2), nonempty=True)
    grad = check_array("grad", grad, shape=update.shape, shape_of="update")
    num = -np.sum(update * grad, axis=-1)
    den = np.linalg.norm(update, axis=-1) * np.linalg.norm(grad, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return np.arccos(np.clip(cos, -1.0, 1.0))


def expected_minibatch_sq_grad(per_example_grads: object, batch_size: int) -> np.ndarray:
    """E[g_B ⊙ g_B] for the mean gradient g_B of a batch drawn with replacement.

    Parameters
    ----------
    per_example_grads : array_like, shape (N, d)
        The gradient of each example's loss at one point θ.
    batch_size : int
        Number B ≥ 1 of examples per batch, drawn uniformly with replacement.

    Returns
    -------
    numpy.ndarray, shape (d,)
        ḡ⊙ḡ + σ²/B, where ḡ is the full-batch gradient and σ² the
        per-coordinate (population) variance of the per-example gradients.

    Notes
    -----
    The mean of B independent draws has mean ḡ and variance σ²/B, and
    E[X²] = (E X)² + Var X. RMSprop's running average of g_B⊙g_B therefore
    estimates ḡ⊙ḡ + σ²/B, not ḡ⊙ḡ: averaging removes noise, not this offset.
    Derived in chapter 1.
    """
    per = check_array("per_example_grads", per_example_grads, ndim=2)
    if per.shape[0] == 0:
        raise ValueError("per_example_grads must contain at least one example")
    batch_size = check_int("batch_size", batch_size, low=1)
    mean = per.mean(axis=0)
    return mean * mean + per.var(axis=0) / batch_size
