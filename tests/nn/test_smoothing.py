"""The Gaussian smoothing of image residuals matches scipy's and keeps what it should."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter

from aekit.nn.smoothing import SmoothImages, gaussian_kernel, residual_sigma


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (1, 8, 8), (2, 10, 14)])
def test_smoothing_equals_scipy_gaussian_filter_with_zero_padding(shape):
    sigma = residual_sigma(shape)
    rows = np.random.default_rng(0).normal(size=(5, int(np.prod(shape))))
    smoothed = SmoothImages(shape, sigma)(torch.from_numpy(rows)).numpy()
    images = rows.reshape(5, *shape)
    expected = gaussian_filter(images, sigma=(0, 0, sigma, sigma), mode="constant", truncate=2.0)
    np.testing.assert_allclose(smoothed, expected.reshape(5, -1), rtol=1e-10, atol=1e-12)


def test_width_is_one_pixel_at_mnist_size_and_scales_with_the_smaller_side():
    assert residual_sigma((1, 28, 28)) == 1.0
    assert residual_sigma((3, 56, 84)) == 2.0
    assert residual_sigma((1, 8, 8)) == pytest.approx(8 / 28)
    assert gaussian_kernel(1.0).sum().item() == pytest.approx(1.0)
    assert len(gaussian_kernel(1.0)) == 5


def test_a_patch_of_one_sign_survives_while_alternating_pixels_cancel():
    shape = (1, 28, 28)
    patch = np.zeros(shape)
    patch[0, 10:16, 10:16] = 1.0
    stripes = np.zeros(shape)
    stripes[0, 10:16, 10:16] = np.where(np.arange(6) % 2 == 0, 1.0, -1.0)[None, :]
    smooth = SmoothImages(shape, residual_sigma(shape))
    energy = lambda x: float(smooth(torch.from_numpy(x.reshape(1, -1))).pow(2).sum())  # noqa: E731
    # both residuals have the same squared error before smoothing
    assert (patch ** 2).sum() == (stripes ** 2).sum()
    assert energy(patch) > 0.5 * (patch ** 2).sum()
    assert energy(stripes) < 0.1 * (stripes ** 2).sum()
