"""Where everything lives in the lake: pure functions from records to keys, no I/O.

- ``articles/source=<slug>/published_date=<YYYY-MM-DD>/<run_id>-<n>.parquet``
- ``quarantine/source=<slug>/run_date=<YYYY-MM-DD>/<run_id>-<n>.parquet``
- ``raw/source=<slug>/fetch_date=<YYYY-MM-DD>/<run_id>.warc.gz`` (the fetched pages)
- ``_staging/<any of the above>`` (files of runs that are not yet published)
- ``_manifests/<seq>.json`` (the commit record, numbered in commit order; the number alone
  names it, so two writers cannot both take one. Lakes of earlier versions also have
  ``_manifests/<seq>-<run_id>.json`` and, from before commits were numbered,
  ``_manifests/<run_id>.json``)
- ``_checkpoints/<seq>.json`` and ``_checkpoints/<seq>-<token>/*.parquet``, ``_last_checkpoint``
  (the state folded from the manifests up to ``seq``; engines skip ``_`` paths)
- ``reports/...``
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date

import pyarrow as pa

from rasid import contract
from rasid.config import SLUG_PATTERN

MANIFESTS = "_manifests"
STAGING = "_staging"
# Prefixes whose files only the commit protocol writes; write_bytes may not touch them.
CHECKPOINTS = "_checkpoints"
LAST_CHECKPOINT = "_last_checkpoint"
PROTOCOL_PREFIXES = (*contract.TABLES, "raw", MANIFESTS, STAGING, CHECKPOINTS, LAST_CHECKPOINT)
# A run id becomes part of object keys; a leading "_" or "." would make Spark skip the files.
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SLUG = re.compile(SLUG_PATTERN)
SEQ_DIGITS = 12
_SEQ_NAME = re.compile(rf"^{MANIFESTS}/(\d{{{SEQ_DIGITS}}})(?:-[^/]+)?\.json$")
# Every numbered manifest sorts before this key (commit numbers below 10**11).
NUMBERED_END = f"{MANIFESTS}/1"


def check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid storage key {key!r}")
    return key


def check_prefix(prefix: str) -> str:
    if prefix:
        check_key(prefix.removesuffix("/"))
    return prefix


def _partition_value(name: str, value: object, is_date: bool) -> str:
    # Only slugs and ISO dates: Arrow, DuckDB and Spark escape other characters differently.
    if is_date:
        text = value.isoformat() if type(value) is date else str(value)
        if _ISO_DATE.match(text):
            try:
                date.fromisoformat(text)
                return text
            except ValueError:
                pass
        raise ValueError(f"partition {name}={value!r} is not a date (YYYY-MM-DD)")
    if isinstance(value, str) and _SLUG.match(value):
        return value
    raise ValueError(f"partition {name}={value!r} is not a slug ([a-z0-9-])")


def hive_path(table: str, values: list[tuple[str, object, bool]]) -> str:
    return "/".join([table, *(f"{n}={_partition_value(n, v, d)}" for n, v, d in values)])


def partition_path(kind: str, values: Mapping[str, object]) -> str:
    """The partition directory of a row, e.g. ``articles/source=x/published_date=2026-01-31``."""
    names = contract.partition_columns(kind)
    if set(values) != set(names):
        raise ValueError(f"{kind} partitions are {names}, got {sorted(values)}")
    schema = contract.arrow_schema(kind, include_partitions=True)
    return hive_path(
        kind, [(n, values[n], pa.types.is_date(schema.field(n).type)) for n in names]
    )


def check_run_id(run_id: str) -> str:
    if not _RUN_ID.match(run_id):
        raise ValueError(f"invalid run id {run_id!r}: use letters, digits, '.', '_' and '-'")
    return run_id


def staged_key(key: str) -> str:
    """Where a data file waits, invisible to readers, until its run is committed."""
    return f"{STAGING}/{key}"


def file_keys(files: Mapping[str, Iterable[str]] | None) -> list[str]:
    return [key for keys in (files or {}).values() for key in keys]


def manifest_key(seq: int) -> str:
    """A commit's manifest. Names sort in commit order, so the commits after one are listed
    with S3's StartAfter alone; and the number is the whole name, so a conditional put of it
    is a claim of the number: of two writers that chose it, one wins. (Earlier versions added
    the run id, and two writers could both commit number n under two names.)"""
    return f"{MANIFESTS}/{seq:0{SEQ_DIGITS}d}.json"


def manifests_after(seq: int) -> str:
    """A key that sorts after the manifest of commit ``seq`` (``<seq>.json``, or
    ``<seq>-<run_id>.json`` from an earlier version) and before that of ``seq + 1``."""
    return f"{MANIFESTS}/{seq:0{SEQ_DIGITS}d}/"


def manifest_seq(key: str) -> int | None:
    """The commit number in a manifest's name; None for a manifest named by run id alone
    (written before commits were numbered)."""
    found = _SEQ_NAME.match(key)
    return int(found.group(1)) if found else None

