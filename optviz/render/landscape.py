"""The static landscape: filled contours of f over the view, thin iso-lines, and a star on each global minimum.

Shading. With h the height that gets coloured, sampled on a grid over the view:

    log scale (function.log_scale and f_min known):   h = log10(f - f_min + offset),
        offset = max(q_0.001(f - f_min), 1e-9 q_top(f - f_min))   (a "small offset" below the basin floor)
    otherwise (saddles, bumpy functions):              h = f

h is clipped to [q_0.001(h), q_top(h)] (quantiles over the grid, q_top = 0.995), so one extreme corner (Goldstein-
Price reaches 1e6 where its basin sits near 3) does not squeeze the interesting part into a single colour, and
`SHADE_LEVELS` evenly spaced levels across that range make adjacent bands differ by under 2% of the colormap:
no visible banding.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap

from optviz.functions import TestFunction
from optviz.render.geometry import Bounds
from optviz.render.theme import Theme


GRID_POINTS = 240  # samples along each side of the view
SAMPLES_PER_TURN = 8  # samples between a rise and a fall of f, for landscapes that turn often
MAX_GRID_POINTS = 720
SHADE_LEVELS = 64  # filled bands
LINE_EVERY = 4  # one iso-line per this many bands
TOP_QUANTILE = 0.995
BOTTOM_QUANTILE = 0.001
LOG_OFFSET_FLOOR = 1e-9  # the offset is at least this fraction of the top of the range
LINE_PT = 0.6  # iso-line width
STAR_PT = 17.0  # minimum marker size


def view_bounds(domain: Bounds, starts: np.ndarray, pad: float = 0.05) -> Bounds:
    """The function's domain, grown (by `pad` of its span beyond the farthest one) to show every start point."""
    (xmin, xmax), (ymin, ymax) = domain
    sx, sy = np.asarray(starts, dtype=np.float64).reshape(-1, 2).T
    x_span, y_span = xmax - xmin, ymax - ymin
    if sx.min() < xmin:
        xmin = sx.min() - pad * x_span
    if sx.max() > xmax:
        xmax = sx.max() + pad * x_span
    if sy.min() < ymin:
        ymin = sy.min() - pad * y_span
    if sy.max() > ymax:
        ymax = sy.max() + pad * y_span
    return (float(xmin), float(xmax)), (float(ymin), float(ymax))


def sample_grid(function: TestFunction, bounds: Bounds,
                points: int | tuple[int, int] = GRID_POINTS) -> tuple[np.ndarray, ...]:
    """x, y and f(x, y) on a grid covering `bounds`: points along each side, or (along x, along y)."""
    (xmin, xmax), (ymin, ymax) = bounds
    nx, ny = (points, points) if isinstance(points, int) else points
    x, y = np.meshgrid(np.linspace(xmin, xmax, nx), np.linspace(ymin, ymax, ny))
    with np.errstate(all="ignore"):
        f = np.broadcast_to(function.value(x, y), x.shape).astype(np.float64)
    return x, y, f


def grid_points(f: np.ndarray) -> tuple[int, int]:
    """How many samples along x and along y f needs, judged from a first sampling f (rows along x).

    A landscape that turns often (Levi's sin²(3πx) rises and falls 60 times across its view) reads as noise
    when sampled with a few points per bump. Count the turns (sign changes of the difference) along each row
    and column; the busiest lines (90th percentile) get SAMPLES_PER_TURN samples per turn, at least GRID_POINTS,
    at most MAX_GRID_POINTS.
    """
    def turns(axis: int) -> float:
        d = np.diff(f, axis=axis)
        first, second = (d[:, 1:], d[:, :-1]) if axis == 1 else (d[1:], d[:-1])
        with np.errstate(invalid="ignore"):
            changes = (np.sign(first) * np.sign(second) < 0).sum(axis=axis)
        return float(np.quantile(changes, 0.9))

    return tuple(int(np.clip(SAMPLES_PER_TURN * turns(axis), GRID_POINTS, MAX_GRID_POINTS)) for axis in (1, 0))


def shading(f: np.ndarray, f_min: float | None, log_scale: bool) -> tuple[np.ndarray, np.ndarray]:
    """The height h to colour (clipped, finite everywhere) and the evenly spaced band levels over it."""
    finite = np.isfinite(f)
    if not finite.any():
        return np.zeros_like(f), np.linspace(0.0, 1.0, SHADE_LEVELS + 1)
    if log_scale and f_min is not None:
        gap = np.clip(f - f_min, 0.0, None)
        top = np.quantile(gap[finite], TOP_QUANTILE)
        offset = max(np.quantile(gap[finite], BOTTOM_QUANTILE), LOG_OFFSET_FLOOR * top, np.finfo(float).tiny)
        h = np.log10(gap + offset)
    else:
        h = f
    low, high = np.quantile(h[finite], [BOTTOM_QUANTILE, TOP_QUANTILE])
    if not high > low:  # a flat view: one band
        low, high = low - 0.5, low + 0.5
    h = np.clip(np.where(finite, h, high), low, high)
    return h, np.linspace(low, high, SHADE_LEVELS + 1)


def colormap(theme: Theme) -> LinearSegmentedColormap:
    """The theme's landscape colours, interpolated smoothly from the lowest f to the highest."""
    return LinearSegmentedColormap.from_list(f"optviz-{theme.name}", theme.colormap, N=512)


def draw_minima(ax: Axes, function: TestFunction, theme: Theme) -> list:
    """A star on each global minimum: filled, under the trails, and its outline again above the heads (the scene
    draws that one over them), so a head that reaches the minimum shows inside the star and the star around it."""
    if not function.minima:
        return []
    mx, my = np.asarray(function.minima, dtype=np.float64).T
    star = {"linestyle": "none", "marker": "*", "markersize": STAR_PT, "markeredgewidth": 1.2}
    under = ax.plot(mx, my, **star, markerfacecolor=theme.minimum_face, markeredgecolor=theme.minimum_edge,
                    zorder=3)
    over = ax.plot(mx, my, **star, markerfacecolor="none", markeredgecolor=theme.minimum_edge, zorder=6)
    return under + over


def draw_landscape(ax: Axes, function: TestFunction, bounds: Bounds, theme: Theme) -> list:
    """Filled contours and iso-lines on `ax`, limits set to `bounds`; returns the artists made.

    The filled contours are rasterised in vector output (SVG/PDF): hundreds of abutting polygons there
    show hairline seams in most viewers, and the file would be megabytes.
    """
    x, y, f = sample_grid(function, bounds)
    points = grid_points(f)
    if points != (GRID_POINTS, GRID_POINTS):  # it turns often: sample finer where it does
        x, y, f = sample_grid(function, bounds, points)
    h, levels = shading(f, function.f_min, function.log_scale and function.f_min is not None)
    fill = ax.contourf(x, y, h, levels=levels, cmap=colormap(theme), antialiased=False, algorithm="serial",
                       zorder=0)
    fill.set_rasterized(True)
    lines = ax.contour(x, y, h, levels=levels[LINE_EVERY:-1:LINE_EVERY], colors=theme.contour_line,
                       alpha=theme.contour_line_alpha, linewidths=LINE_PT, negative_linestyles="solid",
                       algorithm="serial", zorder=1)
    artists = [fill, lines]
    (xmin, xmax), (ymin, ymax) = bounds
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    return artists
