"""User-typed formulas, `--fn "(1-x)**2 + 100*(y-x**2)**2"`: a whitelisting parser and exact derivatives.

Grammar (a hand-written recursive-descent parser; Python's `ast`, `eval`, `exec` and `compile` are never used)::

    expression := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := ("-" | "+") unary | power
    power      := postfix ("**" unary)?            # right-associative: 2**3**2 = 2**9; "^" is "**"
    postfix    := "√" postfix | primary SUPERSCRIPT*   # √x² = √(x²); x²³ = x**23, x⁻¹ = x**-1
    primary    := NUMBER | "x" | "y" | "pi" | "e" | FUNCTION "(" expression ("," expression)? ")"
                | "(" expression ")"

Unicode that people paste is read as its ASCII meaning: `·`, `×` and `⋅` multiply, `÷` divides, `−` subtracts,
`π` is pi, `√` a square root and superscript digits a power, so `parse_expression(e.pretty())` gives `e` back.
Unary plus is dropped; implicit multiplication (`2x`) is refused with a hint.

Refusals are one-line `UsageError(..., parameter="fn")` naming the 1-based column: anything outside the grammar
(attributes, subscripts, strings, lambdas, comparisons, keywords, other names and functions), constant parts that
are not finite (`1e999`, `1/0`, `exp(1000)`), power towers of more than `MAX_TOWER` `**` and constant exponents
beyond `MAX_EXPONENT`, and anything beyond the size limits below, which are checked while parsing so that no
input can hang the parser or exhaust memory. An expression without x or y is refused: a constant function has a
zero gradient everywhere, and no race on it can show anything.

Derivatives are exact and symbolic: the tree is lowered into a hash-consed graph of terms (common
subexpressions shared, constant parts folded, `u*1`, `u+0`, `u**1` simplified as terms are built), each
variable's derivative is built by the chain rule as more terms of the same graph (so second derivatives are
derivatives of derivatives), and the terms an output needs are compiled into a flat tape of numpy calls run
over whole arrays. At a point where f is not differentiable the result is numpy's natural value (inf or nan),
except `abs`, whose derivative at 0 is the subgradient 0 (`sign(0) = 0`).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple, Union

import numpy as np

from optviz.errors import UsageError
from optviz.registry import Registry, closest_name, normalise_name

Array = np.ndarray

MAX_LENGTH = 1000  # characters of (stripped) text
MAX_NESTING = 40  # open brackets, prefix operators and exponents inside one another, checked before recursing
MAX_DEPTH = 100  # levels of the tree (a chain x+x+...+x of n terms is n levels deep)
MAX_NODES = 400  # nodes of the tree
MAX_TOWER = 3  # ** operators chained in one power tower: a**b**c**d is allowed, a**b**c**d**e is not
MAX_EXPONENT = 1000.0  # |constant exponent|

PARAMETER = "fn"
VARIABLES = ("x", "y")


# --------------------------------------------------------------------------------------------------------------
# The tree
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    """A finite, non-negative literal (a minus sign in front is a `Unary`)."""

    value: float


@dataclass(frozen=True)
class Variable:
    name: str  # "x" or "y"


@dataclass(frozen=True)
class Constant:
    name: str  # "pi" or "e"


@dataclass(frozen=True)
class Unary:
    op: str  # "-"
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str  # "+", "-", "*", "/" or "**"
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    name: str  # the canonical name of a `MATH_FUNCTIONS` entry (aliases resolved)
    args: tuple[Node, ...]


Node = Union[Number, Variable, Constant, Unary, Binary, Call]

CONSTANTS = {"pi": math.pi, "e": math.e}


# --------------------------------------------------------------------------------------------------------------
# The functions
# --------------------------------------------------------------------------------------------------------------

# A partial-derivative rule builds, in graph `g`, the terms for df/d(arg_i) of the term `f` = name(*args).
Partials = Callable[["_Graph", int, tuple[int, ...]], tuple[int, ...]]


@dataclass(frozen=True)
class MathFunction:
    """A function the grammar accepts: its numpy evaluation and the chain-rule factors df/du_i as terms.

    Only first partials are listed: the Hessian differentiates those terms again, so every function a rule
    uses must itself be an entry (internal ones such as `sign` are not offered to users).
    """

    name: str
    aliases: tuple[str, ...]
    arity: int
    evaluate: Callable[..., Array]
    partials: Partials
    derivative: str  # the rule, for the documentation and `optviz list`


def _sigmoid(u: Array) -> Array:
    """1 / (1 + exp(-u)), as exp(-log(1 + exp(-u))) so that neither sign of u overflows."""
    return np.exp(-np.logaddexp(0.0, -u))


def _softplus(u: Array) -> Array:
    """log(1 + exp(u)) without overflow: logaddexp(0, u)."""
    return np.logaddexp(0.0, u)


def _one_over(g: _Graph, term: int) -> int:
    return g.div(g.const(1.0), term)


def _one_minus_square(g: _Graph, term: int) -> int:
    return g.sub(g.const(1.0), g.square(term))


LN2, LN10 = math.log(2.0), math.log(10.0)

MATH_FUNCTION_LIST = [
    MathFunction("sin", (), 1, np.sin, lambda g, f, a: (g.call("cos", a[0]),), "cos u"),
    MathFunction("cos", (), 1, np.cos, lambda g, f, a: (g.neg(g.call("sin", a[0])),), "-sin u"),
    MathFunction("tan", (), 1, np.tan, lambda g, f, a: (g.add(g.const(1.0), g.square(f)),), "1 + tan² u"),
    MathFunction("exp", (), 1, np.exp, lambda g, f, a: (f,), "exp u"),
    MathFunction("exp2", (), 1, np.exp2, lambda g, f, a: (g.mul(g.const(LN2), f),), "ln 2 · 2^u"),
    MathFunction("expm1", (), 1, np.expm1, lambda g, f, a: (g.call("exp", a[0]),), "exp u"),
    MathFunction("log", ("ln",), 1, np.log, lambda g, f, a: (_one_over(g, a[0]),), "1/u"),
    MathFunction("log2", (), 1, np.log2, lambda g, f, a: (_one_over(g, g.mul(g.const(LN2), a[0])),),
                 "1/(u ln 2)"),
    MathFunction("log10", (), 1, np.log10, lambda g, f, a: (_one_over(g, g.mul(g.const(LN10), a[0])),),
                 "1/(u ln 10)"),
    MathFunction("log1p", (), 1, np.log1p, lambda g, f, a: (_one_over(g, g.add(g.const(1.0), a[0])),),
                 "1/(1 + u)"),
    MathFunction("sqrt", (), 1, np.sqrt, lambda g, f, a: (g.div(g.const(0.5), f),), "1/(2 √u)"),
    MathFunction("cbrt", (), 1, np.cbrt, lambda g, f, a: (_one_over(g, g.mul(g.const(3.0), g.square(f))),),
                 "1/(3 ∛u²)"),
    MathFunction("square", (), 1, np.square, lambda g, f, a: (g.mul(g.const(2.0), a[0]),), "2u"),
    MathFunction("abs", (), 1, np.abs, lambda g, f, a: (g.call("sign", a[0]),), "sign u (0 at u = 0)"),
    MathFunction("sinh", (), 1, np.sinh, lambda g, f, a: (g.call("cosh", a[0]),), "cosh u"),
    MathFunction("cosh", (), 1, np.cosh, lambda g, f, a: (g.call("sinh", a[0]),), "sinh u"),
    MathFunction("tanh", (), 1, np.tanh, lambda g, f, a: (_one_minus_square(g, f),), "1 - tanh² u"),
    MathFunction("arcsin", ("asin",), 1, np.arcsin,
                 lambda g, f, a: (_one_over(g, g.call("sqrt", _one_minus_square(g, a[0]))),), "1/√(1 - u²)"),
    MathFunction("arccos", ("acos",), 1, np.arccos,
                 lambda g, f, a: (g.neg(_one_over(g, g.call("sqrt", _one_minus_square(g, a[0])))),),
                 "-1/√(1 - u²)"),
    MathFunction("arctan", ("atan",), 1, np.arctan,
                 lambda g, f, a: (_one_over(g, g.add(g.const(1.0), g.square(a[0]))),), "1/(1 + u²)"),
    MathFunction("arcsinh", ("asinh",), 1, np.arcsinh,
                 lambda g, f, a: (_one_over(g, g.call("sqrt", g.add(g.square(a[0]), g.const(1.0)))),),
                 "1/√(u² + 1)"),
    MathFunction("arccosh", ("acosh",), 1, np.arccosh,
                 lambda g, f, a: (_one_over(g, g.call("sqrt", g.sub(g.square(a[0]), g.const(1.0)))),),
                 "1/√(u² - 1)"),
    MathFunction("arctanh", ("atanh",), 1, np.arctanh,
                 lambda g, f, a: (_one_over(g, _one_minus_square(g, a[0])),), "1/(1 - u²)"),
    MathFunction("sigmoid", ("expit",), 1, _sigmoid,
                 lambda g, f, a: (g.mul(f, g.sub(g.const(1.0), f)),), "σ(u) (1 - σ(u))"),
    MathFunction("softplus", (), 1, _softplus, lambda g, f, a: (g.call("sigmoid", a[0]),), "σ(u)"),
    MathFunction("hypot", (), 2, np.hypot, lambda g, f, a: (g.div(a[0], f), g.div(a[1], f)),
                 "(a, b)/hypot(a, b)"),
    MathFunction("atan2", ("arctan2",), 2, np.arctan2,
                 lambda g, f, a: (g.div(a[1], g.add(g.square(a[0]), g.square(a[1]))),
                                  g.neg(g.div(a[0], g.add(g.square(a[0]), g.square(a[1]))))),
                 "(b, -a)/(a² + b²)"),
]
MATH_FUNCTIONS: Registry[MathFunction] = Registry("function", MATH_FUNCTION_LIST)

# Used by derivative rules only: sign is piecewise constant, so users cannot race on it.
_INTERNAL_FUNCTIONS = [MathFunction("sign", (), 1, np.sign, lambda g, f, a: (g.const(0.0),), "0")]
_EVALUABLE = {entry.name: entry for entry in (*MATH_FUNCTION_LIST, *_INTERNAL_FUNCTIONS)}

# Names people reach for that are deliberately absent, with the reason (and a way to write it, if any).
REFUSED_FUNCTIONS = dict([
    *((name, "is piecewise constant: its gradient is 0 wherever it exists")
      for name in ("sign", "heaviside", "step", "floor", "ceil", "round", "trunc")),
    ("relu", "is not offered (a kink at 0); write (u + abs(u))/2"),
    ("min", "is not offered (a kink where a = b); write (a + b - abs(a - b))/2"),
    ("max", "is not offered (a kink where a = b); write (a + b + abs(a - b))/2"),
    ("mod", "is not continuous"),
    ("fmod", "is not continuous"),
    ("erf", "is not offered: numpy has no vectorised erf"),
])

# --------------------------------------------------------------------------------------------------------------
# The lexer
# --------------------------------------------------------------------------------------------------------------

_NUMBER = re.compile(r"(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUPERSCRIPT_MINUS = "⁻"
_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_OPERATOR_SPELLINGS = {"+": "+", "-": "-", "−": "-", "*": "*", "·": "*", "×": "*", "⋅": "*", "/": "/", "÷": "/",
                       "^": "**"}
_REFUSED_CHARACTERS = {
    "[": "subscripts and lists ('[')", "]": "subscripts and lists (']')", "{": "sets and dicts ('{')",
    "}": "sets and dicts ('}')", "'": "strings", '"': "strings", "<": "comparisons ('<')", ">": "comparisons ('>')",
    "!": "comparisons ('!')", ";": "several statements (';')", "#": "comments ('#')", "%": "the '%' operator",
    "@": "the '@' operator", "&": "bitwise operators ('&')", "|": "bitwise operators ('|')",
    "~": "bitwise operators ('~')", "\\": "backslashes", ":": "slices, lambdas and walrus (':')",
    "`": "backticks", "$": "'$'", "?": "'?'",
}
_KEYWORDS = {
    "lambda": "lambdas", "if": "conditional expressions ('if')", "else": "conditional expressions ('else')",
    "for": "comprehensions ('for')", "in": "comprehensions ('in')", "async": "comprehensions ('async')",
    "and": "boolean operators ('and')", "or": "boolean operators ('or')", "not": "boolean operators ('not')",
    "is": "comparisons ('is')", "import": "imports", "from": "imports", "await": "'await'", "yield": "'yield'",
    "True": "booleans", "False": "booleans", "None": "'None'", "def": "definitions", "class": "definitions",
    "return": "statements", "del": "statements", "global": "statements", "nonlocal": "statements",
    "pass": "statements", "raise": "statements", "try": "statements", "except": "statements",
    "finally": "statements", "while": "statements", "with": "statements", "assert": "statements",
    "break": "statements", "continue": "statements", "elif": "conditional expressions ('elif')",
}


class _Token(NamedTuple):
    kind: str  # NUMBER NAME OP LPAREN RPAREN COMMA EQUALS SUPERSCRIPT ROOT END
    value: object  # float for NUMBER, canonical spelling for NAME and OP, int exponent for SUPERSCRIPT
    column: int  # 1-based, in the text as typed
    text: str  # as typed


def _refuse(message: str) -> UsageError:
    return UsageError(message, parameter=PARAMETER)


def _shown(char: str) -> str:
    return f"'{char}'" if char.isprintable() and not char.isspace() else f"U+{ord(char):04X}"


def _clip(word: str, limit: int = 24) -> str:
    return word if len(word) <= limit else word[:limit] + "..."


def _is_name_start(char: str) -> bool:
    return (char.isalpha() or char == "_") and char != "π"


def _is_name_part(char: str) -> bool:
    return _is_name_start(char) or char in "0123456789"


def _tokens(text: str, offset: int) -> Iterator[_Token]:
    """Tokens of `text`, produced lazily so that the first problem in reading order is the one reported."""
    i, n = 0, len(text)
    previous = "START"
    while i < n:
        char, column = text[i], offset + i + 1
        if char in _LINE_BREAKS:
            raise _refuse(f"line break at column {column}; write the expression on one line")
        if char.isspace():
            i += 1
            continue
        number = _NUMBER.match(text, i)
        if number:
            value = float(number.group())
            if not math.isfinite(value):
                raise _refuse(f"number {_clip(number.group())} at column {column} is too large for a float64")
            token = _Token("NUMBER", value, column, number.group())
        elif char == ".":
            what = "attribute access ('.')" if previous in ("NAME", "RPAREN", "NUMBER") else "a lone '.'"
            raise _refuse(f"{what} at column {column} is not allowed")
        elif _is_name_start(char):
            j = i + 1
            while j < n and _is_name_part(text[j]):
                j += 1
            word = text[i:j]
            if word in _KEYWORDS:
                raise _refuse(f"{_KEYWORDS[word]} at column {column} are not allowed")
            token = _Token("NAME", word, column, word)
        elif char == "π":
            token = _Token("NAME", "pi", column, char)
        elif char == "√":
            token = _Token("ROOT", "sqrt", column, char)
        elif char in _SUPERSCRIPTS or char == _SUPERSCRIPT_MINUS:
            j = i + (char == _SUPERSCRIPT_MINUS)
            k = j
            while k < n and text[k] in _SUPERSCRIPTS:
                k += 1
            if k == j:
                raise _refuse(f"superscript minus at column {column} has no digits after it")
            digits = "".join(str(_SUPERSCRIPTS.index(d)) for d in text[j:k])
            exponent = int(digits) if len(digits) <= 6 else 10**6  # anything longer is refused as too large
            token = _Token("SUPERSCRIPT", -exponent if j > i else exponent, column, text[i:k])
        elif text.startswith("**", i):
            token = _Token("OP", "**", column, "**")
        elif text.startswith("//", i):
            raise _refuse(f"floor division ('//') at column {column} is not allowed")
        elif text.startswith(":=", i):
            raise _refuse(f"assignment (':=') at column {column} is not allowed")
        elif text.startswith("==", i):
            raise _refuse(f"comparisons ('==') at column {column} are not allowed")
        elif char in _OPERATOR_SPELLINGS:
            token = _Token("OP", _OPERATOR_SPELLINGS[char], column, char)
        elif char in "(),=":
            token = _Token({"(": "LPAREN", ")": "RPAREN", ",": "COMMA", "=": "EQUALS"}[char], char, column, char)
        elif char in _REFUSED_CHARACTERS:
            raise _refuse(f"{_REFUSED_CHARACTERS[char]} at column {column} are not allowed")
        else:
            raise _refuse(f"unexpected character {_shown(char)} at column {column}")
        yield token
        previous = token.kind
        i += len(token.text)
    yield _Token("END", None, offset + n + 1, "")


# --------------------------------------------------------------------------------------------------------------
# The parser
# --------------------------------------------------------------------------------------------------------------


class _Parsed(NamedTuple):
    """A subtree with what the limits need, computed bottom-up as the parser builds it."""

    node: Node
    column: int  # where its text starts
    depth: int
    size: int  # nodes
    value: float | None  # its value when it has no variable, else None
    tower: int  # ** operators chained at its top (through unary minus)


def _fold(operation: Callable[..., object], *values: float) -> float:
    with np.errstate(all="ignore"):
        return float(operation(*(np.float64(v) for v in values)))


_BINARY_UFUNCS = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide, "**": np.power}
_OPERAND_STARTS = ("NUMBER", "NAME", "LPAREN", "ROOT")


class _Parser:
    def __init__(self, text: str, offset: int):
        self._tokens = _tokens(text, offset)
        self._mentions_y = re.search(r"(?<![A-Za-z0-9_])y(?![A-Za-z0-9_])", text) is not None
        self.token = next(self._tokens)
        self.last = self.token
        self.nesting = 0

    def advance(self) -> _Token:
        self.last, self.token = self.token, next(self._tokens)
        return self.last

    def parse(self) -> _Parsed:
        if self.token.kind == "END":
            raise _refuse("empty expression; give a formula in x (and y), e.g. (1-x)**2 + 100*(y-x**2)**2")
        parsed = self.expression()
        if self.token.kind != "END":
            self.unexpected()
        return parsed

    # -- the grammar ----------------------------------------------------------------------------------------

    def expression(self) -> _Parsed:
        left = self.term()
        while self.token.kind == "OP" and self.token.value in ("+", "-"):
            op = self.advance().value
            left = self.binary(op, left, self.term())
        return left

    def term(self) -> _Parsed:
        left = self.unary()
        while self.token.kind == "OP" and self.token.value in ("*", "/"):
            op = self.advance().value
            left = self.binary(op, left, self.unary())
        return left

    def unary(self) -> _Parsed:
        if self.token.kind == "OP" and self.token.value in ("-", "+"):
            sign = self.advance()
            operand = self.nested(self.unary, sign.column)
            if sign.value == "+":
                return operand._replace(column=sign.column)
            value = None if operand.value is None else -operand.value
            return self.build(Unary("-", operand.node), sign.column, (operand,), value, operand.tower)
        return self.power()

    def power(self) -> _Parsed:
        base = self.postfix()
        if self.token.kind == "OP" and self.token.value == "**":
            operator = self.advance()
            return self.binary("**", base, self.nested(self.unary, operator.column))
        return base

    def postfix(self) -> _Parsed:
        if self.token.kind == "ROOT":
            root = self.advance()
            argument = self.nested(self.postfix, root.column)
            return self.call(MATH_FUNCTIONS.get("sqrt"), root.column, (argument,))
        parsed = self.primary()
        while self.token.kind == "SUPERSCRIPT":
            sup = self.advance()
            exponent = self.build(Number(float(abs(sup.value))), sup.column, (), float(abs(sup.value)), 0)
            if sup.value < 0:
                exponent = self.build(Unary("-", exponent.node), sup.column, (exponent,), -exponent.value, 0)
            parsed = self.binary("**", parsed, exponent)
        return parsed

    def primary(self) -> _Parsed:
        token = self.token
        if token.kind == "NUMBER":
            self.advance()
            return self.build(Number(token.value), token.column, (), token.value, 0)
        if token.kind == "LPAREN":
            self.advance()
            inner = self.nested(self.expression, token.column)
            if self.token.kind != "RPAREN":
                self.unexpected(open_paren=token)
            self.advance()
            return inner._replace(column=token.column)
        if token.kind == "NAME":
            return self.name()
        if token.kind == "END":
            raise _refuse(f"the expression ends too early: something is missing after column {token.column - 1}")
        raise _refuse(f"expected a number, x, y, a function or '(' at column {token.column}, found '{token.text}'")

    def name(self) -> _Parsed:
        token = self.advance()
        word = token.value
        if word in VARIABLES:
            return self.build(Variable(word), token.column, (), None, 0)
        if word in CONSTANTS:
            return self.build(Constant(word), token.column, (), CONSTANTS[word], 0)
        if normalise_name(word) in REFUSED_FUNCTIONS:
            raise _refuse(f"'{word}' at column {token.column} {REFUSED_FUNCTIONS[normalise_name(word)]}")
        try:
            entry = MATH_FUNCTIONS.get(word)
        except UsageError:
            entry = None
        if self.token.kind != "LPAREN":
            if entry is not None:
                raise _refuse(f"function '{word}' at column {token.column} needs parentheses: write {word}(...)")
            raise _refuse(self.unknown_name(token))
        if entry is None:
            suggestion = closest_name(normalise_name(word), [normalise_name(f) for f in _function_spellings()])
            hint = f"; did you mean '{suggestion}'?" if suggestion else f" (functions: {', '.join(MATH_FUNCTIONS.names())})"
            raise _refuse(f"unknown function '{_clip(word)}' at column {token.column}{hint}")
        open_paren = self.advance()
        arguments = [self.nested(self.expression, open_paren.column)]
        while self.token.kind == "COMMA":
            self.advance()
            arguments.append(self.nested(self.expression, open_paren.column))
        if self.token.kind != "RPAREN":
            self.unexpected(open_paren=open_paren)
        self.advance()
        if len(arguments) != entry.arity:
            plural = "s" if entry.arity > 1 else ""
            raise _refuse(f"{entry.name} at column {token.column} takes {entry.arity} argument{plural}, "
                          f"got {len(arguments)}")
        return self.call(entry, token.column, tuple(arguments))

    # -- building, with the limits --------------------------------------------------------------------------

    def nested(self, parse: Callable[[], _Parsed], column: int) -> _Parsed:
        """Parse one level deeper; refused before recursing when the nesting limit is reached."""
        if self.nesting >= MAX_NESTING:
            raise _refuse(f"nesting at column {column} is deeper than {MAX_NESTING} levels")
        self.nesting += 1
        try:
            return parse()
        finally:
            self.nesting -= 1

    def build(self, node: Node, column: int, children: tuple[_Parsed, ...], value: float | None,
              tower: int) -> _Parsed:
        depth = 1 + max((child.depth for child in children), default=0)
        size = 1 + sum(child.size for child in children)
        if depth > MAX_DEPTH:
            raise _refuse(f"the expression is more than {MAX_DEPTH} levels deep (at column {column})")
        if size > MAX_NODES:
            raise _refuse(f"the expression has more than {MAX_NODES} parts (at column {column})")
        if value is not None and not math.isfinite(value):
            raise _refuse(f"the constant part starting at column {column} is not finite ({value})")
        return _Parsed(node, column, depth, size, value, tower)

    def binary(self, op: str, left: _Parsed, right: _Parsed) -> _Parsed:
        tower = 0
        if op == "**":
            tower = 1 + right.tower
            if tower > MAX_TOWER:
                raise _refuse(f"power tower at column {left.column} has more than {MAX_TOWER} chained '**'")
            if right.value is not None and abs(right.value) > MAX_EXPONENT:
                raise _refuse(f"exponent at column {right.column} is too large ({right.value:.6g}); "
                              f"|exponent| must be <= {MAX_EXPONENT:g}")
        value = None
        if left.value is not None and right.value is not None:
            value = _fold(_BINARY_UFUNCS[op], left.value, right.value)
        return self.build(Binary(op, left.node, right.node), left.column, (left, right), value, tower)

    def call(self, entry: MathFunction, column: int, arguments: tuple[_Parsed, ...]) -> _Parsed:
        value = None
        if all(argument.value is not None for argument in arguments):
            value = _fold(entry.evaluate, *(argument.value for argument in arguments))
        node = Call(entry.name, tuple(argument.node for argument in arguments))
        return self.build(node, column, arguments, value, 0)

    # -- diagnosis ------------------------------------------------------------------------------------------

    def unexpected(self, open_paren: _Token | None = None) -> None:
        """Explain the current token, found where an operator, ')' or the end was expected."""
        token, column = self.token, self.token.column
        if token.kind in _OPERAND_STARTS:
            if self.last.kind in ("NUMBER", "NAME") and token.kind in ("NUMBER", "NAME"):
                fix = f"write {self.last.text}*{token.text}"
            else:
                fix = f"insert '*' at column {column}"
            raise _refuse(f"implicit multiplication at column {column} is not accepted; {fix}")
        if token.kind == "EQUALS" and open_paren is not None:
            raise _refuse(f"keyword arguments ('=' at column {column}) are not allowed")
        if token.kind == "EQUALS":
            raise _refuse(f"'=' at column {column} is not allowed: give an expression, not an equation")
        if token.kind == "COMMA":
            raise _refuse(f"',' at column {column} is not allowed here: one expression, no tuples")
        if token.kind == "RPAREN":
            raise _refuse(f"unmatched ')' at column {column}")
        if token.kind == "END" and open_paren is not None:
            raise _refuse(f"'(' at column {open_paren.column} is never closed")
        raise _refuse(f"unexpected '{token.text}' at column {column}")

    def unknown_name(self, token: _Token) -> str:
        word, column = token.value, token.column
        known = "use x and y" if self._mentions_y else "use x (or x and y)"
        fix = _split_juxtaposed(word)
        if fix:
            return f"unknown name '{_clip(word)}' at column {column}; write {fix}"
        if word.lower() in (*VARIABLES, *CONSTANTS):
            return f"unknown name '{_clip(word)}' at column {column}; did you mean '{word.lower()}'?"
        return f"unknown name '{_clip(word)}' at column {column}; {known}"


def _function_spellings() -> list[str]:
    return [name for entry in MATH_FUNCTIONS for name in (entry.name, *entry.aliases)]


def _split_juxtaposed(word: str) -> str | None:
    """`xy` -> `x*y`, `sinx` -> `sin(x)`, `2pi`-style words of known atoms; None when the word is not one."""
    atoms = sorted((*VARIABLES, *CONSTANTS), key=len, reverse=True)

    def split(rest: str) -> list[str] | None:
        if not rest:
            return []
        for atom in atoms:
            if rest.startswith(atom):
                tail = split(rest[len(atom):])
                if tail is not None:
                    return [atom, *tail]
        return None

    if len(word) > 12:
        return None
    parts = split(word)
    if parts and len(parts) > 1:
        return "*".join(parts)
    for name in sorted(_function_spellings(), key=len, reverse=True):
        if word.startswith(name) and len(word) > len(name):
            parts = split(word[len(name):])
            if parts:
                return f"{name}({'*'.join(parts)})"
    return None


# --------------------------------------------------------------------------------------------------------------
# Printing: canonical ASCII and pretty unicode
# --------------------------------------------------------------------------------------------------------------

# Binding strength of printed forms; a child printed weaker than its slot needs is parenthesised.
ADD, MUL, UNARY, POW, ROOT, SUP, ATOM = range(1, 8)


@dataclass(frozen=True)
class _Style:
    minus: str
    times: str
    power: str
    pi: str
    superscripts: bool
    root: bool


_CANONICAL = _Style(minus="-", times="*", power="**", pi="pi", superscripts=False, root=False)
_PRETTY = _Style(minus="−", times="·", power="^", pi="π", superscripts=True, root=True)


def _format_number(value: float) -> str:
    """The shortest text that reads back as exactly `value`: `2`, `0.5`, `1e-05`."""
    return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)


def _integer_exponent(node: Node) -> int | None:
    """The exponent a superscript can show: a literal integer, or minus one."""
    sign, inner = (-1, node.operand) if isinstance(node, Unary) else (1, node)
    if isinstance(inner, Number) and inner.value.is_integer() and inner.value < 1e16:
        return sign * int(inner.value)
    return None


def _render(node: Node, style: _Style) -> tuple[str, int]:
    """The text of `node` and how strongly it binds."""

    def slot(child: Node, at_least: int, wrap_unary: bool = False) -> str:
        text, level = _render(child, style)
        return f"({text})" if level < at_least or wrap_unary and isinstance(child, Unary) else text

    if isinstance(node, Number):
        return _format_number(node.value), ATOM
    if isinstance(node, Variable):
        return node.name, ATOM
    if isinstance(node, Constant):
        return (style.pi if node.name == "pi" else node.name), ATOM
    if isinstance(node, Unary):
        return style.minus + slot(node.operand, UNARY), UNARY
    if isinstance(node, Call):
        if style.root and node.name == "sqrt":
            return "√" + slot(node.args[0], ATOM), ROOT
        return f"{node.name}({', '.join(_render(arg, style)[0] for arg in node.args)})", ATOM
    if node.op == "**":
        exponent = _integer_exponent(node.right)
        if style.superscripts and exponent is not None:
            digits = "".join(_SUPERSCRIPTS[int(d)] for d in str(abs(exponent)))
            return slot(node.left, ATOM) + (_SUPERSCRIPT_MINUS if exponent < 0 else "") + digits, SUP
        return slot(node.left, ATOM) + style.power + slot(node.right, UNARY), POW
    if node.op in "+-":
        symbol = " + " if node.op == "+" else f" {style.minus} "
        return slot(node.left, ADD) + symbol + slot(node.right, MUL, wrap_unary=True), ADD
    symbol = style.times if node.op == "*" else "/"
    return slot(node.left, UNARY) + symbol + slot(node.right, POW), MUL


def _file_slug(canonical: str) -> str:
    """`x**2 + 25*y**2` -> `x2_25y2`: the canonical text with operators dropped or spelled with safe characters."""
    spelled = canonical.replace(" ", "").replace("**", "").replace("*", "").replace("+", "_").replace("/", "_over_")
    return re.sub(r"[^A-Za-z0-9._-]", "", spelled).lstrip(".-_")


# --------------------------------------------------------------------------------------------------------------
# Derivatives: a hash-consed graph of terms, differentiated by the chain rule, compiled to a tape
# --------------------------------------------------------------------------------------------------------------


class _Graph:
    """Terms `(kind, *operands)` numbered in creation order, so a term's operands always have smaller numbers.

    The constructors fold constants and drop identities (`u+0`, `u*1`, `u*0`, `u**1`, `--u`), and equal terms
    share one number, so derivative terms reuse the value's subexpressions.
    """

    def __init__(self, variables: tuple[str, ...]):
        self.terms: list[tuple] = []
        self._numbers: dict[tuple, int] = {}
        self._derivatives: dict[int, dict[int, int]] = {}
        self.variables = tuple(self._term(("var", i)) for i in range(len(variables)))

    def _term(self, term: tuple) -> int:
        number = self._numbers.get(term)
        if number is None:
            number = self._numbers[term] = len(self.terms)
            self.terms.append(term)
        return number

    def constant_of(self, term: int) -> float | None:
        kind, *operands = self.terms[term]
        return operands[0] if kind == "const" else None

    def const(self, value: float) -> int:
        return self._term(("const", float(value)))

    def neg(self, a: int) -> int:
        ca = self.constant_of(a)
        if ca is not None:
            return self.const(-ca)
        kind, *operands = self.terms[a]
        if kind == "neg":
            return operands[0]
        if kind == "mul" and self.constant_of(operands[0]) is not None:  # -(c*u) = (-c)*u
            return self.mul(self.const(-self.constant_of(operands[0])), operands[1])
        return self._term(("neg", a))

    def add(self, a: int, b: int) -> int:
        ca, cb = self.constant_of(a), self.constant_of(b)
        if ca is not None and cb is not None:
            return self.const(_fold(np.add, ca, cb))
        if ca == 0.0:
            return b
        if cb == 0.0:
            return a
        return self._term(("add", a, b))

    def sub(self, a: int, b: int) -> int:
        ca, cb = self.constant_of(a), self.constant_of(b)
        if ca is not None and cb is not None:
            return self.const(_fold(np.subtract, ca, cb))
        if cb == 0.0:
            return a
        if ca == 0.0:
            return self.neg(b)
        return self._term(("sub", a, b))

    def mul(self, a: int, b: int) -> int:
        ca, cb = self.constant_of(a), self.constant_of(b)
        if ca is not None and cb is not None:
            return self.const(_fold(np.multiply, ca, cb))
        if cb is not None:  # constants first, so that c1*(c2*u) can fold
            a, b, ca, cb = b, a, cb, ca
        if ca is not None:
            if ca == 0.0:
                return a
            if ca == 1.0:
                return b
            if ca == -1.0:
                return self.neg(b)
            kind, *operands = self.terms[b]
            if kind == "mul" and self.constant_of(operands[0]) is not None:  # c1*(c2*u) = (c1 c2)*u
                return self.mul(self.const(_fold(np.multiply, ca, self.constant_of(operands[0]))), operands[1])
            if kind == "neg":  # c*(-u) = (-c)*u
                return self.mul(self.const(-ca), operands[0])
            return self._term(("mul", a, b))
        for first, second in ((a, b), (b, a)):  # pull constant factors and signs out: (c*u)*v = c*(u*v)
            kind, *operands = self.terms[first]
            if kind == "mul" and self.constant_of(operands[0]) is not None:
                return self.mul(operands[0], self.mul(operands[1], second))
            if kind == "neg":
                return self.neg(self.mul(operands[0], second))
        return self._term(("mul", a, b))

    def div(self, a: int, b: int) -> int:
        ca, cb = self.constant_of(a), self.constant_of(b)
        if ca is not None and cb is not None:
            return self.const(_fold(np.true_divide, ca, cb))
        if ca == 0.0:
            return a
        if cb == 1.0:
            return a
        return self._term(("div", a, b))

    def pow(self, a: int, b: int) -> int:
        ca, cb = self.constant_of(a), self.constant_of(b)
        if ca is not None and cb is not None:
            return self.const(_fold(np.power, ca, cb))
        if cb == 0.0:
            return self.const(1.0)
        if cb == 1.0:
            return a
        return self._term(("pow", a, b))

    def square(self, a: int) -> int:
        return self.pow(a, self.const(2.0))

    def call(self, name: str, *arguments: int) -> int:
        values = [self.constant_of(argument) for argument in arguments]
        if all(value is not None for value in values):
            return self.const(_fold(_EVALUABLE[name].evaluate, *values))
        return self._term(("call", name, *arguments))

    def lower(self, node: Node, variables: tuple[str, ...]) -> int:
        """The term for a tree (recursion bounded by MAX_DEPTH)."""
        if isinstance(node, Number):
            return self.const(node.value)
        if isinstance(node, Constant):
            return self.const(CONSTANTS[node.name])
        if isinstance(node, Variable):
            return self.variables[variables.index(node.name)]
        if isinstance(node, Unary):
            return self.neg(self.lower(node.operand, variables))
        if isinstance(node, Call):
            return self.call(node.name, *(self.lower(arg, variables) for arg in node.args))
        build = {"+": self.add, "-": self.sub, "*": self.mul, "/": self.div, "**": self.pow}[node.op]
        return build(self.lower(node.left, variables), self.lower(node.right, variables))

    def reachable(self, roots: list[int]) -> list[int]:
        """The terms `roots` are built from, in creation (hence evaluation) order."""
        seen, stack = set(roots), list(roots)
        while stack:
            kind, *operands = self.terms[stack.pop()]
            for operand in self._operand_terms(kind, operands):
                if operand not in seen:
                    seen.add(operand)
                    stack.append(operand)
        return sorted(seen)

    @staticmethod
    def _operand_terms(kind: str, operands: list) -> list[int]:
        if kind in ("const", "var"):
            return []
        return operands[1:] if kind == "call" else operands

    def derivative(self, root: int, variable: int) -> int:
        """d(root)/d(variable), by the chain rule over the terms root needs, in order (no recursion)."""
        done = self._derivatives.setdefault(variable, {})
        zero, one = self.const(0.0), self.const(1.0)
        for term in self.reachable([root]):
            if term in done:
                continue
            kind, *operands = self.terms[term]
            d = [done[operand] for operand in self._operand_terms(kind, operands)]
            if kind == "const":
                done[term] = zero
            elif kind == "var":
                done[term] = one if term == self.variables[variable] else zero
            elif kind == "neg":
                done[term] = self.neg(d[0])
            elif kind in ("add", "sub"):
                done[term] = (self.add if kind == "add" else self.sub)(d[0], d[1])
            elif kind == "mul":
                a, b = operands
                done[term] = self.add(self.mul(d[0], b), self.mul(a, d[1]))
            elif kind == "div":  # (a/b)' = (a' - (a/b) b') / b
                done[term] = self.div(self.sub(d[0], self.mul(term, d[1])), operands[1])
            elif kind == "pow":
                done[term] = self._power_derivative(term, *operands, *d)
            else:
                partials = _EVALUABLE[operands[0]].partials(self, term, tuple(operands[1:]))
                total = zero
                for partial, d_argument in zip(partials, d):
                    total = self.add(total, self.mul(partial, d_argument))
                done[term] = total
        return done[root]

    def _power_derivative(self, term: int, a: int, b: int, da: int, db: int) -> int:
        """(a^c)' = c a^(c-1) a';  (c^b)' = ln c · c^b b';  (a^b)' = a^b (b' ln a + b a'/a)."""
        ca, cb = self.constant_of(a), self.constant_of(b)
        if cb is not None:
            return self.mul(self.mul(self.const(cb), self.pow(a, self.const(cb - 1.0))), da)
        if ca is not None:
            return self.mul(self.mul(self.const(_fold(np.log, ca)), term), db)
        return self.mul(term, self.add(self.mul(db, self.call("log", a)), self.div(self.mul(b, da), a)))


_TERM_UFUNCS = {"neg": np.negative, "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
                "pow": np.power}


class _Program:
    """Terms compiled to a tape of numpy calls on registers: the coordinates, the constants, then each result.

    A result is dropped as soon as its last reader has run, so that numpy reuses the memory of dead
    temporaries (keeping every large temporary alive made a B = 40000 batch three times slower).
    """

    def __init__(self, graph: _Graph, outputs: list[int]):
        order = graph.reachable(outputs)
        inputs = list(graph.variables)
        constants = [term for term in order if graph.terms[term][0] == "const"]
        register = {term: slot for slot, term in enumerate(inputs + constants)}
        self.constants = [graph.terms[term][1] for term in constants]
        self.n_inputs, self.n_fixed = len(inputs), len(register)
        instructions = []
        for term in order:
            if term in register:
                continue
            kind, *operands = graph.terms[term]
            if kind == "call":
                function, operands = _EVALUABLE[operands[0]].evaluate, operands[1:]
            elif kind == "pow" and graph.constant_of(operands[1]) == 2.0:
                function, operands = np.square, operands[:1]
            else:
                function = _TERM_UFUNCS[kind]
            slots = [register[operand] for operand in operands]
            instructions.append((function, slots[0], slots[1] if len(slots) > 1 else -1))
            register[term] = len(register)
        self.outputs = [register[term] for term in outputs]
        last_read = {}
        for step, (_, i, j) in enumerate(instructions):
            last_read[i] = last_read[j] = step
        kept = set(self.outputs) | set(range(self.n_fixed))
        dead = [tuple(sorted({s for s in (i, j) if s >= 0 and last_read[s] == step} - kept))
                for step, (_, i, j) in enumerate(instructions)]
        self.tape = [(function, i, j, self.n_fixed + step, dead[step])
                     for step, (function, i, j) in enumerate(instructions)]

    def run(self, coordinates: tuple[Array, ...]) -> list:
        registers = [*coordinates, *self.constants, *([None] * len(self.tape))]
        for function, i, j, out, dead in self.tape:
            registers[out] = function(registers[i]) if j < 0 else function(registers[i], registers[j])
            for slot in dead:
                registers[slot] = None
        return [registers[slot] for slot in self.outputs]


# --------------------------------------------------------------------------------------------------------------
# The public type
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expression:
    """A validated formula in x (and y) with its exact gradient and Hessian, vectorised over numpy arrays.

    `value`, `gradient` and `hessian` take one array per variable (any broadcastable shapes) and return
    float64 arrays of the broadcast shape; where f is undefined they hold inf or nan, never raise.
    """

    text: str  # as typed (stripped)
    tree: Node
    variables: tuple[str, ...]  # ("x",) or ("x", "y")

    @cached_property
    def _graph(self) -> tuple[_Graph, int]:
        graph = _Graph(self.variables)
        return graph, graph.lower(self.tree, self.variables)

    @cached_property
    def _value_program(self) -> _Program:
        graph, root = self._graph
        return _Program(graph, [root])

    @cached_property
    def _gradient_terms(self) -> list[int]:
        graph, root = self._graph
        return [graph.derivative(root, i) for i in range(len(self.variables))]

    @cached_property
    def _gradient_program(self) -> _Program:
        return _Program(self._graph[0], self._gradient_terms)

    @cached_property
    def _hessian_program(self) -> _Program:
        graph, n = self._graph[0], len(self.variables)
        first = self._gradient_terms
        return _Program(graph, [graph.derivative(first[i], j) for i in range(n) for j in range(i, n)])

    def _run(self, program: _Program, coordinates: tuple) -> tuple[Array, ...]:
        if len(coordinates) != len(self.variables):
            raise TypeError(f"{self.text!r} takes {len(self.variables)} coordinate arrays "
                            f"({', '.join(self.variables)}), got {len(coordinates)}")
        arrays = tuple(np.asarray(c, dtype=np.float64) for c in coordinates)
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        with np.errstate(all="ignore"):
            results = program.run(arrays)
        return tuple(_as_result(r, shape, slot < program.n_inputs) for r, slot in zip(results, program.outputs))

    def value(self, *coords: Array) -> Array:
        """f at the points."""
        return self._run(self._value_program, coords)[0]

    def gradient(self, *coords: Array) -> tuple[Array, ...]:
        """(df/dx,) or (df/dx, df/dy), exact."""
        return self._run(self._gradient_program, coords)

    def hessian(self, *coords: Array) -> tuple[Array, ...]:
        """(fxx,) for f(x); (fxx, fxy, fyy) for f(x, y); exact."""
        return self._run(self._hessian_program, coords)

    def canonical(self) -> str:
        """ASCII text with the parentheses the grammar needs; parses back to an equal tree."""
        return _render(self.tree, _CANONICAL)[0]

    def pretty(self) -> str:
        """For titles: `(1 − x)² + 100·(y − x²)²`; parses back to an equal tree."""
        return _render(self.tree, _PRETTY)[0]

    def file_stem(self) -> str:
        """A file-name stem of [A-Za-z0-9._-]: a readable slug and a hash of the canonical text (<= 60 chars)."""
        canonical = self.canonical()
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        slug = _file_slug(canonical)
        return f"{slug}-{digest[:6]}" if 0 < len(slug) <= 50 else f"expr-{digest[:8]}"


def _as_result(result, shape: tuple[int, ...], is_input: bool) -> Array:
    """A float64 array of the broadcast shape that the caller owns (never an input array or a shared view)."""
    array = np.asarray(result, dtype=np.float64)
    if array.shape != shape:
        return np.broadcast_to(array, shape).copy()
    return array.copy() if is_input else array


def parse_expression(text: str) -> Expression:
    """Read a formula in x (and y); raises UsageError(..., parameter="fn") naming the offending column."""
    if not isinstance(text, str):
        raise _refuse(f"expected text, got {type(text).__name__}")
    stripped = text.strip()
    if len(stripped) > MAX_LENGTH:
        raise _refuse(f"the expression is {len(stripped)} characters long; at most {MAX_LENGTH} are accepted")
    try:
        parsed = _Parser(stripped, offset=len(text) - len(text.lstrip())).parse()
    except (RecursionError, MemoryError):  # not reachable within the limits above; kept as a last line of defence
        raise _refuse("the expression is too deeply nested") from None
    names = _variables_in(parsed.node)
    if not names:
        raise _refuse("the expression has no x or y: a constant function has zero gradient everywhere")
    return Expression(stripped, parsed.node, ("x", "y") if "y" in names else ("x",))


def _variables_in(node: Node) -> set[str]:
    stack, names = [node], set()
    while stack:
        node = stack.pop()
        if isinstance(node, Variable):
            names.add(node.name)
        elif isinstance(node, Unary):
            stack.append(node.operand)
        elif isinstance(node, Binary):
            stack.extend((node.left, node.right))
        elif isinstance(node, Call):
            stack.extend(node.args)
    return names


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*", re.ASCII)


def looks_like_expression(text: str) -> bool:
    """Whether `text` is meant as a formula rather than a built-in function's name.

    A bare word (`rosenbruck`, `three-hump-camel`) is a name, left to the registry's "did you mean"; anything
    else is a formula, and so is a word made only of variables, constants and numbers joined by '-' (`x`, `x-y`).
    """
    stripped = text.strip()
    if not _WORD.fullmatch(stripped):
        return True
    atoms = (*VARIABLES, *CONSTANTS)
    return all(part in atoms or part.isdigit() for part in stripped.split("-"))


__all__ = [
    "Binary", "Call", "Constant", "Expression", "MATH_FUNCTIONS", "MathFunction", "Node", "Number", "Unary",
    "Variable", "looks_like_expression", "parse_expression",
]
