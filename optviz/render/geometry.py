"""Where the paths are, relative to the view: pure numpy, no matplotlib.

What a trajectory's marker shows at step k (see `frame_markers`):
    inside the view                -> a dot at its position
    outside the view               -> an arrowhead on the view's edge where the path last left it, pointing
                                      the way it went (the trail itself is clipped at the edge)
    diverged at step d <= k        -> a cross at its last position, or where it left the view if that is
                                      outside
"""

from __future__ import annotations

import numpy as np

from optviz.functions.base import Box as Bounds  # ((xmin, xmax), (ymin, ymax))
from optviz.functions.base import inside_box

HEAD, EDGE, CROSS = 0, 1, 2  # marker kinds


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


def last_inside_step(positions: np.ndarray, bounds: Bounds) -> np.ndarray:
    """For positions (T+1, ...,  2): the latest step <= t at which each trajectory was in the view, -1 if never."""
    steps = np.arange(positions.shape[0]).reshape((-1,) + (1,) * (positions.ndim - 2))
    return np.maximum.accumulate(np.where(inside_box(positions, bounds), steps, -1), axis=0)


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
    outside = ~inside_box(heads, bounds)
    points = np.where(outside[:, None], exit_point(anchor, ahead, bounds), heads)
    diverged = (diverged_step.reshape(-1) >= 0) & (diverged_step.reshape(-1) <= step)
    kinds = np.where(diverged, CROSS, np.where(outside, EDGE, HEAD))
    return points, kinds, ahead - anchor


def separated(series: np.ndarray) -> np.ndarray:
    """(K, S, ...) time-major series of S trajectories -> one array, trajectory after trajectory, NaN between
    (so one line artist draws them all, lifting the pen between trajectories)."""
    if series.shape[1] == 1:
        return series[:, 0]
    k, s = series.shape[:2]
    out = np.full((s, k + 1) + series.shape[2:], np.nan)
    out[:, :k] = np.swapaxes(series, 0, 1)
    return out.reshape((s * (k + 1),) + series.shape[2:])


def band_polygon(x: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """The closed outline (N, 2) of the band between low(x) and high(x), over the x where both are finite:
    along low left to right, back along high."""
    keep = np.isfinite(low) & np.isfinite(high)
    x, low, high = x[keep], low[keep], high[keep]
    return np.concatenate([np.column_stack([x, low]), np.column_stack([x[::-1], high[::-1]])])


def quartiles(values: np.ndarray) -> np.ndarray:
    """(T+1, R, S) -> (3, T+1, R): the lower quartile, median and upper quartile across starts, NaN where a
    step has no finite value."""
    finite = np.isfinite(values)
    filled = np.where(finite, values, np.nan)
    out = np.full((3,) + values.shape[:2], np.nan)
    any_finite = finite.any(axis=2)
    if any_finite.any():
        out[:, any_finite] = np.nanquantile(filled[any_finite], [0.25, 0.5, 0.75], axis=-1)
    return out


def spread_coincident(points: np.ndarray, diameter: float, mask: np.ndarray) -> np.ndarray:
    """Display positions (N, 2) px with the `mask`ed markers (N,) of diameter px that overlap moved apart onto a
    ring around their group's centre, so every one of them shows; the others are returned as given.

    Markers closer than 0.8 diameters belong to one group (and so does whatever overlaps a member). A group of n
    is laid out in order on a ring of radius diameter * max(0.55, n / 2π) (neighbours a diameter apart),
    first member at the top: the same heads at the same place always get the same spots.
    """
    out = np.array(points, dtype=np.float64, copy=True)
    index = np.flatnonzero(mask & np.all(np.isfinite(out), axis=1))
    if index.size < 2:
        return out
    p = out[index]
    near = np.hypot(*(p[:, None, :] - p[None, :, :]).transpose(2, 0, 1)) < 0.8 * diameter
    group = np.arange(index.size)
    while True:  # each marker takes the smallest label among its neighbours until nothing changes
        merged = np.where(near, group[None, :], index.size).min(axis=1)
        if np.array_equal(merged, group):
            break
        group = merged
    for label in np.unique(group):
        members = np.flatnonzero(group == label)
        if members.size < 2:
            continue
        radius = diameter * max(0.55, members.size / (2 * np.pi))
        angle = np.pi / 2 - 2 * np.pi * np.arange(members.size) / members.size
        centre = p[members].mean(axis=0)
        out[index[members]] = centre + radius * np.column_stack([np.cos(angle), np.sin(angle)])
    return out
