"""The "step 137 / 300" counter, drawn by pasting pre-rendered digits into each frame."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text


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
