"""Picture grids that show what an image model does, as arrays (and optionally PNG files).

Each function takes a model fitted on images (``model.image_shape_`` is set) and returns
the picture from :func:`aekit.data.images.make_grid`: a float32 array
``(height, width, channels)`` in [0, 1]. With ``path=...`` it also writes a PNG, upscaled
for visibility by :func:`aekit.data.images.save_image_grid` (``scale="auto"``).

* :func:`reconstruction_grid` - inputs (top row) over reconstructions (bottom row).
* :func:`denoising_grid` - clean, noisy and denoised rows.
* :func:`sample_grid` - images drawn from a VAE's prior.
* :func:`interpolation_strip` - one image, the decoded walk between two codes, the other.
* :func:`traversal_grid` - one row per latent dimension, varied around an image's code.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from aekit.data.images import make_grid, save_image_grid, to_image_array
from aekit.exceptions import DataError, ParameterError
from aekit.latent import interpolate, traversal_values

__all__ = ["reconstruction_grid", "denoising_grid", "sample_grid", "interpolation_strip",
           "traversal_grid"]

PathLike = str | os.PathLike


def check_image_model(model: Any, what: str) -> tuple[int, ...]:
    model._check_is_fitted()
    shape = getattr(model, "image_shape_", None)
    if shape is None:
        raise ParameterError(
            f"{what} needs a model fitted on images (arrays shaped (N, H, W) or (N, C, H, W), "
            f"IDX files or image folders); this {type(model).__name__} was fitted on a table "
            f"of {model.n_features_in_} features.")
    return tuple(shape)


def _images(X: Any, n: int | None, source: str) -> np.ndarray:
    """(N, C, H, W) float32 in [0, 1], the first ``n`` images."""
    images = to_image_array(X, source=source)
    return images if n is None else images[:n]


def _finish(tiles: np.ndarray, nrow: int, path: PathLike | None) -> np.ndarray:
    grid = make_grid(tiles, nrow=nrow)
    if path is not None:
        save_image_grid(path, tiles, nrow=nrow)
    return grid


def _as_tiles(images: np.ndarray) -> np.ndarray:
    """Model output (N, H, W) or (N, C, H, W), maybe slightly outside [0, 1] -> NCHW."""
    images = np.asarray(images, dtype=np.float32)
    return images[:, None] if images.ndim == 3 else images


def reconstruction_grid(model: Any, X: Any, n: int = 8, *,
                        path: PathLike | None = None) -> np.ndarray:
    """The first ``n`` images of ``X`` (top row) over their reconstructions (bottom row).

    Returns the grid picture ``(H', W', C)``; writes it as PNG too when ``path`` is given.
    """
    check_image_model(model, "reconstruction_grid")
    images = _images(X, n, "X")
    recon = _as_tiles(model.reconstruct(images))
    return _finish(np.concatenate([images, recon]), len(images), path)


def denoising_grid(model: Any, X_clean: Any, X_noisy: Any, n: int = 8, *,
                   path: PathLike | None = None) -> np.ndarray:
    """Rows: clean images, their noisy versions, and the model's output for the noisy ones."""
    check_image_model(model, "denoising_grid")
    clean = _images(X_clean, n, "X_clean")
    noisy = _images(X_noisy, n, "X_noisy")
    if clean.shape != noisy.shape:
        raise DataError(f"X_clean and X_noisy must hold the same images; got shapes "
                        f"{clean.shape} and {noisy.shape}.")
    denoised = _as_tiles(model.reconstruct(noisy))
    return _finish(np.concatenate([clean, noisy, denoised]), len(clean), path)


def sample_grid(model: Any, n: int = 64, *, nrow: int = 8, random_state: Any = None,
                path: PathLike | None = None) -> np.ndarray:
    """``n`` images decoded from codes drawn from a VAE's prior, ``nrow`` per row."""
    check_image_model(model, "sample_grid")
    if not hasattr(model, "sample"):
        raise ParameterError(f"sample_grid needs a VAE; got a {type(model).__name__}.")
    samples = _as_tiles(model.sample(n, random_state=random_state))
    return _finish(samples, nrow, path)


def interpolation_strip(model: Any, a: Any, b: Any, steps: int = 8, *,
                        method: str = "linear", path: PathLike | None = None) -> np.ndarray:
    """One row: image ``a``, ``steps`` images decoded along the path between the codes of
    ``a`` and ``b`` (linear or slerp, ends included), then image ``b``.

    ``a`` and ``b`` are single images, (H, W) or (C, H, W), or batches of one.
    """
    shape = check_image_model(model, "interpolation_strip")
    ends = []
    for name, image in (("a", a), ("b", b)):
        image = np.asarray(image)
        if image.ndim == len(shape):
            image = image[None]
        if image.shape[0] != 1:
            raise DataError(f"{name}: expected one image, got {image.shape[0]}.")
        ends.append(_images(image, None, name))
    _, decoded = interpolate(model, ends[0], ends[1], steps, method)
    tiles = np.concatenate([ends[0], _as_tiles(decoded), ends[1]])
    return _finish(tiles, len(tiles), path)


def traversal_grid(model: Any, x: Any, dims: Any = None, values: Any = None, *,
                   max_dims: int = 10, path: PathLike | None = None) -> np.ndarray:
    """Vary one latent dimension at a time around image ``x``'s code; one row per dimension.

    Parameters
    ----------
    model : fitted image model
    x : one image, (H, W) or (C, H, W), or a batch of one
    dims : sequence of int, optional
        Latent dimensions to show. Default: for a VAE the ``max_dims`` dimensions carrying
        the most KL (the active ones first), otherwise the first ``max_dims``.
    values : sequence of float, optional
        Code values for every column. Default: each dimension's value in ``x``'s code
        +/- 3 in 7 steps.
    """
    shape = check_image_model(model, "traversal_grid")
    image = np.asarray(x)
    image = _images(image[None] if image.ndim == len(shape) else image, None, "x")
    if image.shape[0] != 1:
        raise DataError(f"x: expected one image, got {image.shape[0]}.")
    z = model.transform(image)[0]
    latent_dim = z.shape[0]
    if dims is None:
        order = np.argsort(-model.kl_per_dim_, kind="stable") if hasattr(model, "kl_per_dim_") \
            else np.arange(latent_dim)
        dims = [int(d) for d in order[:max_dims]]
    dims = [int(d) for d in dims]
    bad = [d for d in dims if not 0 <= d < latent_dim]
    if bad or not dims:
        raise ParameterError(f"dims must be latent dimensions in [0, {latent_dim - 1}]; "
                             f"got {dims!r}.")
    rows = []
    for d in dims:
        column_values = traversal_values(float(z[d])) if values is None \
            else np.asarray(values, dtype=np.float64)
        codes = np.repeat(z[None, :], len(column_values), axis=0)
        codes[:, d] = column_values
        rows.append(_as_tiles(model.inverse_transform(codes)))
    return _finish(np.concatenate(rows), len(rows[0]), path)
