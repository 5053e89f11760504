"""The `optviz` command line: parse, validate, run, then hand data to stdout and messages to stderr."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from optviz.cli.console import stderr, write_stdout
from optviz.cli.group import OneLineErrorsGroup, reports_errors
from optviz.cli.options import (
    ClipNormOption, ClipValueOption, FunctionOption, NoTuneOption, OptimizerOption, RaceSetup, ScheduleOption,
    StartOption, StepsOption, TrajectoryOption, resolve_setup,
)
from optviz.errors import UsageError

app = typer.Typer(
    cls=OneLineErrorsGroup,
    name="optviz",
    help="Race gradient-descent optimisers across 2-D test functions: animated contour plots and JSON stats.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from optviz import __version__

        write_stdout(f"optviz {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Race gradient-descent optimisers across 2-D test functions: animated contour plots and JSON stats."""


def _run(setup: RaceSetup):
    from optviz.racing import run_race

    return run_race(setup.function, setup.specs, [setup.start], setup.steps, tune=setup.tune)


@app.command()
@reports_errors
def stats(
    fn: FunctionOption = "rosenbrock",
    opt: OptimizerOption = None,
    start: StartOption = None,
    steps: StepsOption = None,
    no_tune: NoTuneOption = False,
    trajectory: TrajectoryOption = False,
    schedule: ScheduleOption = None,
    clip_norm: ClipNormOption = None,
    clip_value: ClipValueOption = None,
) -> None:
    """Run the race and print its statistics as strict JSON on stdout. Draws nothing."""
    from optviz.stats import race_document, to_json

    race = _run(resolve_setup(fn, opt, start, steps, no_tune, schedule, clip_norm, clip_value))
    write_stdout(to_json(race_document(race, include_trajectory=trajectory)))


@app.command("list")
@reports_errors
def list_registry(
    what: Annotated[str, typer.Argument(help="functions or optimizers")],
    json: Annotated[bool, typer.Option("--json", help="Print the registry as a JSON list on stdout.")] = False,
) -> None:
    """List the built-in test functions or the optimisers."""
    from optviz.cli import listing

    kinds = {"functions": "functions", "optimizers": "optimizers", "optimisers": "optimizers"}
    if what.lower() not in kinds:
        raise UsageError(f"list what? expected 'functions' or 'optimizers' (got '{what}')")
    listing.show(kinds[what.lower()], as_json=json)


@app.command()
@reports_errors
def race(
    fn: FunctionOption = "rosenbrock",
    opt: OptimizerOption = None,
    start: StartOption = None,
    steps: StepsOption = None,
    no_tune: NoTuneOption = False,
    trajectory: TrajectoryOption = False,
    schedule: ScheduleOption = None,
    clip_norm: ClipNormOption = None,
    clip_value: ClipValueOption = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Output file: .gif, .mp4, .png (last frame), .svg or .pdf. "
                            "Default: <function>-race.gif here.")] = None,
    frames: Annotated[int | None, typer.Option(
        "--frames", help="Frames in the animation (default: every step, up to a cap that keeps GIFs small).")] = None,
    fps: Annotated[float, typer.Option("--fps", help="Frames per second.")] = 25.0,
    hold: Annotated[float, typer.Option("--hold", help="Seconds to pause on the last frame before looping.")] = 1.5,
    size: Annotated[str, typer.Option("--size", help="Width x height in pixels, e.g. 1280x720.")] = "1280x720",
    theme: Annotated[str, typer.Option("--theme", help="light or dark.")] = "light",
    title: Annotated[str | None, typer.Option("--title", help="Figure title (default: the function).")] = None,
    json: Annotated[bool, typer.Option("--json", help="Also print the stats JSON on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
) -> None:
    """Race the optimisers and write an animated contour plot (GIF, MP4) or a still (PNG, SVG, PDF)."""
    from optviz.render.spec import RenderSpec, validate_render_spec
    from optviz.specs import parse_size

    setup = resolve_setup(fn, opt, start, steps, no_tune, schedule, clip_norm, clip_value)
    spec = RenderSpec(
        out=out if out is not None else Path(f"{setup.function.name}-race.gif"),
        frames=frames, fps=fps, hold=hold, size=parse_size(size), theme=theme, title=title,
    )
    validate_render_spec(spec)

    from optviz.cli.progress import frame_progress
    from optviz.render import render_race

    result = _run(setup)
    with frame_progress(enabled=not quiet) as on_frame:
        written = render_race(result, spec, progress=on_frame)
    if json:
        from optviz.stats import race_document, to_json

        write_stdout(to_json(race_document(result, include_trajectory=trajectory)))
    if not quiet:
        stderr.print(f"wrote [bold]{written}[/] ({_human_size(written.stat().st_size)})")


def _human_size(n_bytes: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n_bytes < 1000 or unit == "MB":
            return f"{n_bytes:.0f} {unit}" if unit == "B" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1000
    return ""
