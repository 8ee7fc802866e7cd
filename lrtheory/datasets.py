"""The small real data sets of the book: scikit-learn's bundled, offline data.

scikit-learn ships a few classic data sets inside its wheel, so they load with
no network: ``digits`` (8x8 images of handwritten digits, 10 classes),
``breast_cancer`` (30 features, 2 classes), ``wine`` (13 features, 3 classes)
and ``iris`` (4 features, 3 classes).  :func:`load_arrays` returns a fixed,
stratified train/test split (or train/validation/test, with ``val_size``) as
numpy arrays, standardised with the training set's statistics;
:func:`load_dataset` returns the same split as torch tensors.
:func:`random_orthogonal` and :func:`rotate_features` apply one random rotation
to the features of every part of a split (chapter 1's rotation test: rules that
commute with rotations see no difference, per-coordinate rules do).

The experiment protocol (:mod:`lrtheory.protocol`, every chapter) tunes on the
validation part only and scores the test part once per chosen configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validation import check_array, check_bool, check_choice, check_int, check_scalar, check_str, check_tensor

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["DATASETS", "ArraySplit", "TensorSplit", "load_arrays", "load_dataset", "random_orthogonal",
           "rotate_features"]

DATASETS: tuple[str, ...] = ("digits", "breast_cancer", "wine", "iris")
"""Names accepted by :func:`load_arrays` and :func:`load_dataset`."""


@dataclass(frozen=True)
class ArraySplit:
    """A train/(validation/)test split as numpy arrays (features ``float64``, labels ``int64``).

    ``X_val`` and ``y_val`` are ``None`` unless the split was made with a
    validation part (``val_size > 0``).  The constructor checks the parts:
    2-d finite features with one width, 1-d integer labels in
    ``[0, num_classes)``, one label per row (``TypeError``/``ValueError``
    naming the field otherwise).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    name: str
    X_val: np.ndarray | None = None
    y_val: np.ndarray | None = None

    def __post_init__(self) -> None:
        _check_split(self, tensors=False)

    @property
    def num_features(self) -> int:
        """Number of input features."""
        return int(self.X_train.shape[1])


@dataclass(frozen=True)
class TensorSplit:
    """A train/(validation/)test split as torch tensors on one device.

    ``X_val`` and ``y_val`` are ``None`` unless the split has a validation part.
    The constructor checks the parts as :class:`ArraySplit` does (floating
    feature tensors, integer label tensors).
    """

    X_train: "torch.Tensor"
    y_train: "torch.Tensor"
    X_test: "torch.Tensor"
    y_test: "torch.Tensor"
    num_classes: int
    name: str
    X_val: "torch.Tensor | None" = None
    y_val: "torch.Tensor | None" = None

    def __post_init__(self) -> None:
        _check_split(self, tensors=True)

    @property
    def num_features(self) -> int:
        """Number of input features."""
        return int(self.X_train.shape[1])


def _check_split(split: Any, *, tensors: bool) -> None:
    """The checks of :class:`ArraySplit` and :class:`TensorSplit`: 2-d finite features, int labels in range."""
    check_str("name", split.name)
    k = check_int("num_classes", split.num_classes, low=1)
    if (split.X_val is None) != (split.y_val is None):
        raise ValueError("X_val and y_val must be given together (or both be None)")
    parts = [("train", split.X_train, split.y_train), ("test", split.X_test, split.y_test)]
    if split.X_val is not None:
        parts.append(("val", split.X_val, split.y_val))
    width = None
    for part, X, y in parts:
        xn, yn = f"X_{part}", f"y_{part}"
        if tensors:
            check_tensor(xn, X, ndim=2, dtype_kind="float", nonempty=True)
            check_tensor(yn, y, ndim=1, dtype_kind="int", finite=False, nonnegative=True)
            bad = y.numel() and int(y.max()) >= k
        else:
            check_array(xn, X, ndim=2, nonempty=True)
            if not (isinstance(y, np.ndarray) and y.dtype.kind in "iu"):
                raise TypeError(f"{yn} must be an integer numpy array, got {getattr(y, 'dtype', type(y).__name__)}")
            check_array(yn, y, ndim=1, nonnegative=True, dtype=None)
            bad = y.size and int(y.max()) >= k
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"{yn} must have one label per row of {xn} ({X.shape[0]}), got {y.shape[0]}")
        if bad:
            raise ValueError(f"{yn} must hold labels in [0, num_classes={k})")
        if width is not None and X.shape[1] != width:
            raise ValueError(f"{xn} must have as many features as X_train ({width}), got {X.shape[1]}")
        width = X.shape[1]


def _raw(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets as skd

    loader = {
        "digits": skd.load_digits,
        "breast_cancer": skd.load_breast_cancer,
        "wine": skd.load_wine,
        "iris": skd.load_iris,
    }[name]
    bunch = loader()
    return np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64)


def load_arrays(
    name: str,
    *,
    test_size: float = 0.25,
    seed: int = 0,
    standardize: bool = True,
    val_size: float = 0.0,
) -> ArraySplit:
    """Load a bundled scikit-learn data set as a fixed, stratified train/(validation/)test split.

    Parameters
    ----------
    name : {"digits", "breast_cancer", "wine", "iris"}
        Which data set.
    test_size : float, optional
        Fraction of the samples held out for testing, in (0, 1). Default 0.25.
    seed : int, optional
        Seed of the shuffle that makes the split (default 0), so the split is
        the same on every machine and in every build.
    standardize : bool, optional
        Shift and scale each feature to zero mean and unit variance using the
        *training* set's statistics (constant features are only shifted).
    val_size : float, optional
        Fraction of *all* samples held out for validation, in [0, 1), with
        ``test_size + val_size < 1``. Default 0: no validation part
        (``X_val`` and ``y_val`` are ``None``).

    Returns
    -------
    ArraySplit
        ``X_train, y_train, X_test, y_test`` (and ``X_val, y_val``) with
        ``float64`` features and ``int64`` labels, plus ``num_classes`` and ``name``.

    Raises
    ------
    ValueError
        If ``name`` is unknown, ``test_size`` is not in (0, 1), ``val_size`` is
        not in [0, 1), or the two leave no training samples.

    Notes
    -----
    The split is made by :func:`sklearn.model_selection.train_test_split` with
    ``stratify=y``, so every class keeps its share in every part.  The test part
    is drawn first, with the same seed as without a validation part, so asking
    for a validation part leaves the test set unchanged; the validation part is
    then drawn from the rest.  Standardisation uses the training part only.
    The protocol of :mod:`lrtheory.protocol` (every chapter) tunes on the
    validation part and reads the test part once per chosen configuration.
    """
    from sklearn.model_selection import train_test_split

    check_choice("name", name, DATASETS)
    test_size = check_scalar("test_size", test_size, low=0.0, high=1.0,
                             low_inclusive=False, high_inclusive=False)
    seed = check_int("seed", seed, low=0, high=2**32 - 1)
    val_size = check_scalar("val_size", val_size, low=0.0, high=1.0, high_inclusive=False)
    standardize = check_bool("standardize", standardize)
    if test_size + val_size >= 1.0:
        raise ValueError(f"test_size + val_size must be < 1, got {test_size} + {val_size}")
    X, y = _raw(name)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=y
    )
    X_va = y_va = None
    if val_size > 0:
        X_tr, X_va, y_tr, y_va = train_test_split(
            X_tr, y_tr, test_size=val_size / (1.0 - test_size), random_state=(seed + 1) % 2**32, stratify=y_tr
        )
    if standardize:
        mean = X_tr.mean(axis=0)
        std = X_tr.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        X_tr = (X_tr - mean) / std
        X_te = (X_te - mean) / std
        if X_va is not None:
            X_va = (X_va - mean) / std
    return ArraySplit(X_tr, y_tr, X_te, y_te, int(y.max()) + 1, name, X_va, y_va)


def load_dataset(
    name: str,
    *,
    test_size: float = 0.25,
    seed: int = 0,
    standardize: bool = True,
    val_size: float = 0.0,
    device: Any = None,
    dtype: Any = None,
) -> TensorSplit:
    """Load a bundled data set as torch tensors (see :func:`load_arrays`).

    Parameters
    ----------
    name, test_size, seed, standardize, val_size
        As in :func:`load_arrays`.
    device : str, torch.device or None, optional
        Where to put the tensors; ``None`` picks ``cuda`` when available
        (:func:`lrtheory.experiments.get_device`).
    dtype : torch.dtype or None, optional
        Floating dtype of the features (default ``torch.float32``). Labels are
        always ``torch.int64``.

    Returns
    -------
    TensorSplit
    """
    import torch

    from .experiments import get_device

    dtype = torch.float32 if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    dev = get_device(device)
    a = load_arrays(name, test_size=test_size, seed=seed, standardize=standardize, val_size=val_size)

    def feats(x: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(x, dtype=dtype, device=dev)

    def labels(x: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(x, dtype=torch.int64, device=dev)

    has_val = a.X_val is not None
    return TensorSplit(feats(a.X_train), labels(a.y_train), feats(a.X_test), labels(a.y_test),
                       a.num_classes, a.name,
                       feats(a.X_val) if has_val else None, labels(a.y_val) if has_val else None)


def random_orthogonal(d: int, seed: int) -> np.ndarray:
    """A random orthogonal d×d matrix, uniformly (Haar) distributed, fixed by ``seed``.

    Parameters
    ----------
    d : int
        Dimension, ≥ 1.
    seed : int
        Seed of the draw (≥ 0).

    Returns
    -------
    numpy.ndarray, shape (d, d)
        Q with QᵀQ = I.

    Notes
    -----
    Drawn by :data:`scipy.stats.ortho_group` (d ≥ 2); for d = 1 it is ±1.
    Chapter 1 rotates the ``digits`` features with it.
    """
    from scipy.stats import ortho_group

    d = check_int("d", d, low=1)
    seed = check_int("seed", seed, low=0, high=2**32 - 1)
    if d == 1:
        return np.array([[1.0 if np.random.default_rng(seed).random() < 0.5 else -1.0]])
    return np.asarray(ortho_group.rvs(d, random_state=np.random.default_rng(seed)), dtype=np.float64)


def rotate_features(split: ArraySplit | TensorSplit, Q: Any) -> ArraySplit | TensorSplit:
    """The same split with every feature vector x replaced by Qx (all parts, one Q).

    Parameters
    ----------
    split : ArraySplit or TensorSplit
        The split to rotate.
    Q : array_like, shape (d, d)
        An orthogonal matrix (e.g. :func:`random_orthogonal`); checked to
        QᵀQ = I within 1e-8.

    Returns
    -------
    ArraySplit or TensorSplit
        The same type, dtype and device; labels unchanged.

    Notes
    -----
    Rows are mapped by X ↦ XQᵀ.  A linear model's logits XWᵀ + b are unchanged
    when W ↦ WQᵀ, and gradient descent, SGD and any rule that multiplies the
    gradient by a scalar commute with that change of variables: started at
    W = 0, they produce the same losses on rotated and unrotated data.  A
    per-coordinate rule (RMSprop, Adam, sign descent) does not.  Chapter 1.
    """
    if not isinstance(split, (ArraySplit, TensorSplit)):
        raise TypeError(f"split must be an ArraySplit or a TensorSplit, got {type(split).__name__}")
    d = split.num_features
    from ._validation import check_array

    Qa = check_array("Q", Q, shape=(d, d))
    if not np.allclose(Qa.T @ Qa, np.eye(d), atol=1e-8):
        raise ValueError("Q must be orthogonal (Q^T Q = I)")
    if isinstance(split, ArraySplit):
        def rot(X: Any) -> Any:
            return None if X is None else X @ Qa.T
    else:
        import torch

        Qt = torch.as_tensor(Qa, dtype=split.X_train.dtype, device=split.X_train.device)

        def rot(X: Any) -> Any:
            return None if X is None else X @ Qt.T
    return type(split)(rot(split.X_train), split.y_train, rot(split.X_test), split.y_test, split.num_classes,
                       split.name, rot(split.X_val), split.y_val)
