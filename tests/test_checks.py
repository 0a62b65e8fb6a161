"""The GX suite in expectations/: every rule loads, runs, and names failing rows by id."""

import json
import random
from pathlib import Path

import pandas as pd
import pytest

from rasid import checks

SUITE = Path(__file__).resolve().parents[1] / "expectations" / "articles.json"


def frame(**overrides: list) -> pd.DataFrame:
    base = {
        "article_id": ["a", "b", "c"],
        "published_at": pd.to_datetime(["2026-11-01T08:00Z", "2026-11-02T08:00Z", "2026-11-03T08:00Z"], utc=True),
        "word_count": [120, 200, 90],
        "duplicate_of": [None, None, None],
        "near_duplicate_of": [None, None, None],
        "arabic_ratio": [0.97, 0.99, 0.95],
        "min_arabic_ratio": [0.6, 0.6, 0.6],
        "language_matches": [True, True, True],
        "body_repeated": [False, False, False],
        "date_plausible": [True, True, True],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def test_the_shipped_suite_is_the_one_in_expectations() -> None:
    assert checks.load_suite_spec() == json.loads(SUITE.read_text(encoding="utf-8"))
    reasons = {r.reason for r in checks.rules()}
    assert {"no_date", "duplicate_body", "not_arabic", "body_repeated"} <= reasons


def test_clean_batch_passes_every_rule() -> None:
    outcome = checks.validate(frame())
    assert outcome.success
    assert outcome.reasons == {} and outcome.warnings == {}
    assert len(outcome.rules) == len(checks.rules())


def test_failures_are_named_by_row_and_reason() -> None:
    outcome = checks.validate(
        frame(
            published_at=pd.to_datetime(["2026-11-01T08:00Z", None, "2026-11-03T08:00Z"], utc=True),
            duplicate_of=[None, None, "a"],
            arabic_ratio=[0.97, 0.1, 0.95],
            body_repeated=[True, False, False],
        )
    )
    assert not outcome.success
    assert outcome.blocking("a") == []
    assert sorted(outcome.blocking("b")) == ["no_date", "not_arabic"]
    assert outcome.blocking("c") == ["duplicate_body"]
    assert outcome.warnings == {"a": ["body_repeated"]}
    failed = {r["reason"]: r["failed"] for r in outcome.rules}
    assert failed["no_date"] == 1 and failed["body_repeated"] == 1


def test_per_source_threshold_applies_row_by_row() -> None:
    outcome = checks.validate(frame(arabic_ratio=[0.5, 0.5, 0.5], min_arabic_ratio=[0.6, 0.4, 0.0]))
    assert outcome.blocking("a") == ["not_arabic"]
    assert outcome.blocking("b") == [] and outcome.blocking("c") == []


def test_validation_result_is_json_for_data_docs() -> None:
    outcome = checks.validate(frame(duplicate_of=[None, "a", None]))
    json.dumps(outcome.validation)


def test_data_docs_are_built_again_only_for_new_validation_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasid.report import publishing
    from rasid.storage import open_lake

    lake = open_lake(str(tmp_path))

    def committed(run: str, day: int, validated: bool) -> dict:
        files = {}
        if validated:
            key = f"reports/validations/{run}/part-0000.json"
            files["validations"] = [lake.write_bytes(key, json.dumps(checks.validate(frame()).validation).encode())]
        return {"run_id": run, "started_at": f"2026-11-{day:02d}T08:00:00+00:00", "files": files}

    def publish(runs: list) -> tuple[dict, dict]:
        site, pages = publishing._data_docs(lake, runs, reuse=True)
        for path, data in site.items():
            lake.write_bytes(f"reports/data-docs/{path}", data)
        return site, pages

    first = committed("run-1", 1, validated=True)
    site, pages = publish([first])
    assert site and pages["run-1"]

    def no_gx(*args: object) -> None:
        raise AssertionError("Data Docs were built again")

    with monkeypatch.context() as patched:
        patched.setattr(checks, "build_data_docs", no_gx)
        # A run that found nothing new validated nothing: the docs in the lake still stand.
        assert publish([first, committed("run-2", 2, validated=False)]) == ({}, pages)
    site, more = publish([first, committed("run-3", 3, validated=True)])
    assert site and set(more) == {"run-1", "run-3"}


# --- the forecast of which rows the suite blocks --------------------------------------------


def random_frame(rng: random.Random, rows: int) -> pd.DataFrame:
    """Rows at the edges of every blocking rule: missing dates, 29/30/31 words, ratios equal to
    the threshold, a missing ratio, repeated ids, language mismatches."""
    ids = [f"id{rng.randrange(rows * 8)}" for _ in range(rows)]
    return pd.DataFrame({
        "article_id": ids,
        "published_at": pd.to_datetime([rng.choice([None] + ["2026-11-01T08:00Z"] * 9) for _ in ids], utc=True),
        "word_count": [rng.choice([0, 29, 30, 31] + [500] * 8) for _ in ids],
        "duplicate_of": [None] * rows,
        "near_duplicate_of": [None] * rows,
        "arabic_ratio": [rng.choice([0.0, 0.59, 0.6, 0.61, None] + [1.0] * 10) for _ in ids],
        "min_arabic_ratio": [rng.choice([0.0, 0.6]) for _ in ids],
        "language_matches": [rng.random() < 0.95 for _ in ids],
        "body_repeated": [rng.random() < 0.2 for _ in ids],
        "date_plausible": [rng.random() < 0.9 for _ in ids],
    })


def test_the_forecast_of_blocked_rows_agrees_with_the_suite() -> None:

    rng = random.Random(11)
    copies = frozenset({"duplicate_of", "near_duplicate_of"})
    for _ in range(12):
        batch = random_frame(rng, 25)
        forecast = checks.predict_blocked(batch, ignore=copies)
        outcome = checks.validate(batch)
        assert forecast == [bool(outcome.blocking(i)) for i in batch["article_id"]]
        assert any(forecast) and not all(forecast)


def test_an_expectation_the_forecast_does_not_restate_gives_no_forecast(
        monkeypatch: pytest.MonkeyPatch) -> None:
    spec = checks.load_suite_spec()
    spec["expectations"].append({"type": "expect_column_values_to_match_regex", "severity": "critical",
                                 "kwargs": {"column": "article_id", "regex": "^id"}})
    monkeypatch.setattr(checks, "load_suite_spec", lambda name=checks.SUITE_NAME: spec)
    assert checks.predict_blocked(frame(), ignore=frozenset()) is None
