"""How a run cuts its candidates into batches."""

from __future__ import annotations

from rasid.models import Candidate
from rasid.pipeline import interleave


def queue(source: str, n: int) -> list[Candidate]:
    return [Candidate(url=f"https://{source}.example/{i}", source_id=source, via="sitemap")
            for i in range(n)]


def test_batches_grow_from_a_small_first_one_to_the_batch_size_and_shrink_at_the_end() -> None:
    batches = list(interleave([queue("a", 2000), queue("b", 1000)], 500, first=100))
    assert [len(b) for b in batches] == [100, 200, 400, 500, 500, 500, 400, 200, 100, 100]


def test_towards_the_end_each_batch_takes_half_of_what_is_left() -> None:
    batches = list(interleave([queue("a", 700), queue("b", 300)], 400, first=100))
    assert [len(b) for b in batches] == [100, 200, 350, 175, 100, 75]


def test_a_run_smaller_than_two_first_batches_still_starts_small() -> None:
    assert [len(b) for b in interleave([queue("a", 300)], 500, first=100)] == [100, 100, 100]
    assert [len(b) for b in interleave([queue("a", 50)], 500, first=100)] == [50]


def test_every_candidate_lands_in_exactly_one_batch_sources_mixed() -> None:
    queues = [queue("a", 37), queue("b", 5), queue("c", 0), queue("d", 21)]
    batches = list(interleave(queues, 16, first=4))
    flat = [c for batch in batches for c in batch]
    assert sorted(c.url for c in flat) == sorted(c.url for q in queues for c in q)
    assert {c.source_id for c in batches[1]} == {"a", "b", "d"}  # round-robin, not source by source
    assert all(len(b) <= 16 for b in batches)


def test_a_first_batch_larger_than_the_batch_size_is_capped() -> None:
    assert [len(b) for b in interleave([queue("a", 10)], 3, first=50)] == [3, 3, 3, 1]
