"""The data contracts (ODCS v3 YAML in ``data_contracts/``) as Python values.

The contracts are the one source of truth for the lake's columns: the Arrow/Parquet schema the
storage layer writes is built here from them, never written out by hand, so the two cannot drift.
"""

from __future__ import annotations

import copy
from functools import cache
from importlib.resources import files
from typing import Any

import pyarrow as pa
import yaml

CONTRACTS = ("articles", "quarantine")
# The enrich stage's tables (rasid.enrich): derived from the articles, recomputed by reprocess.
ENRICHED = ("stories", "mentions", "watchlist_matches")
TABLES = (*CONTRACTS, *ENRICHED)

# (logicalType, physicalType) -> Arrow type. physicalType uses Spark SQL type names, the
# vocabulary most readers of the lake know. Timestamps are UTC microseconds because Spark
# refuses Parquet nanosecond timestamps and a time zone makes them instants, not wall times.
_ARROW_TYPES: dict[tuple[str, str], pa.DataType] = {
    ("string", "string"): pa.string(),
    ("date", "date"): pa.date32(),
    ("date", "timestamp"): pa.timestamp("us", tz="UTC"),
    ("integer", "int"): pa.int32(),
    ("integer", "smallint"): pa.int16(),
    ("number", "double"): pa.float64(),
    ("boolean", "boolean"): pa.bool_(),
    ("array", "array<string>"): pa.list_(pa.string()),
    ("array", "array<double>"): pa.list_(pa.float64()),
    ("array", "array<int>"): pa.list_(pa.int32()),
}


@cache
def _parsed(name: str) -> dict[str, Any]:
    if name not in TABLES:
        raise ValueError(f"unknown contract {name!r}; expected one of {', '.join(TABLES)}")
    text = (files("rasid.contracts") / f"{name}.odcs.yaml").read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def load_contract(name: str) -> dict[str, Any]:
    """The parsed ODCS document of contract ``name`` ("articles" or "quarantine")."""
    # A copy, so that a caller editing its document cannot change what everyone else reads.
    return copy.deepcopy(_parsed(name))


def _properties(name: str) -> list[dict[str, Any]]:
    properties: list[dict[str, Any]] = _parsed(name)["schema"][0]["properties"]
    return properties


def columns(name: str) -> list[str]:
    """All column names of the table, partition columns included, in contract order."""
    return [prop["name"] for prop in _properties(name)]


def key_column(name: str) -> str:
    """The column that names a row's subject (the first primary-key column): files are sorted
    by it, and a retried write is recognised by its values."""
    keys = [prop for prop in _properties(name) if prop.get("primaryKey")]
    return str(min(keys, key=lambda p: p.get("primaryKeyPosition", 1))["name"])


def partition_columns(name: str) -> list[str]:
    """The Hive partition columns, outermost first."""
    partitioned = [prop for prop in _properties(name) if prop.get("partitioned")]
    return [prop["name"] for prop in sorted(partitioned, key=lambda p: p["partitionKeyPosition"])]


def _arrow_field(prop: dict[str, Any]) -> pa.Field:
    kind = (prop["logicalType"], prop["physicalType"])
    if kind not in _ARROW_TYPES:
        raise ValueError(f"column {prop['name']!r}: no Arrow type for {kind}")
    return pa.field(prop["name"], _ARROW_TYPES[kind], nullable=not prop.get("required", False))


def arrow_schema(name: str, *, include_partitions: bool = False) -> pa.Schema:
    """The Arrow schema of the table; required columns are non-nullable.

    Without ``include_partitions`` it is the schema of the Parquet files themselves: Hive style
    keeps the partition columns in the directory names only.
    """
    partitions = set() if include_partitions else set(partition_columns(name))
    return pa.schema(_arrow_field(p) for p in _properties(name) if p["name"] not in partitions)


def column_descriptions(name: str, language: str = "en") -> dict[str, str]:
    """Each column's description in English ("en") or Arabic ("ar"), for reports and docs."""
    if language == "en":
        return {prop["name"]: " ".join(prop["description"].split()) for prop in _properties(name)}
    if language == "ar":
        return {prop["name"]: _custom(prop, "descriptionAr") for prop in _properties(name)}
    raise ValueError(f"no descriptions in language {language!r}; use 'en' or 'ar'")


def codes(name: str, column: str) -> list[str]:
    """The documented codes a list column holds (quarantine ``reasons``, ``flags``)."""
    [prop] = [p for p in _properties(name) if p["name"] == column]
    values = [c["value"] for c in prop.get("customProperties", []) if c["property"] == "codes"]
    if not values:
        raise ValueError(f"column {column!r} of {name} documents no codes")
    return [str(code) for code in values[0]]


def _custom(prop: dict[str, Any], key: str) -> str:
    values = [c["value"] for c in prop.get("customProperties", []) if c["property"] == key]
    if not values:
        raise ValueError(f"column {prop['name']!r} has no custom property {key!r}")
    return " ".join(str(values[0]).split())
