"""Animated GIF: one global palette, delta frames, streamed to disk by a helper process on the other core.

This process draws the frames (matplotlib) and picks the palette from a few of them; a helper Python process
(`serve`, started like ffmpeg is for MP4) reads the raw RGBA frames from a pipe, turns each into a delta patch,
compresses it and appends it to the file (`gif_file`). Neither holds more than a couple of frames. A thread would
not do: drawing holds the GIL nearly all the time, and a writer thread measured slower than none.

Pipe protocol, little-endian: width, height (uint16), frame count (uint32); the 256 x RGB colour table; one uint16
delay per frame; then the frames, width x height x 4 bytes each.

Timing: GIF delays are whole centiseconds. Frame k ends at round(100 (k + 1) / fps) cs, so the film's length is
exact to 1 cs whatever the fps (30 fps gives 3, 4, 3, 3, 4, 3, ... cs), and the last frame also holds `hold` s.
"""

from __future__ import annotations

import math
import os
import signal
import struct
import sys
from pathlib import Path
from typing import BinaryIO

import numpy as np

import optviz
from optviz.render.encoders import Animation, Progress
from optviz.render.encoders.gif_file import DeltaCanvas, GifStream
from optviz.render.encoders.palette import Palette, sample_positions
from optviz.render.encoders.pipe import helper_process

HEADER = struct.Struct("<HHI")  # width, height, frame count
TABLE_BYTES = 3 * 256
_SERVE = "from optviz.render.encoders.gif import main; main()"


def frame_delays(frame_count: int, fps: float, hold: float) -> list[int]:
    """Delay of each frame in centiseconds: frame k ends at round(100 (k + 1) / fps), the last holds `hold` s more."""
    ends = [math.floor(100 * k / fps + 0.5) for k in range(frame_count + 1)]
    delays = [later - earlier for earlier, later in zip(ends, ends[1:])]
    delays[-1] += math.floor(100 * hold + 0.5)
    return delays


def write_gif(animation: Animation, path: Path, progress: Progress) -> None:
    """Draw every frame of `animation` and stream it into a looping GIF at `path`."""
    package_root = str(Path(optviz.__file__).resolve().parents[1])
    python_path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
    command = [sys.executable, "-c", _SERVE, str(path)]
    with helper_process(command, "the GIF writer", env={**os.environ, "PYTHONPATH": python_path}) as send:
        palette = Palette.from_samples([animation.frame(animation.steps[k])
                                        for k in sample_positions(animation.frame_count)])
        delays = frame_delays(animation.frame_count, animation.fps, animation.hold)
        header = HEADER.pack(*animation.size, animation.frame_count)
        send(header + palette.rgb + struct.pack(f"<{len(delays)}H", *delays))
        for done, step in enumerate(animation.steps, start=1):
            send(memoryview(animation.frame(step)).cast("B"))
            progress(done, animation.frame_count)


def serve(source: BinaryIO, path: Path) -> None:
    """The helper's work: read the header and frames from `source` and write the GIF to `path`."""
    width, height, frame_count = HEADER.unpack(_read_exactly(source, HEADER.size))
    palette = Palette(_read_exactly(source, TABLE_BYTES))
    delays = struct.unpack(f"<{frame_count}H", _read_exactly(source, 2 * frame_count))
    canvas = DeltaCanvas(palette)
    with open(path, "wb") as file:
        gif = GifStream(file, (width, height), palette.rgb)
        for delay in delays:
            frame = np.empty((height, width, 4), dtype=np.uint8)  # fresh: the canvas keeps the previous one
            _read_exactly_into(source, frame)
            gif.add(canvas.patch(frame), delay)
        gif.finish()


def main() -> None:
    """Entry point of the helper process: `python -c "...; main()" OUT.gif`, frames on stdin."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the drawing process, which then stops this one
    serve(sys.stdin.buffer, Path(sys.argv[1]))


def _read_exactly(source: BinaryIO, size: int) -> bytes:
    data = source.read(size)
    if len(data) != size:
        raise EOFError(f"the drawing process stopped sending after {len(data)} of {size} bytes")
    return data


def _read_exactly_into(source: BinaryIO, frame: np.ndarray) -> None:
    got = source.readinto(memoryview(frame).cast("B"))
    if got != frame.nbytes:
        raise EOFError(f"the drawing process stopped sending after {got} of {frame.nbytes} bytes of a frame")
