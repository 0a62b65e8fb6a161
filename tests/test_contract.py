"""The ODCS contracts are complete, bilingual, and what the storage layer actually writes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rasid import contract
from rasid.storage import open_lake

ARTICLE_COLUMNS = [
    "article_id", "url", "canonical_url", "source", "published_date", "title", "author",
    "published_at", "date_source", "body", "language", "word_count", "arabic_ratio",
    "body_hash", "near_duplicate_of", "near_duplicate_cluster", "repeated_share", "flags",
    "discovered_via", "http_status", "encoding", "fetched_at", "run_id", "story_id",
]  # fmt: skip
UTC_MICROS = pa.timestamp("us", tz="UTC")
ARROW_TYPES = {
    "published_date": pa.date32(),
    "run_date": pa.date32(),
    "published_at": UTC_MICROS,
    "fetched_at": UTC_MICROS,
    "word_count": pa.int32(),
    "http_status": pa.int16(),
    "arabic_ratio": pa.float64(),
    "repeated_share": pa.float64(),
    "flags": pa.list_(pa.string()),
    "reasons": pa.list_(pa.string()),
}
ARABIC_LETTER = re.compile(r"[\u0621-\u064A]")

# A value of each Arrow type, and the columns whose format the contract pins down.
SAMPLES: dict[pa.DataType, Any] = {
    pa.string(): "نص",
    pa.date32(): date(2026, 11, 28),
    UTC_MICROS: datetime(2026, 11, 28, 5, 4, 3, 210987, tzinfo=UTC),
    pa.int32(): 7,
    pa.int16(): 200,
    pa.float64(): 0.5,
    pa.list_(pa.string()): ["body_repeated"],
}
FORMATTED = {
    "article_id": "0123456789abcdef0123456789abcdef",
    "source": "test-source",
    "date_source": "dateline",
    "discovered_via": "sitemap",
    "language": "ar",
    "body_hash": "f" * 64,
    "run_id": "run-1",
}


def valid_row(kind: str, **changes: Any) -> dict[str, Any]:
    schema = contract.arrow_schema(kind, include_partitions=True)
    row = {field.name: SAMPLES[field.type] for field in schema} | FORMATTED
    if kind == "quarantine":
        row["reasons"] = contract.codes("quarantine", "reasons")[:1]
    return row | changes


def sql_rules(kind: str) -> list[dict[str, Any]]:
    table = contract.load_contract(kind)["schema"][0]
    rules = table.get("quality", [])
    rules += [rule for prop in table["properties"] for rule in prop.get("quality", [])]
    return [rule for rule in rules if rule["type"] == "sql"]


@pytest.mark.parametrize("kind", contract.CONTRACTS)
def test_contract_is_an_odcs_v3_document(kind: str) -> None:
    document = contract.load_contract(kind)
    assert document["apiVersion"].startswith("v3.0.")
    assert document["kind"] == "DataContract"
    assert document["id"] and document["name"] and document["version"] and document["status"]
    [table] = document["schema"]
    assert (table["name"], table["physicalType"]) == (kind, "table")


def test_articles_columns_and_partitions() -> None:
    assert contract.columns("articles") == ARTICLE_COLUMNS
    assert contract.partition_columns("articles") == ["source", "published_date"]
    schema = contract.arrow_schema("articles")
    assert schema.names == [c for c in ARTICLE_COLUMNS if c not in ("source", "published_date")]
    full = contract.arrow_schema("articles", include_partitions=True)
    nullable = {field.name for field in full if field.nullable}
    assert nullable == {
        "canonical_url", "title", "author", "language", "discovered_via", "http_status", "encoding",
        "near_duplicate_of", "near_duplicate_cluster", "story_id",
    }  # fmt: skip


def test_quarantine_keeps_everything_nullable_but_identity_and_reasons() -> None:
    assert contract.columns("quarantine") == [*ARTICLE_COLUMNS, "reasons", "run_date"]
    assert contract.partition_columns("quarantine") == ["source", "run_date"]
    schema = contract.arrow_schema("quarantine", include_partitions=True)
    required = {field.name for field in schema if not field.nullable}
    assert required == {
        "article_id", "url", "source", "fetched_at", "run_id", "reasons", "run_date"
    }  # fmt: skip


def test_quarantine_columns_mean_what_the_articles_columns_mean() -> None:
    articles = {p["name"]: p for p in contract.load_contract("articles")["schema"][0]["properties"]}
    quarantine = contract.load_contract("quarantine")["schema"][0]["properties"]
    for prop in quarantine:
        if prop["name"] in articles:
            twin = articles[prop["name"]]
            assert (prop["logicalType"], prop["physicalType"]) == (
                twin["logicalType"], twin["physicalType"]
            ), prop["name"]  # fmt: skip
            assert prop["description"] == twin["description"], prop["name"]
            assert prop["customProperties"] == twin["customProperties"], prop["name"]


@pytest.mark.parametrize("kind", contract.CONTRACTS)
def test_arrow_types_come_from_the_contract(kind: str) -> None:
    for field in contract.arrow_schema(kind, include_partitions=True):
        assert field.type == ARROW_TYPES.get(field.name, pa.string()), field.name


@pytest.mark.parametrize("kind", contract.CONTRACTS)
def test_every_column_is_described_in_english_and_arabic(kind: str) -> None:
    english = contract.column_descriptions(kind, "en")
    arabic = contract.column_descriptions(kind, "ar")
    assert list(english) == list(arabic) == contract.columns(kind)
    for name in contract.columns(kind):
        assert len(english[name]) > 10 and not ARABIC_LETTER.search(english[name]), name
        assert ARABIC_LETTER.search(arabic[name]), name


@pytest.mark.parametrize("kind", contract.CONTRACTS)
def test_written_parquet_has_exactly_the_contract_schema(kind: str, tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    [key] = lake.write_rows(kind, [valid_row(kind)], "run-1")
    lake.commit("run-1", {"files": {kind: [key]}})

    written = pq.read_schema(tmp_path / key)
    expected = contract.arrow_schema(kind)
    assert written.equals(expected, check_metadata=False)
    for field in expected:
        assert written.field(field.name).nullable == field.nullable, field.name
    timestamps = [f for f in written if pa.types.is_timestamp(f.type)]
    assert timestamps and all(f.type.unit == "us" and f.type.tz == "UTC" for f in timestamps)


@pytest.mark.parametrize("kind", contract.CONTRACTS)
def test_sql_quality_rules_pass_on_valid_rows(kind: str, tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    lake.commit("run-1", {"files": {kind: lake.write_rows(kind, [valid_row(kind)], "run-1")}})
    db = duckdb.connect()
    db.execute(
        f"CREATE VIEW {kind} AS SELECT * FROM "
        f"read_parquet('{tmp_path}/{kind}/**/*.parquet', hive_partitioning=true)"
    )
    rules = sql_rules(kind)
    assert rules
    for rule in rules:
        assert db.execute(rule["query"]).fetchone() == (rule["mustBe"],), rule["name"]


def test_sql_quality_rules_catch_bad_rows(tmp_path: Path) -> None:
    bad = valid_row("articles", date_source="guess", arabic_ratio=1.5, body="  ")
    lake = open_lake(str(tmp_path))
    lake.commit("run-1", {"files": {"articles": lake.write_rows("articles", [bad], "run-1")}})
    db = duckdb.connect()
    db.execute(
        f"CREATE VIEW articles AS SELECT * FROM "
        f"read_parquet('{tmp_path}/articles/**/*.parquet', hive_partitioning=true)"
    )
    rules = sql_rules("articles")
    failing = {rule["name"] for rule in rules if db.execute(rule["query"]).fetchone() != (0,)}
    assert failing == {"date_source_known", "arabic_ratio_in_range", "body_not_blank"}


def test_unknown_contract_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown contract"):
        contract.columns("comments")


def test_an_article_row_with_a_misspelt_or_missing_column_fails_where_it_is_built() -> None:
    from dataclasses import fields

    from rasid.pipeline import ArticleRow, QuarantineRow

    assert [f.name for f in fields(QuarantineRow)] == [
        *contract.columns("articles"), "run_date", "minhash", "reasons"]
    with pytest.raises(TypeError, match="word_cuont"):
        ArticleRow(article_id="a", word_cuont=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="missing"):
        ArticleRow(article_id="a")  # type: ignore[call-arg]
