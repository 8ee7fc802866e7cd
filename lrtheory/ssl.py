"""A small SimSiam for 8x8 digits, with the ablation switches of its paper.

SimSiam (Chen & He, 2021) trains an encoder f (backbone + projector) and a
predictor h on two random views x₁, x₂ of each image with the symmetric loss

    L = ½ D(h(f(x₁)), sg f(x₂)) + ½ D(h(f(x₂)), sg f(x₁)),
    D(p, z) = −p·z / (‖p‖ ‖z‖),

where sg is the stop-gradient.  The switches of :class:`SimSiam` and
:func:`train_ssl` remove the parts that the paper found essential: the
stop-gradient (``stop_gradient=False``), the predictor (``predictor="none"``:
h is the identity) or its training (``predictor="fixed"``: h stays at its
random initialisation).  :func:`train_ssl` also trains the objective the
source article proposes without testing (``objective="mean_target"``):

    L = E ‖n(F(T(x))) − n(F(x̄))‖²,   x̄ = E_T[T(x)],  n(v) = v/‖v‖,

with F = projector ∘ backbone and gradients through both branches.

Collapse is measured by :func:`collapse_std`; the single-seed training loop is
:func:`lrtheory.ssl_loop.train_ssl` (many seeds at once:
:func:`lrtheory.ssl_train.train_stacked`).  Evaluation (k-NN, linear
probe) is in :mod:`lrtheory.ssl_eval`.

Derived in chapter 5.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._validation import check_bool, check_choice, check_instance, check_int, check_tensor

__all__ = [
    "PREDICTOR_MODES",
    "OBJECTIVES",
    "SimSiam",
    "negative_cosine",
    "simsiam_loss",
    "mean_target_loss",
    "collapse_std",
]

PREDICTOR_MODES: tuple[str, ...] = ("learned", "none", "fixed", "linear")
"""Predictor switches: trained MLP, identity, frozen random MLP, trained linear map W_p."""

OBJECTIVES: tuple[str, ...] = ("simsiam", "mean_target")
"""Training objectives accepted by :func:`train_ssl`."""


class SimSiam(nn.Module):
    """Backbone, projector and predictor of a small SimSiam for flat inputs.

    Parameters
    ----------
    in_dim : int, optional
        Input size (64 for flattened 8x8 images).
    hidden_dim : int, optional
        Width of the backbone; its output is the representation used for
        evaluation.
    out_dim : int, optional
        Size d of the projector's output z (and of the prediction p).
    pred_hidden_dim : int, optional
        Bottleneck width of the predictor MLP (the paper uses d/4).
    predictor : {"learned", "none", "fixed", "linear"}, optional
        ``"learned"``: a trained MLP; ``"none"``: p = z; ``"fixed"``: the MLP
        keeps its random initial weights (its parameters have
        ``requires_grad=False``); ``"linear"``: p = W_p z, a trained d×d
        matrix without bias (Tian, Chen & Ganguli's linear predictor).
    projector_bn : bool, optional
        End the projector with batch normalisation (default ``True``, as in
        SimSiam); ``False`` leaves the projector a plain linear layer.

    Notes
    -----
    backbone: Linear–BN–ReLU–Linear–BN–ReLU; projector: Linear–BN (as in
    SimSiam, the output is batch-normalised); predictor: Linear–BN–ReLU–Linear.
    Layers are initialised by torch's global generator: call
    :func:`lrtheory.experiments.seed_everything` first.  Derived in chapter 5.
    """

    def __init__(self, in_dim: int = 64, hidden_dim: int = 128, out_dim: int = 64,
                 pred_hidden_dim: int = 16, predictor: str = "learned", projector_bn: bool = True) -> None:
        super().__init__()
        in_dim = check_int("in_dim", in_dim, low=1)
        hidden_dim = check_int("hidden_dim", hidden_dim, low=1)
        out_dim = check_int("out_dim", out_dim, low=2)
        pred_hidden_dim = check_int("pred_hidden_dim", pred_hidden_dim, low=1)
        self.predictor_mode = check_choice("predictor", predictor, PREDICTOR_MODES)
        self.out_dim = out_dim
        self.backbone = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_dim, hidden_dim), nn.BatchNorm1d(hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, hidden_dim), nn.BatchNorm1d(hidden_dim), nn.ReLU(),
        )
        self.projector_bn = check_bool("projector_bn", projector_bn)
        self.projector = nn.Sequential(nn.Linear(hidden_dim, out_dim),
                                       nn.BatchNorm1d(out_dim) if self.projector_bn else nn.Identity())
        self.predictor: nn.Module
        if self.predictor_mode == "none":
            self.predictor = nn.Identity()
        elif self.predictor_mode == "linear":
            self.predictor = nn.Sequential(nn.Linear(out_dim, out_dim, bias=False))
        else:
            self.predictor = nn.Sequential(
                nn.Linear(out_dim, pred_hidden_dim), nn.BatchNorm1d(pred_hidden_dim), nn.ReLU(),
                nn.Linear(pred_hidden_dim, out_dim),
            )
            if self.predictor_mode == "fixed":
                for p in self.predictor.parameters():
                    p.requires_grad_(False)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """F(x) = projector(backbone(x)): the projection z, shape ``(n, out_dim)``."""
        return self.projector(self.backbone(x))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(z, p)``: the projection and the prediction h(z)."""
        z = self.encode(x)
        return z, self.predictor(z)

    def encoder_parameters(self) -> list[nn.Parameter]:
        """Parameters of backbone and projector (the slow variable θ)."""
        return [*self.backbone.parameters(), *self.projector.parameters()]

    def predictor_parameters(self) -> list[nn.Parameter]:
        """Trainable parameters of the predictor (the fast variable φ); empty unless learned."""
        return [p for p in self.predictor.parameters() if p.requires_grad]


def _check_batch(name: str, x: Any) -> torch.Tensor:
    """A batch of inputs: a finite, non-empty floating tensor of shape (n, ...)."""
    check_tensor(name, x, dtype_kind="float", nonempty=True)
    if x.ndim < 2:
        raise ValueError(f"{name} must be a batch of inputs, shape (n, ...), got {tuple(x.shape)}")
    return x


def negative_cosine(p: torch.Tensor, z: torch.Tensor, *, stop_gradient: bool = True) -> torch.Tensor:
    """D(p, z) = −mean over the batch of cos(p_i, z_i), with z detached if ``stop_gradient``.

    Parameters
    ----------
    p, z : torch.Tensor, shape (n, d)
        Predictions and targets.
    stop_gradient : bool, optional
        Treat ``z`` as a constant (default ``True``).

    Returns
    -------
    torch.Tensor
        A scalar in [−1, 1].

    Notes
    -----
    Derived in chapter 5.
    """
    # no finiteness check: NaN predictions are how a diverging run shows (train_ssl records them)
    check_tensor("p", p, dtype_kind="float", finite=False)
    check_tensor("z", z, dtype_kind="float", finite=False)
    if p.shape != z.shape or p.ndim != 2:
        raise ValueError(f"p and z must have the same shape (n, d), got {tuple(p.shape)} and {tuple(z.shape)}")
    if check_bool("stop_gradient", stop_gradient):
        z = z.detach()
    return -nn.functional.cosine_similarity(p, z, dim=1, eps=1e-8).mean()


def simsiam_loss(model: SimSiam, x1: torch.Tensor, x2: torch.Tensor, *,
                 stop_gradient: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric SimSiam loss ½D(p₁, z₂) + ½D(p₂, z₁); returns ``(loss, z1)``.

    Parameters
    ----------
    model : SimSiam
    x1, x2 : torch.Tensor
        Two views of the same batch of images.
    stop_gradient : bool, optional
        Detach the targets z (default ``True``, SimSiam).

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        The scalar loss and the projections of the first view (for
        :func:`collapse_std`).
    """
    check_instance("model", model, SimSiam)
    _check_batch("x1", x1)
    _check_batch("x2", x2)
    z1, p1 = model(x1)
    z2, p2 = model(x2)
    loss = 0.5 * (negative_cosine(p1, z2, stop_gradient=stop_gradient)
                  + negative_cosine(p2, z1, stop_gradient=stop_gradient))
    return loss, z1


def mean_target_loss(model: SimSiam, x_view: torch.Tensor, x_mean: torch.Tensor, *,
                     stop_gradient: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """The article's proposal: mean of ‖n(F(T(x))) − n(F(x̄))‖²; returns ``(loss, z)``.

    Parameters
    ----------
    model : SimSiam
        Only ``model.encode`` (F) is used; the predictor is ignored.
    x_view : torch.Tensor
        A random view T(x) of each image.
    x_mean : torch.Tensor
        The average x̄ of each image's views (:func:`lrtheory.ssl_data.augmentation_mean`).
    stop_gradient : bool, optional
        Detach F(x̄) (default ``False``: the article's objective has no
        stop-gradient).

    Returns
    -------
    (torch.Tensor, torch.Tensor)

    Notes
    -----
    For unit vectors ‖a − b‖² = 2 − 2 a·b, so this is 2 + 2 D(F(T(x)), F(x̄)).
    Derived in chapter 5.
    """
    check_instance("model", model, SimSiam)
    _check_batch("x_view", x_view)
    _check_batch("x_mean", x_mean)
    if x_view.shape != x_mean.shape:
        raise ValueError(f"x_mean must have the shape of x_view, {tuple(x_view.shape)}, got {tuple(x_mean.shape)}")
    z = model.encode(x_view)
    zbar = model.encode(x_mean)
    loss = 2.0 + 2.0 * negative_cosine(z, zbar, stop_gradient=stop_gradient)
    return loss, z


def collapse_std(z: torch.Tensor) -> float:
    """Collapse metric: mean over channels of the batch std of z/‖z‖.

    Parameters
    ----------
    z : torch.Tensor, shape (n, d)
        Outputs for a batch of different images, n ≥ 2.

    Returns
    -------
    float
        ≈ 1/√d for outputs spread evenly over the unit sphere; 0 when every
        image is mapped to the same direction (complete collapse).

    Notes
    -----
    If z/‖z‖ is uniform on the sphere S^{d−1}, each coordinate has mean 0 and
    variance 1/d, hence std 1/√d; the SimSiam paper uses this reference
    value.  Derived in chapter 5.
    """
    check_tensor("z", z, dtype_kind="float", finite=False)  # a diverged run's NaN gives a NaN metric
    if z.ndim != 2 or z.shape[0] < 2:
        raise ValueError(f"z must be a tensor of shape (n, d) with n >= 2, got {tuple(z.shape)}")
    zn = nn.functional.normalize(z.detach().double(), dim=1)
    return float(zn.std(dim=0).mean())


def __getattr__(name: str) -> Any:
    """The single-seed training loop lives in :mod:`lrtheory.ssl_loop` (kept reachable from here)."""
    if name in ("grad_norm", "TrainHistory", "train_ssl"):
        from . import ssl_loop

        return getattr(ssl_loop, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
