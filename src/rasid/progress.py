"""Progress of a run as people expect it: a live per-source block on a terminal, plain log
lines otherwise. The flow reports absolute counts after each step; it never prints itself."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Mapping
from typing import Protocol, TextIO

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
    """Redraws one line per source in place (ANSI cursor movement)."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        super().__init__()
        self.stream = stream
        self._drawn = 0
        self._stage = ""

    def _emit(self, source_id: str, row: tuple[int, ...], stage: str) -> None:
        self._stage = stage

    def _flush(self, sources: Mapping[str, Counts]) -> None:
        lines = [f"  {self._stage or 'working'} …"]
        width = max((len(s) for s in sources), default=6)
        for source_id, counts in sorted(sources.items()):
            cells = "  ".join(f"{c} {getattr(counts, c):>4}" for c in COLUMNS)
            lines.append(f"  {source_id:<{width}}  {cells}")
        if self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F\x1b[J")
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()
        self._drawn = len(lines)

    def close(self) -> None:
        self._drawn = 0


_current: Progress = Progress()


def current() -> Progress:
    return _current


def install(progress: Progress) -> None:
    global _current
    _current = progress


def for_stream(stream: TextIO) -> Progress:
    return TerminalProgress(stream) if stream.isatty() else Progress()


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
