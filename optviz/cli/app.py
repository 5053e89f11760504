"""The `optviz` command line: parse text, call `optviz.api.race`, then hand data to stdout and notes to stderr."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from optviz.cli.console import stderr, write_stdout
from optviz.cli.group import OneLineErrorsGroup, OptvizCommand, reports_errors
from optviz.cli.options import (
    BatchSizeOption, ClipNormOption, ClipValueOption, DomainOption, FunctionOption, LrOption, NoiseOption,
    NoTuneOption, OptimizerOption, QuietOption, ScheduleOption, SeedOption, StartOption, StartsOption, StepsOption,
    TrajectoryOption, race_keywords,
)
from optviz.errors import UsageError
from optviz.render.spec import MAX_FPS, MAX_GIF_FPS, MAX_HOLD_SECONDS, MIN_FPS
from optviz.render.theme import THEMES


def examples(*commands: str) -> str:
    """A command's --help epilog: the commands, one per line, as people would type them."""
    return "Examples:\n\n" + "\n".join(f"  $ {command}" for command in commands)


RACE_EXAMPLES = (
    'optviz race --fn rosenbrock --opt "adam(lr=0.05),sgd(lr=1e-3, momentum=0.9)" -o race.gif',
    'optviz race --fn "x**2" --start=3 --opt gd,momentum,nesterov,adagrad,rmsprop,adam --lr 0.01 --steps 1000 '
    '-o seed.png',
    'optviz race --fn "(1-x)**2 + 100*(y-x**2)**2" --domain=-2,2,-1,3 --theme dark -o race.mp4',
    "optviz race --fn rosenbrock --opt \"lbfgs(line_search_fn='strong_wolfe'),newton,adam\" -o second-order.png",
    'optviz race --opt "adam,torch.optim.ASGD(lr=0.01)" --schedule "cosine(T_max=300)" --clip-norm 1 -o plugin.gif',
    "optviz race --fn himmelblau --opt adam,momentum --starts grid:8x8 -o starts.gif",
    "optviz race --fn tiny-network --opt sgd,adam --batch-size 4 -o minibatch.gif",
)
STATS_EXAMPLES = (
    "optviz stats --fn himmelblau --opt adam,rmsprop --steps 200",
    'optviz stats --fn "x**2" --start=3 --opt gd,adam --lr 0.01 --trajectory',
    'optviz stats --fn "(1-x)**2 + 100*(y-x**2)**2" --start=-1.5,2',
    "optviz stats --fn rosenbrock --opt lbfgs,newton",
    "optviz stats --fn himmelblau --opt adam,momentum --starts random:1000 --seed 3",
    "optviz stats --fn rosenbrock --opt adam --noise 0.5 --seed 1",
)
LIST_EXAMPLES = ("optviz list", "optviz list functions | grep camel", "optviz list optimizers --json")

HELP = ("Race gradient-descent optimisers on built-in test functions or your own expression in x (and y): "
        "animated contour plots, charts and JSON stats.")

app = typer.Typer(
    cls=OneLineErrorsGroup,
    name="optviz",
    help=HELP,
    epilog=examples(RACE_EXAMPLES[0], RACE_EXAMPLES[1], STATS_EXAMPLES[2], LIST_EXAMPLES[0]),
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish, PowerShell
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


def choices(names: list[str]) -> str:
    """The metavar that lists an option's choices: `[light|dark]`."""
    return "[" + "|".join(names) + "]"


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
    """Race gradient-descent optimisers on built-in test functions or your own expression in x (and y)."""


def _race(fn: str, quiet: bool, **options: Any):
    """The one call into the API (with a progress display while it steps); for an expression without --domain,
    say which view was chosen."""
    from optviz import api
    from optviz.cli.progress import step_progress

    keywords = race_keywords(fn=fn, **options)
    with step_progress(enabled=not quiet) as progress:
        result = api.race(**keywords, progress=progress)
    if keywords["domain"] is None and not quiet and _is_expression(fn):
        intervals = ", ".join(f"{axis} in [{low:.4g}, {high:.4g}]"
                              for axis, (low, high) in zip(result.function.coordinates, result.function.domain))
        stderr.print(escape(f"view: {intervals} (chosen around the minima found; set --domain to change it)"))
    return result


def _write_json(result, trajectory: bool) -> None:
    """The stats document on stdout, written in pieces (a 10^5-start document never sits in memory as text)."""
    import sys

    from optviz.stats import write_race_json

    write_race_json(result, sys.stdout.write, include_trajectory=trajectory)
    sys.stdout.flush()


def _is_expression(fn: str) -> bool:
    from optviz.expressions import looks_like_expression

    return looks_like_expression(fn)


@app.command(cls=OptvizCommand, epilog=examples(*STATS_EXAMPLES))
@reports_errors
def stats(
    fn: FunctionOption = "rosenbrock",
    opt: OptimizerOption = None,
    start: StartOption = None,
    starts: StartsOption = None,
    seed: SeedOption = 0,
    steps: StepsOption = None,
    lr: LrOption = None,
    domain: DomainOption = None,
    no_tune: NoTuneOption = False,
    noise: NoiseOption = 0.0,
    batch_size: BatchSizeOption = None,
    trajectory: TrajectoryOption = False,
    schedule: ScheduleOption = None,
    clip_norm: ClipNormOption = None,
    clip_value: ClipValueOption = None,
    quiet: QuietOption = False,
) -> None:
    """Run the race and print its statistics as strict JSON on stdout. Draws nothing."""
    result = _race(fn, quiet, opt=opt, start=start, starts=starts, seed=seed, steps=steps, lr=lr, domain=domain,
                   no_tune=no_tune, noise=noise, batch_size=batch_size, schedule=schedule, clip_norm=clip_norm,
                   clip_value=clip_value, record_every=1 if trajectory else None)
    _write_json(result, trajectory)


@app.command("list", cls=OptvizCommand, epilog=examples(*LIST_EXAMPLES))
@reports_errors
def list_registry(
    what: Annotated[str | None, typer.Argument(
        metavar="functions|optimizers", help="One registry (default: both).", show_default=False)] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the registries as JSON on stdout.")] = False,
) -> None:
    """List the built-in test functions and the optimisers, as a table (or JSON) on stdout."""
    from optviz.cli import listing

    kinds = {"functions": "functions", "optimizers": "optimizers", "optimisers": "optimizers"}
    if what is not None and what.lower() not in kinds:
        raise UsageError(f"list what? expected 'functions' or 'optimizers' (got '{what}')")
    listing.show(listing.KINDS if what is None else (kinds[what.lower()],), as_json=json)


DEFAULT_OUT = "<function>-race.gif"


@app.command(cls=OptvizCommand, epilog=examples(*RACE_EXAMPLES))
@reports_errors
def race(
    fn: FunctionOption = "rosenbrock",
    opt: OptimizerOption = None,
    start: StartOption = None,
    starts: StartsOption = None,
    seed: SeedOption = 0,
    steps: StepsOption = None,
    lr: LrOption = None,
    domain: DomainOption = None,
    no_tune: NoTuneOption = False,
    noise: NoiseOption = 0.0,
    batch_size: BatchSizeOption = None,
    trajectory: TrajectoryOption = False,
    schedule: ScheduleOption = None,
    clip_norm: ClipNormOption = None,
    clip_value: ClipValueOption = None,
    out: Annotated[str | None, typer.Option(
        "--out", "-o", help=f"Output file: .gif, .mp4, .html, .png (last frame), .svg or .pdf. "
                            f"Default: {DEFAULT_OUT} here.")] = None,
    frames: Annotated[int | None, typer.Option(
        "--frames", help="Frames in the animation (default: every step, up to a cap that keeps GIFs small).")] = None,
    fps: Annotated[float, typer.Option(
        "--fps", help=f"Frames per second: {MIN_FPS:g} to {MAX_GIF_FPS:g} for a GIF, to {MAX_FPS:g} for MP4 and "
                      f"HTML.")] = 25.0,
    hold: Annotated[float, typer.Option(
        "--hold", help=f"Seconds to pause on the last frame before looping (0 to {MAX_HOLD_SECONDS:g}).")] = 1.5,
    size: Annotated[str, typer.Option("--size", help="Width x height in pixels, e.g. 1280x720.")] = "1280x720",
    theme: Annotated[str, typer.Option("--theme", metavar=choices(THEMES.names()), help="Colour theme.")] = "light",
    title: Annotated[str | None, typer.Option("--title", help="Figure title (default: the function).")] = None,
    json: Annotated[bool, typer.Option("--json", help="Also print the stats JSON on stdout.")] = False,
    quiet: QuietOption = False,
) -> None:
    """Race the optimisers and write an animated contour plot (GIF, MP4, HTML) or a still (PNG, SVG, PDF)."""
    from optviz.racing import render_spec
    from optviz.render.spec import validate_render_spec

    if trajectory and not json:
        raise UsageError("goes into the JSON: add --json (or use `optviz stats --trajectory`)",
                         parameter="trajectory")
    options = {"frames": frames, "fps": fps, "hold": hold, "size": size, "theme": theme, "title": title}
    # Refuse bad render options before stepping: the default name is not known yet, but it is a GIF here too.
    validate_render_spec(render_spec(out if out is not None else "race.gif", options))
    result = _race(fn, quiet, opt=opt, start=start, starts=starts, seed=seed, steps=steps, lr=lr, domain=domain,
                   no_tune=no_tune, noise=noise, batch_size=batch_size, schedule=schedule, clip_norm=clip_norm,
                   clip_value=clip_value)
    spec = render_spec(out if out is not None else f"{result.function.output_stem}-race.gif", options)

    from optviz.cli.progress import frame_progress
    from optviz.render import render_race

    with frame_progress(enabled=not quiet) as on_frame:
        written = render_race(result, spec, progress=on_frame)
    if json:
        _write_json(result, trajectory)
    if not quiet:
        stderr.print(f"wrote [bold]{escape(str(written))}[/] ({_human_size(written.stat().st_size)})")


def _human_size(n_bytes: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n_bytes < 1000 or unit == "MB":
            return f"{n_bytes:.0f} {unit}" if unit == "B" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1000
    return ""
