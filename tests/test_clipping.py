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
from optviz.specs import format_number
from tests.torch_reference import assert_paths_agree, requires_torch, torch


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


# --------------------------------------------------------------------------- wired into races (api.race)

# (optviz spec, torch class, torch kwargs, clip keywords, schedule or None). Adam with a hard clip at lr 0.05
# oscillates across rosenbrock's valley chaotically (last-bit differences grow to 1e-5 within 150 steps, as they
# do between torch and torch with the two gradients), so its cases keep a stable lr.
CLIP_CASES = [
    ("sgd(lr=1e-3, momentum=0.9)", "SGD", {"lr": 1e-3, "momentum": 0.9}, {"clip_norm": 1.0}, None),
    ("sgd(lr=0.01)", "SGD", {"lr": 0.01}, {"clip_norm": 5.0}, None),
    ("adam(lr=0.01)", "Adam", {"lr": 0.01}, {"clip_norm": 0.5}, None),
    ("adam(lr=0.02, weight_decay=0.01)", "Adam", {"lr": 0.02, "weight_decay": 0.01}, {"clip_value": 1.0}, None),
    ("rmsprop(lr=0.01)", "RMSprop", {"lr": 0.01}, {"clip_value": 2.0}, None),
    ("sgd(lr=0.01, momentum=0.9)", "SGD", {"lr": 0.01, "momentum": 0.9}, {"clip_norm": 1.0}, "cosine(T_max=200)"),
    ("torch.optim.Adam(lr=0.01)", "Adam", {"lr": 0.01}, {"clip_norm": 0.5}, None),
    ("torch.optim.SGD(lr=0.01, momentum=0.9)", "SGD", {"lr": 0.01, "momentum": 0.9}, {"clip_value": 1.0},
     "step(step_size=50, gamma=0.5)"),
]


def _torch_clipped_race(torch, cls, kwargs, clip, schedule, steps, start=(-1.5, 2.0)):
    """clip_grad_norm_ / clip_grad_value_ after backward(), before opt.step(); scheduler.step() after it."""
    x = torch.tensor(start, requires_grad=True)
    opt = getattr(torch.optim, cls)([x], **kwargs)
    scheduler = None
    if schedule is not None:
        from tests.test_schedules import _scheduler_for

        scheduler = _scheduler_for(torch, schedule, opt, steps)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        ((1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2).backward()
        if "clip_norm" in clip:
            torch.nn.utils.clip_grad_norm_([x], clip["clip_norm"])
        else:
            torch.nn.utils.clip_grad_value_([x], clip["clip_value"])
        opt.step()
        if scheduler is not None:
            scheduler.step()
        out.append(x.detach().numpy().copy())
    return np.array(out)


@requires_torch
@pytest.mark.parametrize(("spec", "cls", "kwargs", "clip", "schedule"), CLIP_CASES)
def test_a_clipped_race_matches_torch_through_the_api(spec, cls, kwargs, clip, schedule):
    import optviz
    from optviz.schedules import parse_schedule

    steps = 200
    race = optviz.race("rosenbrock", [spec], steps=steps, tune=False, schedule=schedule, **clip)
    theirs = _torch_clipped_race(torch, cls, kwargs, clip, None if schedule is None else parse_schedule(schedule),
                                 steps)
    assert not np.any(race.trajectories.diverged_step >= 0)
    assert_paths_agree(race.trajectories.positions[1:, 0, 0], theirs)
    (run,) = race.runs
    (kind, threshold), = clip.items()
    assert run.clip.kind == kind and run.clip.threshold == threshold
    assert f"{kind}={format_number(threshold)}" in run.label
    assert race.stats["runs"][0]["clip"][kind] == threshold


def test_clipping_changes_the_path_only_when_asked():
    import optviz

    plain = optviz.race("rosenbrock", ["sgd(lr=1e-3)"], steps=30, tune=False)
    clipped = optviz.race("rosenbrock", ["sgd(lr=1e-3)"], steps=30, tune=False, clip_norm=1.0)
    assert plain.runs[0].clip is None and plain.stats["runs"][0]["clip"] is None
    assert "clip" not in plain.runs[0].label and clipped.runs[0].label == "sgd lr=0.001, clip_norm=1"
    assert not np.array_equal(plain.trajectories.positions, clipped.trajectories.positions)


@pytest.mark.parametrize(("keywords", "parameter", "expected"), [
    ({"clip_norm": 1.0, "clip_value": 1.0}, "clip_value", "not both"),
    ({"clip_norm": -1.0}, "clip_norm", "must be a finite number > 0"),
    ({"clip_value": float("nan")}, "clip_value", "must be a finite number > 0"),
])
def test_the_api_refuses_bad_clipping(keywords, parameter, expected):
    import optviz

    with pytest.raises(UsageError) as error:
        optviz.race("rosenbrock", ["adam"], steps=3, **keywords)
    assert error.value.parameter == parameter and expected in error.value.message


def test_the_clip_options_reach_the_race_from_the_cli():
    import json

    from typer.testing import CliRunner

    from optviz.cli import app

    result = CliRunner().invoke(app, ["stats", "--opt", "sgd(lr=1e-3)", "--steps", "5", "--clip-value", "0.5",
                                      "--schedule", "exponential(gamma=0.9)"])
    assert result.exit_code == 0, result.output
    (run,) = json.loads(result.stdout)["runs"]
    assert run["clip"] == {"clip_value": 0.5} and run["schedule"]["name"] == "exponential"
    assert run["label"] == "sgd lr=0.001, schedule=exponential(gamma=0.9), clip_value=0.5"
    bad = CliRunner().invoke(app, ["stats", "--clip-norm", "0"])
    assert bad.exit_code == 2 and "--clip-norm" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
