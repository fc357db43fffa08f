"""The model directory format: safetensors + JSON, written atomically, never unpickled.

A model directory holds exactly::

    estimator.json       {"format": "aekit-model", "format_version": 2, "aekit_version": ...,
                          "class": "Autoencoder", "params": {...}, "fitted": {...},
                          "weights_sha256": "..."}
    weights.safetensors  the module's state_dict
    history.json         train/validation loss per epoch

The SHA-256 of the weights file is recorded, so a tampered or truncated weights file is
refused before it is parsed. Only these fixed names inside the directory are ever opened;
nothing in the JSON can make aekit read or write elsewhere. Saving writes a temporary
directory beside the target and renames it into place.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from aekit._atomic import atomic_directory
from aekit._version import __version__
from aekit.exceptions import ModelFileError

FORMAT = "aekit-model"
FORMAT_VERSION = 2
CONFIG_FILE = "estimator.json"
WEIGHTS_FILE = "weights.safetensors"
HISTORY_FILE = "history.json"
MAX_JSON_BYTES = 64 * 1024 * 1024


def _json_safe(value: Any) -> Any:
    """Parameters as JSON: tuples become lists, numpy scalars become Python numbers."""
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (np.random.RandomState, np.random.Generator)):
        return None  # a generator's state is not a parameter worth keeping
    if isinstance(value, torch.device):
        return str(value)
    return value


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_model(estimator: Any, path: str | os.PathLike) -> Path:
    """Write a fitted estimator to directory ``path`` atomically (replacing an old one).

    The estimator provides ``get_params``, ``_weights()`` (tensors), ``_fitted_state()``
    (JSON) and ``_history_dict()`` (JSON).
    """
    estimator._check_is_fitted()
    path = Path(path)
    name = type(estimator).__name__
    with atomic_directory(path) as tmp:
        weights = {k: v.detach().cpu().contiguous() for k, v in estimator._weights().items()}
        save_file(weights, str(tmp / WEIGHTS_FILE), metadata={"format": FORMAT})
        params = {k: _json_safe(v) for k, v in estimator.get_params(deep=False).items()}
        config = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "aekit_version": __version__,
            "class": name,
            "params": params,
            "fitted": estimator._fitted_state(),
            "weights_sha256": _sha256(tmp / WEIGHTS_FILE),
        }
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2, allow_nan=False))
        (tmp / HISTORY_FILE).write_text(json.dumps(estimator._history_dict(), allow_nan=True))
    return path


def _check_inside(path: Path) -> None:
    """Refuse a model file that is a symlink (or otherwise resolves outside its directory):
    a model directory must never make aekit read a file elsewhere."""
    if path.is_symlink() or path.resolve().parent != path.parent.resolve():
        raise ModelFileError(f"{path}: is a symbolic link or points outside the model directory; "
                             "refusing to read it. Copy the real file into the directory.")


def _read_json(path: Path, what: str) -> Any:
    _check_inside(path)
    if not path.is_file():
        raise ModelFileError(f"{path.parent}: missing {path.name}; not an aekit model directory "
                             "(save one with est.save(path) or `aekit fit ... --out DIR`).")
    if path.stat().st_size > MAX_JSON_BYTES:
        raise ModelFileError(f"{path}: {what} is implausibly large; refusing to read it.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFileError(f"{path}: {what} is not valid JSON ({err}). The model directory is "
                             "damaged; save the model again.") from None


def read_config(path: str | os.PathLike, classes: Collection[str]) -> dict[str, Any]:
    """Read and check a model directory's ``estimator.json`` (format, version, and a class
    among ``classes``)."""
    path = Path(path)
    if not path.is_dir():
        raise ModelFileError(f"{path}: no such model directory.")
    config = _read_json(path / CONFIG_FILE, "the model description")
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(f"{path}: {CONFIG_FILE} is not an aekit model description "
                             f"(expected \"format\": \"{FORMAT}\").")
    version = config.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ModelFileError(f"{path}: format_version must be an integer, got {version!r}.")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: saved with model format {version} (aekit {config.get('aekit_version')}); "
            f"this aekit {__version__} reads format {FORMAT_VERSION}. Upgrade aekit.")
    if version < FORMAT_VERSION:
        raise ModelFileError(f"{path}: model format {version} is not read by this aekit "
                             f"{__version__} (format {FORMAT_VERSION}); fit and save it again.")
    cls = config.get("class")
    if cls not in classes:
        raise ModelFileError(f"{path}: unknown estimator class {cls!r}; expected one of "
                             f"{sorted(classes)}.")
    for key, kind in (("params", dict), ("fitted", dict), ("weights_sha256", str)):
        if not isinstance(config.get(key), kind):
            raise ModelFileError(f"{path}: {CONFIG_FILE} field {key!r} must be a {kind.__name__}.")
    return config


def params_of(config: dict[str, Any]) -> dict[str, Any]:
    """The saved constructor parameters (JSON lists back to tuples)."""
    params = dict(config["params"])
    for key, value in params.items():
        if isinstance(value, list):
            params[key] = tuple(value)
    return params


def read_model(path: str | os.PathLike, classes: Collection[str]
               ) -> tuple[dict[str, Any], dict[str, torch.Tensor], dict[str, Any]]:
    """A model directory's checked config, weights and history; damaged, foreign or newer
    files are refused before anything is built from them."""
    path = Path(path)
    config = read_config(path, classes)
    weights_path = path / WEIGHTS_FILE
    _check_inside(weights_path)
    if not weights_path.is_file():
        raise ModelFileError(f"{path}: missing {WEIGHTS_FILE}. The model directory is incomplete; "
                             "save the model again.")
    if _sha256(weights_path) != config["weights_sha256"]:
        raise ModelFileError(
            f"{weights_path}: checksum does not match the one recorded at save time; the weights "
            "were modified, truncated or replaced. Refusing to load them.")
    try:
        weights = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as err:
        raise ModelFileError(f"{weights_path}: not a valid safetensors file ({err}).") from None
    history = _read_json(path / HISTORY_FILE, "the training history") \
        if (path / HISTORY_FILE).exists() else {}
    return config, weights, history if isinstance(history, dict) else {}


__all__ = ["CONFIG_FILE", "FORMAT", "FORMAT_VERSION", "HISTORY_FILE", "WEIGHTS_FILE",
           "params_of", "read_config", "read_model", "write_model"]
