"""Save and load fitted estimators: ``aekit.save(est, path)`` and ``aekit.load(path)``.

A model directory holds exactly ``estimator.json`` (class, parameters, fitted state, the
weights' SHA-256), ``weights.safetensors`` and ``history.json``; see
:mod:`aekit.model_files` for the format and what loading refuses. Nothing is unpickled.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aekit.estimators import ESTIMATORS
from aekit.estimators._params import validate_params
from aekit.exceptions import ModelFileError
from aekit.model_files import (
    CONFIG_FILE,
    FORMAT_VERSION,
    HISTORY_FILE,
    WEIGHTS_FILE,
    params_of,
    read_model,
    write_model,
)
from aekit.model_files import read_config as _read_config


def save(estimator: Any, path: str | os.PathLike) -> Path:
    """Write a fitted estimator to directory ``path`` atomically (replacing an old one)."""
    name = type(estimator).__name__
    if ESTIMATORS.get(name) is not type(estimator):
        raise ModelFileError(f"cannot save {name}: not an aekit estimator")
    return write_model(estimator, path)


def read_config(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check a model directory's ``estimator.json`` without loading the weights."""
    return _read_config(path, ESTIMATORS)


def load(path: str | os.PathLike) -> Any:
    """Load an estimator saved with :func:`save`; refuse damaged, foreign or newer files."""
    config, weights, history = read_model(path, ESTIMATORS)
    try:
        estimator = ESTIMATORS[config["class"]](**params_of(config))
        validate_params(estimator, estimator._constraints)
        estimator._restore_fitted_state(config["fitted"], weights, history)
    except ModelFileError:
        raise
    except (TypeError, ValueError, KeyError, RuntimeError) as err:
        raise ModelFileError(f"{path}: the model description does not match its weights or has "
                             f"invalid values ({type(err).__name__}: {err}).") from None
    return estimator


__all__ = ["CONFIG_FILE", "FORMAT_VERSION", "HISTORY_FILE", "WEIGHTS_FILE", "load",
           "read_config", "save"]
