"""Flags for sources that need a person: nothing yielded, or rows mostly quarantined."""

from __future__ import annotations

from typing import Any

from rasid.health import MOSTLY_QUARANTINED, YIELDS_NOTHING, combine_runs, flag_sources


def stats(**counts: Any) -> dict[str, Any]:
    base = dict.fromkeys(("discovered", "new", "fetched", "extracted", "stored", "quarantined", "failed"), 0)
    return {**base, "quarantine_reasons": {}, "failure_reasons": {}, **counts}


def codes(sources: dict[str, Any], history: list[dict[str, Any]] = ()) -> set[tuple[str, str]]:  # type: ignore[assignment]
    return {(f.source, f.code) for f in flag_sources(sources, history)}


def test_a_healthy_source_and_a_quiet_rerun_are_not_flagged() -> None:
    assert codes({"a": stats(discovered=20, new=20, fetched=20, stored=18, quarantined=2),
                  "b": stats(discovered=20, new=0)}) == set()


def test_a_source_that_suddenly_discovers_nothing_is_flagged_with_its_last_yield() -> None:
    before = {"run_id": "r1", "sources": {"a": stats(discovered=30, stored=12)}}
    (flag,) = flag_sources({"a": stats()}, [before])
    assert (flag.code, flag.source) == (YIELDS_NOTHING, "a")
    assert "r1" in flag.detail and "discovered 30" in flag.detail


def test_feeds_unchanged_since_the_last_run_are_quiet_not_broken() -> None:
    before = {"run_id": "r1", "sources": {"a": stats(discovered=30, stored=12)}}
    assert flag_sources({"a": stats(unchanged=2)}, [before]) == []


def test_new_urls_that_all_fail_to_fetch_yield_nothing() -> None:
    (flag,) = flag_sources({"a": stats(discovered=5, new=5, failed=5, failure_reasons={"http_403": 5})})
    assert flag.code == YIELDS_NOTHING and "http_403: 5" in flag.detail


def test_mostly_quarantined_needs_more_than_half_of_at_least_three_rows() -> None:
    assert codes({"a": stats(discovered=4, stored=1, quarantined=3,
                             quarantine_reasons={"no_date": 3})}) == {("a", MOSTLY_QUARANTINED)}
    assert codes({"a": stats(discovered=4, stored=2, quarantined=2)}) == set()  # half is not most
    assert codes({"a": stats(discovered=2, stored=0, quarantined=2)}) == set()  # too few to say


def test_a_day_of_runs_is_judged_as_a_whole() -> None:
    run = {"run_id": "r", "sources": {"a": stats(discovered=3, new=3, fetched=3, stored=1, quarantined=2,
                                                  quarantine_reasons={"not_arabic": 2})}}
    day = combine_runs([run, run], ["a", "configured-but-never-run"])
    assert day["a"]["stored"] == 2 and day["a"]["quarantine_reasons"] == {"not_arabic": 4}
    assert codes(day) == {("a", MOSTLY_QUARANTINED), ("configured-but-never-run", YIELDS_NOTHING)}
