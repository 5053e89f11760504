"""The spec parser: `--opt` lists (syntax and resolution), `--start` and `--size`.

Expected values are written from the grammar in optviz/specs.py and torch.optim's documented defaults,
not copied from the parser's output; hypothesis checks that no input escapes as anything but a UsageError.
"""

from __future__ import annotations

import ast
import inspect
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optviz import specs
from optviz.errors import UsageError
from optviz.optimizers import OPTIMIZERS
from optviz.racing import resolve_runs
from optviz.specs import (
    OptimizerCall,
    format_call,
    format_value,
    parse_optimizer_list,
    parse_size,
    parse_domain,
    parse_start,
)

FAST = settings(max_examples=100, deadline=None)


def assert_one_line(error: UsageError) -> str:
    message = str(error)
    assert message.strip(), "empty error message"
    assert len(message.splitlines()) == 1 and "\n" not in message and "\r" not in message, message
    assert len(message) < 500, message
    return message


def usage_error(function, *args) -> str:
    with pytest.raises(UsageError) as caught:
        function(*args)
    return assert_one_line(caught.value)


def strict(value):
    """repr tells 1 from 1.0 from True, and -0.0 from 0.0: equality of reprs is equality of types and values."""
    return repr(value)


# --------------------------------------------------------------------------- syntax: what parses


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["adam"], [("adam", {}, "adam")]),
        (["adam()"], [("adam", {}, "adam()")]),
        (["  adam ( lr = 0.05 ) "], [("adam", {"lr": 0.05}, "adam ( lr = 0.05 )")]),
        (
            ["adam(lr=0.05, betas=(0.9, 0.99)),sgd(lr=1e-3, momentum=0.9),nesterov"],
            [
                ("adam", {"lr": 0.05, "betas": (0.9, 0.99)}, "adam(lr=0.05, betas=(0.9, 0.99))"),
                ("sgd", {"lr": 0.001, "momentum": 0.9}, "sgd(lr=1e-3, momentum=0.9)"),
                ("nesterov", {}, "nesterov"),
            ],
        ),
        (["adam", "sgd, rmsprop"], [("adam", {}, "adam"), ("sgd", {}, "sgd"), ("rmsprop", {}, "rmsprop")]),
        (
            ["x(a=1, b=-1, c=+2, d=.5, e=1e-3, f=1E3, g=1_000, h=5., i=-0.0, j=2.5e+2)"],
            [("x", {"a": 1, "b": -1, "c": 2, "d": 0.5, "e": 0.001, "f": 1000.0, "g": 1000, "h": 5.0,
                    "i": -0.0, "j": 250.0}, None)],
        ),
        (["x(a=True, b=FALSE, c=none, d=None, e=tRuE)"],
         [("x", {"a": True, "b": False, "c": None, "d": None, "e": True}, None)]),
        (["x(a=(1,), b=(), c=((1, 2), (3,),), d=(0.5), e=(true, none))"],
         [("x", {"a": (1,), "b": (), "c": ((1, 2), (3,)), "d": 0.5, "e": (True, None)}, None)]),
        (["x(a=1,)"], [("x", {"a": 1}, "x(a=1,)")]),
        (["x(Weight-Decay=0.1, LR=2)"], [("x", {"weight_decay": 0.1, "lr": 2}, None)]),
        (["three-hump_Camel"], [("three-hump_Camel", {}, "three-hump_Camel")]),
        (["_private(if=1, class=2)"], [("_private", {"if": 1, "class": 2}, None)]),
        (["adam(lr=\n0.1)\t,\nsgd"], [("adam", {"lr": 0.1}, "adam(lr=\n0.1)"), ("sgd", {}, "sgd")]),
        (["torch.optim.ASGD(lr=0.01)"], [("torch.optim.ASGD", {"lr": 0.01}, None)]),
        (["my_pkg.sub_mod:Class.inner(x=1),adam"],
         [("my_pkg.sub_mod:Class.inner", {"x": 1}, None), ("adam", {}, None)]),
        (["x(a='strong_wolfe', b=\"it's\", c='', d='a,b)(')"],
         [("x", {"a": "strong_wolfe", "b": "it's", "c": "", "d": "a,b)("}, None)]),
        (["x(a=[0.9, 0.99], b=[], c=[1], d=[(1, 2), [3]])"],
         [("x", {"a": (0.9, 0.99), "b": (), "c": (1,), "d": ((1, 2), (3,))}, None)]),
        (["x(a=None, b=NONE)"], [("x", {"a": None, "b": None}, None)]),
    ],
)
def test_parses(texts, expected):
    calls = parse_optimizer_list(texts)
    assert [(c.name, strict(c.kwargs)) for c in calls] == [(name, strict(kw)) for name, kw, _ in expected]
    for call, (_, _, text) in zip(calls, expected):
        if text is not None:
            assert call.text == text


def test_a_lone_string_is_one_text_not_a_list_of_characters():
    assert parse_optimizer_list("adam,sgd") == parse_optimizer_list(["adam,sgd"])


# --------------------------------------------------------------------------- syntax: what is refused


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("adam(lr 0.05)", ["'adam(lr 0.05)'", "expected '=' after 'lr'", "'0.05'", "column 9"]),
        ("adam(lr)", ["expected '=' after 'lr'", "column 8"]),
        ("adam,,sgd", ["'adam,,sgd'", "empty item", "column 6"]),
        ("adam,", ["'adam,'", "trailing comma"]),
        (",adam", ["leading comma"]),
        ("adam, ,sgd", ["empty item", "column 7"]),
        ("adam(lr=1, lr=2)", ["'adam(lr=1, lr=2)'", "'lr' given twice", "column 12"]),
        ("adam(lr=1, LR=2)", ["'LR' given twice", "column 12"]),
        ("adam(0.1)", ["arguments must be keyword=value", "e.g. adam(lr=0.1)", "column 6"]),
        ("sgd(true)", ["keyword=value", "sgd(lr=0.1)", "column 5"]),
        ("sgd(lr=1, (1, 2))", ["keyword=value", "column 11"]),
        ("adam(lr=0.1", ["'(' at column 5 is never closed"]),
        ("adam(betas=(0.9, 0.99)", ["'(' at column 5 is never closed"]),
        ("adam)", ["unmatched ')'", "column 5"]),
        ("adam(lr=0.1)),sgd", ["'adam(lr=0.1)),sgd'", "unmatched ')'", "column 13"]),
        ("adam(lr=1e999)", ["'1e999'", "finite", "column 9"]),
        ("adam(lr=-1e400)", ["'-1e400'", "finite"]),
        ("adam(lr=1" + "0" * 400 + ")", ["too large", "finite"]),
        ("adam(lr=nan)", ["'nan'", "finite", "column 9"]),
        ("adam(lr=Inf)", ["'Inf'", "finite"]),
        ("adam $", ["unexpected character '$'", "column 6"]),
        ("adam(lr=0.1;)", ["unexpected character ';'", "column 12"]),
        ("adám", ["unexpected character 'á'", "column 3"]),
        ("adam sgd", ["expected '(' or ',' after 'adam'", "'sgd'", "column 6"]),
        ("adam(lr=0.1)x", ["after ')'", "'x'", "column 13"]),
        ("adam(lr=0.1) (eps=1)", ["after ')'", "'('", "column 14"]),
        ("adam(lr=)", ["for 'lr'", "found ')'", "column 9"]),
        ("adam(lr=abc)", ["for 'lr'", "'abc'", "column 9"]),
        ("adam(lr=0x10)", ["'x10'", "column 10"]),
        ("adam(lr=1.2.3)", ["after the value of 'lr'", "'.3'"]),
        ("adam(lr=1 2)", ["after the value of 'lr'", "'2'", "column 11"]),
        ("adam(betas=(0.9 0.99))", ["an entry of 'betas'", "'0.99'", "column 17"]),
        ("adam(betas=(0.9,,0.99))", ["for 'betas'", "found ','", "column 17"]),
        ("adam(=1)", ["expected a keyword", "'='", "column 6"]),
        ("adam(,lr=1)", ["expected a keyword", "','", "column 6"]),
        ("1adam", ["expected an optimizer name", "'1'", "column 1"]),
        ("(adam)", ["expected an optimizer name", "'('", "column 1"]),
        ("adam(b=" + "(" * 9 + "1" + ")" * 9 + ")", ["nested more than 8 deep"]),
        ("", ["empty --opt"]),
        ("  \t ", ["empty --opt"]),
        ("x" * 3000, ["too long", "3000"]),
        ("adam(" + "l" * 41 + "=1)", ["longer than 40 characters", "column 6"]),
        ("adam\nsgd", ["'adam\\nsgd'", "after 'adam'"]),
        ("__import__('os').system('ls')", ["arguments must be keyword=value", "column 12"]),
        ('adam(lr=__import__("os"))', ["arguments must be keyword=value", "column 20"]),
        ("adam(lr=os.system)", ["for 'lr'", "'os.system'", "quote a word"]),
        ("adam(s='x)", ["quote ' at column 8 is never closed"]),
        ('adam(s="x\ny")', ["cannot span lines"]),
        ("adam(b=[0.9, 0.99)", ["unmatched ')'", "column 18"]),
        ("adam(b=(0.9, 0.99])", ["unmatched ']'"]),
        ("adam(b=[0.9 0.99])", ["',' or ']' after an entry of 'b'", "'0.99'"]),
        ("torch.optim.(lr=1)", ["unexpected character '.'", "column 12"]),
        ("a:b:c", ["unexpected character ':'", "column 4"]),
        ("adam(torch.x=1)", ["expected a keyword", "'torch.x'"]),
        ("adam(schedule=cosine)", ["for 'schedule'", "'cosine'", "quote a word"]),
        ("adam(s='" + "x" * 101 + "')", ["longer than 100 characters"]),
        ("adam(lr=print)", ["'print'"]),
    ],
)
def test_syntax_errors_name_the_bad_part(text, fragments):
    message = usage_error(parse_optimizer_list, [text])
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_an_empty_list_is_refused():
    assert "no optimizer" in usage_error(parse_optimizer_list, [])


def test_long_items_are_cut_in_messages():
    text = "adam(lr=" + "1, lr=" * 200 + "1)"
    message = usage_error(parse_optimizer_list, [text])
    assert "given twice" in message and "..." in message and len(message) < 200


# --------------------------------------------------------------------------- syntax: properties

_LOWER = "abcdefghijklmnopqrstuvwxyz_"


def _identifiers(first: str, rest: str):
    return st.builds(str.__add__, st.sampled_from(first), st.text(alphabet=rest, max_size=8))


_KEYS = _identifiers(_LOWER, _LOWER + "0123456789")
_STRINGS = st.one_of(st.text(alphabet=st.characters(blacklist_characters="'\n\r"), max_size=20),
                     st.text(alphabet=st.characters(blacklist_characters='"\n\r'), max_size=20))
_SCALARS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.booleans(),
    st.none(),
    _STRINGS,
)
_PATHS = st.one_of(_NAMES := _identifiers(_LOWER + "ADMS", _LOWER + "ADMS0123456789-"),
                   st.lists(_identifiers(_LOWER, _LOWER + "0123456789"), min_size=2, max_size=4).map(".".join),
                   st.tuples(st.lists(_identifiers(_LOWER, _LOWER), min_size=1, max_size=3).map(".".join),
                             _identifiers("ABC", "abc")).map(":".join))


def _nested_values(depth: int):
    if depth == 0:
        return _SCALARS
    inner = _nested_values(depth - 1)
    return st.one_of(
        _SCALARS,
        st.lists(inner, max_size=3).map(tuple),
        st.builds(lambda name, kwargs: OptimizerCall(name, kwargs, format_value(OptimizerCall(name, kwargs, ""))),
                  _PATHS,
                  st.dictionaries(_identifiers(_LOWER, _LOWER + "0123456789"), inner, max_size=2)),
    )


_CALLS = st.tuples(_PATHS, st.dictionaries(_KEYS, _nested_values(2), max_size=4))


@FAST
@given(st.lists(_CALLS, min_size=1, max_size=4), st.sampled_from([",", ", ", " ,\n"]), st.booleans())
def test_formatted_calls_parse_back_exactly(calls, separator, one_text_per_call):
    items = [format_call(name, kwargs) for name, kwargs in calls]
    texts = items if one_text_per_call else [separator.join(items)]
    parsed = parse_optimizer_list(texts)
    assert [(c.name, strict(c.kwargs), c.text) for c in parsed] == [
        (name, strict(kwargs), item) for (name, kwargs), item in zip(calls, items)
    ]


@FAST
@given(st.lists(st.text(), max_size=3))
def test_any_text_gives_calls_or_a_one_line_usage_error(texts):
    try:
        calls = parse_optimizer_list(texts)
    except UsageError as error:
        assert_one_line(error)
    else:
        assert calls and all(c.name and c.text == c.text.strip() for c in calls)


@FAST
@given(st.text(alphabet="adm(),=.0123456789e-+ TrueFalsNon_", max_size=60))
def test_parenthesis_heavy_text_never_escapes_parsing_or_resolution(text):
    """Through both layers: the alphabet spells 'adam', keywords and values, so resolution is reached too."""
    try:
        resolve_runs(parse_optimizer_list([text]))
    except UsageError as error:
        assert_one_line(error)


@FAST
@given(st.text(alphabet="adm(),=.:[]'\"0123456789e-+ Nonetorch_", max_size=60))
def test_bracket_quote_and_path_heavy_text_never_escapes(text):
    """Hostile mixes of brackets, quotes, paths and calls: calls or one line, never anything else."""
    try:
        calls = parse_optimizer_list([text])
    except UsageError as error:
        assert_one_line(error)
    else:
        for call in calls:
            assert parse_optimizer_list([format_call(call.name, call.kwargs)])[0].kwargs == call.kwargs


def test_the_parser_never_evaluates():
    """No eval, exec, compile-and-run or literal_eval anywhere in the module: the parser only reads."""
    tree = ast.parse(inspect.getsource(specs))
    forbidden_names = {"eval", "exec", "__import__", "compile"}
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    used |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)} - {"compile"}
    assert not used & (forbidden_names | {"literal_eval"})


# --------------------------------------------------------------------------- resolution


def _resolve(*texts: str):
    return resolve_runs(parse_optimizer_list(list(texts)))


@pytest.mark.parametrize("entry", list(OPTIMIZERS), ids=lambda e: e.name)
def test_a_bare_name_gets_every_default(entry):
    (run,) = _resolve(entry.name)
    assert run.optimizer == run.label == entry.name
    assert run.params == {h.name: h.default for h in entry.hyperparameters}
    assert run.lr_source == "default" and run.source == "built-in" and run.definition is entry
    assert run.schedule is None and run.clip is None


@pytest.mark.parametrize("entry", list(OPTIMIZERS), ids=lambda e: e.name)
def test_a_given_lr_replaces_only_the_lr(entry):
    (run,) = _resolve(f"{entry.name.upper()}(lr=0.5)")
    assert run.params["lr"] == 0.5 and isinstance(run.params["lr"], float)
    assert {k: v for k, v in run.params.items() if k != "lr"} == {
        h.name: h.default for h in entry.hyperparameters if h.name != "lr"
    }
    assert run.lr_source == "user" and run.label == f"{entry.name} lr=0.5"


@pytest.mark.parametrize("entry", list(OPTIMIZERS), ids=lambda e: e.name)
def test_defaults_are_declared_once(entry):
    """make() has no defaults of its own: every hyperparameter comes from the entry's records."""
    make = entry.make.func if hasattr(entry.make, "func") else entry.make
    defaults = [p.name for p in inspect.signature(make).parameters.values() if p.default is not p.empty]
    assert defaults == []
    entry.build(entry.resolve({}))  # and the records cover every keyword make needs


def test_adam_with_torch_defaults_and_user_betas():
    (default,) = _resolve("adam")
    assert default.params["lr"] == 1e-3 and default.params["betas"] == (0.9, 0.999)
    (given,) = _resolve("adam(betas=[0.8, 0.99], eps=1e-6)")
    assert given.params["betas"] == (0.8, 0.99) and given.params["eps"] == 1e-6 and given.params["lr"] == 1e-3
    assert given.lr_source == "default"


def test_torch_implementation_switches_are_accepted_and_dropped():
    (run,) = _resolve("adam(foreach=None, fused=false, Capturable=True, differentiable=FALSE, lr=0.1)")
    (plain,) = _resolve("adam(lr=0.1)")
    assert run.params == plain.params
    assert not specs.TORCH_SWITCHES & set(run.params)


def test_runs_are_json_able():
    for run in _resolve("adam(lr=0.05, betas=(0.9, 0.99)),sgd(lr=1e-3, momentum=0.9),nesterov"):
        echoed = json.loads(json.dumps(run.to_json(), allow_nan=False))
        assert echoed["label"] == run.label and echoed["optimizer"] == run.optimizer
        assert set(echoed["params"]) == set(run.params)
        assert echoed["schedule"] is None and echoed["clip"] is None and echoed["source"] == "built-in"


def test_a_schedule_inside_one_call_is_that_runs_own():
    first, second = _resolve("adam(lr=0.1, schedule=cosine(T_max=100)),sgd(schedule='step(step_size=5)')")
    assert first.schedule.name == "cosine" and first.schedule.params["T_max"] == 100
    assert second.schedule.name == "step" and second.schedule.params["step_size"] == 5
    assert "schedule" not in first.params


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("adam(schedule=1)", ["schedule must be a schedule", "got 1"]),
        ("adam(schedule=cosin(T_max=3))", ["schedule", "did you mean 'cosine'"]),
        ("adam(schedule=cosine())", ["schedule", "T_max is required"]),
    ],
)
def test_a_bad_schedule_in_a_call_is_one_line(text, fragments):
    message = usage_error(_resolve, text)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("adma", ["unknown optimizer 'adma'", "did you mean 'adam'?"]),
        ("adm", ["unknown optimizer 'adm'", "did you mean 'adam'?"]),
        ("sdg", ["did you mean 'sgd'?"]),
        ("adam(lr=-1)", ["'adam(lr=-1)'", "lr", "-1"]),
        ("adam(lr=true)", ["lr", "True"]),
        ("adam(lr=none)", ["lr", "None"]),
        ("adam(betas=0.9)", ["betas", "pair"]),
        ("adam(betas=(0.9, 0.99, 0.999))", ["betas", "pair"]),
        ("adam(betas=(0.9, 1.5))", ["betas"]),
        ("adam(betas=(" + "0.5, " * 300 + "))", ["betas", "pair", "..."]),
        ("adam(amsgrad=1)", ["amsgrad", "true or false"]),
        ("adam(foreach=1)", ["foreach must be true, false or none", "got 1"]),
        ("sgd(nesterov=true)", ["'sgd(nesterov=true)'", "nesterov", "momentum"]),
        ("nesterov(momentum=0)", ["nesterov", "momentum"]),
        ("nesterov(dampening=0.5)", ["nesterov", "dampening"]),
    ],
)
def test_resolution_errors_name_the_bad_part(text, fragments):
    message = usage_error(_resolve, text)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_an_unknown_keyword_lists_the_valid_ones():
    message = usage_error(_resolve, "adam(lrr=0.1)")
    assert "'lrr'" in message
    for hyperparameter in OPTIMIZERS.get("adam").hyperparameters:
        assert hyperparameter.name in message


# --------------------------------------------------------------------------- --start


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,2", (1.0, 2.0)),
        (" 1.5 , -2 ", (1.5, -2.0)),
        ("(1, 2)", (1.0, 2.0)),
        (" [ -0.5,1e-3 ] ", (-0.5, 0.001)),
        ("+.5,-.25", (0.5, -0.25)),
        ("1_000,2E2", (1000.0, 200.0)),
        ("3", (3.0,)),
        (" (-0.5) ", (-0.5,)),
    ],
)
def test_start_parses(text, expected):
    assert parse_start(text) == expected
    assert all(isinstance(v, float) for v in parse_start(text))


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("1,2,3", ["two numbers", "got 3"]),
        ("", ["two numbers", "got 0"]),
        ("()", ["two numbers", "got 0"]),
        ("1 2", ["X must be a number"]),
        ("a,1", ["X must be a number", "'a'"]),
        ("1,", ["Y must be a number"]),
        ("nan,1", ["X", "finite", "'nan'"]),
        ("1,-inf", ["Y", "finite", "'-inf'"]),
        ("1e999,0", ["X", "1e999", "finite"]),
        ("(1,2]", ["mismatched brackets"]),
        ("(1,2", ["mismatched brackets"]),
        ("1,2)", ["mismatched brackets"]),
        ("1,2\n3", ["'1,2\\n3'", "Y must be a number"]),
        ("0x1,2", ["X must be a number", "'0x1'"]),
        ("1" * 500 + ",1", ["too long"]),
    ],
)
def test_start_errors_name_the_bad_part(text, fragments):
    message = usage_error(parse_start, text)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


_FINITE = st.floats(allow_nan=False, allow_infinity=False)


@FAST
@given(_FINITE, _FINITE, st.sampled_from(["{}, {}", "{},{}", "({}, {})", " [ {} ,{} ] "]))
def test_start_round_trips_repr(x, y, layout):
    assert strict(parse_start(layout.format(repr(x), repr(y)))) == strict((x, y))


@FAST
@given(st.one_of(st.text(), st.text(alphabet="0123456789.,-+e()[] naif_x", max_size=30)))
def test_start_gives_one_or_two_finite_floats_or_a_one_line_usage_error(text):
    try:
        point = parse_start(text)
    except UsageError as error:
        assert_one_line(error)
    else:
        assert len(point) in (1, 2) and all(isinstance(v, float) and v - v == 0 for v in point)


@FAST
@given(st.one_of(st.text(), st.text(alphabet="0123456789.,-+e()[] naif_x", max_size=40)))
def test_domain_gives_ordered_finite_intervals_or_a_one_line_usage_error(text):
    try:
        domain = parse_domain(text)
    except UsageError as error:
        assert_one_line(error)
    else:
        assert len(domain) in (1, 2) and all(low < high and high - low < float("inf") for low, high in domain)


@pytest.mark.parametrize(("text", "expected"), [("-2,2,-1,3", ((-2.0, 2.0), (-1.0, 3.0))), ("0,5", ((0.0, 5.0),)),
                                                 ("[-1e3, 1e3]", ((-1000.0, 1000.0),))])
def test_domain_parses(text, expected):
    assert parse_domain(text) == expected


@pytest.mark.parametrize(("text", "fragment"), [("1,1", "low end must come first"), ("2,1,0,1", "low end"),
                                                ("1,2,3", "got 3"), ("-1e308,1e308", "too wide"),
                                                ("0,nan", "finite")])
def test_domain_errors_name_the_bad_part(text, fragment):
    assert fragment in usage_error(parse_domain, text)


# --------------------------------------------------------------------------- --size


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1280x720", (1280, 720)), ("1280X720", (1280, 720)), (" 640 × 480 ", (640, 480)), ("1x1", (1, 1))],
)
def test_size_parses(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("0x720", "at least 1"),
        ("1280x0", "at least 1"),
        ("-1280x720", "WIDTHxHEIGHT"),
        ("12.5x720", "WIDTHxHEIGHT"),
        ("1280", "WIDTHxHEIGHT"),
        ("1280*720", "WIDTHxHEIGHT"),
        ("1280x720x3", "WIDTHxHEIGHT"),
        ("axb", "'axb'"),
        ("", "WIDTHxHEIGHT"),
        ("9" * 5000 + "x1", "WIDTHxHEIGHT"),
    ],
)
def test_size_errors(text, fragment):
    assert fragment in usage_error(parse_size, text)


@FAST
@given(st.text(max_size=20))
def test_size_gives_two_positive_ints_or_a_one_line_usage_error(text):
    try:
        width, height = parse_size(text)
    except UsageError as error:
        assert_one_line(error)
    else:
        assert width >= 1 and height >= 1


def test_the_optimizer_registry_is_complete():
    """Written out, so an added or renamed optimiser shows in this diff (and in every table built from the registry)."""
    assert OPTIMIZERS.names() == ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "adamax",
                                  "nadam", "radam", "adadelta", "lion", "lbfgs", "newton"]
