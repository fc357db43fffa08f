"""The tutorial's story on built-in data: compress vs PCA, denoise, generate with a VAE.

Uses scikit-learn's bundled digits (1,797 8x8 images), so it runs offline anywhere aekit is
installed. Each step returns numbers a person can check against a baseline in the same run.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from aekit.estimators import VAE, Autoencoder, DenoisingAutoencoder

logger = logging.getLogger(__name__)


@dataclass
class DemoRow:
    step: str
    aekit: str
    baseline: str
    note: str = ""


@dataclass
class DemoResult:
    rows: list[DemoRow] = field(default_factory=list)
    seconds: float = 0.0
    artifacts: dict = field(default_factory=dict)

    def table(self) -> str:
        headers = ("step", "aekit", "baseline", "note")
        cells = [headers] + [(r.step, r.aekit, r.baseline, r.note) for r in self.rows]
        widths = [max(len(str(c[i])) for c in cells) for i in range(4)]
        lines = ["  ".join(str(c[i]).ljust(widths[i]) for i in range(4)).rstrip() for c in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)


def _mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((a - b) ** 2))


def run_demo(*, quick: bool = False, random_state: int = 0, verbose: int = 1,
             progress=None) -> DemoResult:
    """Run every step and return the table rows (and fitted objects in ``artifacts``)."""
    started = time.perf_counter()
    say = progress or (lambda msg: None)
    epochs = 30 if quick else 300
    result = DemoResult()
    digits = load_digits()
    X = digits.data / 16.0  # pixels in [0, 1]
    X_train, X_test, y_train, y_test = train_test_split(
        X, digits.target, test_size=0.25, random_state=random_state, stratify=digits.target)
    result.artifacts.update(X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test)

    # 1. Compression: an MLP autoencoder against PCA at the same latent size.
    latent = 8
    say(f"1/3 compressing digits to {latent} numbers (autoencoder vs PCA)")
    ae = Autoencoder(latent, hidden_dims=(128, 64), scaling="none", max_epochs=epochs,
                     random_state=random_state, verbose=verbose).fit(X_train)
    pca = PCA(latent, random_state=random_state).fit(X_train)
    ae_mse = _mse(ae.reconstruct(X_test), X_test)
    pca_mse = _mse(pca.inverse_transform(pca.transform(X_test)), X_test)
    result.rows.append(DemoRow(f"compress 64->{latent} (held-out MSE)", f"{ae_mse:.4f}",
                               f"PCA {pca_mse:.4f}", f"AE/PCA = {ae_mse / pca_mse:.2f}"))
    result.artifacts.update(ae=ae, pca=pca)

    # 2. Denoising: train on clean images with corruption, clean noisy held-out images.
    sigma = 0.3
    say(f"2/3 denoising digits with Gaussian noise sigma={sigma}")
    rng = np.random.default_rng(random_state)
    X_noisy = X_test + sigma * rng.normal(size=X_test.shape)
    dae = DenoisingAutoencoder(16, noise="gaussian", noise_level=sigma, hidden_dims=(128, 64),
                               scaling="none", max_epochs=epochs, random_state=random_state,
                               verbose=verbose).fit(X_train)
    denoised = np.clip(dae.reconstruct(X_noisy), 0, 1)
    pca16 = PCA(16, random_state=random_state).fit(X_train)
    pca_denoised = np.clip(pca16.inverse_transform(pca16.transform(X_noisy)), 0, 1)
    noisy_mse, dae_mse, pca_dn = (_mse(X_noisy, X_test), _mse(denoised, X_test),
                                  _mse(pca_denoised, X_test))
    gain = 10 * np.log10(noisy_mse / dae_mse)
    result.rows.append(DemoRow("denoise sigma=0.3 (MSE to clean)", f"{dae_mse:.4f}",
                               f"noisy {noisy_mse:.4f} / PCA {pca_dn:.4f}",
                               f"gain {gain:+.1f} dB"))
    result.artifacts.update(dae=dae, X_noisy=X_noisy, denoised=denoised)

    # 3. Generation: a Bernoulli VAE on pixels; held-out negative ELBO in nats per image.
    say("3/3 training a VAE (Bernoulli pixels) and sampling from it")
    vae = VAE(8, likelihood="bernoulli", scaling="none", hidden_dims=(256, 128),
              max_epochs=epochs, random_state=random_state, verbose=verbose).fit(X_train)
    nelbo = float(np.mean(vae.negative_elbo(X_test, n_samples=1, random_state=random_state)))
    result.rows.append(DemoRow("VAE held-out -ELBO (nats/image)", f"{nelbo:.1f}",
                               f"{64 * np.log(2):.1f} (uniform pixels)",
                               f"{vae.active_units_}/{latent} active latent dims"))
    result.artifacts.update(vae=vae, samples=np.clip(vae.sample(16, random_state=random_state), 0, 1))
    result.seconds = time.perf_counter() - started
    return result
