"""How big text, lines and markers are drawn, and how that scales with the picture. No matplotlib.

Sizes are designed at 1280x720 px and 100 dpi, where 1 pt = 1.39 px; other sizes scale the dpi (see `text_scale`),
so every size below is in points and means the same share of the picture at any pixel size.
"""

from __future__ import annotations

import math

DESIGN_SIZE = (1280, 720)
DESIGN_DPI = 100.0
SHRINK_EXPONENT = 0.35  # below the design size text shrinks slower than the picture, to stay readable
TITLE_PT = 14.0
LABEL_PT = 11.0  # axis labels, step counter; also the layout's unit ("em")
TICK_PT = 9.5
LEGEND_PT = 10.5
TRAIL_PT = 1.9
HALO_PT = 1.4  # outline width on each side of a trail
HEAD_PT = 9.0  # marker diameters
CROSS_PT = 12.0
ARROW_PT = 14.0
START_PT = 8.0
LOSS_PT = 1.6


def text_scale(size: tuple[int, int]) -> float:
    """How much larger than at the design size text and lines are drawn, with r = area / design area:

        r^(1/2) from the design size up (a 4K picture looks like the 720p one, sharper),
        r^0.35  below it (800x600: 0.80 rather than 0.72, so the labels stay readable on a projector).
    """
    ratio = size[0] * size[1] / (DESIGN_SIZE[0] * DESIGN_SIZE[1])
    return math.sqrt(ratio) if ratio >= 1 else ratio**SHRINK_EXPONENT
