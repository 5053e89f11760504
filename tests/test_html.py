"""The HTML page (`-o race.html`) and the notebook snippet: structure parsed with html.parser, the embedded data
decoded and checked against the race (frame count, size, the poster against the scene's own last frame), the
results table against `race_document`, reproducible bytes, nothing from the network, no temporary file left.

The page's script is not run here (CI has no browser); that its stepping lands on exact frames was checked in
headless Chromium (docs/html.md)."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import tempfile
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from optviz.errors import UsageError
from optviz.functions import FUNCTIONS
from optviz.render import RenderSpec, render_race
from optviz.render.labels import show_number
from optviz.render.html import LR_SOURCES, MISSING, notebook_html, race_page, results_table
from optviz.render.scene import RaceScene
from optviz.render.schedule import frame_schedule
from optviz.render.theme import THEMES
from optviz.racing import resolve_runs, run_race
from optviz.specs import parse_optimizer_list
from optviz.stats import race_document

SIZE = (320, 240)
STEPS = 20
FRAMES = 9


def make_race(optimizers: str, starts=((-1.5, 2.0),)):
    specs = resolve_runs(parse_optimizer_list(optimizers))
    return run_race(FUNCTIONS.get("rosenbrock"), specs, list(starts), STEPS, tune=False)


@pytest.fixture(scope="module")
def race():
    return make_race("adam(lr=0.05),sgd(lr=1e-3),sgd(lr=0.1)")  # the last one diverges


@pytest.fixture(scope="module")
def two_starts():
    return make_race("adam(lr=0.05),sgd(lr=1e-3)", starts=((-1.5, 2.0), (1.5, -0.5)))


def spec_for(folder: Path, **changes) -> RenderSpec:
    return replace(RenderSpec(folder / "race.html", frames=FRAMES, fps=25.0, hold=0.4, size=SIZE), **changes)


class Page(HTMLParser):
    """Every start tag with its attributes, the text inside each <script>, and the table as rows of cell texts."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.rows: list[list[str]] = []
        self.title = ""
        self._open: str | None = None
        self._text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "td", "th", "title"):
            self._open, self._text = tag, []
        if tag == "tr":
            self.rows.append([])

    def handle_data(self, data):
        if self._open:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag != self._open:
            return
        text = "".join(self._text)
        if tag == "script":
            self.scripts.append((self.tags[-1][1] if self.tags[-1][0] == "script" else {}, text))
        elif tag == "title":
            self.title = text
        else:
            self.rows[-1].append(text.strip())
        self._open = None

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]

    def by_id(self, element_id: str) -> tuple[str, dict[str, str | None]]:
        found = [(name, attrs) for name, attrs in self.tags if attrs.get("id") == element_id]
        assert len(found) == 1, element_id
        return found[0]


def decode(uri: str, mime: str) -> bytes:
    prefix = f"data:{mime};base64,"
    assert uri.startswith(prefix)
    return base64.b64decode(uri[len(prefix):], validate=True)


def mp4_frames(data: bytes, folder: Path) -> tuple[int, tuple[int, int], str]:
    path = folder / "embedded.mp4"
    path.write_bytes(data)
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    reader.close()
    return imageio_ffmpeg.count_frames_and_secs(str(path))[0], tuple(meta["size"]), meta["codec"]


@pytest.fixture(scope="module")
def page(race, tmp_path_factory):
    folder = tmp_path_factory.mktemp("page")
    spec = spec_for(folder)
    text = render_race(race, spec).read_text(encoding="utf-8")
    return spec, text, Page(text)


# ------------------------------------------------------------------------------------------------ the page


def test_page_has_one_video_carrying_an_mp4_data_uri_with_every_frame(page, race, tmp_path):
    spec, _, parsed = page
    (video,) = parsed.all("video")
    frames, size, codec = mp4_frames(decode(video["src"], "video/mp4"), tmp_path)
    assert frames == len(frame_schedule(race.steps, FRAMES)) + round(spec.hold * spec.fps)  # the hold is frames
    assert size == SIZE and codec == "h264"
    assert parsed.all("img") == []


def test_poster_is_the_last_frame_exactly(page, race):
    spec, _, parsed = page
    (video,) = parsed.all("video")
    with Image.open(io.BytesIO(decode(video["poster"], "image/png"))) as image:
        poster = np.asarray(image.convert("RGB"))
    with RaceScene(race, size=SIZE, theme=spec.theme) as scene:
        last = scene.render(race.steps)[:, :, :3]
    assert np.array_equal(poster, last)


def test_page_has_the_controls_its_script_drives(page, race):
    _, _, parsed = page
    assert parsed.by_id("race")[0] == "video"
    assert [parsed.by_id(name)[0] for name in ("back", "play", "forward")] == ["button"] * 3
    scrub = parsed.by_id("scrub")
    assert scrub[0] == "input" and scrub[1]["type"] == "range"
    assert (scrub[1]["min"], scrub[1]["max"]) == ("0", str(FRAMES - 1))
    (player,) = [text for attrs, text in parsed.scripts if "type" not in attrs]
    used = set(re.findall(r'getElementById\("([^"]+)"\)', player))
    assert used == {"race", "scrub", "step", "play", "back", "forward", "race-data", "fallback"}
    for element_id in used:
        parsed.by_id(element_id)  # exactly one element each


def test_page_data_gives_the_step_of_every_frame(page, race):
    spec, _, parsed = page
    (data,) = [text for attrs, text in parsed.scripts if attrs.get("type") == "application/json"]
    assert json.loads(data) == {"fps": spec.fps, "steps": race.steps,
                                "frames": frame_schedule(race.steps, FRAMES).tolist()}


def test_page_needs_nothing_from_the_network(page):
    _, text, parsed = page
    assert "http://" not in text and "https://" not in text and "//" not in re.sub(r"data:[^\"]*", "", text)
    assert all("src" not in attrs for attrs, _ in parsed.scripts)  # inline scripts only
    assert parsed.all("link") == [] and parsed.all("iframe") == [] and parsed.all("img") == []
    sources = [value for _, attrs in parsed.tags for key, value in attrs.items() if key in ("src", "poster", "href")]
    assert sources and all(value.startswith("data:") for value in sources)


def test_table_has_one_row_per_run_with_the_numbers_of_race_document(page, race):
    _, _, parsed = page
    head, *rows = parsed.rows
    assert head == ["run", "lr", "final loss", "distance to minimum", "converged at step", "diverged at step"]
    document = race_document(race)["runs"]
    assert len(rows) == len(race.runs) == len(document)
    for row, entry in zip(rows, document):
        assert row[0] == entry["label"]
        assert row[1] == f"{entry['params']['lr']:g} ({LR_SOURCES[entry['lr_source']]})"
        loss = entry["final"]["loss"]
        assert row[2] == (MISSING if loss is None else show_number(loss))
        assert row[5] == (MISSING if entry["diverged_step"] is None else str(entry["diverged_step"]))
    assert any(entry["diverged"] for entry in document) and row[5] != MISSING  # the diverging run shows its step


def test_a_narrow_window_scrolls_the_table_instead_of_wrapping_its_cells(page, race):
    _, text, parsed = page
    assert re.search(r"th, td \{[^}]*white-space: nowrap", text)
    assert re.search(r"\.results \{[^}]*overflow-x: auto", text)
    assert '<div class="results"><table>' in text
    snippet = notebook_html(race, size=SIZE, frames=2)
    assert "overflow-x:auto" in snippet and snippet.count("white-space:nowrap") == len(Page(snippet).rows) * 6
    assert '<table style="border-collapse:collapse">' in snippet  # one rule under each row, not one per cell


def test_a_race_from_two_starts_has_a_row_per_run_and_start(two_starts, tmp_path):
    parsed = Page(render_race(two_starts, spec_for(tmp_path, frames=3)).read_text(encoding="utf-8"))
    head, *rows = parsed.rows
    assert head[1] == "start"
    assert [row[:2] for row in rows] == [[run.label, f"({x:g}, {y:g})"] for run in two_starts.runs
                                         for x, y in two_starts.starts]


@pytest.mark.parametrize("theme", THEMES.names())
def test_page_takes_the_theme_colours(race, tmp_path, theme):
    text = render_race(race, spec_for(tmp_path, theme=theme, frames=3)).read_text(encoding="utf-8")
    chosen = THEMES.get(theme)
    body = re.search(r"body \{[^}]*\}", text).group(0)
    assert f"background: {chosen.background}" in body and f"color: {chosen.text}" in body
    assert race_page(race, theme, None)["rows"][0]["colour"] == chosen.palette[0]


def test_title_is_escaped(race, tmp_path):
    title = "<b>adam & sgd</b>"
    text = render_race(race, spec_for(tmp_path, title=title, frames=3)).read_text(encoding="utf-8")
    assert "<b>" not in text and Page(text).title == title


def test_page_is_byte_identical_when_rendered_twice(race, tmp_path):
    first = render_race(race, spec_for(tmp_path, out=tmp_path / "a.html"))
    second = render_race(race, spec_for(tmp_path, out=tmp_path / "b.html"))
    assert first.read_bytes() == second.read_bytes()


def test_odd_sides_are_rounded_up_to_even_for_the_h264_inside(race, tmp_path):
    spec = spec_for(tmp_path, size=(321, 241), frames=3, hold=0.0)
    assert spec.frame_size == (322, 242)
    (video,) = Page(render_race(race, spec).read_text(encoding="utf-8")).all("video")
    assert mp4_frames(decode(video["src"], "video/mp4"), tmp_path)[1] == (322, 242)
    assert (video["width"], video["height"]) == ("322", "242")


def test_results_table_shows_missing_numbers_as_a_dash():
    row = {"label": "sgd", "colour": "#000000", "start": None, "lr": None, "lr_source": "default",
           "final_loss": None, "distance_to_minimum": None, "converged_step": None, "diverged_step": 3}
    parsed = Page(results_table([row]))
    assert parsed.rows[1] == ["sgd", f"{MISSING} (torch default)", MISSING, MISSING, MISSING, "3"]


# ------------------------------------------------------------------------------------------------ notebooks


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """tempfile's folder, watched: whatever notebook_html leaves behind shows up here."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_notebook_snippet_is_a_gif_and_the_table_and_leaves_no_file(race, private_tmp):
    snippet = notebook_html(race, size=SIZE, frames=FRAMES)
    parsed = Page(snippet)
    (image,) = parsed.all("img")
    with Image.open(io.BytesIO(decode(image["src"], "image/gif"))) as gif:
        assert (gif.n_frames, gif.size, gif.info["loop"]) == (FRAMES, SIZE, 0)
    assert len(parsed.rows) == 1 + len(race.runs)
    assert parsed.all("script") == [] and parsed.all("style") == [] and parsed.all("video") == []
    assert "http://" not in snippet and "https://" not in snippet
    assert snippet.isascii()  # the table's dashes and the title's superscripts as character references
    assert list(private_tmp.iterdir()) == []


def test_notebook_snippet_defaults_to_a_notebook_column(race, private_tmp):
    (image,) = Page(notebook_html(race, frames=2)).all("img")
    assert (image["width"], image["height"]) == ("960", "540")


def test_notebook_snippet_takes_the_size_as_text_like_save(race, private_tmp):
    (image,) = Page(notebook_html(race, size="352x264", frames=2)).all("img")
    assert (image["width"], image["height"]) == ("352", "264")


def test_notebook_snippet_as_mp4_is_a_looping_muted_video(race, private_tmp, tmp_path):
    (video,) = Page(notebook_html(race, format="mp4", size=SIZE, frames=FRAMES, hold=0.0)).all("video")
    assert {"autoplay", "loop", "muted", "controls"} <= set(video)
    assert mp4_frames(decode(video["src"], "video/mp4"), tmp_path)[:2] == (FRAMES, SIZE)
    assert list(private_tmp.iterdir()) == []


@pytest.mark.parametrize(("options", "parameter"), [({"format": "webm"}, "format"), ({"format": "png"}, "format"),
                                                    ({"out": Path("x.gif")}, "out"), ({"fps": 0}, "fps"),
                                                    ({"size": "tiny"}, "size"), ({"bogus": 1}, "bogus")])
def test_notebook_snippet_refuses_bad_options(race, private_tmp, options, parameter):
    with pytest.raises(UsageError) as caught:
        notebook_html(race, **{"size": SIZE, **options})
    assert caught.value.parameter == parameter
    assert list(private_tmp.iterdir()) == []


def test_encoder_without_page_data_writes_a_page_without_a_table(tmp_path):
    from optviz.render.encoders import Animation
    from optviz.render.encoders.html import write_html

    def draw(step):
        frame = np.zeros((SIZE[1], SIZE[0], 4), dtype=np.uint8)
        frame[..., 0], frame[..., 3] = 10 * step, 255
        return frame

    done = []
    write_html(Animation(draw, np.arange(6), SIZE, 10.0, 0.0), tmp_path / "a.html", lambda k, n: done.append((k, n)))
    parsed = Page((tmp_path / "a.html").read_text(encoding="utf-8"))
    assert parsed.rows == [] and parsed.title == "optviz race"
    (video,) = parsed.all("video")
    assert mp4_frames(decode(video["src"], "video/mp4"), tmp_path)[:2] == (6, SIZE)
    assert done == [(k, 6) for k in range(1, 7)]


def test_embedded_mp4_has_a_keyframe_every_keyframe_interval_frames(tmp_path):
    """Stepping seeks from the keyframe before; x264's default (250 frames apart) made a step take 0.4 s."""
    from optviz.render.encoders import Animation
    from optviz.render.encoders.html import KEYFRAME_INTERVAL, write_html
    from optviz.render.encoders.mp4 import ffmpeg_executable

    def draw(step):
        rng = np.random.default_rng(step)  # unrelated frames would get a keyframe each; similar ones must not
        frame = np.full((SIZE[1], SIZE[0], 4), 255, dtype=np.uint8)
        frame[:40, :40, :3] = rng.integers(0, 255, 3, dtype=np.uint8)
        return frame

    frames = 3 * KEYFRAME_INTERVAL + 7
    write_html(Animation(draw, np.arange(frames), SIZE, 25.0, 0.0), tmp_path / "a.html", lambda k, n: None)
    (video,) = Page((tmp_path / "a.html").read_text(encoding="utf-8")).all("video")
    (tmp_path / "a.mp4").write_bytes(decode(video["src"], "video/mp4"))
    log = subprocess.run([ffmpeg_executable(), "-hide_banner", "-i", str(tmp_path / "a.mp4"), "-vf", "showinfo",
                          "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    types = re.findall(r"n:\s*(\d+).*? type:([IPB])", log)
    assert len(types) == frames
    keyframes = [int(n) for n, kind in types if kind == "I"]
    assert keyframes[0] == 0 and max(np.diff(keyframes + [frames])) <= KEYFRAME_INTERVAL
