import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from aekit.exceptions import DataError, ParameterError
from aekit.latent import lerp, slerp, traversal_values

# ----------------------------------------------------------------------------- lerp


def test_lerp_endpoints_are_exact_and_midpoint_is_the_average():
    a = np.array([0.1, -2.0, 3.3])
    b = np.array([1.7, 0.4, -0.9])
    path = lerp(a, b, steps=3)
    assert path.shape == (3, 3)
    np.testing.assert_array_equal(path[0], a)
    np.testing.assert_array_equal(path[-1], b)
    np.testing.assert_allclose(path[1], (a + b) / 2)


def test_lerp_points_are_evenly_spaced():
    path = lerp(np.zeros(2), np.array([4.0, 8.0]), steps=5)
    np.testing.assert_allclose(path, [[0, 0], [1, 2], [2, 4], [3, 6], [4, 8]])


def test_lerp_keeps_float32_and_promotes_integers():
    a32 = np.array([0.1, 0.2], dtype=np.float32)
    b32 = np.array([0.3, 0.9], dtype=np.float32)
    path = lerp(a32, b32, 4)
    assert path.dtype == np.float32
    np.testing.assert_array_equal(path[0], a32)
    np.testing.assert_array_equal(path[-1], b32)
    assert lerp([0, 1], [2, 3], 2).dtype == np.float64


# ----------------------------------------------------------------------------- slerp


def test_slerp_endpoints_equal_a_and_b_exactly():
    a = np.array([0.3, -1.2, 2.5, 0.0])
    b = np.array([-0.7, 0.4, 1.1, 2.0])
    path = slerp(a, b, steps=6)
    assert path.shape == (6, 4)
    np.testing.assert_array_equal(path[0], a)
    np.testing.assert_array_equal(path[-1], b)


def test_slerp_quarter_circle_passes_through_the_diagonal():
    path = slerp([1.0, 0.0], [0.0, 1.0], steps=3)
    np.testing.assert_allclose(path[1], [np.sqrt(0.5), np.sqrt(0.5)])


def test_slerp_interpolates_the_norm_linearly():
    a = np.array([2.0, 0.0, 0.0])
    b = np.array([0.0, 4.0, 0.0])
    path = slerp(a, b, steps=5)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), [2.0, 2.5, 3.0, 3.5, 4.0])
    # The direction is the same as between the unit vectors.
    unit = slerp(a / 2, b / 4, steps=5)
    np.testing.assert_allclose(path / np.linalg.norm(path, axis=1, keepdims=True), unit)


def test_slerp_angle_advances_at_constant_speed():
    path = slerp([1.0, 0.0], [-0.5, np.sqrt(3) / 2], steps=5)  # 120 degrees apart
    angles = np.degrees(np.arctan2(path[:, 1], path[:, 0]))
    np.testing.assert_allclose(angles, [0, 30, 60, 90, 120], atol=1e-12)


@pytest.mark.parametrize(
    "a, b",
    [
        ([0.0, 0.0, 0.0], [1.0, 2.0, 3.0]),  # zero start
        ([1.0, 2.0, 3.0], [0.0, 0.0, 0.0]),  # zero end
        ([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]),  # parallel
        ([1.0, 0.0], [-1.0, 0.0]),  # antipodal
    ],
)
def test_slerp_falls_back_to_lerp_when_the_arc_is_undefined(a, b):
    np.testing.assert_allclose(slerp(a, b, 5), lerp(a, b, 5))


def test_slerp_is_on_the_arc_for_nearly_parallel_unit_vectors():
    a = np.array([1.0, 0.0])
    b = np.array([np.cos(1e-8), np.sin(1e-8)])
    np.testing.assert_allclose(np.linalg.norm(slerp(a, b, 7), axis=1), 1.0, rtol=1e-15)


def _unit_vectors(dim):
    return arrays(
        np.float64, dim, elements=st.floats(-1.0, 1.0, allow_nan=False, allow_subnormal=False)
    )


@settings(max_examples=75, deadline=None)
@given(
    data=st.data(),
    dim=st.integers(2, 8),
    steps=st.integers(2, 12),
)
def test_slerp_between_unit_vectors_stays_on_the_unit_sphere(data, dim, steps):
    a = data.draw(_unit_vectors(dim), label="a")
    b = data.draw(_unit_vectors(dim), label="b")
    assume(np.linalg.norm(a) > 1e-3 and np.linalg.norm(b) > 1e-3)
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    assume(a @ b > -0.999)  # antipodal pairs have no unique great circle
    path = slerp(a, b, steps)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(path[0], a)
    np.testing.assert_array_equal(path[-1], b)


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize("func", [lerp, slerp])
@pytest.mark.parametrize("steps", [1, 0, -3, 2.5, "5", True, None])
def test_invalid_steps_is_a_parameter_error(func, steps):
    with pytest.raises(ParameterError, match=r"'steps' parameter must be an int >= 2"):
        func([0.0, 1.0], [1.0, 0.0], steps)


@pytest.mark.parametrize("func", [lerp, slerp])
def test_steps_accepts_numpy_integers(func):
    assert func([0.0, 1.0], [1.0, 0.0], np.int64(3)).shape == (3, 2)


@pytest.mark.parametrize("func", [lerp, slerp])
@pytest.mark.parametrize(
    "a, b, match",
    [
        (np.zeros((2, 3)), np.zeros(3), r"'a' must be a 1-D latent code .* got shape \(2, 3\)"),
        (np.zeros(3), 1.0, r"'b' must be a 1-D latent code .* got shape \(\)"),
        (np.zeros(3), np.zeros(4), "same length; got 3 and 4"),
        ([], [], "'a' is empty"),
        (["x", "y"], [1.0, 2.0], "'a' must be a vector of real numbers"),
        ([1.0, np.nan], [1.0, 2.0], r"'a' contains 1 NaN or infinite value\(s\) out of 2"),
        ([1.0, 2.0], [np.inf, -np.inf], r"'b' contains 2 NaN or infinite value\(s\)"),
    ],
)
def test_invalid_codes_are_data_errors(func, a, b, match):
    with pytest.raises(DataError, match=match):
        func(a, b, 3)


# ----------------------------------------------------------------------------- traversal


def test_traversal_values_are_evenly_spaced_around_the_center():
    values = traversal_values(1.0, span=3.0, steps=7)
    np.testing.assert_allclose(values, [-2, -1, 0, 1, 2, 3, 4])
    assert traversal_values(0.5).shape == (7,)
    assert traversal_values(0.0, steps=5)[2] == 0.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"center": np.nan}, "'center' parameter must be a finite real number"),
        ({"center": 0.0, "span": 0.0}, "'span' parameter must be a finite real number > 0"),
        ({"center": 0.0, "span": -1.0}, "'span' parameter must be a finite real number > 0"),
        ({"center": 0.0, "span": np.inf}, "'span' parameter must be a finite real number"),
        ({"center": 0.0, "steps": 1}, "'steps' parameter must be an int >= 2"),
    ],
)
def test_traversal_values_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        traversal_values(**kwargs)
