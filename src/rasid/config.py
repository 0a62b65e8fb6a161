"""Configuration: the sources file and the run settings, validated at the edge.

A bad sources file stops a run before any fetch, with a message that names the source and
the field. Inner functions receive plain values; only ``Settings`` reads the environment.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date
from pathlib import Path
from typing import Any, Literal, TypeVar, overload
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

# Lowercase words joined by single hyphens, with at least one letter: an all-digit id ("2024") would make readers that infer
# partition types (DuckDB, Spark, pyarrow) read the `source` partition as an integer column.
SLUG_PATTERN = r"^(?:[a-z0-9]+-)*[a-z0-9]*[a-z][a-z0-9]*(?:-[a-z0-9]+)*$"
# A source without a timezone in sources.yaml, and `rasid extract` without --timezone.
DEFAULT_TIMEZONE = "Asia/Damascus"


class ConfigError(Exception):
    """A configuration problem a person has to fix; the message says where and what."""


class ConfigNotFound(ConfigError):
    """The configuration file named is not there (no such file or object, HTTP 404)."""


def _check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL, got {value!r}")
    return value


class Source(BaseModel):
    """One news site, declared as data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=SLUG_PATTERN, max_length=64)
    name: str = Field(min_length=1)
    homepage: str
    feeds: list[str] = Field(default_factory=list)
    sitemaps: list[str] = Field(default_factory=list)
    # Pages scanned for article links when the site has neither feed nor sitemap.
    sections: list[str] = Field(default_factory=list)
    # Also read the feeds and sitemaps the site points to (robots.txt, the homepage's
    # <link rel="alternate">); a source with neither feeds nor sitemaps always does.
    site_pointers: bool = False
    language: str = Field(default="ar", pattern=r"^[a-z]{2,3}$")
    timezone: str = DEFAULT_TIMEZONE
    min_delay_seconds: float = Field(default=1.0, ge=0)
    max_concurrency: int = Field(default=2, ge=1, le=16)
    min_arabic_ratio: float | None = Field(default=None, ge=0, le=1)
    max_articles_per_run: int = Field(default=500, ge=1)
    # A host is set aside for the rest of a run after this many consecutive URLs ended in a
    # timeout, a missed deadline, a dropped connection or a 5xx (see rasid.fetch.lanes).
    host_failure_limit: int = Field(default=3, ge=1)
    # The share of a run's time budget this source's host may keep requests in flight.
    host_time_share: float = Field(default=0.5, gt=0, le=1)
    # The first day the site could have published: earlier dates are implausible.
    founded: date | None = None
    enabled: bool = True

    @field_validator("homepage")
    @classmethod
    def _homepage_is_url(cls, value: str) -> str:
        return _check_http_url(value)

    @field_validator("feeds", "sitemaps", "sections")
    @classmethod
    def _urls(cls, values: list[str]) -> list[str]:
        return [_check_http_url(v) for v in values]

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA timezone {value!r}") from None
        return value

    @property
    def arabic_threshold(self) -> float:
        """Minimum Arabic-script share of letters; 0 for sources in other languages."""
        if self.min_arabic_ratio is not None:
            return self.min_arabic_ratio
        return 0.6 if self.language == "ar" else 0.0


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[Source] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> SourcesFile:
        seen: set[str] = set()
        for source in self.sources:
            if source.id in seen:
                raise ValueError(f"duplicate source id {source.id!r}")
            seen.add(source.id)
        return self


def _describe(error: ErrorDetails, raw: Any) -> str:
    loc = list(error["loc"])
    where = "sources file"
    if len(loc) >= 2 and loc[0] == "sources" and isinstance(loc[1], int):
        index = loc[1]
        entry = raw["sources"][index] if isinstance(raw, dict) else None
        ident = entry.get("id") if isinstance(entry, dict) else None
        where = f"source {ident!r}" if ident else f"source #{index + 1}"
        loc = loc[2:]
    field = ".".join(str(part) for part in loc) or "(entry)"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    return f"{where}: field {field}: {message}"


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses a key given twice: silently keeping the last one hides typos."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
        for index, key in enumerate(keys):
            if key in keys[:index]:  # pointing at the second one: the line to fix
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice", node.value[index][0].start_mark
                )
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(error: yaml.YAMLError) -> str:
    """One line: where and what (PyYAML's own text spans lines and quotes the source)."""
    mark = getattr(error, "problem_mark", None)
    problem = " ".join(str(getattr(error, "problem", None) or error).split())
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark else problem


def parse_sources(text: str, origin: str = "sources file") -> list[Source]:
    """Parse and validate a sources YAML document; raise ConfigError naming source and field."""
    try:
        raw = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{origin}: not valid YAML: {_yaml_problem(exc)}") from None
    if not isinstance(raw, dict) or "sources" not in raw:
        raise ConfigError(f"{origin}: expected a top-level 'sources:' list")
    try:
        parsed = SourcesFile.model_validate(raw)
    except ValidationError as exc:
        lines = [_describe(err, raw) for err in exc.errors()]
        raise ConfigError(f"{origin}: " + "; ".join(lines)) from None
    return [s for s in parsed.sources if s.enabled]


def load_sources(location: str | Path) -> list[Source]:
    """The enabled sources from ``location``: a path, an http(s) URL or ``s3://bucket/key``
    (a worker then needs no checkout: see the README's "Operating it with Prefect")."""
    where = str(location)
    data = _read_location(where)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"sources file {where} is not UTF-8 text") from None
    return parse_sources(text, origin=where)


def _read_location(where: str) -> bytes:
    # Imported here: only the fetch layer speaks HTTP and only storage S3, and both import
    # this module.
    if where.startswith(("http://", "https://")):
        from rasid.fetch.config_files import fetch_config

        return fetch_config(where, load_settings())
    if where.startswith("s3://"):
        from rasid.storage import open_lake

        folder, _, name = where.rpartition("/")
        try:
            return open_lake(folder).read_bytes(name)
        except KeyError:
            raise ConfigNotFound(f"cannot read sources file {where}: no such object") from None
    try:
        return Path(where).read_bytes()
    except FileNotFoundError as exc:
        raise ConfigNotFound(f"cannot read sources file {where}: {exc.strerror}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read sources file {where}: {exc.strerror}") from None


def read_beside(location: str | Path, name: str) -> tuple[str, str] | None:
    """(where, text) of the file ``name`` in the same folder as ``location`` (a path, an
    http(s) URL or ``s3://bucket/key``), or None when there is none: how a run finds the
    watchlists.yaml that goes with its sources file, wherever that is."""
    where = str(location)
    if where.startswith(("http://", "https://")):
        beside = urljoin(where, name)
    elif where.startswith("s3://"):
        beside = f"{where.rpartition('/')[0]}/{name}"
    else:
        beside = str(Path(where).with_name(name))
    try:
        data = _read_location(beside)
    except ConfigNotFound:
        return None
    try:
        return beside, data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{beside} is not UTF-8 text") from None


def parse_allowlist(value: str | None) -> tuple[list[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    """Split RASID_ALLOW_PRIVATE_HOSTS into host names and networks."""
    hosts: list[str] = []
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for item in (value or "").split(","):
        item = item.strip().lower().strip("[]")
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            hosts.append(item)
    return hosts, networks


_USER_AGENT = re.compile(r"[A-Za-z_-]+\S*\s.*\bhttps?://[^\s;)]+.*")
AnySettings = TypeVar("AnySettings", bound=BaseSettings)


class Settings(BaseSettings):
    """Run settings from RASID_* variables. S3 endpoint and keys use the standard AWS_* names,
    read by boto3 itself, so they never pass through here."""

    model_config = SettingsConfigDict(env_prefix="RASID_", extra="ignore")

    allow_private_hosts: str = ""
    # Sent with every request (rasid's own when unset): its first word names rasid's group in
    # robots.txt, and it must say where to reach the operator (a contact URL).
    user_agent: str | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    response_deadline: float = 60.0  # whole response, headers to last byte
    max_response_bytes: int = 10 * 1024 * 1024  # after decompression
    max_retries: int = 3
    max_retry_after: float = 120.0
    extract_workers: int = 0  # 0: one per core
    # Seconds a collection run may start requests for; then it commits what it has. Below the
    # collect schedule's 15 minutes, with room for the last responses (response_deadline),
    # extraction and the commit.
    run_budget: float = Field(default=600.0, gt=0)
    # A batch closes when full or this many seconds after its first page arrived, so pages
    # already in move on to extraction and storage while slow hosts are still answering.
    batch_seconds: float = Field(default=30.0, gt=0)

    @field_validator("user_agent")
    @classmethod
    def _user_agent_has_contact(cls, value: str | None) -> str | None:
        if value and not _USER_AGENT.fullmatch(value.strip()):
            raise ValueError("must start with a product name and hold a contact URL, e.g."
                             " 'newsdesk-rasid/1.0 (+https://newsdesk.example/crawler)'")
        return value.strip() if value else None

    # Where, when a command or a deployment is not told: see the README's "Configuration".
    lake: str | None = None
    sources: str | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"  # rasid's own loggers
    # Hours a presigned report link for an S3 lake stays valid (SigV4's limit is seven days);
    # 0, the default, prints s3:// addresses instead. A presigned URL carries the access key
    # id, and with temporary credentials the session token, into every terminal and Prefect
    # artifact that shows it, so it is the operator's choice, not the default.
    report_link_hours: int = Field(default=0, ge=0, le=168)

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_capitals(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


@overload
def load_settings() -> Settings: ...
@overload
def load_settings(kind: type[AnySettings]) -> AnySettings: ...
def load_settings(kind: type[BaseSettings] = Settings) -> BaseSettings:
    """Settings (``kind``: another settings class with the RASID_ prefix) from the environment;
    a bad RASID_* value is a ConfigError naming the variable (never echoing its value)."""
    try:
        return kind()
    except ValidationError as exc:
        prefix = kind.model_config.get("env_prefix", "")
        problems = [f"{prefix}{e['loc'][0]}".upper() + f": {e['msg']}" for e in exc.errors()]
        raise ConfigError("bad setting " + "; ".join(problems)) from None
