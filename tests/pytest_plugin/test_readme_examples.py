"""The README's pytest examples run as tests, so they cannot rot: every ```python block of the
section "Testing your app with pytest" becomes a test module of one inner run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_plugin.settings import OPTIONS
from tests.pytest_plugin.conftest import RunInner

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Testing your app with pytest"


def section() -> str:
    text = README.read_text()
    assert SECTION in text, f"README.md has no section {SECTION!r}"
    body = text.split(SECTION, 1)[1]
    return re.split(r"^## ", body, maxsplit=1, flags=re.MULTILINE)[0]


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", section(), flags=re.MULTILINE | re.DOTALL)


def test_the_examples_pass(pytester: pytest.Pytester, run_inner: RunInner) -> None:
    blocks = python_blocks()
    assert len(blocks) >= 3
    for number, block in enumerate(blocks, 1):
        pytester.makepyfile(**{f"test_readme_{number}": block})
    tests = sum(len(re.findall(r"^def test_", block, flags=re.MULTILINE)) for block in blocks)
    result = run_inner("-p", "no:randomly")
    result.assert_outcomes(passed=tests)


def test_the_options_table_names_every_option() -> None:
    text = section()
    for name, variable, _ in OPTIONS:
        flag = "--" + name.replace("_", "-")
        row = f"| `{flag} "
        assert row in text, f"no row for {flag}"
        line = text[text.index(row) :].splitlines()[0]
        assert f"`{name}`" in line and f"`{variable}`" in line, line
