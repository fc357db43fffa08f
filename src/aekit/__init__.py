"""aekit: autoencoders for tabular data and small images.

Compress and compare with PCA, denoise, detect anomalies by reconstruction error, and
generate with variational autoencoders, through scikit-learn style estimators.

The public names are loaded on first use (PEP 562), so ``import aekit`` and
``aekit --help`` stay cheap and ``import aekit.nn`` loads no pandas or scikit-learn.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from aekit._version import __version__

if TYPE_CHECKING:  # for type checkers and IDEs; at run time names load on first use
    from aekit import metrics
    from aekit._threads import set_enabled as set_thread_policy
    from aekit.data.parquet_rows import ParquetRows
    from aekit.estimators import VAE, AnomalyDetector, Autoencoder, DenoisingAutoencoder
    from aekit.persistence import load, save

# name -> (module, attribute); None: the module itself
_LAZY: dict[str, tuple[str, str | None]] = {
    "AnomalyDetector": ("aekit.estimators", "AnomalyDetector"),
    "Autoencoder": ("aekit.estimators", "Autoencoder"),
    "DenoisingAutoencoder": ("aekit.estimators", "DenoisingAutoencoder"),
    "VAE": ("aekit.estimators", "VAE"),
    # the spellings of the style guide, for users who type them
    "AutoEncoder": ("aekit.estimators", "Autoencoder"),
    "DenoisingAutoEncoder": ("aekit.estimators", "DenoisingAutoencoder"),
    "VariationalAutoEncoder": ("aekit.estimators", "VAE"),
    "ReconstructionAnomalyDetector": ("aekit.estimators", "AnomalyDetector"),
    "ParquetRows": ("aekit.data.parquet_rows", "ParquetRows"),
    "load": ("aekit.persistence", "load"),
    "save": ("aekit.persistence", "save"),
    "metrics": ("aekit.metrics", None),
    "set_thread_policy": ("aekit._threads", "set_enabled"),
}

__all__ = [
    "AnomalyDetector", "AutoEncoder", "Autoencoder", "DenoisingAutoEncoder",
    "DenoisingAutoencoder", "ParquetRows", "ReconstructionAnomalyDetector", "VAE",
    "VariationalAutoEncoder", "__version__", "load", "metrics", "save", "set_thread_policy",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'aekit' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
