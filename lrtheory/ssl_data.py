"""Image augmentations for the 8x8 ``digits`` images, written in torch.

Self-supervised Siamese methods (SimSiam, BYOL) learn by making two random
views of the same image agree.  The views here are made from three seeded
transformations, applied per image to a batch at once:

* a random resized crop: a square window covering a random fraction of the
  image's area, at a random place, resized back to 8x8 (bilinear);
* a random shift by a whole number of pixels, filled with zeros;
* additive Gaussian pixel noise.

The crop and the shift are one affine resampling
(:func:`torch.nn.functional.grid_sample`), so a batch of views costs one call.
Every random number comes from an explicit ``torch.Generator``.

Derived in chapter 5.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._validation import check_int, check_scalar, check_tensor

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["DigitImages", "load_digit_images", "augment", "augmentation_mean", "shift_reference"]

IMAGE_SIZE = 8
"""Side length of a ``digits`` image, in pixels."""


@dataclass(frozen=True)
class DigitImages:
    """The ``digits`` split as images in [0, 1], shape ``(n, 1, 8, 8)`` (validation part optional)."""

    X_train: "torch.Tensor"
    y_train: "torch.Tensor"
    X_test: "torch.Tensor"
    y_test: "torch.Tensor"
    X_val: "torch.Tensor | None" = None
    y_val: "torch.Tensor | None" = None


def load_digit_images(*, seed: int = 0, device: Any = None, dtype: Any = None,
                      val_size: float = 0.0) -> DigitImages:
    """Load scikit-learn's ``digits`` as 8x8 images scaled to [0, 1].

    Parameters
    ----------
    seed : int, optional
        Seed of the fixed stratified train/test split (see
        :func:`lrtheory.datasets.load_arrays`; 25 % test).
    device : str, torch.device or None, optional
        Where to put the tensors (``None``: automatic).
    dtype : torch.dtype or None, optional
        Floating dtype (default ``torch.float32``).
    val_size : float, optional
        Fraction of the whole set held out of the training part as a
        validation part (default 0: none), as in
        :func:`lrtheory.datasets.load_dataset`.

    Returns
    -------
    DigitImages
        Images of shape ``(n, 1, 8, 8)`` (pixel value / 16) and int64 labels.
    """
    import torch

    from .datasets import load_dataset

    split = load_dataset("digits", seed=seed, standardize=False, device=device, dtype=dtype, val_size=val_size)

    def img(x: torch.Tensor) -> torch.Tensor:
        return (x / 16.0).reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE)

    if split.X_val is None:
        return DigitImages(img(split.X_train), split.y_train, img(split.X_test), split.y_test)
    return DigitImages(img(split.X_train), split.y_train, img(split.X_test), split.y_test,
                       img(split.X_val), split.y_val)


def _check_images(images: Any) -> "torch.Tensor":
    check_tensor("images", images, dtype_kind="float", nonempty=True)
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"images must be a floating tensor of shape (n, 1, H, W), got {tuple(images.shape)}")
    return images


def _check_generator(generator: Any) -> "torch.Generator":
    import torch

    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    return generator


def augment(
    images: "torch.Tensor",
    generator: "torch.Generator",
    *,
    max_shift: int = 1,
    min_crop_area: float = 0.6,
    noise_std: float = 0.1,
) -> "torch.Tensor":
    """Draw one random view of each image.

    Parameters
    ----------
    images : torch.Tensor, shape (n, 1, H, W)
        The images (any device, floating dtype).
    generator : torch.Generator
        Source of all randomness (on the CPU or on the images' device).
    max_shift : int, optional
        Shifts are drawn uniformly from {−max_shift, …, max_shift} pixels
        along each axis (default 1).
    min_crop_area : float, optional
        The crop covers a fraction of the area drawn uniformly from
        [min_crop_area, 1] (default 0.6); ``1`` switches cropping off.
    noise_std : float, optional
        Standard deviation of the additive Gaussian noise (default 0.1).

    Returns
    -------
    torch.Tensor
        The views, same shape, dtype and device as ``images``.

    Notes
    -----
    In the normalised coordinates u ∈ [−1, 1]² of
    :func:`torch.nn.functional.affine_grid`, output pixel u samples the input
    at s u + c − 2d/W, where s = √area is the crop's side fraction,
    c ∈ [−(1 − s), 1 − s]² places the crop inside the image, and d is the
    integer shift.  With s = 1 and c = 0 this is an exact shift by d pixels
    with zero fill (:func:`shift_reference`).  Derived in chapter 5.
    """
    import torch
    import torch.nn.functional as F

    images = _check_images(images)
    generator = _check_generator(generator)
    max_shift = check_int("max_shift", max_shift, low=0)
    min_crop_area = check_scalar("min_crop_area", min_crop_area, low=0.0, high=1.0, low_inclusive=False)
    noise_std = check_scalar("noise_std", noise_std, low=0.0)
    n, _, h, w = images.shape
    gdev = generator.device
    opts = {"generator": generator, "device": gdev, "dtype": images.dtype}
    area = min_crop_area + (1.0 - min_crop_area) * torch.rand(n, **opts)
    side = area.sqrt()
    centre = (1.0 - side)[:, None] * (2.0 * torch.rand(n, 2, **opts) - 1.0)
    shift = torch.randint(-max_shift, max_shift + 1, (n, 2), generator=generator, device=gdev).to(images.dtype)
    offset = centre - 2.0 * shift / torch.tensor([w, h], dtype=images.dtype, device=gdev)
    theta = torch.zeros(n, 2, 3, dtype=images.dtype, device=gdev)
    theta[:, 0, 0] = side
    theta[:, 1, 1] = side
    theta[:, :, 2] = offset
    grid = F.affine_grid(theta.to(images.device), list(images.shape), align_corners=False)
    views = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if noise_std > 0:
        views = views + noise_std * torch.randn(images.shape, **opts).to(images.device)
    return views


def augmentation_mean(
    images: "torch.Tensor",
    generator: "torch.Generator",
    num_samples: int,
    **augment_kwargs: Any,
) -> "torch.Tensor":
    """Monte Carlo estimate of x̄ = E_T[T(x)], the average of an image's augmentations.

    Parameters
    ----------
    images : torch.Tensor, shape (n, 1, H, W)
    generator : torch.Generator
    num_samples : int
        Number of random views averaged per image, ≥ 1.
    **augment_kwargs
        Passed on to :func:`augment`.

    Returns
    -------
    torch.Tensor
        The averaged images, same shape as ``images``.

    Notes
    -----
    x̄ is in general not x: crops zoom in, shifts blur, and only the noise
    averages away.  The Monte Carlo error of each pixel is O(num_samples^(-1/2)).
    Derived in chapter 5.
    """
    import torch

    num_samples = check_int("num_samples", num_samples, low=1)
    total = torch.zeros_like(_check_images(images))
    for _ in range(num_samples):
        total += augment(images, generator, **augment_kwargs)
    return total / num_samples


def shift_reference(images: "torch.Tensor", dy: int, dx: int) -> "torch.Tensor":
    """Shift every image by (dy, dx) whole pixels, filling with zeros (slow oracle).

    Parameters
    ----------
    images : torch.Tensor, shape (n, 1, H, W)
    dy, dx : int
        Shift down and to the right (negative: up and to the left).

    Returns
    -------
    torch.Tensor
        Shifted copy of ``images``.
    """
    import torch

    images = _check_images(images)
    dy = check_int("dy", dy)
    dx = check_int("dx", dx)
    out = torch.zeros_like(images)
    h, w = images.shape[-2:]
    for i in range(h):
        for j in range(w):
            si, sj = i - dy, j - dx
            if 0 <= si < h and 0 <= sj < w:
                out[..., i, j] = images[..., si, sj]
    return out
