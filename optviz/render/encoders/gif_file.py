"""The GIF89a file itself, written one frame at a time: container blocks and delta frames.

Layout (GIF89a spec, https://www.w3.org/Graphics/GIF/spec-gif89a.txt):

    header "GIF89a" | logical screen descriptor + global colour table (256 x RGB)
    | NETSCAPE2.0 application extension: loop forever
    | per frame: graphic control extension (delay, disposal "do not dispose", transparent index)
                 + image descriptor and LZW data for the rectangle that changed
    | trailer ";"

Delta frames: frame k stores only the bounding box of the pixels that differ from frame k-1, and inside it every
pixel whose palette index did not change is the transparent index, so the decoder keeps what is already there.
A frame that changes nothing is a single transparent pixel (it still carries its delay). Only pixels whose RGBA
value changed are mapped to the palette at all, so a frame costs in proportion to what moved.

The LZW compression is Pillow's C encoder (`GifImagePlugin.getdata`); the blocks around it are written here, so
nothing holds the whole film (Pillow's `save_all` keeps every frame).
"""

from __future__ import annotations

import struct
from typing import BinaryIO, NamedTuple

import numpy as np
from PIL import GifImagePlugin, Image

from optviz.render.encoders.palette import TRANSPARENT_INDEX, Palette

DISPOSAL_KEEP = 1  # "do not dispose": the next frame draws over this one


class Patch(NamedTuple):
    """Palette indices to draw with their top-left corner at (left, top); TRANSPARENT_INDEX keeps a pixel."""

    left: int
    top: int
    indices: np.ndarray  # (height, width) uint8


class DeltaCanvas:
    """Tracks what a GIF decoder shows after each frame, and turns the next RGBA frame into the patch that updates it.

    Only the pixels whose RGBA value changed are mapped to the palette (mapping is the costly step); those whose
    palette index changed too are drawn, every other pixel in their bounding box is transparent.
    """

    def __init__(self, palette: Palette):
        self._palette = palette
        self._pixels: np.ndarray | None = None  # the last frame, one uint32 per RGBA pixel
        self._shown: np.ndarray | None = None  # the palette indices on screen

    def patch(self, frame: np.ndarray) -> Patch:
        pixels = np.ascontiguousarray(frame).view(np.uint32)[..., 0]
        previous, self._pixels = self._pixels, pixels  # frames are fresh arrays: keeping one costs no copy
        if previous is None or self._shown is None:
            self._shown = self._palette.index(frame).copy()  # writable: updated in place
            return Patch(0, 0, self._shown.copy())
        changed = pixels != previous
        box = _bounding_box(changed)
        if box is None:
            return _NOTHING
        changed = changed[box]
        shown = self._shown[box]  # a view: updated in place below
        new = self._palette.index(pixels[box][changed].view(np.uint8).reshape(-1, 4))
        drawn = np.where(new != shown[changed], new, np.uint8(TRANSPARENT_INDEX))
        shown[changed] = new
        indices = np.full(changed.shape, TRANSPARENT_INDEX, dtype=np.uint8)
        indices[changed] = drawn
        return Patch(box[1].start, box[0].start, indices)


_NOTHING = Patch(0, 0, np.full((1, 1), TRANSPARENT_INDEX, dtype=np.uint8))  # a frame that changes no pixel


def _bounding_box(mask: np.ndarray) -> tuple[slice, slice] | None:
    """(rows, columns) slices of the smallest rectangle holding every True of `mask`, or None if there is none."""
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(columns[0]), int(columns[-1]) + 1)


class GifStream:
    """Writes a looping GIF89a one patch at a time."""

    def __init__(self, file: BinaryIO, size: tuple[int, int], palette_rgb: bytes):
        width, height = size
        self._file = file
        table_flags = 0x80 | 0x70 | 0x07  # global table present, 8-bit colour resolution, 2^(7+1) entries
        file.write(b"GIF89a" + struct.pack("<HHBBB", width, height, table_flags, 0, 0) + palette_rgb)
        file.write(b"!\xff\x0bNETSCAPE2.0" + struct.pack("<BBHB", 3, 1, 0, 0))  # loop count 0 = forever

    def add(self, patch: Patch, delay_cs: int) -> None:
        """Append a frame that draws `patch` over the previous one and stays `delay_cs` centiseconds."""
        packed = DISPOSAL_KEEP << 2 | 1  # disposal method, "transparent index in use"
        self._file.write(b"!\xf9\x04" + struct.pack("<BHBB", packed, delay_cs, TRANSPARENT_INDEX, 0))
        image = Image.fromarray(patch.indices, "L")
        for chunk in GifImagePlugin.getdata(image, offset=(patch.left, patch.top)):
            self._file.write(chunk)

    def finish(self) -> None:
        self._file.write(b";")
