"""aekit: autoencoders for tabular data and small images.

Compress and compare with PCA, denoise, detect anomalies by reconstruction error, and
generate with variational autoencoders, through scikit-learn style estimators.
"""

import logging

from aekit._version import __version__
from aekit import metrics
from aekit.data.parquet_rows import ParquetRows
from aekit.estimators import VAE, AnomalyDetector, Autoencoder, DenoisingAutoencoder
from aekit.persistence import load, save

# The spellings of the style guide, for users who type them.
AutoEncoder = Autoencoder
DenoisingAutoEncoder = DenoisingAutoencoder
VariationalAutoEncoder = VAE
ReconstructionAnomalyDetector = AnomalyDetector

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "AnomalyDetector",
    "ReconstructionAnomalyDetector",
    "metrics",
    "ParquetRows",
    "Autoencoder",
    "AutoEncoder",
    "DenoisingAutoencoder",
    "DenoisingAutoEncoder",
    "VAE",
    "VariationalAutoEncoder",
    "load",
    "save",
    "__version__",
]
