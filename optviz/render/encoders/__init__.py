"""Encoders: an Animation (a way to draw frame k, and the timing) in, one file out.

Every encoder has the same signature, `encode(animation, path, progress)`, and streams: frames go one at a time to
a helper process (ffmpeg, or optviz's GIF writer) that encodes them on another core, so no process ever holds the
whole film. Heavy imports (Pillow, ffmpeg) happen inside the encoders.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

Progress = Callable[[int, int], None]  # (frames done, frames in all)


@dataclass(frozen=True)
class Animation:
    """Frame k shows optimiser step `steps[k]`, drawn by `draw(step)` as RGBA uint8 of shape (height, width, 4).

    Frames last 1/fps seconds each; the last one stays `hold` seconds longer. Each call of `draw` returns a fresh
    array (as `RaceScene.render` does), which the encoder may keep without copying. `page` is what an encoder
    that writes a document around the frames shows besides them (the HTML page's title, theme and results table:
    `optviz.render.html.race_page`); the others ignore it.
    """

    draw: Callable[[int], np.ndarray]
    steps: np.ndarray
    size: tuple[int, int]  # (width, height)
    fps: float
    hold: float
    page: Mapping[str, Any] | None = None

    @property
    def frame_count(self) -> int:
        return len(self.steps)

    def frame(self, step: int) -> np.ndarray:
        """`draw(step)`, checked: C-contiguous RGBA uint8 of this animation's size (any other would garble the file)."""
        frame = self.draw(step)
        width, height = self.size
        if frame.shape != (height, width, 4) or frame.dtype != np.uint8:
            raise ValueError(f"step {step} was drawn as {frame.dtype} {frame.shape}, not uint8 ({height}, {width}, 4)")
        return np.ascontiguousarray(frame)


Encoder = Callable[[Animation, Path, Progress], None]


def encoders() -> dict[str, Encoder]:
    """The animation encoders keyed by file format (imported on first use)."""
    from optviz.render.encoders.gif import write_gif
    from optviz.render.encoders.html import write_html
    from optviz.render.encoders.mp4 import write_mp4

    return {"gif": write_gif, "mp4": write_mp4, "html": write_html}
