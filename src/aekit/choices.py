"""The names of every choice an aekit option offers, in one cheap module.

The estimators validate their parameters against these tuples and the command line offers
them as ``choices``, so a new threshold or scaling is added once, and ``aekit --help``
lists the choices without importing PyTorch.
"""

from __future__ import annotations

# Autoencoder kinds that ``aekit fit --model`` trains (linear: a PCA-equivalent autoencoder).
MODELS = ("ae", "linear", "dae", "vae")
# Ensemble member kinds of an AnomalyDetector (its ``model`` parameter).
DETECTOR_MODELS = ("ae", "vae")
THRESHOLDS = ("mean_std", "quantile", "mad", "pot", "gap")
SCORINGS = ("auto", "combined", "reconstruction", "latent", "elbo")
SCALINGS = ("standard", "minmax", "robust", "none")
NOISES = ("gaussian", "masking", "salt_pepper")
ARCHITECTURES = ("auto", "mlp", "conv")
LOSSES = ("mse", "bce")
LIKELIHOODS = ("gaussian", "bernoulli")

__all__ = ["ARCHITECTURES", "DETECTOR_MODELS", "LIKELIHOODS", "LOSSES", "MODELS", "NOISES",
           "SCALINGS", "SCORINGS", "THRESHOLDS"]
