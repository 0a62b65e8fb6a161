"""How a run cuts its results into batches."""

from __future__ import annotations

from rasid.pipeline import batch_sizes


def sizes(total: int, batch_size: int, first: int, closes_early: int = 0) -> list[int]:
    """The batches a run of ``total`` results takes; the first ``closes_early`` batches close
    (on their time limit) with half of what they asked for."""
    left, taken = total, []

    def remaining() -> int:
        return left

    for n, size in enumerate(batch_sizes(remaining, batch_size, first)):
        got = max(1, size // 2) if n < closes_early else min(size, left)
        taken.append(got)
        left -= got
    return taken


def test_batches_grow_from_a_small_first_one_to_the_batch_size_and_shrink_at_the_end() -> None:
    assert sizes(3000, 500, first=100) == [100, 200, 400, 500, 500, 500, 400, 200, 100, 100]


def test_towards_the_end_each_batch_takes_half_of_what_is_left() -> None:
    assert sizes(1000, 400, first=100) == [100, 200, 350, 175, 100, 75]


def test_a_run_smaller_than_two_first_batches_still_starts_small() -> None:
    assert sizes(300, 500, first=100) == [100, 100, 100]
    assert sizes(50, 500, first=100) == [50]


def test_every_result_lands_in_exactly_one_batch_even_when_batches_close_early() -> None:
    taken = sizes(63, 16, first=4, closes_early=3)
    assert taken[:3] == [2, 4, 8] and sum(taken) == 63
    assert all(n <= 16 for n in taken)


def test_a_first_batch_larger_than_the_batch_size_is_capped() -> None:
    assert sizes(10, 3, first=50) == [3, 3, 3, 1]
