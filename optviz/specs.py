"""Parse what people type on the command line into frozen, JSON-able syntax; nothing typed is ever evaluated.

`--opt` lists are read here into calls, `parse_optimizer_list(["adam(lr=0.05, betas=(0.9, 0.99)),sgd"])` gives
`[OptimizerCall("adam", {"lr": 0.05, "betas": (0.9, 0.99)}), OptimizerCall("sgd", {})]`; `optviz.racing` resolves
each call against the optimiser registry (or an import path) into one `Run`.

The grammar of one `--opt` text, read by a hand-written tokenizer and recursive-descent parser (every error names
the item, what was expected and the column):

    list    := item ("," item)*
    item    := PATH [ "(" [ kwarg ("," kwarg)* [","] ] ")" ]
    kwarg   := NAME "=" value
    value   := NUMBER | true | false | none | STRING
             | "(" [ value ("," value)* [","] ] ")"          a tuple
             | "[" [ value ("," value)* [","] ] "]"          a list, read as a tuple
             | PATH "(" [ kwarg ("," kwarg)* [","] ] ")"     a call, e.g. schedule=cosine(T_max=100)
    PATH    := DOTTED [ ":" DOTTED ]                         adam, torch.optim.ASGD, package.module:ClassName
    DOTTED  := NAME ("." IDENT)*
    NAME    := [A-Za-z_][A-Za-z0-9_-]*        IDENT := [A-Za-z_][A-Za-z0-9_]*
    STRING  := '...' | "..."                  no escapes, no line breaks
    NUMBER  := Python's decimal int/float literals with an optional sign: 1, -1, +2, .5, 1e-3, 1_000

true/false/none are read in any case (True, FALSE, None). As in Python, `(x)` is just x and `(x,)` is a 1-tuple;
a bracketed list is a tuple too (`betas=[0.9, 0.99]` is `betas=(0.9, 0.99)`, `[x]` is `(x,)`).
Keywords are folded like registry names (`Weight-Decay` -> `weight_decay`). Numbers must be finite (1e999 is refused).
Integers stay `int` in an OptimizerCall; the registry's checks turn them into floats. A call value is an
OptimizerCall too; what it names is looked up by whoever reads the keyword (the schedules registry for `schedule`).

Also here: `format_number` (how every number is shown to people), `parse_start("1.5, -2")` and
`parse_size("1280x720")`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NoReturn

from optviz.errors import UsageError

MAX_TEXT_CHARS = 2000  # one --opt text; far beyond any real list, small enough that errors stay readable
MAX_NAME_CHARS = 40  # optimiser names and keywords; the longest real one is about 25
MAX_PATH_CHARS = 200  # import paths such as torch.optim.lr_scheduler.CosineAnnealingWarmRestarts
MAX_STRING_CHARS = 100  # quoted values such as "strong_wolfe"
MAX_TUPLE_DEPTH = 8  # (((0.9))) nesting; real hyperparameters are at most pairs
_SHOWN_CHARS = 80  # longer items are cut in error messages
_SHOWN_TOKEN_CHARS = 30  # and longer names or numbers
_SHOWN_MESSAGE_CHARS = 300  # and the registry's messages

# torch.optim's implementation switches: they pick a kernel (for-each, fused, CUDA-graph capturable,
# autograd-differentiable) but never change the update's mathematics, so built-ins accept and drop them.
TORCH_SWITCHES = frozenset({"foreach", "fused", "capturable", "differentiable"})

_DIGITS = r"[0-9](?:_?[0-9])*"
_NUMBER = re.compile(rf"[+-]?(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][+-]?[0-9]+)?")
_DOTTED = r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_PATH = re.compile(rf"{_DOTTED}(?::{_DOTTED})?")
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_WORDS: dict[str, Value] = {"true": True, "false": False, "none": None}
_NOT_FINITE = frozenset({"inf", "infinity", "nan"})
_CLOSING = {"(": ")", "[": "]"}
_QUOTES = "'\""


# --------------------------------------------------------------------------- syntax


@dataclass(frozen=True)
class OptimizerCall:
    """One `--opt` item (or a call value such as `cosine(T_max=100)`) as written: nothing looked up yet."""

    name: str  # a registry name or an import path, as typed
    kwargs: dict[str, Value]
    text: str  # the item as typed, stripped


Value = int | float | bool | None | str | tuple["Value", ...] | OptimizerCall


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
    if isinstance(value, str):
        if "'" in value and '"' in value:
            raise TypeError(f"a spec string cannot hold both quotes: {value!r}")
        return f"'{value}'" if "'" not in value else f'"{value}"'
    if isinstance(value, tuple):
        inner = ", ".join(format_value(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, OptimizerCall):  # a call value keeps its parentheses: a bare word is no value
        return format_call(value.name, value.kwargs) if value.kwargs else f"{value.name}()"
    raise TypeError(f"not a spec value: {value!r}")


def format_call(name: str, kwargs: Mapping[str, Value]) -> str:
    """`adam(lr=0.05, betas=(0.9, 0.99))`, or just the name when there are no keywords."""
    if not kwargs:
        return name
    return f"{name}({', '.join(f'{key}={format_value(value)}' for key, value in kwargs.items())})"


def format_number(value: float, digits: int | None = 3) -> str:
    """How optviz shows a number to people (legends, labels, tables): `digits` significant digits (None: the
    shortest text that is exactly the value), short exponents, whole parts up to 10^6 in full.

    0.05 -> "0.05", 0.0316227766 -> "0.0316", 1e-05 -> "1e-5", 1000.0 -> "1000", 12345.6 -> "12346",
    2e6 -> "2e+6", -0.0 -> "0", inf -> "inf"; with digits=None, 0.12345 -> "0.12345" and 1.0 -> "1".
    """
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return str(float(value))
    if digits is None:
        text = repr(float(value))
        text = text[:-2] if text.endswith(".0") else text
    else:
        if 1 <= abs(value) < 1e6:
            digits = max(digits, len(str(int(abs(value)))))
        text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{'+' if int(exponent) > 0 else '-'}{abs(int(exponent))}"
    return text


def show_value(value: Value, digits: int | None = 3) -> str:
    """A value as people read it in labels: spec syntax, every number through `format_number`, words bare."""
    if isinstance(value, bool) or value is None:
        return format_value(value)
    if isinstance(value, int | float):
        return format_number(value, digits)
    if isinstance(value, str) and _PLAIN_NAME.fullmatch(value) and value.lower() not in {*_WORDS, *_NOT_FINITE}:
        return value
    if isinstance(value, tuple):
        return "(" + ", ".join(show_value(v, digits) for v in value) + ("," if len(value) == 1 else "") + ")"
    return format_value(value)


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
    """Split on commas outside brackets and quotes; refuse empty items, unbalanced brackets and open quotes."""
    items: list[str] = []
    open_brackets: list[tuple[str, int]] = []
    start, index = 0, 0
    while index < len(text):
        char = text[index]
        if char in _QUOTES:
            end = text.find(char, index + 1)
            if end < 0:
                raise UsageError(f"bad --opt {_quote(text)}: the quote {char} at column {index + 1} is never closed")
            index = end
        elif char in _CLOSING:
            open_brackets.append((char, index + 1))
        elif char in ")]":
            if not open_brackets or _CLOSING[open_brackets[-1][0]] != char:
                raise UsageError(f"bad --opt {_quote(text)}: unmatched '{char}' at column {index + 1}")
            open_brackets.pop()
        elif char == "," and not open_brackets:
            items.append(_non_empty_item(text, start, index))
            start = index + 1
        index += 1
    if open_brackets:
        bracket, column = open_brackets[-1]
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
    kind: str  # "name", "number", "string", "end", or the punctuation itself: "(", ")", "[", "]", ",", "="
    text: str
    column: int  # 1-based, within the item
    value: Value = None  # numbers and strings only


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
        if text[at] in _QUOTES:
            return self._string(at, column)
        if match := _PATH.match(text, at):
            self.position = match.end()
            return _Token("name", self._name(match.group(), column), column)
        if match := _NUMBER.match(text, at):
            self.position = match.end()
            return _Token("number", match.group(), column, self._number(match.group(), column))
        self._fail(f"unexpected character {text[at]!r}", column)

    def _string(self, at: int, column: int) -> _Token:
        end = self.item.find(self.item[at], at + 1)  # _split_items made sure the quote is closed
        value = self.item[at + 1: end]
        if "\n" in value or "\r" in value:
            self._fail("a quoted string cannot span lines", column)
        if len(value) > MAX_STRING_CHARS:
            self._fail(f"quoted string longer than {MAX_STRING_CHARS} characters", column)
        self.position = end + 1
        return _Token("string", self.item[at: end + 1], column, value)

    def _name(self, name: str, column: int) -> str:
        limit = MAX_NAME_CHARS if _PLAIN_NAME.fullmatch(name) else MAX_PATH_CHARS
        if len(name) > limit:
            self._fail(f"name {_quote(name, _SHOWN_TOKEN_CHARS)} is longer than {limit} characters", column)
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
        start = self.token.column - 1
        name = self._advance().text
        kwargs: dict[str, Value] = {}
        if self.token.kind == "(":
            self._advance()
            kwargs = self._keywords(name, depth=0)
            if self.token.kind != "end":
                self._unexpected("',' after ')'")
        elif self.token.kind != "end":
            self._unexpected(f"'(' or ',' after '{_shorten(name)}'")
        return OptimizerCall(name=name, kwargs=kwargs, text=self.item[start:].strip())

    def _keywords(self, name: str, depth: int) -> dict[str, Value]:
        """`key=value, ...` up to and including the closing parenthesis."""
        kwargs: dict[str, Value] = {}
        while self.token.kind != ")":
            key_token = self.token
            is_word = key_token.kind == "name" and key_token.text.lower() in _WORDS
            if key_token.kind in ("number", "string", "(", "[") or is_word:
                self._fail(f"arguments must be keyword=value, e.g. {_shorten(name)}(lr=0.1)", key_token.column)
            if key_token.kind != "name" or not _PLAIN_NAME.fullmatch(key_token.text):
                self._unexpected("a keyword such as lr=0.1")
            self._advance()
            if self.token.kind != "=":
                self._unexpected(f"'=' after '{_shorten(key_token.text)}'")
            self._advance()
            key = key_token.text.lower().replace("-", "_")
            if key in kwargs:
                self._fail(f"keyword '{_shorten(key_token.text)}' given twice", key_token.column)
            kwargs[key] = self._value(_shorten(key_token.text), depth)
            self._after_element(f"the value of '{_shorten(key_token.text)}'", ")")
        self._advance()
        return kwargs

    def _after_element(self, what: str, closing: str) -> None:
        """After a keyword's value or a tuple entry: a comma (maybe then the closing bracket), or the bracket."""
        if self.token.kind == ",":
            self._advance()
        elif self.token.kind != closing:
            self._unexpected(f"',' or '{closing}' after {what}")

    def _value(self, key: str, depth: int) -> Value:
        token = self.token
        if token.kind in ("number", "string"):
            return self._advance().value
        if token.kind == "name" and token.text.lower() in _WORDS:
            self._advance()
            return _WORDS[token.text.lower()]
        if token.kind == "name" and token.text.lower() in _NOT_FINITE:
            self._fail(f"'{token.text}' is not allowed (values must be finite numbers)", token.column)
        if token.kind in ("(", "[") or token.kind == "name":
            if depth >= MAX_TUPLE_DEPTH:
                self._fail(f"values nested more than {MAX_TUPLE_DEPTH} deep", token.column)
        if token.kind in ("(", "["):
            return self._sequence(key, depth + 1)
        if token.kind == "name":
            return self._call(key, depth + 1)
        self._unexpected(f"a number, true, false, none, a quoted string, a tuple or a call for '{key}'")

    def _call(self, key: str, depth: int) -> OptimizerCall:
        """`name(key=value, ...)` as a value; a bare name is refused (quote a word: 'linear')."""
        name_token = self._advance()
        if self.token.kind != "(":
            self._fail(f"expected a number, true, false, none, a quoted string, a tuple or a call for '{key}', "
                       f"found {_quote(name_token.text, _SHOWN_TOKEN_CHARS)} (quote a word: "
                       f"'{_shorten(name_token.text)}')", name_token.column)
        self._advance()
        kwargs = self._keywords(name_token.text, depth)
        text = self.item[name_token.column - 1: self._previous_end()]
        return OptimizerCall(name=name_token.text, kwargs=kwargs, text=text)

    def _previous_end(self) -> int:
        """Index just past the ')' that was consumed last (the current token starts after it, maybe after spaces)."""
        return self.item.rindex(")", 0, self.token.column - 1 if self.token.kind != "end" else len(self.item)) + 1

    def _sequence(self, key: str, depth: int) -> Value:
        """`(a, b)`, `(a,)`, `()`, `[a, b]`; a parenthesised value without a comma is the value itself, as in
        Python; a bracketed list is always a tuple."""
        opening = self._advance().kind
        closing = _CLOSING[opening]
        entries: list[Value] = []
        saw_comma = False
        while self.token.kind != closing:
            entries.append(self._value(key, depth))
            saw_comma = saw_comma or self.token.kind == ","
            self._after_element(f"an entry of '{key}'", closing)
        self._advance()
        if opening == "(" and len(entries) == 1 and not saw_comma:
            return entries[0]
        return tuple(entries)


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
        raise UsageError(f"bad value {_quote(text)}: expected WIDTHxHEIGHT in pixels, such as 1280x720",
                         parameter="size")
    width, height = int(match.group(1)), int(match.group(2))
    if width < 1 or height < 1:
        raise UsageError(f"bad value {_quote(text)}: width and height must be at least 1 pixel", parameter="size")
    return width, height


MAX_STARTS = 1_000_000  # a million starts of a few bytes each; beyond this a grid is no picture and no statistic
_STARTS = re.compile(r"\s*(grid|random)\s*:\s*([0-9]{1,15})\s*(?:[x×]\s*([0-9]{1,15})\s*)?", re.IGNORECASE)
_STARTS_EXPECTED = "grid:NxM, grid:N (1-D) or random:N, such as grid:8x8"


@dataclass(frozen=True)
class StartsSpec:
    """Many starts, spread over the domain: `grid` (counts per axis, cell centres) or `random` (uniform, seeded)."""

    kind: str  # "grid" or "random"
    counts: tuple[int, ...]  # grid: points along x[, y]; random: (how many,)

    @property
    def text(self) -> str:
        """The spec as the user would type it (echoed into the JSON)."""
        return f"{self.kind}:{'x'.join(map(str, self.counts))}"

    def points(self, domain: Sequence[tuple[float, float]], seed: int = 0):
        """The starts as a float64 array (n, d) for a domain with d intervals; grid points are row-major in y."""
        import numpy as np

        low, high = np.asarray(domain, dtype=np.float64).T
        if self.kind == "random":
            return np.random.default_rng(seed).uniform(low, high, size=(self.counts[0], len(domain)))
        counts = self.counts * len(domain) if len(self.counts) == 1 else self.counts
        if len(counts) != len(domain):
            raise UsageError(f"{self.text} spreads starts over {len(counts)} coordinates; this function has "
                             f"{len(domain)} (use grid:N)", parameter="starts")
        axes = [lo + (np.arange(n) + 0.5) * (hi - lo) / n for lo, hi, n in zip(low, high, counts)]
        mesh = np.meshgrid(*axes, indexing="xy")
        return np.column_stack([m.ravel() for m in mesh])


def parse_starts(text: str) -> StartsSpec:
    """`--starts grid:8x8`, `grid:16` (1-D, or 16x16 in 2-D) or `random:100`: at least one start, at most
    MAX_STARTS."""
    if not isinstance(text, str):
        raise UsageError(f"expected {_STARTS_EXPECTED} (got {type(text).__name__})", parameter="starts")
    if len(text) > _MAX_SHORT_TEXT:
        raise UsageError(f"too long ({len(text)} characters); expected {_STARTS_EXPECTED}", parameter="starts")
    match = _STARTS.fullmatch(text)
    if not match:
        raise UsageError(f"bad {_quote(text)}: expected {_STARTS_EXPECTED}", parameter="starts")
    kind = match.group(1).lower()
    counts = tuple(int(g) for g in match.groups()[1:] if g is not None)
    if kind == "random" and len(counts) != 1:
        raise UsageError(f"bad {_quote(text)}: random takes one count, such as random:100", parameter="starts")
    total = math.prod(counts)
    if min(counts) < 1 or total > MAX_STARTS:
        raise UsageError(f"bad {_quote(text)}: from 1 to {MAX_STARTS:,} starts (got {total:,})", parameter="starts")
    return StartsSpec(kind, counts)
