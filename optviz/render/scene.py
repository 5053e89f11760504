"""The race picture, drawn once and re-shown per step by blitting.

Left, the landscape (filled contours over the view, minima, starts) with every run's trail and head; right, the
loss of every run against the step, above the legend and, beside it where there is room, a live readout of each
run's loss (and scheduled lr) at the frame's step (`optviz.render.readout`). The static part is drawn once and cached as pixels; a
frame restores those pixels and draws only the moving artists (trails, markers, loss curves, step counter).

With many starts (artists.MANY_STARTS or more) the trails are thin, the heads smaller, and the loss panel shows
each run's median across starts inside its interquartile band. Heads that coincide are spread onto a small ring
(`geometry.spread_coincident`); start squares and the stars' outlines are drawn over the moving paths.

What each trajectory's marker shows (a dot, an arrowhead on the view's edge, or a cross) is worked out in
`optviz.render.geometry`; a run's legend entry reads "diverged at step d" once it has (`optviz.render.labels`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from optviz.errors import UsageError
from optviz.functions.base import inside_box
from optviz.render.artists import (
    MARKER_PATHS,
    MANY_HEAD_SCALE,
    MANY_STARTS,
    MARKER_SIZES,
    head_path,
    TICK_STEPS,
    arrow_path,
    draw_loss_curves,
    draw_paths,
    draw_starts,
    style_axes,
)
from optviz.render.geometry import (
    EDGE,
    HEAD,
    band_polygon,
    frame_markers,
    last_inside_step,
    quartiles,
    separated,
    spread_coincident,
)
from optviz.render.labels import legend_labels, race_title
from optviz.render.layers import Layers
from optviz.render.landscape import draw_landscape, draw_minima, view_bounds
from optviz.render.layout import layout
from optviz.render.loss_scale import loss_scale
from optviz.render.readout import Readout, numbers_paced
from optviz.render.sizes import DESIGN_DPI, DESIGN_SIZE, HEAD_PT, LABEL_PT, text_scale
from optviz.render.spec import MIN_SIZE, STILL_FORMATS
from optviz.render.step_counter import StepCounter
from optviz.render.theme import THEMES
from optviz.render.title_and_legend import fit_legend, fit_title

if TYPE_CHECKING:
    from optviz.racing import Race

VECTOR_RASTER_SCALE = 2  # SVG/PDF: the rasterised contour fill at twice the screen resolution, for print
# SVG and PDF stills leave out the date matplotlib would stamp in them, and SVG's ids are hashed with a fixed salt
# rather than a random one, so the same still is the same bytes every time.
REPRODUCIBLE_METADATA = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}
SVG_HASH_SALT = "optviz"


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
                                inside_box(positions, self._bounds))
        self._frame_steps = np.arange(race.steps + 1, dtype=np.float64)

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
        px = fig.dpi / 72  # pixels per point
        width, height = self._size
        counter_text = fig.text(0, 0, "", color=theme.text, fontsize=LABEL_PT + 1, ha="right", va="top",
                                parse_math=False, fontfamily="monospace")
        self._counter = StepCounter(counter_text, race.steps)
        counter_box = counter_text.get_window_extent(renderer)
        title_room = width - 1.6 * LABEL_PT * px - counter_box.width - 2 * LABEL_PT * px
        (xmin, xmax), (ymin, ymax) = self._bounds
        aspect = (ymax - ymin) / (xmax - xmin)
        title_at = layout(width, height, LABEL_PT * px, 0.0, aspect).title_at  # the same for any title height
        title_h = fit_title(fig, title, title_at, title_room, theme, renderer)
        # the panels start under the title and under the step counter beside it, whichever reaches lower
        lay = layout(width, height, LABEL_PT * px, max(title_h, counter_box.height), aspect)
        counter_text.set_position((lay.counter_at[0] / width, lay.counter_at[1] / height))

        ax = fig.add_axes([v / d for v, d in zip(lay.landscape, (width, height, width, height))])
        style_axes(ax, theme, "x", "y")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=TICK_STEPS))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=TICK_STEPS))
        draw_landscape(ax, race.function, self._bounds, theme)
        stars = draw_minima(ax, race.function, theme)
        start_marks = draw_starts(ax, np.asarray(race.starts, dtype=np.float64).reshape(-1, 2), theme)
        runs, starts = self._positions.shape[1:3]
        self._outline, self._trails, self._markers = draw_paths(ax, runs, starts, theme)
        self._head_paths = [head_path(theme, r) for r in range(runs) for _ in range(starts)]
        # Display-space scale of each data axis, for arrowheads pointing the way a path left.
        self._px_per_unit = (lay.landscape[2] / (xmax - xmin), lay.landscape[3] / (ymax - ymin))

        self._many = starts >= MANY_STARTS
        self._legend, self._wrap, self._readout = self._fit_legend_and_readout(lay.legend_room(), renderer)
        header_h = self._readout.header_height(renderer, self._wrap.fontsize) if self._readout else 0.0
        lay = lay.with_legend_height(self._legend.get_window_extent(renderer).height + header_h)
        legend_left, legend_bottom, _, legend_h = lay.legend_box
        self._legend.set_bbox_to_anchor((legend_left / width, (legend_bottom + legend_h - header_h) / height),
                                        transform=fig.transFigure)
        if self._readout is not None:
            self._readout.place_headers(self._legend, renderer)
        loss_ax = fig.add_axes([v / d for v, d in zip(lay.loss, (width, height, width, height))])
        style_axes(loss_ax, theme, "step", f"{self._loss.label}, median and quartiles" if self._many
                   else self._loss.label)
        loss_ax.set_xlim(0, max(race.steps, 1))
        loss_ax.set_yscale("log" if self._loss.log else "linear")
        loss_ax.set_ylim(*self._loss.ylim)
        loss_ax.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=TICK_STEPS, integer=True))
        if not self._loss.log:
            loss_ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=TICK_STEPS))
        loss_ax.grid(True, color=theme.grid, linewidth=0.6)
        loss_ax.set_axisbelow(True)
        self._loss_curves, self._bands, self._loss_dots = draw_loss_curves(loss_ax, runs, starts, theme)
        self._quartiles = quartiles(self._loss.values) if self._many else None
        self._head_scale = MANY_HEAD_SCALE**2 if self._many else 1.0
        self._head_px = HEAD_PT * px

        # Drawn each frame in zorder: the start squares over the trails, the stars' outlines over the heads.
        self._moving = sorted([self._outline, *self._trails, *start_marks, self._markers, *stars[1:],
                               *self._bands, *self._loss_curves, self._loss_dots],
                              key=lambda artist: artist.get_zorder())
        self._readout_texts = self._readout.artists if self._readout is not None else []  # kept with the legend
        for artist in (*self._moving, self._legend, *self._readout_texts):
            artist.set_animated(True)
        self._canvas.draw()
        self._base = self._canvas.copy_from_bbox(fig.bbox)
        self._counter.capture(self._canvas, self._base)
        self._layers = Layers(self._canvas, self._base, self._readout)

    def _fit_legend_and_readout(self, room, renderer):
        """The legend in `room` (px), and the live readout beside it with its header above when there is room for
        both: beside a one-column legend as it is, or as its labels wrap narrower at the same font size, where no
        word has to be cut to fit."""
        fig, race, theme = self._figure, self._race, self._theme
        legend, wrap = fit_legend(fig, race, theme, room, renderer)
        readout = Readout(fig, race, self._loss, theme)
        needed_w, header_h = readout.width(renderer, wrap.fontsize), readout.header_height(renderer, wrap.fontsize)
        box = legend.get_window_extent(renderer)
        if wrap.columns == 1 and box.width + needed_w <= room[2] and box.height + header_h <= room[3]:
            return legend, wrap, readout
        left, bottom, room_w, room_h = room
        narrow, narrow_wrap = fit_legend(fig, race, theme, (left, bottom, room_w - needed_w, room_h - header_h),
                                         renderer)
        box = narrow.get_window_extent(renderer)
        whole_words = not any(narrow_wrap.cuts_words(label) for label in legend_labels(race, race.steps))
        if (narrow_wrap.fontsize == wrap.fontsize and narrow_wrap.columns == 1 and whole_words
                and box.width + needed_w <= room_w and box.height + header_h <= room_h):
            legend.remove()
            return narrow, narrow_wrap, readout
        narrow.remove()
        readout.remove()
        return legend, wrap, None

    # --- per frame

    def _check_step(self, step: int) -> int:
        if not 0 <= step <= self._race.steps:
            raise UsageError(f"step {step} is outside the race (0 to {self._race.steps})")
        return int(step)

    def _set_legend(self, step: int) -> None:
        """The legend's entries as they read at `step`, drawn (onto whatever is on the canvas), and the readout's
        rows lined up with them."""
        for text, label in zip(self._legend.texts, legend_labels(self._race, step)):
            text.set_text(self._wrap(label))
        self._figure.draw_artist(self._legend)
        if self._readout is not None:
            self._readout.place_values(self._legend, self._canvas.get_renderer())

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
        if not self._many:  # heads on top of each other: onto a ring around where they are, so each shows
            (xmin, _), (ymin, _) = self._bounds
            scale, low = np.array([sx, sy]), np.array([xmin, ymin])
            spread = spread_coincident((points - low) * scale, self._head_px, kinds == HEAD)
            points = spread / scale + low
        paths = [arrow_path(math.atan2(dy * sy, dx * sx)) if kind == EDGE else head if kind == HEAD
                 else MARKER_PATHS[kind] for kind, (dx, dy), head in zip(kinds, directions, self._head_paths)]
        self._markers.set_paths(paths)
        self._markers.set_offsets(points)
        self._markers.set_sizes(self._head_scale * np.array([MARKER_SIZES[kind] for kind in kinds]), self._figure.dpi)

        if self._many:  # per run: the median across starts, the band between the quartiles
            low, median, high = self._quartiles[:, : step + 1]
            steps = self._frame_steps[: step + 1]
            for r, (curve, band) in enumerate(zip(self._loss_curves, self._bands)):
                curve.set_data(steps, median[:, r])
                band.set_verts([band_polygon(steps, low[:, r], high[:, r])])
            self._loss_dots.set_offsets(np.column_stack([np.full(median.shape[1], float(step)), median[-1]]))
            return
        values = self._loss.values[: step + 1]
        steps = separated(np.broadcast_to(self._frame_steps[: step + 1, None], (step + 1, values.shape[2])))
        for r, curve in enumerate(self._loss_curves):
            curve.set_data(steps, separated(values[:, r]))
        current = values[step].reshape(-1)
        self._loss_dots.set_offsets(np.column_stack([np.full(current.shape, float(step)), current]))

    def render(self, step: int, numbers_step: int | None = None) -> np.ndarray:
        """The frame at `step`: RGBA uint8, shape (height, width, 4), a fresh array the caller may keep. The numbers
        (the step counter and the readout) show `numbers_step` (default: `step`), so an animation can refresh them
        at a readable pace while the paths move on every frame."""
        step = self._check_step(step)
        numbers_step = step if numbers_step is None else self._check_step(numbers_step)
        # The legend reads the same until another trajectory diverges (it depends on step only through the count),
        # the readout until its numbers refresh: each is drawn once into a cached layer and kept until then.
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
        """The frame at `step` as PNG, SVG or PDF; SVG and PDF keep text and paths as vectors.

        The format comes from the path's suffix, or from `format` ("png", "svg", "pdf") when given: for a
        temporary file about to be renamed into place, or a binary stream. The same still is the same bytes
        every time (no date, fixed SVG ids).
        """
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
                self._figure.savefig(path, format=kind, facecolor=self._theme.background,
                                     dpi=self._figure.dpi * (1 if kind == "png" else VECTOR_RASTER_SCALE),
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

    def __enter__(self) -> RaceScene:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
