"""The cached pixels a frame starts from, in layers that are redrawn only when they change.

The static base (drawn once), the legend over it (redrawn when a run's entry changes, at a divergence), and the
readout over that (redrawn when its numbers refresh). A frame restores the top layer and draws the moving artists.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any


class Layers:
    def __init__(self, canvas: Any, base: Any):
        self._canvas, self._base = canvas, base
        self._legend = self._top = None
        self._legend_key: Hashable = object()
        self._readout_key: Hashable = object()

    def restore(self, legend_key: Hashable, draw_legend: Callable[[], None], readout_key: Hashable = None,
                draw_readout: Callable[[], None] | None = None) -> None:
        """Put the layers for these keys on the canvas, redrawing the legend and the readout only where their key
        changed since the last call (a new legend also redraws the readout over it). No `draw_readout`: no
        readout layer to draw."""
        canvas, bbox = self._canvas, self._canvas.figure.bbox
        if legend_key != self._legend_key:
            canvas.restore_region(self._base)
            draw_legend()
            self._legend, self._legend_key, self._top = canvas.copy_from_bbox(bbox), legend_key, None
        if self._top is None or readout_key != self._readout_key:
            canvas.restore_region(self._legend)
            if draw_readout is not None:
                draw_readout()
            self._top, self._readout_key = canvas.copy_from_bbox(bbox), readout_key
        else:
            canvas.restore_region(self._top)
