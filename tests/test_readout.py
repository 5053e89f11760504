"""The live readout beside the legend: what its columns hold, how numbers read, and where its texts go."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from optviz.engine import CONVERGENCE_TOLERANCE
from optviz.render import readout, scene
from optviz.render.labels import show_number
from optviz.render.loss_scale import loss_scale
from optviz.schedules import parse_schedule
from tests.test_scene import STEPS, hand_race


@pytest.mark.parametrize("value, text", [
    (0.644, "0.644"), (4.5, "4.50"), (2.92e-4, "2.92e−4"), (1.06e-11, "1.06e−11"), (12.5, "12.5"), (100, "100"),
    (999.7, "1.00e3"), (2.6e13, "2.60e13"), (-0.5, "−0.500"), (0.0, "0"), (float("nan"), "–"), (float("inf"), "–"),
])
def test_numbers_read_with_three_digits_and_real_minus_signs(value, text):
    assert show_number(value) == text


def test_the_loss_column_is_what_the_loss_panel_plots():
    race = hand_race()
    loss = loss_scale(race.trajectories.losses, race.function.f_min, np.ones(race.trajectories.losses.shape, bool))
    (column,) = readout.columns(race, loss)
    assert column.header == "f − f*"
    np.testing.assert_array_equal(column.values, loss.values[:, :, 0])


def test_many_starts_show_the_median_and_how_many_are_at_the_minimum():
    race = hand_race()
    losses = np.array([[[0.0, 1.0, 5.0]], [[2e-7, 3e-7, 4.0]]])  # (steps 0..1, one run, three starts)
    loss = loss_scale(losses, 0.0, np.ones(losses.shape, bool))
    race = type(race)(race.function, race.runs[:1], race.starts, 1, race.trajectories)
    median, near = readout.columns(race, loss)
    assert median.header == "median f − f*" and near.header == "at f*"
    np.testing.assert_allclose(median.values[:, 0], np.median(loss.values, axis=2)[:, 0])
    assert list(near.values[:, 0]) == [1, 2]  # within CONVERGENCE_TOLERANCE of f* = 0
    assert 3e-7 < CONVERGENCE_TOLERANCE < 4.0
    assert near.show(2.0) == "2/3"


def test_a_scheduled_run_shows_the_lr_in_force_and_a_constant_one_its_lr():
    import dataclasses

    race = hand_race()
    schedule = parse_schedule("step(step_size=5, gamma=0.5)")
    runs = (dataclasses.replace(race.runs[0], schedule=schedule), race.runs[1])
    race = dataclasses.replace(race, runs=runs)
    loss = loss_scale(race.trajectories.losses, race.function.f_min, np.ones(race.trajectories.losses.shape, bool))
    _, lr = readout.columns(race, loss)
    trace = schedule.values(runs[0].params, STEPS)["lr"]
    np.testing.assert_allclose(lr.values[1:, 0], trace)
    assert lr.values[0, 0] == trace[0] == 0.05 and lr.values[6, 0] == 0.025
    assert np.all(lr.values[:, 1] == 0.1)


def test_no_lr_column_without_a_schedule():
    race = hand_race()
    loss = loss_scale(race.trajectories.losses, race.function.f_min, np.ones(race.trajectories.losses.shape, bool))
    assert [c.header for c in readout.columns(race, loss)] == ["f − f*"]


@pytest.mark.parametrize("size", [(1280, 720), (720, 1280), (1920, 1080)])
def test_each_value_sits_on_its_runs_legend_line_inside_the_picture(size):
    view = scene.RaceScene(hand_race(), size=size)
    try:
        view.save_still(Path("/dev/null"), STEPS, format="png")
        assert view._readout is not None, f"a two-run legend leaves room for the readout at {size}"
        renderer = view.figure.canvas.get_renderer()
        frame = view._legend.get_window_extent(renderer)
        panels = [ax.get_tightbbox(renderer) for ax in view.figure.axes]
        values = view._readout.artists
        race = hand_race()
        expected = view._loss.values[STEPS, :, 0]
        for text, entry, value in zip(values, view._legend.texts, expected):
            box, line = text.get_window_extent(renderer), entry.get_window_extent(renderer)
            assert text.get_text() == show_number(value)
            assert line.y0 <= (box.y0 + box.y1) / 2 <= line.y1  # on its run's row
            assert box.x0 >= frame.x1  # right of the legend
        for text in view._readout.texts:
            box = text.get_window_extent(renderer)
            assert 0 <= box.x0 and box.x1 <= size[0] and 0 <= box.y0 and box.y1 <= size[1]
            assert not any(box.overlaps(panel) for panel in panels)
        assert len(values) == len(race.runs)
    finally:
        view.close()


def test_the_readout_follows_the_frame_at_a_readable_pace():
    view = scene.RaceScene(hand_race(), size=(1280, 720))
    try:
        for step in (0, 7, STEPS):
            view.render(step)
            shown = [t.get_text() for t in view._readout.artists]
            assert shown == [show_number(v) for v in view._loss.values[step, :, 0]]
        frames = np.arange(STEPS + 1)
        draw = view.frame_drawer(frames, fps=30)  # refreshed every 30 / NUMBERS_HZ frames, and on the last
        every = round(30 / readout.NUMBERS_HZ)
        for step in frames:
            fresh = view.render(step, step // every * every if step < STEPS else STEPS)
            assert np.array_equal(draw(step), fresh)
        draw(13)
        assert [t.get_text() for t in view._readout.artists] == [
            show_number(v) for v in view._loss.values[13 // every * every, :, 0]]
    finally:
        view.close()


def test_no_readout_where_the_legend_needs_the_width():
    import dataclasses

    from optviz.racing import Run, label_runs

    race = hand_race()
    runs = label_runs([Run("", "sgd", {"lr": 0.001 * (i + 1), "momentum": 0.9, "dampening": 0.1}, "user")
                       for i in range(24)])
    positions = np.repeat(race.trajectories.positions[:, :1], 24, axis=1)
    trajectories = dataclasses.replace(race.trajectories, positions=positions,
                                       losses=race.function.value_at(positions),
                                       diverged_step=np.full((24, 1), -1))
    view = scene.RaceScene(dataclasses.replace(race, runs=runs, trajectories=trajectories), size=(1280, 720))
    try:
        frame = view.render(STEPS)
        # 24 long labels at 1280x720 take all the legend's room: in one column, its height
        assert view._readout is None and frame.shape == (720, 1280, 4)
        assert not [t for t in view.figure.texts if "f − f*" in t.get_text()]  # nothing of the readout is left
    finally:
        view.close()


@pytest.mark.parametrize("size", [(320, 240), (400, 300), (320, 720)])
def test_small_pictures_draw_with_or_without_the_readout(size):
    view = scene.RaceScene(hand_race(), size=size)
    try:
        frame = view.render(STEPS)
        assert frame.shape == (size[1], size[0], 4)
        if view._readout is not None:  # then it fits the picture
            renderer = view.figure.canvas.get_renderer()
            for text in view._readout.texts:
                box = text.get_window_extent(renderer)
                assert 0 <= box.x0 and box.x1 <= size[0]
    finally:
        view.close()


def test_the_step_counter_shows_the_step_the_numbers_are_of():
    view = scene.RaceScene(hand_race(), size=(640, 480))
    try:
        paced = view.frame_drawer(np.arange(STEPS + 1), fps=30)
        assert np.array_equal(paced(13), view.render(13, 12))  # counter and readout of step 12, paths of 13
        assert not np.array_equal(view.render(13, 12), view.render(13))
        assert view.frame_drawer(np.arange(STEPS + 1), None) == view.render  # a page: fresh on every frame
    finally:
        view.close()


def test_room_for_the_readout_is_never_made_by_cutting_a_word():
    """A label whose long word would have to be cut to leave the readout room keeps its width: no readout then,
    rather than "cosine(T_" over "max=300)"."""
    import dataclasses

    from optviz.racing import label_runs

    race = hand_race()
    runs = label_runs([dataclasses.replace(race.runs[0], schedule=parse_schedule("cosine(T_max=300)")),
                       race.runs[1]])
    race = dataclasses.replace(race, runs=runs)
    for size in [(960, 540), (1280, 720), (640, 480)]:
        view = scene.RaceScene(race, size=size)
        try:
            view.render(STEPS)
            lines = [line for text in view._legend.texts for line in text.get_text().split("\n")]
            assert any("schedule=cosine(T_max=300)" in line for line in lines), lines
        finally:
            view.close()
