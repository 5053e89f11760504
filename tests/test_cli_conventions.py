"""CLI conventions: help that shows no `<bool>`, lists choices and ends with examples; -h; shell completion;
`optviz list` on stdout at any width; "did you mean" for keywords and prefixes; bracketed tuples in --opt."""

import json
import os
import re
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from optviz.cli import app
from optviz.cli.app import LIST_EXAMPLES, RACE_EXAMPLES, STATS_EXAMPLES
from optviz.errors import UsageError
from optviz.functions import FUNCTIONS
from optviz.optimizers import OPTIMIZERS
from optviz.render.theme import THEMES
from optviz.racing import resolve_runs
from optviz.specs import format_value, parse_optimizer_list

runner = CliRunner()
WIDE = {"COLUMNS": "250"}
COMMANDS = [[], ["stats"], ["race"], ["list"]]


def help_of(command, flag="--help"):
    result = runner.invoke(app, [*command, flag], env=WIDE)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "optviz")
def test_help_shows_no_bool_metavar_and_ends_with_examples(command):
    text = help_of(command)
    assert "<bool>" not in text
    tail = [line.strip() for line in text.strip().splitlines()]
    examples = tail.index("Examples:")
    commands = [line for line in tail[examples + 1:] if line]
    assert commands and all(line.startswith("$ optviz") for line in commands)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "optviz")
def test_dash_h_is_help(command):
    assert help_of(command, "-h") == help_of(command)


def test_the_theme_choices_are_listed():
    assert f"[{'|'.join(THEMES.names())}]" in help_of(["race"])
    assert "[light|dark]" in help_of(["race"])


def test_flags_refuse_a_value_in_one_line():
    result = runner.invoke(app, ["race", "--json=true"])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1


def test_shell_completion_is_offered_and_completes_commands_and_options():
    assert "--install-completion" in help_of([]) and "--show-completion" in help_of([])
    env = {**os.environ, "_OPTVIZ_COMPLETE": "complete_bash", "COMP_WORDS": "optviz ra", "COMP_CWORD": "1"}
    result = subprocess.run([sys.executable, "-m", "optviz"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0 and result.stdout.split() == ["race"], result.stderr
    env.update(COMP_WORDS="optviz race --th", COMP_CWORD="2")
    result = subprocess.run([sys.executable, "-m", "optviz"], capture_output=True, text=True, env=env, timeout=60)
    assert result.stdout.split() == ["--theme"], result.stderr


# ------------------------------------------------------------------------------------------------ list


def test_list_alone_shows_both_registries_on_stdout():
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0 and result.stderr == ""
    for name in [*FUNCTIONS.names(), *OPTIMIZERS.names()]:
        assert name in result.stdout


def test_list_json_alone_is_both_registries():
    result = runner.invoke(app, ["list", "--json"])
    document = json.loads(result.stdout)
    assert [e["name"] for e in document["functions"]] == FUNCTIONS.names()
    assert [e["name"] for e in document["optimizers"]] == OPTIMIZERS.names()


@pytest.mark.parametrize("what, names", [("functions", FUNCTIONS.names()), ("optimizers", OPTIMIZERS.names())])
@pytest.mark.parametrize("columns", ["80", "40"])
def test_list_never_cuts_a_name_at_narrow_widths(what, names, columns):
    result = subprocess.run([sys.executable, "-m", "optviz", "list", what], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "COLUMNS": columns})
    assert result.returncode == 0, result.stderr
    first_cells = {match.group(1) for match in re.finditer(r"^│ (\S+)", result.stdout, re.MULTILINE)}
    assert set(names) <= first_cells
    assert "…" not in result.stdout


def test_list_through_a_pipe_finds_rows_with_grep():
    listing = subprocess.run([sys.executable, "-m", "optviz", "list", "functions"], capture_output=True, text=True,
                             timeout=60, env={k: v for k, v in os.environ.items() if k != "COLUMNS"})
    camels = [line for line in listing.stdout.splitlines() if "camel" in line]
    assert len(camels) == 2 and all("hump" in line for line in camels)


# ------------------------------------------------------------------------------------------------ did you mean


@pytest.mark.parametrize("args, hint", [
    (["--opt", "adam(beta=(0.9, 0.99))"], "did you mean 'betas'"),
    (["--opt", "sgd(momentun=0.9)"], "did you mean 'momentum'"),
    (["--opt", "rmsprop(alfa=0.9)"], "did you mean 'alpha'"),
    (["--fn", "goldstein"], "did you mean 'goldstein-price'"),
    (["--fn", "styblinski"], "did you mean 'styblinski-tang'"),
    (["--fn", "rosenbruck"], "did you mean 'rosenbrock'"),
    (["--opt", "rmsp"], "did you mean 'rmsprop'"),
])
def test_did_you_mean(args, hint):
    result = runner.invoke(app, ["stats", *args, "--steps", "5"])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert hint in line


def test_an_ambiguous_prefix_suggests_nothing_wrong():
    with pytest.raises(UsageError) as raised:
        FUNCTIONS.get("saddl")  # saddle and monkey-saddle: edit distance picks saddle, the only prefix match
    assert "did you mean 'saddle'" in str(raised.value)
    with pytest.raises(UsageError) as raised:
        FUNCTIONS.get("s")  # too short to mean one entry
    assert "did you mean" not in str(raised.value)


def test_every_unique_prefix_of_every_name_is_suggested():
    for registry in (FUNCTIONS, OPTIMIZERS):
        keys = {name for entry in registry for name in (entry.name, *entry.aliases)}
        for entry in registry:
            for end in range(3, len(entry.name)):
                prefix = entry.name[:end]
                owners = {e.name for e in registry for key in (e.name, *e.aliases)
                          if key.lower().replace("_", "-").startswith(prefix)}
                if prefix in keys or len(owners) != 1:
                    continue
                with pytest.raises(UsageError, match=f"did you mean '{entry.name}'"):
                    registry.get(prefix)


# ------------------------------------------------------------------------------------------------ [ ] tuples


def test_a_bracketed_list_is_a_tuple():
    (listed,) = resolve_runs(parse_optimizer_list("adam(betas=[0.9, 0.99])"))
    (tupled,) = resolve_runs(parse_optimizer_list("adam(betas=(0.9, 0.99))"))
    assert listed == tupled and listed.params["betas"] == (0.9, 0.99)
    assert parse_optimizer_list("a(k=[1])")[0].kwargs == {"k": (1,)}  # a list of one is a 1-tuple, unlike (1)
    assert parse_optimizer_list("a(k=[])")[0].kwargs == {"k": ()}


@pytest.mark.parametrize("text, where", [
    ("adam(betas=[0.9, 0.99)]", "unmatched ')'"), ("adam(betas=(0.9, 0.99])", "unmatched ']'"),
    ("adam(betas=[0.9", "'[' at column 12 is never closed"), ("adam[lr=1]", "expected '(' or ','"),
    ("adam([0.9])", "keyword=value"),
])
def test_mismatched_brackets_are_named(text, where):
    with pytest.raises(UsageError, match=re.escape(where)):
        parse_optimizer_list(text)


_SCALARS = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-10**6, 10**6), st.booleans(),
                     st.none())
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3).map(tuple), max_leaves=8)


def _written(value, brackets):
    """`value` as text, each tuple in brackets or parentheses as `brackets` (drawn per tuple) says."""
    if not isinstance(value, tuple):
        return format_value(value)
    inner = ", ".join(_written(v, brackets) for v in value)
    if brackets.draw(st.booleans()):
        return f"[{inner}]"
    return f"({inner},)" if len(value) == 1 else f"({inner})"


@given(_VALUES, st.data())
def test_brackets_and_parentheses_mixed_parse_to_the_same_tuples(value, data):
    text = f"adam(k={_written(value, data)})"
    assert parse_optimizer_list(text)[0].kwargs == {"k": value}


@given(st.text(alphabet="adm[](),=.0123456789e-+ betas", max_size=60))
def test_bracket_heavy_text_gives_calls_or_a_one_line_usage_error(text):
    try:
        resolve_runs(parse_optimizer_list(text))
    except UsageError as error:
        assert "\n" not in str(error)


@pytest.mark.parametrize("args, start", [
    (["--fn", "goldstein"], "error: --fn: unknown function 'goldstein'"),
    (["--steps", "0"], "error: --steps: input should be greater than or equal to 1"),
    (["--steps", "abc"], "error: --steps: input should be a valid integer"),
    (["--seed", "-1"], "error: --seed: "),
    (["--noise", "x"], "error: --noise: "),
])
def test_a_bad_value_names_its_flag_first_like_every_other_error(args, start):
    result = runner.invoke(app, ["stats", *args, "--steps", "5"] if "--steps" not in args else ["stats", *args])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(start)


# ------------------------------------------------------------------------------------------------ help examples


def _shortened(command: str, out_dir) -> list[str]:
    """An example's arguments with a 5-step budget, few starts and its output in `out_dir`."""
    import shlex

    args = shlex.split(command)[1:]  # without "optviz"
    if "--steps" in args:
        args[args.index("--steps") + 1] = "5"
    else:
        args += ["--steps", "5"]
    for flag in ("-o", "--out"):
        if flag in args:
            position = args.index(flag) + 1
            args[position] = str(out_dir / args[position])
    if "--starts" in args:  # the same spread, fewer points
        position = args.index("--starts") + 1
        args[position] = "grid:2x2" if args[position].startswith("grid") else "random:4"
    return args


@pytest.mark.parametrize("command", [*RACE_EXAMPLES, *STATS_EXAMPLES, *LIST_EXAMPLES])
def test_every_help_example_runs(command, tmp_path):
    if "torch.optim" in command:
        pytest.importorskip("torch")
    if "|" in command:  # a shell pipeline: the command before the pipe
        command = command.split("|")[0].strip()
    args = _shortened(command, tmp_path) if " list" not in command else command.split()[1:]
    result = runner.invoke(app, [*args, "--quiet"] if args[0] != "list" else args)
    assert result.exit_code == 0, result.stderr
    if args[0] == "stats":
        assert json.loads(result.stdout)["runs"]
    elif args[0] == "race":
        (written,) = tmp_path.iterdir()
        assert written.stat().st_size > 0
