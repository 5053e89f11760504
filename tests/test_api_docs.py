"""docs/api.md stays true: every ```python block in it runs, in order, in one namespace, in a temporary folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

API_DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def python_blocks(text: str) -> list[str]:
    return BLOCK.findall(text)


def test_block_extraction_finds_fenced_python_only():
    text = "intro\n```python\na = 1\n```\n```json\n{}\n```\n```python\nb = a\n```\n"
    assert python_blocks(text) == ["a = 1\n", "b = a\n"]


def test_the_api_page_has_examples_for_every_part():
    code = "\n".join(python_blocks(API_DOC.read_text(encoding="utf-8")))
    for needed in ("optviz.race(", "optviz.Function(", ".trajectories", ".stats", ".to_json(", ".save(", ".show(",
                   "UsageError"):
        assert needed in code, needed


def test_every_python_block_in_the_api_page_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "api_docs"}
    for number, block in enumerate(python_blocks(API_DOC.read_text(encoding="utf-8")), start=1):
        try:
            exec(compile(block, f"{API_DOC.name}, python block {number}", "exec"), namespace)
        except Exception as error:  # the block's number, not just a traceback into exec
            pytest.fail(f"docs/api.md python block {number} failed: {type(error).__name__}: {error}")
