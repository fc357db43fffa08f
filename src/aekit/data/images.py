"""Image inputs and outputs: IDX files, image folders, image arrays and PNG grids.

Every image array in aekit has the PyTorch layout ``(n_samples, channels, height, width)``,
dtype float32, values in [0, 1], with 1 (grayscale) or 3 (RGB) channels.

* :func:`read_idx` / :func:`write_idx` - the MNIST IDX format, raw or gzipped.
* :func:`read_image_folder` - a folder of PNG/JPEG/BMP files, read with Pillow.
* :func:`to_image_array` / :func:`looks_like_images` - check and normalise arrays.
* :func:`make_grid` / :func:`save_image_grid` - tile images into one picture and save it.
"""

from __future__ import annotations

import gzip
import logging
import math
import numbers
import os
import zlib
from pathlib import Path
from typing import Literal

import numpy as np

from aekit._atomic import atomic_file
from aekit.exceptions import DataError, ParameterError

__all__ = [
    "read_idx",
    "write_idx",
    "read_image_folder",
    "to_image_array",
    "looks_like_images",
    "make_grid",
    "save_image_grid",
]

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp"})

# IDX type codes (http://yann.lecun.com/exdb/mnist/); data is stored big-endian.
_IDX_CODE_TO_DTYPE = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_IDX_DTYPE_TO_CODE = {dt.newbyteorder("="): code for code, dt in _IDX_CODE_TO_DTYPE.items()}
_GZIP_MAGIC = b"\x1f\x8b"

# save_image_grid(scale="auto") upscales until the shorter side of one image is this long,
# so that 8x8 digits come out as 32x32 tiles instead of specks.
_AUTO_SCALE_MIN_SIDE = 32


# --------------------------------------------------------------------------- IDX files


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an array from an IDX file (the MNIST format), raw or gzip-compressed.

    Compression is detected from the content (gzip magic bytes ``1f 8b``), so
    ``train-images-idx3-ubyte`` and ``train-images-idx3-ubyte.gz`` both work whatever
    their names say.

    Parameters
    ----------
    path : str or path-like
        The IDX file.

    Returns
    -------
    array : ndarray
        The stored array, in native byte order, with the stored dtype (uint8, int8,
        int16, int32, float32 or float64) and shape. MNIST images come back as
        ``(n_samples, 28, 28)`` uint8 and labels as ``(n_samples,)`` uint8; pass images
        through :func:`to_image_array` to get float32 in [0, 1].

    Raises
    ------
    DataError
        If the file is missing, is named ``.gz`` but is not gzip data, is a damaged gzip
        stream, does not start with the IDX magic number, has an unknown type code, or
        holds fewer or more data bytes than its header announces.
    """
    path = Path(path)
    raw = _read_bytes(path)
    compressed = raw[:2] == _GZIP_MAGIC
    if compressed:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise DataError(
                f"{path}: the gzip stream is damaged ({err}). The file was probably cut "
                "short while downloading; download it again."
            ) from None
    elif path.suffix.lower() == ".gz":
        raise DataError(
            f"{path}: the name ends in '.gz' but the file is not gzip-compressed "
            f"(it starts with bytes {raw[:4].hex(' ') or 'nothing'}, not 1f 8b). If it is "
            "an uncompressed IDX file, remove '.gz' from its name; otherwise download it again."
        )
    where = f"{path} (after gzip decompression)" if compressed else str(path)

    if len(raw) < 4:
        raise DataError(
            f"{where}: the file is {len(raw)} bytes long, too short for an IDX header "
            "(at least 4 bytes). The file is empty or truncated; download it again."
        )
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_CODE_TO_DTYPE or raw[3] == 0:
        codes = ", ".join(f"0x{c:02X}" for c in _IDX_CODE_TO_DTYPE)
        raise DataError(
            f"{where}: not an IDX file: the magic number is {raw[:4].hex(' ')}, expected "
            f"00 00 <type code: one of {codes}> <number of dimensions >= 1>. Check that "
            "this is an MNIST-style IDX file (e.g. train-images-idx3-ubyte)."
        )
    dtype = _IDX_CODE_TO_DTYPE[raw[2]]
    ndim = raw[3]
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise DataError(
            f"{where}: the header announces {ndim} dimensions ({header_len} header bytes) "
            f"but the file is only {len(raw)} bytes long. The file is truncated; download "
            "it again."
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = math.prod(shape) * dtype.itemsize
    found = len(raw) - header_len
    if found != expected:
        problem = "truncated" if found < expected else "followed by unexpected extra bytes"
        raise DataError(
            f"{where}: the header announces shape {shape} of {dtype.newbyteorder('=')} "
            f"({expected} data bytes) but the file holds {found} data bytes. The file is "
            f"{problem}; download it again."
        )
    array = np.frombuffer(raw, dtype=dtype, offset=header_len).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # native byte order, writeable copy


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write an array to an IDX file, gzip-compressed if ``path`` ends in ``.gz``.

    The file is written atomically: to a temporary file in the same folder, then renamed,
    so an interrupted write never leaves a half-written file under ``path``.

    Parameters
    ----------
    path : str or path-like
        Destination. A ``.gz`` suffix (any case) selects gzip compression.
    array : array-like
        At least 1-D, with dtype uint8, int8, int16, int32, float32 or float64 (the types
        IDX can store), and at most 255 dimensions each below 2**32.

    Raises
    ------
    DataError
        If the dtype or shape cannot be stored in IDX, or the folder does not exist.
    """
    path = Path(path)
    array = np.asarray(array)
    code = _IDX_DTYPE_TO_CODE.get(array.dtype.newbyteorder("="))
    if code is None:
        raise DataError(
            f"{path}: IDX cannot store dtype {array.dtype}; it stores uint8, int8, int16, "
            "int32, float32 or float64. Convert first, e.g. array.astype(np.uint8) for "
            "0-255 pixels or array.astype(np.float32)."
        )
    if not 1 <= array.ndim <= 255 or any(d >= 2**32 for d in array.shape):
        raise DataError(
            f"{path}: IDX stores arrays with 1 to 255 dimensions, each below 2**32; "
            f"got shape {array.shape}. Reshape the array first."
        )
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + array.astype(_IDX_CODE_TO_DTYPE[code], copy=False).tobytes(order="C")
    if path.suffix.lower() == ".gz":
        payload = gzip.compress(payload, compresslevel=6, mtime=0)  # mtime=0: reproducible
    with atomic_file(path) as tmp:
        tmp.write_bytes(payload)


# --------------------------------------------------------------------------- image folders


def read_image_folder(path: str | os.PathLike[str]) -> tuple[np.ndarray, list[str]]:
    """Read every image in a folder into one array.

    Files are taken in name order; hidden files (names starting with ``.``) are ignored.
    A folder that holds images directly is read alone (its subfolders are not). A folder
    that holds only subfolders of images (one per class, as torchvision's ``ImageFolder``
    and most image datasets lay them out) is read subfolder by subfolder, in name order,
    each image named ``subfolder/file``. Every file read must be a PNG, JPEG or BMP image,
    and all must have the same height and width.

    Channels are converted consistently:

    * grayscale modes (``1``, ``L``, ``I;16``, ``I``) give 1 channel; ``LA`` drops its
      alpha channel and becomes ``L``;
    * ``RGB`` gives 3 channels; ``RGBA`` drops its alpha channel (it is not composited
      onto a background); palette (``P``), ``CMYK`` and other colour modes become ``RGB``;
    * if the folder mixes grayscale and colour images, the grayscale ones are repeated to
      3 channels, so the whole array is RGB.

    Parameters
    ----------
    path : str or path-like
        The folder.

    Returns
    -------
    images : ndarray of shape (n_samples, channels, height, width), float32
        Pixel values in [0, 1] (8-bit pixels divided by 255, 16-bit by 65535);
        ``channels`` is 1 or 3.
    names : list of str
        The file names (without the folder; ``subfolder/file`` for class subfolders), in
        the same order as ``images``.

    Raises
    ------
    DataError
        If the folder does not exist or holds no images, if a file is not a readable
        PNG/JPEG/BMP image, or if the images differ in size.
    """
    from PIL import Image  # imported here: only image I/O needs Pillow

    folder = Path(path)
    if not folder.is_dir():
        raise DataError(
            f"{folder}: no such folder. Pass a folder that contains PNG, JPEG or BMP images."
        )
    files = _visible(folder, files=True)
    unread = [sub.name for sub in _visible(folder, files=False) if _visible(sub, files=True)]
    own = [f for f in files if f.suffix.lower() in IMAGE_SUFFIXES]
    if own and unread:
        logger.warning("%s: its subfolders (%s) are not read: the folder holds images of its "
                       "own. Pass a subfolder, or move the images into subfolders.", folder,
                       ", ".join(unread[:5]))
    if not own and unread:  # class subfolders; a README or LICENSE beside them is no image
        if files:
            logger.info("%s: %s beside the class subfolders not read", folder,
                        ", ".join(f.name for f in files[:5]))
        files = []
    if not files:
        classes = [sub for sub in _visible(folder, files=False) if _visible(sub, files=True)]
        files = [f for sub in classes for f in _visible(sub, files=True)]
        if classes:
            logger.info("%s: %d images read from %d subfolders (%s)", folder, len(files),
                        len(classes), ", ".join(sub.name for sub in classes[:10]))
    if not files:
        raise DataError(
            f"{folder}: the folder contains no images. Put PNG, JPEG or BMP files in it, "
            "or in subfolders of it, one level down (hidden files are not read)."
        )

    pixels: list[np.ndarray] = []  # each (H, W) or (H, W, 3), float32 in [0, 1]
    first_size: tuple[Path, tuple[int, int]] | None = None
    for file in files:
        if file.suffix.lower() not in IMAGE_SUFFIXES:
            raise DataError(
                f"{file}: not an image file (suffix {file.suffix or 'none'!r}); the folder "
                "may hold only PNG, JPEG or BMP images (.png, .jpg, .jpeg, .bmp). Move "
                "other files out of it."
            )
        try:
            with Image.open(file) as img:
                img.load()
                arr = _pil_to_float(img)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
            raise DataError(
                f"{file}: cannot be read as an image ({err}). Replace or remove the file."
            ) from None
        size = arr.shape[:2]
        if first_size is None:
            first_size = (file, size)
        elif size != first_size[1]:
            (h0, w0), (h1, w1) = first_size[1], size
            raise DataError(
                f"{folder}: images differ in size: {first_size[0].name} is {h0}x{w0} "
                f"(height x width) but {file.name} is {h1}x{w1}. Resize all images to one "
                "size first."
            )
        pixels.append(arr)

    if any(a.ndim == 3 for a in pixels):
        n_gray = sum(a.ndim == 2 for a in pixels)
        if n_gray:
            logger.info(
                "%s: %d grayscale image(s) among colour ones; repeating them to 3 channels.",
                folder,
                n_gray,
            )
        images = np.stack([np.dstack([a] * 3) if a.ndim == 2 else a for a in pixels])
        images = images.transpose(0, 3, 1, 2)  # (N, H, W, 3) -> (N, 3, H, W)
    else:
        images = np.stack(pixels)[:, None]  # (N, H, W) -> (N, 1, H, W)
    return np.ascontiguousarray(images, dtype=np.float32), \
        [f.relative_to(folder).as_posix() for f in files]


def _visible(folder: Path, *, files: bool) -> list[Path]:
    """A folder's files (or subfolders) in name order, without hidden ones."""
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".")
                  and (p.is_file() if files else p.is_dir()))


def _pil_to_float(img) -> np.ndarray:
    """One Pillow image -> (H, W) grayscale or (H, W, 3) RGB float32 in [0, 1]."""
    mode = img.mode
    if mode in {"I;16", "I;16B", "I;16L", "I"}:
        # 16-bit grayscale (Pillow may widen it to 32-bit "I"); values are 0..65535.
        arr = np.asarray(img, dtype=np.float64) / 65535.0
        return np.clip(arr, 0.0, 1.0).astype(np.float32)
    if mode in {"1", "L", "LA"}:
        return np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    if mode == "F":
        return np.clip(np.asarray(img, dtype=np.float32), 0.0, 1.0)
    # RGB, RGBA (alpha dropped), P, PA, CMYK, YCbCr, ...
    return np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0


# --------------------------------------------------------------------------- image arrays


def looks_like_images(X) -> bool:
    """Whether ``X`` has an image layout: 3-D ``(N, H, W)`` or 4-D ``(N, C, H, W)``.

    Tabular data is 2-D, so this separates the two kinds of input. It checks only the number
    of dimensions; :func:`to_image_array` checks the rest and explains what is wrong.

    Examples
    --------
    >>> looks_like_images(np.zeros((10, 8, 8))), looks_like_images(np.zeros((10, 64)))
    (True, False)
    """
    return np.ndim(X) in (3, 4)


def to_image_array(X, *, source: str = "input") -> np.ndarray:
    """Check an image array and convert it to float32 ``(N, C, H, W)`` in [0, 1].

    Parameters
    ----------
    X : array-like of shape (n_samples, height, width) or (n_samples, channels, height, width)
        Channels first, as in PyTorch; ``channels`` must be 1 (grayscale) or 3 (RGB).
        Four channels (RGBA) are refused rather than guessed at: drop or composite the alpha
        channel first, e.g. ``X[:, :3]``. Accepted dtypes:

        * uint8 - divided by 255; uint16 - divided by 65535;
        * bool - False/True become 0.0/1.0;
        * float - must already lie in [0, 1] (values within 1e-6 of the range are
          clipped onto it).

        Other integer dtypes are refused because their scale is ambiguous (0-1 masks or
        0-255 intensities?).
    source : str, default="input"
        What ``X`` is, for error messages (e.g. a file name).

    Returns
    -------
    images : ndarray of shape (n_samples, channels, height, width), float32
        A new array; grayscale 3-D input gains ``channels = 1``.

    Raises
    ------
    DataError
        If the shape, dtype or values do not fit the rules above.

    Examples
    --------
    >>> to_image_array(np.full((2, 8, 8), 255, dtype=np.uint8)).shape
    (2, 1, 8, 8)
    """
    return _to_nchw(X, source=source, clip=False)


def _to_nchw(X, *, source: str, clip: bool) -> np.ndarray:
    """Shared by to_image_array (clip=False: strict range) and make_grid (clip=True)."""
    X = np.asarray(X)
    if X.ndim not in (3, 4):
        raise DataError(
            f"{source}: expected images of shape (n_samples, height, width) or "
            f"(n_samples, channels, height, width); got a {X.ndim}-D array of shape "
            f"{X.shape}. For one image, add a batch axis: X[None]."
        )
    if X.ndim == 3:
        X = X[:, None]  # (N, H, W) -> (N, 1, H, W)
    n, c, h, w = X.shape
    if c not in (1, 3):
        if X.shape[-1] in (1, 3, 4) and c > 4:
            hint = "It looks channels-last; use X.transpose(0, 3, 1, 2)."
        elif c == 4:
            hint = "For RGBA, drop the alpha channel: X[:, :3]."
        else:
            hint = "Pass grayscale (1 channel) or RGB (3 channels) images."
        raise DataError(
            f"{source}: images must have 1 or 3 channels in axis 1 (n_samples, channels, "
            f"height, width); got shape {X.shape} with {c} channels. {hint}"
        )
    if n == 0 or h == 0 or w == 0:
        raise DataError(f"{source}: got an empty image array of shape {X.shape}.")

    if X.dtype == np.uint8:
        return (X / np.float32(255)).astype(np.float32)
    if X.dtype == np.uint16:
        return (X / np.float32(65535)).astype(np.float32)
    if X.dtype == bool:
        return X.astype(np.float32)
    if np.issubdtype(X.dtype, np.integer):
        raise DataError(
            f"{source}: integer images of dtype {X.dtype} are ambiguous. Convert 0-255 "
            "intensities with X.astype(np.uint8), or pass floats scaled to [0, 1]."
        )
    if not np.issubdtype(X.dtype, np.floating):
        raise DataError(
            f"{source}: images must be numbers (uint8, uint16, bool or float in [0, 1]); "
            f"got dtype {X.dtype}."
        )
    # When clipping, +-inf has an obvious place (1 or 0) but NaN has none.
    bad = np.isnan(X) if clip else ~np.isfinite(X)
    n_bad = int(np.count_nonzero(bad))
    if n_bad:
        what = "NaN" if clip else "NaN or infinite"
        raise DataError(
            f"{source}: {n_bad} of {X.size} pixel values are {what}. Images must be "
            "finite; check how they were produced (e.g. a diverged model)."
        )
    X = X.astype(np.float32)
    if not clip:
        lo, hi = float(X.min()), float(X.max())
        if lo < -1e-6 or hi > 1 + 1e-6:
            raise DataError(
                f"{source}: float images must lie in [0, 1]; got values in [{lo:g}, {hi:g}]. "
                "Scale them first, e.g. X / 255 for 0-255 intensities, X / 16 for "
                "scikit-learn's digits, or (X - X.min()) / (X.max() - X.min())."
            )
    return np.clip(X, 0.0, 1.0)


# --------------------------------------------------------------------------- grids


def make_grid(images, nrow: int = 8, padding: int = 2, *, pad_value: float = 0.5) -> np.ndarray:
    """Tile images into one picture, row by row.

    As in ``torchvision.utils.make_grid``, ``nrow`` is the number of images in each row of
    the grid, and ``padding`` pixels separate the tiles and frame the grid.

    Parameters
    ----------
    images : array-like of shape (n_samples, height, width) or (n_samples, channels, height, width)
        1 or 3 channels; uint8, uint16, bool, or float (clipped to [0, 1], so a decoder's
        slight overshoot is fine). NaN is an error.
    nrow : int, default=8
        Images per grid row, >= 1. The grid has ``ceil(n_samples / nrow)`` rows, and
        ``min(nrow, n_samples)`` columns.
    padding : int, default=2
        Pixels between tiles and around the border, >= 0.
    pad_value : float, default=0.5
        Gray level of the padding and of empty cells in the last row; mid-gray separates
        both white-on-black digits and dark-on-light pictures.

    Returns
    -------
    grid : ndarray of shape (H', W', channels), float32 in [0, 1]
        With ``n_cols = min(nrow, n_samples)`` and ``n_rows = ceil(n_samples / n_cols)``:
        ``H' = n_rows * (height + padding) + padding`` and
        ``W' = n_cols * (width + padding) + padding``.

    Examples
    --------
    >>> make_grid(np.zeros((5, 8, 8)), nrow=4, padding=2).shape
    (22, 42, 1)
    """
    nrow = _check_int(nrow, "nrow", minimum=1)
    padding = _check_int(padding, "padding", minimum=0)
    if isinstance(pad_value, bool) or not isinstance(pad_value, numbers.Real):
        raise ParameterError(f"The 'pad_value' parameter must be a float. Got {pad_value!r}.")
    if not 0.0 <= pad_value <= 1.0:
        raise ParameterError(
            f"The 'pad_value' parameter must be in [0, 1]. Got {pad_value!r} instead."
        )
    x = _to_nchw(images, source="images", clip=True)  # (N, C, H, W)
    n, c, h, w = x.shape
    n_cols = min(nrow, n)
    n_rows = math.ceil(n / n_cols)
    grid = np.full(
        (n_rows * (h + padding) + padding, n_cols * (w + padding) + padding, c),
        pad_value,
        dtype=np.float32,
    )
    for i in range(n):
        row, col = divmod(i, n_cols)
        top = padding + row * (h + padding)
        left = padding + col * (w + padding)
        grid[top : top + h, left : left + w] = x[i].transpose(1, 2, 0)  # (C, H, W) -> (H, W, C)
    return grid


def save_image_grid(
    path: str | os.PathLike[str],
    images,
    nrow: int = 8,
    *,
    padding: int = 2,
    scale: int | Literal["auto"] = "auto",
    pad_value: float = 0.5,
) -> np.ndarray:
    """Tile images with :func:`make_grid` and save the result as a PNG file.

    The file is written atomically (a temporary file in the same folder, then renamed), so
    an interrupted call never leaves a half-written image under ``path``.

    Parameters
    ----------
    path : str or path-like
        Destination; must end in ``.png``. Its folder must exist.
    images : array-like of shape (n_samples, height, width) or (n_samples, channels, height, width)
        As for :func:`make_grid`: 1 or 3 channels, values clipped to [0, 1].
    nrow : int, default=8
        Images per grid row.
    padding : int, default=2
        Pixels between tiles and around the border, before upscaling.
    scale : int >= 1 or "auto", default="auto"
        Integer upscaling factor (nearest neighbour, so pixels stay sharp). ``"auto"`` picks
        the smallest factor that makes each image at least 32 pixels on its shorter side:
        4 for 8x8 digits, 2 for 28x28 MNIST, 1 for 32x32 and larger.
    pad_value : float, default=0.5
        Gray level of the padding, in [0, 1].

    Returns
    -------
    grid : ndarray of shape (scale * H', scale * W', channels), float32 in [0, 1]
        The picture as written (before quantisation to 8 bits); ``H'`` and ``W'`` are
        given in :func:`make_grid`.

    Raises
    ------
    ParameterError
        If ``path`` does not end in ``.png`` or ``nrow``, ``padding`` or ``scale`` is invalid.
    DataError
        If ``images`` is not a valid image array, or the destination folder does not exist.
    """
    from PIL import Image  # imported here: only image I/O needs Pillow

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ParameterError(
            f"{path}: save_image_grid writes PNG files; give a path ending in '.png'."
        )
    grid = make_grid(images, nrow, padding, pad_value=pad_value)  # (H', W', C)
    if scale == "auto":
        h, w = np.shape(images)[-2:]
        factor = max(1, math.ceil(_AUTO_SCALE_MIN_SIDE / min(h, w)))
    else:
        factor = _check_int(scale, "scale", minimum=1, extra=" or 'auto'")
    if factor > 1:
        grid = grid.repeat(factor, axis=0).repeat(factor, axis=1)

    pixels = np.round(grid * 255).astype(np.uint8)  # (H, W, C)
    if pixels.shape[2] == 1:
        picture = Image.fromarray(pixels[:, :, 0], mode="L")
    else:
        picture = Image.fromarray(pixels, mode="RGB")
    with atomic_file(path) as tmp:
        picture.save(tmp, format="PNG")
    return grid


# --------------------------------------------------------------------------- helpers


def _check_int(value, name: str, *, minimum: int, extra: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ParameterError(
            f"The {name!r} parameter must be an int >= {minimum}{extra}. Got {value!r} instead."
        )
    return int(value)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file. Check the path.") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, expected a file.") from None
