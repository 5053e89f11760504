"""The `optviz` command line: parse, validate, run, then hand data to stdout and messages to stderr."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from optviz.cli.console import stderr, write_stdout
from optviz.cli.group import OneLineErrorsGroup, reports_errors
from optviz.cli.options import (
    BatchSizeOption, FunctionOption, NoiseOption, NoTuneOption, OptimizerOption, SeedOption, StartOption,
    StartsOption, StepsOption, TrajectoryOption,
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


def _run(fn: str, opt: list[str] | None, start: list[str] | None, starts: str | None, seed: int, steps: int | None,
         no_tune: bool, noise: float, batch_size: int | None, every_step: bool, quiet: bool = False):
    from optviz import api
    from optviz.cli.progress import step_progress
    from optviz.specs import parse_start

    points = [parse_start(text) for text in start] if start else None
    with step_progress(enabled=not quiet) as progress:
        return api.race(fn, opt or None, start=points, starts=starts, seed=seed, steps=steps, tune=not no_tune,
                        noise=noise, batch_size=batch_size, record_every=1 if every_step else None,
                        progress=progress)


@app.command()
@reports_errors
def stats(
    fn: FunctionOption = "rosenbrock",
    opt: OptimizerOption = None,
    start: StartOption = None,
    starts: StartsOption = None,
    seed: SeedOption = 0,
    steps: StepsOption = None,
    no_tune: NoTuneOption = False,
    noise: NoiseOption = 0.0,
    batch_size: BatchSizeOption = None,
    trajectory: TrajectoryOption = False,
) -> None:
    """Run the race and print its statistics as strict JSON on stdout. Draws nothing."""
    import sys

    from optviz.stats import write_race_json

    race = _run(fn, opt, start, starts, seed, steps, no_tune, noise, batch_size, every_step=trajectory)
    write_race_json(race, sys.stdout.write, include_trajectory=trajectory)
    sys.stdout.flush()


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
    starts: StartsOption = None,
    seed: SeedOption = 0,
    steps: StepsOption = None,
    no_tune: NoTuneOption = False,
    noise: NoiseOption = 0.0,
    batch_size: BatchSizeOption = None,
    trajectory: TrajectoryOption = False,
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

    render_options = dict(frames=frames, fps=fps, hold=hold, size=parse_size(size), theme=theme, title=title)
    validate_render_spec(RenderSpec(out=out if out is not None else Path("race.gif"), **render_options))

    from optviz.cli.progress import frame_progress
    from optviz.render import render_race

    result = _run(fn, opt, start, starts, seed, steps, no_tune, noise, batch_size, every_step=True, quiet=quiet)
    spec = RenderSpec(out=out if out is not None else Path(f"{result.function.output_stem}-race.gif"),
                      **render_options)
    with frame_progress(enabled=not quiet) as on_frame:
        written = render_race(result, spec, progress=on_frame)
    if json:
        import sys

        from optviz.stats import write_race_json

        write_race_json(result, sys.stdout.write, include_trajectory=trajectory)
        sys.stdout.flush()
    if not quiet:
        stderr.print(f"wrote [bold]{written}[/] ({_human_size(written.stat().st_size)})")


def _human_size(n_bytes: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n_bytes < 1000 or unit == "MB":
            return f"{n_bytes:.0f} {unit}" if unit == "B" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1000
    return ""
