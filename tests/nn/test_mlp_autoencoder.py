"""The MLP autoencoder's affine path: PCA at the start, one matrix product with the first
layer, weights saved by earlier versions still load, and scores that do not depend on the
batch they were computed in."""

import numpy as np
import pytest
import torch

from aekit import VAE, AnomalyDetector, Autoencoder
from aekit.nn.autoencoder import MLPAutoencoder


def pca(X, k):
    mean = X.mean(0)
    _, _, vt = torch.linalg.svd(X - mean, full_matrices=False)
    return vt[:k], mean


def test_an_untrained_network_initialised_from_pca_is_pca():
    torch.manual_seed(0)
    X = torch.randn(300, 6) @ torch.randn(6, 6)
    components, mean = pca(X, 3)
    module = MLPAutoencoder(6, 4, (16, 8), linear_path=True)
    module.init_from_pca(components, mean)
    with torch.no_grad():
        out = module(X)
    expected = (X - mean) @ components.T @ components + mean
    torch.testing.assert_close(out.recon, expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out.z[:, :3], (X - mean) @ components.T, rtol=1e-5, atol=1e-5)
    assert torch.equal(out.z[:, 3], torch.zeros(300))  # the spare latent dimension


def test_the_affine_map_shares_the_first_layer():
    module = MLPAutoencoder(6, 4, (16, 8), linear_path=True)
    assert module.encoder[0].out_features == 16 + 4
    assert module.decoder[0].out_features == 8 + 6
    assert not hasattr(module, "encoder_linear")
    assert [type(m).__name__ for m in MLPAutoencoder(6, 4, (), linear_path=True).encoder] == ["Linear"]


@pytest.mark.parametrize("n_features, hidden", [(4, (8,)), (7, (33, 5)), (20, (64,))])
def test_a_row_scores_the_same_alone_or_in_a_batch(n_features, hidden):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, n_features)) @ rng.normal(size=(n_features, n_features))
    Y = rng.normal(size=(100, n_features)) * 3
    ae = Autoencoder(3, hidden_dims=hidden, max_epochs=2, random_state=0).fit(X)
    vae = VAE(3, hidden_dims=hidden, max_epochs=2, random_state=0).fit(X)
    det = AnomalyDetector(n_estimators=2, max_epochs=2, random_state=0).fit(X)
    for score in (ae.reconstruction_error, ae.transform, vae.transform):
        whole = score(Y)
        for start, stop in [(0, 1), (7, 9), (40, 55), (99, 100)]:
            np.testing.assert_array_equal(score(Y[start:stop]), whole[start:stop])
    # the detector's density view multiplies blocks of 256 rows, whose rounding can depend
    # on a row's place in its block: single rows (one event at a time) score the same
    whole = det.anomaly_score(Y)
    for row in (0, 13, 99):
        np.testing.assert_array_equal(det.anomaly_score(Y[row:row + 1]), whole[row:row + 1])
