"""`rasid reprocess`: re-extraction from the raw WARCs, without the network, replaces the rows
an older extractor wrote with exactly the rows a fresh fetch gives — and never shows both."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rasid import extract
from rasid.models import Extracted
from rasid.reprocess import reprocess
from rasid.storage import open_lake
from tests.lake_support import assert_lake_consistent, comparable, duckdb_rows

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]


def rows(lake: Path) -> dict[str, Any]:
    return {kind: comparable(duckdb_rows(lake, kind)) for kind in ("articles", "quarantine")}


@pytest.fixture
def fresh(demo_sources: Path, tmp_path: Path) -> Path:
    """A lake filled by one collection run over the demo site: a fresh fetch."""
    from rasid_flows.collect import collect

    lake = tmp_path / "lake"
    collect(sources_file=str(demo_sources), lake=str(lake))
    return lake


def an_older_extractor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Extraction as a buggy earlier version did it: titles lost, bodies cut short."""
    current = extract.extract_many

    def older(items: list[Any], workers: int = 1, *, executor: Any = None) -> list[Extracted]:
        found = current(items, workers, executor=executor)
        for record in found:
            record.title, record.body = None, record.body[:40]
        return found

    monkeypatch.setattr(extract, "extract_many", older)


def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: socket.socket, address: Any) -> None:
        raise AssertionError(f"reprocessing tried to connect to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_reprocessing_replaces_old_rows_with_what_a_fresh_fetch_gives(
    fresh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = rows(fresh)
    lake = open_lake(str(fresh))
    with monkeypatch.context() as patch:
        an_older_extractor(patch)
        reprocess(lake)
    older = rows(fresh)  # each article once, with the older extractor's text
    assert older["articles"].keys() | older["quarantine"].keys() == (
        expected["articles"].keys() | expected["quarantine"].keys()
    )
    assert all(row["title"] is None for kind in older.values() for row in kind.values())
    assert_lake_consistent(lake)

    with monkeypatch.context() as patch:
        no_network(patch)
        summary = reprocess(open_lake(str(fresh)))

    assert rows(fresh) == expected
    assert summary.totals["extracted"] == len(expected["articles"]) + len(expected["quarantine"])
    assert_lake_consistent(open_lake(str(fresh)))
    runs = [m["operation"] for m in open_lake(str(fresh)).manifests()]
    assert runs == ["collect", "reprocess", "reprocess"]


def test_the_reprocess_command_is_idempotent(fresh: Path) -> None:
    expected = rows(fresh)
    done = subprocess.run(
        [sys.executable, "-m", "rasid.cli", "reprocess", "--lake", str(fresh)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "re-extracted" in done.stdout and "Traceback" not in done.stderr
    assert rows(fresh) == expected
    assert_lake_consistent(open_lake(str(fresh)))
