"""optviz.stats: distances to the nearest minimum, the per-label summary, the multi-start layout, strict streamed JSON."""

import json

import numpy as np
import pytest

from optviz import stats
from optviz.engine import Gradients, Trajectories
from optviz.functions import FUNCTIONS
from optviz.racing import Race, Run, run_race
from optviz.racing import resolve_runs
from optviz.specs import parse_optimizer_list

HIMMELBLAU = FUNCTIONS.get("himmelblau")


def strict_json(text):
    def refuse(token):
        raise AssertionError(f"non-strict JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def test_distance_is_to_the_nearest_of_several_minima():
    minima = np.array(HIMMELBLAU.minima)
    assert len(minima) == 4
    points = minima + np.array([[0.1, 0.0], [0.0, -0.2], [0.3, 0.4], [0.0, 0.0]])
    np.testing.assert_allclose(stats.distance_to_minimum(points, HIMMELBLAU), [0.1, 0.2, 0.5, 0.0], atol=1e-15)
    grid = np.zeros((3, 2, 2))
    expected = np.linalg.norm(minima, axis=1).min()
    np.testing.assert_allclose(stats.distance_to_minimum(grid, HIMMELBLAU), np.full((3, 2), expected))
    assert stats.distance_to_minimum(points, FUNCTIONS.get("saddle")) is None


def hand_trajectories():
    """Two optimisers x four starts, every field given: one converges from 3 starts (steps 5, 9, 7) and misses one,
    the other diverges from two starts and never converges."""
    steps = 10
    positions = np.zeros((steps + 1, 2, 4, 2))
    positions[-1, 0] = [[3.0, 2.0], [3.0, 2.0], [3.0, 2.0], [0.0, 0.0]]
    losses = np.ones((steps + 1, 2, 4))
    losses[-1, 0] = [0.0, 1e-9, 0.0, 4.0]
    losses[-1, 1] = [2.0, 8.0, np.inf, 6.0]
    return Trajectories(
        positions, losses, diverged_step=np.array([[-1, -1, -1, -1], [-1, 3, 0, -1]]),
        converged_step=np.array([[5, 9, 7, -1], [-1, -1, -1, -1]]),
        evaluations=np.broadcast_to(np.arange(steps + 1)[:, None, None], (steps + 1, 2, 4)),
    )


def hand_race():
    runs = (Run("adam", "adam", {"lr": 0.1}, "user"), Run("sgd", "sgd", {"lr": 0.01}, "tuned"))
    starts = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    return Race(HIMMELBLAU, runs, starts, 10, hand_trajectories(), Gradients(noise=0.5, seed=3), "grid:2x2")


def test_summary_per_label():
    summary = stats.summary(hand_race())
    assert summary == {
        "adam": {"starts": 4, "median_final_loss": pytest.approx(0.5e-9), "best_final_loss": 0.0,
                 "share_converged": 0.75, "share_diverged": 0.0, "median_converged_step": 7.0},
        "sgd": {"starts": 4, "median_final_loss": 6.0, "best_final_loss": 2.0, "share_converged": 0.0,
                "share_diverged": 0.5, "median_converged_step": None},
    }


def test_multi_start_layout_is_optimizer_major_with_start_and_index():
    document = strict_json(stats.to_json(stats.race_document(hand_race())))
    assert document["schema"] == stats.SCHEMA == 2
    assert document["starts"] == 4 and document["starts_spec"] == "grid:2x2" and document["start"] == [0.0, 0.0]
    assert (document["noise"], document["batch_size"], document["seed"]) == (0.5, None, 3)
    runs = document["runs"]
    assert [(run["label"], run["start_index"]) for run in runs] == [(label, s) for label in ("adam", "sgd")
                                                                   for s in range(4)]
    assert [run["start"] for run in runs[:4]] == [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    assert runs[0]["params"] == {"lr": 0.1} and runs[5]["lr_source"] == "tuned"
    assert runs[0]["converged_step"] == 5 and runs[3]["converged_step"] is None
    assert runs[0]["distance_to_minimum"] == 0.0
    assert runs[5]["diverged"] is True and runs[5]["diverged_step"] == 3 and runs[4]["diverged_step"] is None
    assert runs[6]["final"]["loss"] is None, "a non-finite loss becomes null"
    assert runs[7]["evaluations"] == 10
    assert set(document["summary"]) == {"adam", "sgd"}


def test_streamed_json_is_the_same_text_as_the_document():
    race = hand_race()
    for trajectory in (False, True):
        parts = []
        stats.write_race_json(race, parts.append, include_trajectory=trajectory, chunk_chars=1)
        assert "".join(parts) == stats.to_json(stats.race_document(race, include_trajectory=trajectory)) + "\n"
        assert len(parts) > 8, "written piece by piece"


def test_a_streamed_iterator_becomes_a_list():
    assert strict_json(stats.to_json({"a": iter([]), "b": iter([{"x": 1.0}, {"x": float("nan")}])})) == {
        "a": [], "b": [{"x": 1.0}, {"x": None}]}


def test_a_single_start_still_has_one_run_per_optimizer():
    specs = resolve_runs(parse_optimizer_list(["adam(lr=0.1),sgd(lr=0.01)"]))
    race = run_race(HIMMELBLAU, specs, [HIMMELBLAU.default_start], 60)
    document = stats.race_document(race)
    assert len(document["runs"]) == 2 and document["start"] == list(HIMMELBLAU.default_start)
    assert [run["start_index"] for run in document["runs"]] == [0, 0]
    assert document["summary"]["adam lr=0.1"]["starts"] == 1
    assert "steps_kept" not in document


def test_lean_and_full_records_give_the_same_document():
    specs = resolve_runs(parse_optimizer_list(["adam(lr=0.05),momentum(lr=0.01)"]))
    starts = np.random.default_rng(0).uniform(-5, 5, size=(6, 2))
    gradients = Gradients(noise=0.2, seed=1)
    full = run_race(HIMMELBLAU, specs, starts, 120, gradients=gradients)
    lean = run_race(HIMMELBLAU, specs, starts, 120, gradients=gradients, record_every=None)
    assert lean.trajectories.positions.shape[0] == 2
    assert stats.to_json(stats.race_document(full)) == stats.to_json(stats.race_document(lean))
    with_rows = stats.race_document(lean, include_trajectory=True)
    assert with_rows["steps_kept"] == [0, 120] and len(with_rows["runs"][0]["trajectory"]) == 2


@pytest.mark.parametrize("function", ["saddle", "rosenbrock"])
def test_fast_run_texts_match_the_generic_layout_with_nulls(function):
    fn = FUNCTIONS.get(function)
    specs = resolve_runs(parse_optimizer_list(["sgd(lr=0.9),adam(lr=0.01)"]))
    starts = np.array([fn.default_start, [np.nan, 0.0]])
    race = run_race(fn, specs, starts, 40)
    parts = []
    stats.write_race_json(race, parts.append)
    text = "".join(parts)
    assert text == stats.to_json(stats.race_document(race)) + "\n"
    document = strict_json(text)
    assert document["runs"][1]["final"]["x"] is None and document["runs"][1]["diverged_step"] == 0


def test_a_scheduled_run_carries_the_lr_of_each_trajectory_row():
    import optviz

    race = optviz.race("rosenbrock", ["adam(lr=0.1, schedule=step(step_size=2, gamma=0.5))", "sgd(lr=0.001)"],
                       steps=5)
    scheduled, plain = stats.race_document(race, include_trajectory=True)["runs"]
    assert scheduled["trajectory_lr"] == [None, 0.1, 0.1, 0.05, 0.05, 0.025]  # StepLR: halve every 2 steps
    assert len(scheduled["trajectory_lr"]) == len(scheduled["trajectory"])
    assert "trajectory_lr" not in plain
    assert "trajectory_lr" not in stats.race_document(race)["runs"][0]
