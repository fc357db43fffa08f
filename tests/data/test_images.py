import gzip

import numpy as np
import pytest
from PIL import Image

from aekit.data.images import (
    looks_like_images,
    make_grid,
    read_idx,
    read_image_folder,
    save_image_grid,
    to_image_array,
    write_idx,
)
from aekit.exceptions import DataError, ParameterError

# ----------------------------------------------------------------------------- IDX

UINT8_IMAGES = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4) * 10
FLOAT32_VECTORS = np.array([[0.5, -1.25, 3.0], [1e-3, 2e8, -0.0]], dtype=np.float32)


@pytest.mark.parametrize("name", ["images.idx", "images.idx.gz"])
@pytest.mark.parametrize(
    "array",
    [
        UINT8_IMAGES,
        FLOAT32_VECTORS,
        np.array([-128, 0, 127], dtype=np.int8),
        np.array([[-30000, 2], [7, 30000]], dtype=np.int16),
        np.array([-(2**31), 2**31 - 1], dtype=np.int32),
        np.array([np.pi, -np.e], dtype=np.float64),
    ],
    ids=["uint8", "float32", "int8", "int16", "int32", "float64"],
)
def test_idx_round_trip(tmp_path, name, array):
    path = tmp_path / name
    write_idx(path, array)
    out = read_idx(path)
    assert out.dtype == array.dtype
    assert out.dtype.isnative
    np.testing.assert_array_equal(out, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")


def test_idx_header_matches_the_mnist_layout(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    write_idx(path, UINT8_IMAGES)
    raw = path.read_bytes()
    assert raw[:16] == bytes([0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4])
    assert raw[16:] == UINT8_IMAGES.tobytes()


def test_idx_float32_data_is_big_endian(tmp_path):
    path = tmp_path / "x.idx"
    write_idx(path, np.array([1.0], dtype=np.float32))
    assert path.read_bytes()[8:] == b"\x3f\x80\x00\x00"


def test_gzip_is_detected_by_content_not_by_name(tmp_path):
    raw = tmp_path / "raw.idx"
    write_idx(raw, UINT8_IMAGES)
    disguised = tmp_path / "train-images-idx3-ubyte"  # gzipped, but no .gz suffix
    disguised.write_bytes(gzip.compress(raw.read_bytes()))
    np.testing.assert_array_equal(read_idx(disguised), UINT8_IMAGES)


def test_gz_file_that_is_not_gzip_names_the_file_and_the_fix(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    write_idx(tmp_path / "plain.idx", UINT8_IMAGES)
    path.write_bytes((tmp_path / "plain.idx").read_bytes())
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz.*not gzip-compressed") as e:
        read_idx(path)
    assert "remove '.gz' from its name" in str(e.value)


def test_damaged_gzip_stream_is_a_data_error(tmp_path):
    path = tmp_path / "x.idx.gz"
    write_idx(path, np.zeros((50, 50), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(DataError, match=r"x\.idx\.gz: the gzip stream is damaged"):
        read_idx(path)


@pytest.mark.parametrize("name", ["x.idx", "x.idx.gz"])
def test_truncated_data_reports_expected_and_found_bytes(tmp_path, name):
    full = tmp_path / "full.idx"
    write_idx(full, UINT8_IMAGES)  # 24 data bytes
    data = full.read_bytes()[:-5]
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    match = r"shape \(2, 3, 4\) of uint8 \(24 data bytes\) but the file holds 19 data bytes"
    with pytest.raises(DataError, match=match + r"\. The file is truncated"):
        read_idx(path)


def test_trailing_bytes_are_a_data_error(tmp_path):
    path = tmp_path / "x.idx"
    write_idx(path, UINT8_IMAGES)
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(DataError, match="followed by unexpected extra bytes"):
        read_idx(path)


def test_truncated_header_is_a_data_error(tmp_path):
    path = tmp_path / "x.idx"
    path.write_bytes(bytes([0, 0, 0x08, 3, 0, 0, 0, 2]))
    with pytest.raises(DataError, match="announces 3 dimensions .* only 8 bytes long"):
        read_idx(path)


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n" + bytes(20),  # another format
        bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 5]),  # unknown type code
        bytes([0, 1, 0x08, 1, 0, 0, 0, 1, 5]),  # non-zero second byte
        bytes([0, 0, 0x08, 0]),  # zero dimensions
    ],
)
def test_bad_magic_number_is_a_data_error(tmp_path, content):
    path = tmp_path / "x.idx"
    path.write_bytes(content)
    with pytest.raises(DataError, match=r"x\.idx: not an IDX file: the magic number is"):
        read_idx(path)


def test_empty_and_missing_idx_files_are_data_errors(tmp_path):
    (tmp_path / "empty.idx").write_bytes(b"")
    with pytest.raises(DataError, match="0 bytes long, too short for an IDX header"):
        read_idx(tmp_path / "empty.idx")
    with pytest.raises(DataError, match="missing.idx: no such file"):
        read_idx(tmp_path / "missing.idx")


@pytest.mark.parametrize("array", [np.zeros(3, dtype=np.int64), np.zeros(3, dtype=bool)])
def test_write_idx_refuses_dtypes_idx_cannot_store(tmp_path, array):
    with pytest.raises(DataError, match=f"IDX cannot store dtype {array.dtype}"):
        write_idx(tmp_path / "x.idx", array)
    assert list(tmp_path.iterdir()) == []


def test_write_idx_refuses_scalars(tmp_path):
    with pytest.raises(DataError, match=r"1 to 255 dimensions.* got shape \(\)"):
        write_idx(tmp_path / "x.idx", np.uint8(3))


def test_write_idx_leaves_no_temporary_files(tmp_path):
    write_idx(tmp_path / "x.idx", UINT8_IMAGES)
    write_idx(tmp_path / "x.idx", UINT8_IMAGES[:1])  # overwrite
    assert [p.name for p in tmp_path.iterdir()] == ["x.idx"]
    assert read_idx(tmp_path / "x.idx").shape == (1, 3, 4)


# ----------------------------------------------------------------------------- image folders

GRAY = np.array([[[0, 64, 255], [10, 20, 30]], [[1, 2, 3], [250, 251, 252]]], dtype=np.uint8)
RGB = np.arange(2 * 2 * 3 * 3, dtype=np.uint8).reshape(2, 2, 3, 3) * 7  # (N, H, W, 3)


def test_png_folder_round_trip_grayscale(tmp_path):
    for i, img in enumerate(GRAY):
        Image.fromarray(img, mode="L").save(tmp_path / f"img{i}.png")
    images, names = read_image_folder(tmp_path)
    assert names == ["img0.png", "img1.png"]
    assert images.shape == (2, 1, 2, 3)
    assert images.dtype == np.float32
    np.testing.assert_allclose(images[:, 0], GRAY / 255.0, rtol=1e-6)


def test_png_and_bmp_folder_round_trip_rgb(tmp_path):
    Image.fromarray(RGB[0], mode="RGB").save(tmp_path / "b.bmp")
    Image.fromarray(RGB[1], mode="RGB").save(tmp_path / "a.png")
    images, names = read_image_folder(tmp_path)
    assert names == ["a.png", "b.bmp"]  # sorted by name
    assert images.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(images, RGB[::-1].transpose(0, 3, 1, 2) / 255.0, rtol=1e-6)


def test_jpeg_files_are_read(tmp_path):
    Image.fromarray(np.full((8, 8), 128, dtype=np.uint8)).save(tmp_path / "x.jpg")
    images, names = read_image_folder(tmp_path)
    assert names == ["x.jpg"]
    assert images.shape == (1, 1, 8, 8)
    np.testing.assert_allclose(images, 128 / 255, atol=3 / 255)  # JPEG is lossy


def test_alpha_is_dropped_and_modes_are_converted(tmp_path):
    rgba = np.dstack([RGB[0], np.full((2, 3), 17, dtype=np.uint8)])
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    Image.fromarray(RGB[1], mode="RGB").convert("P").save(tmp_path / "b.png")
    images, _ = read_image_folder(tmp_path)
    assert images.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(images[0], RGB[0].transpose(2, 0, 1) / 255.0, rtol=1e-6)

    la_dir = tmp_path / "la"
    la_dir.mkdir()
    Image.fromarray(np.dstack([GRAY[0], GRAY[1]]), mode="LA").save(la_dir / "x.png")
    images, _ = read_image_folder(la_dir)
    np.testing.assert_allclose(images[0, 0], GRAY[0] / 255.0, rtol=1e-6)


def test_mixed_grayscale_and_colour_become_rgb(tmp_path):
    Image.fromarray(GRAY[0], mode="L").save(tmp_path / "a.png")
    Image.fromarray(RGB[0], mode="RGB").save(tmp_path / "b.png")
    images, _ = read_image_folder(tmp_path)
    assert images.shape == (2, 3, 2, 3)
    for channel in range(3):
        np.testing.assert_allclose(images[0, channel], GRAY[0] / 255.0, rtol=1e-6)


def test_hidden_files_are_ignored_and_subfolders_beside_images_are_not_read(tmp_path, caplog):
    Image.fromarray(GRAY[0]).save(tmp_path / "a.png")
    (tmp_path / ".DS_Store").write_bytes(b"junk")
    (tmp_path / "sub").mkdir()
    Image.fromarray(GRAY[1]).save(tmp_path / "sub" / "b.png")
    images, names = read_image_folder(tmp_path)
    assert names == ["a.png"]
    assert images.shape == (1, 1, 2, 3)
    assert "subfolders (sub) are not read" in caplog.text


def test_a_folder_of_class_subfolders_is_read_class_by_class(tmp_path):
    for folder, k in (("good", 0), ("crack", 1), ("good", 1)):
        (tmp_path / folder).mkdir(exist_ok=True)
        Image.fromarray(GRAY[k]).save(tmp_path / folder / f"{k}.png")
    (tmp_path / ".cache").mkdir()
    Image.fromarray(GRAY[0]).save(tmp_path / ".cache" / "x.png")
    (tmp_path / "empty").mkdir()
    (tmp_path / "README.txt").write_text("a dataset's notes beside its class folders")
    images, names = read_image_folder(tmp_path)
    assert names == ["crack/1.png", "good/0.png", "good/1.png"]
    np.testing.assert_allclose(images[:, 0], GRAY[[1, 0, 1]] / 255.0, rtol=1e-6)


def test_mixed_sizes_name_the_first_two_differing_files(tmp_path):
    Image.fromarray(np.zeros((4, 5), dtype=np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(np.zeros((4, 5), dtype=np.uint8)).save(tmp_path / "b.png")
    Image.fromarray(np.zeros((6, 5), dtype=np.uint8)).save(tmp_path / "c.png")
    Image.fromarray(np.zeros((7, 7), dtype=np.uint8)).save(tmp_path / "d.png")
    with pytest.raises(
        DataError, match=r"a\.png is 4x5 \(height x width\) but c\.png is 6x5\. Resize"
    ):
        read_image_folder(tmp_path)


def test_non_image_suffix_is_named(tmp_path):
    Image.fromarray(GRAY[0]).save(tmp_path / "a.png")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match=r"notes\.txt: not an image file \(suffix '\.txt'\)"):
        read_image_folder(tmp_path)


def test_unreadable_image_is_named(tmp_path):
    Image.fromarray(GRAY[0]).save(tmp_path / "a.png")
    (tmp_path / "b.png").write_text("not really a png")
    with pytest.raises(DataError, match=r"b\.png: cannot be read as an image"):
        read_image_folder(tmp_path)


def test_empty_or_missing_folder_is_a_data_error(tmp_path):
    (tmp_path / ".hidden.png").write_bytes(b"")
    with pytest.raises(DataError, match="the folder contains no images"):
        read_image_folder(tmp_path)
    with pytest.raises(DataError, match="nope: no such folder"):
        read_image_folder(tmp_path / "nope")


# ----------------------------------------------------------------------------- image arrays


def test_uint8_is_scaled_and_3d_gains_a_channel_axis():
    out = to_image_array(GRAY)
    assert out.shape == (2, 1, 2, 3)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[:, 0], GRAY / 255.0, rtol=1e-6)


def test_float_in_range_is_kept_and_returned_as_a_new_array():
    X = np.random.default_rng(0).random((3, 3, 4, 4)).astype(np.float32)
    out = to_image_array(X)
    np.testing.assert_array_equal(out, X)
    assert out is not X and not np.shares_memory(out, X)
    assert to_image_array(X.astype(np.float64)).dtype == np.float32


def test_bool_and_uint16_are_converted():
    np.testing.assert_array_equal(to_image_array(np.ones((1, 2, 2), dtype=bool)), 1.0)
    np.testing.assert_allclose(to_image_array(np.full((1, 2, 2), 65535, dtype=np.uint16)), 1.0)


def test_tiny_float_overshoot_is_clipped():
    out = to_image_array(np.array([[[1 + 1e-7, -1e-7]]]))
    np.testing.assert_array_equal(out, [[[[1.0, 0.0]]]])


@pytest.mark.parametrize(
    "X, match",
    [
        (
            np.zeros((4, 64)),
            r"expected images of shape \(n_samples, height, width\) or "
            r"\(n_samples, channels, height, width\); got a 2-D array of shape \(4, 64\)",
        ),
        (np.zeros((2, 2, 8, 8)), r"1 or 3 channels .* got shape \(2, 2, 8, 8\) with 2 channels"),
        (np.zeros((2, 4, 8, 8)), r"For RGBA, drop the alpha channel: X\[:, :3\]"),
        (np.zeros((2, 8, 8, 3)), r"channels-last; use X\.transpose\(0, 3, 1, 2\)"),
        (np.zeros((0, 8, 8)), r"empty image array of shape \(0, 1, 8, 8\)"),
        (np.full((1, 2, 2), 16.0), r"must lie in \[0, 1\]; got values in \[16, 16\]\. Scale"),
        (np.array([[[np.nan, 0.5, np.inf]]]), r"2 of 3 pixel values are NaN or infinite"),
        (np.zeros((1, 2, 2), dtype=np.int64), "integer images of dtype int64 are ambiguous"),
        (np.array([[["a"]]]), "images must be numbers"),
    ],
)
def test_invalid_image_arrays_are_data_errors(X, match):
    with pytest.raises(DataError, match=match):
        to_image_array(X)


def test_source_names_the_input_in_errors():
    with pytest.raises(DataError, match=r"^digits\.npy: "):
        to_image_array(np.zeros(3), source="digits.npy")


def test_looks_like_images_checks_the_number_of_dimensions():
    assert looks_like_images(np.zeros((2, 8, 8)))
    assert looks_like_images(np.zeros((2, 3, 8, 8)))
    assert not looks_like_images(np.zeros((2, 64)))
    assert not looks_like_images([[1.0, 2.0]])


# ----------------------------------------------------------------------------- grids


def test_make_grid_places_tiles_row_by_row():
    images = np.stack([np.full((2, 3), v) for v in (0.0, 0.25, 0.75)])  # (3, 2, 3)
    grid = make_grid(images, nrow=2, padding=1, pad_value=1.0)
    # 2 rows of (2 + 1) + 1 = 7 px; 2 columns of (3 + 1) + 1 = 9 px.
    assert grid.shape == (7, 9, 1)
    np.testing.assert_array_equal(grid[1:3, 1:4, 0], 0.0)
    np.testing.assert_array_equal(grid[1:3, 5:8, 0], 0.25)
    np.testing.assert_array_equal(grid[4:6, 1:4, 0], 0.75)
    np.testing.assert_array_equal(grid[4:6, 5:8, 0], 1.0)  # empty cell = padding
    np.testing.assert_array_equal(grid[0], 1.0)
    np.testing.assert_array_equal(grid[:, 4], 1.0)


def test_make_grid_clips_values_and_keeps_rgb():
    grid = make_grid(np.full((1, 3, 2, 2), 1.7), nrow=4, padding=0)
    assert grid.shape == (2, 2, 3)
    np.testing.assert_array_equal(grid, 1.0)


def test_make_grid_rejects_nan_and_bad_parameters():
    with pytest.raises(DataError, match="1 of 4 pixel values are NaN"):
        make_grid(np.array([[[np.nan, 0], [0, 0]]]), nrow=1)
    with pytest.raises(ParameterError, match="'nrow' parameter must be an int >= 1. Got 0"):
        make_grid(np.zeros((1, 2, 2)), nrow=0)
    with pytest.raises(ParameterError, match="'padding' parameter must be an int >= 0"):
        make_grid(np.zeros((1, 2, 2)), nrow=1, padding=-1)


def test_save_image_grid_writes_a_png_of_the_expected_size(tmp_path):
    images = np.random.default_rng(0).random((10, 8, 8))
    path = tmp_path / "grid.png"
    grid = save_image_grid(path, images, nrow=4, padding=2, scale=3)
    # 3 rows x 4 columns: height 3*(8+2)+2 = 32, width 4*(8+2)+2 = 42; then times 3.
    with Image.open(path) as img:
        assert img.format == "PNG"
        assert img.size == (42 * 3, 32 * 3)  # Pillow gives (width, height)
        assert img.mode == "L"
        pixels = np.asarray(img)
    assert grid.shape == (96, 126, 1)
    np.testing.assert_array_equal(pixels, np.round(grid[:, :, 0] * 255).astype(np.uint8))
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]


def test_save_image_grid_auto_scale_makes_8x8_digits_visible(tmp_path):
    path = tmp_path / "digits.png"
    save_image_grid(path, np.zeros((2, 1, 8, 8)), nrow=2, padding=2)  # auto: 32 / 8 = 4
    with Image.open(path) as img:
        assert img.size == ((2 * 10 + 2) * 4, (1 * 10 + 2) * 4)


def test_save_image_grid_writes_rgb(tmp_path):
    path = tmp_path / "rgb.png"
    save_image_grid(path, np.ones((3, 3, 4, 4)), nrow=3, padding=0, scale=1)
    with Image.open(path) as img:
        assert img.mode == "RGB"
        assert img.size == (12, 4)


def test_save_image_grid_errors(tmp_path):
    images = np.zeros((1, 4, 4))
    with pytest.raises(ParameterError, match=r"grid\.jpg: save_image_grid writes PNG files"):
        save_image_grid(tmp_path / "grid.jpg", images, nrow=1)
    with pytest.raises(ParameterError, match=r"'scale' parameter must be an int >= 1 or 'auto'"):
        save_image_grid(tmp_path / "grid.png", images, nrow=1, scale=0)
    with pytest.raises(DataError, match="does not exist. Create it first"):
        save_image_grid(tmp_path / "missing" / "grid.png", images, nrow=1)
    assert list(tmp_path.iterdir()) == []
