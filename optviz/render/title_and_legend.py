"""Text that must fit its room: the title across the top and the legend in its box, shrunk until they fit."""

from __future__ import annotations

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

LEGEND_SHRINKS = (1.0, 0.92, 0.84, 0.76, 0.68)


def fit_title(fig: Figure, title: str, room: float, theme: Theme, renderer) -> Text:
    """The title as large as fits in `room` px: one bold line; else the name over the formula in regular weight;
    then smaller, down to 80%; then the longest line cut short with an ellipsis."""
    text = fig.text(0, 1, title, color=theme.text, ha="left", va="top", parse_math=False)
    candidates = [(title, "bold")]
    if ": " in title and "\n" not in title:
        candidates.append((title.replace(": ", "\n", 1), "normal"))

    def width() -> float:
        return text.get_window_extent(renderer).width

    for shrink in (1.0, 0.9, 0.8):
        for candidate, weight in candidates:
            text.set(text=candidate, fontsize=TITLE_PT * shrink, fontweight=weight)
            if width() <= room:
                return text
    lines = text.get_text().split("\n")
    longest = max(range(len(lines)), key=lambda i: len(lines[i]))
    line = lines[longest]
    while width() > room and len(line) > 1:
        line = line[: max(1, min(len(line) - 1, int(len(line) * room / width())))]
        lines[longest] = line.rstrip() + "…"
        text.set_text("\n".join(lines))
    return text


def fit_legend(fig: Figure, race: Race, theme: Theme, box: tuple[float, float, float, float], renderer) -> Legend:
    """The legend at the top-left of `box` (px) with every run's final label: one column, else two, each as
    large as fits; if nothing fits, the one spilling least."""
    width, height = fig.bbox.width, fig.bbox.height
    left, bottom, room_w, room_h = box
    handles = legend_handles(theme, len(race.runs))
    final = legend_labels(race, race.steps)
    best: tuple[float, Legend] | None = None
    for columns in (1, 2):
        for shrink in LEGEND_SHRINKS:
            legend = fig.legend(handles, final, loc="upper left", ncols=columns, fontsize=LEGEND_PT * shrink,
                                bbox_to_anchor=(left / width, (bottom + room_h) / height), borderaxespad=0.0,
                                frameon=True, fancybox=False, framealpha=1.0, facecolor=theme.background,
                                edgecolor=theme.grid, labelcolor=theme.text, handlelength=2.2)
            for text in legend.texts:
                text.set_parse_math(False)
            extent = legend.get_window_extent(renderer)
            spill = max(extent.width - room_w, 0.0) + max(extent.height - room_h, 0.0)
            if best is None or spill < best[0]:
                if best is not None:
                    best[1].remove()
                best = (spill, legend)
            else:
                legend.remove()
            if spill == 0.0:
                return legend
    return best[1]
