"""Convolutional autoencoders on image arrays: quality on MNIST, shapes, persistence, errors."""

from pathlib import Path

import numpy as np
import pytest

from aekit import VAE, Autoencoder, DenoisingAutoencoder, load
from aekit.data.images import read_idx
from aekit.exceptions import DataError, ParameterError
from aekit.nn.conv import ConvAutoencoder, ConvVAE

MNIST = Path("/work/shared/datasets/mnist/t10k-images-idx3-ubyte.gz")
FAST = dict(max_epochs=1, channels=(4, 8), random_state=0)


@pytest.fixture(scope="module")
def mnist():
    if not MNIST.exists():
        pytest.skip(f"{MNIST} is missing")
    return read_idx(MNIST)[:712]  # uint8 (712, 28, 28)


def blobs(shape, n=40, seed=0):
    """Images with a bright square at a random place: uint8 (n, *shape)."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n, *shape), dtype=np.uint8)
    h, w = shape[-2:]
    for i in range(n):
        r, c = rng.integers(0, h - 2), rng.integers(0, w - 2)
        X[i, ..., r:r + 3, c:c + 3] = 255
    return X


def test_conv_autoencoder_beats_the_mean_image_on_held_out_mnist(mnist):
    train, test = mnist[:512], mnist[512:] / 255.0
    ae = Autoencoder(16, max_epochs=8, random_state=0).fit(train)
    assert type(ae.module_) is ConvAutoencoder
    mean_image_mse = np.mean((test - train.mean(axis=0) / 255.0) ** 2)
    ae_mse = np.mean((ae.reconstruct(test) - test) ** 2)
    assert ae_mse < 0.75 * mean_image_mse


@pytest.mark.parametrize("shape", [(8, 8), (1, 8, 8), (3, 9, 7), (1, 5, 5)])
@pytest.mark.parametrize("cls", [Autoencoder, DenoisingAutoencoder, VAE])
def test_reconstructions_come_back_in_the_input_shape(cls, shape):
    X = blobs(shape)
    est = cls(3, **FAST).fit(X)
    assert est.image_shape_ == shape
    assert est.reconstruct(X).shape == X.shape
    assert est.error_map(X).shape == X.shape
    assert est.transform(X).shape == (len(X), 3)
    assert est.inverse_transform(np.zeros((2, 3))).shape == (2, *shape)
    flat = X.reshape(len(X), -1)
    assert est.reconstruct(flat / 255.0).shape == flat.shape  # flat pixels stay flat
    np.testing.assert_allclose(est.reconstruct(flat / 255.0).reshape(X.shape), est.reconstruct(X),
                               atol=1e-6)


def test_architecture_auto_is_conv_for_images_and_mlp_for_tables():
    assert type(Autoencoder(2, **FAST).fit(blobs((8, 8))).module_) is ConvAutoencoder
    assert type(VAE(2, **FAST).fit(blobs((8, 8))).module_) is ConvVAE
    assert type(Autoencoder(2, architecture="mlp", **FAST).fit(blobs((8, 8))).module_) \
        .__name__ == "MLPAutoencoder"
    table = np.random.default_rng(0).normal(size=(40, 5))
    est = Autoencoder(2, **FAST).fit(table)
    assert est.image_shape_ is None and est.scaler_.kind == "standard"


def test_images_are_not_rescaled_by_default_and_the_vae_can_use_a_bernoulli_likelihood():
    X = blobs((8, 8))
    vae = VAE(2, likelihood="bernoulli", **FAST).fit(X)
    assert vae.scaler_.kind == "none"
    samples = vae.sample(5, random_state=0)
    assert samples.shape == (5, 8, 8) and samples.min() >= 0 and samples.max() <= 1
    assert vae.negative_elbo(X[:4]).shape == (4,)


def test_bce_loss_gives_pixels_in_the_unit_range_and_needs_unit_range_data():
    X = blobs((8, 8))
    for arch in ("conv", "mlp"):
        recon = Autoencoder(2, loss="bce", architecture=arch, **FAST).fit(X).reconstruct(X)
        assert recon.min() >= 0 and recon.max() <= 1
    with pytest.raises(ParameterError, match=r"loss='bce' needs data in \[0, 1\] after scaling"):
        Autoencoder(2, loss="bce", scaling="standard", **FAST).fit(X)


def test_error_map_averages_to_the_reconstruction_error():
    X = blobs((1, 8, 8))
    ae = Autoencoder(2, **FAST).fit(X)
    np.testing.assert_allclose(ae.error_map(X).reshape(len(X), -1).mean(axis=1),
                               ae.reconstruction_error(X), rtol=1e-5)


@pytest.mark.parametrize("cls", [Autoencoder, DenoisingAutoencoder, VAE])
def test_saved_and_loaded_conv_models_give_identical_outputs(cls, tmp_path):
    X = blobs((3, 9, 7))
    est = cls(3, **FAST).fit(X)
    est.save(tmp_path / "m")
    loaded = load(tmp_path / "m")
    assert loaded.image_shape_ == (3, 9, 7)
    assert type(loaded.module_) is type(est.module_)
    np.testing.assert_array_equal(loaded.reconstruct(X), est.reconstruct(X))
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))


def test_conv_architecture_on_a_table_says_how_to_fix_it():
    with pytest.raises(DataError, match=r"architecture='conv' needs images.*X.reshape"):
        Autoencoder(2, architecture="conv", **FAST).fit(np.zeros((10, 64)))


def test_images_of_another_size_are_refused_after_fit():
    ae = Autoencoder(2, **FAST).fit(blobs((8, 8)))
    with pytest.raises(DataError, match=r"fitted on images of shape \(8, 8\)"):
        ae.reconstruct(blobs((9, 9)))


@pytest.mark.parametrize("X, match", [
    (np.full((4, 8, 8), 200.0), r"float images must lie in \[0, 1\].*X / 255"),
    (np.zeros((4, 5, 8, 8)), r"1 or 3 channels"),
    (np.full((4, 8, 8), np.nan), r"NaN"),
])
def test_bad_images_give_clear_errors(X, match):
    with pytest.raises(DataError, match=match):
        Autoencoder(2, **FAST).fit(X)


def test_bad_image_parameters_are_reported():
    with pytest.raises(ParameterError, match=r"(?s)'architecture'.*'channels'.*'loss'"):
        Autoencoder(architecture="cnn", channels=(), loss="l1").fit(blobs((8, 8)))


def test_denoising_on_images_clips_noisy_pixels_to_the_image_range():
    X = blobs((8, 8))
    dae = DenoisingAutoencoder(2, noise="gaussian", noise_level=0.5, **FAST).fit(X)
    corrupt = dae._corruption(X.reshape(len(X), -1) / 255.0)
    import torch

    noisy = corrupt(torch.full((3, 64), 0.5))
    assert float(noisy.min()) >= 0 and float(noisy.max()) <= 1

