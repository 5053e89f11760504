"""The race picture: frame schedule, geometry of paths leaving the view, layout, themes, and the rendered scene."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from optviz.engine import Trajectories
from optviz.errors import UsageError
from optviz.functions import FUNCTIONS
from optviz.racing import Race, Run, label_runs
from optviz.render.schedule import DEFAULT_FRAME_CAP, frame_schedule
from optviz.render.theme import THEMES

REPO = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- frame schedule


@pytest.mark.parametrize(
    ("steps", "frames", "cap", "count"),
    [
        (300, None, DEFAULT_FRAME_CAP, 301),  # every step fits under the cap
        (10, None, 600, 11),
        (1000, None, 300, 300),  # too many steps: the cap
        (1000, 50, 600, 50),  # an explicit count wins over the cap
        (1000, 900, 600, 900),
        (7, 100, 600, 8),  # more frames than steps: every step once
        (1, 2, 600, 2),
        (0, None, 600, 1),
    ],
)
def test_frame_schedule_counts_and_ends(steps, frames, cap, count):
    schedule = frame_schedule(steps, frames, cap)
    assert len(schedule) == count
    assert schedule[0] == 0 and schedule[-1] == steps
    assert np.all(np.diff(schedule) > 0)
    assert schedule.dtype.kind == "i"


def test_frame_schedule_small_race_is_every_step():
    assert np.array_equal(frame_schedule(50, None), np.arange(51))


@given(st.integers(1, 100_000), st.integers(2, 5_000))
def test_frame_schedule_is_even_and_strictly_increasing(steps, frames):
    schedule = frame_schedule(steps, frames)
    count = min(frames, steps + 1)
    assert len(schedule) == count and schedule[0] == 0 and schedule[-1] == steps
    assert np.all(np.diff(schedule) > 0)
    # evenly sampled: each frame is within half a step of its exact position i * steps / (count - 1)
    exact = np.arange(count) * steps / (count - 1)
    assert np.max(np.abs(schedule - exact)) <= 0.5 + 1e-9


@pytest.mark.parametrize(("steps", "frames", "cap"), [(10, 1, 600), (10, 0, 600), (-1, None, 600), (10, None, 1)])
def test_frame_schedule_refuses_impossible_requests(steps, frames, cap):
    with pytest.raises(UsageError):
        frame_schedule(steps, frames, cap)


def test_importing_the_schedule_does_not_import_matplotlib():
    code = "import sys, optviz.render.schedule; sys.exit('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr or "optviz.render.schedule imported matplotlib"


@pytest.mark.parametrize("module", ["geometry", "labels", "layout", "loss_scale", "sizes"])
def test_pure_scene_helpers_do_not_import_matplotlib(module):
    code = f"import sys, optviz.render.{module}; sys.exit('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr or f"optviz.render.{module} imported matplotlib"


# ----------------------------------------------------------------------------- geometry: paths leaving the view

# the scene needs matplotlib; everything above this line must not
from optviz.render import geometry, labels, scene  # noqa: E402
from optviz.render.layout import layout  # noqa: E402
from optviz.render.loss_scale import loss_scale  # noqa: E402
from optviz.render.landscape import shading, view_bounds  # noqa: E402

UNIT_BOX = ((-1.0, 1.0), (-1.0, 1.0))


@pytest.mark.parametrize(
    ("inside", "outside", "expected"),
    [
        ((0.0, 0.0), (3.0, 0.0), (1.0, 0.0)),  # out through the right edge
        ((0.0, 0.0), (0.0, -5.0), (0.0, -1.0)),  # bottom
        ((0.5, 0.5), (2.0, 3.0), (0.8, 1.0)),  # top first: t_y = 0.5 / 2.5 < t_x = 0.5 / 1.5
        ((0.0, 0.0), (2.0, 2.0), (1.0, 1.0)),  # exactly through a corner
        ((-0.5, 0.0), (-3.0, 0.5), (-1.0, 0.1)),  # left, on a slant
        ((0.2, 0.3), (0.4, 0.5), (0.4, 0.5)),  # never leaves: the end itself
    ],
)
def test_exit_point_table(inside, outside, expected):
    assert np.allclose(geometry.exit_point(np.array(inside), np.array(outside), UNIT_BOX), expected)


@given(
    st.tuples(st.floats(-0.99, 0.99), st.floats(-0.99, 0.99)),
    st.floats(0.0, 2 * np.pi),
    st.floats(3.0, 1e6),  # longer than the box diagonal: b is always outside
)
def test_exit_point_lies_on_the_edge_and_on_the_segment(inside, angle, distance):
    a = np.array(inside)
    b = a + distance * np.array([np.cos(angle), np.sin(angle)])
    p = geometry.exit_point(a, b, UNIT_BOX)
    assert np.isclose(np.max(np.abs(p)), 1.0)  # on the boundary of the unit box
    along = np.dot(p - a, b - a) / np.dot(b - a, b - a)
    assert 0.0 <= along <= 1.0
    assert np.allclose(a + along * (b - a), p, atol=1e-9 * distance)  # on the segment


def test_exit_point_is_vectorised():
    inside = np.zeros((3, 2))
    outside = np.array([[2.0, 0.0], [0.0, 2.0], [-4.0, 0.0]])
    assert np.allclose(geometry.exit_point(inside, outside, UNIT_BOX), [[1, 0], [0, 1], [-1, 0]])


# ----------------------------------------------------------------------------- a race built by hand

STEPS = 20
ESCAPE_STEP = 15  # the escaping run diverges here
ROSENBROCK = FUNCTIONS.get("rosenbrock")  # view x in [-2, 2], y in [-1, 3]


def hand_race(steps: int = STEPS) -> Race:
    """Two runs from (-1.5, 2): one walks straight to the minimum (1, 1); one runs right along y = 2, leaves the
    view through x = 2 between steps 12 and 13, and diverges at ESCAPE_STEP (frozen from then, as the engine does)."""
    t = np.linspace(0.0, 1.0, steps + 1)[:, None]
    start = np.array([-1.5, 2.0])
    calm = start + t * (np.array([1.0, 1.0]) - start)
    escape = start + t * np.array([5.5, 0.0])
    frozen = min(ESCAPE_STEP, steps + 1)
    escape[frozen:] = escape[frozen - 1]
    positions = np.stack([calm, escape], axis=1)[:, :, None, :]  # (steps + 1, runs, starts, 2)
    diverged = np.array([[-1], [ESCAPE_STEP if ESCAPE_STEP <= steps else -1]])
    trajectories = Trajectories(positions, ROSENBROCK.value_at(positions), diverged)
    runs = label_runs([Run("", "adam", {"lr": 0.05}, "user"), Run("", "sgd", {"lr": 0.1}, "user")])
    return Race(ROSENBROCK, runs, start[None, :], steps, trajectories)


def test_frame_markers_show_heads_edges_and_crosses():
    race = hand_race()
    bounds = view_bounds(race.function.domain, race.starts)
    positions = race.trajectories.positions
    last_inside = geometry.last_inside_step(positions, bounds)

    def markers(step):
        return geometry.frame_markers(positions, last_inside, race.trajectories.diverged_step, step, bounds)

    points, kinds, _ = markers(12)  # both in view: x = -1.5 + 5.5 * 12 / 20 = 1.8
    assert list(kinds) == [geometry.HEAD, geometry.HEAD]
    assert np.allclose(points, positions[12, :, 0])
    points, kinds, directions = markers(14)  # the escaping run is out (x = 2.35): an arrow at (2, 2) pointing +x
    assert list(kinds) == [geometry.HEAD, geometry.EDGE]
    assert np.allclose(points[1], [2.0, 2.0])
    assert directions[1][0] > 0 and directions[1][1] == 0
    points, kinds, _ = markers(STEPS)  # diverged while out: a cross where it left
    assert list(kinds) == [geometry.HEAD, geometry.CROSS]
    assert np.allclose(points[1], [2.0, 2.0])


def test_legend_reports_divergence_only_once_it_has_happened():
    race = hand_race()
    before = labels.legend_labels(race, ESCAPE_STEP - 1)
    after = labels.legend_labels(race, ESCAPE_STEP)
    assert before == ("adam lr=0.05", "sgd lr=0.1")
    assert after == ("adam lr=0.05", f"sgd lr=0.1\ndiverged at step {ESCAPE_STEP}")


def test_divergence_note_with_several_starts():
    note = labels.divergence_note(np.array([-1, 7, 4]), 10)
    assert note == "2 of 3 diverged, first at step 4"
    assert labels.divergence_note(np.array([-1, 7, 4]), 3) == ""


@pytest.mark.parametrize(
    ("formula", "pretty"),
    [
        ("(1 - x)^2 + 100 (y - x^2)^2", "(1 − x)² + 100 (y − x²)²"),
        ("x**10 - cos(2 pi x)", "x¹⁰ − cos(2 π x)"),
        ("exp(-x^2) - 1e-3", "exp(−x²) − 1e−3"),  # every minus sign is the real one, unary and in exponents
    ],
)
def test_pretty_formula(formula, pretty):
    assert labels.pretty_formula(formula) == pretty


def test_view_grows_to_show_every_start():
    (xmin, xmax), (ymin, ymax) = view_bounds(((-1.0, 1.0), (-1.0, 1.0)), np.array([[3.0, 0.0], [0.0, -2.0]]))
    assert xmin == -1.0 and xmax > 3.0 and ymin < -2.0 and ymax == 1.0


# ----------------------------------------------------------------------------- loss panel and landscape scales


def test_loss_scale_is_log_when_the_gap_spans_decades():
    losses = np.geomspace(10.0, 1e-4, 21)[:, None, None]
    view = np.ones_like(losses, dtype=bool)
    loss = loss_scale(losses, 0.0, view)
    assert loss.log and loss.ylim[0] < 1e-4 and loss.ylim[1] > 10.0


def test_loss_scale_is_linear_without_f_min_and_ignores_values_out_of_view():
    losses = np.concatenate([np.linspace(1.0, -2.0, 11), [-1e12]])[:, None, None]
    view = np.ones_like(losses, dtype=bool)
    view[-1] = False  # the run that slid off a saddle
    loss = loss_scale(losses, None, view)
    assert not loss.log
    assert -3.0 < loss.ylim[0] < -2.0 and 1.0 < loss.ylim[1] < 2.0


@pytest.mark.parametrize("function", list(FUNCTIONS), ids=lambda f: f.name)
def test_shading_is_finite_and_uses_the_whole_colour_range(function):
    from optviz.render.landscape import sample_grid

    _, _, f = sample_grid(function, function.domain, points=80)
    h, levels = shading(f, function.f_min, function.log_scale and function.f_min is not None)
    assert np.all(np.isfinite(h)) and np.all(np.diff(levels) > 0)
    assert h.min() >= levels[0] and h.max() <= levels[-1]
    # colour variety: the darkest and lightest tenths of the range are both used, and so is the middle
    fraction = (h - levels[0]) / (levels[-1] - levels[0])
    assert (fraction < 0.1).any() and (fraction > 0.9).any() and ((fraction > 0.3) & (fraction < 0.7)).any()


# ----------------------------------------------------------------------------- layout


@pytest.mark.parametrize("size", [(800, 600), (1280, 720), (1920, 1080), (640, 640)])
@pytest.mark.parametrize("aspect", [0.25, 0.5, 1.0, 2.0])
def test_layout_panels_are_inside_and_apart(size, aspect):
    width, height = size
    lay = layout(width, height, em=15.0, title_height=20.0, data_aspect=aspect)
    boxes = [lay.landscape, lay.loss, lay.legend_box]
    for left, bottom, w, h in boxes:
        assert w > 0 and h > 0 and left >= 0 and bottom >= 0 and left + w <= width and bottom + h <= height
    for i, (l1, b1, w1, h1) in enumerate(boxes):
        for l2, b2, w2, h2 in boxes[i + 1:]:
            assert l1 + w1 <= l2 or l2 + w2 <= l1 or b1 + h1 <= b2 or b2 + h2 <= b1, "panels overlap"
    assert np.isclose(lay.landscape[3] / lay.landscape[2], aspect)  # the landscape keeps the data's aspect


def test_layout_puts_a_wide_view_above_the_loss_panel():
    lay = layout(1280, 720, em=15.0, title_height=20.0, data_aspect=0.4)
    assert lay.landscape[1] >= lay.loss[1] + lay.loss[3]


# ----------------------------------------------------------------------------- themes


def relative_luminance(colour) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""
    from matplotlib.colors import to_rgb

    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a, b) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_theme_registry():
    assert THEMES.names() == ["light", "dark"]
    with pytest.raises(UsageError, match="dark"):
        THEMES.get("drak")


@pytest.mark.parametrize("theme", list(THEMES), ids=lambda t: t.name)
def test_theme_text_is_readable(theme):
    assert contrast(theme.text, theme.background) >= 7.0
    assert contrast(theme.muted, theme.background) >= 4.5
    assert len(set(theme.palette)) == len(theme.palette)


# ----------------------------------------------------------------------------- the rendered scene


@pytest.fixture(scope="module")
def scenes():
    made = {}

    def get(size=(800, 600), theme="light"):
        if (size, theme) not in made:
            made[size, theme] = scene.RaceScene(hand_race(), size=size, theme=theme)
        return made[size, theme]

    yield get
    for made_scene in made.values():
        made_scene.close()


@pytest.mark.parametrize(
    ("size", "theme"),
    [((800, 600), "light"), ((800, 600), "dark"), ((1280, 720), "dark"), ((1001, 563), "light"), ((320, 240), "dark")],
)
def test_render_has_the_exact_size(scenes, size, theme):
    frame = scenes(size, theme).render(STEPS // 2)
    assert frame.shape == (size[1], size[0], 4) and frame.dtype == np.uint8


def test_frames_change_as_the_paths_move_and_repeat_exactly(scenes):
    view = scenes()
    first, middle = view.render(0), view.render(10)
    last = view.render(STEPS)
    assert not np.array_equal(first, middle) and not np.array_equal(middle, last)
    assert np.array_equal(view.render(10), middle)  # going back gives the same picture: nothing accumulates
    assert np.array_equal(view.render(STEPS), last)


def test_render_refuses_a_step_outside_the_race(scenes):
    with pytest.raises(UsageError, match="step"):
        scenes().render(STEPS + 1)


def test_legend_text_changes_when_a_run_diverges(scenes):
    view = scenes()
    legend_texts = lambda: [t.get_text() for t in view.figure.legends[0].texts]  # noqa: E731
    view.render(ESCAPE_STEP - 1)
    assert not any("diverged" in text for text in legend_texts())
    view.render(ESCAPE_STEP)
    assert any(f"diverged at step {ESCAPE_STEP}" in text for text in legend_texts())


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_still_in_each_format(scenes, tmp_path, suffix):
    view = scenes()
    before = view.render(STEPS // 2)
    path = tmp_path / f"still{suffix}"
    view.save_still(path, STEPS // 2)
    assert np.array_equal(view.render(STEPS // 2), before)  # saving leaves the animation as it was
    data = path.read_bytes()
    assert len(data) > 1000
    if suffix == ".svg":
        assert b"<svg" in data
    elif suffix == ".pdf":
        assert data.startswith(b"%PDF")
    else:
        from PIL import Image

        with Image.open(path) as image:
            still = np.asarray(image.convert("RGBA"))
        assert still.shape == (600, 800, 4)
        assert np.abs(still.astype(int) - view.render(STEPS // 2)).mean() < 1.0  # the same picture as the frame


@pytest.mark.parametrize("suffix", [".svg", ".pdf"])
def test_vector_still_is_the_same_bytes_every_time(scenes, tmp_path, suffix):
    view = scenes()
    first, second = tmp_path / f"first{suffix}", tmp_path / f"second{suffix}"
    view.save_still(first, STEPS)
    view.save_still(second, STEPS)
    assert first.read_bytes() == second.read_bytes()


def test_still_refuses_an_unknown_format(scenes, tmp_path):
    with pytest.raises(UsageError, match=".gif"):
        scenes().save_still(tmp_path / "still.gif", 0)


def test_still_format_can_be_given_for_a_temporary_name(scenes, tmp_path):
    path = tmp_path / "still.svg.partial"
    scenes().save_still(path, 0, format="svg")
    assert b"<svg" in path.read_bytes()


@pytest.mark.parametrize("theme_name", ["light", "dark"])
def test_every_text_is_readable_on_its_background(scenes, theme_name):
    from matplotlib.text import Text

    view = scenes(theme=theme_name)
    theme = THEMES.get(theme_name)
    view.render(STEPS)
    texts = [t for t in view.figure.findobj(Text) if t.get_visible() and t.get_text().strip()]
    assert len(texts) > 10  # title, counter, axis labels, tick labels, legend
    for text in texts:
        assert contrast(text.get_color(), theme.background) >= 4.5, text.get_text()
    legend = view.figure.legends[0]
    assert contrast(legend.get_frame().get_facecolor(), theme.background) < 1.1  # the frame is the background


def test_dark_theme_is_dark_with_light_text(scenes):
    view = scenes(theme="dark")
    dark = THEMES.get("dark")
    frame = view.render(STEPS)
    assert relative_luminance(view.figure.get_facecolor()) < 0.05
    assert frame[2, 2, :3].max() < 40 and frame[-3, -3, :3].max() < 40  # corners are background
    tick = view.figure.axes[0].get_xticklabels()[0]
    assert tick.get_color() == dark.muted and relative_luminance(tick.get_color()) > 0.5


def test_a_race_of_zero_steps_renders():
    view = scene.RaceScene(hand_race(steps=0), size=(800, 600))
    try:
        assert view.render(0).shape == (600, 800, 4)
    finally:
        view.close()


# ----------------------------------------------------------------------------- many runs: colours and the legend

LONG_LABELS = ("sgd(lr=0.001, momentum=0.9)", "adam lr 0.0316 (tuned)",
               "rmsprop(lr=0.01, alpha=0.9) cosine to 0, clip 1", "nesterov(lr=0.002, momentum=0.95, nesterov=true)", "adagrad", "adamwithaveryveryverylongnamenospaces")


def cielab(colour) -> np.ndarray:
    from matplotlib.colors import to_rgb

    rgb = np.array(to_rgb(colour))
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    f = np.cbrt(np.maximum(xyz / np.array([0.9505, 1.0, 1.089]), (6 / 29) ** 3))
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


@pytest.mark.parametrize("theme", list(THEMES), ids=lambda t: t.name)
def test_twelve_runs_have_twelve_distinct_colours_and_more_runs_another_style(theme):
    from optviz.render.artists import run_colour, run_linestyle, run_marker

    colours = [run_colour(theme, r) for r in range(12)]
    assert len(set(colours)) == 12
    distances = [np.linalg.norm(cielab(a) - cielab(b)) for i, a in enumerate(colours) for b in colours[i + 1:]]
    assert min(distances) >= 25  # CIE76: clearly different colours, not shades of one
    looks = {(run_colour(theme, r), run_linestyle(theme, r), run_marker(theme, r)) for r in range(48)}
    assert len(looks) == 48  # after twelve runs colours repeat, but never with the same dash and head


def many_runs_race(runs: int, starts: int = 1) -> Race:
    """`runs` runs with long labels from `starts` starts spread over Rosenbrock's view, walking to the minimum."""
    t = np.linspace(0.0, 1.0, STEPS + 1)[:, None, None, None]
    grid = np.linspace(-1.5, 1.5, starts)
    start = np.stack([grid, np.linspace(2.5, -0.5, starts)], axis=-1)  # (starts, 2)
    offsets = np.linspace(-0.3, 0.3, runs)[None, :, None, None] * np.array([1.0, 0.0])
    positions = start[None, None] + t * (np.array([1.0, 1.0]) - start[None, None]) + offsets * t * (1 - t)
    trajectories = Trajectories(positions, ROSENBROCK.value_at(positions), np.full((runs, starts), -1))
    run_list = tuple(Run(f"{LONG_LABELS[r % len(LONG_LABELS)]} #{r}", "sgd", {"lr": 0.01}, "user") for r in range(runs))
    return Race(ROSENBROCK, run_list, start, STEPS, trajectories)


def boxes_overlap(a, b) -> bool:
    return a.x0 < b.x1 - 0.5 and b.x0 < a.x1 - 0.5 and a.y0 < b.y1 - 0.5 and b.y0 < a.y1 - 0.5


@pytest.mark.parametrize("size", [(1280, 720), (720, 1280), (640, 480)])
def test_a_legend_of_24_long_labels_fits_inside_the_figure_without_overlap(size):
    view = scene.RaceScene(many_runs_race(24), size=size)
    try:
        view.render(STEPS)
        renderer = view.figure.canvas.get_renderer()
        legend = view.figure.legends[0]
        texts = [text.get_window_extent(renderer) for text in legend.texts]
        figure_box = view.figure.bbox
        assert len(texts) == 24
        for box in [legend.get_window_extent(renderer), *texts]:
            assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= figure_box.x1 and box.y1 <= figure_box.y1
        for i, a in enumerate(texts):
            assert not any(boxes_overlap(a, b) for b in texts[i + 1:]), legend.texts[i].get_text()
        legend_box = legend.get_window_extent(renderer)
        for ax in view.figure.axes:  # the loss panel (with its tick labels) and the landscape stay clear of it
            assert not boxes_overlap(ax.get_tightbbox(renderer), legend_box)
        # nothing cut: every label's words are all there, only broken into lines
        for text, run in zip(legend.texts, view._race.runs):
            assert text.get_text().replace("\n", "").replace(" ", "") == run.label.replace(" ", "")
        if size == (1280, 720):
            assert legend.texts[0].get_fontsize() >= 7.0  # legible at 720p
    finally:
        view.close()


def test_wrapped_labels_break_at_spaces_and_commas_and_fit_their_room():
    from matplotlib.figure import Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from optviz.render.title_and_legend import Wrapper

    figure = Figure(figsize=(4, 3), dpi=100)
    renderer = FigureCanvasAgg(figure).get_renderer()
    wrap = Wrapper(figure, renderer, 10.0)
    wrap.room = 1.05 * wrap.width("nesterov(lr=0.002,")
    wrapped = wrap("nesterov(lr=0.002, momentum=0.95, nesterov=true)\ndiverged at step 4")
    lines = wrapped.split("\n")
    assert len(lines) > 2 and lines[0] == "nesterov(lr=0.002,"
    assert all(wrap.width(line) <= wrap.room for line in lines)
    assert wrap("adam") == "adam"


# ----------------------------------------------------------------------------- what is drawn over what; the title


def test_start_squares_are_drawn_over_the_trails_and_star_outlines_over_the_heads(scenes):
    view = scenes()
    moving = view._moving  # drawn in this order every frame
    zorders = [artist.get_zorder() for artist in moving]
    assert zorders == sorted(zorders)
    landscape = view.figure.axes[0]
    starts = [a for a in moving if getattr(a, "get_marker", lambda: None)() == "s"]
    stars = [a for a in moving if getattr(a, "get_marker", lambda: None)() == "*"]
    assert starts and stars and all(a.axes is landscape for a in starts + stars)
    order = {id(a): i for i, a in enumerate(moving)}
    assert all(order[id(s)] > order[id(t)] for s in starts for t in view._trails)
    assert all(order[id(s)] > order[id(view._markers)] for s in stars)
    # the start square shows in the frame: its white face sits exactly where both trails leave from
    frame = view.render(STEPS)
    x, y = landscape.transData.transform(view._race.starts[0])
    row, column = int(round(view.figure.bbox.height - y)), int(round(x))
    assert tuple(frame[row, column, :3]) == (255, 255, 255)


@pytest.mark.parametrize("size", [(1280, 720), (640, 480), (720, 1280)])
@pytest.mark.parametrize("title", ["", None, "A title that is long enough to need the whole width of the picture"])
def test_title_counter_and_panels_never_overlap(size, title):
    view = scene.RaceScene(hand_race(), size=size, title=title)
    try:
        view.save_still(Path("/dev/null"), STEPS, format="png")  # lay out every text as a still does
        renderer = view.figure.canvas.get_renderer()
        counter = view._counter._text.get_window_extent(renderer)
        readout = view._readout.texts if view._readout is not None else []
        header = [t.get_window_extent(renderer) for t in view.figure.texts if t.get_text() and t is not
                  view._counter._text and t not in readout]
        panels = [ax.get_tightbbox(renderer) for ax in view.figure.axes]
        for box in [counter, *header]:
            assert box.x0 >= 0 and box.x1 <= size[0] and box.y1 <= size[1]
            assert not any(boxes_overlap(box, panel) for panel in panels)
        assert not any(boxes_overlap(counter, box) for box in header)
        assert bool(header) == (title != "")
    finally:
        view.close()


def test_default_titles_are_sentence_case_with_real_minus_signs():
    assert labels.default_title(FUNCTIONS.get("monkey-saddle")) == "Monkey saddle: x³ − 3 x y²"
    assert labels.default_title(FUNCTIONS.get("goldstein-price")).startswith("Goldstein price: [1 + (x + y + 1)²")
    assert all("-" not in labels.default_title(function) for function in FUNCTIONS)


def test_non_latin_titles_draw_without_glyph_warnings(recwarn, caplog):
    from optviz.render.title_and_legend import LAST_RESORT_FONT, font_for

    view = scene.RaceScene(hand_race(), size=(800, 600), title="Функция 函数 関数")
    try:
        view.render(STEPS)
        view.save_still(Path("/dev/null"), STEPS, format="png")
    finally:
        view.close()
    assert not [w for w in recwarn if "Glyph" in str(w.message)]
    assert not [r for r in caplog.records if "findfont" in r.getMessage()]
    assert font_for("Функция") == {"fontfamily": "DejaVu Sans"}  # the main font has Cyrillic: bold stays
    assert LAST_RESORT_FONT in font_for("函数")["fontfamily"]


# ----------------------------------------------------------------------------- many starts


def test_quartiles_and_band_polygon():
    values = np.arange(2 * 1 * 5, dtype=float).reshape(2, 1, 5)  # step 0: 0..4, step 1: 5..9
    values[1, 0, 4] = np.inf  # a diverged start is left out
    q = geometry.quartiles(values)
    assert np.allclose(q[:, 0, 0], [1, 2, 3]) and np.allclose(q[:, 1, 0], [5.75, 6.5, 7.25])
    assert np.all(np.isnan(geometry.quartiles(np.full((1, 1, 3), np.nan))))
    polygon = geometry.band_polygon(np.array([0.0, 1.0, 2.0]), np.array([1.0, np.nan, 2.0]), np.array([3.0, 4, 5]))
    assert polygon.tolist() == [[0, 1], [2, 2], [2, 5], [0, 3]]


def test_many_starts_draw_thin_trails_and_a_quartile_band_per_optimiser():
    from matplotlib.colors import to_hex

    from optviz.render.artists import MANY_STARTS, run_colour

    race = many_runs_race(4, starts=100)
    view = scene.RaceScene(race, size=(1280, 720))
    try:
        frame = view.render(STEPS // 2)
        assert frame.shape == (720, 1280, 4)
        assert len(view._bands) == 4 and len(view._loss_curves) == 4  # one median and one band per optimiser
        values = view._loss.values[: STEPS // 2 + 1, 0]
        for r, band in enumerate(view._bands):
            outline = band.get_paths()[0].vertices
            assert to_hex(band.get_facecolor()[0], keep_alpha=False) == run_colour(view._theme, r)
            low, high = np.nanquantile(view._loss.values[: STEPS // 2 + 1, r], [0.25, 0.75], axis=-1)
            assert np.isclose(outline[:, 1].min(), low.min()) and np.isclose(outline[:, 1].max(), high.max())
        median = np.nanmedian(values, axis=-1)
        assert np.allclose(view._loss_curves[0].get_ydata(), median)
        assert len(view._loss_dots.get_offsets()) == 4  # one dot per optimiser, not per start
        assert all(trail.get_linewidth() < 1.0 for trail in view._trails) and not view._outline.get_visible()
        assert len(view._markers.get_offsets()) == 400  # every start's head is drawn
    finally:
        view.close()
    few = scene.RaceScene(many_runs_race(2, starts=MANY_STARTS - 1), size=(800, 600))
    try:
        few.render(STEPS)
        assert few._bands == [] and len(few._loss_dots.get_offsets()) == 2 * (MANY_STARTS - 1)
    finally:
        few.close()


def test_landscapes_that_turn_often_are_sampled_finer():
    from optviz.render.landscape import GRID_POINTS, MAX_GRID_POINTS, SAMPLES_PER_TURN, grid_points, sample_grid

    x = np.linspace(0.0, 1.0, GRID_POINTS)
    ripples = np.sin(2 * np.pi * 40 * x)[None, :] + 0 * x[:, None]  # 80 turns along x (40 periods), none along y
    nx, ny = grid_points(ripples)
    assert nx == min(SAMPLES_PER_TURN * 80, MAX_GRID_POINTS) and ny == GRID_POINTS
    levi, rosenbrock = FUNCTIONS.get("levi"), FUNCTIONS.get("rosenbrock")
    assert min(grid_points(sample_grid(levi, levi.domain)[2])) > GRID_POINTS  # sin²(3πx): 60 turns across
    assert grid_points(sample_grid(rosenbrock, rosenbrock.domain)[2]) == (GRID_POINTS, GRID_POINTS)


def test_heads_on_top_of_each_other_are_spread_onto_a_ring_and_all_show():
    points = np.array([[100.0, 100.0], [100.5, 100.0], [101.0, 99.0], [300.0, 300.0], [100.0, 100.0]])
    mask = np.array([True, True, True, True, False])  # the last is not a head (a cross): it stays
    spread = geometry.spread_coincident(points, 12.0, mask)
    group = spread[:3]
    distances = np.hypot(*(group[:, None] - group[None, :]).transpose(2, 0, 1))[np.triu_indices(3, 1)]
    assert distances.min() >= 0.9 * 12.0 * 0.55 * np.sqrt(3)  # apart on a ring: none hides another
    assert np.allclose(group.mean(axis=0), points[:3].mean(axis=0))  # around where they are
    assert np.array_equal(spread[3:], points[3:])
    assert np.array_equal(geometry.spread_coincident(points, 12.0, mask), spread)  # the same spots every frame


def test_coinciding_heads_all_show_in_the_frame():
    race = many_runs_race(6)  # every run ends on the minimum (1, 1)
    view = scene.RaceScene(race, size=(800, 600))
    try:
        view.render(STEPS)
        offsets = view._markers.get_offsets()
        px = view.figure.axes[0].transData.transform(offsets)
        gaps = np.hypot(*(px[:, None] - px[None, :]).transpose(2, 0, 1))[np.triu_indices(len(px), 1)]
        assert gaps.min() > 0.5 * view._head_px
    finally:
        view.close()
