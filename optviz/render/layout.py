"""Where the panels go: the landscape, the loss panel, the legend, the title and the step counter.

Pure arithmetic on pixel rectangles, no matplotlib.
"""

from __future__ import annotations

from dataclasses import dataclass


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
