"""The 1-D race picture: the curve f(x) with every optimiser's ball rolling on it, beside the seed article's chart
(position x against step, one line per optimiser), with the loss panel under the curve where it fits.

    ┌ title ─────────────────────────────── step 137 / 1000 ┐
    │ f(x) curve, balls  │ x against step          │ legend  │
    │ f − f* against step│ (one line per optimiser)│         │
    └────────────────────────────────────────────────────────┘

Portrait and square pictures stack the curve, the chart and the loss panel, with the legend across the bottom;
banners too short for a third panel leave the loss panel out. The same protocol as the 2-D `RaceScene`: the static part (the
curve, axes, title, legend) is drawn once and cached as pixels; `render(step)` restores them and draws only the
moving artists (balls and their fading trails, the chart's lines, the loss curves), then pastes the step counter.
`save_still(path, step)` draws the same picture through `savefig`, so the still of the last step reads as the
article's static chart: x against iteration, one line per optimiser, and its legend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import LogLocator, MaxNLocator

from optviz.errors import UsageError
from optviz.render.labels import legend_labels, race_title
from optviz.render.layers import Layers
from optviz.render.loss_scale import loss_scale
from optviz.render.readout import Readout, numbers_paced
from optviz.render.scene import REPRODUCIBLE_METADATA, SVG_HASH_SALT
from optviz.render.sizes import (DESIGN_DPI, DESIGN_SIZE, HALO_PT, HEAD_PT, LABEL_PT, LEGEND_PT, LOSS_PT, START_PT,
                                 TICK_PT, TITLE_PT, TRAIL_PT, text_scale)
from optviz.render.spec import MIN_SIZE, STILL_FORMATS
from optviz.render.step_counter import StepCounter
from optviz.render.theme import THEMES

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from optviz.racing import Race
    from optviz.render.theme import Theme

CURVE_SAMPLES = 1200  # points along f(x): smooth at 4K, and one vectorised evaluation
TRAIL_DOTS = 8  # the fading trail behind each ball: this many earlier positions, ...
TRAIL_SPAN = 0.06  # ... spread over this share of the race (at least one step apart)
CURVE_HEADROOM = 0.35  # the curve panel shows this share of the balls' height range above the highest ball
VIEW_PAD = 0.05  # the view grows by this share of the domain to show a start outside it
TICKS = [1, 2, 2.5, 5, 10]
SHRINKS = (1.0, 0.9, 0.8, 0.7, 0.6)
LOSS_PANEL_MIN_EM = 15.0  # below this many em of plot height, the loss panel is left out
LEGEND_COLUMNS = 3  # a stacked picture's legend: at most this many columns (and rows, while that suffices)
SCOREBOARD_SHARE = 0.28  # the legend's column may widen to this share of the width to hold the scoreboard
SIDE_BY_SIDE_ASPECT = 1.25  # pictures at least this much wider than tall put the panels side by side


@dataclass(frozen=True)
class CurveLayout:
    """Rectangles in pixels from the bottom-left (left, bottom, width, height); `loss` None when it does not fit."""

    curve: tuple[float, float, float, float]
    chart: tuple[float, float, float, float]
    loss: tuple[float, float, float, float] | None
    legend_at: tuple[float, float]  # top-left of the legend


def curve_layout(width: float, height: float, em: float, title_height: float,
                 legend_size: tuple[float, float]) -> CurveLayout:
    """Place the panels; pure arithmetic. Side by side when the picture is wide (curve and loss panel in a column
    left, the chart in the middle, the legend right), else stacked (curve, chart, loss, legend across the bottom)."""
    outer = 0.8 * em
    top = height - outer - title_height - 0.9 * em
    tick_w, tick_h = 3.8 * em, 2.8 * em  # tick labels and an axis label, left of and under a panel
    legend_w, legend_h = legend_size
    if side_by_side(width, height):
        left, bottom = outer + tick_w, outer + tick_h
        column = 0.36 * (width - legend_w)
        chart_left = left + column + tick_w + 0.6 * em
        chart = (chart_left, bottom, width - outer - legend_w - 1.2 * em - chart_left, top - bottom)
        room = top - bottom
        if room >= LOSS_PANEL_MIN_EM * em:
            gap = tick_h + 0.8 * em
            loss_h = 0.42 * (room - gap)
            curve = (left, bottom + loss_h + gap, column, room - loss_h - gap)
            loss = (left, bottom, column, loss_h)
        else:
            curve, loss = (left, bottom, column, room), None
        return CurveLayout(curve, chart, loss, (width - outer - legend_w, top))
    left = outer + tick_w
    panel_w = width - left - outer - 0.6 * em
    floor = outer + legend_h + 0.8 * em + tick_h
    room = top - floor
    shares = (0.9, 1.25, 0.75) if room - 2 * tick_h >= 1.5 * LOSS_PANEL_MIN_EM * em else (0.9, 1.25)
    gap = tick_h + 0.6 * em
    heights = [share / sum(shares) * (room - (len(shares) - 1) * gap) for share in shares]
    rects, at = [], top
    for panel_h in heights:
        rects.append((left, at - panel_h, panel_w, panel_h))
        at -= panel_h + gap
    loss = rects[2] if len(rects) == 3 else None
    return CurveLayout(rects[0], rects[1], loss, (outer, outer + legend_h))


def side_by_side(width: float, height: float) -> bool:
    return width >= SIDE_BY_SIDE_ASPECT * height


def view_interval(domain: tuple[float, float], starts: np.ndarray) -> tuple[float, float]:
    """The function's domain, grown to show every start point."""
    low, high = domain
    span = high - low
    if starts.min() < low:
        low = float(starts.min()) - VIEW_PAD * span
    if starts.max() > high:
        high = float(starts.max()) + VIEW_PAD * span
    return float(low), float(high)


def padded(low: float, high: float, share: float = 0.06) -> tuple[float, float]:
    """[low, high] with room either side (a flat interval gets a unit's room)."""
    pad = share * (high - low) if high > low else 0.5 * max(1.0, abs(low))
    return low - pad, high + pad


def trail_offsets(steps: int) -> np.ndarray:
    """How many steps behind the ball each trail dot is, nearest first."""
    spacing = max(1, round(TRAIL_SPAN * steps / TRAIL_DOTS))
    return spacing * np.arange(1, TRAIL_DOTS + 1)


def _colour(theme: Theme, run: int) -> str:
    return theme.palette[run % len(theme.palette)]


def _linestyle(theme: Theme, run: int) -> str:
    return "-" if run < len(theme.palette) else "--"


def _style(ax: Axes, theme: Theme, xlabel: str, ylabel: str) -> None:
    """Theme colours on a panel's face, spines, ticks and labels, and a light grid behind its data."""
    ax.set_facecolor(theme.background)
    for spine in ax.spines.values():
        spine.set_edgecolor(theme.muted)
    ax.tick_params(colors=theme.muted, labelcolor=theme.muted, labelsize=TICK_PT)
    ax.xaxis.get_offset_text().set_color(theme.muted)
    ax.yaxis.get_offset_text().set_color(theme.muted)
    ax.set_xlabel(xlabel, color=theme.text, fontsize=LABEL_PT)
    ax.set_ylabel(ylabel, color=theme.text, fontsize=LABEL_PT)
    ax.grid(True, color=theme.grid, linewidth=0.6)
    ax.set_axisbelow(True)


class CurveScene:
    """The 1-D race picture at a fixed pixel size; `render(step)` gives the frame at any step in a few ms."""

    def __init__(self, race: Race, *, size: tuple[int, int] = DESIGN_SIZE, theme: str = "light",
                 title: str | None = None):
        width, height = (int(v) for v in size)
        if width < MIN_SIZE[0] or height < MIN_SIZE[1]:
            raise UsageError(f"size {width}x{height} is too small for the race picture "
                             f"(at least {MIN_SIZE[0]}x{MIN_SIZE[1]})")
        if race.function.dimensions != 1:
            raise ValueError(f"CurveScene draws 1-D races; {race.function.name} has {race.function.dimensions}")
        self._race = race
        self._theme = THEMES.get(theme)
        self._size = (width, height)
        positions = np.asarray(race.trajectories.positions, dtype=np.float64)[..., 0]  # (T+1, R, S)
        self._x = np.where(np.isfinite(positions), positions, np.nan)
        self._view = view_interval(race.function.domain[0], np.asarray(race.starts))
        low, high = self._view
        in_view = (self._x >= low) & (self._x <= high)
        with np.errstate(all="ignore"):
            self._fx = np.where(in_view, race.function.value_at(np.nan_to_num(self._x)[..., None]), np.nan)
        self._loss = loss_scale(race.trajectories.losses, race.function.f_min, in_view)
        self._steps = np.arange(race.steps + 1, dtype=np.float64)
        self._trail = trail_offsets(race.steps)

        dpi = DESIGN_DPI * text_scale((width, height))
        # A hundredth of a pixel over, so Agg's int() of width * dpi / dpi never rounds down a pixel.
        self._figure = Figure(figsize=((width + 0.01) / dpi, (height + 0.01) / dpi), dpi=dpi,
                              facecolor=self._theme.background)
        self._canvas = FigureCanvasAgg(self._figure)
        self._build(title if title is not None else race_title(race))
        diverged = np.asarray(race.trajectories.diverged_step).reshape(-1)
        self._divergences = np.sort(diverged[diverged >= 0])  # the steps at which the legend changes

    # --- construction

    def _build(self, title: str) -> None:
        fig, theme, race = self._figure, self._theme, self._race
        renderer = self._canvas.get_renderer()
        width, height = self._size
        em = LABEL_PT * fig.dpi / 72
        runs, starts = self._x.shape[1:]

        counter_text = fig.text(1 - 0.8 * em / width, 1 - 0.8 * em / height, "", color=theme.text,
                                fontsize=LABEL_PT + 1, ha="right", va="top", parse_math=False,
                                fontfamily="monospace")
        self._counter = StepCounter(counter_text, race.steps)
        room = width - 2.4 * em - counter_text.get_window_extent(renderer).width
        title_text = self._fit_title(title, room, renderer)
        column_w = 0.24 * width  # beside the panels, the legend's column is at most this wide
        self._legend = self._fit_legend(column_w if side_by_side(width, height) else width - 1.6 * em, renderer)
        box = self._legend.get_window_extent(renderer)
        self._scoreboard, self._readout = (self._scoreboard_for(SCOREBOARD_SHARE * width, renderer)
                                           if side_by_side(width, height) else (None, None))
        legend_w = box.width
        if self._scoreboard is not None:
            legend_w = max(legend_w, self._scoreboard.get_window_extent(renderer).width
                           + self._readout.width(renderer, self._scoreboard.texts[0].get_fontsize()))
        lay = curve_layout(width, height, em, title_text.get_window_extent(renderer).height, (legend_w, box.height))
        self._legend.set_bbox_to_anchor((lay.legend_at[0] / width, lay.legend_at[1] / height))
        if self._scoreboard is not None:
            self._place_scoreboard(lay, box.height, renderer)

        def axes(rect: tuple[float, float, float, float]) -> Axes:
            return fig.add_axes([v / d for v, d in zip(rect, (width, height, width, height))])

        curve_ax = axes(lay.curve)
        self._draw_curve(curve_ax)
        chart_ax = axes(lay.chart)
        self._draw_chart(chart_ax)
        colours = [_colour(theme, r) for r in range(runs) for _ in range(starts)]
        dashes = [_linestyle(theme, r) for r in range(runs) for _ in range(starts)]
        # One collection per panel for every run's line: one draw a frame rather than one per run.
        self._chart_lines = chart_ax.add_collection(LineCollection([], colors=colours, linestyles=dashes,
                                                                   linewidths=TRAIL_PT, capstyle="round",
                                                                   joinstyle="round", zorder=3), autolim=False)
        self._chart_dots = chart_ax.scatter(np.zeros(runs * starts), np.zeros(runs * starts), s=(0.75 * HEAD_PT) ** 2,
                                            c=colours, edgecolors=theme.halo, linewidths=1.0, zorder=4,
                                            clip_on=False)
        self._balls = curve_ax.scatter(np.zeros(runs * starts), np.zeros(runs * starts), s=HEAD_PT**2, c=colours,
                                       edgecolors=theme.halo, linewidths=1.3, zorder=5)
        rgba = to_rgba_array(colours)
        fade = np.linspace(0.55, 0.1, TRAIL_DOTS)
        self._trail_colours = np.repeat(rgba, TRAIL_DOTS, axis=0)
        self._trail_colours[:, 3] = np.tile(fade, runs * starts)
        self._trail_sizes = np.tile(HEAD_PT**2 * np.linspace(0.7, 0.3, TRAIL_DOTS), runs * starts)
        self._trails = curve_ax.scatter(np.zeros(self._trail_sizes.size), np.zeros(self._trail_sizes.size),
                                        s=self._trail_sizes, c=self._trail_colours, linewidths=0, zorder=4.5)
        self._moving = [self._chart_lines, self._chart_dots, self._trails, self._balls]
        self._loss_lines = None
        if lay.loss is not None:
            loss_ax = axes(lay.loss)
            self._draw_loss_axes(loss_ax)
            self._loss_lines = loss_ax.add_collection(LineCollection([], colors=colours, linestyles=dashes,
                                                                     linewidths=LOSS_PT, zorder=3), autolim=False)
            self._moving.append(self._loss_lines)

        self._readout_texts = self._readout.artists if self._readout is not None else []  # kept with the legend
        for artist in (*self._moving, self._legend, *self._readout_texts):
            artist.set_animated(True)
        self._canvas.draw()
        self._base = self._canvas.copy_from_bbox(fig.bbox)
        self._counter.capture(self._canvas, self._base)
        self._layers = Layers(self._canvas, self._base, self._readout)

    def _fit_title(self, title: str, room: float, renderer):
        """The title as large as fits in `room` px, bold, then smaller; then cut short with an ellipsis."""
        text = self._figure.text(0.8 * LABEL_PT * self._figure.dpi / 72 / self._size[0],
                                 1 - 0.8 * LABEL_PT * self._figure.dpi / 72 / self._size[1], title,
                                 color=self._theme.text, ha="left", va="top", parse_math=False, fontweight="bold")
        for shrink in SHRINKS[:3]:
            text.set_fontsize(TITLE_PT * shrink)
            if text.get_window_extent(renderer).width <= room:
                return text
        shown = title
        while text.get_window_extent(renderer).width > room and len(shown) > 1:
            shown = shown[:-1]
            text.set_text(shown.rstrip() + "…")
        return text

    def _fit_legend(self, room: float, renderer):
        """The legend with every run's final label, as large as fits `room` px across: one column beside the
        panels, or across the bottom of a stacked picture in up to three columns of at most three rows."""
        theme, race = self._theme, self._race
        handles = [Line2D([], [], color=_colour(theme, r), linestyle=_linestyle(theme, r), linewidth=TRAIL_PT,
                          marker="o", markersize=0.8 * HEAD_PT, markerfacecolor=_colour(theme, r),
                          markeredgecolor=theme.halo) for r in range(len(race.runs))]
        labels = legend_labels(race, race.steps)
        columns = 1 if side_by_side(*self._size) else min(LEGEND_COLUMNS, -(-len(labels) // LEGEND_COLUMNS))
        legend = None
        for shrink in SHRINKS:
            if legend is not None:
                legend.remove()
            legend = self._figure.legend(handles, labels, loc="upper left", ncols=columns,
                                         fontsize=LEGEND_PT * shrink, bbox_to_anchor=(0, 1), borderaxespad=0.0,
                                         frameon=True, fancybox=False, framealpha=1.0, facecolor=theme.background,
                                         edgecolor=theme.grid, labelcolor=theme.text, handlelength=2.0)
            for text in legend.texts:
                text.set_parse_math(False)
            if legend.get_window_extent(renderer).width <= room:
                break
        return legend

    def _scoreboard_for(self, column_w: float, renderer):
        """For the column under the legend: a second legend naming each run by its optimiser (or its label where
        two runs share one), and the live readout of each run's x and loss for beside it, at the legend's font
        size or a little smaller; (None, None) when they are wider than `column_w` px even then, or the legend
        leaves them no height."""
        fig, theme, race = self._figure, self._theme, self._race
        readout = Readout(fig, race, self._loss, theme, positions=self._x)
        optimizers = [run.optimizer for run in race.runs]
        names = [run.optimizer if optimizers.count(run.optimizer) == 1 else run.label for run in race.runs]
        legend_h = self._legend.get_window_extent(renderer).height
        for shrink in (1.0, 0.92):
            size = self._legend.texts[0].get_fontsize() * shrink
            board = fig.legend(self._legend.legend_handles, names, loc="upper left", fontsize=size,
                               borderaxespad=0.0, frameon=False, labelcolor=theme.text, handlelength=2.0)
            for text in board.texts:
                text.set_parse_math(False)
            box = board.get_window_extent(renderer)
            fits_height = legend_h + box.height + 3 * readout.header_height(renderer, size) <= 0.8 * self._size[1]
            if fits_height and box.width + readout.width(renderer, size) <= column_w:
                return board, readout
            board.remove()
        readout.remove()
        return None, None

    def _place_scoreboard(self, lay: CurveLayout, legend_h: float, renderer) -> None:
        """The scoreboard under the legend, a gap and its readout's headers between them."""
        width, height = self._size
        header_h = self._readout.header_height(renderer, self._scoreboard.texts[0].get_fontsize())
        top = lay.legend_at[1] - legend_h - 2 * header_h
        self._scoreboard.set_bbox_to_anchor((lay.legend_at[0] / width, top / height))
        self._readout.place_headers(self._scoreboard, renderer)

    def _draw_curve(self, ax: Axes) -> None:
        theme, function = self._theme, self._race.function
        low, high = self._view
        x = np.linspace(low, high, CURVE_SAMPLES)
        with np.errstate(all="ignore"):
            f = np.asarray(function.value_at(x[:, None]), dtype=np.float64)
        f = np.where(np.isfinite(f), f, np.nan)
        _style(ax, theme, "x", "f(x)")
        ax.plot(x, f, color=theme.halo, linewidth=2.6 + 2 * HALO_PT, zorder=2)
        ax.plot(x, f, color=theme.text, linewidth=2.0, zorder=2.1)
        ax.set_xlim(low, high)
        ax.set_ylim(*self._curve_ylim(f))
        for point in _interior_minima(function):
            with np.errstate(all="ignore"):
                value = float(function.value_at(np.array(point)))
            ax.plot([point[0]], [value], linestyle="none", marker="*", markersize=1.9 * START_PT,
                    markerfacecolor=theme.minimum_face, markeredgecolor=theme.minimum_edge, markeredgewidth=1.1,
                    zorder=3)
        starts = np.asarray(self._race.starts, dtype=np.float64)[:, 0]
        with np.errstate(all="ignore"):
            start_f = function.value_at(starts[:, None])
        ax.plot(starts, start_f, linestyle="none", marker="s", markersize=START_PT, markerfacecolor=theme.start_face,
                markeredgecolor=theme.start_edge, markeredgewidth=1.4, zorder=3)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=TICKS))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=TICKS))

    def _curve_ylim(self, f: np.ndarray) -> tuple[float, float]:
        """From the curve's lowest value to a little above the highest any ball reaches (or the curve's top, if
        lower): a steep wall far from the race does not flatten the part the balls roll on."""
        shown = f[np.isfinite(f)]
        if not shown.size:
            return 0.0, 1.0
        low, high = float(shown.min()), float(shown.max())
        visited = self._fx[np.isfinite(self._fx)]
        if visited.size:
            reached = float(visited.max())
            high = min(high, reached + CURVE_HEADROOM * (reached - low))
        return padded(low, high, 0.08)

    def _draw_chart(self, ax: Axes) -> None:
        """The article's chart: x against step; the minimisers as dashed lines."""
        theme, race = self._theme, self._race
        _style(ax, theme, "step", "x")
        low, high = self._view
        shown = self._x[np.isfinite(self._x) & (self._x >= low) & (self._x <= high)]
        minima = [p[0] for p in _interior_minima(race.function) if low <= p[0] <= high]
        values = np.concatenate([shown, minima]) if shown.size or minima else np.array([low, high])
        ax.set_ylim(*padded(float(values.min()), float(values.max())))
        ax.set_xlim(0, max(race.steps, 1))
        for x_star in minima:
            ax.axhline(x_star, color=theme.muted, linewidth=1.0, linestyle=(0, (4, 3)), zorder=2)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=TICKS, integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=TICKS))

    def _draw_loss_axes(self, ax: Axes) -> None:
        scale = self._loss
        _style(ax, self._theme, "step", scale.label if self._race.function.f_min is not None else "f(x)")
        ax.set_xlim(0, max(self._race.steps, 1))
        ax.set_yscale("log" if scale.log else "linear")
        ax.set_ylim(*scale.ylim)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4, steps=TICKS, integer=True))
        if scale.log:
            ax.yaxis.set_major_locator(LogLocator(numticks=4))
        else:
            ax.yaxis.set_major_locator(MaxNLocator(nbins=4, steps=TICKS))

    # --- per frame

    def _check_step(self, step: int) -> int:
        if not 0 <= step <= self._race.steps:
            raise UsageError(f"step {step} is outside the race (0 to {self._race.steps})")
        return int(step)

    def _set_legend(self, step: int) -> None:
        """The legend's entries as they read at `step`, drawn (onto whatever is on the canvas), and the scoreboard
        under it with its readout lined up."""
        for text, label in zip(self._legend.texts, legend_labels(self._race, step)):
            text.set_text(label)
        self._figure.draw_artist(self._legend)
        if self._readout is not None:
            self._readout.place_values(self._scoreboard, self._canvas.get_renderer())

    def _update(self, step: int) -> None:
        """Point every moving artist at `step`."""
        x, fx = self._x, self._fx
        self._balls.set_offsets(np.column_stack([x[step].reshape(-1), fx[step].reshape(-1)]))
        behind = np.maximum(step - self._trail, 0)  # (TRAIL_DOTS,)
        seen = (step - self._trail >= 0)[None, None, :]  # no dots before the start
        trail_x = np.where(seen, np.moveaxis(x[behind], 0, -1), np.nan).reshape(-1)
        trail_f = np.where(seen, np.moveaxis(fx[behind], 0, -1), np.nan).reshape(-1)
        self._trails.set_offsets(np.column_stack([trail_x, trail_f]))
        self._chart_lines.set_segments(_segments(self._steps, x, step))
        self._chart_dots.set_offsets(np.column_stack([np.full(x[step].size, float(step)), x[step].reshape(-1)]))
        if self._loss_lines is not None:
            self._loss_lines.set_segments(_segments(self._steps, self._loss.values, step))

    def render(self, step: int, numbers_step: int | None = None) -> np.ndarray:
        """The frame at `step`: RGBA uint8, shape (height, width, 4), a fresh array the caller may keep. The numbers
        (the step counter and the readout) show `numbers_step` (default: `step`), so an animation can refresh them
        at a readable pace while the paths move on every frame."""
        step = self._check_step(step)
        numbers_step = step if numbers_step is None else self._check_step(numbers_step)
        # the legend and the readout are drawn into cached layers once and kept until they change (`layers`)
        self._layers.restore(int(np.searchsorted(self._divergences, step, side="right")),
                             lambda: self._set_legend(step), numbers_step)
        self._update(step)
        for artist in self._moving:
            self._figure.draw_artist(artist)
        frame = np.array(self._canvas.buffer_rgba(), copy=True)
        self._counter.paste(frame, numbers_step)
        return frame

    def frame_drawer(self, steps: np.ndarray, fps: float | None) -> Callable[[int], np.ndarray]:
        """What draws each frame of an animation showing `steps`: `render`, with the step counter and the readout
        refreshed at a readable pace for a film playing at `fps` (`readout.numbers_paced`), or on every frame when
        fps is None (a page the viewer steps through frame by frame)."""
        return numbers_paced(self.render, steps, fps)

    def save_still(self, path: str | Path | BinaryIO, step: int, *, format: str | None = None) -> None:
        """The frame at `step` as PNG, SVG or PDF (format from the suffix, or `format`); the same bytes every time."""
        kind = format.lower() if format else Path(path).suffix.lower().lstrip(".")
        if kind not in STILL_FORMATS:
            shown = f".{kind}" if kind else str(path)
            raise UsageError(f"cannot write a still as '{shown}': use {', '.join(f'.{f}' for f in STILL_FORMATS)}")
        step = self._check_step(step)
        self._set_legend(step)
        if self._readout is not None:
            self._readout.set_step(step)
        self._update(step)
        self._counter.show(step)
        animated = (*self._moving, self._legend, *self._readout_texts)
        for artist in animated:
            artist.set_animated(False)
        try:
            with matplotlib.rc_context({"svg.hashsalt": SVG_HASH_SALT}):
                self._figure.savefig(path, format=kind, facecolor=self._theme.background, dpi=self._figure.dpi,
                                     metadata=REPRODUCIBLE_METADATA.get(kind))
        finally:
            for artist in animated:
                artist.set_animated(True)
            self._counter.show(None)

    @property
    def figure(self) -> Figure:
        return self._figure

    def close(self) -> None:
        """Let go of the cached pixels; the figure goes with the scene (there is no pyplot state to leave behind)."""
        self._base = self._layers = None

    def __enter__(self) -> CurveScene:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _interior_minima(function) -> tuple:
    """The minimisers worth a star and a line: none when the lowest value found lies on the domain's edge (f may
    fall without bound beyond the view, so it is no minimum)."""
    return function.minima if function.f_min is not None else ()


def _segments(steps: np.ndarray, values: np.ndarray, step: int) -> list[np.ndarray]:
    """Each trajectory's line up to `step` (values: (T+1, R, S)), in run-major order, cut where it stops being finite
    (a diverged run's line ends where it left the numbers)."""
    shown = values[: step + 1].reshape(step + 1, -1)
    finite = np.isfinite(shown)
    ends = np.where(finite.all(axis=0), step + 1, np.argmin(finite, axis=0))
    return [np.column_stack([steps[:end], shown[:end, k]]) for k, end in enumerate(ends)]
