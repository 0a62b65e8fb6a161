"""The lake: the only module that speaks to S3 or the filesystem.

Layout (Spark and DuckDB read it with Hive partitioning):

- ``articles/source=<slug>/published_date=<YYYY-MM-DD>/<run_id>-<n>.parquet``
- ``quarantine/source=<slug>/run_date=<YYYY-MM-DD>/<run_id>-<n>.parquet``
- ``raw/source=<slug>/fetch_date=<YYYY-MM-DD>/<run_id>.warc.gz`` (the fetched pages)
- ``_manifests/<run_id>.json`` (the commit record; engines skip ``_`` paths)
- ``reports/...``

Commit protocol: a run writes each data file once under a fixed key (a conditional put, so a
rerun never overwrites a committed file), and writes its manifest last. Readers trust only the
files listed in committed manifests, so a crashed run leaves nothing visible behind.

Everything goes through a small ``Store`` seam with two implementations: ``LocalStore`` (a
directory) and ``S3Store`` (any S3-compatible endpoint, configured by the standard AWS variables).
"""

from __future__ import annotations

import builtins
import io
import json
import logging
import os
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import boto3
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
)
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from rasid import __version__, contract
from rasid.config import SLUG_PATTERN
from rasid.models import Candidate, Page

log = logging.getLogger(__name__)

MANIFESTS = "_manifests"
# Prefixes whose files only the commit protocol writes; write_bytes may not touch them.
_PROTOCOL_PREFIXES = (*contract.CONTRACTS, "raw", MANIFESTS)
# A run id becomes part of object keys; a leading "_" or "." would make Spark skip the files.
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SLUG = re.compile(SLUG_PATTERN)
# The stored content is already decoded, so these headers would misdescribe it.
_DROPPED_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}
_S3_CONFIG = Config(
    # boto3 >= 1.36 sends checksum headers that some S3-compatible servers reject.
    request_checksum_calculation="when_required",
    response_checksum_validation="when_required",
    retries={"max_attempts": 8, "mode": "standard"},
    connect_timeout=10,
    read_timeout=60,
)


class StorageError(Exception):
    """The lake could not be read or written; the message says why and never holds secrets."""


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid storage key {key!r}")
    return key


def _check_prefix(prefix: str) -> str:
    if prefix:
        _check_key(prefix.removesuffix("/"))
    return prefix


class Store(Protocol):
    """Where the lake's bytes live. Keys are relative, "/"-separated paths."""

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        """Store ``data`` at ``key``; with ``if_absent``, False (and no write) if it exists."""

    def get(self, key: str) -> bytes:
        """The bytes at ``key``; KeyError if there are none."""

    def exists(self, key: str) -> bool:
        """Whether ``key`` holds an object."""

    def delete(self, key: str) -> None:
        """Remove ``key``; nothing happens if it does not exist."""

    def uri(self, key: str) -> str:
        """An absolute path or URL for ``key`` that other tools understand."""

    def arrow_filesystem(self) -> tuple[pafs.FileSystem, str]:
        """A pyarrow filesystem and the base path of the store inside it."""

    def list(self, prefix: str = "") -> builtins.list[str]:
        """All keys starting with ``prefix``, recursively, sorted."""


class LocalStore:
    """A directory on the local filesystem; writes are atomic renames."""

    def __init__(self, root: Path) -> None:
        self.root = root.expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # A dot-name in the same directory: readers skip it, and the rename cannot cross devices.
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if not if_absent:
                os.replace(tmp, path)
                return True
            try:
                # link() fails if the target exists, and publishes the complete file in one step.
                os.link(tmp, path)
            except FileExistsError:
                return False
            return True
        except OSError as exc:
            raise StorageError(f"cannot write {path}: {exc.strerror}") from None
        finally:
            tmp.unlink(missing_ok=True)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def uri(self, key: str) -> str:
        return str(self.root / key) if key else str(self.root)

    def arrow_filesystem(self) -> tuple[pafs.FileSystem, str]:
        return pafs.LocalFileSystem(), self.root.as_posix()

    def list(self, prefix: str = "") -> builtins.list[str]:
        folder = self.root / _check_prefix(prefix).rpartition("/")[0]
        if not folder.is_dir():
            return []
        keys = (
            p.relative_to(self.root).as_posix()
            for p in folder.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )
        return sorted(k for k in keys if k.startswith(prefix))


class S3Store:
    """A bucket (and key prefix) on any S3-compatible endpoint.

    The endpoint, region and credentials come from the standard AWS variables and config files
    (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...), which boto3 and pyarrow both honour.
    """

    def __init__(self, bucket: str, prefix: str = "") -> None:
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self._session = boto3.session.Session()
        self._client = self._session.client("s3", config=_S3_CONFIG)
        credentials = self._session.get_credentials()
        self._credentials = credentials.get_frozen_credentials() if credentials else None

    def _key(self, key: str) -> str:
        return self.prefix + _check_key(key)

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        condition = {"IfNoneMatch": "*"} if if_absent else {}
        with self._errors("write", key):
            try:
                self._client.put_object(
                    Bucket=self.bucket, Key=self._key(key), Body=data, **condition
                )
            except ClientError as exc:
                if if_absent and _http_status(exc) == 412:
                    return False
                raise
        return True

    def get(self, key: str) -> bytes:
        with self._errors("read", key):
            try:
                response = self._client.get_object(Bucket=self.bucket, Key=self._key(key))
                body: bytes = response["Body"].read()
            except ClientError as exc:
                if _http_status(exc) == 404 and _error_code(exc) != "NoSuchBucket":
                    raise KeyError(key) from None
                raise
        return body

    def exists(self, key: str) -> bool:
        with self._errors("check", key):
            try:
                self._client.head_object(Bucket=self.bucket, Key=self._key(key))
            except ClientError as exc:
                if _http_status(exc) == 404:
                    return False
                raise
        return True

    def delete(self, key: str) -> None:
        with self._errors("delete", key):
            self._client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}".rstrip("/")

    def arrow_filesystem(self) -> tuple[pafs.FileSystem, str]:
        options: dict[str, Any] = {"region": self._session.region_name or "us-east-1"}
        if self._credentials:
            # The same credentials boto3 resolved, so pyarrow does not search on its own (its
            # search can end at the EC2 metadata endpoint).
            options |= {
                "access_key": self._credentials.access_key,
                "secret_key": self._credentials.secret_key,
                "session_token": self._credentials.token,
            }
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            parts = urlsplit(endpoint)
            options |= {"endpoint_override": parts.netloc, "scheme": parts.scheme or "https"}
        return pafs.S3FileSystem(**options), f"{self.bucket}/{self.prefix}".rstrip("/")

    def list(self, prefix: str = "") -> builtins.list[str]:
        keys: list[str] = []
        with self._errors("list", prefix):
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix + _check_prefix(prefix)
            )
            for page in pages:
                keys.extend(obj["Key"][len(self.prefix) :] for obj in page.get("Contents", []))
        return sorted(keys)

    def check(self) -> None:
        """Fail fast, with a clear StorageError, if the bucket is missing or out of reach."""
        with self._errors("open", ""):
            self._client.head_bucket(Bucket=self.bucket)

    @contextmanager
    def _errors(self, action: str, key: str) -> Iterator[None]:
        try:
            yield
        except ClientError as exc:
            raise StorageError(self._redact(self._explain(action, key, exc))) from None
        except NoCredentialsError:
            raise StorageError(
                f"no AWS credentials found for bucket {self.bucket!r}: set AWS_ACCESS_KEY_ID "
                "and AWS_SECRET_ACCESS_KEY (or a profile)"
            ) from None
        except EndpointConnectionError as exc:
            raise StorageError(
                self._redact(f"cannot reach the S3 endpoint for bucket {self.bucket!r}: {exc}")
            ) from None
        except BotoCoreError as exc:
            raise StorageError(
                self._redact(f"S3 {action} failed in bucket {self.bucket!r}: {exc}")
            ) from None

    def _explain(self, action: str, key: str, exc: ClientError) -> str:
        code, status = _error_code(exc), _http_status(exc)
        endpoint = self._client.meta.endpoint_url
        if code == "NoSuchBucket" or (action == "open" and status == 404):
            return (
                f"S3 bucket {self.bucket!r} does not exist at {endpoint}: create it, or fix the "
                "lake URI or AWS_ENDPOINT_URL"
            )
        if status == 403:
            return (
                f"S3 refused access to bucket {self.bucket!r} at {endpoint} ({code}): check the "
                "credentials and the bucket policy"
            )
        message = exc.response.get("Error", {}).get("Message", "")
        where = f" of {self.prefix + key!r}" if key else ""
        return f"S3 {action}{where} failed in bucket {self.bucket!r}: {code} {message}".strip()

    def _redact(self, text: str) -> str:
        # Belt and braces: no error text should hold credentials, but make sure of it.
        secrets = self._credentials or ()
        for secret in secrets:
            if secret:
                text = text.replace(secret, "***")
        return text


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _http_status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


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


def _hive_path(table: str, values: list[tuple[str, object, bool]]) -> str:
    return "/".join([table, *(f"{n}={_partition_value(n, v, d)}" for n, v, d in values)])


def partition_path(kind: str, values: Mapping[str, object]) -> str:
    """The partition directory of a row, e.g. ``articles/source=x/published_date=2026-01-31``."""
    names = contract.partition_columns(kind)
    if set(values) != set(names):
        raise ValueError(f"{kind} partitions are {names}, got {sorted(values)}")
    schema = contract.arrow_schema(kind, include_partitions=True)
    return _hive_path(
        kind, [(n, values[n], pa.types.is_date(schema.field(n).type)) for n in names]
    )


def _check_run_id(run_id: str) -> str:
    if not _RUN_ID.match(run_id):
        raise ValueError(f"invalid run id {run_id!r}: use letters, digits, '.', '_' and '-'")
    return run_id


def _table(kind: str, rows: list[dict[str, Any]]) -> pa.Table:
    expected = set(contract.columns(kind))
    for row in rows:
        if set(row) != expected:
            missing, unknown = sorted(expected - set(row)), sorted(set(row) - expected)
            raise ValueError(
                f"{kind} row {row.get('article_id')!r}: missing {missing}, unknown {unknown}"
            )
    table = pa.Table.from_pylist(rows, schema=contract.arrow_schema(kind))
    # Arrow does not enforce non-null fields on conversion, so the contract's "required" is
    # checked here, before anything reaches the lake.
    for field in table.schema:
        if not field.nullable and table.column(field.name).null_count:
            nulls = table.filter(pc.is_null(table.column(field.name)))
            raise ValueError(
                f"{kind} column {field.name!r} is required but is null for article "
                f"{nulls.column('article_id')[0].as_py()!r}"
            )
    return table


def _parquet(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())


def _parquet_ids(data: bytes) -> frozenset[str]:
    return frozenset(pq.read_table(io.BytesIO(data), columns=["article_id"]).column(0).to_pylist())


def _http_headers(page: Page) -> StatusAndHeaders:
    headers = [(k, v) for k, v in page.headers.items() if k.lower() not in _DROPPED_HEADERS]
    headers.append(("Content-Length", str(len(page.content))))
    try:
        reason = HTTPStatus(page.status).phrase
    except ValueError:
        reason = ""
    return StatusAndHeaders(f"{page.status} {reason}".strip(), headers, protocol="HTTP/1.1")


def _warc_date(moment: datetime) -> str:
    # WARC/1.1 allows fractions of a second; keep microseconds so a re-run keeps fetched_at exact.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _candidate_json(candidate: Candidate | None) -> dict[str, Any] | None:
    if candidate is None:
        return None
    hint = candidate.published_hint
    return {
        "url": candidate.url,
        "via": candidate.via,
        "published_hint": hint.isoformat() if hint else None,
        "title_hint": candidate.title_hint,
    }


def _page_metadata(page: Page) -> dict[str, Any]:
    return {
        "requested_url": page.url,
        "source_id": page.source_id,
        "candidate": _candidate_json(page.candidate),
    }


def _warc(source_id: str, pages: list[Page]) -> bytes:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True, warc_version="1.1")
    writer.write_record(
        writer.create_warcinfo_record(
            f"{source_id}.warc.gz", {"software": f"rasid/{__version__}", "isPartOf": source_id}
        )
    )
    for page in pages:
        response = writer.create_warc_record(
            page.final_url,
            "response",
            payload=io.BytesIO(page.content),
            length=len(page.content),
            http_headers=_http_headers(page),
            warc_headers_dict={"WARC-Date": _warc_date(page.fetched_at)},
        )
        # What was asked for (before redirects) and how it was discovered, so extraction can be
        # re-run later exactly as the first time.
        metadata = json.dumps(_page_metadata(page), ensure_ascii=False).encode("utf-8")
        writer.write_record(response)
        writer.write_record(
            writer.create_warc_record(
                page.final_url,
                "metadata",
                payload=io.BytesIO(metadata),
                length=len(metadata),
                warc_content_type="application/json",
                warc_headers_dict={
                    "WARC-Date": _warc_date(page.fetched_at),
                    "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
                },
            )
        )
    return buffer.getvalue()


def _candidate(data: dict[str, Any] | None, source_id: str) -> Candidate | None:
    if data is None:
        return None
    hint = data.get("published_hint")
    return Candidate(
        url=data["url"],
        source_id=source_id,
        via=data["via"],
        published_hint=datetime.fromisoformat(hint) if hint else None,
        title_hint=data.get("title_hint"),
    )


def _read_warc(data: bytes) -> list[dict[str, Any]]:
    pages: dict[str, dict[str, Any]] = {}
    for record in ArchiveIterator(io.BytesIO(data)):
        headers = record.rec_headers
        if record.rec_type == "response":
            pages[headers.get_header("WARC-Record-ID")] = {
                "url": headers.get_header("WARC-Target-URI"),
                "final_url": headers.get_header("WARC-Target-URI"),
                "source_id": None,
                "status": int(record.http_headers.get_statuscode()),
                "headers": dict(record.http_headers.headers),
                "content": record.content_stream().read(),
                "fetched_at": datetime.fromisoformat(headers.get_header("WARC-Date")),
                "candidate": None,
            }
        elif record.rec_type == "metadata":
            page = pages.get(headers.get_header("WARC-Concurrent-To"))
            if page is not None:
                meta = json.loads(record.content_stream().read())
                page["url"] = meta["requested_url"]
                page["source_id"] = meta["source_id"]
                page["candidate"] = _candidate(meta["candidate"], meta["source_id"])
    return list(pages.values())


def _warc_urls(data: bytes) -> frozenset[str]:
    return frozenset(page["url"] for page in _read_warc(data))


def _json_default(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a manifest")


class Lake:
    """The lake on one store: Hive-partitioned Parquet, raw WARC, manifests and reports."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def uri(self) -> str:
        """Where the lake is: an absolute path or ``s3://bucket/prefix``."""
        return self.store.uri("")

    def uri_for(self, key: str) -> str:
        """An absolute path or ``s3://`` URL for ``key``."""
        return self.store.uri(_check_key(key))

    def partition_path(self, kind: str, values: Mapping[str, object]) -> str:
        """See the module-level :func:`partition_path`."""
        return partition_path(kind, values)

    def write_rows(
        self, kind: str, rows: list[dict[str, Any]], run_id: str, *, rows_per_file: int = 100_000
    ) -> list[str]:
        """Write ``rows`` (dicts with every contract column) as Parquet; return the keys.

        One file per partition (more if it holds over ``rows_per_file`` rows), rows sorted by
        article_id, partition columns only in the path. Call it once per source and kind in a
        run: a second call that lands different articles in the same partition is refused.
        """
        _check_run_id(run_id)
        partitions = contract.partition_columns(kind)
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            groups[partition_path(kind, {name: row.get(name) for name in partitions})].append(row)
        keys = []
        for path in sorted(groups):
            ordered = sorted(groups[path], key=lambda row: str(row["article_id"]))
            for n, start in enumerate(range(0, len(ordered), rows_per_file)):
                key = f"{path}/{run_id}-{n}.parquet"
                data = _parquet(_table(kind, ordered[start : start + rows_per_file]))
                self._put_run_file(key, data, run_id, _parquet_ids)
                keys.append(key)
        return keys

    def write_raw(self, source_id: str, run_id: str, pages: list[Page]) -> str | None:
        """Archive one source's fetched pages of a run as a gzipped WARC; None if no pages."""
        _check_run_id(run_id)
        if not pages:
            return None
        strays = {page.source_id for page in pages} - {source_id}
        if strays:
            raise ValueError(f"write_raw({source_id!r}) got pages of {sorted(strays)}")
        fetch_date = min(page.fetched_at for page in pages).astimezone(UTC).date()
        path = _hive_path("raw", [("source", source_id, False), ("fetch_date", fetch_date, True)])
        key = f"{path}/{run_id}.warc.gz"
        self._put_run_file(key, _warc(source_id, pages), run_id, _warc_urls)
        return key

    def read_raw(self, key: str) -> list[dict[str, Any]]:
        """The pages of a WARC written by :meth:`write_raw`, for re-running extraction.

        Each is a dict with url (as requested), final_url, source_id, status, headers, content
        (bytes, as the server meant them), fetched_at (UTC) and candidate (or None).
        """
        data = self.store.get(_check_key(key))
        try:
            return _read_warc(data)
        except (ArchiveLoadFailed, OSError, ValueError) as exc:
            raise StorageError(f"{self.uri_for(key)} is not a readable WARC: {exc}") from None

    def commit(self, run_id: str, manifest: dict[str, Any]) -> str:
        """Commit a run by writing its manifest, after all its data files; return its key.

        ``manifest["files"]`` maps a kind ("articles", "quarantine", "raw", ...) to the keys the
        run wrote; every listed file must exist. The rest of the manifest is the caller's (counts,
        sources, timings). The first commit of a run id wins; committing again changes nothing.
        """
        _check_run_id(run_id)
        if manifest.get("run_id", run_id) != run_id:
            raise ValueError(f"manifest run_id {manifest['run_id']!r} differs from {run_id!r}")
        files = manifest.get("files", {})
        missing = [key for keys in files.values() for key in keys if not self.store.exists(key)]
        if missing:
            raise StorageError(
                f"cannot commit run {run_id}: {len(missing)} listed file(s) are missing, "
                f"e.g. {self.uri_for(missing[0])}"
            )
        record = {**manifest, "run_id": run_id, "committed_at": datetime.now(UTC).isoformat()}
        data = json.dumps(record, ensure_ascii=False, indent=2, default=_json_default)
        key = _manifest_key(run_id)
        if not self.store.put(key, data.encode("utf-8"), if_absent=True):
            log.info("run %s was already committed; its first manifest stands", run_id)
        return key

    def manifests(self) -> list[dict[str, Any]]:
        """The committed manifests, oldest commit first."""
        records = []
        for key in self.store.list(f"{MANIFESTS}/"):
            try:
                records.append(json.loads(self.store.get(key)))
            except ValueError:
                raise StorageError(f"manifest {self.uri_for(key)} is not valid JSON") from None
        return sorted(records, key=lambda m: (m["committed_at"], m["run_id"]))

    def committed_files(self, kind: str) -> list[str]:
        """The keys of ``kind`` listed by committed manifests, in commit order."""
        keys = (key for m in self.manifests() for key in m.get("files", {}).get(kind, []))
        return list(dict.fromkeys(keys))

    def dataset(self, kind: str) -> ds.Dataset:
        """A pyarrow dataset of the committed files of a table, partition columns included."""
        filesystem, base = self.fs_and_path()
        schema = contract.arrow_schema(kind, include_partitions=True)
        partitions = pa.schema([schema.field(name) for name in contract.partition_columns(kind)])
        return ds.dataset(
            [f"{base}/{key}" for key in self.committed_files(kind)],
            schema=schema,
            format="parquet",
            filesystem=filesystem,
            partitioning=ds.partitioning(partitions, flavor="hive"),
            partition_base_dir=f"{base}/{kind}",
        )

    def fs_and_path(self) -> tuple[pafs.FileSystem, str]:
        """A pyarrow filesystem and the lake's base path in it, for ``pyarrow.dataset``."""
        return self.store.arrow_filesystem()

    def write_bytes(self, key: str, data: bytes) -> str:
        """Write (or replace) a file outside the commit protocol, e.g. under ``reports/``."""
        if _check_key(key).split("/")[0] in _PROTOCOL_PREFIXES:
            raise ValueError(f"{key!r} is written by the commit protocol, not write_bytes")
        self.store.put(key, data)
        return key

    def read_bytes(self, key: str) -> bytes:
        """The bytes at ``key``; KeyError if there are none."""
        return self.store.get(_check_key(key))

    def _put_run_file(
        self, key: str, data: bytes, run_id: str, ids: Callable[[bytes], frozenset[str]]
    ) -> None:
        if self.store.put(key, data, if_absent=True):
            return
        if self.store.exists(_manifest_key(run_id)):
            log.info("run %s is committed; keeping its %s", run_id, key)
            return
        existing = self.store.get(key)
        if existing == data:
            return
        if ids(existing) != ids(data):
            raise StorageError(
                f"{self.uri_for(key)} already holds other records of run {run_id}: write each "
                "source's rows of a run in one call"
            )
        # A retry of the same uncommitted batch. No reader can see the earlier attempt's file
        # yet, so it is replaced by what this attempt saw.
        self.store.put(key, data)


def _manifest_key(run_id: str) -> str:
    return f"{MANIFESTS}/{run_id}.json"


def open_lake(uri: str = "lake") -> Lake:
    """Open the lake at a local path (created if needed) or at ``s3://bucket/prefix``."""
    if uri.startswith("s3://"):
        parts = urlsplit(uri)
        if not parts.netloc:
            raise ValueError(f"lake URI {uri!r} names no bucket; use s3://bucket/prefix")
        store = S3Store(parts.netloc, parts.path)
        store.check()
        return Lake(store)
    if not uri or "://" in uri:
        raise ValueError(f"unsupported lake URI {uri!r}: use a local path or s3://bucket/prefix")
    return Lake(LocalStore(Path(uri)))
