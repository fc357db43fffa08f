"""Walks through latent space: interpolation paths and traversal grids.

The functions here are pure NumPy: they take latent codes (1-D vectors of length
``latent_dim``, e.g. one row of ``estimator.transform(X)``) and return the codes to decode.

* :func:`lerp` - the straight line between two codes.
* :func:`slerp` - the great-circle arc between two codes (Shoemake, 1985), the usual choice
  for Gaussian latent spaces, where straight lines pass through low-density regions near
  the origin.
* :func:`traversal_values` - evenly spaced values for sweeping one latent dimension.
"""

from __future__ import annotations

import numbers

import numpy as np

from aekit.exceptions import DataError, ParameterError

__all__ = ["lerp", "slerp", "traversal_values"]

# Below this angle (radians) two directions count as parallel and slerp falls back to lerp:
# the arc and the chord then differ by less than 1e-20 relative, far below float64 precision.
_PARALLEL_ANGLE = 1e-10
# Within this angle of pi, two directions count as antipodal: the great circle through them
# is not unique, so there is no well-defined arc and slerp falls back to lerp.
_ANTIPODAL_ANGLE = 1e-6
# A vector whose norm is below this fraction of the other's has no usable direction.
_ZERO_NORM_RATIO = 1e-12


def lerp(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """Linear interpolation between two latent codes.

    Parameters
    ----------
    a, b : array-like of shape (latent_dim,)
        Start and end codes. Must be finite and of the same length.
    steps : int
        Number of points on the path, endpoints included; at least 2.

    Returns
    -------
    path : ndarray of shape (steps, latent_dim)
        ``path[i] = (1 - t_i) * a + t_i * b`` with ``t_i = i / (steps - 1)``.
        ``path[0]`` equals ``a`` and ``path[-1]`` equals ``b`` exactly. The dtype is the
        floating type of the inputs (float32 inputs give float32, integers give float64).

    Examples
    --------
    >>> lerp([0.0, 0.0], [1.0, 2.0], steps=3)
    array([[0. , 0. ],
           [0.5, 1. ],
           [1. , 2. ]])
    """
    a, b, dtype = _check_vectors(a, b, "lerp")
    steps = _check_steps(steps, "lerp")
    path = _lerp(a, b, steps)
    return _finish(path, a, b, dtype)


def slerp(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """Spherical linear interpolation between two latent codes.

    The direction moves at constant angular speed along the great circle from ``a`` to
    ``b`` (Shoemake's formula); the norm moves linearly from ``|a|`` to ``|b|``. So between
    two unit vectors every point has unit norm, and between codes of different lengths the
    path neither shrinks towards the origin (as :func:`lerp` does) nor overshoots.

    The path falls back to :func:`lerp` when the arc is undefined or degenerate:

    * one of the codes is zero (it has no direction);
    * the codes are parallel (angle below 1e-10 rad), where arc and chord coincide;
    * the codes are antipodal (angle within 1e-6 rad of pi), where infinitely many great
      circles join them; the straight path then passes through (or near) the origin.

    Parameters
    ----------
    a, b : array-like of shape (latent_dim,)
        Start and end codes. Must be finite and of the same length.
    steps : int
        Number of points on the path, endpoints included; at least 2.

    Returns
    -------
    path : ndarray of shape (steps, latent_dim)
        ``path[0]`` equals ``a`` and ``path[-1]`` equals ``b`` exactly. The dtype is the
        floating type of the inputs; the arithmetic is done in float64.

    Examples
    --------
    >>> path = slerp([1.0, 0.0], [0.0, 1.0], steps=3)
    >>> np.round(path, 4)
    array([[1.    , 0.    ],
           [0.7071, 0.7071],
           [0.    , 1.    ]])
    >>> np.linalg.norm(path, axis=1)
    array([1., 1., 1.])
    """
    a, b, dtype = _check_vectors(a, b, "slerp")
    steps = _check_steps(steps, "slerp")

    norm_a = np.linalg.norm(a)
    norm_b = np.linalg.norm(b)
    if min(norm_a, norm_b) <= _ZERO_NORM_RATIO * max(norm_a, norm_b):
        return _finish(_lerp(a, b, steps), a, b, dtype)  # a zero code has no direction

    u_a = a / norm_a  # (D,)
    u_b = b / norm_b  # (D,)
    # The angle from atan2 of chord lengths is accurate near 0 and pi, unlike arccos(dot).
    omega = 2.0 * np.arctan2(np.linalg.norm(u_a - u_b), np.linalg.norm(u_a + u_b))
    if omega < _PARALLEL_ANGLE or np.pi - omega < _ANTIPODAL_ANGLE:
        return _finish(_lerp(a, b, steps), a, b, dtype)

    t = np.linspace(0.0, 1.0, steps)[:, None]  # (S, 1)
    sin_omega = np.sin(omega)
    direction = (np.sin((1.0 - t) * omega) * u_a + np.sin(t * omega) * u_b) / sin_omega  # (S, D)
    radius = (1.0 - t) * norm_a + t * norm_b  # (S, 1)
    return _finish(radius * direction, a, b, dtype)


def traversal_values(center: float, span: float = 3.0, steps: int = 7) -> np.ndarray:
    """Evenly spaced values for sweeping one latent dimension.

    Parameters
    ----------
    center : float
        Middle of the sweep, usually the code's current value in that dimension
        (or 0 for a VAE, whose prior is centred on 0).
    span : float, default=3.0
        Half-width of the sweep. For a VAE with a standard normal prior, 3 covers
        about 99.7% of the prior mass.
    steps : int, default=7
        Number of values, both ends included; at least 2.

    Returns
    -------
    values : ndarray of shape (steps,), float64
        ``center - span`` to ``center + span``, evenly spaced. With an odd ``steps``
        the middle value is ``center``.

    Examples
    --------
    >>> traversal_values(0.0, span=2.0, steps=5)
    array([-2., -1.,  0.,  1.,  2.])
    """
    center = _check_scalar(center, "center", "a finite real number")
    span = _check_scalar(span, "span", "a finite real number > 0")
    if span <= 0:
        raise ParameterError(
            f"traversal_values: the 'span' parameter must be a finite real number > 0. "
            f"Got {span!r} instead."
        )
    steps = _check_steps(steps, "traversal_values")
    return np.linspace(center - span, center + span, steps)


# --------------------------------------------------------------------------- helpers


def _lerp(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, steps)[:, None]  # (S, 1)
    return (1.0 - t) * a + t * b  # (S, D)


def _finish(path: np.ndarray, a: np.ndarray, b: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Cast to the output dtype and pin the endpoints to the inputs bit for bit."""
    path = path.astype(dtype, copy=False)
    path[0] = a
    path[-1] = b
    return path


def _check_vectors(a, b, func: str) -> tuple[np.ndarray, np.ndarray, np.dtype]:
    """Validate two latent codes; return them as float64 plus the output dtype."""
    arrays = []
    for name, value in (("a", a), ("b", b)):
        arr = np.asarray(value)
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool) or np.iscomplexobj(arr):
            raise DataError(
                f"{func}: '{name}' must be a vector of real numbers; got dtype {arr.dtype}. "
                "Pass a latent code, e.g. one row of estimator.transform(X)."
            )
        if arr.ndim != 1:
            raise DataError(
                f"{func}: '{name}' must be a 1-D latent code of shape (latent_dim,); "
                f"got shape {arr.shape}. Pass a single row, e.g. Z[0] rather than Z."
            )
        if arr.shape[0] == 0:
            raise DataError(f"{func}: '{name}' is empty; a latent code needs latent_dim >= 1.")
        arrays.append(arr)
    a_arr, b_arr = arrays
    if a_arr.shape != b_arr.shape:
        raise DataError(
            f"{func}: 'a' and 'b' must have the same length; got {a_arr.shape[0]} and "
            f"{b_arr.shape[0]}. Both must be codes from the same latent space."
        )
    dtype = np.result_type(a_arr.dtype, b_arr.dtype, np.float32)
    a64 = a_arr.astype(np.float64)
    b64 = b_arr.astype(np.float64)
    for name, arr in (("a", a64), ("b", b64)):
        n_bad = int(np.count_nonzero(~np.isfinite(arr)))
        if n_bad:
            raise DataError(
                f"{func}: '{name}' contains {n_bad} NaN or infinite value(s) out of "
                f"{arr.size}. Latent codes must be finite; check the encoder's input."
            )
    return a64, b64, dtype


def _check_steps(steps, func: str) -> int:
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 2:
        raise ParameterError(
            f"{func}: the 'steps' parameter must be an int >= 2 (both endpoints are "
            f"included). Got {steps!r} instead."
        )
    return int(steps)


def _check_scalar(value, name: str, expected: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ParameterError(
            f"traversal_values: the {name!r} parameter must be {expected}. Got {value!r} instead."
        )
    return float(value)


# ---------------------------------------------------------------------------- with a model
def interpolate(model, a, b, steps: int = 8, method: str = "linear") -> tuple[np.ndarray, np.ndarray]:
    """Encode rows ``a`` and ``b``, walk between their codes, decode every step.

    Parameters
    ----------
    model : a fitted aekit Autoencoder, DenoisingAutoencoder or VAE
    a, b : array-like of shape (n_features,) or single-row DataFrames
    steps : int >= 2
    method : {"linear", "slerp"}

    Returns
    -------
    path : ndarray (steps, latent_dim)
        The latent codes; ``path[0]`` and ``path[-1]`` are the codes of ``a`` and ``b``.
    decoded : ndarray (steps, n_features), or a DataFrame
        Decoded rows in the data's units; the ends equal the reconstructions of a and b.
        For a table with text, dates or identifiers, a DataFrame of its feature columns
        (``model.inverse_transform``).
    """
    if method not in ("linear", "slerp"):
        raise ParameterError(f"method must be 'linear' or 'slerp'. Got {method!r} instead.")
    za, zb = model.transform(_as_row(a))[0], model.transform(_as_row(b))[0]
    path = lerp(za, zb, steps) if method == "linear" else slerp(za, zb, steps)
    return path, model.inverse_transform(path)


def traverse(model, x, dim: int, values=None) -> tuple[np.ndarray, np.ndarray]:
    """Vary latent dimension ``dim`` of row ``x``'s code over ``values``; decode each.

    ``values`` defaults to the code's value +/- 3 in 7 steps. Returns the codes
    (len(values), latent_dim) and the decoded rows (len(values), n_features).
    """
    z = model.transform(_as_row(x))[0]
    if not isinstance(dim, numbers.Integral) or not 0 <= dim < z.shape[0]:
        raise ParameterError(f"dim must be an int in [0, {z.shape[0] - 1}]. Got {dim!r} instead.")
    values = traversal_values(float(z[dim])) if values is None else np.asarray(values, dtype=float)
    codes = np.repeat(z[None, :], len(values), axis=0)
    codes[:, dim] = values
    return codes, model.inverse_transform(codes)


def _as_row(x):
    if hasattr(x, "iloc"):
        return x if x.ndim == 2 else x.to_frame().T
    if np.ndim(x) >= 3:
        return x  # a batch of images, e.g. uint8 pixels: the model checks and scales them
    arr = np.asarray(x, dtype=np.float64)
    return arr.reshape(1, -1) if arr.ndim == 1 else arr


__all__ += ["interpolate", "traverse"]
