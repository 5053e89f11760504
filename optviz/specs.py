"""Parse what people type on the command line into frozen, JSON-able specs.

`--opt` lists go through two layers:

1. Syntax (pure, no registry): `parse_optimizer_list(["adam(lr=0.05, betas=(0.9, 0.99)),sgd"])` gives
   `[OptimizerCall("adam", {"lr": 0.05, "betas": (0.9, 0.99)}), OptimizerCall("sgd", {})]`.
2. Resolution: `resolve_optimizers(calls)` looks each name up in the optimiser registry, fills every
   hyperparameter with torch.optim's defaults, validates with torch's rules and gives each a unique label.

The grammar of one `--opt` text, read by a hand-written tokenizer and recursive-descent parser (nothing the user
types is ever evaluated, and every error names the item, what was expected and the column):

    list   := item ("," item)*
    item   := NAME [ "(" [ kwarg ("," kwarg)* [","] ] ")" ]
    kwarg  := NAME "=" value
    value  := NUMBER | true | false | none | "(" [ value ("," value)* [","] ] ")"
            | "[" [ value ("," value)* [","] ] "]"
    NAME   := [A-Za-z_][A-Za-z0-9_-]*
    NUMBER := Python's decimal int/float literals with an optional sign: 1, -1, +2, .5, 1e-3, 1_000

true/false/none are read in any case (True, FALSE, None). As in Python, `(x)` is just x and `(x,)` is a 1-tuple;
a bracketed list is a tuple too (`betas=[0.9, 0.99]` is `betas=(0.9, 0.99)`, `[x]` is `(x,)`).
Keywords are folded like registry names (`Weight-Decay` -> `weight_decay`). Numbers must be finite (1e999 is refused).
Integers stay `int` in an OptimizerCall; the registry's checks turn them into floats.

Also here: `parse_start("1.5, -2")` and `parse_size("1280x720")`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NoReturn

from optviz.errors import UsageError
from optviz.optimizers import OPTIMIZERS, OptimizerDef
from optviz.optimizers.base import HyperValue

Value = int | float | bool | None | tuple["Value", ...]

MAX_TEXT_CHARS = 2000  # one --opt text; far beyond any real list, small enough that errors stay readable
MAX_NAME_CHARS = 40  # optimiser names and keywords; the longest real one is about 25
MAX_TUPLE_DEPTH = 8  # (((0.9))) nesting; real hyperparameters are at most pairs
_SHOWN_CHARS = 80  # longer items are cut in error messages
_SHOWN_TOKEN_CHARS = 30  # and longer names or numbers
_SHOWN_MESSAGE_CHARS = 300  # and the registry's messages

# torch.optim's implementation switches: they pick a kernel (for-each, fused, CUDA-graph capturable,
# autograd-differentiable) but never change the update's mathematics, so they are accepted and dropped.
TORCH_SWITCHES = frozenset({"foreach", "fused", "capturable", "differentiable"})

_DIGITS = r"[0-9](?:_?[0-9])*"
_NUMBER = re.compile(rf"[+-]?(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_OPENING = {"(": ")", "[": "]"}
_CLOSING = {")": "(", "]": "["}
_WORDS: dict[str, Value] = {"true": True, "false": False, "none": None}
_NOT_FINITE = frozenset({"inf", "infinity", "nan"})


# --------------------------------------------------------------------------- syntax layer


@dataclass(frozen=True)
class OptimizerCall:
    """One `--opt` item as written: a name and keyword values, nothing looked up yet."""

    name: str
    kwargs: dict[str, Value]
    text: str  # the item as typed, stripped


def parse_optimizer_list(texts: Sequence[str] | str) -> list[OptimizerCall]:
    """Parse every `--opt` text (the option may repeat) into calls, in order; a lone string is one text."""
    if isinstance(texts, str):
        texts = [texts]
    calls = [call for text in texts for call in _parse_text(text)]
    if not calls:
        raise UsageError("no optimizer given: use --opt NAME, e.g. --opt adam")
    return calls


def format_value(value: Value) -> str:
    """The literal that parses back to exactly `value` (floats in repr form, the shortest that round-trips)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple):
        inner = ", ".join(format_value(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    raise TypeError(f"not a spec value: {value!r}")


def format_call(name: str, kwargs: Mapping[str, Value]) -> str:
    """`adam(lr=0.05, betas=(0.9, 0.99))`, or just the name when there are no keywords."""
    if not kwargs:
        return name
    return f"{name}({', '.join(f'{key}={format_value(value)}' for key, value in kwargs.items())})"


def _quote(text: str, limit: int = _SHOWN_CHARS) -> str:
    """A one-line, length-capped rendering of user text for error messages."""
    return repr(_shorten(text, limit))  # repr escapes newlines and every other non-printable character


def _shorten(text: str, limit: int = _SHOWN_TOKEN_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _parse_text(text: str) -> list[OptimizerCall]:
    if len(text) > MAX_TEXT_CHARS:
        raise UsageError(f"--opt is too long ({len(text)} characters; at most {MAX_TEXT_CHARS})")
    if not text.strip():
        raise UsageError("empty --opt: give optimizer names such as 'adam' or 'sgd(lr=0.01)'")
    return [_ItemParser(item).parse() for item in _split_items(text)]


def _split_items(text: str) -> list[str]:
    """Split on commas outside parentheses; refuse empty items and unbalanced parentheses."""
    items: list[str] = []
    open_columns: list[tuple[str, int]] = []  # (opening bracket, its column)
    start = 0
    for index, char in enumerate(text):
        if char in _OPENING:
            open_columns.append((char, index + 1))
        elif char in _CLOSING:
            if not open_columns or _CLOSING[char] != open_columns[-1][0]:
                raise UsageError(f"bad --opt {_quote(text)}: unmatched '{char}' at column {index + 1}")
            open_columns.pop()
        elif char == "," and not open_columns:
            items.append(_non_empty_item(text, start, index))
            start = index + 1
    if open_columns:
        bracket, column = open_columns[-1]
        raise UsageError(f"bad --opt {_quote(text)}: '{bracket}' at column {column} is never closed")
    items.append(_non_empty_item(text, start, len(text)))
    return items


def _non_empty_item(text: str, start: int, end: int) -> str:
    item = text[start:end].strip()
    if not item:
        if start == 0:
            where = "leading comma"
        elif end == len(text):
            where = "trailing comma"
        else:
            where = f"empty item at column {end + 1}"
        raise UsageError(f"bad --opt {_quote(text)}: {where} (expected an optimizer name)")
    return item


@dataclass(frozen=True)
class _Token:
    kind: str  # "name", "number", "end", or the punctuation itself: "(", ")", "[", "]", ",", "="
    text: str
    column: int  # 1-based, within the item
    value: Value = None  # numbers only


class _ItemParser:
    """Recursive descent over one item; tokens are read lazily, so the first problem is the one reported."""

    def __init__(self, item: str):
        self.item = item
        self.position = 0
        self.token = self._read_token()

    # --- tokens

    def _read_token(self) -> _Token:
        text, at = self.item, self.position
        while at < len(text) and text[at].isspace():
            at += 1
        column = at + 1
        if at == len(text):
            self.position = at
            return _Token("end", "", column)
        if text[at] in "()[],=":
            self.position = at + 1
            return _Token(text[at], text[at], column)
        if match := _NAME.match(text, at):
            self.position = match.end()
            return _Token("name", self._name(match.group(), column), column)
        if match := _NUMBER.match(text, at):
            self.position = match.end()
            return _Token("number", match.group(), column, self._number(match.group(), column))
        self._fail(f"unexpected character {text[at]!r}", column)

    def _name(self, name: str, column: int) -> str:
        if len(name) > MAX_NAME_CHARS:
            self._fail(f"name {_quote(name, _SHOWN_TOKEN_CHARS)} is longer than {MAX_NAME_CHARS} characters", column)
        return name

    def _number(self, literal: str, column: int) -> int | float:
        number = float(literal)
        if not math.isfinite(number):
            self._fail(f"number {_quote(literal, _SHOWN_TOKEN_CHARS)} is too large (values must be finite)", column)
        return int(literal) if not any(c in literal for c in ".eE") else number

    def _advance(self) -> _Token:
        current = self.token
        self.token = self._read_token()
        return current

    def _fail(self, problem: str, column: int) -> NoReturn:
        raise UsageError(f"bad --opt {_quote(self.item)}: {problem} at column {column}")

    def _unexpected(self, expected: str) -> NoReturn:
        found = "the end" if self.token.kind == "end" else _quote(self.token.text, _SHOWN_TOKEN_CHARS)
        self._fail(f"expected {expected}, found {found}", self.token.column)

    # --- grammar

    def parse(self) -> OptimizerCall:
        if self.token.kind != "name":
            self._unexpected("an optimizer name")
        name = self._advance().text
        kwargs: dict[str, Value] = {}
        if self.token.kind == "(":
            self._advance()
            kwargs = self._keywords(name)
            if self.token.kind != "end":
                self._unexpected("',' after ')'")
        elif self.token.kind != "end":
            self._unexpected(f"'(' or ',' after '{_shorten(name)}'")
        return OptimizerCall(name=name, kwargs=kwargs, text=self.item)

    def _keywords(self, name: str) -> dict[str, Value]:
        """`key=value, ...` up to and including the closing parenthesis."""
        kwargs: dict[str, Value] = {}
        while self.token.kind != ")":
            key_token = self.token
            is_word = key_token.kind == "name" and key_token.text.lower() in _WORDS
            if key_token.kind in ("number", "(", "[") or is_word:
                self._fail(f"arguments must be keyword=value, e.g. {_shorten(name)}(lr=0.1)", key_token.column)
            if key_token.kind != "name":
                self._unexpected("a keyword such as lr=0.1")
            self._advance()
            if self.token.kind != "=":
                self._unexpected(f"'=' after '{_shorten(key_token.text)}'")
            self._advance()
            key = key_token.text.lower().replace("-", "_")
            if key in kwargs:
                self._fail(f"keyword '{_shorten(key_token.text)}' given twice", key_token.column)
            kwargs[key] = self._value(_shorten(key_token.text), depth=0)
            self._after_element(f"the value of '{_shorten(key_token.text)}'")
        self._advance()
        return kwargs

    def _after_element(self, what: str, closing: str = ")") -> None:
        """After a keyword's value or a tuple entry: a comma (maybe then the closing bracket), or that bracket."""
        if self.token.kind == ",":
            self._advance()
        elif self.token.kind != closing:
            self._unexpected(f"',' or '{closing}' after {what}")

    def _value(self, key: str, depth: int) -> Value:
        token = self.token
        if token.kind == "number":
            return self._advance().value
        if token.kind == "name" and token.text.lower() in _WORDS:
            self._advance()
            return _WORDS[token.text.lower()]
        if token.kind == "name" and token.text.lower() in _NOT_FINITE:
            self._fail(f"'{token.text}' is not allowed (values must be finite numbers)", token.column)
        if token.kind in _OPENING:
            if depth >= MAX_TUPLE_DEPTH:
                self._fail(f"tuples nested more than {MAX_TUPLE_DEPTH} deep", token.column)
            return self._tuple(key, depth + 1)
        self._unexpected(f"a number, true, false, none or a tuple for '{key}'")

    def _tuple(self, key: str, depth: int) -> Value:
        """`(a, b)`, `(a,)`, `()`, `[a, b]`, `[a]`; a parenthesised value without a comma is the value itself, as in
        Python, and a bracketed list is always a tuple."""
        bracket = self._advance().kind
        closing = _OPENING[bracket]
        entries: list[Value] = []
        saw_comma = False
        while self.token.kind != closing:
            entries.append(self._value(key, depth))
            saw_comma = saw_comma or self.token.kind == ","
            self._after_element(f"an entry of '{key}'", closing)
        self._advance()
        return entries[0] if bracket == "(" and len(entries) == 1 and not saw_comma else tuple(entries)


# --------------------------------------------------------------------------- resolution layer


@dataclass(frozen=True)
class OptimizerSpec:
    """One optimiser of a run, fully resolved; echoed into the JSON output so any run can be reproduced."""

    label: str  # unique within the run: the name, or the name with the user's keywords when it repeats
    optimizer: str  # canonical registry name
    params: dict[str, HyperValue]  # every hyperparameter, defaults filled in, validated
    lr_given: bool  # the user set lr


def resolve_optimizers(calls: Sequence[OptimizerCall]) -> list[OptimizerSpec]:
    """Look each call up in the registry, fill and check its hyperparameters, and label it.

    Labels are the canonical name when that optimiser appears once; when it repeats, each shows the
    keywords the user gave, normalised (`adam(lr=0.05)`, `adam(lr=0.01)`), and items that are still
    identical get ` #2`, ` #3`.
    """
    resolved = [_resolve(call) for call in calls]
    repeats = Counter(entry.name for entry, _, _ in resolved)
    seen: Counter[str] = Counter()
    specs = []
    for entry, given, params in resolved:
        label = entry.name
        if repeats[entry.name] > 1:  # the keywords the user gave, in the registry's order, as validated
            shown = {h.name: params[h.name] for h in entry.hyperparameters if h.name in given}
            label = format_call(entry.name, shown)
        seen[label] += 1
        if seen[label] > 1:
            label = f"{label} #{seen[label]}"
        specs.append(OptimizerSpec(label=label, optimizer=entry.name, params=params, lr_given="lr" in given))
    return specs


def _resolve(call: OptimizerCall) -> tuple[OptimizerDef, dict[str, Value], dict[str, HyperValue]]:
    """(registry entry, the user's keywords without torch's switches, every hyperparameter)."""
    entry = OPTIMIZERS.get(call.name)
    for key in TORCH_SWITCHES.intersection(call.kwargs):
        if not (call.kwargs[key] is None or isinstance(call.kwargs[key], bool)):
            raise UsageError(f"bad --opt {_quote(call.text)}: {key} must be true, false or none "
                             f"(got {format_value(call.kwargs[key])})")
    given = {key: value for key, value in call.kwargs.items() if key not in TORCH_SWITCHES}
    try:
        params = entry.resolve(given)
    except UsageError as error:
        # the registry quotes the value it refuses; a long tuple would make a long message
        raise UsageError(f"bad --opt {_quote(call.text)}: {_shorten(str(error), _SHOWN_MESSAGE_CHARS)}") from error
    return entry, given, params


# --------------------------------------------------------------------------- start points and sizes

_MAX_SHORT_TEXT = 200  # --start and --size are a few characters; this keeps messages and int() small
_BRACKETS = {"(": ")", "[": "]"}
_SIZE = re.compile(r"\s*([0-9]+)\s*[x×]\s*([0-9]+)\s*", re.IGNORECASE)


def parse_start(text: str) -> tuple[float, ...]:
    """`--start X,Y` (or `--start X` for a 1-D problem): finite numbers, optionally in parentheses or brackets:
    "1,2", " (1.5, -2) ", "[0,1e-3]", "3"."""
    return _parse_numbers(text, "start", (1, 2), "one number X (1-D) or two numbers X,Y such as 1.5,-2",
                          ("X", "Y"))


def parse_domain(text: str) -> tuple[tuple[float, float], ...]:
    """`--domain XMIN,XMAX,YMIN,YMAX` (or `XMIN,XMAX` in 1-D): the view, each interval non-empty."""
    numbers = _parse_numbers(text, "domain", (2, 4), "XMIN,XMAX (1-D) or XMIN,XMAX,YMIN,YMAX such as -2,2,-1,3",
                             ("XMIN", "XMAX", "YMIN", "YMAX"))
    intervals = tuple((numbers[i], numbers[i + 1]) for i in range(0, len(numbers), 2))
    for axis, (low, high) in zip("xy", intervals):
        if not low < high:
            raise UsageError(f"bad --domain {_quote(text)}: {axis} runs from {low:g} to {high:g}; the low end must "
                             f"come first and differ from the high end")
        if not math.isfinite(high - low):
            raise UsageError(f"bad --domain {_quote(text)}: the {axis} interval is too wide to draw")
    return intervals


def _parse_numbers(text: str, option: str, counts: tuple[int, ...], expected: str,
                   names: tuple[str, ...]) -> tuple[float, ...]:
    if len(text) > _MAX_SHORT_TEXT:
        raise UsageError(f"--{option} is too long ({len(text)} characters); expected {expected}")
    inner = text.strip()
    if inner[:1] in _BRACKETS or inner[-1:] in _BRACKETS.values():
        if len(inner) < 2 or _BRACKETS.get(inner[0]) != inner[-1]:
            raise UsageError(f"bad --{option} {_quote(text)}: mismatched brackets; expected {expected}")
        inner = inner[1:-1]
    parts = [part.strip() for part in inner.split(",")] if inner.strip() else []
    if len(parts) not in counts:
        raise UsageError(f"bad --{option} {_quote(text)}: expected {expected}, got {len(parts)}")
    return tuple(_coordinate(text, part, name, option) for part, name in zip(parts, names))


def _coordinate(text: str, part: str, axis: str, option: str = "start") -> float:
    if part.lower().lstrip("+-") in _NOT_FINITE:
        raise UsageError(f"bad --{option} {_quote(text)}: {axis} must be a finite number, got {_quote(part)}")
    if not _NUMBER.fullmatch(part):
        raise UsageError(f"bad --{option} {_quote(text)}: {axis} must be a number, got {_quote(part)}")
    value = float(part)
    if not math.isfinite(value):
        raise UsageError(f"bad --{option} {_quote(text)}: {axis} = {_shorten(part)} is too large (must be finite)")
    return value


def parse_size(text: str) -> tuple[int, int]:
    """`--size WxH` in pixels ("1280x720", "1280 X 720", "1280×720"): two positive integers (width, height)."""
    match = _SIZE.fullmatch(text) if len(text) <= _MAX_SHORT_TEXT else None
    if not match:
        raise UsageError(f"bad --size {_quote(text)}: expected WIDTHxHEIGHT in pixels, such as 1280x720")
    width, height = int(match.group(1)), int(match.group(2))
    if width < 1 or height < 1:
        raise UsageError(f"bad --size {_quote(text)}: width and height must be at least 1 pixel")
    return width, height
