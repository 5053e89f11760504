"""The cached pixels a frame starts from, in layers that are redrawn only when they change.

The static base (drawn once), the legend over it (redrawn when a run's entry changes, at a divergence), and the
readout over that (redrawn when its numbers refresh). A frame restores the top layer and draws the moving artists.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any


class Layers:
    def __init__(self, canvas: Any, base: Any, readout: Any = None):
        """`readout`: what draws the numbers layer (`Readout.draw(step)`), or None when the picture has none."""
        self._canvas, self._base, self._readout = canvas, base, readout
        self._legend = self._top = None
        self._legend_key: Hashable = object()
        self._readout_key: Hashable = object()

    def restore(self, legend_key: Hashable, draw_legend: Callable[[], None], numbers_step: int) -> None:
        """Put the layers on the canvas for this legend and the readout at `numbers_step`, redrawing the legend
        only when its key changed since the last call and the readout only when its step did (a new legend also
        redraws the readout over it)."""
        canvas, bbox = self._canvas, self._canvas.figure.bbox
        readout_key = numbers_step if self._readout is not None else None
        if legend_key != self._legend_key:
            canvas.restore_region(self._base)
            draw_legend()
            self._legend, self._legend_key, self._top = canvas.copy_from_bbox(bbox), legend_key, None
        if self._top is None or readout_key != self._readout_key:
            canvas.restore_region(self._legend)
            if self._readout is not None:
                self._readout.draw(numbers_step)
            self._top, self._readout_key = canvas.copy_from_bbox(bbox), readout_key
        else:
            canvas.restore_region(self._top)
