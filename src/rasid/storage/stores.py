"""The stores: the only code that speaks to S3 or the filesystem.

``Store`` is the seam; ``LocalStore`` is a directory and ``S3Store`` any S3-compatible endpoint,
configured by the standard AWS variables. S3's errors are mapped here to ``StorageError`` (a
refusal, a missing bucket) and ``TransientStorageError`` (worth retrying later).
"""

from __future__ import annotations

import builtins
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import boto3
import botocore.session
import pyarrow.fs as pafs
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

from rasid.storage.layout import check_key, check_prefix

# botocore retries these itself (with exponential backoff and jitter); once it gives up, the
# error is still worth retrying later, unlike a refusal (403) or a missing bucket.
_THROTTLING_CODES = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout",
                     "RequestTimeTooSkewed", "ServiceUnavailable", "InternalError"}
_DEFAULT_ATTEMPTS = 8
# Publishing copies and deletes objects one request each; a few in flight hide the latency.
PARALLEL_REQUESTS = 8

T = TypeVar("T")


def in_parallel(action: Callable[[str], T], keys: list[str]) -> list[T]:
    """``action`` on every key, PARALLEL_REQUESTS at a time; the results in key order."""
    if len(keys) <= 1:
        return [action(key) for key in keys]
    with ThreadPoolExecutor(max_workers=PARALLEL_REQUESTS) as pool:
        return list(pool.map(action, keys))


def each(action: Callable[[str], object], keys: list[str]) -> None:
    """``action`` on every key, PARALLEL_REQUESTS at a time."""
    in_parallel(action, keys)


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

    def link(self, key: str, expires_in: int) -> str:
        """A URL a browser opens for ``key``, valid for ``expires_in`` seconds where it can
        expire."""

    def arrow_filesystem(self) -> tuple[pafs.FileSystem, str]:
        """A pyarrow filesystem and the base path of the store inside it."""

    def scan(self, prefix: str = "") -> dict[str, StoredObject]:
        """Every key starting with ``prefix``, recursively, with its size and age."""

    def list(self, prefix: str = "") -> builtins.list[str]:
        """All keys starting with ``prefix``, recursively, sorted."""

    def list_after(self, prefix: str, start_after: str, end_before: str) -> builtins.list[str]:
        """The keys directly under the folder ``prefix`` that sort after ``start_after`` and
        before ``end_before``, sorted; on S3 one ListObjectsV2 with StartAfter per 1,000."""


class LocalStore:
    """A directory on the local filesystem; writes are atomic renames."""

    def __init__(self, root: Path) -> None:
        self.root = root.expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

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

    def link(self, key: str, expires_in: int) -> str:
        return (self.root / key).resolve().as_uri()  # the operator's own machine: no expiry

    def arrow_filesystem(self) -> tuple[pafs.FileSystem, str]:
        return pafs.LocalFileSystem(), self.root.as_posix()

    def scan(self, prefix: str = "") -> dict[str, StoredObject]:
        folder = self.root / check_prefix(prefix).rpartition("/")[0]
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

    def list_after(self, prefix: str, start_after: str, end_before: str) -> builtins.list[str]:
        folder = self.root / check_prefix(prefix).rstrip("/")
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            return []
        keys = (f"{prefix.rstrip('/')}/{name}" for name in names if not name.startswith("."))
        return sorted(key for key in keys if start_after < key < end_before)

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
            # SigV4 for presigned report links too (boto3 would presign with SigV2 for a
            # custom endpoint; SigV4 links carry their expiry, up to seven days).
            signature_version="s3v4",
            # "standard" retries throttling, 5xx, timeouts and dropped connections with
            # exponential backoff and jitter.
            retries={"total_max_attempts": int(attempts or _DEFAULT_ATTEMPTS), "mode": "standard"},
            connect_timeout=10,
            read_timeout=read_timeout,
            max_pool_connections=2 * PARALLEL_REQUESTS,
        ))
        credentials = self._session.get_credentials()
        self._credentials = credentials.get_frozen_credentials() if credentials else None

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

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

    def link(self, key: str, expires_in: int) -> str:
        if expires_in <= 0:  # presigned links not asked for
            return self.uri(key)
        # Signed locally with the credentials boto3 resolved (no request is made): anyone
        # holding the link reads this one object until it expires.
        return str(self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._key(key)},
            ExpiresIn=expires_in))

    def arrow_filesystem(self) -> tuple[pafs.FileSystem, str]:
        options: dict[str, Any] = {"region": self._session.region_name or "us-east-1"}
        # Resolved again for each filesystem: temporary credentials (STS, IRSA, instance roles)
        # are refreshed by botocore when they near expiry, so a long backfill that opens a
        # dataset per batch never hands pyarrow an expired token.
        credentials = self._session.get_credentials()
        if credentials:
            self._credentials = credentials.get_frozen_credentials()
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
                Bucket=self.bucket, Prefix=self.prefix + check_prefix(prefix)
            )
            for page in pages:
                for obj in page.get("Contents", []):
                    found[obj["Key"][len(self.prefix) :]] = StoredObject(
                        int(obj["Size"]), obj["LastModified"]
                    )
        return found

    def list(self, prefix: str = "") -> builtins.list[str]:
        return sorted(self.scan(prefix))

    def list_after(self, prefix: str, start_after: str, end_before: str) -> builtins.list[str]:
        found: builtins.list[str] = []
        with self._errors("list", prefix):
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix + check_prefix(prefix),
                StartAfter=self.prefix + start_after, Delimiter="/",
            )
            for page in pages:
                for obj in page.get("Contents", []):
                    key = obj["Key"][len(self.prefix):]
                    if key >= end_before:  # listed in order: nothing after it is wanted
                        return found
                    found.append(key)
        return found

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
