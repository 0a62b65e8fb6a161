"""The run loop without Prefect: plain callables for the stages, a real lake and real checks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rasid import extract, pipeline
from rasid.config import Source
from rasid.models import (
    HOST_UNRESPONSIVE,
    RUN_OUT_OF_TIME,
    Candidate,
    Extracted,
    FetchFailure,
    Page,
)
from rasid.storage import open_lake
from rasid.urls import url_id

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SOURCE = Source(id="wadi", name="الوادي", homepage="https://wadi.example/")
PARAGRAPHS = [
    "افتتحت البلدية صباح اليوم سوقاً جديدة للخضار في الحي الشرقي بعد أشهر من الانتظار.",
    "وقال رئيس البلدية إن السوق تضم أربعين محلاً وتفتح أبوابها كل يوم من السادسة صباحاً.",
    "ورحب الأهالي بالخطوة التي ستوفر عليهم الذهاب إلى وسط المدينة لشراء حاجاتهم اليومية.",
]


def article(n: int) -> bytes:
    body = "".join(f"<p>{p} (الخبر رقم {n})</p>" for p in PARAGRAPHS)
    return (f'<html lang="ar"><head><meta charset="utf-8"><title>سوق جديدة {n}</title>'
            f'<meta property="article:published_time" content="2026-03-01T08:00:00+00:00">'
            f"</head><body><article><h1>سوق جديدة {n}</h1>{body}</article></body></html>"
            ).encode()


def candidate(n: int) -> Candidate:
    return Candidate(url=f"https://wadi.example/news/{n}", source_id="wadi", via="sitemap")


def page(c: Candidate) -> Page:
    n = int(c.url.rsplit("/", 1)[1])
    return Page(url=c.url, final_url=c.url, source_id=c.source_id, status=200,
                headers={"content-type": "text/html; charset=utf-8"}, content=article(n),
                encoding="utf-8", encoding_source="http", fetched_at=NOW, candidate=c)


def test_every_stage_counts_once_and_batches_overlap_in_order(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path / "lake"))
    summary = pipeline.RunSummary(run_id=pipeline.new_run_id(NOW), started_at=NOW)
    shown: list[str] = []
    run = pipeline.Run(summary, pipeline.LakeState(), lambda sources, stage: shown.append(stage))
    events: list[str] = []
    already = candidate(0)
    run.state.known_ids.add(url_id(already.url))  # stored by an earlier run

    broken = Candidate(url="https://wadi.example/news/99", source_id="wadi", via="sitemap")
    queue = run.discovered("wadi", [already, broken] + [candidate(n) for n in range(1, 8)], [])

    waiting = list(queue)

    def take(count: int) -> tuple[list[Page], list[FetchFailure]]:
        candidates = [waiting.pop(0) for _ in range(min(count, len(waiting)))]
        events.append(f"fetch {len(candidates)}")
        failures = [FetchFailure(c.url, c.source_id, "http_404", "gone", transient=False)
                    for c in candidates if c == broken]
        return [page(c) for c in candidates if c != broken], failures

    def start(batch: pipeline.Batch) -> Callable[[], list[Extracted]]:
        events.append(f"extract {batch.part}")
        items = [(p.encoded, p.final_url, pipeline.extract_kwargs(p, SOURCE, batch.clock))
                 for p in batch.pages]
        return lambda: extract.extract_many(items)

    def store(batch: pipeline.Batch, rows: list[dict[str, Any]]) -> tuple[
            pipeline.CheckedBatch, dict[str, list[str]]]:
        events.append(f"store {batch.part}")
        return pipeline.check_and_write(lake, summary.run_id, batch.part, rows, batch.pages,
                                        batch.sources, run.state)

    ticks: list[int] = []
    batches = run.fetching(len(queue), 3, take, {"wadi": SOURCE}, NOW)
    run.process(batches, start, store, ticks.append)
    pipeline.commit_run(lake, summary)

    # The next batch is fetched while the one before it extracts; each is stored after.
    left, sizes = len(queue), []

    def remaining() -> int:
        return left

    for size in pipeline.batch_sizes(remaining, 3):
        sizes.append(min(size, left))
        left -= sizes[-1]
    expected = [f"fetch {sizes[0]}", "extract 0"]
    for part, size in enumerate(sizes[1:], start=1):
        expected += [f"fetch {size}", f"extract {part}", f"store {part - 1}"]
    assert len(sizes) > 2 and events == [*expected, f"store {len(sizes) - 1}"]
    totals = summary.totals
    assert (totals["discovered"], totals["new"], totals["fetched"], totals["failed"]) == (9, 8, 7, 1)
    assert totals["archived"] == 0
    assert totals["extracted"] == 7 == totals["stored"] + totals["quarantined"]
    assert ticks == [sum(sizes[:i + 1]) for i in range(len(sizes))]
    assert {"fetch", "extract", "write"} <= set(shown)
    # What the run wrote is what the next run's state knows.
    later = pipeline.load_state(open_lake(str(tmp_path / "lake")))
    assert all(url_id(candidate(n).url) in later.known_ids for n in range(1, 8))
    manifest = list(lake.manifests())[-1]
    assert manifest["files"]["validations"] and manifest["files"]["raw"]


def test_overlap_finishes_every_batch_once_in_order() -> None:
    log: list[str] = []
    pipeline.overlap(iter("abc"), lambda b: log.append(f"start {b}") or b.upper(),
                     lambda b, s: log.append(f"finish {b}{s}"))
    assert log == ["start a", "start b", "finish aA", "start c", "finish bB", "finish cC"]
    pipeline.overlap([], lambda b: b, lambda b, s: log.append("never"))
    assert "never" not in log


def test_what_a_run_left_for_the_next_is_asked_for_first_even_if_no_longer_listed(
    tmp_path: Path,
) -> None:
    lake = open_lake(str(tmp_path / "lake"))
    summary = pipeline.RunSummary(run_id=pipeline.new_run_id(NOW), started_at=NOW)
    waiting, tried = candidate(1), candidate(2)
    hinted = Candidate(url="https://wadi.example/news/3", source_id="wadi", via="feed",
                       published_hint=NOW)
    summary.add_failures([
        FetchFailure(waiting.url, "wadi", HOST_UNRESPONSIVE, "set aside", transient=True,
                     attempts=0, candidate=waiting),
        FetchFailure(hinted.url, "wadi", RUN_OUT_OF_TIME, "late", transient=True, attempts=0,
                     candidate=hinted),
        FetchFailure(tried.url, "wadi", "deadline_exceeded", "slow", transient=True),
    ])
    pipeline.commit_run(lake, summary)

    run = pipeline.Run(summary, pipeline.load_state(open_lake(str(tmp_path / "lake"))))
    # Discovery no longer lists the left URLs; it lists the tried one and a new one again.
    queue = run.discovered("wadi", [tried, candidate(4)], [])
    assert queue == [waiting, hinted, tried, candidate(4)]
    assert run.state.left_over("other") == []
