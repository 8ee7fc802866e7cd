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

Collapse is measured by :func:`collapse_std`.  Evaluation (k-NN, linear
probe) is in :mod:`lrtheory.ssl_eval`.

Derived in chapter 5.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ._validation import check_bool, check_choice, check_instance, check_int, check_scalar, check_str, check_tensor
from .experiments import get_device, progress, torch_generator
from .ssl_data import augment, augmentation_mean

__all__ = [
    "PREDICTOR_MODES",
    "OBJECTIVES",
    "SimSiam",
    "negative_cosine",
    "simsiam_loss",
    "mean_target_loss",
    "collapse_std",
    "grad_norm",
    "TrainHistory",
    "train_ssl",
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


def grad_norm(params: list[nn.Parameter]) -> float:
    """Euclidean norm of the concatenated gradients of ``params`` (0 if none has one)."""
    if isinstance(params, (str, bytes, torch.Tensor)) or not hasattr(params, "__iter__"):
        raise TypeError(f"params must be a list of tensors, got {type(params).__name__}")
    params = list(params)
    for p in params:
        check_instance("params", p, torch.Tensor, "list of tensors")
    sq = [float(p.grad.detach().double().pow(2).sum()) for p in params if p.grad is not None]
    return float(np.sqrt(sum(sq)))


@dataclass
class TrainHistory:
    """Per-step record of :func:`train_ssl`.

    ``grad_predictor``/``grad_encoder`` are gradient norms and
    ``rel_grad_*`` the same divided by the parameter norm (the relative speed
    ‖Δw‖/‖w‖ per unit learning rate, ignoring momentum and weight decay).
    ``collapse`` is measured on the training batch in train mode, where the
    projector's batch normalisation rescales every channel and so hides a
    collapse; ``eval_collapse`` (at the steps ``eval_step``) is measured in eval
    mode, on fixed clean images, and is the metric to read.
    """

    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    collapse: list[float] = field(default_factory=list)
    grad_predictor: list[float] = field(default_factory=list)
    grad_encoder: list[float] = field(default_factory=list)
    rel_grad_predictor: list[float] = field(default_factory=list)
    rel_grad_encoder: list[float] = field(default_factory=list)
    eval_step: list[int] = field(default_factory=list)
    eval_collapse: list[float] = field(default_factory=list)

    def as_arrays(self) -> dict[str, np.ndarray]:
        """The record as a dict of numpy arrays."""
        return {k: np.asarray(v) for k, v in self.__dict__.items()}


def _param_norm(params: list[nn.Parameter]) -> float:
    return float(np.sqrt(sum(float(p.detach().double().pow(2).sum()) for p in params)))


def train_ssl(
    model: SimSiam,
    images: torch.Tensor,
    *,
    num_steps: int,
    seed: int,
    objective: str = "simsiam",
    stop_gradient: bool = True,
    batch_size: int = 256,
    lr: float = 0.05,
    momentum: float = 0.9,
    weight_decay: float = 1e-4,
    num_mean_samples: int = 16,
    augment_kwargs: dict[str, Any] | None = None,
    device: Any = None,
    eval_every: int = 50,
    eval_images: torch.Tensor | None = None,
    desc: str | None = None,
) -> TrainHistory:
    """Train ``model`` self-supervised on ``images`` with SGD; return the history.

    Parameters
    ----------
    model : SimSiam
        Trained in place (moved to ``device``).
    images : torch.Tensor, shape (n, 1, 8, 8)
        Unlabelled training images.
    num_steps : int
        Number of SGD steps (mini-batches drawn with replacement of batches:
        a fresh random permutation each epoch).
    seed : int
        Seeds the batch order and the augmentations.
    objective : {"simsiam", "mean_target"}, optional
        SimSiam's symmetric loss (:func:`simsiam_loss`) or the article's
        proposal (:func:`mean_target_loss`).
    stop_gradient : bool, optional
        For ``"simsiam"``: detach the targets (default).  For
        ``"mean_target"``: detach F(x̄) (pass ``False`` for the article's form).
    batch_size : int, optional
    lr, momentum, weight_decay : float, optional
        Constant-step SGD (:class:`torch.optim.SGD`) on every trainable
        parameter.
    num_mean_samples : int, optional
        Views averaged per image to estimate x̄ (``"mean_target"`` only).
    augment_kwargs : dict, optional
        Passed on to :func:`lrtheory.ssl_data.augment`.
    device : str, torch.device or None, optional
        ``None``: automatic (CUDA when available).
    eval_every : int, optional
        Record ``eval_collapse`` every this many steps and after the last.
    eval_images : torch.Tensor, optional
        Clean images for ``eval_collapse`` (default: the first 512 of ``images``).
    desc : str, optional
        Label of the progress bar.

    Returns
    -------
    TrainHistory
        One entry per step.  ``collapse`` is :func:`collapse_std` of the
        batch's projections z.

    Notes
    -----
    Derived in chapter 5.
    """
    if not isinstance(model, SimSiam):
        raise TypeError(f"model must be a SimSiam, got {type(model).__name__}")
    check_tensor("images", images, dtype_kind="float", nonempty=True)
    if images.ndim != 4:
        raise ValueError("images must be a tensor of shape (n, 1, H, W)")
    stop_gradient = check_bool("stop_gradient", stop_gradient)
    if augment_kwargs is not None and not isinstance(augment_kwargs, dict):
        raise TypeError(f"augment_kwargs must be a dict, got {type(augment_kwargs).__name__}")
    if eval_images is not None:
        check_tensor("eval_images", eval_images, dtype_kind="float")
        if eval_images.ndim != 4 or eval_images.shape[1:] != images.shape[1:] or eval_images.shape[0] < 2:
            raise ValueError(f"eval_images must be at least 2 images shaped like images, {tuple(images.shape[1:])}, "
                             f"got {tuple(eval_images.shape)}")
    if desc is not None:
        check_str("desc", desc)
    num_steps = check_int("num_steps", num_steps, low=0)
    seed = check_int("seed", seed, low=0)
    objective = check_choice("objective", objective, OBJECTIVES)
    batch_size = check_int("batch_size", batch_size, low=2)
    lr = check_scalar("lr", lr, low=0.0, low_inclusive=False)
    momentum = check_scalar("momentum", momentum, low=0.0, high=1.0, high_inclusive=False)
    weight_decay = check_scalar("weight_decay", weight_decay, low=0.0)
    num_mean_samples = check_int("num_mean_samples", num_mean_samples, low=1)
    eval_every = check_int("eval_every", eval_every, low=1)
    aug = dict(augment_kwargs or {})
    dev = get_device(device)
    model.to(dev)
    x_all = images.to(dev)
    n = x_all.shape[0]
    batch_size = min(batch_size, n)
    gen = torch_generator(seed, "cpu")
    x_eval = (images[:512] if eval_images is None else eval_images).to(dev)
    x_mean = None
    if objective == "mean_target":
        x_mean = augmentation_mean(x_all.cpu(), gen, num_mean_samples, **aug).to(dev)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    enc, pred = model.encoder_parameters(), model.predictor_parameters()
    hist = TrainHistory()
    model.train()
    order = torch.randperm(n, generator=gen)
    pos = 0

    def record_eval(step: int) -> None:
        model.eval()
        with torch.no_grad():
            hist.eval_step.append(step)
            hist.eval_collapse.append(collapse_std(model.encode(x_eval)))
        model.train()

    for step in progress(range(num_steps), desc=desc or objective, total=num_steps):
        if step % eval_every == 0:
            record_eval(step)
        if pos + batch_size > n:
            order, pos = torch.randperm(n, generator=gen), 0
        idx = order[pos:pos + batch_size].to(dev)
        pos += batch_size
        xb = x_all[idx]
        if objective == "simsiam":
            x1 = augment(xb.cpu(), gen, **aug).to(dev)
            x2 = augment(xb.cpu(), gen, **aug).to(dev)
            loss, z = simsiam_loss(model, x1, x2, stop_gradient=stop_gradient)
        else:
            assert x_mean is not None
            xv = augment(xb.cpu(), gen, **aug).to(dev)
            loss, z = mean_target_loss(model, xv, x_mean[idx], stop_gradient=stop_gradient)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        g_enc, g_pred = grad_norm(enc), grad_norm(pred)
        hist.step.append(step)
        hist.loss.append(float(loss.detach()))
        hist.collapse.append(collapse_std(z))
        hist.grad_encoder.append(g_enc)
        hist.grad_predictor.append(g_pred)
        hist.rel_grad_encoder.append(g_enc / max(_param_norm(enc), 1e-12))
        hist.rel_grad_predictor.append(g_pred / max(_param_norm(pred), 1e-12) if pred else 0.0)
        opt.step()
    record_eval(num_steps)
    model.eval()
    return hist
