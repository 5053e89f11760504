"""The live readout beside a legend: each run's loss at the frame's step, and its lr when a schedule moves it.

A column of numbers per quantity, one row per run on the line of that run's legend entry, under a header:

    ── adam lr=0.178 (tuned)      3.2e−8
    ── sgd lr=0.001 (tuned)       0.512

With several starts the loss is the median over the starts (with many, the number the loss panel's curve shows),
and a column counts the starts at the minimum value (f within the engine's convergence tolerance of f*). The values
come from the race (`columns`, pure numpy); `Readout` places and redraws them (matplotlib, explicit figure).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from optviz.engine import CONVERGENCE_TOLERANCE
from optviz.render.labels import show_number

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.legend import Legend

    from optviz.racing import Race
    from optviz.render.loss_scale import LossScale
    from optviz.render.theme import Theme

# The widest a value gets ("−8.88e−88"): a column is this wide, or as wide as its header.
WIDEST_VALUE = "−8.88e−88"
NUMBERS_HZ = 5  # how often a film's step counter and readout refresh, per second of film
COLUMN_GAP_EM = 1.0  # between the legend's frame and the first column, and between columns


@dataclass(frozen=True)
class Column:
    header: str
    values: np.ndarray  # (T+1, runs)
    show: Callable[[float], str] = show_number


def columns(race: Race, loss: LossScale, positions: np.ndarray | None = None) -> list[Column]:
    """The readout's columns. From one start: x when `positions` (T+1, R, 1) are given (a 1-D race: the article's
    own quantity), and the loss. From several: the median loss over the starts, and, when f* is known, how many
    starts are within the convergence tolerance of it. When some run's lr follows a schedule, the lr in force at
    each step (step 0 shows step 1's)."""
    values = loss.values
    starts = values.shape[2]
    many = starts > 1
    out = [] if positions is None or many else [Column("x", positions[:, :, 0])]
    out.append(Column(f"median {loss.label}" if many else loss.label,
                      np.nanmedian(values, axis=2) if many else values[:, :, 0]))
    f_min = race.function.f_min
    if many and f_min is not None:
        near = (values <= CONVERGENCE_TOLERANCE * (1 + abs(f_min))).sum(axis=2).astype(np.float64)
        out.append(Column("at f*", near, lambda count: f"{int(count)}/{starts}"))
    if any(run.schedule is not None for run in race.runs):
        lrs = np.full((race.steps + 1, len(race.runs)), np.nan)
        for r, run in enumerate(race.runs):
            if run.schedule is not None and race.steps > 0:
                trace = np.asarray(run.schedule.values(run.params, race.steps)["lr"], dtype=np.float64)
                lrs[1:, r], lrs[0, r] = trace, trace[0]
            elif "lr" in run.params:
                lrs[:, r] = float(run.params["lr"])
        out.append(Column("lr", lrs))
    return out


class Readout:
    """The readout's text artists: a header per column and a value per run, right-aligned in its column."""

    def __init__(self, fig: Figure, race: Race, loss: LossScale, theme: Theme, positions: np.ndarray | None = None):
        self._fig = fig
        self._columns = columns(race, loss, positions)
        style = {"color": theme.text, "ha": "right", "va": "center", "parse_math": False, "fontfamily": "monospace"}
        self._headers = [fig.text(0, 0, column.header, **{**style, "color": theme.muted, "va": "baseline",
                                                      "fontfamily": "DejaVu Sans"})
                         for column in self._columns]
        self._values = [[fig.text(0, 0, "", **style) for _ in range(len(race.runs))] for _ in self._columns]

    @property
    def artists(self) -> list:
        """What changes from frame to frame (the headers are drawn with the static part)."""
        return [text for column in self._values for text in column]

    @property
    def texts(self) -> list:
        """Every text of the readout: the headers and the values."""
        return [*self._headers, *self.artists]

    def set_fontsize(self, size: float) -> None:
        for text in self.texts:
            text.set_fontsize(size)

    def width(self, renderer, size: float) -> float:
        """Px the readout needs right of the legend at font `size`: the gaps and every column."""
        self.set_fontsize(size)
        em = size * self._fig.dpi / 72
        return sum(COLUMN_GAP_EM * em + w for w in self._column_widths(renderer))

    def header_height(self, renderer, size: float) -> float:
        self.set_fontsize(size)
        return 1.3 * size * self._fig.dpi / 72

    def _column_widths(self, renderer) -> list[float]:
        """Each column as wide as its header or the widest value, whichever is wider."""
        probe = self.artists[0]
        shown = probe.get_text()
        probe.set_text(WIDEST_VALUE)
        value_w = probe.get_window_extent(renderer).width
        probe.set_text(shown)
        return [max(header.get_window_extent(renderer).width, value_w) for header in self._headers]

    def remove(self) -> None:
        """Take every text off the figure (when there is no room for the readout)."""
        for text in self.texts:
            text.remove()

    def _em(self) -> float:
        return self._headers[0].get_fontsize() * self._fig.dpi / 72

    def _rights(self, legend: Legend, renderer) -> list[float]:
        """The right edge of each column (px): columns follow the legend's frame, COLUMN_GAP_EM apart."""
        right, rights = legend.get_window_extent(renderer).x1, []
        for column_w in self._column_widths(renderer):
            right += COLUMN_GAP_EM * self._em() + column_w
            rights.append(right)
        return rights

    def place_headers(self, legend: Legend, renderer) -> None:
        """The headers just above the legend's frame, over their columns (the legend is anchored already)."""
        width, height = self._fig.bbox.width, self._fig.bbox.height
        top = legend.get_window_extent(renderer).y1
        for header, right in zip(self._headers, self._rights(legend, renderer)):
            header.set_position((right / width, (top + 0.35 * self._em()) / height))

    def place_values(self, legend: Legend, renderer) -> None:
        """Each value on the first line of its run's legend entry. Call after the legend is drawn (its entries'
        positions are known then) and whenever an entry's line count changes."""
        width, height = self._fig.bbox.width, self._fig.bbox.height
        for column, right in zip(self._values, self._rights(legend, renderer)):
            for text, entry in zip(column, legend.texts):
                box = entry.get_window_extent(renderer)
                lines = entry.get_text().count("\n") + 1
                text.set_position((right / width, (box.y1 - 0.5 * box.height / lines) / height))

    def draw(self, step: int) -> None:
        """Draw the values at `step` onto the figure's canvas (the headers are drawn with the static part)."""
        self.set_step(step)
        for text in self.artists:
            self._fig.draw_artist(text)

    def set_step(self, step: int) -> None:
        for column, texts in zip(self._columns, self._values):
            for r, text in enumerate(texts):
                text.set_text(column.show(column.values[step, r]))


def numbers_paced(render: Callable[..., np.ndarray], steps: np.ndarray,
                  fps: float | None) -> Callable[[int], np.ndarray]:
    """`render` itself when fps is None (a page the viewer steps through: fresh numbers on every frame), else
    `render(step, numbers_step)` for a film showing `steps` at `fps`: the step counter and the readout refreshed
    NUMBERS_HZ times a second (numbers that change on every frame cannot be read, and a counter redrawn on every
    frame makes each GIF frame's changed rectangle reach the picture's corner: 17% of the file) and on the last
    frame, which shows the final numbers. Between refreshes both show the same step, the one the numbers are of."""
    if fps is None:
        return render
    every = max(1, round(fps / NUMBERS_HZ))
    shown = np.asarray(steps)[np.arange(len(steps)) // every * every]
    if len(steps):
        shown[-1] = steps[-1]
    numbers_step = dict(zip((int(s) for s in steps), (int(s) for s in shown)))
    return lambda step: render(step, numbers_step.get(int(step)))
