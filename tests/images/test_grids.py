"""PNG grids of reconstructions, denoising, samples, interpolations and traversals."""

import numpy as np
import pytest
from PIL import Image

from aekit import VAE, Autoencoder
from aekit.exceptions import ParameterError
from aekit.grids import (
    denoising_grid,
    interpolation_strip,
    reconstruction_grid,
    sample_grid,
    traversal_grid,
)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    X = np.zeros((40, 8, 8), dtype=np.uint8)
    for i in range(40):
        r, c = rng.integers(0, 6, size=2)
        X[i, r:r + 3, c:c + 3] = 255
    return X


@pytest.fixture(scope="module")
def vae(images):
    return VAE(3, likelihood="bernoulli", max_epochs=1, channels=(4, 8), random_state=0).fit(images)


def side(n_tiles, tile=8, padding=2):
    return n_tiles * (tile + padding) + padding


def check_png(path, grid, rows, cols):
    """8x8 tiles are upscaled 4x in the PNG (scale='auto')."""
    assert grid.shape == (side(rows), side(cols), 1)
    assert 0 <= grid.min() and grid.max() <= 1
    with Image.open(path) as png:
        assert png.format == "PNG"
        assert png.size == (4 * side(cols), 4 * side(rows))  # (width, height)
        png.load()


def test_reconstruction_grid_puts_inputs_over_outputs(vae, images, tmp_path):
    grid = reconstruction_grid(vae, images, n=5, path=tmp_path / "r.png")
    check_png(tmp_path / "r.png", grid, rows=2, cols=5)
    # top-left tile is the first input image itself
    np.testing.assert_allclose(grid[2:10, 2:10, 0], images[0] / 255.0)


def test_denoising_grid_has_clean_noisy_and_denoised_rows(vae, images, tmp_path):
    noisy = np.where(np.random.default_rng(1).random(images.shape) < 0.3, 0, images)
    grid = denoising_grid(vae, images, noisy, n=4, path=tmp_path / "d.png")
    check_png(tmp_path / "d.png", grid, rows=3, cols=4)


def test_sample_grid(vae, tmp_path):
    grid = sample_grid(vae, 6, nrow=3, random_state=0, path=tmp_path / "s.png")
    check_png(tmp_path / "s.png", grid, rows=2, cols=3)


def test_interpolation_strip_starts_and_ends_with_the_two_images(vae, images, tmp_path):
    grid = interpolation_strip(vae, images[0], images[1], steps=5, path=tmp_path / "i.png")
    check_png(tmp_path / "i.png", grid, rows=1, cols=7)
    np.testing.assert_allclose(grid[2:10, -10:-2, 0], images[1] / 255.0)


def test_traversal_grid_has_one_row_per_latent_dimension(vae, images, tmp_path):
    grid = traversal_grid(vae, images[0], values=[-2, 0, 2], path=tmp_path / "t.png")
    check_png(tmp_path / "t.png", grid, rows=3, cols=3)
    with pytest.raises(ParameterError, match=r"dims must be latent dimensions in \[0, 2\]"):
        traversal_grid(vae, images[0], dims=[5])


def test_grids_need_a_model_fitted_on_images(tmp_path):
    table = Autoencoder(2, max_epochs=1, random_state=0).fit(np.random.default_rng(0).random((30, 64)))
    with pytest.raises(ParameterError, match="needs a model fitted on images"):
        reconstruction_grid(table, np.zeros((2, 8, 8)))
