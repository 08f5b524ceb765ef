"""The CLI's consoles: written to a pipe or a file they are wide enough for the metric tables; a terminal,
or a COLUMNS setting, keeps its own width."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from quantdesk.cli.common import _PIPE_WIDTH, _console


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_pipe_gets_the_wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert _console(io.StringIO()).width == _PIPE_WIDTH == 160
    assert _console(None).width == 160


def test_columns_and_terminals_keep_their_own_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "97")
    assert _console(io.StringIO()).width == 97
    monkeypatch.delenv("COLUMNS")
    measured = Console().width  # what rich measures of this process's terminal (80 when it has none)
    assert measured != _PIPE_WIDTH
    assert _console(FakeTerminal()).width == measured
