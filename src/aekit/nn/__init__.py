"""Pure PyTorch modules: tensors in, typed outputs out. No NumPy, scikit-learn or file I/O."""

from aekit.nn.autoencoder import MLPAutoencoder
from aekit.nn.conv import ConvAutoencoder, ConvVAE
from aekit.nn.outputs import AEOutput
from aekit.nn.vae import MLPVAE, gaussian_kl

__all__ = ["AEOutput", "ConvAutoencoder", "ConvVAE", "MLPAutoencoder", "MLPVAE", "gaussian_kl"]
