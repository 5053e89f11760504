"""Text that must fit its room: the title across the top and the legend in its box, shrunk until they fit."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from optviz.render.artists import legend_handles
from optviz.render.labels import legend_labels
from optviz.render.sizes import LEGEND_PT, TITLE_PT

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.legend import Legend
    from matplotlib.text import Text

    from optviz.racing import Race
    from optviz.render.theme import Theme

MAIN_FONT = "DejaVu Sans"  # matplotlib's own, always there
LAST_RESORT_FONT = "Last Resort High-Efficiency"  # also matplotlib's: a placeholder glyph for every character
LEGEND_SHRINKS = (1.0, 0.92, 0.84, 0.76, 0.68, 0.6)
MAX_COLUMNS = 3
# the legend's spacing, in units of its font size (matplotlib's meaning)
HANDLE_LENGTH, HANDLE_PAD, BORDER_PAD, COLUMN_SPACING = 2.2, 0.6, 0.4, 1.2


@functools.lru_cache(maxsize=1)
def _main_font_characters() -> frozenset[int]:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    return frozenset(FT2Font(font_manager.findfont(MAIN_FONT)).get_charmap())


def font_for(text: str) -> dict:
    """Text properties that draw `text` without matplotlib's "Glyph missing" warnings: the main font when it has
    every character; else the main font with matplotlib's Last Resort font behind it (which draws a placeholder
    naming the script of each character no installed font has), in regular weight (it has no bold)."""
    if all(ord(c) in _main_font_characters() for c in text if c not in "\n\t"):
        return {"fontfamily": MAIN_FONT}
    return {"fontfamily": [MAIN_FONT, LAST_RESORT_FONT], "fontweight": "normal"}


def fit_title(fig: Figure, title: str, at: tuple[float, float], room: float, theme: Theme, renderer) -> float:
    """Draw the title with its top-left at `at` (px), as large as fits in `room` px, and return its height.

    Whatever comes before the first ": " (the function's name) is bold, the rest (the formula) regular, on one
    line if it fits, else the formula under the name; then smaller, down to 80%; then a line too long cut short
    with an ellipsis. An empty title draws nothing and takes no height.
    """
    if not title:
        return 0.0
    name, colon, formula = title.partition(": ")
    width, height = fig.bbox.width, fig.bbox.height
    kwargs = {"color": theme.text, "ha": "left", "va": "top", "parse_math": False}
    head = fig.text(at[0] / width, at[1] / height, name + colon.rstrip(), **kwargs,
                    **{"fontweight": "bold", **font_for(name)})
    tail = fig.text(0, 0, formula, **kwargs, **font_for(formula))
    gap = 0.0

    def extent(text: Text):
        return text.get_window_extent(renderer)

    for shrink in (1.0, 0.9, 0.8):
        head.set_fontsize(TITLE_PT * shrink)
        tail.set_fontsize(TITLE_PT * shrink)
        gap = 0.3 * TITLE_PT * shrink * fig.dpi / 72
        if extent(head).width + gap + extent(tail).width <= room:  # one line
            tail.set_position(((at[0] + extent(head).width + gap) / width, at[1] / height))
            return max(extent(head).height, extent(tail).height)
        if max(extent(head).width, extent(tail).width) <= room:
            break
    for text in (head, tail):  # still too wide at 80%: cut short
        line = text.get_text()
        while extent(text).width > room and len(line) > 1:
            line = line[: max(1, min(len(line) - 1, int(len(line) * room / extent(text).width)))]
            text.set_text(line.rstrip() + "…")
    below = at[1] - extent(head).height - 0.25 * gap
    tail.set_position((at[0] / width, below / height))
    return at[1] - below + (extent(tail).height if formula else 0.0)


class Wrapper:
    """Breaks a label into lines no wider than `room` px at a font size, after a space or a comma where it can
    (inside a word only when the word alone is too wide). Widths are measured once per word, at one size."""

    def __init__(self, fig: Figure, renderer, fontsize: float):
        from matplotlib.text import Text

        self._probe = Text(0, 0, "", fontsize=fontsize, parse_math=False)
        self._probe.set_figure(fig)
        self._renderer, self._fontsize = renderer, fontsize
        self._widths: dict[str, float] = {}
        self.room, self.fontsize = float("inf"), fontsize
        self.columns = 1  # the legend's, as fit_legend chose them

    def width(self, text: str) -> float:
        """Width in px at `self.fontsize`."""
        if text not in self._widths:
            self._probe.set_text(text)
            self._widths[text] = self._probe.get_window_extent(self._renderer).width if text else 0.0
        return self._widths[text] * self.fontsize / self._fontsize

    def __call__(self, label: str) -> str:
        return "\n".join(line for paragraph in label.split("\n") for line in self._lines(paragraph))

    def cuts_words(self, label: str) -> bool:
        """Whether `label` has a word (up to a space or a comma) too wide for the room, which must be cut."""
        return any(self.width(word.rstrip()) > self.room
                   for paragraph in label.split("\n") for word in re.split(r"(?<=[ ,])", paragraph) if word)

    def _lines(self, paragraph: str) -> list[str]:
        lines, current = [], ""
        for word in re.split(r"(?<=[ ,])", paragraph):
            if not word:
                continue
            if self.width((current + word).rstrip()) <= self.room or not current.strip():
                current += word
            else:
                lines.append(current.rstrip())
                current = word
            while len(current) > 1 and self.width(current.rstrip()) > self.room:  # one word too wide: cut it
                cut = max(1, min(len(current) - 1, int(len(current) * self.room / self.width(current))))
                lines.append(current[:cut])
                current = current[cut:]
        lines.append(current.rstrip())
        return lines


def fit_legend(fig: Figure, race: Race, theme: Theme, box: tuple[float, float, float, float],
               renderer) -> tuple[Legend, Wrapper]:
    """The legend at the top-left of `box` (px) with every run's final label, in the largest font that fits,
    in as few columns as fit at that size (up to MAX_COLUMNS), labels wrapped to their column; if nothing
    fits, the one spilling least. Also the wrapper that breaks later labels the same way."""
    width, height = fig.bbox.width, fig.bbox.height
    left, bottom, room_w, room_h = box
    handles = legend_handles(theme, len(race.runs))
    final = legend_labels(race, race.steps)
    wrap = Wrapper(fig, renderer, LEGEND_PT)
    px = fig.dpi / 72
    best: tuple[float, Legend, float, float] | None = None
    for shrink in LEGEND_SHRINKS:
        size = LEGEND_PT * shrink
        for columns in range(1, min(MAX_COLUMNS, len(final)) + 1):
            # what a column leaves its text: the frame's padding, the handle and the gaps (legend font units)
            chrome = (2 * BORDER_PAD + (columns - 1) * COLUMN_SPACING) * size * px
            wrap.fontsize = size
            wrap.room = (room_w - chrome) / columns - (HANDLE_LENGTH + HANDLE_PAD) * size * px - 2
            if wrap.room < 4 * size * px and best is not None:  # too narrow to read; but always try once
                break
            legend = fig.legend(handles, [wrap(label) for label in final], loc="upper left", ncols=columns,
                                fontsize=size, bbox_to_anchor=(left / width, (bottom + room_h) / height),
                                borderaxespad=0.0, frameon=True, fancybox=False, framealpha=1.0,
                                facecolor=theme.background, edgecolor=theme.grid, labelcolor=theme.text,
                                handlelength=HANDLE_LENGTH, handletextpad=HANDLE_PAD, borderpad=BORDER_PAD,
                                columnspacing=COLUMN_SPACING, labelspacing=0.45)
            for text in legend.texts:
                text.set_parse_math(False)
                text.set(**font_for(text.get_text()))
            extent = legend.get_window_extent(renderer)
            spill = max(extent.width - room_w, 0.0) + max(extent.height - room_h, 0.0)
            if best is None or spill < best[0]:
                if best is not None:
                    best[1].remove()
                best = (spill, legend, size, wrap.room, columns)
            else:
                legend.remove()
            if spill == 0.0:
                wrap.columns = columns
                return legend, wrap
    _, legend, wrap.fontsize, wrap.room, wrap.columns = best
    return legend, wrap
