"""The lake: the only module that speaks to S3 or the filesystem.

Layout (Spark and DuckDB read it with Hive partitioning):

- ``articles/source=<slug>/published_date=<YYYY-MM-DD>/<run_id>-<n>.parquet``
- ``quarantine/source=<slug>/run_date=<YYYY-MM-DD>/<run_id>-<n>.parquet``
- ``raw/source=<slug>/fetch_date=<YYYY-MM-DD>/<run_id>.warc.gz`` (the fetched pages)
- ``_staging/<any of the above>`` (files of runs that are not yet published)
- ``_manifests/<run_id>.json`` (the commit record; engines skip ``_`` paths)
- ``reports/...``

Commit protocol, built so that a reader globbing ``articles/**/*.parquet`` never sees a file of
a run that did not commit, and a run killed at any moment can simply be run again:

1. *Stage.* Each data file is written once, under ``_staging/`` and a name unique to (run,
   partition, part): a conditional put on S3 (If-None-Match), a temporary name and an atomic
   link locally. A retried put that finds its own bytes there counts as done.
2. *Commit.* The manifest, listing the files the run adds (and, for compaction and
   reprocessing, the files it supersedes), is written last with a conditional put. That single
   write is the commit: before it the run does not exist for anyone, after it it does.
3. *Publish.* Superseded files are deleted, then each staged file is copied to its place in the
   table (one atomic object write each), then the staged copies are deleted. Publishing is
   idempotent; a commit whose staged files are still there is finished by the next writer
   (:meth:`Lake.publish_pending`), so a kill between commit and publish loses nothing.

Readers who need a snapshot read the manifests (:meth:`Lake.dataset`); readers who glob see,
during a publish, rows missing for a moment but never the same row twice.

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
import shutil
import time
import uuid
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import boto3
import botocore.session
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
    HTTPClientError,
    IncompleteReadError,
    NoCredentialsError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from rasid import __version__, contract
from rasid.config import SLUG_PATTERN, ConfigError
from rasid.models import Candidate, Page

log = logging.getLogger(__name__)

MANIFESTS = "_manifests"
STAGING = "_staging"
# Prefixes whose files only the commit protocol writes; write_bytes may not touch them.
_PROTOCOL_PREFIXES = (*contract.CONTRACTS, "raw", MANIFESTS, STAGING)
# A run id becomes part of object keys; a leading "_" or "." would make Spark skip the files.
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SLUG = re.compile(SLUG_PATTERN)
# The stored content is already decoded, so these headers would misdescribe it.
_DROPPED_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}
# botocore retries these itself (with exponential backoff and jitter); once it gives up, the
# error is still worth retrying later, unlike a refusal (403) or a missing bucket.
_THROTTLING_CODES = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout",
                     "RequestTimeTooSkewed", "ServiceUnavailable", "InternalError"}
_DEFAULT_ATTEMPTS = 8
# Publishing copies and deletes objects one request each; a few in flight hide the latency.
_PARALLEL_REQUESTS = 8


class StorageError(Exception):
    """The lake could not be read or written; the message says why and never holds secrets."""


class TransientStorageError(StorageError):
    """Storage failed in a way that may pass (throttling, 5xx, timeouts, dropped connections),
    after the S3 client's own retries; the caller may retry the whole step later."""


@dataclass(frozen=True)
class StoredObject:
    """What a listing tells about an object."""

    size: int
    modified: datetime


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

    def copy(self, source: str, target: str) -> None:
        """Make ``target`` hold the bytes of ``source`` in one atomic write; KeyError if
        ``source`` does not exist."""

    def delete(self, key: str) -> None:
        """Remove ``key``; nothing happens if it does not exist."""

    def uri(self, key: str) -> str:
        """An absolute path or URL for ``key`` that other tools understand."""

    def arrow_filesystem(self) -> tuple[pafs.FileSystem, str]:
        """A pyarrow filesystem and the base path of the store inside it."""

    def scan(self, prefix: str = "") -> dict[str, StoredObject]:
        """Every key starting with ``prefix``, recursively, with its size and age."""

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
        try:
            with self._temporary(path) as tmp:
                with open(tmp, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                return self._publish(tmp, path, replace=not if_absent)
        except OSError as exc:
            raise StorageError(f"cannot write {path}: {exc.strerror}") from None

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def copy(self, source: str, target: str) -> None:
        origin, path = self._path(source), self._path(target)
        try:
            with self._temporary(path) as tmp:
                try:
                    # A hard link shares the bytes: publishing a large file costs no copy.
                    os.link(origin, tmp)
                except FileNotFoundError:
                    raise KeyError(source) from None
                except OSError:  # a filesystem without hard links
                    shutil.copyfile(origin, tmp)
                self._publish(tmp, path, replace=True)
        except OSError as exc:
            raise StorageError(f"cannot write {path}: {exc.strerror}") from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def uri(self, key: str) -> str:
        return str(self.root / key) if key else str(self.root)

    def arrow_filesystem(self) -> tuple[pafs.FileSystem, str]:
        return pafs.LocalFileSystem(), self.root.as_posix()

    def scan(self, prefix: str = "") -> dict[str, StoredObject]:
        folder = self.root / _check_prefix(prefix).rpartition("/")[0]
        if not folder.is_dir():
            return {}
        found = {}
        for path in folder.rglob("*"):
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix) and not path.name.startswith(".") and path.is_file():
                stat = path.stat()
                found[key] = StoredObject(stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC))
        return found

    def list(self, prefix: str = "") -> builtins.list[str]:
        return sorted(self.scan(prefix))

    @staticmethod
    @contextmanager
    def _temporary(path: Path) -> Iterator[Path]:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A dot-name in the same directory: readers skip it, and the rename cannot cross devices.
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            yield tmp
        finally:
            tmp.unlink(missing_ok=True)

    @staticmethod
    def _publish(tmp: Path, path: Path, *, replace: bool) -> bool:
        if replace:
            os.replace(tmp, path)
            return True
        try:
            # link() fails if the target exists, and publishes the complete file in one step.
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True


class S3Store:
    """A bucket (and key prefix) on any S3-compatible endpoint.

    The endpoint, region, credentials and retry budget come from the standard AWS variables
    and config files (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_MAX_ATTEMPTS, ...), which boto3
    and pyarrow both honour.
    """

    def __init__(self, bucket: str, prefix: str = "", *, read_timeout: float = 60.0) -> None:
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        core = botocore.session.get_session()
        self._session = boto3.session.Session(botocore_session=core)
        attempts = core.get_config_variable("max_attempts")
        self._client = self._session.client("s3", config=Config(
            # boto3 >= 1.36 sends checksum headers that some S3-compatible servers reject.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            # "standard" retries throttling, 5xx, timeouts and dropped connections with
            # exponential backoff and jitter.
            retries={"total_max_attempts": int(attempts or _DEFAULT_ATTEMPTS), "mode": "standard"},
            connect_timeout=10,
            read_timeout=read_timeout,
            max_pool_connections=2 * _PARALLEL_REQUESTS,
        ))
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
                # Also the answer to a retry whose first attempt succeeded unseen: the caller
                # compares what is there with what it meant to write.
                if if_absent and _http_status(exc) == 412:
                    return False
                raise
        return True

    def get(self, key: str) -> bytes:
        for attempt in range(3):
            with self._errors("read", key):
                try:
                    response = self._client.get_object(Bucket=self.bucket, Key=self._key(key))
                    body: bytes = response["Body"].read()
                    return body
                except ClientError as exc:
                    if _http_status(exc) == 404 and _error_code(exc) != "NoSuchBucket":
                        raise KeyError(key) from None
                    raise
                except (HTTPClientError, IncompleteReadError):
                    # The client retries requests, not a body cut off while streaming.
                    if attempt == 2:
                        raise
            time.sleep(0.2 * 2**attempt)
        raise AssertionError("unreachable")

    def exists(self, key: str) -> bool:
        with self._errors("check", key):
            try:
                self._client.head_object(Bucket=self.bucket, Key=self._key(key))
            except ClientError as exc:
                if _http_status(exc) == 404:
                    return False
                raise
        return True

    def copy(self, source: str, target: str) -> None:
        # Unconditional: the target's name belongs to the committed run, so whatever an earlier
        # attempt left there is these same bytes. (Single-request copies stop at 5 GB; lake
        # files are far smaller.)
        with self._errors("copy", target):
            try:
                self._client.copy_object(
                    Bucket=self.bucket,
                    Key=self._key(target),
                    CopySource={"Bucket": self.bucket, "Key": self._key(source)},
                )
            except ClientError as exc:
                if _error_code(exc) == "NoSuchKey":
                    raise KeyError(source) from None
                raise

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

    def scan(self, prefix: str = "") -> dict[str, StoredObject]:
        found = {}
        with self._errors("list", prefix):
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix + _check_prefix(prefix)
            )
            for page in pages:
                for obj in page.get("Contents", []):
                    found[obj["Key"][len(self.prefix) :]] = StoredObject(
                        int(obj["Size"]), obj["LastModified"]
                    )
        return found

    def list(self, prefix: str = "") -> builtins.list[str]:
        return sorted(self.scan(prefix))

    def check(self) -> None:
        """Fail fast, with a clear StorageError, if the bucket is missing or out of reach."""
        with self._errors("open", ""):
            self._client.head_bucket(Bucket=self.bucket)

    @contextmanager
    def _errors(self, action: str, key: str) -> Iterator[None]:
        try:
            yield
        except ClientError as exc:
            kind = TransientStorageError if _is_transient(exc) else StorageError
            raise kind(self._redact(self._explain(action, key, exc))) from None
        except NoCredentialsError:
            raise StorageError(
                f"no AWS credentials found for bucket {self.bucket!r}: set AWS_ACCESS_KEY_ID "
                "and AWS_SECRET_ACCESS_KEY (or a profile)"
            ) from None
        except EndpointConnectionError as exc:
            raise TransientStorageError(
                self._redact(f"cannot reach the S3 endpoint for bucket {self.bucket!r}: {exc}")
            ) from None
        except (BotoConnectionError, HTTPClientError, IncompleteReadError) as exc:
            raise TransientStorageError(
                self._redact(f"S3 {action} failed in bucket {self.bucket!r} after retries: {exc}")
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
        attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        tried = f" (gave up after {attempts + 1} attempts)" if attempts else ""
        failed = f"S3 {action}{where} failed in bucket {self.bucket!r}"
        return f"{failed}: {code} {message}{tried}".strip()

    def _redact(self, text: str) -> str:
        # Belt and braces: no error text should hold credentials, but make sure of it.
        secrets = self._credentials or ()
        for secret in secrets:
            # A credential of a letter or two (a test's "a") would blot out every word.
            if secret and len(secret) >= 6:
                text = text.replace(secret, "***")
        return text


def _is_transient(exc: ClientError) -> bool:
    return _http_status(exc) >= 500 or _error_code(exc) in _THROTTLING_CODES


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


# warcio compresses at zlib level 9: 3.8 ms for a typical page here, against 1.05 ms at level 3
# for 12 % more bytes (measured on 800 real news pages). Raw pages are read rarely (reprocess);
# the CPU is spent on every page of every run.
WARC_GZIP_LEVEL = 3


class _GzipMembers:
    """A file-like sink that gzips each WARC record as its own member, as .warc.gz readers
    expect (warcio flushes its output once at the end of every record)."""

    def __init__(self, level: int = WARC_GZIP_LEVEL) -> None:
        self.buffer = io.BytesIO()
        self._level = level
        self._member: Any = None

    def write(self, data: bytes) -> None:
        if self._member is None:
            self._member = zlib.compressobj(self._level, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        self.buffer.write(self._member.compress(data))

    def flush(self) -> None:
        if self._member is not None:
            self.buffer.write(self._member.flush())
            self._member = None


def _warc(source_id: str, pages: list[Page]) -> bytes:
    sink = _GzipMembers()
    writer = WARCWriter(sink, gzip=False, warc_version="1.1")
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
    sink.flush()
    return sink.buffer.getvalue()


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
        # Manifests never change once written, so each is read once per Lake.
        self._manifest_cache: dict[str, dict[str, Any]] = {}

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
        """Stage ``rows`` (dicts with every contract column) as Parquet; return the keys they
        will have once the run commits.

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
            table = _table(kind, groups[path])
            keys += self.write_partition(kind, path, table, run_id, rows_per_file=rows_per_file)
        return keys

    def write_partition(
        self, kind: str, path: str, table: pa.Table, run_id: str, *, rows_per_file: int = 100_000
    ) -> list[str]:
        """Stage one partition's rows (an Arrow table with the file schema of ``kind``) as
        ``<path>/<run_id>-<n>.parquet``, sorted by article_id; return the final keys."""
        _check_run_id(run_id)
        if not _check_key(path).startswith(f"{kind}/"):
            raise ValueError(f"{path!r} is not a partition of {kind}")
        if not table.schema.equals(contract.arrow_schema(kind)):
            raise ValueError(f"{kind} rows for {path} do not have the contract's file schema")
        ordered = table.sort_by("article_id")
        keys = []
        for n, start in enumerate(range(0, ordered.num_rows, rows_per_file)):
            key = f"{path}/{run_id}-{n}.parquet"
            self._stage(key, _parquet(ordered.slice(start, rows_per_file)), run_id, _parquet_ids)
            keys.append(key)
        return keys

    def write_raw(self, source_id: str, run_id: str, pages: list[Page]) -> str | None:
        """Stage one source's fetched pages of a run as a gzipped WARC; None if no pages."""
        _check_run_id(run_id)
        if not pages:
            return None
        strays = {page.source_id for page in pages} - {source_id}
        if strays:
            raise ValueError(f"write_raw({source_id!r}) got pages of {sorted(strays)}")
        fetch_date = min(page.fetched_at for page in pages).astimezone(UTC).date()
        path = _hive_path("raw", [("source", source_id, False), ("fetch_date", fetch_date, True)])
        key = f"{path}/{run_id}.warc.gz"
        self._stage(key, _warc(source_id, pages), run_id, _warc_urls)
        return key

    def read_raw(self, key: str) -> list[dict[str, Any]]:
        """The pages of a WARC written by :meth:`write_raw`, for re-running extraction.

        Each is a dict with url (as requested), final_url, source_id, status, headers, content
        (bytes, as the server meant them), fetched_at (UTC) and candidate (or None).
        """
        try:
            data = self.store.get(_check_key(key))
        except KeyError:
            data = self.store.get(staged_key(key))  # committed, not yet published
        try:
            return _read_warc(data)
        except (ArchiveLoadFailed, OSError, ValueError) as exc:
            raise StorageError(f"{self.uri_for(key)} is not a readable WARC: {exc}") from None

    def commit(self, run_id: str, manifest: dict[str, Any]) -> str:
        """Commit a run by writing its manifest, after all its files are staged; then publish.

        ``manifest["files"]`` maps a kind ("articles", "quarantine", "raw", ...) to the keys the
        run adds; every listed file must be staged (or already published).
        ``manifest["removes"]``, in the same shape, lists committed files the run supersedes
        (compaction, reprocessing); if another run superseded one of them first, the commit is
        refused. The rest of the manifest is the caller's (counts, sources, timings). The first
        commit of a run id wins; committing again only finishes publishing it.
        """
        _check_run_id(run_id)
        if manifest.get("run_id", run_id) != run_id:
            raise ValueError(f"manifest run_id {manifest['run_id']!r} differs from {run_id!r}")
        if _keys(manifest.get("removes")) and not _keys(manifest.get("files")):
            # Publishing is finished when a run's staged files are gone: with none, a kill in
            # the middle of its deletes could not be told apart from a finished run.
            raise ValueError(f"run {run_id} replaces files but adds none")
        key = _manifest_key(run_id)
        staged = set(self.store.list(f"{STAGING}/"))
        if self.store.exists(key):
            log.info("run %s was already committed; its first manifest stands", run_id)
        else:
            self._check_commit(run_id, manifest, staged)
            record = {**manifest, "run_id": run_id, "committed_at": datetime.now(UTC).isoformat()}
            data = json.dumps(record, ensure_ascii=False, indent=2, default=_json_default)
            if not self.store.put(key, data.encode("utf-8"), if_absent=True):
                log.info("run %s was committed by an earlier attempt", run_id)
        self._publish(self._manifest(key), staged)
        return key

    def publish_pending(self) -> list[str]:
        """Finish publishing every committed run whose staged files are still there (the
        writer was stopped between commit and publish); return their run ids, oldest first.
        Every writer calls this before it reads the lake's state."""
        staged = set(self.store.list(f"{STAGING}/"))
        if not staged:
            return []
        finished = []
        for manifest in self.manifests():
            if any(staged_key(key) in staged for key in _keys(manifest.get("files"))):
                self._publish(manifest, staged)
                finished.append(manifest["run_id"])
        return finished

    def sweep(self, older_than: timedelta) -> list[str]:
        """Delete staged files that no committed run lists and that are older than
        ``older_than`` (left by runs that were killed); return their keys.

        The age guard keeps the files of runs still in progress."""
        self.publish_pending()
        listed = {staged_key(k) for m in self.manifests() for k in _keys(m.get("files"))}
        cutoff = datetime.now(UTC) - older_than
        stale = sorted(
            key
            for key, found in self.store.scan(f"{STAGING}/").items()
            if key not in listed and found.modified < cutoff
        )
        _each(self.store.delete, stale)
        return stale

    def manifests(self) -> list[dict[str, Any]]:
        """The committed manifests, oldest commit first (shared: do not modify them)."""
        records = [self._manifest(key) for key in self.store.list(f"{MANIFESTS}/")]
        return sorted(records, key=lambda m: (m["committed_at"], m["run_id"]))

    def collection_runs(self) -> list[dict[str, Any]]:
        """Manifests of collection runs only: compaction and reprocessing rewrite files but
        collect nothing, so reports and run history leave them out."""
        return [m for m in self.manifests() if m.get("operation", "collect") == "collect"]

    def committed_files(self, kind: str) -> list[str]:
        """The keys of ``kind`` that committed runs added and no later run superseded, in
        commit order."""
        live: dict[str, None] = {}
        for manifest in self.manifests():
            for key in manifest.get("removes", {}).get(kind, []):
                live.pop(key, None)
            live.update(dict.fromkeys(manifest.get("files", {}).get(kind, [])))
        return list(live)

    def dataset(self, kind: str) -> ds.Dataset:
        """A pyarrow dataset of the committed files of a table, partition columns included."""
        staged = set(self.store.list(f"{STAGING}/{kind}/"))
        live = self.committed_files(kind)
        published = [key for key in live if staged_key(key) not in staged]
        pending = [staged_key(key) for key in live if staged_key(key) in staged]
        if not pending:
            return self._table_dataset(kind, published, kind)
        return ds.dataset([
            self._table_dataset(kind, published, kind),
            self._table_dataset(kind, pending, f"{STAGING}/{kind}"),
        ])

    def read_files(self, kind: str, keys: list[str]) -> pa.Table:
        """The rows of some published files of a table, with the file schema (no partitions)."""
        filesystem, base = self.fs_and_path()
        paths = [f"{base}/{_check_key(key)}" for key in keys]
        schema = contract.arrow_schema(kind)
        return ds.dataset(paths, schema=schema, format="parquet", filesystem=filesystem).to_table()

    def file_sizes(self, kind: str) -> dict[str, int]:
        """The size in bytes of every published file of a table."""
        return {key: found.size for key, found in self.store.scan(f"{kind}/").items()}

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

    def _table_dataset(self, kind: str, keys: list[str], root: str) -> ds.Dataset:
        filesystem, base = self.fs_and_path()
        schema = contract.arrow_schema(kind, include_partitions=True)
        partitions = pa.schema([schema.field(name) for name in contract.partition_columns(kind)])
        return ds.dataset(
            [f"{base}/{key}" for key in keys],
            schema=schema,
            format="parquet",
            filesystem=filesystem,
            partitioning=ds.partitioning(partitions, flavor="hive"),
            partition_base_dir=f"{base}/{root}",
        )

    def _manifest(self, key: str) -> dict[str, Any]:
        if key not in self._manifest_cache:
            try:
                self._manifest_cache[key] = json.loads(self.store.get(key))
            except ValueError:
                raise StorageError(f"manifest {self.uri_for(key)} is not valid JSON") from None
        return self._manifest_cache[key]

    def _check_commit(self, run_id: str, manifest: dict[str, Any], staged: set[str]) -> None:
        adds = _keys(manifest.get("files"))
        missing = [k for k in adds if staged_key(k) not in staged and not self.store.exists(k)]
        if missing:
            raise StorageError(
                f"cannot commit run {run_id}: {len(missing)} listed file(s) are missing, "
                f"e.g. {self.uri_for(missing[0])}"
            )
        for kind, removes in manifest.get("removes", {}).items():
            gone = sorted(set(removes) - set(self.committed_files(kind)))
            if gone:
                raise StorageError(
                    f"cannot commit run {run_id}: another run already replaced {len(gone)} of "
                    f"the files it replaces, e.g. {self.uri_for(gone[0])}; run it again"
                )

    def _publish(self, manifest: dict[str, Any], staged: set[str]) -> None:
        # Superseded files go before their replacements arrive: a reader that globs may miss
        # rows for a moment, but never sees one twice. Staged copies go last, so while any is
        # left the publish is unfinished and the next writer redoes it (every step is idempotent).
        pending = [key for key in _keys(manifest.get("files")) if staged_key(key) in staged]
        if not pending:
            return
        _each(self.store.delete, _keys(manifest.get("removes")))
        _each(self._copy_staged, pending)
        _each(self.store.delete, [staged_key(key) for key in pending])
        log.debug("run %s published (%d files)", manifest["run_id"], len(pending))

    def _copy_staged(self, key: str) -> None:
        try:
            self.store.copy(staged_key(key), key)
        except KeyError:
            if not self.store.exists(key):  # another writer finishing the same publish
                raise StorageError(f"staged copy of {self.uri_for(key)} vanished") from None

    def _stage(
        self, key: str, data: bytes, run_id: str, ids: Callable[[bytes], frozenset[str]]
    ) -> None:
        staged = staged_key(key)
        if self.store.put(staged, data, if_absent=True):
            return
        existing = self.store.get(staged)
        if existing == data:  # a retried put whose first attempt had succeeded
            return
        if ids(existing) != ids(data):
            raise StorageError(
                f"{self.uri_for(key)} already holds other records of run {run_id}: write each "
                "source's rows of a run in one call"
            )
        # A retry of the same batch (the run is not committed: a committed run's staged files
        # are gone). No reader can see the earlier attempt, so it is replaced by this one.
        self.store.put(staged, data)


def staged_key(key: str) -> str:
    """Where a data file waits, invisible to readers, until its run is committed."""
    return f"{STAGING}/{key}"


def _keys(files: Mapping[str, Iterable[str]] | None) -> list[str]:
    return [key for keys in (files or {}).values() for key in keys]


def _each(action: Callable[[str], None], keys: list[str]) -> None:
    if len(keys) <= 1:
        for key in keys:
            action(key)
        return
    with ThreadPoolExecutor(max_workers=_PARALLEL_REQUESTS) as pool:
        list(pool.map(action, keys))


def _manifest_key(run_id: str) -> str:
    return f"{MANIFESTS}/{run_id}.json"


def open_lake(uri: str = "lake") -> Lake:
    """Open the lake at a local path (created if needed) or at ``s3://bucket/prefix``."""
    if "@" in urlsplit(uri).netloc:  # s3://KEY:SECRET@bucket/...: refused without echoing it
        raise ConfigError("a lake URI must not hold credentials: use s3://bucket/prefix and set "
                          "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    if uri.startswith("s3://"):
        parts = urlsplit(uri)
        if not parts.netloc:
            raise ConfigError(f"lake URI {uri!r} names no bucket; use s3://bucket/prefix")
        store = S3Store(parts.netloc, parts.path)
        store.check()
        return Lake(store)
    if not uri or "://" in uri:
        raise ConfigError(f"unsupported lake URI {uri!r}: use a local path or s3://bucket/prefix")
    return Lake(LocalStore(Path(uri)))
