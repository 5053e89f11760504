"""HTML for a race: the self-contained page (`-o race.html`), the notebook snippet, and the results table both show.

Everything is inline, so a page works offline and a notebook output needs no files: the animation is a data URI,
styles are attributes or one <style> block, the player is one <script> block. Nothing refers to the network.

The page (`race_page_html`) carries the race as an H.264 MP4 in a <video> that its script drives: play/pause,
step back and forward, a scrubber showing the step, keys (space = play/pause, arrows = one frame, Home/End).
Frame k lasts [k/fps, (k+1)/fps), so the script seeks to its middle, (k + 1/2)/fps, which no rounding of the
time can move into a neighbour; `#step=N` in the address opens the page paused on the last frame at or before
step N. Why an MP4 and not per-frame images: a 300-frame 1280x720 race is about 0.7 MB as H.264 (base64
included, a keyframe every 50 frames) but tens of MB as PNG frames; the MP4 is lossy (CRF 20, about 40 dB), the
stepping is exact. The poster is the last frame as PNG, so a browser without H.264 (VS Code's webview, some
Chromium builds) still shows the finished race and says why it cannot play.

The notebook snippet (`notebook_html`) is a looping GIF in an <img>: VS Code's notebooks cannot play H.264
(microsoft/vscode-jupyter#7422), and a GIF needs no script, which notebook front-ends may not run.
"""

from __future__ import annotations

import base64
import html
import json
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optviz.errors import UsageError
from optviz.render.labels import race_title, show_number
from optviz.specs import format_number
from optviz.render.theme import THEMES, Theme

if TYPE_CHECKING:
    from optviz.racing import Race

NOTEBOOK_SIZE = (960, 540)  # a notebook column; the 300-frame benchmark race is about 0.7 MB as a base64 GIF
NOTEBOOK_FORMATS = {"gif": "image/gif", "mp4": "video/mp4"}
LR_SOURCES = {"user": "given", "tuned": "tuned", "default": "torch default"}
MISSING = "–"


def race_page(race: Race, theme: str, title: str | None) -> dict[str, Any]:
    """What a page shows besides the frames: its title, the theme, and one results row per run and start.

    Rows come from `optviz.stats.race_document` (the same numbers `optviz stats` prints), plus the run's colour in
    the picture. Plain JSON-able data, so it can ride on an `Animation` into any encoder.
    """
    from optviz.render.artists import run_colour
    from optviz.stats import race_document

    chosen = THEMES.get(theme)
    document = race_document(race)
    starts = len(race.starts)
    rows = []
    for index, entry in enumerate(document["runs"]):
        run, start = divmod(index, starts)
        rows.append({
            "label": entry["label"],
            "colour": run_colour(chosen, run),
            "start": [float(v) for v in race.starts[start]] if starts > 1 else None,
            "lr": entry["params"].get("lr"),
            "lr_source": entry["lr_source"],
            "final_loss": entry["final"]["loss"],
            "distance_to_minimum": entry["distance_to_minimum"],
            "converged_step": entry["converged_step"],
            "diverged_step": entry["diverged_step"],
        })
    return {"title": title if title is not None else race_title(race), "theme": chosen.name,
            "steps": race.steps, "rows": rows}


# ------------------------------------------------------------------------------------------------ results table


def _number(value: float | None) -> str:
    return MISSING if value is None else show_number(value)


def _step(value: int | None) -> str:
    return MISSING if value is None else str(value)


def _lr(row: Mapping[str, Any]) -> str:
    source = LR_SOURCES.get(row["lr_source"], row["lr_source"])
    return f"{MISSING} ({source})" if row["lr"] is None else f"{format_number(float(row['lr']))} ({source})"


def results_table(rows: Sequence[Mapping[str, Any]], cell_style: str = "", table_style: str = "") -> str:
    """One <tr> per row of `race_page(...)["rows"]`: run, lr (where it came from), final loss, distance to the
    nearest minimum, the step it converged at and the step it diverged at ("–": not reached or not defined)."""
    with_start = any(row["start"] is not None for row in rows)
    heads = ["run", *(["start"] if with_start else []), "lr", "final loss", "distance to minimum",
             "converged at step", "diverged at step"]
    cell = f' style="{cell_style}"' if cell_style else ""
    head = "".join(f"<th{cell}>{html.escape(name)}</th>" for name in heads)
    body = []
    for row in rows:
        swatch = (f'<span style="display:inline-block;width:0.8em;height:0.8em;border-radius:50%;'
                  f'margin-right:0.5em;background:{row["colour"]}"></span>')
        cells = [swatch + html.escape(row["label"])]
        if with_start:
            cells.append(MISSING if row["start"] is None else f"({', '.join(f'{c:g}' for c in row['start'])})")
        cells += [_lr(row), _number(row["final_loss"]), _number(row["distance_to_minimum"]),
                  _step(row["converged_step"]), _step(row["diverged_step"])]
        body.append("<tr>" + "".join(f"<td{cell}>{value}</td>" for value in cells) + "</tr>")
    table_attributes = f' style="{table_style}"' if table_style else ""
    table = f"<table{table_attributes}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    return _ascii(table)


def _ascii(text: str) -> str:
    """Non-ASCII characters as character references, so the HTML reads the same in a page of any encoding."""
    return text.encode("ascii", "xmlcharrefreplace").decode("ascii")


# ------------------------------------------------------------------------------------------------ the page


def data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


_STYLE = """
:root { color-scheme: %(scheme)s; }
body { margin: 0; background: %(background)s; color: %(text)s;
       font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: %(width)dpx; margin: 0 auto; padding: 16px; }
video { display: block; width: 100%%; height: auto; background: %(background)s; }
.controls { display: flex; align-items: center; gap: 8px; margin: 10px 0 18px; }
button { font: inherit; color: %(text)s; background: transparent; border: 1px solid %(grid)s; border-radius: 4px;
         padding: 2px 10px; min-width: 2.6em; cursor: pointer; }
button:hover, button:focus-visible { border-color: %(muted)s; }
input[type=range] { flex: 1; accent-color: %(accent)s; }
output { font-variant-numeric: tabular-nums; min-width: 9em; text-align: right; color: %(muted)s; }
.results { overflow-x: auto; }
table { border-collapse: collapse; width: 100%%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 4px 12px 4px 0; border-bottom: 1px solid %(grid)s; white-space: nowrap; }
th { color: %(muted)s; font-weight: 600; }
.fallback { color: %(muted)s; }
"""

# Frame k covers [k/fps, (k+1)/fps); seeking to its middle lands on it whatever the rounding of currentTime.
_SCRIPT = """
(() => {
  const video = document.getElementById("race"), scrub = document.getElementById("scrub");
  const shown = document.getElementById("step"), play = document.getElementById("play");
  const race = JSON.parse(document.getElementById("race-data").textContent);
  const last = race.frames.length - 1;
  let frame = 0;
  const label = (k) => {
    frame = k; scrub.value = k;
    shown.value = "step " + race.frames[k] + " / " + race.steps;
  };
  const current = () => Math.min(last, Math.max(0, Math.floor(video.currentTime * race.fps + 1e-3)));
  const show = (k) => {
    video.pause();
    label(Math.min(last, Math.max(0, k)));
    video.currentTime = (frame + 0.5) / race.fps;
  };
  const toggle = () => {
    if (!video.paused) { video.pause(); show(current()); return; }
    if (frame === last) show(0);
    video.play();
  };
  const follow = () => {
    if (!video.paused) label(current());
    if ("requestVideoFrameCallback" in video) video.requestVideoFrameCallback(follow);
    else requestAnimationFrame(follow);
  };
  video.addEventListener("play", () => { play.textContent = "\\u275a\\u275a"; play.title = "pause (space)"; });
  video.addEventListener("pause", () => { play.textContent = "\\u25b6"; play.title = "play (space)"; });
  play.addEventListener("click", toggle);
  document.getElementById("back").addEventListener("click", () => show(frame - 1));
  document.getElementById("forward").addEventListener("click", () => show(frame + 1));
  scrub.addEventListener("input", () => show(Number(scrub.value)));
  document.addEventListener("keydown", (event) => {
    const keys = {" ": toggle, "ArrowLeft": () => show(frame - 1), "ArrowRight": () => show(frame + 1),
                  "Home": () => show(0), "End": () => show(last)};
    if (!(event.key in keys) || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    keys[event.key]();
  });
  const broken = () => { document.getElementById("fallback").hidden = false; };
  if (!video.canPlayType('video/mp4; codecs="avc1.640028"')) broken();
  video.addEventListener("error", broken);
  const wanted = /(?:^#|&)step=(\\d+)/.exec(location.hash);
  video.addEventListener("loadeddata", () => {
    if (wanted) {
      const step = Number(wanted[1]);
      let k = 0;
      while (k < last && race.frames[k + 1] <= step) k += 1;
      show(k);
    } else {
      show(0);
      video.play().catch(() => {});
    }
    follow();
  }, {once: true});
  label(0);
})();
"""


def race_page_html(page: Mapping[str, Any] | None, video: bytes, poster: bytes, frame_steps: Sequence[int],
                   fps: float, size: tuple[int, int]) -> str:
    """The whole page: title, the H.264 `video` (frame k shows step `frame_steps[k]`) with its controls, the PNG
    `poster` (shown where H.264 cannot play), and the results table of `page` (a `race_page`; None: no table)."""
    page = page or {"title": "optviz race", "theme": "light", "steps": int(frame_steps[-1]), "rows": []}
    theme: Theme = THEMES.get(page["theme"])
    width, height = size
    style = _STYLE % {"scheme": "dark" if theme.name == "dark" else "light", "background": theme.background,
                      "text": theme.text, "muted": theme.muted, "grid": theme.grid, "accent": theme.palette[0],
                      "width": width + 32}
    data = json.dumps({"fps": fps, "steps": page["steps"], "frames": [int(s) for s in frame_steps]})  # numbers only
    title = html.escape(page["title"])
    # a narrow window scrolls the table sideways rather than breaking "0.178 (tuned)" or a swatch from its label
    table = f'<div class="results">{results_table(page["rows"])}</div>' if page["rows"] else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="optviz">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<main>
<video id="race" width="{width}" height="{height}" muted playsinline loop preload="auto"
       aria-label="{title}" poster="{data_uri('image/png', poster)}" src="{data_uri('video/mp4', video)}"></video>
<p id="fallback" class="fallback" hidden>This browser cannot play H.264 video, so only the last step is shown:
open the file in Firefox, Chrome, Safari or Edge to play it.</p>
<div class="controls">
<button id="back" type="button" title="one frame back (&larr;)">&#x25c0;&#x25c0;</button>
<button id="play" type="button" title="play (space)">&#x25b6;</button>
<button id="forward" type="button" title="one frame forward (&rarr;)">&#x25b6;&#x25b6;</button>
<input id="scrub" type="range" min="0" max="{len(frame_steps) - 1}" value="0" step="1" aria-label="frame">
<output id="step" for="scrub">step 0 / {page["steps"]}</output>
</div>
{table}
</main>
<script type="application/json" id="race-data">{data}</script>
<script>{_SCRIPT}</script>
</body>
</html>
"""


# ------------------------------------------------------------------------------------------------ notebooks


def notebook_html(race: Race, *, format: str = "gif", **render_options: Any) -> str:
    """An HTML snippet showing `race` in a notebook (for `_repr_html_`): the animation as a data URI and the
    results table, with inline styles only.

    `format` "gif" (default: a looping <img>, plays everywhere) or "mp4" (a muted, looping <video>, smaller, but
    not played by VS Code). `render_options` are `Race.save`'s (frames, fps, hold, size, theme, title); size
    defaults to 960x540. The animation is encoded in a temporary folder that is deleted before this returns.
    """
    from optviz.racing import render_spec
    from optviz.render import render_race

    if format not in NOTEBOOK_FORMATS:
        raise UsageError(f"'{format}' is not a notebook format: use {' or '.join(NOTEBOOK_FORMATS)}",
                         parameter="format")
    if "out" in render_options:
        raise UsageError("a notebook animation is written to a temporary file: leave out 'out'", parameter="out")
    options = {"size": NOTEBOOK_SIZE, **render_options}
    with tempfile.TemporaryDirectory(prefix="optviz-") as folder:
        spec = render_spec(Path(folder) / f"race.{format}", options)  # size as "640x360" or (640, 360)
        data = render_race(race, spec).read_bytes()
        width, height = spec.frame_size
    page = race_page(race, spec.theme, spec.title)
    uri = data_uri(NOTEBOOK_FORMATS[format], data)
    title = html.escape(page["title"])
    media = f'width="{width}" height="{height}" style="max-width:100%;height:auto;display:block"'
    if format == "gif":
        animation = f'<img src="{uri}" {media} alt="{title}">'
    else:
        animation = f'<video src="{uri}" {media} autoplay loop muted playsinline controls></video>'
    cell = "text-align:left;padding:2px 12px 2px 0;border-bottom:1px solid rgba(128,128,128,0.35);white-space:nowrap"
    table = results_table(page["rows"], cell_style=cell, table_style="border-collapse:collapse")
    table_box = f'<div style="margin-top:6px;overflow-x:auto">{table}</div>'
    return _ascii(f'<div class="optviz-race">{animation}{table_box}</div>')
