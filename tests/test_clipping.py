"""Gradient clipping against torch.nn.utils.clip_grad_norm_ / clip_grad_value_, one start per row."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from optviz.clipping import clip_by_norm, clip_by_value
from optviz.errors import UsageError


def _random_gradients(seed: int, rows: int = 64, dims: int = 2) -> np.ndarray:
    """Magnitudes spread over many decades, so some rows are clipped and some are not."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((rows, dims)) * 10.0 ** rng.uniform(-4, 4, size=(rows, 1))


def _torch_rows(grad: np.ndarray, clip) -> np.ndarray:
    """Each row as its own parameter tensor's gradient, clipped by torch."""
    torch = pytest.importorskip("torch")
    out = []
    for row in grad:
        p = torch.zeros(row.shape[0], dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor(row, dtype=torch.float64)
        clip([p])
        out.append(p.grad.numpy().copy())
    return np.array(out)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("dims", [1, 2, 5])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.5, math.inf])
@pytest.mark.parametrize("max_norm", [1e-3, 1.0, 50.0])
def test_clip_by_norm_matches_torch(seed, dims, norm_type, max_norm):
    torch = pytest.importorskip("torch")
    grad = _random_gradients(seed, dims=dims)
    theirs = _torch_rows(grad, lambda ps: torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type))
    ours = clip_by_norm(grad, max_norm, norm_type)
    np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=0)
    assert np.any(ours != grad)  # rows up to 1e4 in size: some are clipped in every case


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("clip_value", [1e-3, 0.5, 100.0])
def test_clip_by_value_matches_torch(seed, clip_value):
    torch = pytest.importorskip("torch")
    grad = _random_gradients(seed, dims=3)
    theirs = _torch_rows(grad, lambda ps: torch.nn.utils.clip_grad_value_(ps, clip_value))
    np.testing.assert_array_equal(clip_by_value(grad, clip_value), theirs)


def test_non_finite_rows_behave_as_in_torch():
    """torch multiplies by the clamped coefficient even when nothing is clipped: inf rows become 0/nan."""
    torch = pytest.importorskip("torch")
    grad = np.array([[np.inf, 1.0], [np.nan, 1.0], [3.0, 4.0], [-np.inf, 2.0]])
    theirs = _torch_rows(grad, lambda ps: torch.nn.utils.clip_grad_norm_(ps, 1.0))
    np.testing.assert_array_equal(clip_by_norm(grad, 1.0), theirs)
    theirs = _torch_rows(grad, lambda ps: torch.nn.utils.clip_grad_value_(ps, 2.0))
    np.testing.assert_array_equal(clip_by_value(grad, 2.0), theirs)


@given(arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(1, 4)),
              elements=st.floats(-1e6, 1e6, allow_nan=False)),
       st.floats(1e-3, 1e3), st.sampled_from([1.0, 2.0, math.inf]))
def test_clip_by_norm_bounds_each_row_and_keeps_its_direction(grad, max_norm, norm_type):
    clipped = clip_by_norm(grad, max_norm, norm_type)
    norms = np.linalg.norm(clipped, ord=norm_type, axis=1)
    untouched = np.all(clipped == grad, axis=1)
    assert np.all(untouched | (norms <= max_norm * (1 + 1e-12)))
    assert np.all(clipped * grad >= 0) and np.all(np.abs(clipped) <= np.abs(grad))


def test_small_gradients_pass_unchanged_and_large_ones_scale_to_the_limit():
    grad = np.array([[3e-4, 4e-4], [30.0, 40.0]])
    clipped = clip_by_norm(grad, 1.0)
    np.testing.assert_array_equal(clipped[0], grad[0])
    np.testing.assert_allclose(clipped[1], [0.6, 0.8], rtol=1e-7)
    np.testing.assert_array_equal(clip_by_value(grad, 35.0), [[3e-4, 4e-4], [30.0, 35.0]])


@pytest.mark.parametrize(("call", "parameter", "expected"), [
    (lambda g: clip_by_norm(g, 0.0), "clip_norm", "must be a finite number > 0"),
    (lambda g: clip_by_norm(g, -1.0), "clip_norm", "must be a finite number > 0"),
    (lambda g: clip_by_norm(g, math.inf), "clip_norm", "must be a finite number > 0"),
    (lambda g: clip_by_norm(g, math.nan), "clip_norm", "must be a finite number > 0"),
    (lambda g: clip_by_norm(g, True), "clip_norm", "must be a number"),
    (lambda g: clip_by_norm(g, "1"), "clip_norm", "must be a number"),
    (lambda g: clip_by_norm(g, 1.0, 0.0), "norm_type", "must be > 0 or inf"),
    (lambda g: clip_by_norm(g, 1.0, -math.inf), "norm_type", "must be > 0 or inf"),
    (lambda g: clip_by_norm(g, 1.0, math.nan), "norm_type", "must be > 0 or inf"),
    (lambda g: clip_by_value(g, 0.0), "clip_value", "must be a finite number > 0"),
    (lambda g: clip_by_value(g, -2.0), "clip_value", "must be a finite number > 0"),
    (lambda g: clip_by_value(g, math.inf), "clip_value", "must be a finite number > 0"),
])
def test_refusals_name_the_parameter(call, parameter, expected):
    with pytest.raises(UsageError) as error:
        call(np.ones((2, 2)))
    assert error.value.parameter == parameter and expected in error.value.message
