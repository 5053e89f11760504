"""What to render and where: a frozen RenderSpec, checked before any work starts.

This module imports neither matplotlib nor imageio, so the CLI can refuse a bad request instantly.

Limits, and why:
- fps from 0.1 (a frame every 10 s) to 120; a GIF at most 50, because GIF delays are whole centiseconds and
  browsers slow any delay under 2 cs down to 10 cs. The floor keeps a GIF frame's delay (plus the hold) inside GIF's
  16-bit centisecond field and gives ffmpeg a frame rate it can encode.
- hold (seconds the last frame stays up) in [0, 60]; a GIF delay field holds at most 655.35 s.
- at least 320x240 px (smaller pictures cannot fit their labels; the scene's MIN_SIZE), each side at most 7680 px
  and at most 7680x4320 pixels in all (8K UHD).
  An MP4 needs even sides (yuv420p halves both chroma axes): odd sides are rounded up by one pixel, see `frame_size`.
- frames (None = one per step) 2..10000.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from optviz.errors import OutputError, UsageError
from optviz.render.atomic import destination
from optviz.render.theme import THEMES

ANIMATION_FORMATS = ("gif", "mp4", "html")  # html: a page around an MP4
STILL_FORMATS = ("png", "svg", "pdf")
EVEN_SIDED_FORMATS = ("mp4", "html")  # H.264 in yuv420p
FORMATS = ANIMATION_FORMATS + STILL_FORMATS

MIN_FPS = 0.1
MAX_FPS = 120.0
MAX_GIF_FPS = 50.0
MAX_HOLD_SECONDS = 60.0
MIN_SIZE = (320, 240)
MAX_SIDE = 7680
MAX_PIXELS = 7680 * 4320
MIN_FRAMES, MAX_FRAMES = 2, 10_000


@dataclass(frozen=True)
class RenderSpec:
    """One output file: its path (the suffix picks the format) and how the race is drawn into it."""

    out: Path
    frames: int | None = None  # None: one frame per optimiser step
    fps: float = 25.0
    hold: float = 1.0  # extra seconds the last frame stays on screen (animations only)
    size: tuple[int, int] = (1280, 720)  # (width, height) in pixels
    theme: str = "light"
    title: str | None = None

    @property
    def format(self) -> str:
        """The output format, from the file suffix, case-insensitive: `race.GIF` -> "gif"."""
        return Path(self.out).suffix.lower().lstrip(".")

    @property
    def is_animation(self) -> bool:
        return self.format in ANIMATION_FORMATS

    @property
    def frame_size(self) -> tuple[int, int]:
        """The pixel size actually rendered: `size`, with odd sides rounded up to even for MP4 (yuv420p)."""
        width, height = self.size
        if self.format in EVEN_SIDED_FORMATS:
            return width + width % 2, height + height % 2
        return width, height


def validate_render_spec(spec: RenderSpec) -> None:
    """Raise UsageError naming the first bad value and its allowed range, or OutputError for an unusable target."""
    check_writable_target(Path(spec.out))
    _check_format(spec)
    _check_timing(spec)
    _check_size(spec.size)
    if spec.frames is not None and not MIN_FRAMES <= spec.frames <= MAX_FRAMES:
        raise UsageError(f"{spec.frames} is out of range: use {MIN_FRAMES}..{MAX_FRAMES}", parameter="frames")
    THEMES.get(spec.theme)  # UsageError naming the parameter and the known themes


def _check_format(spec: RenderSpec) -> None:
    if spec.format not in FORMATS:
        hidden = Path(spec.out).name.startswith(".")
        shown = f"'.{spec.format}'" if spec.format else "a hidden name with no extension" if hidden else "no extension"
        raise UsageError(
            f"cannot tell the output format of '{spec.out}' ({shown}): end the name in "
            + ", ".join(f".{name}" for name in FORMATS), parameter="out"
        )


def _check_timing(spec: RenderSpec) -> None:
    top = MAX_GIF_FPS if spec.format == "gif" else MAX_FPS
    if not MIN_FPS <= spec.fps <= top:  # also refuses NaN
        why = " for a GIF (browsers slow faster GIFs down)" if spec.format == "gif" and spec.fps > top else ""
        raise UsageError(f"{spec.fps:g} is out of range: use {MIN_FPS:g} to {top:g}{why}", parameter="fps")
    if not 0 <= spec.hold <= MAX_HOLD_SECONDS:
        raise UsageError(f"{spec.hold:g} is out of range: use 0..{MAX_HOLD_SECONDS:g} seconds", parameter="hold")


def _check_size(size: tuple[int, int]) -> None:
    width, height = size
    for name, side, least in (("width", width, MIN_SIZE[0]), ("height", height, MIN_SIZE[1])):
        if not least <= side <= MAX_SIDE:
            raise UsageError(f"{width}x{height}: {name} {side} px is out of range: use {least}..{MAX_SIDE} px",
                             parameter="size")
    if width * height > MAX_PIXELS:
        raise UsageError(f"{width}x{height} is too large: at most {MAX_PIXELS} pixels (7680x4320)", parameter="size")


def check_writable_target(out: Path) -> None:
    """The file can be created: `out` is not a folder, and its folder (a link's target's) exists and is writable."""
    if out.is_dir():
        raise OutputError(f"output '{out}' is a folder: give a file name such as '{out / 'race.gif'}'")
    folder = destination(out).parent
    if not folder.is_dir():
        raise OutputError(f"cannot write '{out}': folder '{folder}' does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write '{out}': folder '{folder}' is not writable")
