"""The race picture, drawn once and re-shown per step by blitting.

Left, the landscape (filled contours over the view, minima, starts) with every run's trail and head; right, the
loss of every run against the step, above the legend. The static part is drawn once and cached as pixels; a
frame restores those pixels and draws only the moving artists (trails, markers, loss curves, step counter).

What a trajectory's marker shows at step k (see `frame_markers`):
    inside the view                -> a dot at its position
    outside the view               -> an arrowhead on the view's edge where the path last left it, pointing
                                      the way it went (the trail itself is clipped at the edge)
    diverged at step d <= k        -> a cross at its last position, or where it left the view if that is
                                      outside; its legend entry reads "diverged at step d"
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle
from matplotlib.path import Path as MarkerPath
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import IdentityTransform

from optviz.errors import UsageError
from optviz.render.landscape import Bounds, draw_landscape, view_bounds
from optviz.render.theme import THEMES, Theme

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.legend import Legend
    from matplotlib.text import Text

    from optviz.functions import TestFunction
    from optviz.race import Race, Run

STILL_FORMATS = (".png", ".svg", ".pdf")
VECTOR_RASTER_SCALE = 2  # SVG/PDF: the rasterised contour fill at twice the screen resolution, for print
MIN_SIZE = (320, 240)

# Sizes are designed at 1280x720 px and 100 dpi, where 1 pt = 1.39 px; other sizes scale the dpi (see `text_scale`).
DESIGN_SIZE = (1280, 720)
DESIGN_DPI = 100.0
SHRINK_EXPONENT = 0.35  # below the design size text shrinks slower than the picture, to stay readable
TITLE_PT = 14.0
LABEL_PT = 11.0  # axis labels, step counter; also the layout's unit ("em")
TICK_PT = 9.5
LEGEND_PT = 10.5
TRAIL_PT = 1.9
HALO_PT = 1.4  # outline width on each side of a trail
HEAD_PT = 9.0  # marker diameters
CROSS_PT = 12.0
ARROW_PT = 14.0
START_PT = 8.0
LOSS_PT = 1.6

TICK_STEPS = [1, 2, 2.5, 5, 10]  # tick spacings: 0.5, 1, 2.5, 25 ... (never 0.8 or 40)

HEAD, EDGE, CROSS = 0, 1, 2  # marker kinds


def text_scale(size: tuple[int, int]) -> float:
    """How much larger than at the design size text and lines are drawn, with r = area / design area:

        r^(1/2) from the design size up (a 4K picture looks like the 720p one, sharper),
        r^0.35  below it (800x600: 0.80 rather than 0.72, so the labels stay readable on a projector).
    """
    ratio = size[0] * size[1] / (DESIGN_SIZE[0] * DESIGN_SIZE[1])
    return math.sqrt(ratio) if ratio >= 1 else ratio**SHRINK_EXPONENT


# ----------------------------------------------------------------------------- geometry (pure numpy)


def exit_point(inside: np.ndarray, outside: np.ndarray, bounds: Bounds) -> np.ndarray:
    """Where the segment from `inside` (a point in the box) to `outside` crosses the box's edge; shapes (..., 2).

    Along p(t) = a + t (b - a) the x coordinate reaches the bound on b's side at t_x = (edge_x - a_x) / (b_x - a_x)
    (never when b_x = a_x), likewise y; the segment leaves at t* = min(t_x, t_y), clipped to [0, 1], so a
    segment that stays inside returns its end b.
    """
    a = np.asarray(inside, dtype=np.float64)
    b = np.asarray(outside, dtype=np.float64)
    low = np.array([bounds[0][0], bounds[1][0]])
    high = np.array([bounds[0][1], bounds[1][1]])
    d = b - a
    with np.errstate(all="ignore"):  # d = 0 (no crossing) and tiny d both give t = inf
        t_high = np.where(d > 0, (high - a) / d, np.inf)
        t_low = np.where(d < 0, (low - a) / d, np.inf)
    t = np.clip(np.minimum(t_high, t_low).min(axis=-1), 0.0, 1.0)
    return a + t[..., None] * d


def inside_view(points: np.ndarray, bounds: Bounds) -> np.ndarray:
    """Whether each point (..., 2) lies in the closed box."""
    (xmin, xmax), (ymin, ymax) = bounds
    x, y = points[..., 0], points[..., 1]
    return (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)


def last_inside_step(positions: np.ndarray, bounds: Bounds) -> np.ndarray:
    """For positions (T+1, ...,  2): the latest step <= t at which each trajectory was in the view, -1 if never."""
    steps = np.arange(positions.shape[0]).reshape((-1,) + (1,) * (positions.ndim - 2))
    return np.maximum.accumulate(np.where(inside_view(positions, bounds), steps, -1), axis=0)


def frame_markers(
    positions: np.ndarray, last_inside: np.ndarray, diverged_step: np.ndarray, step: int, bounds: Bounds
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each trajectory's marker at `step`: points (N, 2), kinds (N,) in HEAD/EDGE/CROSS and directions (N, 2).

    positions (T+1, R, S, 2), last_inside (T+1, R, S) from `last_inside_step`, diverged_step (R, S); N = R S.
    A trajectory outside the view is marked where it left: on the segment from its last position in view,
    step j, to step j + 1 (from the view's centre to where it is now if it was never in view); the direction
    is that segment's.
    """
    heads = positions[step].reshape(-1, 2)
    j = last_inside[step].reshape(-1)
    trajectory = np.arange(heads.shape[0])
    flat = positions.reshape(positions.shape[0], -1, 2)
    centre = np.array([sum(bounds[0]) / 2, sum(bounds[1]) / 2])
    was_inside = j >= 0
    anchor = np.where(was_inside[:, None], flat[np.maximum(j, 0), trajectory], centre)
    ahead = np.where(was_inside[:, None], flat[np.minimum(j + 1, step), trajectory], heads)
    outside = ~inside_view(heads, bounds)
    points = np.where(outside[:, None], exit_point(anchor, ahead, bounds), heads)
    diverged = (diverged_step.reshape(-1) >= 0) & (diverged_step.reshape(-1) <= step)
    kinds = np.where(diverged, CROSS, np.where(outside, EDGE, HEAD))
    return points, kinds, ahead - anchor


# ----------------------------------------------------------------------------- words


_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def pretty_formula(formula: str) -> str:
    """Integer powers as superscripts and a real minus sign: "(1 - x)^2" -> "(1 − x)²"."""
    powered = re.sub(r"(?:\^|\*\*)(\d+)", lambda m: m.group(1).translate(_SUPERSCRIPTS), formula)
    return re.sub(r"\bpi\b", "π", powered).replace(" - ", " − ")


def default_title(function: TestFunction) -> str:
    """ "Rosenbrock: (1 − x)² + 100 (y − x²)²" """
    name = function.name.replace("_", " ").title()
    return f"{name}: {pretty_formula(function.formula)}" if function.formula else name


def format_lr(lr: float) -> str:
    """0.05 -> "0.05", 1e-05 -> "1e-5", 0.00123456 -> "0.00123"."""
    text = f"{lr:.3g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def run_label(run: Run) -> str:
    """ "adam  lr=0.05"; the label alone when it already shows lr (repeated optimisers are labelled by keywords)."""
    if "lr=" in run.label or "lr" not in run.params:
        return run.label
    return f"{run.label}  lr={format_lr(float(run.params['lr']))}"


def divergence_note(diverged_step: np.ndarray, step: int) -> str:
    """What a run's legend entry adds once some of its starts have diverged by `step` (diverged_step: (S,))."""
    hit = (diverged_step >= 0) & (diverged_step <= step)
    if not hit.any():
        return ""
    first = int(diverged_step[hit].min())
    if diverged_step.size == 1:
        return f"diverged at step {first}"
    return f"{int(hit.sum())} of {diverged_step.size} diverged, first at step {first}"


def legend_labels(race: Race, step: int) -> tuple[str, ...]:
    """Each run's legend entry as it reads at `step`."""
    labels = []
    for run, diverged in zip(race.runs, race.trajectories.diverged_step):
        note = divergence_note(diverged, step)
        labels.append(f"{run_label(run)}\n{note}" if note else run_label(run))
    return tuple(labels)


# ----------------------------------------------------------------------------- the loss panel's scale


@dataclass(frozen=True)
class LossScale:
    """What the loss panel plots: values (T+1, R, S), log or linear y, fixed y-limits, the y label."""

    values: np.ndarray
    log: bool
    ylim: tuple[float, float]
    label: str


LOG_MIN_DECADES = 2.0  # a log axis only when the plotted values span at least this many decades
GAP_RESOLUTION = 1e-16  # gaps below this times (1 + |f_min|) are rounding noise, drawn at that floor


def loss_scale(losses: np.ndarray, f_min: float | None, in_view: np.ndarray) -> LossScale:
    """Plot the gap f - f_min when f_min is known, f otherwise; log y when the gap spans decades.

    The limits (and the choice of scale) come from the losses while the trajectory is in the view: a run that
    leaves it (diverging towards 1e24, or sliding off a saddle towards -1e12) leaves the panel as its trail
    leaves the landscape, rather than squashing every other curve flat. If nothing is ever in view, all count.
    """
    values = np.where(np.isfinite(losses), losses, np.nan)
    label = "f(x, y)"
    if f_min is not None:
        values = np.clip(values - f_min, GAP_RESOLUTION * (1 + abs(f_min)), None)
        label = "f − f*"
    finite = np.isfinite(values)
    shown = values[in_view & finite]
    if shown.size == 0:
        shown = values[finite]
    if shown.size == 0:
        return LossScale(values, False, (0.0, 1.0), label)
    low, high = float(shown.min()), float(shown.max())
    if f_min is not None and np.log10(high / low) >= LOG_MIN_DECADES:
        pad = 10 ** (0.05 * np.log10(high / low))
        return LossScale(values, True, (low / pad, high * pad), label)
    pad = 0.05 * (high - low) if high > low else 0.5 * max(1.0, abs(low))
    return LossScale(values, False, (low - pad, high + pad), label)


# ----------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Layout:
    """Rectangles in pixels from the bottom-left (left, bottom, width, height) and anchor points."""

    landscape: tuple[float, float, float, float]
    loss: tuple[float, float, float, float]
    legend_box: tuple[float, float, float, float]  # where the legend must fit, anchored at its top-left
    title_at: tuple[float, float]  # top-left of the title
    counter_at: tuple[float, float]  # top-right of the step counter


LANDSCAPE_SHARE = 0.62  # side by side, at most this much of the width goes to the landscape column
BOTTOM_ROW_SHARE = 0.36  # stacked, the loss panel and legend row takes this much of the height


def fit_box(room_w: float, room_h: float, aspect: float) -> tuple[float, float]:
    """The largest width x height with height / width = aspect inside room_w x room_h."""
    return (room_w, room_w * aspect) if room_w * aspect <= room_h else (room_h / aspect, room_h)


def layout(width: float, height: float, em: float, title_height: float, data_aspect: float) -> Layout:
    """Place the panels for a figure of width x height px; em is the label font size in px.

    The landscape keeps the data's aspect ratio (dy / dx = data_aspect), so gradients meet contour lines at
    right angles as they do on paper. Of two arrangements the one giving it more area wins: side by side
    (landscape left; loss panel over the legend on the right), or stacked for wide views (landscape across the
    top; loss panel and legend in a row below).
    """
    outer = 0.8 * em
    top = height - outer - title_height - 0.7 * em
    tick_w, tick_h = 3.6 * em, 2.8 * em  # room for tick labels and an axis label, left of and under a panel
    title_at, counter_at = (outer, height - outer), (width - outer, height - outer)

    # side by side
    left, bottom = outer + tick_w, outer + tick_h
    box_w, box_h = fit_box(LANDSCAPE_SHARE * width - left, top - bottom, data_aspect)
    column = left + box_w + 1.2 * em
    loss_left = column + tick_w + 0.2 * em
    loss_h = 0.5 * (top - bottom)
    side = Layout(landscape=(left, top - box_h, box_w, box_h),
                  loss=(loss_left, top - loss_h, width - outer - 0.4 * em - loss_left, loss_h),
                  legend_box=(column, outer, width - outer - column, top - loss_h - 3.2 * em - outer),
                  title_at=title_at, counter_at=counter_at)

    # stacked
    row_top = outer + BOTTOM_ROW_SHARE * (top - outer)
    right = outer + 1.2 * em  # half of the last x tick label
    box_w, box_h = fit_box(width - left - right, top - row_top - tick_h, data_aspect)
    loss_w = 0.5 * width - left
    stacked = Layout(landscape=(left + (width - left - right - box_w) / 2, top - box_h, box_w, box_h),
                     loss=(left, bottom, loss_w, row_top - 0.6 * em - bottom),
                     legend_box=(left + loss_w + 1.6 * em, outer, width - outer - left - loss_w - 1.6 * em,
                                 row_top - 0.6 * em - outer),
                     title_at=title_at, counter_at=counter_at)
    return max(side, stacked, key=lambda lay: lay.landscape[2] * lay.landscape[3])


# ----------------------------------------------------------------------------- drawing helpers: take ax, return artists


def _marker_path(marker: str) -> MarkerPath:
    style = MarkerStyle(marker)
    return style.get_path().transformed(style.get_transform())


MARKER_PATHS = {HEAD: _marker_path("o"), CROSS: _marker_path("X")}
MARKER_SIZES = {HEAD: HEAD_PT**2, EDGE: ARROW_PT**2, CROSS: CROSS_PT**2}
# An arrowhead pointing along +x with its tip at the origin, so it sits just inside the edge it points through.
ARROW_VERTICES = np.array([[0.0, 0.0], [-0.9, 0.42], [-0.65, 0.0], [-0.9, -0.42], [0.0, 0.0]])


def arrow_path(angle: float) -> MarkerPath:
    """The arrowhead turned `angle` radians anticlockwise (in display space)."""
    c, s = math.cos(angle), math.sin(angle)
    return MarkerPath(ARROW_VERTICES @ np.array([[c, s], [-s, c]]), closed=True)


def style_axes(ax: Axes, theme: Theme, xlabel: str, ylabel: str) -> None:
    """Theme colours and sizes on every part of a panel: face, spines, ticks, tick and axis labels."""
    ax.set_facecolor(theme.background)
    for spine in ax.spines.values():
        spine.set_edgecolor(theme.muted)
    ax.tick_params(colors=theme.muted, labelcolor=theme.muted, labelsize=TICK_PT)
    ax.xaxis.get_offset_text().set_color(theme.muted)
    ax.yaxis.get_offset_text().set_color(theme.muted)
    ax.set_xlabel(xlabel, color=theme.text, fontsize=LABEL_PT)
    ax.set_ylabel(ylabel, color=theme.text, fontsize=LABEL_PT)


def halo(theme: Theme, width: float) -> list:
    """Path effects outlining a line `width` pt wide in the theme's halo colour (for the legend's handles)."""
    return [patheffects.Stroke(linewidth=width + 2 * HALO_PT, foreground=theme.halo), patheffects.Normal()]


def draw_starts(ax: Axes, starts: np.ndarray, theme: Theme) -> list:
    return ax.plot(starts[:, 0], starts[:, 1], linestyle="none", marker="s", markersize=START_PT,
                   markerfacecolor=theme.start_face, markeredgecolor=theme.start_edge, markeredgewidth=1.4,
                   zorder=2)


def run_colour(theme: Theme, run: int) -> str:
    return theme.palette[run % len(theme.palette)]


def run_linestyle(theme: Theme, run: int) -> str:
    """Solid for the first cycle through the palette, dashed after, so colours that repeat still differ."""
    return "-" if run < len(theme.palette) else "--"


def draw_paths(ax: Axes, runs: int, starts: int, theme: Theme) -> tuple[Line2D, list, PathCollection]:
    """Empty artists for the moving paths: one outline under every trail (the halo: one line through all of
    them, one draw), a trail per run, and one marker collection for every trajectory."""
    outline = ax.plot([], [], color=theme.halo, linewidth=TRAIL_PT + 2 * HALO_PT, solid_capstyle="round",
                      solid_joinstyle="round", zorder=4)[0]
    trails = [ax.plot([], [], color=run_colour(theme, r), linestyle=run_linestyle(theme, r), linewidth=TRAIL_PT,
                      solid_capstyle="round", solid_joinstyle="round", zorder=4.1)[0]
              for r in range(runs)]
    colours = [run_colour(theme, r) for r in range(runs) for _ in range(starts)]
    markers = PathCollection([MARKER_PATHS[HEAD]], offsets=np.zeros((runs * starts, 2)),
                             offset_transform=ax.transData, transform=IdentityTransform(), facecolors=colours,
                             edgecolors=theme.halo, linewidths=1.3, zorder=5, clip_on=False)
    ax.add_collection(markers, autolim=False)
    return outline, trails, markers


def draw_loss_curves(ax: Axes, runs: int, starts: int, theme: Theme) -> tuple[list, PathCollection]:
    """One (empty) loss curve per run and a dot for every trajectory's current loss."""
    curves = [ax.plot([], [], color=run_colour(theme, r), linestyle=run_linestyle(theme, r), linewidth=LOSS_PT,
                      zorder=3)[0] for r in range(runs)]
    colours = [run_colour(theme, r) for r in range(runs) for _ in range(starts)]
    dots = ax.scatter(np.zeros(runs * starts), np.ones(runs * starts), s=(0.6 * HEAD_PT) ** 2, c=colours,
                      edgecolors=theme.background, linewidths=0.8, zorder=4)
    return curves, dots


def separated(series: np.ndarray) -> np.ndarray:
    """(K, S, ...) time-major series of S trajectories -> one array, trajectory after trajectory, NaN between."""
    if series.shape[1] == 1:
        return series[:, 0]
    k, s = series.shape[:2]
    out = np.full((s, k + 1) + series.shape[2:], np.nan)
    out[:, :k] = np.swapaxes(series, 0, 1)
    return out.reshape((s * (k + 1),) + series.shape[2:])


# ----------------------------------------------------------------------------- the step counter


class StepCounter:
    """ "step 137 / 300", top right, in a monospace font.

    Drawing text costs 1-6 ms a frame (FreeType lays out and rasterises every glyph), more than everything else
    moving. So the words and the total are static text drawn with the background, with a blank slot for the
    number, and each frame pastes the number's pixels: every digit is rendered once, in place, in all slot
    positions (monospace digits share one advance, so the slot splits into equal cells).
    """

    def __init__(self, text: Text, total: int):
        self._text = text
        self._total = total
        self._width = len(str(total))
        self._rows = slice(0, 0)
        self._columns = np.zeros(self._width + 1, dtype=int)
        self._cells: dict[str, np.ndarray] = {}
        self.show(None)

    def words(self, number: str) -> str:
        """The counter's text with `number` right-aligned in the slot."""
        return f"step {number:>{self._width}} / {self._total}"

    def show(self, step: int | None) -> None:
        """Put the full text for `step` (None: the blank-slot template) in the text artist."""
        self._text.set_text(self.words("" if step is None else str(step)))

    def capture(self, canvas: FigureCanvasAgg, base) -> None:
        """Render every digit into the slot over the cached background `base` and keep the slot's pixels."""
        figure = self._text.figure
        box = self._text.get_window_extent(canvas.get_renderer())
        height = canvas.get_width_height(physical=True)[1]
        rows = slice(max(int(height - box.y1) - 2, 0), min(int(math.ceil(height - box.y0)) + 2, height))
        frames = {}
        for char in "0123456789 ":
            canvas.restore_region(base)
            self._text.set_text(self.words(char * self._width))
            figure.draw_artist(self._text)
            frames[char] = np.array(canvas.buffer_rgba()[rows], copy=True)
        canvas.restore_region(base)
        self.show(None)
        ink = np.flatnonzero(np.any(np.stack([frames[c] != frames[" "] for c in "0123456789"]), axis=(0, 1, 3)))
        self._rows = rows
        self._columns = np.linspace(ink[0], ink[-1] + 1, self._width + 1).round().astype(int)
        self._cells = {char: frame[:, ink[0]: ink[-1] + 1] for char, frame in frames.items()}

    def paste(self, frame: np.ndarray, step: int) -> None:
        """Write the number for `step` into `frame` (the RGBA image of the background and moving artists)."""
        start = self._columns[0]
        target = frame[self._rows]
        for position, char in enumerate(f"{step:>{self._width}}"):
            left, right = self._columns[position], self._columns[position + 1]
            target[:, left:right] = self._cells[char][:, left - start: right - start]


# ----------------------------------------------------------------------------- the scene


class RaceScene:
    """The race picture at a fixed pixel size; `render(step)` gives the frame at any step in a few ms."""

    def __init__(self, race: Race, *, size: tuple[int, int] = DESIGN_SIZE, theme: str = "light",
                 title: str | None = None):
        width, height = (int(v) for v in size)
        if width < MIN_SIZE[0] or height < MIN_SIZE[1]:
            raise UsageError(f"size {width}x{height} is too small for the race picture "
                             f"(at least {MIN_SIZE[0]}x{MIN_SIZE[1]})")
        self._race = race
        self._theme = THEMES.get(theme)
        self._size = (width, height)
        positions = race.trajectories.positions
        self._positions = positions
        self._bounds = view_bounds(race.function.domain, race.starts)
        self._last_inside = last_inside_step(positions, self._bounds)
        self._loss = loss_scale(race.trajectories.losses, race.function.f_min,
                                inside_view(positions, self._bounds))
        self._frame_steps = np.arange(race.steps + 1, dtype=np.float64)

        dpi = DESIGN_DPI * text_scale((width, height))
        # A hundredth of a pixel over, so Agg's int() of width * dpi / dpi never rounds down a pixel.
        self._figure = Figure(figsize=((width + 0.01) / dpi, (height + 0.01) / dpi), dpi=dpi,
                              facecolor=self._theme.background)
        self._canvas = FigureCanvasAgg(self._figure)
        self._build(title if title is not None else default_title(race.function))
        diverged = np.asarray(race.trajectories.diverged_step).reshape(-1)
        self._divergences = np.sort(diverged[diverged >= 0])  # the steps at which the legend changes
        self._legend_key: int | None = None
        self._background = None

    # --- construction

    def _build(self, title: str) -> None:
        fig, theme, race = self._figure, self._theme, self._race
        renderer = self._canvas.get_renderer()
        px = fig.dpi / 72  # pixels per point
        width, height = self._size
        counter_text = fig.text(0, 0, "", color=theme.text, fontsize=LABEL_PT + 1, ha="right", va="top",
                                parse_math=False, fontfamily="monospace")
        self._counter = StepCounter(counter_text, race.steps)
        counter_w = counter_text.get_window_extent(renderer).width
        title_room = width - 1.6 * LABEL_PT * px - counter_w - 2 * LABEL_PT * px
        title_text = fit_title(fig, title, title_room, theme, renderer)
        (xmin, xmax), (ymin, ymax) = self._bounds
        lay = layout(width, height, LABEL_PT * px, title_text.get_window_extent(renderer).height,
                     (ymax - ymin) / (xmax - xmin))
        title_text.set_position((lay.title_at[0] / width, lay.title_at[1] / height))
        counter_text.set_position((lay.counter_at[0] / width, lay.counter_at[1] / height))

        ax = fig.add_axes([v / d for v, d in zip(lay.landscape, (width, height, width, height))])
        style_axes(ax, theme, "x", "y")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=TICK_STEPS))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=TICK_STEPS))
        draw_landscape(ax, race.function, self._bounds, theme)
        draw_starts(ax, np.asarray(race.starts, dtype=np.float64).reshape(-1, 2), theme)
        runs, starts = self._positions.shape[1:3]
        self._outline, self._trails, self._markers = draw_paths(ax, runs, starts, theme)
        # Display-space scale of each data axis, for arrowheads pointing the way a path left.
        self._px_per_unit = (lay.landscape[2] / (xmax - xmin), lay.landscape[3] / (ymax - ymin))

        loss_ax = fig.add_axes([v / d for v, d in zip(lay.loss, (width, height, width, height))])
        style_axes(loss_ax, theme, "step", self._loss.label)
        loss_ax.set_xlim(0, max(race.steps, 1))
        loss_ax.set_yscale("log" if self._loss.log else "linear")
        loss_ax.set_ylim(*self._loss.ylim)
        loss_ax.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=TICK_STEPS, integer=True))
        if not self._loss.log:
            loss_ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=TICK_STEPS))
        loss_ax.grid(True, color=theme.grid, linewidth=0.6)
        loss_ax.set_axisbelow(True)
        self._loss_curves, self._loss_dots = draw_loss_curves(loss_ax, runs, starts, theme)

        self._legend = fit_legend(fig, race, theme, lay.legend_box, renderer)
        self._moving = [self._outline, *self._trails, self._markers, *self._loss_curves, self._loss_dots]
        for artist in (*self._moving, self._legend):
            artist.set_animated(True)
        self._canvas.draw()
        self._base = self._canvas.copy_from_bbox(fig.bbox)
        self._counter.capture(self._canvas, self._base)

    # --- per frame

    def _check_step(self, step: int) -> int:
        if not 0 <= step <= self._race.steps:
            raise UsageError(f"step {step} is outside the race (0 to {self._race.steps})")
        return int(step)

    def _set_legend(self, step: int) -> None:
        for text, label in zip(self._legend.texts, legend_labels(self._race, step)):
            text.set_text(label)

    def _update(self, step: int) -> None:
        """Point every moving artist at `step`."""
        race, positions = self._race, self._positions
        for r, trail in enumerate(self._trails):
            xy = separated(positions[: step + 1, r])
            trail.set_data(xy[:, 0], xy[:, 1])
        everything = separated(positions[: step + 1].reshape(step + 1, -1, 2))
        self._outline.set_data(everything[:, 0], everything[:, 1])
        points, kinds, directions = frame_markers(positions, self._last_inside, race.trajectories.diverged_step,
                                                  step, self._bounds)
        sx, sy = self._px_per_unit
        paths = [arrow_path(math.atan2(dy * sy, dx * sx)) if kind == EDGE else MARKER_PATHS[kind]
                 for kind, (dx, dy) in zip(kinds, directions)]
        self._markers.set_paths(paths)
        self._markers.set_offsets(points)
        self._markers.set_sizes(np.array([MARKER_SIZES[kind] for kind in kinds]), self._figure.dpi)

        values = self._loss.values[: step + 1]
        steps = separated(np.broadcast_to(self._frame_steps[: step + 1, None], (step + 1, values.shape[2])))
        for r, curve in enumerate(self._loss_curves):
            curve.set_data(steps, separated(values[:, r]))
        current = values[step].reshape(-1)
        self._loss_dots.set_offsets(np.column_stack([np.full(current.shape, float(step)), current]))

    def render(self, step: int) -> np.ndarray:
        """The frame at `step`: RGBA uint8, shape (height, width, 4), a fresh array the caller may keep."""
        step = self._check_step(step)
        # The legend reads the same until another trajectory diverges: it depends on step only through the count.
        legend_key = int(np.searchsorted(self._divergences, step, side="right"))
        if legend_key != self._legend_key:  # redraw the legend once over the base, and keep that
            self._canvas.restore_region(self._base)
            self._set_legend(step)
            self._figure.draw_artist(self._legend)
            self._background = self._canvas.copy_from_bbox(self._figure.bbox)
            self._legend_key = legend_key
        else:
            self._canvas.restore_region(self._background)
        self._update(step)
        for artist in self._moving:
            self._figure.draw_artist(artist)
        frame = np.array(self._canvas.buffer_rgba(), copy=True)
        self._counter.paste(frame, step)
        return frame

    def save_still(self, path: str | Path | BinaryIO, step: int, *, format: str | None = None) -> None:
        """The frame at `step` as PNG, SVG or PDF; SVG and PDF keep text and paths as vectors.

        The format comes from the path's suffix, or from `format` ("png", "svg", "pdf") when given: for a
        temporary file about to be renamed into place, or a binary stream.
        """
        suffix = f".{format.lower()}" if format else Path(path).suffix.lower()
        if suffix not in STILL_FORMATS:
            raise UsageError(f"cannot write a still as '{suffix or path}': use {', '.join(STILL_FORMATS)}")
        step = self._check_step(step)
        self._set_legend(step)
        self._update(step)
        self._counter.show(step)
        animated = (*self._moving, self._legend)
        for artist in animated:
            artist.set_animated(False)
        try:
            self._figure.savefig(path, format=suffix[1:], facecolor=self._theme.background,
                                 dpi=self._figure.dpi * (1 if suffix == ".png" else VECTOR_RASTER_SCALE))
        finally:
            for artist in animated:
                artist.set_animated(True)
            self._counter.show(None)

    @property
    def figure(self) -> Figure:
        return self._figure

    def close(self) -> None:
        """Let go of the cached pixels; the figure goes with the scene (there is no pyplot state to leave behind)."""
        self._base = self._background = None
        self._legend_key = None

    def __enter__(self) -> RaceScene:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


# ----------------------------------------------------------------------------- text that must fit


def fit_title(fig: Figure, title: str, room: float, theme: Theme, renderer) -> Text:
    """The title as large as fits in `room` px: one bold line; else the name over the formula in regular weight;
    then smaller, down to 80%; then the longest line cut short with an ellipsis."""
    text = fig.text(0, 1, title, color=theme.text, ha="left", va="top", parse_math=False)
    candidates = [(title, "bold")]
    if ": " in title and "\n" not in title:
        candidates.append((title.replace(": ", "\n", 1), "normal"))

    def width() -> float:
        return text.get_window_extent(renderer).width

    for shrink in (1.0, 0.9, 0.8):
        for candidate, weight in candidates:
            text.set(text=candidate, fontsize=TITLE_PT * shrink, fontweight=weight)
            if width() <= room:
                return text
    lines = text.get_text().split("\n")
    longest = max(range(len(lines)), key=lambda i: len(lines[i]))
    line = lines[longest]
    while width() > room and len(line) > 1:
        line = line[: max(1, min(len(line) - 1, int(len(line) * room / width())))]
        lines[longest] = line.rstrip() + "…"
        text.set_text("\n".join(lines))
    return text


LEGEND_SHRINKS = (1.0, 0.92, 0.84, 0.76, 0.68)


def fit_legend(fig: Figure, race: Race, theme: Theme, box: tuple[float, float, float, float], renderer) -> Legend:
    """The legend at the top-left of `box` (px) with every run's final label: one column, else two, each as
    large as fits; if nothing fits, the one spilling least."""
    width, height = fig.bbox.width, fig.bbox.height
    left, bottom, room_w, room_h = box
    handles = [Line2D([], [], color=run_colour(theme, r), linestyle=run_linestyle(theme, r), linewidth=TRAIL_PT,
                      marker="o", markersize=0.8 * HEAD_PT, markerfacecolor=run_colour(theme, r),
                      markeredgecolor=theme.halo, path_effects=halo(theme, TRAIL_PT))
               for r in range(len(race.runs))]
    final = legend_labels(race, race.steps)
    best: tuple[float, Legend] | None = None
    for columns in (1, 2):
        for shrink in LEGEND_SHRINKS:
            legend = fig.legend(handles, final, loc="upper left", ncols=columns, fontsize=LEGEND_PT * shrink,
                                bbox_to_anchor=(left / width, (bottom + room_h) / height), borderaxespad=0.0,
                                frameon=True, fancybox=False, framealpha=1.0, facecolor=theme.background,
                                edgecolor=theme.grid, labelcolor=theme.text, handlelength=2.2)
            for text in legend.texts:
                text.set_parse_math(False)
            extent = legend.get_window_extent(renderer)
            spill = max(extent.width - room_w, 0.0) + max(extent.height - room_h, 0.0)
            if best is None or spill < best[0]:
                if best is not None:
                    best[1].remove()
                best = (spill, legend)
            else:
                legend.remove()
            if spill == 0.0:
                return legend
    return best[1]
