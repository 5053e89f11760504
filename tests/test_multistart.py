"""Many starts: the --starts parser (hypothesis), grid and random spreads, start lists through the API and the CLI,
noise and minibatch options end to end."""

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import optviz
from optviz import engine
from optviz.cli import app
from optviz.errors import UsageError
from optviz.functions import FUNCTIONS
from optviz.specs import MAX_STARTS, StartsSpec, parse_starts

runner = CliRunner()
FAST = settings(max_examples=150, deadline=None)


@pytest.mark.parametrize(("text", "kind", "counts"), [
    ("grid:8x8", "grid", (8, 8)), ("GRID : 3 X 4", "grid", (3, 4)), ("grid:5", "grid", (5,)),
    ("random:100", "random", (100,)), (" Random:1 ", "random", (1,)), ("grid:2×3", "grid", (2, 3)),
])
def test_starts_parse(text, kind, counts):
    assert parse_starts(text) == StartsSpec(kind, counts)


@pytest.mark.parametrize(("text", "fragment"), [
    ("grid", "expected grid:NxM"), ("grid:", "expected"), ("grid:0x4", "from 1 to"), ("random:0", "from 1 to"),
    ("random:3x3", "one count"), ("grid:2000x2000", "got 4,000,000"), ("lattice:4", "expected"),
    ("grid:-2", "expected"), ("grid:1.5", "expected"), ("x" * 300, "too long"),
    ("random:100000000", "from 1 to 1,000,000 starts (got 100,000,000)"),
])
def test_starts_errors_name_the_parameter_and_the_bad_part(text, fragment):
    with pytest.raises(UsageError) as caught:
        parse_starts(text)
    assert caught.value.parameter == "starts" and fragment in caught.value.message
    assert len(str(caught.value).splitlines()) == 1


@FAST
@given(st.one_of(st.text(max_size=40), st.text(alphabet="gridandom:x×0123456789 -.", max_size=20)))
def test_starts_parser_gives_a_spec_or_a_one_line_usage_error(text):
    try:
        spec = parse_starts(text)
    except UsageError as error:
        assert error.parameter == "starts" and "\n" not in str(error)
    else:
        assert spec.kind in ("grid", "random") and 1 <= int(np.prod(spec.counts)) <= MAX_STARTS
        assert parse_starts(spec.text) == spec


@FAST
@given(st.sampled_from(["grid", "random"]), st.integers(1, 40), st.integers(1, 40))
def test_starts_round_trip_through_their_text(kind, n, m):
    counts = (n,) if kind == "random" else (n, m)
    spec = StartsSpec(kind, counts)
    assert parse_starts(spec.text) == spec


def test_grid_starts_are_cell_centres_row_major():
    points = parse_starts("grid:4x2").points(((0.0, 4.0), (-1.0, 1.0)))
    assert points.tolist() == [[0.5, -0.5], [1.5, -0.5], [2.5, -0.5], [3.5, -0.5],
                               [0.5, 0.5], [1.5, 0.5], [2.5, 0.5], [3.5, 0.5]]
    assert parse_starts("grid:3").points(((0.0, 3.0),)).tolist() == [[0.5], [1.5], [2.5]]
    assert parse_starts("grid:3").points(((0.0, 3.0), (0.0, 3.0))).shape == (9, 2)
    with pytest.raises(UsageError, match="grid:N"):
        parse_starts("grid:3x3").points(((0.0, 3.0),))


@FAST
@given(st.integers(1, 200), st.integers(0, 2**32))
def test_random_starts_are_uniform_in_the_domain_and_reproducible(n, seed):
    domain = ((-5.0, 5.0), (2.0, 3.0))
    points = parse_starts(f"random:{n}").points(domain, seed)
    assert points.shape == (n, 2)
    assert ((points >= [-5, 2]) & (points < [5, 3])).all()
    np.testing.assert_array_equal(points, parse_starts(f"random:{n}").points(domain, seed))


@FAST
@given(st.integers(0, 2**40), st.integers(1, 10**6), st.lists(st.integers(0, 10**6), min_size=1, max_size=30),
       st.integers(1, 5))
def test_noise_is_a_function_of_seed_start_and_step_only(seed, step, starts, dimensions):
    """Whatever else is in the batch, start i at step k with seed s draws the same numbers."""
    rows = np.array(starts)
    together = engine.gaussian_noise(seed, step, rows, dimensions)
    assert together.shape == (len(rows), dimensions) and np.isfinite(together).all()
    for i, start in enumerate(starts):
        np.testing.assert_array_equal(engine.gaussian_noise(seed, step, np.array([start]), dimensions)[0],
                                      together[i])
    shuffled = rows[::-1]
    np.testing.assert_array_equal(engine.gaussian_noise(seed, step, shuffled, dimensions), together[::-1])


@FAST
@given(st.integers(0, 2**40), st.integers(1, 10**6), st.lists(st.integers(0, 10**5), min_size=1, max_size=10),
       st.integers(1, 30), st.data())
def test_batches_are_a_function_of_seed_start_and_step_only(seed, step, starts, size, data):
    batch = data.draw(st.integers(1, size))
    together = engine.minibatches(seed, step, np.array(starts), size, batch)
    for i, start in enumerate(starts):
        np.testing.assert_array_equal(engine.minibatches(seed, step, np.array([start]), size, batch)[0], together[i])


def test_api_takes_a_list_of_starts_or_a_spread():
    race = optviz.race("himmelblau", ["adam(lr=0.05)"], start=[(0.0, 0.0), (1.0, -1.0), (-3.0, 3.0)], steps=50)
    assert race.starts.tolist() == [[0.0, 0.0], [1.0, -1.0], [-3.0, 3.0]]
    assert race.trajectories.positions.shape == (51, 1, 3, 2)
    spread = optviz.race("himmelblau", ["adam(lr=0.05)", "sgd(lr=0.01)"], starts="grid:3x2", steps=40, seed=9,
                         record_every=None)
    assert spread.starts.shape == (6, 2) and spread.starts_spec == "grid:3x2"
    assert spread.trajectories.positions.shape == (2, 2, 6, 2)
    assert len(spread.stats["runs"]) == 12 and spread.stats["seed"] == 9
    one_d = optviz.race("x**4 - x**2", ["adam(lr=0.05)"], starts="random:5", domain=(-2, 2), steps=20)
    assert one_d.starts.shape == (5, 1)


@pytest.mark.parametrize(("keywords", "parameter"), [
    ({"start": [(0.0, 0.0)], "starts": "grid:2x2"}, "starts"),
    ({"starts": "grid:2"}, None),
    ({"starts": "spiral:3"}, "starts"),
    ({"noise": -0.1}, "noise"),
    ({"batch_size": 4}, "batch_size"),
    ({"seed": -3}, "seed"),
    ({"record_every": 0}, "record_every"),
    ({"start": [(0.0, 0.0), (1.0,)]}, "start"),
])
def test_api_refusals_name_the_keyword(keywords, parameter):
    if parameter is None:  # grid:N is N x N in 2-D
        assert optviz.race("booth", ["sgd"], steps=3, tune=False, **keywords).starts.shape == (4, 2)
        return
    with pytest.raises(UsageError) as caught:
        optviz.race("booth", ["sgd"], steps=3, tune=False, **keywords)
    assert caught.value.parameter == parameter


def strict_json(text):
    def refuse(token):
        raise AssertionError(f"non-strict JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def test_cli_stats_with_repeated_start_noise_and_seed():
    result = runner.invoke(app, ["stats", "--fn", "himmelblau", "--opt", "adam(lr=0.05),momentum(lr=0.01)",
                                 "--start=0,0", "--start", "1,-1", "--noise", "0.5", "--seed", "4", "--steps", "60"])
    assert result.exit_code == 0, result.stderr
    document = strict_json(result.stdout)
    assert document["schema"] == 2 and (document["noise"], document["seed"]) == (0.5, 4)
    assert [(run["label"], run["start"]) for run in document["runs"]] == [
        ("adam lr=0.05", [0.0, 0.0]), ("adam lr=0.05", [1.0, -1.0]), ("momentum lr=0.01", [0.0, 0.0]),
        ("momentum lr=0.01", [1.0, -1.0])]
    assert set(document["summary"]) == {"adam lr=0.05", "momentum lr=0.01"}
    again = runner.invoke(app, ["stats", "--fn", "himmelblau", "--opt", "adam(lr=0.05),momentum(lr=0.01)",
                                "--start=0,0", "--start", "1,-1", "--noise", "0.5", "--seed", "4", "--steps", "60"])
    assert again.stdout == result.stdout, "a seeded run is reproducible"


@pytest.mark.parametrize(("args", "flag"), [
    (["--batch-size", "4"], "--batch-size"),
    (["--starts", "grid:0x3"], "--starts"),
    (["--starts", "grid:2x2", "--start", "0,0"], "--starts"),
    (["--noise", "-1"], "--noise"),
])
def test_cli_refusals_are_one_line_naming_the_flag(args, flag):
    result = runner.invoke(app, ["stats", "--fn", "booth", "--steps", "5", *args])
    assert result.exit_code == 2 and result.stdout == ""
    assert flag in result.stderr and len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_cli_stats_grid_of_starts_in_a_real_subprocess():
    completed = subprocess.run(
        [sys.executable, "-m", "optviz", "stats", "--fn", "himmelblau", "--opt", "adam", "--starts", "grid:3x3",
         "--steps", "80"], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    document = strict_json(completed.stdout)
    assert document["starts"] == 9 and document["starts_spec"] == "grid:3x3" and len(document["runs"]) == 9
    (label,) = document["summary"]
    assert label.startswith("adam lr=") and document["summary"][label]["starts"] == 9
    assert "matplotlib" not in completed.stderr


def test_api_minibatch_race_on_a_dataset_function_echoes_the_batch_size():
    from tests.test_engine import line_fit

    fn = line_fit()[0]
    race = optviz.race(fn, ["sgd(lr=0.1)", "adam(lr=0.05)"], starts="random:4", batch_size=4, seed=1, steps=30)
    assert race.stats["batch_size"] == 4 and race.gradients.batch_size == 4
    full = optviz.race(fn, ["sgd(lr=0.1)", "adam(lr=0.05)"], starts="random:4", seed=1, steps=30)
    assert not np.array_equal(race.trajectories.positions, full.trajectories.positions)
    with pytest.raises(UsageError) as caught:
        optviz.race(fn, ["sgd"], batch_size=13, steps=3)
    assert caught.value.parameter == "batch_size"


def test_the_tuner_tunes_on_an_even_deterministic_sample_of_many_starts():
    from optviz import tuning

    assert tuning.tuning_sample(5).tolist() == [0, 1, 2, 3, 4]
    sample = tuning.tuning_sample(100_000)
    assert len(sample) == tuning.TUNING_STARTS and sample[0] == 0 and sample[-1] == 99_999
    assert np.all(np.diff(sample) > 0)
    fn = FUNCTIONS.get("himmelblau")
    starts = parse_starts("random:400").points(fn.domain, 0)
    from optviz.optimizers import OPTIMIZERS

    adam = OPTIMIZERS.get("adam")
    on_all = tuning.tune_learning_rate(fn, adam, adam.resolve({}), starts, 60)
    on_sample = tuning.tune_learning_rate(fn, adam, adam.resolve({}), starts[tuning.tuning_sample(400)], 60)
    assert on_all == on_sample, "the sample is what is tuned on"
