"""Render a computed race into a file: a GIF or MP4 animation, an HTML page that plays it, or a PNG, SVG or PDF
still of the last step.

    render_race(race, RenderSpec(Path("race.gif"), fps=30))

The file appears complete or not at all (`atomic_output`). matplotlib, Pillow and ffmpeg are imported only when
`render_race` runs, so importing this package (the CLI does, for `--help`) stays fast. A render never depends on
the user's matplotlibrc or style: it runs under matplotlib's own defaults (`text.usetex: True` in a user's rc
file would otherwise make every title a LaTeX run), and the user's settings are back in place afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from optviz.errors import OptvizError, OutputError
from optviz.render.atomic import atomic_output
from optviz.render.spec import RenderSpec, validate_render_spec

if TYPE_CHECKING:
    from optviz.racing import Race

__all__ = ["RenderSpec", "render_race", "scene_for", "validate_render_spec"]


def scene_for(race: Race, *, size: tuple[int, int], theme: str = "light", title: str | None = None):
    """The view that draws `race`, by its function's number of coordinates: the curve f(x) with the position chart
    (`CurveScene`) in 1-D, the landscape with its trails (`RaceScene`) in 2-D. Both have the same protocol:
    `render(step)` -> RGBA frame, `save_still(path, step)`, `close()`."""
    from optviz.render.curve import CurveScene
    from optviz.render.scene import RaceScene

    scenes = {1: CurveScene, 2: RaceScene}
    return scenes[race.function.dimensions](race, size=size, theme=theme, title=title)


def render_race(race: Race, spec: RenderSpec, progress: Callable[[int, int], None] | None = None) -> Path:
    """Write `race` to `spec.out` and return that path; `progress(done, total)` is called after every frame."""
    validate_render_spec(spec)
    out = Path(spec.out)
    try:
        with matplotlib_defaults():
            _render(race, spec, out, progress or _ignore_progress)
    except OptvizError:
        raise
    except Exception as error:  # a failed write can surface as a library's own error (zlib's, in the PDF writer)
        cause = _os_error_in(error)
        if cause is None:
            raise
        raise OutputError(f"cannot write '{out}': {cause.strerror or cause}") from error
    return out


def _render(race: Race, spec: RenderSpec, out: Path, report: Callable[[int, int], None]) -> None:
    from optviz.render.encoders import Animation, encoders
    from optviz.render.html import race_page
    from optviz.render.schedule import frame_schedule

    scene = scene_for(race, size=spec.frame_size, theme=spec.theme, title=spec.title)
    try:
        with atomic_output(out) as temporary:
            if spec.is_animation:
                steps = frame_schedule(race.steps, spec.frames)
                # a page is stepped through frame by frame, so its numbers are fresh on every frame
                paced = None if spec.format == "html" else spec.fps
                animation = Animation(scene.frame_drawer(steps, paced), steps, spec.frame_size, spec.fps,
                                      spec.hold, page=race_page(race, spec.theme, spec.title))
                encoders()[spec.format](animation, temporary, report)
            else:
                scene.save_still(temporary, race.steps)
                report(1, 1)
    finally:
        scene.close()


@contextlib.contextmanager
def matplotlib_defaults() -> Iterator[None]:
    """matplotlib's built-in style inside, whatever the user's matplotlibrc, MPLCONFIGDIR or style say."""
    import matplotlib
    import matplotlib.style

    with matplotlib.rc_context():
        matplotlib.style.use("default")  # rcdefaults() without touching the backend
        yield


def _os_error_in(error: BaseException) -> OSError | None:
    """The OSError that `error` is, or that it was raised while handling (`__cause__` / `__context__`)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, OSError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _ignore_progress(done: int, total: int) -> None:
    """The default progress callback."""
