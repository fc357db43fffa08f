"""scikit-learn estimators wrapping the networks in :mod:`aekit.nn`."""

from aekit.estimators._autoencoder import Autoencoder, DenoisingAutoencoder
from aekit.estimators._base import BaseAutoencoder
from aekit.estimators._detector import AnomalyDetector
from aekit.estimators._vae import VAE

ESTIMATORS: dict[str, type] = {
    "Autoencoder": Autoencoder,
    "DenoisingAutoencoder": DenoisingAutoencoder,
    "VAE": VAE,
    "AnomalyDetector": AnomalyDetector,
}

__all__ = ["AnomalyDetector", "Autoencoder", "BaseAutoencoder", "DenoisingAutoencoder", "VAE", "ESTIMATORS"]
