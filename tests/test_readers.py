"""The engines analysts use read the lake with the contract's types: pyarrow (local and S3),
DuckDB over S3 through its own s3:// support, Spark in local mode with partition discovery,
the README's snippets as written, and datacontract-cli testing the lake against the contract.

DuckDB 1.5 with its httpfs wheel, pyspark and datacontract-cli live in a virtualenv of their
own (tests/readers/requirements.txt), named by RASID_READERS_PYTHON; .ci/run builds it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pytest

from rasid import contract
from rasid.storage import Lake, open_lake
from tests.lake_support import (
    FIRES_WATCHLIST,
    article,
    collect_rows,
    enrich_run,
    quarantined,
    story_rows,
)

ROOT = Path(__file__).resolve().parents[1]
READERS = Path(__file__).parent / "readers"
ROWS = [article(s, date(2026, 11, d), n) for s in ("sham-today", "furat-post") for d in (27, 28)
        for n in (1, 2)] + [quarantined("halab-online", date(2026, 11, 28), 7)]


@pytest.fixture(scope="session")
def readers_python() -> Path:
    path = os.environ.get("RASID_READERS_PYTHON")
    if path and Path(path).exists():
        return Path(path)
    message = "RASID_READERS_PYTHON names no readers venv (see tests/readers/requirements.txt)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def ids(lake: Lake, kind: str) -> list[str]:
    return sorted(lake.dataset(kind).to_table(columns=["article_id"]).column(0).to_pylist())


@pytest.fixture
def local_lake(tmp_path: Path) -> Lake:
    lake = open_lake(str(tmp_path / "lake"))  # named "lake", as the README's snippets expect
    collect_rows(lake, ROWS)
    return lake


@pytest.fixture
def s3_lake_with_rows(s3_env: dict[str, str]) -> Lake:
    bucket = f"readers-{uuid.uuid4().hex[:10]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    lake = open_lake(f"s3://{bucket}/lake")
    collect_rows(lake, ROWS)
    return lake


@pytest.mark.parametrize("where", ["local", "s3"])
def test_pyarrow_reads_the_committed_tables_with_contract_types(
    where: str, request: pytest.FixtureRequest
) -> None:
    lake: Lake = request.getfixturevalue("local_lake" if where == "local" else "s3_lake_with_rows")
    for kind in contract.CONTRACTS:
        table = lake.dataset(kind).to_table()
        assert table.schema.equals(contract.arrow_schema(kind, include_partitions=True))
        assert table.column("fetched_at").type == pa.timestamp("us", tz="UTC")
    assert len(ids(lake, "articles")) == len(ROWS) - 1 and len(ids(lake, "quarantine")) == 1


def readers(python: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 300) -> Any:
    done = subprocess.run([str(python), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd=cwd)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_duckdb_reads_the_lake_on_s3_through_its_own_httpfs(
    readers_python: Path, s3_lake_with_rows: Lake, s3_env: dict[str, str]
) -> None:
    out = json.loads(readers(readers_python, str(READERS / "duckdb_s3.py"), s3_lake_with_rows.uri,
                             env=s3_env))
    for kind in contract.CONTRACTS:
        assert out[kind]["ids"] == ids(s3_lake_with_rows, kind)
    types = out["articles"]["types"]
    assert types["published_date"] == "DATE" and types["source"] == "VARCHAR"
    assert types["published_at"] == "TIMESTAMP WITH TIME ZONE" and types["flags"] == "VARCHAR[]"


def readme_snippets() -> tuple[list[str], str]:
    """The shell commands and the Spark snippet of the README's "Query the lake" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Query the lake", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, flags=re.S)
    commands = [line for lang, code in blocks if lang == "bash" for line in code.splitlines()
                if line.startswith("duckdb ")]
    [spark] = [code for lang, code in blocks if lang == "python" and "pyspark" in code]
    return commands, spark


def test_the_readmes_duckdb_commands_work_as_written(
    readers_python: Path, local_lake: Lake
) -> None:
    commands, _ = readme_snippets()
    assert len(commands) >= 2
    path = f"{readers_python.parent}{os.pathsep}{os.environ['PATH']}"
    for command in commands:
        out = readers(Path("/bin/sh"), "-c", command, env={"PATH": path},
                      cwd=Path(local_lake.uri).parent)
        assert "sham-today" in out or "halab-online" in out, (command, out)


@pytest.fixture
def enriched_lake(tmp_path: Path) -> Lake:
    """A lake whose runs wrote stories, mentions and watchlist matches."""
    lake = open_lake(str(tmp_path / "enriched" / "lake"))
    watchlists = tmp_path / "watchlists.yaml"
    watchlists.write_text(FIRES_WATCHLIST, encoding="utf-8")
    rows = list(story_rows().values())
    enrich_run(lake, rows, max(r["published_date"] for r in rows), watchlists)
    return lake


@pytest.mark.slow
def test_spark_reads_the_local_lake_with_partition_discovery_and_contract_types(
    readers_python: Path, local_lake: Lake, enriched_lake: Lake, tmp_path: Path
) -> None:
    if not shutil.which("java"):
        pytest.fail("pyspark needs a Java 17 runtime (Debian: openjdk-17-jre-headless)")
    _, snippet = readme_snippets()
    (tmp_path / "snippet.py").write_text(snippet, encoding="utf-8")
    out = json.loads(readers(readers_python, str(READERS / "spark_read.py"),
                             str(Path(local_lake.uri).parent), str(tmp_path / "snippet.py"),
                             str(Path(enriched_lake.uri).parent)))
    # The enrich stage's tables: every column with the contract's (Spark SQL) type, the
    # partition columns discovered from the paths, and the rows pyarrow reads.
    for kind, key in (("stories", "story_id"), ("mentions", "entity_id"),
                      ("watchlist_matches", "watchlist_id")):
        expected = {p["name"]: p["physicalType"]
                    for p in contract.load_contract(kind)["schema"][0]["properties"]}
        assert out[kind]["types"] == expected, kind
        table = enriched_lake.dataset(kind).to_table()
        assert out[kind]["rows"] == table.num_rows > 0, kind
        assert out[kind]["keys"] == sorted(set(table.column(key).to_pylist())), kind

    assert "sham-today" in out["snippet_output"]  # the README's snippet showed the table
    articles = out["articles"]
    assert articles["ids"] == ids(local_lake, "articles")
    assert articles["sham_today"] == sum(r["source"] == "sham-today" for r in ROWS)
    assert {name: articles["types"][name] for name in
            ("source", "published_date", "published_at", "word_count", "http_status", "flags")} == {
        "source": "string", "published_date": "date", "published_at": "timestamp",
        "word_count": "int", "http_status": "smallint", "flags": "array<string>",
    }
    assert out["quarantine"]["types"]["run_date"] == "date"
    assert out["quarantine"]["types"]["reasons"] == "array<string>"
    assert out["quarantine"]["ids"] == ids(local_lake, "quarantine")


@pytest.mark.parametrize("kind", contract.TABLES)
def test_datacontract_cli_lints_the_contract_and_tests_the_lake(
    readers_python: Path, request: pytest.FixtureRequest, kind: str
) -> None:
    lake: Lake = request.getfixturevalue(
        "enriched_lake" if kind in contract.ENRICHED else "local_lake")
    cli = str(readers_python.parent / "datacontract")
    where = Path(lake.uri).parent  # the contracts' local server is ./lake/<table>/**
    shutil.copy(ROOT / "data_contracts" / f"{kind}.odcs.yaml", where)
    lint = readers(Path(cli), "lint", f"{kind}.odcs.yaml", cwd=where)
    assert "valid" in lint
    tested = readers(Path(cli), "test", f"{kind}.odcs.yaml", cwd=where)
    assert "failed" not in tested.lower(), tested
