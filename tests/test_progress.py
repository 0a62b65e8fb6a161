"""Progress as people expect it: a redrawn block on a terminal, log lines otherwise."""

import io
import logging

import pytest

from rasid.pipeline import SourceStats
from rasid.progress import Progress, TerminalProgress, for_stream, summary_table


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_progress_redraws_one_line_per_source() -> None:
    stream = Tty()
    progress = TerminalProgress(stream)
    stats = {"a": SourceStats(discovered=3), "b": SourceStats(discovered=1)}
    progress.show(stats, "discover")
    stats["a"].fetched = 2
    progress.show(stats, "fetch")
    out = stream.getvalue()
    assert out.count("\x1b[3F") == 1  # moved up over the first block before redrawing
    assert "fetched    2" in out.split("\x1b[J")[-1]


def test_plain_progress_logs_changes_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="rasid.progress")
    progress = Progress()
    stats = {"a": SourceStats(discovered=3)}
    progress.show(stats, "discover")
    progress.show(stats, "discover")
    assert len(caplog.records) == 1 and "discovered=3" in caplog.records[0].getMessage()


def test_stream_kind_picks_the_display() -> None:
    assert isinstance(for_stream(Tty()), TerminalProgress)
    assert type(for_stream(io.StringIO())) is Progress


def test_summary_table_lines_up_columns() -> None:
    table = summary_table({"sham-today": SourceStats(stored=17).as_dict(), "x": SourceStats().as_dict()})
    lines = table.splitlines()
    assert lines[0].startswith("source") and set(lines[1]) <= {"-", " "}
    stored = lines[0].index("stored")
    assert lines[2][stored:].split()[0] == "17" and lines[3][stored:].split()[0] == "0"
