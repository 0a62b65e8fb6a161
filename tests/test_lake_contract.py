"""The contract, the GX suite and the Parquet the lake holds stay in step: every check's
column exists in the contract with a matching type, every quarantine reason and warning the
suite can give is a code the contract documents, and the contract's own SQL rule refuses an
undocumented reason."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from rasid import checks, contract
from rasid.storage import open_lake
from tests.lake_support import collect_rows, quarantined

# The columns the suite reads that the pipeline computes for the check only (not stored).
CHECK_ONLY = {"duplicate_of", "min_arabic_ratio", "language_matches", "body_repeated",
              "date_plausible"}
# What each kind of expectation needs of its column.
NUMERIC = {"expect_column_values_to_be_between", "expect_column_pair_values_a_to_be_greater_than_b"}


def expectations() -> list[dict]:
    return list(checks.load_suite_spec()["expectations"])


def test_every_checked_column_is_a_contract_column_of_a_fitting_type() -> None:
    schema = contract.arrow_schema("articles", include_partitions=True)
    for exp in expectations():
        columns = [v for k, v in exp["kwargs"].items() if k.startswith("column")]
        for column in columns:
            if column in CHECK_ONLY:
                continue
            assert column in schema.names, (exp["type"], column)
            if exp["type"] in NUMERIC:
                assert pa.types.is_integer(schema.field(column).type) or pa.types.is_floating(
                    schema.field(column).type), column


def test_every_reason_and_warning_of_the_suite_is_a_documented_code() -> None:
    blocking = {e["meta"]["reason"] for e in expectations() if e["severity"] == "critical"}
    warnings = {e["meta"]["reason"] for e in expectations() if e["severity"] == "warning"}
    assert blocking == set(contract.codes("quarantine", "reasons"))
    for kind in contract.CONTRACTS:
        assert warnings <= set(contract.codes(kind, "flags")), kind
    assert contract.codes("articles", "flags") == contract.codes("quarantine", "flags")


def rule(kind: str, name: str) -> str:
    document = contract.load_contract(kind)
    found = [q["query"] for p in document["schema"][0]["properties"] for q in p.get("quality", [])
             if q["name"] == name]
    assert found, name
    return str(found[0])


@pytest.mark.parametrize(("reason", "violations"), [("no_date", 0), ("date_missing", 1)])
def test_the_contract_refuses_undocumented_reasons(
    tmp_path: Path, reason: str, violations: int
) -> None:
    lake = open_lake(str(tmp_path))
    collect_rows(lake, [quarantined("sham-today", date(2026, 11, 28), 1) | {"reasons": [reason]}])
    db = duckdb.connect()
    glob = f"{tmp_path}/quarantine/**/*.parquet"
    db.execute(f"CREATE VIEW quarantine AS FROM read_parquet('{glob}', hive_partitioning=true)")
    assert db.execute(rule("quarantine", "reasons_are_known_codes")).fetchone() == (violations,)
