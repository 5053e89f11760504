"""Colour themes for the race picture: plain data, no matplotlib (the spec layer validates names with it).

Contrast rules every theme keeps:
- the landscape colormap is desaturated (slate to paper, or ink to slate), so the saturated run palette
  (Okabe & Ito, "Color Universal Design", 2008: distinguishable with every common colour-vision deficiency)
  never blends into it;
- every trail gets an outline (`halo`) in the colour opposite the landscape's dark end, so a path stays
  visible over the darkest and the lightest contour band alike;
- text, ticks, spines and legend frame take `text` / `muted` on `background`: never light on light, never
  dark on dark.
"""

from __future__ import annotations

from dataclasses import dataclass

from optviz.registry import Registry

Colour = str  # "#rrggbb"


@dataclass(frozen=True)
class Theme:
    name: str
    background: Colour  # figure and panel background
    text: Colour  # titles, labels, legend text, step counter
    muted: Colour  # ticks, tick labels, spines
    grid: Colour  # loss-panel grid and legend frame
    colormap: tuple[Colour, ...]  # landscape colours from the lowest f to the highest, evenly spaced
    contour_line: Colour  # thin iso-lines over the filled contours
    contour_line_alpha: float
    palette: tuple[Colour, ...]  # twelve colours, one per run; after twelve runs they repeat with another dash
    halo: Colour  # outline behind trails and edge of head markers
    minimum_face: Colour  # the star on each global minimum
    minimum_edge: Colour
    start_face: Colour  # the square on each start point
    start_edge: Colour
    aliases: tuple[str, ...] = ()


LIGHT = Theme(
    name="light",
    background="#ffffff",
    text="#1b1b1b",
    muted="#3c3c3c",
    grid="#d9d9d9",
    colormap=("#24344d", "#3e5672", "#6a8199", "#9db0c0", "#cbd6dd", "#eef1f2", "#fbfbfa"),
    contour_line="#1b1b1b",
    contour_line_alpha=0.22,
    # Okabe-Ito (yellow, which fades on the paper-white plateau, last), then wine, olive, purple and brown from
    # Tol's muted set: every pair at least 25 apart in CIELAB.
    palette=("#d55e00", "#0072b2", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#882255", "#999933",
             "#6a3d9a", "#8c510a", "#f0e442"),
    halo="#ffffff",
    minimum_face="#ffffff",
    minimum_edge="#000000",
    start_face="#ffffff",
    start_edge="#000000",
)

DARK = Theme(
    name="dark",
    background="#101318",
    text="#eceff4",
    muted="#c2c8d0",
    grid="#3a414c",
    colormap=("#07090d", "#141b26", "#223042", "#35485e", "#4d6279", "#6b7f94", "#93a3b3"),
    contour_line="#ffffff",
    contour_line_alpha=0.16,
    # Okabe-Ito with sky blue in place of the dark blue, which sinks into a near-black landscape, then light
    # colours that stand out from it: rose, lavender, lime, a bright blue and magenta (pairs >= 25 apart in CIELAB).
    palette=("#e69f00", "#56b4e9", "#f0e442", "#cc79a7", "#d55e00", "#009e73", "#ffffff", "#ee6677", "#b39ddb",
             "#99dd55", "#4477ff", "#ff77ff"),
    halo="#000000",
    minimum_face="#ffffff",
    minimum_edge="#000000",
    start_face="#101318",
    start_edge="#ffffff",
)

THEMES: Registry[Theme] = Registry("theme", [LIGHT, DARK], parameter="theme")
