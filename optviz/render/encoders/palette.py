"""One colour palette for a whole GIF, chosen once from a few sample frames.

A shared palette is what makes GIF frames small: when the colour of an unchanged pixel maps to the same index in
every frame, a frame can be stored as the few pixels that changed. (Choosing a fresh adaptive palette per frame,
as Pillow does by default, costs time and makes every frame different everywhere.)

The palette is Pillow's fast octree quantisation of a montage of sample frames (the first, which holds the whole
landscape, the last, which holds every trail, and the middle; more samples measured no better on race scenes) to
`COLOURS` = 255 colours, which leaves index 255 free to mean "transparent: keep the pixel from the previous frame".
Pixels are then mapped to their nearest palette colour without dithering (dither noise would differ from frame to
frame and defeat the deltas). Deterministic: the same frames give the same palette.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

COLOURS = 255
TRANSPARENT_INDEX = 255
SAMPLE_FRAMES = 3


def sample_positions(frame_count: int, samples: int = SAMPLE_FRAMES) -> list[int]:
    """Indices of the frames to sample: first, last, evenly spaced between, without repeats."""
    return sorted({round(k) for k in np.linspace(0, frame_count - 1, min(samples, frame_count))})


class Palette:
    """A GIF colour table: `COLOURS` colours and the transparent slot; `index(rgba)` maps pixels to it."""

    def __init__(self, rgb: bytes):
        """`rgb`: the table as 3 bytes per entry, at most 256 entries (padded with black to 256)."""
        self.rgb = bytes(rgb).ljust(3 * 256, b"\0")
        self._reference = Image.new("P", (1, 1))
        self._reference.putpalette(self.rgb[: 3 * COLOURS], "RGB")  # never maps to the transparent slot

    @classmethod
    def from_samples(cls, samples: Sequence[np.ndarray]) -> Palette:
        """The 255 colours that best cover `samples` (RGBA frames of one size)."""
        montage = _rgb_image(np.concatenate(list(samples), axis=0))
        quantised = montage.quantize(COLOURS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        return cls(bytes(quantised.getpalette("RGB")[: 3 * COLOURS]))

    def index(self, rgba: np.ndarray) -> np.ndarray:
        """Palette indices (uint8) of RGBA pixels (..., 4), shaped (...); alpha is ignored (frames are opaque)."""
        mapped = _rgb_image(rgba).quantize(palette=self._reference, dither=Image.Dither.NONE)
        return np.asarray(mapped).reshape(rgba.shape[:-1])

    def colours(self, indices: np.ndarray) -> np.ndarray:
        """The RGB image (height, width, 3) that palette indices stand for."""
        return np.frombuffer(self.rgb, dtype=np.uint8).reshape(256, 3)[indices]


def _rgb_image(rgba: np.ndarray) -> Image.Image:
    """An RGB Pillow image of RGBA pixels (..., 4), alpha dropped while unpacking (one pass, no numpy temporary).

    A frame (height, width, 4) keeps its shape; any other batch of pixels becomes one row.
    """
    height, width = rgba.shape[:2] if rgba.ndim == 3 else (1, rgba.size // 4)
    return Image.frombytes("RGB", (width, height), np.ascontiguousarray(rgba), "raw", "RGBX", 0, 1)
