"""The lake on a local folder and on a real S3 endpoint (moto's server on 127.0.0.1)."""

from __future__ import annotations

import hashlib
import re
import uuid
import zlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from moto.server import ThreadedMotoServer

from rasid import contract
from rasid.models import Candidate, Page
from rasid.storage import LocalStore, S3Store, StorageError, open_lake, partition_path

SECRET = "rasid-test-secret-9f3c2a7d"
RUN = "20261128T0600Z-a1b2"


def article_row(source: str, day: date, n: int, **changes: Any) -> dict[str, Any]:
    url = f"https://{source}.example/news/{day:%Y/%m/%d}/{n}"
    published = datetime(day.year, day.month, day.day, 9, 30, 15, 123456, tzinfo=UTC)
    row = {
        "article_id": hashlib.sha256(url.encode()).hexdigest()[:32],
        "url": url,
        "canonical_url": url,
        "source": source,
        "published_date": day,
        "title": f"عنوان الخبر رقم {n}",
        "author": "مراسل راصد",
        "published_at": published,
        "date_source": "meta",
        "body": "افتتحت البلدية اليوم حديقة عامة جديدة في وسط المدينة.",
        "language": "ar",
        "word_count": 9,
        "arabic_ratio": 1.0,
        "body_hash": hashlib.sha256(f"body {n}".encode()).hexdigest(),
        "near_duplicate_of": None,
        "near_duplicate_cluster": None,
        "repeated_share": 0.0,
        "flags": [],
        "discovered_via": "feed",
        "http_status": 200,
        "encoding": "utf-8",
        "fetched_at": published + timedelta(hours=2),
        "run_id": RUN,
        "story_id": None,
    }
    return row | changes


def quarantine_row(source: str, n: int) -> dict[str, Any]:
    row = {name: None for name in contract.columns("quarantine")}
    url = f"https://{source}.example/bad/{n}"
    return row | {
        "article_id": hashlib.sha256(url.encode()).hexdigest()[:32],
        "url": url,
        "source": source,
        "fetched_at": datetime(2026, 11, 28, 6, 0, tzinfo=UTC),
        "run_id": RUN,
        "reasons": ["date_missing"],
        "run_date": date(2026, 11, 28),
    }


SOURCES = ("enab-baladi", "syria-tv")
DAYS = (date(2026, 11, 27), date(2026, 11, 28))


def two_by_two() -> list[dict[str, Any]]:
    """Two sources x two days x two articles."""
    return [article_row(s, d, n) for s in SOURCES for d in DAYS for n in (1, 2)]


def page(url: str, final_url: str, content: bytes, charset: str) -> Page:
    return Page(
        url=url,
        final_url=final_url,
        source_id="enab-baladi",
        status=200,
        headers={
            "Content-Type": f"text/html; charset={charset}",
            "Content-Encoding": "gzip",
            "Content-Length": "17",
            "Transfer-Encoding": "chunked",
            "Last-Modified": "Fri, 27 Nov 2026 21:00:00 GMT",
        },
        content=content,
        encoding=charset,
        encoding_source="http",
        fetched_at=datetime(2026, 11, 28, 6, 1, 2, 345678, tzinfo=UTC),
        candidate=Candidate(
            url=url,
            source_id="enab-baladi",
            via="feed",
            published_hint=datetime(2026, 11, 27, 20, 0, tzinfo=UTC),
            title_hint="بلدية دمشق تفتتح حديقة",
        ),
    )


def test_partition_path_builds_hive_directories() -> None:
    assert (
        partition_path("articles", {"source": "enab-baladi", "published_date": date(2026, 1, 31)})
        == "articles/source=enab-baladi/published_date=2026-01-31"
    )
    assert (
        partition_path("quarantine", {"source": "syria-tv", "run_date": "2026-02-01"})
        == "quarantine/source=syria-tv/run_date=2026-02-01"
    )


@pytest.mark.parametrize(
    "values",
    [
        {"source": "Enab_Baladi", "published_date": date(2026, 1, 31)},
        {"source": "a/b", "published_date": date(2026, 1, 31)},
        {"source": "enab", "published_date": "2026-02-30"},
        {"source": "enab", "published_date": "20260131"},
        {"source": "enab", "published_date": datetime(2026, 1, 31, tzinfo=UTC)},
        {"source": "enab", "published_date": None},
        {"source": "enab"},
    ],
)
def test_partition_path_refuses_values_engines_would_escape(values: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        partition_path("articles", values)


def test_local_write_rows_lays_out_hive_partitions(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path / "lake"))
    keys = lake.write_rows("articles", two_by_two(), RUN)

    assert keys == [
        f"articles/source={s}/published_date={d.isoformat()}/{RUN}-0.parquet"
        for s in SOURCES
        for d in DAYS
    ]
    assert not (tmp_path / "lake" / "articles").exists()  # staged until the run commits
    lake.commit(RUN, {"files": {"articles": keys}})
    for key in keys:
        parquet = pq.ParquetFile(tmp_path / "lake" / key)
        assert parquet.metadata.num_rows == 2
        assert parquet.metadata.row_group(0).column(0).compression == "ZSTD"
        assert "source" not in parquet.schema_arrow.names
        assert "published_date" not in parquet.schema_arrow.names
        ids = parquet.read(columns=["article_id"]).column(0).to_pylist()
        assert ids == sorted(ids)


def test_duckdb_reads_the_local_lake_with_hive_types(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    rows = two_by_two()
    lake.commit(RUN, {"files": {"articles": lake.write_rows("articles", rows, RUN)}})

    relation = duckdb.sql(
        f"SELECT * FROM read_parquet('{tmp_path}/articles/**/*.parquet', hive_partitioning=true)"
    )
    types = dict(zip(relation.columns, map(str, relation.types), strict=True))
    assert types["source"] == "VARCHAR"
    assert types["published_date"] == "DATE"
    assert types["published_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["flags"] == "VARCHAR[]"
    found = duckdb.sql(
        "SELECT source, published_date, epoch_us(published_at) AS us, title FROM relation "
        "ORDER BY url"
    ).fetchall()
    expected = sorted(rows, key=lambda r: r["url"])
    assert found == [
        (r["source"], r["published_date"], int(r["published_at"].timestamp() * 1e6), r["title"])
        for r in expected
    ]


def test_rewriting_a_run_is_a_no_op(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    first = lake.write_rows("articles", two_by_two(), RUN)
    before = {key: (tmp_path / key).stat() for key in lake.store.list()}

    again = lake.write_rows("articles", two_by_two(), RUN)

    assert again == first
    after = {key: (tmp_path / key).stat() for key in lake.store.list()}
    assert after.keys() == before.keys()
    for key, stat in after.items():  # the very same files, not rewritten copies
        assert (stat.st_ino, stat.st_mtime_ns) == (before[key].st_ino, before[key].st_mtime_ns)


def test_a_retry_replaces_uncommitted_files_but_never_committed_ones(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    [key] = lake.write_rows("articles", [article_row("syria-tv", DAYS[0], 1)], RUN)

    edited = [article_row("syria-tv", DAYS[0], 1, title="عنوان مصحح")]
    lake.write_rows("articles", edited, RUN)
    staged = tmp_path / "_staging" / key
    assert pq.read_table(staged).column("title").to_pylist() == ["عنوان مصحح"]

    lake.commit(RUN, {"files": {"articles": [key]}})
    lake.write_rows("articles", [article_row("syria-tv", DAYS[0], 1, title="ثالث")], RUN)
    assert pq.read_table(tmp_path / key).column("title").to_pylist() == ["عنوان مصحح"]


def test_a_second_batch_for_the_same_partition_is_refused(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    lake.write_rows("articles", [article_row("syria-tv", DAYS[0], 1)], RUN)

    with pytest.raises(StorageError, match="other records"):
        lake.write_rows("articles", [article_row("syria-tv", DAYS[0], 2)], RUN)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"body": None}, "'body' is required"),
        ({"flags": None}, "'flags' is required"),
        ({"surprise": 1}, "unknown \\['surprise'\\]"),
    ],
)
def test_rows_that_break_the_contract_are_refused(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    lake = open_lake(str(tmp_path))
    with pytest.raises(ValueError, match=message):
        lake.write_rows("articles", [article_row("syria-tv", DAYS[0], 1, **changes)], RUN)
    assert lake.store.list() == []


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    row = article_row("syria-tv", DAYS[0], 1)
    del row["encoding"]
    with pytest.raises(ValueError, match="missing \\['encoding'\\]"):
        open_lake(str(tmp_path)).write_rows("articles", [row], RUN)


def test_large_partitions_are_split_into_numbered_files(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    rows = [article_row("syria-tv", DAYS[0], n) for n in range(5)]
    keys = lake.write_rows("articles", rows, RUN, rows_per_file=2)
    assert [key.rsplit("/", 1)[1] for key in keys] == [f"{RUN}-{n}.parquet" for n in range(3)]


def test_readers_see_only_committed_runs(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    articles = lake.write_rows("articles", two_by_two(), RUN)
    quarantined = lake.write_rows("quarantine", [quarantine_row("syria-tv", 1)], RUN)
    lake.commit(RUN, {"files": {"articles": articles, "quarantine": quarantined}, "sources": 2})
    lake.write_rows("articles", [article_row("syria-tv", date(2026, 11, 29), 9)], "crashed-run")

    [manifest] = lake.manifests()
    assert manifest["run_id"] == RUN and manifest["sources"] == 2
    assert lake.committed_files("articles") == articles
    table = lake.dataset("articles").to_table()
    assert table.num_rows == 8
    assert set(table.column("published_date").to_pylist()) == set(DAYS)
    assert lake.dataset("quarantine").to_table().column("reasons").to_pylist() == [
        ["date_missing"]
    ]


def test_commit_refuses_a_manifest_listing_missing_files(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    with pytest.raises(StorageError, match="missing"):
        lake.commit(RUN, {"files": {"articles": ["articles/source=x/published_date=2026-01-01/a"]}})
    assert lake.manifests() == []


def test_manifests_keep_arabic_readable_and_come_in_commit_order(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    lake.commit("run-b", {"note": "تجربة"})
    lake.commit("run-a", {})
    lake.commit("run-b", {"note": "ignored: the first commit wins"})

    assert [m["run_id"] for m in lake.manifests()] == ["run-b", "run-a"]
    assert "تجربة" in lake.read_bytes("_manifests/000000000001.json").decode("utf-8")


def test_reports_go_through_write_bytes_but_data_prefixes_do_not(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    lake.write_bytes("reports/latest/index.html", b"<html>1</html>")
    lake.write_bytes("reports/latest/index.html", b"<html>2</html>")
    assert lake.read_bytes("reports/latest/index.html") == b"<html>2</html>"
    assert lake.uri_for("reports/latest/index.html") == str(tmp_path / "reports/latest/index.html")
    with pytest.raises(ValueError):
        lake.write_bytes("articles/x.parquet", b"")
    with pytest.raises(ValueError):
        lake.write_bytes("../outside", b"")


def test_local_store_conditional_put_and_listing(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    assert store.put("a/b/one", b"1", if_absent=True) is True
    assert store.put("a/b/one", b"2", if_absent=True) is False
    assert store.get("a/b/one") == b"1"
    store.put("a/two", b"2")
    store.put("ab", b"3")

    assert store.list() == ["a/b/one", "a/two", "ab"]
    assert store.list("a/") == ["a/b/one", "a/two"]
    assert store.list("a") == ["a/b/one", "a/two", "ab"]
    assert store.list("missing/") == []
    with pytest.raises(ValueError):
        store.list("../")
    assert [p.name for p in tmp_path.rglob(".*")] == []  # no temporary files left behind
    store.delete("ab")
    store.delete("ab")
    assert not store.exists("ab")
    with pytest.raises(KeyError):
        store.get("ab")


def test_warc_round_trip_keeps_a_windows_1256_page_exact(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    body = "<html><head><title>خبر</title></head><body><p>افتتاح حديقة في دمشق</p></body></html>"
    content = body.encode("windows-1256")
    pages = [
        page("https://enab.example/?p=1", "https://enab.example/park", content, "windows-1256"),
        page("https://enab.example/a", "https://enab.example/a", b"<p>ok</p>", "utf-8"),
    ]

    key = lake.write_raw("enab-baladi", RUN, pages)

    assert key == f"raw/source=enab-baladi/fetch_date=2026-11-28/{RUN}.warc.gz"
    first, second = lake.read_raw(key)
    assert first.url == "https://enab.example/?p=1"
    assert first.final_url == "https://enab.example/park"
    assert first.content == content
    assert first.content.decode("windows-1256") == body
    assert first.status == 200
    assert first.fetched_at == pages[0].fetched_at
    assert first.candidate == pages[0].candidate
    headers = {k.lower(): v for k, v in first.headers.items()}
    assert headers["content-type"] == "text/html; charset=windows-1256"
    assert headers["content-length"] == str(len(content))
    assert "content-encoding" not in headers and "transfer-encoding" not in headers
    assert second.url == second.final_url == "https://enab.example/a"
    assert lake.write_raw("enab-baladi", RUN, []) is None


def test_each_warc_record_is_its_own_gzip_member(tmp_path: Path) -> None:
    # What WARC readers and tools that seek by record offset expect of a .warc.gz.
    lake = open_lake(str(tmp_path))
    pages = [page(f"https://enab.example/{n}", f"https://enab.example/{n}",
                  f"<p>{'خبر ' * 200}{n}</p>".encode(), "utf-8") for n in range(3)]
    key = lake.write_raw("enab-baladi", RUN, pages)
    data = next(tmp_path.rglob(Path(key).name)).read_bytes()
    records = []
    while data:
        member = zlib.decompressobj(wbits=31)
        records.append(member.decompress(data))
        assert member.eof
        data = member.unused_data
    kinds = [re.search(rb"\r\nWARC-Type: (\w+)\r\n", r.split(b"\r\n\r\n", 1)[0]) for r in records]
    assert [k and k.group(1) for k in kinds] == [b"warcinfo", *[b"response", b"metadata"] * 3]


# --- S3: the same lake on a real S3 endpoint --------------------------------------------------


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket on the moto server, with the standard AWS variables pointing at it."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "rasid-test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    name = f"rasid-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


def test_s3_lake_round_trip(bucket: str) -> None:
    lake = open_lake(f"s3://{bucket}/lake")
    rows = two_by_two()
    articles = lake.write_rows("articles", rows, RUN)
    pages = [page("https://e.example/1", "https://e.example/1", b"x", "utf-8")]
    raw = lake.write_raw("enab-baladi", RUN, pages)
    lake.commit(RUN, {"files": {"articles": articles, "raw": [raw]}})

    assert lake.uri == f"s3://{bucket}/lake"
    assert lake.uri_for(articles[0]) == f"s3://{bucket}/lake/{articles[0]}"
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix="lake/articles/")
    assert sorted(obj["Key"] for obj in listed["Contents"]) == [f"lake/{k}" for k in articles]
    assert [m["run_id"] for m in lake.manifests()] == [RUN]
    assert lake.committed_files("raw") == [raw]
    assert lake.read_raw(raw)[0].content == b"x"
    assert lake.write_rows("articles", rows, RUN) == articles  # the rerun writes nothing new

    filesystem, base = lake.fs_and_path()
    table = ds.dataset(
        f"{base}/articles", filesystem=filesystem, format="parquet", partitioning="hive"
    ).to_table()
    assert table.num_rows == len(rows)
    assert sorted(set(table.column("source").to_pylist())) == list(SOURCES)
    assert lake.dataset("articles").to_table().num_rows == len(rows)


def test_s3_conditional_put_refuses_to_overwrite(bucket: str) -> None:
    store = S3Store(bucket, "p")
    assert store.put("k/one", b"1", if_absent=True) is True
    assert store.put("k/one", b"2", if_absent=True) is False
    assert store.get("k/one") == b"1"
    assert store.exists("k/one") and not store.exists("k/two")
    with pytest.raises(KeyError):
        store.get("k/two")
    store.delete("k/one")
    assert store.list("k/") == []


@pytest.mark.slow  # a thousand puts: S3 lists at most 1000 keys per response
def test_s3_lists_past_one_page(bucket: str) -> None:
    store = S3Store(bucket)
    keys = [f"many/{n:04d}" for n in range(1005)]
    client = boto3.client("s3")
    for key in keys:
        client.put_object(Bucket=bucket, Key=key, Body=b"")
    assert store.list("many/") == keys


def test_a_missing_bucket_is_a_clear_storage_error(bucket: str) -> None:
    with pytest.raises(StorageError, match="'rasid-no-such-bucket' does not exist") as opened:
        open_lake("s3://rasid-no-such-bucket/lake")
    with pytest.raises(StorageError, match="does not exist") as written:
        S3Store("rasid-no-such-bucket").put("a", b"1")
    with pytest.raises(StorageError, match="does not exist") as listed:
        S3Store("rasid-no-such-bucket").list()
    for error in (opened, written, listed):
        assert SECRET not in str(error.value)
        assert "rasid-test-key" not in str(error.value)
