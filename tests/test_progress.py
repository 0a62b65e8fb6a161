"""Progress as people expect it: a redrawn block on a terminal, log lines otherwise."""

import io
import logging
import re

import pytest

from rasid.models import FUNNEL
from rasid.pipeline import SourceStats
from rasid.progress import Progress, TerminalProgress, for_stream, summary_table


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def visible_lines(raw: str) -> list[str]:
    """The text a terminal shows, one entry per line, escape sequences removed."""
    return [line for line in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw).replace("\r", "\n").split("\n")]


def test_terminal_progress_redraws_a_table_in_place() -> None:
    stream = Tty()
    progress = TerminalProgress(stream, width=80)
    stats = {"a": SourceStats(discovered=3), "b": SourceStats(discovered=1)}
    progress.show(stats, "discover")
    stats["a"].fetched = 2
    progress.show(stats, "fetch")
    progress.close()
    out = stream.getvalue()
    assert "\x1b[1A" in out or "\x1b[2K" in out  # moved back over the first table
    last = out.rsplit("fetch …", 1)[-1]
    row = next(line for line in visible_lines(last) if line.strip().startswith("a "))
    assert row.split()[1:4] == ["3", "0", "2"]  # found, new, fetched


def test_terminal_rows_fit_80_columns_with_long_names_and_counts() -> None:
    stream = Tty()
    progress = TerminalProgress(stream, width=80)
    stats = {"a-very-long-source-identifier-of-a-site": SourceStats(
        discovered=12345, new=12345, fetched=12345, archived=12345, extracted=12345,
        stored=12345, quarantined=12345, failed=12345)}
    progress.show(stats, "write")
    progress.close()
    lines = visible_lines(stream.getvalue())
    assert max(len(line) for line in lines) <= 80
    rows = [line for line in lines if "12345" in line]
    # Every count whole, on one line.
    assert rows and all(row.count("12345") == len(FUNNEL) for row in rows)


def test_plain_progress_logs_changes_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="rasid.progress")
    progress = Progress()
    stats = {"a": SourceStats(discovered=3)}
    progress.show(stats, "discover")
    progress.show(stats, "discover")
    assert len(caplog.records) == 1 and "discovered=3" in caplog.records[0].getMessage()


def test_stream_kind_picks_the_display() -> None:
    assert isinstance(for_stream(Tty(), {"TERM": "xterm"}), TerminalProgress)
    assert type(for_stream(io.StringIO(), {"TERM": "xterm"})) is Progress


@pytest.mark.parametrize("environ", [{"NO_COLOR": "1", "TERM": "xterm"}, {"TERM": "dumb"}])
def test_plain_lines_when_the_user_asks_for_them(environ: dict[str, str]) -> None:
    assert type(for_stream(Tty(), environ)) is Progress


def test_summary_table_lines_up_columns() -> None:
    table = summary_table({"sham-today": SourceStats(stored=17).as_dict(), "x": SourceStats().as_dict()})
    lines = table.splitlines()
    assert lines[0].startswith("source") and set(lines[1]) <= {"-", " "}
    stored = lines[0].index("stored")
    assert lines[2][stored:].split()[0] == "17" and lines[3][stored:].split()[0] == "0"
