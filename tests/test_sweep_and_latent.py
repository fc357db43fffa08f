"""Bottleneck sweep against PCA, and latent-space walks through fitted models."""

import numpy as np
import pytest

from aekit import VAE, Autoencoder
from aekit.latent import interpolate, traverse
from aekit.sweep import bottleneck_sweep, plot_sweep


def low_rank(n=1200, d=12, rank=4, noise=0.05, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, rank)) @ rng.normal(size=(rank, d)) + noise * rng.normal(size=(n, d))


def test_default_autoencoder_sweep_stays_within_two_percent_of_pca_at_every_size():
    result = bottleneck_sweep(low_rank(), [1, 2, 4, 6], random_state=0, max_epochs=80)
    assert (result["ratio"] <= 1.02).all(), result


def test_sweep_on_the_tutorials_data_is_at_or_below_pca():
    rng = np.random.default_rng(42)
    X = rng.normal(size=(1000, 20))
    X[:, :5] *= 3
    result = bottleneck_sweep(X, [1, 5, 10], random_state=0, max_epochs=80)
    assert (result["ratio"] <= 1.02).all(), result


def test_plot_sweep_draws_on_a_given_axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = bottleneck_sweep(low_rank(n=300), [1, 2], random_state=0, max_epochs=5)
    fig, ax = plt.subplots()
    assert plot_sweep(result, ax=ax) is ax
    assert len(ax.lines) == 2
    plt.close(fig)


@pytest.fixture(scope="module")
def fitted_ae():
    X = low_rank(n=500, d=6, rank=2)
    return Autoencoder(2, max_epochs=20, random_state=0).fit(X), X


def test_linear_interpolation_endpoints_decode_to_the_reconstructions(fitted_ae):
    model, X = fitted_ae
    path, decoded = interpolate(model, X[0], X[1], steps=5)
    assert path.shape == (5, 2) and decoded.shape == (5, 6)
    np.testing.assert_allclose(decoded[0], model.reconstruct(X[:1])[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(decoded[-1], model.reconstruct(X[1:2])[0], rtol=1e-5, atol=1e-6)


def test_slerp_interpolation_keeps_endpoints(fitted_ae):
    model, X = fitted_ae
    path, _ = interpolate(model, X[0], X[1], steps=4, method="slerp")
    np.testing.assert_allclose(path[0], model.transform(X[:1])[0])
    np.testing.assert_allclose(path[-1], model.transform(X[1:2])[0])


def test_traverse_moves_only_the_chosen_dimension(fitted_ae):
    model, X = fitted_ae
    codes, decoded = traverse(model, X[0], dim=1, values=[-1.0, 0.0, 1.0])
    assert decoded.shape == (3, 6)
    np.testing.assert_array_equal(codes[:, 1], [-1.0, 0.0, 1.0])
    assert np.ptp(codes[:, 0]) == 0


def test_vae_samples_match_the_mean_and_covariance_of_correlated_gaussian_data():
    """A VAE's generative model should reproduce the first two moments of Gaussian data.

    Tolerance: with 4,000 training rows the data's own sample covariance fluctuates by about
    sqrt(2/4000) ~ 0.02 in correlation units, and the VAE adds approximation error (measured:
    at most 0.03 in correlation units, 0.07 std in the mean). We require the mean within
    0.15 std and every covariance entry within 0.1 * std_i * std_j: a VAE that dropped the
    correlation (0.9 between the first two features) or the decoder noise fails this.
    """
    rng = np.random.default_rng(0)
    cov = np.array([[4.0, 1.8, 0.0], [1.8, 1.0, 0.3], [0.0, 0.3, 1.0]])
    X = rng.multivariate_normal([1.0, -2.0, 0.5], cov, size=4000)
    vae = VAE(3, hidden_dims=(32,), max_epochs=150, random_state=0).fit(X)
    samples = vae.sample(20000, random_state=1, include_noise=True)
    std = np.sqrt(np.diag(cov))
    assert np.all(np.abs(samples.mean(axis=0) - X.mean(axis=0)) < 0.15 * std)
    assert np.all(np.abs(np.cov(samples.T) - np.cov(X.T)) < 0.1 * np.outer(std, std))
    means_only = vae.sample(5, random_state=1)
    np.testing.assert_array_equal(means_only, vae.sample(5, random_state=1))


def test_vae_reports_kl_per_dimension_and_active_units():
    X = low_rank(n=600, d=6, rank=2)
    vae = VAE(4, max_epochs=40, random_state=0).fit(X)
    assert vae.kl_per_dim_.shape == (4,)
    assert 1 <= vae.active_units_ <= 4
    assert vae.active_units_ == int((vae.kl_per_dim_ > 0.01).sum())
