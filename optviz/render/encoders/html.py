"""A self-contained HTML page: the race as an H.264 MP4 (`write_mp4`) inside a page that plays and steps it.

The MP4 is encoded into a temporary folder, read back and embedded as a data URI with the last frame as a PNG
poster; the page text comes from `optviz.render.html`. Same frames, same bytes: the MP4 is reproducible, PNG
compression is deterministic, and the page holds no date or random id. The caller's `path` is already a
temporary file (`atomic_output`), so a half-written page never appears.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from optviz.render.encoders import Animation, Progress
from optviz.render.encoders.mp4 import write_mp4
from optviz.render.html import race_page_html

# A keyframe every 50 frames: stepping seeks from the keyframe before, and with x264's default of 250 one step
# back near frame 245 of a 1280x720 race took about 0.4 s in headless Chromium; at 50 it is at most about a
# fifth of that, for a file about twice as large (232 KB -> 503 KB for the 300-frame benchmark race).
KEYFRAME_INTERVAL = 50


def write_html(animation: Animation, path: Path, progress: Progress) -> None:
    """Draw every frame of `animation` into an MP4 and write the page around it at `path`."""
    from PIL import Image

    with tempfile.TemporaryDirectory(prefix="optviz-") as folder:
        video = Path(folder) / "race.mp4"
        write_mp4(animation, video, progress, keyframe_interval=KEYFRAME_INTERVAL)
        data = video.read_bytes()
    poster = io.BytesIO()
    Image.fromarray(animation.frame(animation.steps[-1])[:, :, :3]).save(poster, format="PNG", optimize=True)
    page = race_page_html(animation.page, data, poster.getvalue(), [int(s) for s in animation.steps],
                          animation.fps, animation.size)
    path.write_text(page, encoding="utf-8")
