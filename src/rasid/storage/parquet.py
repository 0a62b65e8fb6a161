"""The Parquet codec: rows checked against a table's contract, Arrow tables to bytes."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from rasid import contract


def rows_table(kind: str, rows: list[dict[str, Any]]) -> pa.Table:
    """``rows`` (dicts with every column of ``kind``) as a table with its file schema."""
    expected = set(contract.columns(kind))
    for row in rows:
        if set(row) != expected:
            missing, unknown = sorted(expected - set(row)), sorted(set(row) - expected)
            raise ValueError(
                f"{kind} row {row.get(contract.key_column(kind))!r}: missing {missing}, "
                f"unknown {unknown}"
            )
    table = pa.Table.from_pylist(rows, schema=contract.arrow_schema(kind))
    # Arrow does not enforce non-null fields on conversion, so the contract's "required" is
    # checked here, before anything reaches the lake.
    for field in table.schema:
        if not field.nullable and table.column(field.name).null_count:
            nulls = table.filter(pc.is_null(table.column(field.name)))
            raise ValueError(
                f"{kind} column {field.name!r} is required but is null for article "
                f"{nulls.column(contract.key_column(kind))[0].as_py()!r}"
            )
    return table


def encode_table(table: pa.Table) -> bytes:
    """A Parquet file of ``table``, zstd-compressed."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())


def key_values(column: str) -> Callable[[bytes], frozenset[str]]:
    """Reads the values of a table's key column (article_id for articles) a Parquet file holds."""
    def values(data: bytes) -> frozenset[str]:
        return frozenset(pq.read_table(io.BytesIO(data), columns=[column]).column(0).to_pylist())
    return values



def decode(data: bytes) -> pa.Table:
    """The table a Parquet file holds."""
    return pq.read_table(io.BytesIO(data))
