"""Drawing helpers for the race picture: each takes an Axes and returns the artists it made.

The moving artists are made empty here; `RaceScene` fills them in for each step.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from matplotlib import patheffects
from matplotlib.collections import PathCollection
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle
from matplotlib.path import Path as MarkerPath
from matplotlib.transforms import IdentityTransform

from optviz.render.geometry import CROSS, EDGE, HEAD
from optviz.render.sizes import ARROW_PT, CROSS_PT, HALO_PT, HEAD_PT, LABEL_PT, LOSS_PT, START_PT, TICK_PT, TRAIL_PT

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from optviz.render.theme import Theme

MANY_STARTS = 8  # from this many starts on, trails are thin and the loss panel shows a band across starts
MANY_TRAIL_PT, MANY_TRAIL_ALPHA = 0.7, 0.55
MANY_HEAD_SCALE = 0.6  # heads' diameter with many starts, as a share of HEAD_PT
BAND_ALPHA = 0.22  # the interquartile band's opacity
TICK_STEPS = [1, 2, 2.5, 5, 10]  # tick spacings: 0.5, 1, 2.5, 25 ... (never 0.8 or 40)


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


# After every colour of the palette has been used once, runs take the next dash and head shape: run r is colour
# r mod 12 in style r // 12 (so 48 runs never look alike).
STYLE_CYCLE = (("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"))
HEAD_PATHS = tuple(_marker_path(marker) for _, marker in STYLE_CYCLE)


def run_colour(theme: Theme, run: int) -> str:
    return theme.palette[run % len(theme.palette)]


def _style(theme: Theme, run: int) -> tuple[str, str]:
    return STYLE_CYCLE[(run // len(theme.palette)) % len(STYLE_CYCLE)]


def run_linestyle(theme: Theme, run: int) -> str:
    """Solid for the first cycle through the palette, then dashed, dotted, dash-dotted."""
    return _style(theme, run)[0]


def run_marker(theme: Theme, run: int) -> str:
    """The head's shape: a circle for the first cycle through the palette, then a square, a triangle, a diamond."""
    return _style(theme, run)[1]


def head_path(theme: Theme, run: int) -> MarkerPath:
    return HEAD_PATHS[(run // len(theme.palette)) % len(STYLE_CYCLE)]


def draw_starts(ax: Axes, starts: np.ndarray, theme: Theme) -> list:
    """A square on every start point (starts: (N, 2)), above the trails (which all leave from it) and under the
    heads; smaller when there are many."""
    size = START_PT if len(starts) <= MANY_STARTS else 0.6 * START_PT
    return ax.plot(starts[:, 0], starts[:, 1], linestyle="none", marker="s", markersize=size,
                   markerfacecolor=theme.start_face, markeredgecolor=theme.start_edge,
                   markeredgewidth=1.4 if len(starts) <= MANY_STARTS else 0.8, zorder=4.5)


def draw_paths(ax: Axes, runs: int, starts: int, theme: Theme) -> tuple[Line2D, list, PathCollection]:
    """Empty artists for the moving paths: one outline under every trail (the halo: one line through all of
    them, one draw), a trail per run, and one marker collection for every trajectory. From MANY_STARTS starts
    on, the trails are thin and translucent without an outline, and the heads smaller, so a crowd stays legible."""
    many = starts >= MANY_STARTS
    width = MANY_TRAIL_PT if many else TRAIL_PT
    outline = ax.plot([], [], color=theme.halo, linewidth=TRAIL_PT + 2 * HALO_PT, solid_capstyle="round",
                      solid_joinstyle="round", zorder=4, visible=not many)[0]
    trails = [ax.plot([], [], color=run_colour(theme, r), linestyle=run_linestyle(theme, r), linewidth=width,
                      alpha=MANY_TRAIL_ALPHA if many else 1.0, solid_capstyle="round", solid_joinstyle="round",
                      zorder=4.1)[0]
              for r in range(runs)]
    colours = [run_colour(theme, r) for r in range(runs) for _ in range(starts)]
    markers = PathCollection([MARKER_PATHS[HEAD]], offsets=np.zeros((runs * starts, 2)),
                             offset_transform=ax.transData, transform=IdentityTransform(), facecolors=colours,
                             edgecolors=theme.halo, linewidths=0.8 if many else 1.3, zorder=5, clip_on=False)
    ax.add_collection(markers, autolim=False)
    return outline, trails, markers


def draw_loss_curves(ax: Axes, runs: int, starts: int, theme: Theme) -> tuple[list, list, PathCollection]:
    """One (empty) loss curve per run and a dot for every trajectory's current loss; from MANY_STARTS starts on,
    per run the median across starts as the curve, a translucent band between the quartiles, and one dot."""
    many = starts >= MANY_STARTS
    curves = [ax.plot([], [], color=run_colour(theme, r), linestyle=run_linestyle(theme, r), linewidth=LOSS_PT,
                      zorder=3)[0] for r in range(runs)]
    bands = [ax.fill_between([], [], [], color=run_colour(theme, r), alpha=BAND_ALPHA, linewidth=0, zorder=2.5)
             for r in range(runs)] if many else []
    dots_per_run = 1 if many else starts
    colours = [run_colour(theme, r) for r in range(runs) for _ in range(dots_per_run)]
    dots = ax.scatter(np.zeros(len(colours)), np.ones(len(colours)), s=(0.6 * HEAD_PT) ** 2, c=colours,
                      edgecolors=theme.background, linewidths=0.8, zorder=4)
    return curves, bands, dots


def legend_handles(theme: Theme, runs: int) -> list[Line2D]:
    """What the legend shows beside each run's label: its trail's colour and dash, halo and head."""
    return [Line2D([], [], color=run_colour(theme, r), linestyle=run_linestyle(theme, r), linewidth=TRAIL_PT,
                   marker=run_marker(theme, r), markersize=0.8 * HEAD_PT, markerfacecolor=run_colour(theme, r),
                   markeredgecolor=theme.halo, path_effects=halo(theme, TRAIL_PT))
            for r in range(runs)]
