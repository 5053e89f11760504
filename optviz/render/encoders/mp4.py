"""H.264 MP4 through ffmpeg (the binary that imageio-ffmpeg ships), frames streamed over a pipe.

The file plays in browsers, PowerPoint, Keynote and QuickTime: H.264 (libx264), yuv420p (so both sides must be
even; `RenderSpec.frame_size` rounds them up), BT.709 colour tags, and the index at the front (`+faststart`) so it
starts playing before it has fully loaded. ffmpeg repeats the last frame for `hold` seconds (the `tpad` filter).

Reproducible: the same frames give the same bytes. x264 is deterministic for a fixed thread count, but its default
count follows the machine's cores, so it is pinned (`THREADS`); ffmpeg's version strings and metadata are left out
(`bitexact`).

ffmpeg is run directly (`helper_process`) rather than through `imageio_ffmpeg.write_frames`, which ignores ffmpeg's
exit status: here a failed encode is an OutputError carrying ffmpeg's own message, and an interrupted one kills
ffmpeg at once.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path


from optviz.errors import OutputError
from optviz.render.encoders import Animation, Progress
from optviz.render.encoders.pipe import helper_process

PRESET = "veryfast"  # x264 speed/size trade-off: about half the CPU time of "medium" for plot-like frames
CRF = 20  # constant quality; 0 is lossless, 23 is x264's default, lower is better
THREADS = 2
# No B-frames and a 5-frame rate-control lookahead (x264 veryfast: 3 and 10) keep ffmpeg at about 75 MB instead of
# 115-125 MB at 800x600, below the Python process drawing the frames; measured on the benchmark race, the file is
# 14% larger (186 KB instead of 163 KB) at 0.35 dB lower PSNR (39.4 dB).
X264_PARAMS = "bframes=0:rc-lookahead=5"


def write_mp4(animation: Animation, path: Path, progress: Progress, keyframe_interval: int | None = None) -> None:
    """Draw every frame of `animation` and encode it as an H.264 MP4 at `path`, with a keyframe at least every
    `keyframe_interval` frames when given (x264's default is 250; a player seeks from the keyframe before)."""
    with helper_process(_command(animation, path, keyframe_interval), "ffmpeg") as send:
        for done, step in enumerate(animation.steps, start=1):
            send(memoryview(animation.frame(step)).cast("B"))
            progress(done, animation.frame_count)


def ffmpeg_executable() -> str:
    """The ffmpeg binary from imageio-ffmpeg (or IMAGEIO_FFMPEG_EXE); OutputError if there is none."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as error:
        raise OutputError(
            "writing MP4 needs ffmpeg: pip install imageio-ffmpeg, or set IMAGEIO_FFMPEG_EXE to an ffmpeg binary"
        ) from error


def _command(animation: Animation, path: Path, keyframe_interval: int | None) -> list[str]:
    width, height = animation.size
    x264_params = X264_PARAMS + (f":keyint={keyframe_interval}" if keyframe_interval else "")
    rate = str(Fraction(animation.fps).limit_denominator(1001))
    return [
        ffmpeg_executable(), "-hide_banner", "-loglevel", "error",
        "-f", "rawvideo", "-pix_fmt", "rgba", "-video_size", f"{width}x{height}", "-framerate", rate, "-i", "pipe:0",
        "-an", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
        "-vf", f"tpad=stop_mode=clone:stop={round(animation.hold * animation.fps)},"  # the hold: repeat the last frame
               "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
               "setparams=colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv",
        "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF), "-threads", str(THREADS), "-x264-params", x264_params,
        "-movflags", "+faststart", "-y", str(path),
    ]  # fmt: skip
