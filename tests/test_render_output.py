"""render_race end to end: every format written and re-read, reproducible bytes, atomic files, spec validation,
and import hygiene. Round trips use the real RaceScene on a small race; the atomicity tests use a stand-in scene,
since what they check (temporary files, the untouched target) is the orchestration's job, not the picture's."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from optviz.errors import OutputError, UsageError
from optviz.functions import FUNCTIONS
from optviz.render import RenderSpec, render_race, validate_render_spec
from optviz.render.atomic import atomic_output
from optviz.render.schedule import frame_schedule
from optviz.racing import resolve_runs, run_race
from optviz.render.spec import ANIMATION_FORMATS, FORMATS
from optviz.specs import parse_optimizer_list

SIZE = (320, 240)
STEPS = 24


def umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@pytest.fixture(scope="module")
def race():
    specs = resolve_runs(parse_optimizer_list("adam(lr=0.05),sgd(lr=1e-3)"))
    return run_race(FUNCTIONS.get("rosenbrock"), specs, [(-1.5, 2.0)], STEPS, tune=False)


def spec_for(folder: Path, fmt: str, **changes) -> RenderSpec:
    return replace(RenderSpec(folder / f"race.{fmt}", fps=25.0, hold=0.4, size=SIZE), **changes)


# ------------------------------------------------------------------------------------------------ round trips


def read_gif(path: Path) -> dict:
    with Image.open(path) as image:
        durations = []
        for index in range(image.n_frames):
            image.seek(index)
            durations.append(image.info["duration"])
        return {"frames": image.n_frames, "size": image.size, "durations": durations, "loop": image.info["loop"]}


def read_mp4(path: Path) -> dict:
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    reader.close()
    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    return {"frames": frames, "size": meta["size"], "codec": meta["codec"], "pix_fmt": meta["pix_fmt"]}


def check_gif(path: Path, spec: RenderSpec, race) -> None:
    gif = read_gif(path)
    scheduled = len(frame_schedule(race.steps, spec.frames))
    assert gif["frames"] == scheduled
    assert gif["size"] == spec.size
    assert gif["loop"] == 0
    frame_ms = 1000 / spec.fps  # 40 ms at 25 fps, a whole number of centiseconds
    assert gif["durations"] == [frame_ms] * (scheduled - 1) + [frame_ms + 1000 * spec.hold]


def check_mp4(path: Path, spec: RenderSpec, race) -> None:
    mp4 = read_mp4(path)
    assert mp4["frames"] == len(frame_schedule(race.steps, spec.frames)) + round(spec.hold * spec.fps)
    assert mp4["size"] == spec.size
    assert mp4["codec"] == "h264"
    assert mp4["pix_fmt"].startswith("yuv420p")


def check_png(path: Path, spec: RenderSpec, race) -> None:
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == spec.size


def check_svg(path: Path, spec: RenderSpec, race) -> None:
    assert ElementTree.parse(path).getroot().tag == "{http://www.w3.org/2000/svg}svg"


def check_pdf(path: Path, spec: RenderSpec, race) -> None:
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    assert b"%%EOF" in data[-64:]


def check_html(path: Path, spec: RenderSpec, race) -> None:  # the page's structure is tests/test_html.py's
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


CHECKS = {"gif": check_gif, "mp4": check_mp4, "html": check_html, "png": check_png, "svg": check_svg,
          "pdf": check_pdf}


def test_every_format_has_a_check():
    assert sorted(CHECKS) == sorted(FORMATS)


@pytest.mark.parametrize("fmt", FORMATS)
def test_render_race_writes_a_file_that_reads_back(tmp_path, race, fmt):
    spec = spec_for(tmp_path, fmt, frames=13)
    calls = []
    written = render_race(race, spec, progress=lambda done, total: calls.append((done, total)))
    assert written == spec.out
    CHECKS[fmt](written, spec, race)
    assert [path.name for path in tmp_path.iterdir()] == [spec.out.name]  # no temporary left behind
    assert written.stat().st_mode & 0o777 == 0o666 & ~umask()
    total = 13 if fmt in ANIMATION_FORMATS else 1
    assert calls == [(done, total) for done in range(1, total + 1)]


@pytest.mark.parametrize("fmt", ANIMATION_FORMATS)
def test_animations_are_byte_identical_when_rendered_twice(tmp_path, race, fmt):
    first = render_race(race, spec_for(tmp_path, fmt, out=tmp_path / f"a.{fmt}", frames=10))
    second = render_race(race, spec_for(tmp_path, fmt, out=tmp_path / f"b.{fmt}", frames=10))
    assert first.read_bytes() == second.read_bytes()


def test_mp4_with_odd_sides_is_rounded_up_to_even(tmp_path, race):
    spec = spec_for(tmp_path, "mp4", size=(321, 241), frames=4, hold=0.0)
    assert spec.frame_size == (322, 242)
    assert read_mp4(render_race(race, spec))["size"] == (322, 242)


def test_gif_keeps_odd_sides(tmp_path):
    assert spec_for(tmp_path, "gif", size=(321, 241)).frame_size == (321, 241)


# ------------------------------------------------------------------------------------------------ atomic files


class StandInScene:
    """Moving RGBA frames without matplotlib: a bar sweeping across a flat background."""

    def __init__(self, race, size, theme="light", title=None):
        self._size = size

    def render(self, step: int) -> np.ndarray:
        width, height = self._size
        frame = np.full((height, width, 4), 255, dtype=np.uint8)
        frame[:, (7 * step) % width, :3] = 0
        return frame

    def frame_drawer(self, steps, fps):
        return self.render

    def save_still(self, path, step: int) -> None:
        Path(path).write_bytes(b"still")

    def close(self) -> None:
        pass


@pytest.fixture
def stand_in_scene(monkeypatch):
    monkeypatch.setattr("optviz.render.scene.RaceScene", StandInScene)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("interruption", [RuntimeError("boom"), KeyboardInterrupt(), SystemExit(3)])
@pytest.mark.parametrize("existing", [b"the previous race", None])
def test_interrupted_render_leaves_no_temporary_and_the_old_file_untouched(
    tmp_path, race, stand_in_scene, fmt, interruption, existing
):
    spec = spec_for(tmp_path, fmt, frames=10)
    if existing is not None:
        spec.out.write_bytes(existing)

    def progress(done, total):
        if done == min(3, total):
            raise interruption

    with pytest.raises(type(interruption)):
        render_race(race, spec, progress=progress)
    if existing is None:
        assert list(tmp_path.iterdir()) == []
    else:
        assert [path.name for path in tmp_path.iterdir()] == [spec.out.name]
        assert spec.out.read_bytes() == existing


def test_suffix_is_case_insensitive(tmp_path, race, stand_in_scene):
    spec = RenderSpec(tmp_path / "RACE.GIF", frames=5, fps=25.0, hold=0.0, size=SIZE)
    check_gif(render_race(race, spec), spec, race)


def test_completed_render_replaces_the_old_file(tmp_path, race, stand_in_scene):
    spec = spec_for(tmp_path, "png")
    spec.out.write_bytes(b"the previous race")
    render_race(race, spec)
    assert spec.out.read_bytes() == b"still"


def test_an_os_error_while_writing_is_an_output_error_naming_the_file(tmp_path, race, monkeypatch):
    class FullDisk(StandInScene):
        def save_still(self, path, step):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr("optviz.render.scene.RaceScene", FullDisk)
    spec = spec_for(tmp_path, "png")
    with pytest.raises(OutputError, match=r"race\.png.*No space left"):
        render_race(race, spec)
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_uses_a_hidden_sibling_with_the_same_suffix(tmp_path):
    target = tmp_path / "race.gif"
    with atomic_output(target) as temporary:
        assert temporary.parent == tmp_path
        assert temporary.name.startswith(".race.gif.") and temporary.suffix == ".gif"
        assert temporary.exists() and not target.exists()
        temporary.write_bytes(b"GIF89a")
    assert target.read_bytes() == b"GIF89a"
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask()
    assert [path.name for path in tmp_path.iterdir()] == ["race.gif"]


def test_atomic_output_into_a_missing_folder_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match="missing"):
        with atomic_output(tmp_path / "missing" / "race.gif"):
            pass


# ------------------------------------------------------------------------------------------------ validation


BAD_SPECS = [
    # (changes to a good spec, words the message must contain)
    ({"out": Path("race.txt")}, [".txt", ".gif", ".mp4", ".png", ".svg", ".pdf"]),
    ({"out": Path("race")}, ["no extension", ".gif"]),
    ({"fps": 0.0}, ["fps: ", "0"]),
    ({"fps": -5.0}, ["fps: ", "-5"]),
    ({"fps": math.nan}, ["fps: ", "nan"]),
    ({"fps": 121.0, "out": Path("race.mp4")}, ["fps: ", "121", "120"]),
    ({"fps": 60.0}, ["fps: ", "60", "50", "GIF"]),
    ({"fps": 0.09}, ["fps: ", "0.09", "0.1"]),
    ({"fps": 0.05, "out": Path("race.mp4")}, ["fps: ", "0.05", "0.1", "120"]),
    ({"hold": -0.5}, ["hold: ", "-0.5", "60"]),
    ({"hold": 61.0}, ["hold: ", "61", "60"]),
    ({"size": (319, 600)}, ["size: ", "width", "319", "320"]),
    ({"size": (800, 239)}, ["size: ", "height", "239", "240"]),
    ({"size": (7681, 600)}, ["size: ", "width", "7681", "7680"]),
    ({"size": (7680, 7680)}, ["size: ", "7680x7680", "pixels"]),
    ({"frames": 1}, ["frames: ", "1", "2..10000"]),
    ({"frames": 10_001}, ["frames: ", "10001"]),
    ({"theme": "sepia"}, ["theme: ", "sepia", "light", "dark"]),
]


@pytest.mark.parametrize(("changes", "words"), BAD_SPECS)
def test_validate_render_spec_names_the_bad_value(tmp_path, changes, words):
    if "out" in changes:
        changes = {**changes, "out": tmp_path / changes["out"]}
    with pytest.raises(UsageError) as raised:
        validate_render_spec(replace(RenderSpec(tmp_path / "race.gif"), **changes))
    message = raised.value.cli_message()  # the CLI's wording: the parameter as its flag (`--fps: ...`)
    assert "\n" not in message
    for word in words:
        assert word in message


@pytest.mark.parametrize("changes", [
    {}, {"out": Path("RACE.Mp4"), "fps": 120.0}, {"fps": 50.0}, {"fps": 0.5}, {"fps": 0.1}, {"hold": 0.0},
    {"hold": 60.0}, {"out": Path("race.mp4"), "fps": 0.1},
    {"size": (320, 240)}, {"size": (7680, 4320)}, {"size": (4320, 7680)}, {"frames": 2}, {"frames": 10_000},
    {"theme": "dark"}, {"out": Path("still.svg")}, {"out": Path("still.pdf")}, {"out": Path("still.png")},
])
def test_validate_render_spec_accepts_the_limits(tmp_path, changes):
    if "out" in changes:
        changes = {**changes, "out": tmp_path / changes["out"]}
    validate_render_spec(replace(RenderSpec(tmp_path / "race.gif"), **changes))


def test_output_into_a_missing_folder_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        validate_render_spec(RenderSpec(tmp_path / "nowhere" / "race.gif"))


def test_output_that_is_a_folder_is_an_output_error(tmp_path):
    (tmp_path / "race.gif").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        validate_render_spec(RenderSpec(tmp_path / "race.gif"))


def read_only_folder(tmp_path: Path) -> Path:
    """A folder this process cannot write into: a 0o555 folder, or for root (who may write anywhere) /proc/self."""
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir(mode=0o555)
        return folder
    if not Path("/proc/self").is_dir():
        pytest.skip("root may write anywhere, and there is no /proc")
    return Path("/proc/self")


def test_output_into_a_read_only_folder_is_an_output_error(tmp_path):
    folder = read_only_folder(tmp_path)
    with pytest.raises(OutputError, match="not writable"):
        validate_render_spec(RenderSpec(folder / "race.gif"))


@pytest.mark.parametrize(("name", "fmt"), [("a.gif", "gif"), ("a.MP4", "mp4"), ("a.b.Png", "png"),
                                           ("a.svg", "svg"), ("a.PDF", "pdf"), ("a", "")])
def test_format_comes_from_the_suffix(name, fmt):
    assert RenderSpec(Path(name)).format == fmt


def test_every_accepted_format_has_a_writer_and_no_other_is_accepted(tmp_path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from optviz.render.encoders import encoders

    savefig_formats = set(FigureCanvasAgg(Figure()).get_supported_filetypes())
    for fmt in FORMATS:
        spec = RenderSpec(tmp_path / f"race.{fmt}")
        validate_render_spec(spec)
        assert spec.is_animation == (fmt in encoders())
        assert spec.is_animation or fmt in savefig_formats
    for fmt in sorted(savefig_formats - set(FORMATS)):  # matplotlib could, but optviz does not promise them
        with pytest.raises(UsageError, match="output format"):
            validate_render_spec(RenderSpec(tmp_path / f"race.{fmt}"))
    assert sorted(FORMATS) == ["gif", "html", "mp4", "pdf", "png", "svg"]  # the formats the docs list


# ------------------------------------------------------------------------------------------------ imports


def test_importing_render_and_spec_loads_no_drawing_or_video_library():
    code = (
        "import sys, optviz.render, optviz.render.spec, optviz.render.atomic\n"
        "heavy = [m for m in ('matplotlib', 'imageio', 'imageio_ffmpeg', 'PIL') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(root)})
    assert result.returncode == 0, result.stderr


def test_the_fps_floor_fits_gif_delays_and_gives_ffmpeg_a_frame_rate():
    from fractions import Fraction

    from optviz.render.encoders.gif import frame_delays
    from optviz.render.encoders.mp4 import _command
    from optviz.render.spec import MAX_FPS, MAX_HOLD_SECONDS, MIN_FPS

    assert max(frame_delays(5, MIN_FPS, MAX_HOLD_SECONDS)) <= 0xFFFF  # GIF's 16-bit centisecond field
    for fps in (MIN_FPS, 0.123, 29.97, MAX_FPS):
        animation = SimpleNamespace(size=(320, 240), fps=fps, hold=0.0)
        command = _command(animation, Path("race.mp4"), None)
        rate = Fraction(command[command.index("-framerate") + 1])
        assert rate > 0 and abs(rate - Fraction(fps)) / Fraction(fps) < 1e-3


@pytest.mark.parametrize("fmt, paced", [("gif", True), ("mp4", True), ("html", False)])
def test_films_refresh_their_numbers_at_a_readable_pace_and_pages_on_every_frame(race, tmp_path, monkeypatch,
                                                                               fmt, paced):
    asked = []

    class Recording(StandInScene):
        def frame_drawer(self, steps, fps):
            asked.append(fps)
            return self.render

    monkeypatch.setattr("optviz.render.scene.RaceScene", Recording)
    render_race(race, spec_for(tmp_path, fmt))
    assert asked == [25.0 if paced else None]
