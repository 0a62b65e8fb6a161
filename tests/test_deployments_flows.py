"""The on-demand backfill and the daily report, run under Prefect's harness on the demo site."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from rasid import health
from rasid.demo import site
from rasid.urls import normalize_url

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

OCTOBER = (date(2026, 10, 1), date(2026, 10, 31))


def stored_urls(lake: Path) -> set[str]:
    found = set()
    for kind in ("articles", "quarantine"):
        if not any(lake.glob(f"{kind}/**/*.parquet")):
            continue
        rel = f"read_parquet('{lake}/{kind}/**/*.parquet', hive_partitioning=true)"
        found |= {url for (url,) in duckdb.sql(f"SELECT url FROM {rel}").fetchall()}
    return found


@pytest.fixture(scope="module")
def october(demo_site: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from rasid_flows.backfill import backfill

    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("RASID_ALLOW_PRIVATE_HOSTS", demo_site.allowlist())
    root = tmp_path_factory.mktemp("backfill")
    sources = root / "sources.yaml"
    sources.write_text(demo_site.sources_yaml(), encoding="utf-8")
    result = backfill(start=OCTOBER[0], end=OCTOBER[1], sources_file=str(sources), lake=str(root / "lake"))
    monkeypatch.undo()
    return {"result": result, "lake": root / "lake", "sources": sources}


def test_a_backfill_collects_the_days_asked_for_and_no_others(october: dict[str, Any], demo_site: Any) -> None:
    published = {normalize_url(demo_site.base_url(p.source_id) + p.path): p.published.date()
                 for p in site.PAGES if p.published}
    got = stored_urls(october["lake"])
    first, last = OCTOBER
    in_window = {u for u, day in published.items() if first <= day <= last}
    assert got and got <= {u for u, day in published.items() if first - timedelta(1) <= day <= last + timedelta(1)}
    # The dated sources (a feed, a news sitemap) give the whole month; section links have no date.
    dated = {u for u in in_window if "halab" not in u and "127.0.0.13" not in u}
    assert dated <= got


def test_a_source_with_nothing_dated_in_the_window_is_flagged_in_the_result(october: dict[str, Any]) -> None:
    flags = {(f["source"], f["code"]) for f in october["result"]["flags"]}
    assert flags == {("halab-online", health.YIELDS_NOTHING)}


def test_the_daily_report_publishes_the_report_and_the_days_flags(october: dict[str, Any]) -> None:
    from rasid_flows.daily_report import daily_report

    result = daily_report(sources_file=str(october["sources"]), lake=str(october["lake"]))
    assert result["runs"] == 1
    assert Path(result["report"].removeprefix("file://")).name == "index.html"
    assert {(f["source"], f["code"]) for f in result["flags"]} == {("halab-online", health.YIELDS_NOTHING)}


def test_the_daily_report_on_an_empty_lake_says_so(tmp_path: Path, october: dict[str, Any]) -> None:
    from rasid_flows.daily_report import daily_report

    result = daily_report(sources_file=str(october["sources"]), lake=str(tmp_path / "empty"))
    assert result == {"runs": 0, "report": None, "flags": []}
