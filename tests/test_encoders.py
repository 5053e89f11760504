"""GIF and MP4 encoders, fed by a small numpy scene (no matplotlib), re-read with Pillow, a GIF block parser and ffmpeg.

The scene: a colour gradient (far more than 255 colours, so the palette must approximate), a 12 px square that
moves with the step, and a one-pixel trail behind it.
"""

from __future__ import annotations

import io
import os
import struct
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from optviz.errors import OutputError
from optviz.render.encoders import Animation, encoders
from optviz.render.encoders.gif import HEADER, frame_delays, serve, write_gif
from optviz.render.encoders.html import write_html
from optviz.render.encoders.mp4 import write_mp4
from optviz.render.encoders.palette import TRANSPARENT_INDEX, Palette, sample_positions

WIDTH, HEIGHT = 200, 150
SQUARE = 12


def square_corner(step: int) -> tuple[int, int]:
    return 10 + 5 * step % (WIDTH - SQUARE - 10), 20 + 3 * step % (HEIGHT - SQUARE - 20)


def gradient(width: int, height: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    frame = np.empty((height, width, 4), dtype=np.uint8)
    frame[..., 0] = x * 255 // (width - 1)
    frame[..., 1] = y * 255 // (height - 1)
    frame[..., 2] = (x + 2 * y) % 256
    frame[..., 3] = 255
    return frame


BACKGROUND = gradient(WIDTH, HEIGHT)


def draw(step: int) -> np.ndarray:
    frame = BACKGROUND.copy()
    for earlier in range(step):  # the trail: one dark pixel per earlier position
        x, y = square_corner(earlier)
        frame[y, x, :3] = 20
    x, y = square_corner(step)
    frame[y : y + SQUARE, x : x + SQUARE, :3] = (250, 30, 30)
    return frame


def make_animation(steps, fps=25.0, hold=0.5, draw=draw, size=(WIDTH, HEIGHT)) -> Animation:
    return Animation(draw, np.asarray(steps), size, fps, hold)


def no_progress(done: int, total: int) -> None:
    pass


def gif_blocks(data: bytes) -> tuple[list[dict], list[tuple[int, int, int, int]]]:
    """Parse a GIF89a: graphic control extensions (disposal, transparency, index, delay) and frame rectangles."""
    assert data[:6] == b"GIF89a"
    flags = data[10]
    position = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    controls, rectangles = [], []

    def skip_sub_blocks(at: int) -> int:
        while data[at]:
            at += data[at] + 1
        return at + 1

    while data[position] != 0x3B:
        if data[position] == 0x21:
            label = data[position + 1]
            if label == 0xF9:
                packed, delay, index = struct.unpack("<BHB", data[position + 3 : position + 7])
                controls.append({"disposal": packed >> 2 & 7, "transparent": packed & 1, "index": index,
                                 "delay": delay})
            position = skip_sub_blocks(position + 2)
        elif data[position] == 0x2C:
            rectangles.append(struct.unpack("<HHHH", data[position + 1 : position + 9]))
            local = data[position + 9]
            position += 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0)
            position = skip_sub_blocks(position + 1)  # LZW minimum code size, then the data
        else:
            raise AssertionError(f"unexpected GIF block {data[position]:#x} at byte {position}")
    assert position == len(data) - 1, "bytes after the trailer"
    return controls, rectangles


def gif_frames(path: Path) -> tuple[list[np.ndarray], list[int], dict]:
    """Composited RGB frames, per-frame durations (ms) and the first frame's info, as Pillow decodes them."""
    with Image.open(path) as image:
        frames, durations = [], []
        for index in range(image.n_frames):
            image.seek(index)
            frames.append(np.asarray(image.convert("RGB")))
            durations.append(image.info["duration"])
        image.seek(0)
        return frames, durations, dict(image.info)


# ------------------------------------------------------------------------------------------------ timing


@pytest.mark.parametrize("fps", [1.0, 10.0, 24.0, 25.0, 29.97, 30.0, 50.0])
@pytest.mark.parametrize("frames", [2, 7, 301])
def test_gif_delays_keep_the_film_length_and_stay_near_one_over_fps(fps, frames):
    delays = frame_delays(frames, fps, hold=1.25)
    assert len(delays) == frames
    assert sum(delays) == round(100 * frames / fps) + 125
    assert all(abs(delay - 100 / fps) < 1 for delay in delays[:-1])
    assert min(delays) >= 2  # browsers slow delays under 2 cs down to 10 cs


# ------------------------------------------------------------------------------------------------ GIF


def test_gif_reads_back_with_frame_count_loop_and_durations_in_ms(tmp_path):
    path = tmp_path / "race.gif"
    write_gif(make_animation(range(0, 40, 2), fps=25.0, hold=0.5), path, no_progress)
    frames, durations, info = gif_frames(path)
    assert len(frames) == 20
    assert info["loop"] == 0
    assert durations == [40] * 19 + [40 + 500]
    assert all(frame.shape == (HEIGHT, WIDTH, 3) for frame in frames)


def test_gif_at_30_fps_alternates_30_and_40_ms_and_lasts_the_right_time(tmp_path):
    path = tmp_path / "race.gif"
    write_gif(make_animation(range(30), fps=30.0, hold=0.0), path, no_progress)
    _, durations, _ = gif_frames(path)
    assert set(durations) == {30, 40}
    assert sum(durations) == 1000


def test_gif_frames_decode_to_the_palette_mapped_frames(tmp_path):
    steps = list(range(0, 36, 3))
    path = tmp_path / "race.gif"
    write_gif(make_animation(steps), path, no_progress)
    frames, _, _ = gif_frames(path)
    palette = Palette.from_samples([draw(steps[k]) for k in sample_positions(len(steps))])
    for step, decoded in zip(steps, frames, strict=True):
        source = draw(step)
        np.testing.assert_array_equal(decoded, palette.colours(palette.index(source)))
        # and close to the source: a 3-D gradient in 255 colours is off by about 5 levels on average
        assert np.abs(decoded.astype(int) - source[..., :3]).mean() < 8


def test_palette_never_uses_the_transparent_index():
    palette = Palette.from_samples([gradient(256, 256)])
    noise = np.random.default_rng(0).integers(0, 256, size=(256, 256, 4), dtype=np.uint8)
    assert palette.index(noise).max() < TRANSPARENT_INDEX
    assert palette.index(gradient(256, 256)).max() < TRANSPARENT_INDEX


def test_gif_frames_after_the_first_are_transparent_patches_over_what_moved(tmp_path):
    def square_only(step):
        frame = BACKGROUND.copy()
        x, y = square_corner(step)
        frame[y : y + SQUARE, x : x + SQUARE, :3] = (250, 30, 30)
        return frame

    steps = [0, 1, 2, 2, 3]  # the fourth frame repeats the third
    path = tmp_path / "race.gif"
    write_gif(make_animation(steps, draw=square_only), path, no_progress)
    controls, rectangles = gif_blocks(path.read_bytes())
    assert all(c["disposal"] == 1 and c["transparent"] == 1 and c["index"] == TRANSPARENT_INDEX for c in controls)
    assert rectangles[0] == (0, 0, WIDTH, HEIGHT)
    assert rectangles[3][2:] == (1, 1)  # nothing changed: a single transparent pixel
    for k in (1, 2, 4):
        (x0, y0), (x1, y1) = square_corner(steps[k - 1]), square_corner(steps[k])
        left, top, width, height = rectangles[k]
        assert min(x0, x1) <= left and left + width <= max(x0, x1) + SQUARE
        assert min(y0, y1) <= top and top + height <= max(y0, y1) + SQUARE


def test_gif_is_byte_identical_when_written_twice(tmp_path):
    animation = make_animation(range(0, 30, 2), fps=30.0)
    write_gif(animation, tmp_path / "a.gif", no_progress)
    write_gif(animation, tmp_path / "b.gif", no_progress)
    assert (tmp_path / "a.gif").read_bytes() == (tmp_path / "b.gif").read_bytes()


def moving_bar(step: int, background: np.ndarray = gradient(400, 300)) -> np.ndarray:
    frame = background.copy()
    frame[:, 3 * step : 3 * step + 4, :3] = 0
    return frame


FRAME_BYTES = 400 * 300 * 4


def peak_memory(work) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# The test frames are a smooth gradient in which every pixel has its own colour, the worst case for choosing and
# applying a palette: that costs a fixed few MB. What must not happen is memory growing with the frame count.
def test_drawing_side_memory_does_not_grow_with_the_frame_count(tmp_path):
    def peak(frames: int) -> int:
        animation = make_animation(range(frames), draw=moving_bar, size=(400, 300))
        return peak_memory(lambda: write_gif(animation, tmp_path / f"{frames}.gif", no_progress))

    short, long = peak(20), peak(100)
    assert long - short < 2 * FRAME_BYTES
    assert long < 100 * FRAME_BYTES / 2  # all 100 frames would be 100 * FRAME_BYTES


class LazyStream(io.RawIOBase):
    """Bytes made on demand from an iterator of chunks, as a pipe delivers them."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._current = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._current:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._current = memoryview(chunk)
        size = min(len(buffer), len(self._current))
        buffer[:size] = self._current[:size]
        self._current = self._current[size:]
        return size


def helper_input(frames: int, size=(400, 300), draw=moving_bar) -> Iterator[bytes]:
    palette = Palette.from_samples([draw(0), draw(frames - 1)])
    yield HEADER.pack(*size, frames) + palette.rgb + struct.pack(f"<{frames}H", *[4] * frames)
    for step in range(frames):
        yield draw(step).tobytes()


def test_writing_side_memory_does_not_grow_with_the_frame_count(tmp_path):
    def peak(frames: int) -> int:
        return peak_memory(lambda: serve(io.BufferedReader(LazyStream(helper_input(frames))), tmp_path / f"{frames}.gif"))

    short, long = peak(20), peak(100)
    assert long - short < 2 * FRAME_BYTES
    assert long < 100 * FRAME_BYTES / 2
    assert gif_frames(tmp_path / "100.gif")[0][-1].shape == (300, 400, 3)


def test_writing_side_refuses_input_that_ends_early(tmp_path):
    chunks = list(helper_input(5))
    with pytest.raises(EOFError):
        serve(io.BufferedReader(LazyStream(iter(chunks[:-1]))), tmp_path / "a.gif")


def test_gif_that_the_writer_cannot_create_is_an_output_error_with_its_message(tmp_path):
    with pytest.raises(OutputError, match="GIF writer.*No such file"):
        write_gif(make_animation(range(5)), tmp_path / "missing-folder" / "a.gif", no_progress)


def assert_no_helper_process_left() -> None:
    if os.name == "posix":
        with pytest.raises(ChildProcessError):  # no child at all: the helper was killed and reaped
            os.waitpid(-1, os.WNOHANG)


ENCODERS = {"gif": write_gif, "mp4": write_mp4, "html": write_html}


@pytest.mark.parametrize("fmt", ENCODERS)
@pytest.mark.parametrize("interruption", [RuntimeError("stop"), KeyboardInterrupt()])
def test_error_in_the_frame_loop_propagates_and_stops_the_helper(tmp_path, fmt, interruption):
    def progress(done, total):
        if done == 3:
            raise interruption

    with pytest.raises(type(interruption)):
        ENCODERS[fmt](make_animation(range(20)), tmp_path / f"a.{fmt}", progress)
    assert_no_helper_process_left()


@pytest.mark.parametrize("fmt", ENCODERS)
def test_a_frame_of_the_wrong_size_is_refused_before_it_garbles_the_file(tmp_path, fmt):
    def wrong_size_at_step_6(step):
        return gradient(WIDTH + 10, HEIGHT) if step == 6 else draw(step)

    with pytest.raises(ValueError, match="step 6"):
        ENCODERS[fmt](make_animation(range(12), draw=wrong_size_at_step_6), tmp_path / f"a.{fmt}", no_progress)
    assert_no_helper_process_left()


# ------------------------------------------------------------------------------------------------ MP4


def mp4_meta(path: Path) -> dict:
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    first = np.frombuffer(next(reader), dtype=np.uint8).reshape(meta["size"][1], meta["size"][0], 3)
    reader.close()
    return {**meta, "first": first}


def test_mp4_reads_back_as_h264_yuv420p_with_the_hold_frames(tmp_path):
    path = tmp_path / "race.mp4"
    write_mp4(make_animation(range(0, 40, 2), fps=25.0, hold=0.4), path, no_progress)
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    assert frames == 20 + 10  # 0.4 s of hold at 25 fps
    assert seconds == pytest.approx(30 / 25)
    meta = mp4_meta(path)
    assert meta["codec"] == "h264"
    assert meta["pix_fmt"].startswith("yuv420p")
    assert meta["size"] == (WIDTH, HEIGHT)
    assert meta["fps"] == pytest.approx(25.0)
    assert np.abs(meta["first"].astype(int) - draw(0)[..., :3]).mean() < 4  # colours survive the trip


def test_mp4_is_byte_identical_when_written_twice(tmp_path):
    animation = make_animation(range(0, 30, 2), fps=30.0, hold=0.2)
    write_mp4(animation, tmp_path / "a.mp4", no_progress)
    write_mp4(animation, tmp_path / "b.mp4", no_progress)
    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes()


def test_mp4_without_ffmpeg_is_an_output_error(tmp_path, monkeypatch):
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(tmp_path / "no-such-ffmpeg"))
    with pytest.raises(OutputError, match="ffmpeg"):
        write_mp4(make_animation(range(5)), tmp_path / "a.mp4", no_progress)


def test_mp4_that_ffmpeg_cannot_write_is_an_output_error_with_its_message(tmp_path):
    with pytest.raises(OutputError, match="ffmpeg"):
        write_mp4(make_animation(range(5)), tmp_path / "missing-folder" / "a.mp4", no_progress)


def test_every_animation_format_has_an_encoder():
    from optviz.render.spec import ANIMATION_FORMATS

    assert sorted(encoders()) == sorted(ANIMATION_FORMATS) == sorted(ENCODERS)


def test_a_signal_while_the_helper_starts_waits_until_it_can_be_killed(tmp_path, monkeypatch):
    """Ctrl-C arriving while the helper process starts is delivered once the helper is known, which is then killed
    and waited for: no helper is left running to write into a file the caller has removed."""
    import signal
    import subprocess
    import sys

    from optviz.render.encoders import pipe

    started = []
    real_popen = subprocess.Popen

    def popen_interrupted(*args, **kwargs):
        process = real_popen(*args, **kwargs)
        started.append(process)
        os.kill(os.getpid(), signal.SIGINT)  # arrives mid-start
        return process

    monkeypatch.setattr(pipe.subprocess, "Popen", popen_interrupted)
    with pytest.raises(KeyboardInterrupt):
        with pipe.helper_process([sys.executable, "-c", "import time; time.sleep(30)"], "a sleeper"):
            pytest.fail("the interrupt must come before the body")
    (process,) = started
    assert process.poll() is not None  # killed and reaped
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
