"""The 1-D race picture: the curve with its balls, the article's x-against-step chart and the loss panel, at every
size and theme, through every output format."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from optviz import api
from optviz.errors import UsageError
from optviz.render import RenderSpec, render_race, scene_for
from optviz.render.curve import CurveScene, curve_layout, trail_offsets
from optviz.render.scene import RaceScene
from optviz.render.spec import FORMATS

SEED_OPTIMIZERS = ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
STEPS = 120
SIZES = [(320, 240), (640, 480), (1280, 720), (1920, 1080), (720, 1280)]


@pytest.fixture(scope="module")
def seed():
    """The seed article's race, shortened: x² from 3, lr 0.01, the six optimisers."""
    return api.race("x**2", SEED_OPTIMIZERS, start=3, lr=0.01, steps=STEPS)


@pytest.fixture(scope="module")
def diverging():
    """sgd with lr 1.5 doubles |x| every step and diverges; adam beside it does not."""
    return api.race("x**2", ["sgd(lr=1.5)", "adam(lr=0.1)"], start=3, steps=60)


@pytest.fixture(scope="module")
def scenes(seed):
    made = {}

    def get(size=(640, 480), theme="light"):
        if (size, theme) not in made:
            made[size, theme] = CurveScene(seed, size=size, theme=theme)
        return made[size, theme]

    yield get
    for scene in made.values():
        scene.close()


def test_the_seed_race_is_one_dimensional(seed):
    assert seed.function.dimensions == 1
    assert seed.trajectories.positions.shape == (STEPS + 1, 6, 1, 1)


def test_scene_for_picks_the_view_by_dimensions(seed):
    with scene_for(seed, size=(640, 480)) as scene:
        assert isinstance(scene, CurveScene)
    flat = api.race("rosenbrock", ["adam"], steps=5, lr=0.01)
    with scene_for(flat, size=(640, 480)) as scene:
        assert isinstance(scene, RaceScene)
    with pytest.raises(ValueError, match="1-D"):
        CurveScene(flat, size=(640, 480))


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("size", SIZES)
def test_frames_have_the_exact_size_and_change_as_the_balls_roll(scenes, size, theme):
    scene = scenes(size, theme)
    first, middle, last = scene.render(0), scene.render(STEPS // 2), scene.render(STEPS)
    for frame in (first, middle, last):
        assert frame.shape == (size[1], size[0], 4) and frame.dtype == np.uint8
    assert not np.array_equal(first, middle) and not np.array_equal(middle, last)
    assert np.array_equal(scene.render(STEPS // 2), middle)  # going back gives the same picture


def test_themes_differ(scenes):
    light, dark = scenes((640, 480), "light").render(10), scenes((640, 480), "dark").render(10)
    assert light[..., :3].mean() > 200 > 60 > dark[..., :3].mean()


def test_still_is_the_last_frame(scenes, tmp_path):
    scene = scenes((640, 480), "dark")
    frame = scene.render(STEPS)
    scene.save_still(tmp_path / "still.png", STEPS)
    assert np.array_equal(scene.render(STEPS), frame)  # saving leaves the animation as it was
    with Image.open(tmp_path / "still.png") as image:
        still = np.asarray(image.convert("RGBA"))
    assert still.shape == frame.shape
    assert np.abs(still.astype(int) - frame).mean() < 1.0


def test_the_chart_is_x_against_step_one_line_per_optimiser(scenes, seed):
    scene = scenes()
    scene.render(STEPS)
    chart = chart_axes(scene)
    segments = chart.collections[0].get_segments()
    assert len(segments) == len(seed.runs)
    for r, segment in enumerate(segments):
        np.testing.assert_array_equal(segment[:, 0], np.arange(STEPS + 1))
        np.testing.assert_array_equal(segment[:, 1], seed.trajectories.positions[:, r, 0, 0])
    scene.render(10)
    assert all(len(segment) == 11 for segment in chart.collections[0].get_segments())  # grows with the balls
    labels = [text.get_text() for text in scene.figure.legends[0].texts]
    assert [label.split()[0] for label in labels] == ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]


def test_the_title_is_the_pretty_formula(scenes):
    assert "f(x) = x²" in [text.get_text() for text in scenes().figure.texts]


def test_a_diverged_run_leaves_the_view_and_the_legend_says_so(diverging):
    with CurveScene(diverging, size=(640, 480)) as scene:
        step = int(diverging.trajectories.diverged_step[0, 0])
        before, after = scene.render(step - 1), scene.render(diverging.steps)
        assert not np.array_equal(before, after)
        labels = [text.get_text() for text in scene.figure.legends[0].texts]
        assert f"diverged at step {step}" in labels[0] and "diverged" not in labels[1]


def test_render_refuses_a_step_outside_the_race_and_a_tiny_picture(scenes, seed):
    with pytest.raises(UsageError, match="step"):
        scenes().render(STEPS + 1)
    with pytest.raises(UsageError, match="too small"):
        CurveScene(seed, size=(200, 100))


@pytest.mark.parametrize("size", SIZES + [(800, 800), (1920, 240), (1000, 420), (240, 720)])
def test_layout_panels_are_inside_and_apart(size):
    width, height = size
    em = 15.0 * min(1.0, (width * height / (1280 * 720)) ** 0.35)
    lay = curve_layout(width, height, em, 2 * em, (12 * em, 8 * em))
    panels = [p for p in (lay.curve, lay.chart, lay.loss) if p is not None]
    for left, bottom, w, h in panels:
        assert 0 < left and 0 < bottom and left + w < width and bottom + h < height and w > 0 and h > 0
    for i, a in enumerate(panels):
        for b in panels[i + 1:]:
            apart = a[0] + a[2] <= b[0] or b[0] + b[2] <= a[0] or a[1] + a[3] <= b[1] or b[1] + b[3] <= a[1]
            assert apart, (a, b)


def test_a_short_picture_leaves_the_loss_panel_out():
    assert curve_layout(1280, 720, 15.3, 25, (180, 140)).loss is not None
    assert curve_layout(1920, 240, 12.0, 20, (150, 110)).loss is None  # a banner: two panels


def test_trail_dots_lie_behind_the_ball():
    offsets = trail_offsets(1000)
    assert offsets[0] >= 1 and np.all(np.diff(offsets) > 0)
    assert trail_offsets(3)[0] == 1  # a short race still trails step by step


def check_file(path, fmt):
    data = path.read_bytes()
    if fmt == "gif":
        with Image.open(path) as image:
            assert image.n_frames == 9 and image.size == (320, 240)
    elif fmt == "png":
        with Image.open(path) as image:
            assert image.size == (320, 240)
    elif fmt == "mp4":
        assert data[4:8] == b"ftyp"
    elif fmt == "html":
        assert data.startswith(b"<!DOCTYPE html>") and b"video/mp4;base64," in data
    elif fmt == "svg":
        assert b"<svg" in data
    else:
        assert data.startswith(b"%PDF")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_writes(seed, tmp_path, fmt):
    out = render_race(seed, RenderSpec(tmp_path / f"seed.{fmt}", frames=9, size=(320, 240), hold=0.0))
    check_file(out, fmt)
    assert [path.name for path in tmp_path.iterdir()] == [f"seed.{fmt}"]


def chart_axes(scene):
    return next(ax for ax in scene.figure.axes if (ax.get_xlabel(), ax.get_ylabel()) == ("step", "x"))


def test_a_lowest_value_on_the_edge_gets_no_star_and_no_line(scenes):
    """x³ is lowest at the view's left edge: no minimum to mark; x² has one, marked on the curve and the chart."""
    assert len(chart_axes(scenes()).lines) == 1
    cubic = api.race("x**3", ["gd"], start=1, lr=0.1, steps=20)
    assert cubic.function.f_min is None and cubic.function.minima
    with CurveScene(cubic, size=(640, 480)) as scene:
        assert len(chart_axes(scene).lines) == 0
        curve = next(ax for ax in scene.figure.axes if ax.get_ylabel() == "f(x)" and ax.get_xlabel() == "x")
        assert all(line.get_marker() != "*" for line in curve.lines)


def test_a_long_title_is_cut_to_fit_beside_the_step_counter():
    long = api.race(" + ".join(f"sin({k}*x)/{k}" for k in range(1, 12)) + " + x**2", ["gd"], start=1, lr=0.01,
                    steps=5)
    with CurveScene(long, size=(320, 240)) as scene:
        renderer = scene.figure.canvas.get_renderer()
        title, counter = (next(t for t in scene.figure.texts if t.get_text().startswith(prefix))
                          for prefix in ("f(x) = ", "step"))
        assert title.get_text().endswith("…")
        assert title.get_window_extent(renderer).x1 < counter.get_window_extent(renderer).x0


@pytest.fixture(scope="module")
def two_starts():
    from optviz.racing import run_race

    function = api.resolve_function("x**2")
    return run_race(function, api.resolve_specs(["gd", "adam"], 0.1), [[3.0], [-2.0]], 30)


def test_several_starts_draw_a_line_each_and_the_page_lists_them(two_starts, tmp_path):
    from optviz.render.html import race_page, results_table

    with CurveScene(two_starts, size=(640, 480)) as scene:
        first, last = scene.render(0), scene.render(30)
        assert not np.array_equal(first, last)
        assert len(chart_axes(scene).collections[0].get_segments()) == 4  # 2 runs x 2 starts
    table = results_table(race_page(two_starts, "dark", None)["rows"])
    assert "(3)" in table and "(-2)" in table
    check_file(render_race(two_starts, RenderSpec(tmp_path / "two.html", frames=9, size=(320, 240))), "html")


@pytest.mark.parametrize("fmt", ["gif", "png", "svg"])
def test_the_same_race_gives_the_same_bytes(seed, tmp_path, fmt):
    first, second = (render_race(seed, RenderSpec(tmp_path / f"{name}.{fmt}", frames=9, size=(320, 240)))
                     for name in ("first", "second"))
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_the_column_under_the_legend_holds_each_runs_x_and_loss(scenes, seed, size):
    """Wide pictures: a scoreboard under the legend, one row per optimiser with x and f − f* at the frame's step,
    inside the picture, clear of every panel and of the legend."""
    from pathlib import Path

    from optviz.render.labels import show_number

    view = scenes(size)
    view.save_still(Path("/dev/null"), 40, format="png")
    renderer = view.figure.canvas.get_renderer()
    assert view._scoreboard is not None
    assert [t.get_text() for t in view._scoreboard.texts] == ["sgd", "momentum", "nesterov", "adagrad", "rmsprop",
                                                              "adam"]
    x_texts, loss_texts = np.reshape(view._readout.artists, (2, -1))
    assert [t.get_text() for t in x_texts] == [show_number(v) for v in seed.trajectories.positions[40, :, 0, 0]]
    assert [t.get_text() for t in loss_texts] == [show_number(v) for v in view._loss.values[40, :, 0]]
    legend = view._legend.get_window_extent(renderer)
    panels = [ax.get_tightbbox(renderer) for ax in view.figure.axes]
    for text in [*view._readout.texts, *view._scoreboard.texts]:
        box = text.get_window_extent(renderer)
        assert 0 <= box.x0 and box.x1 <= size[0] and 0 <= box.y0 and box.y1 < legend.y0
        assert not any(box.overlaps(panel) for panel in panels)


def test_portrait_pictures_keep_the_legend_across_the_bottom_without_a_scoreboard(scenes):
    assert scenes((720, 1280))._scoreboard is None and scenes((720, 1280))._readout is None
