"""Progress of a run as people expect it: a live per-source block on a terminal, plain log
lines otherwise. The flow reports absolute counts after each step; it never prints itself."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Mapping
from typing import Any, Protocol, TextIO

from rasid.models import FUNNEL

log = logging.getLogger("rasid.progress")

COLUMNS = FUNNEL


class Counts(Protocol):
    discovered: int
    new: int
    fetched: int
    archived: int
    extracted: int
    stored: int
    quarantined: int
    failed: int


class Progress:
    """Plain log lines, one per source whose counts changed."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[int, ...]] = {}
        self._lock = threading.Lock()

    def show(self, sources: Mapping[str, Counts], stage: str = "") -> None:
        with self._lock:
            for source_id, counts in sorted(sources.items()):
                row = tuple(getattr(counts, c) for c in COLUMNS)
                if self._last.get(source_id) != row:
                    self._last[source_id] = row
                    self._emit(source_id, row, stage)
            self._flush(sources)

    def _emit(self, source_id: str, row: tuple[int, ...], stage: str) -> None:
        text = " ".join(f"{c}={v}" for c, v in zip(COLUMNS, row, strict=True))
        log.info("%s%s %s", f"[{stage}] " if stage else "", source_id, text)

    def _flush(self, sources: Mapping[str, Counts]) -> None:
        pass

    def close(self) -> None:
        pass


class TerminalProgress(Progress):
    """A live table, one row per source, redrawn in place by rich (it fits the terminal's
    width: at 80 columns no row wraps, so a redraw never lands on the wrong lines)."""

    def __init__(self, stream: TextIO = sys.stderr, width: int | None = None) -> None:
        from rich.console import Console

        super().__init__()
        self._console = Console(file=stream, width=width, highlight=False)
        self._live: Any = None
        self._stage = ""

    def _emit(self, source_id: str, row: tuple[int, ...], stage: str) -> None:
        self._stage = stage

    def _table(self, sources: Mapping[str, Counts]) -> Any:
        from rich.table import Table

        rows = [(sid, *(str(getattr(counts, c)) for c in COLUMNS))
                for sid, counts in sorted(sources.items())]
        # No borders, one space between columns: 76 characters at most (a name cut at 16).
        table = Table(title=f"{self._stage or 'working'} …", title_justify="left", box=None,
                      pad_edge=False, padding=(0, 0, 0, 1), header_style="bold")
        # Counts are never cut; a long source name is, with an ellipsis.
        table.add_column("source", no_wrap=True, overflow="ellipsis", max_width=16)
        for index, column in enumerate(COLUMNS, 1):
            header = HEADERS.get(column, column)
            width = max([len(header)] + [len(row[index]) for row in rows])
            table.add_column(header, justify="right", no_wrap=True, min_width=width)
        for row in rows:
            table.add_row(*row)
        return table

    def _flush(self, sources: Mapping[str, Counts]) -> None:
        from rich.live import Live

        table = self._table(sources)
        if self._live is None:
            self._live = Live(table, console=self._console, auto_refresh=False,
                              redirect_stdout=False, redirect_stderr=False)
            self._live.start()
        self._live.update(table, refresh=True)

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


# Short enough that a row of the funnel's counts and a source name fits 80 columns.
HEADERS = {"discovered": "found", "new": "new", "fetched": "fetched", "archived": "archived",
           "extracted": "extracted", "stored": "stored", "quarantined": "quarant.",
           "failed": "failed"}


_current: Progress = Progress()


def current() -> Progress:
    return _current


def install(progress: Progress) -> None:
    global _current
    _current = progress


def for_stream(stream: TextIO, environ: Mapping[str, str] = os.environ) -> Progress:
    """The live table on a terminal; plain log lines when the output is not one, or the user
    asked for plain output (NO_COLOR, TERM=dumb)."""
    plain = bool(environ.get("NO_COLOR")) or environ.get("TERM") == "dumb" or not stream.isatty()
    return Progress() if plain else TerminalProgress(stream)


def summary_table(sources: Mapping[str, Mapping[str, int]]) -> str:
    """The final table a person reads after a run (from the manifest's per-source counts)."""
    header = ("source",) + COLUMNS
    rows = [header] + [
        (source_id,) + tuple(str(c.get(k, 0)) for k in COLUMNS) for source_id, c in sorted(sources.items())
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
