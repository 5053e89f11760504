"""Where the panels go: the landscape, the loss panel, the legend, the title and the step counter.

Pure arithmetic on pixel rectangles, no matplotlib.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

Box = tuple[float, float, float, float]  # (left, bottom, width, height) in px from the bottom-left


@dataclass(frozen=True)
class Layout:
    """Rectangles in pixels from the bottom-left (left, bottom, width, height) and anchor points.

    The loss panel and the legend share one region: in a column (loss panel over the legend) the legend takes
    the height it needs (`with_legend_height`) and the loss panel the rest; in a row they sit side by side.
    """

    landscape: Box
    loss: Box
    legend_box: Box  # where the legend must fit, anchored at its top-left
    title_at: tuple[float, float]  # top-left of the title
    counter_at: tuple[float, float]  # top-right of the step counter
    column: bool = False  # loss panel over the legend (True) or beside it
    em: float = 0.0

    def legend_room(self) -> Box:
        """The most the legend may take: in a column, all but MIN_LOSS_SHARE of the region's height."""
        if not self.column:
            return self.legend_box
        left, bottom, width, _ = self.legend_box
        top = self.loss[1] + self.loss[3]
        return left, bottom, width, (1 - MIN_LOSS_SHARE) * (top - bottom) - LOSS_GAP_EM * self.em

    def with_legend_height(self, height: float) -> Layout:
        """The layout with the legend `height` px tall at the bottom of a column and the loss panel above it."""
        if not self.column:
            return self
        left, bottom, width, _ = self.legend_box
        loss_left, _, loss_w, _ = self.loss
        top = self.loss[1] + self.loss[3]
        height = min(height, self.legend_room()[3])
        loss_bottom = bottom + height + LOSS_GAP_EM * self.em
        return dataclasses.replace(self, loss=(loss_left, loss_bottom, loss_w, top - loss_bottom),
                                   legend_box=(left, bottom, width, height))


LANDSCAPE_SHARE = 0.62  # side by side, at most this much of the width goes to the landscape column
BOTTOM_ROW_SHARE = 0.36  # stacked, the loss panel and legend row takes at least this much of the height
MIN_LOSS_SHARE = 0.38  # in a column the loss panel keeps at least this share of the height
LOSS_GAP_EM = 3.2  # under the loss panel: its tick labels and axis label, and a gap


def fit_box(room_w: float, room_h: float, aspect: float) -> tuple[float, float]:
    """The largest width x height with height / width = aspect inside room_w x room_h."""
    return (room_w, room_w * aspect) if room_w * aspect <= room_h else (room_h / aspect, room_h)


def _column(left: float, bottom: float, right: float, top: float, tick_w: float, em: float) -> tuple[Box, Box]:
    """Loss panel over the legend in the region [left, right] x [bottom, top]; the legend gets the lower half."""
    loss_left = left + tick_w + 0.2 * em
    loss_h = 0.5 * (top - bottom)
    loss = (loss_left, top - loss_h, right - 0.4 * em - loss_left, loss_h)
    legend = (left, bottom, right - left, top - loss_h - LOSS_GAP_EM * em - bottom)
    return loss, legend


def layout(width: float, height: float, em: float, title_height: float, data_aspect: float) -> Layout:
    """Place the panels for a figure of width x height px; em is the label font size in px.

    The landscape keeps the data's aspect ratio (dy / dx = data_aspect), so gradients meet contour lines at
    right angles as they do on paper. Of two arrangements the one giving it more area wins: side by side
    (landscape left; loss panel over the legend on the right), or stacked for wide views and portrait frames
    (landscape across the top; below it every pixel left goes to the loss panel and the legend: side by side
    when that region is wide, one over the other when it is tall).
    """
    outer = 0.8 * em
    top = height - outer - title_height - 0.7 * em
    tick_w, tick_h = 3.6 * em, 2.8 * em  # room for tick labels and an axis label, left of and under a panel
    title_at, counter_at = (outer, height - outer), (width - outer, height - outer)

    # side by side
    left, bottom = outer + tick_w, outer + tick_h
    box_w, box_h = fit_box(LANDSCAPE_SHARE * width - left, top - bottom, data_aspect)
    column = left + box_w + 1.2 * em
    loss, legend = _column(column, outer, width - outer, top, tick_w, em)
    side = Layout(landscape=(left, top - box_h, box_w, box_h), loss=loss, legend_box=legend,
                  title_at=title_at, counter_at=counter_at, column=True, em=em)

    # stacked
    right = outer + 1.2 * em  # half of the last x tick label
    box_w, box_h = fit_box(width - left - right, top - outer - BOTTOM_ROW_SHARE * (top - outer) - tick_h,
                           data_aspect)
    row_top = top - box_h - tick_h  # the region below the landscape and its tick labels
    region_w = width - outer - outer
    if row_top - outer > 0.6 * region_w:  # tall: the loss panel over the legend
        loss, legend = _column(outer, outer, width - outer, row_top - 0.6 * em, tick_w, em)
        tall = True
    else:
        loss_w = 0.5 * width - left
        loss = (left, bottom, loss_w, row_top - 0.6 * em - bottom)
        legend = (left + loss_w + 1.6 * em, outer, width - outer - left - loss_w - 1.6 * em, row_top - 0.6 * em - outer)
        tall = False
    stacked = Layout(landscape=(left + (width - left - right - box_w) / 2, top - box_h, box_w, box_h),
                     loss=loss, legend_box=legend, title_at=title_at, counter_at=counter_at, column=tall, em=em)
    return max(side, stacked, key=lambda lay: lay.landscape[2] * lay.landscape[3])
