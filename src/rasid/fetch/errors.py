"""How a fetch fails: as data (FetchFailure) for callers, as an exception inside the layer."""

from __future__ import annotations

from rasid.models import FetchFailure


class FetchError(Exception):
    """A URL that could not be fetched; ``failure`` says why, as data."""

    def __init__(self, failure: FetchFailure) -> None:
        super().__init__(f"{failure.reason}: {failure.url}: {failure.detail}")
        self.failure = failure


class Problem(Exception):
    """A failure inside the fetch layer, before the URL and source are known; becomes a
    FetchFailure."""

    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        transient: bool,
        retryable: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.transient = transient
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
        self.attempts = 0

    def failure(self, url: str, source_id: str, attempts: int) -> FetchFailure:
        return FetchFailure(
            url=url,
            source_id=source_id,
            reason=self.reason,
            detail=self.detail,
            transient=self.transient,
            attempts=attempts,
            status=self.status,
        )
