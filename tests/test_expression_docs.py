"""docs/expressions.md shows real refusals: every `$ optviz race --fn ...` example there is refused by the parser
with exactly the message printed under it (a trailing "...)" stands for the rest of a long list)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from optviz import api
from optviz.errors import UsageError

PAGE = Path(__file__).resolve().parents[1] / "docs" / "expressions.md"
EXAMPLES = re.findall(r"\$ optviz race --fn ([\"'])(.*?)\1\nerror: --fn: (.*)", PAGE.read_text(encoding="utf-8"))


def test_the_page_has_examples():
    assert len(EXAMPLES) >= 15


@pytest.mark.parametrize(("text", "message"), [(text, message) for _, text, message in EXAMPLES])
def test_each_documented_refusal_is_the_parsers(text, message):
    with pytest.raises(UsageError) as refusal:
        api.resolve_function(text)
    parameter, said = str(refusal.value).split(": ", 1)
    assert parameter == "fn"
    if message.endswith(", ...)"):
        assert said.startswith(message[: -len(", ...)")])
    else:
        assert said == message
