"""Near-duplicates: syndicated copies clustered with their original, in a batch and across runs."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

import rasid.demo
from rasid import neardup, pipeline
from rasid.config import Source, load_sources
from rasid.demo.site import DEMO_HOSTS, DEMO_PORT, PAGES, TRAPS, DemoPage, build_site
from rasid.extract import extract
from rasid.fetch.decoding import decode_html
from rasid.models import Page
from rasid.storage import open_lake
from rasid.text import body_hash
from rasid.urls import url_id

FETCHED = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SOURCES = {s.id: s for s in load_sources(Path(rasid.demo.__file__).parent / "sources.yaml")}
ORIGINAL, COPY = (next(p for p in PAGES if (p.source_id, p.path) == place)
                  for place in TRAPS["syndicated"])
RENDERED = build_site(DEMO_PORT)  # the demo site's responses, without a server

STORY = (
    "أعلنت المؤسسة العامة لمياه الشرب في حماة بدء أعمال صيانة الخط الرئيسي المغذي لأحياء المدينة "
    "الشمالية، على أن تنقطع المياه عن هذه الأحياء مدة يومين. وقال مدير المؤسسة إن الورشات ستعمل "
    "على مدار الساعة لإنجاز الأعمال قبل الموعد المحدد، داعياً الأهالي إلى تخزين ما يكفيهم من "
    "المياه. وأضاف أن صهاريج متنقلة ستجول في الأحياء المتضررة لتأمين مياه الشرب للعائلات التي لا "
    "تملك خزانات كافية، وأن رقماً هاتفياً خُصص لتلقي الشكاوى طوال مدة الانقطاع."
)


@pytest.fixture(autouse=True)
def whole_history_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's articles span months: these tests match them across all of it (the window
    itself is tested in test_checkpoint.py)."""
    monkeypatch.setattr(pipeline.state, "NEAR_WINDOW", timedelta(days=3650))


def demo_row(page: DemoPage, run_id: str = "run-1") -> pipeline.ArticleRow:
    """The row a collection run builds for a demo page, without a server or Prefect."""
    source: Source = SOURCES[page.source_id]
    resource = RENDERED[f"{DEMO_HOSTS[page.source_id]}:{DEMO_PORT}"][page.path]
    html, encoding, how = decode_html(resource.body, resource.headers.get("Content-Type"))
    fetched = Page(url=page.url(), final_url=page.url(), source_id=page.source_id, status=200,
                   headers=resource.headers, content=resource.body, encoding=encoding,
                   encoding_source=how, fetched_at=FETCHED)
    found = extract(html, page.url(), timezone=source.timezone, now=FETCHED,
                    founded=source.founded)
    return pipeline.build_row(fetched, found, source, run_id, FETCHED.date())



@pytest.fixture(scope="module")
def demo_rows() -> dict[tuple[str, str], pipeline.ArticleRow]:
    return {(p.source_id, p.path): demo_row(p) for p in PAGES}


def by_id(batch: pipeline.CheckedBatch) -> dict[str, pipeline.ArticleRow]:
    return {r.article_id: r for r in batch.articles + batch.quarantine}


def commit(lake: Any, rows: list[pipeline.ArticleRow], state: pipeline.LakeState
           ) -> pipeline.CheckedBatch:
    """One run of the pipeline's check/write/commit steps over ready rows."""
    run_id = pipeline.new_run_id()
    summary = pipeline.RunSummary(run_id=run_id, started_at=FETCHED)
    rows = [replace(row, run_id=run_id) for row in rows]
    batch = pipeline.check_rows(rows, SOURCES, state)
    files = pipeline.write_batch(lake, run_id, 0, batch, [])
    summary.add_batch(batch, files)
    pipeline.commit_run(lake, summary)
    return batch


# --- the demo's syndicated trap -----------------------------------------------------------------

def test_syndicated_copy_in_one_batch_points_to_the_original_and_nothing_else_clusters(
        demo_rows: dict[tuple[str, str], pipeline.ArticleRow]) -> None:
    # Newest source first: the check step itself must rank the copies by publication time.
    rows = [replace(row) for row in reversed(demo_rows.values())]
    batch = pipeline.check_rows(rows, SOURCES, pipeline.LakeState())
    rows_by_id = by_id(batch)
    original, copy = rows_by_id[url_id(ORIGINAL.url())], rows_by_id[url_id(COPY.url())]
    assert copy in batch.articles and "near_duplicate" in copy.flags
    assert copy.near_duplicate_of == original.article_id
    assert copy.near_duplicate_cluster == original.near_duplicate_cluster
    assert original.near_duplicate_cluster == original.article_id
    assert original.near_duplicate_of is None and "near_duplicate" not in original.flags
    # The only other pair is the AMP edition, an exact copy already quarantined as one.
    others = {r.url for r in rows_by_id.values() if r.near_duplicate_of} - {copy.url}
    exact = {r.url for r in batch.quarantine if "duplicate_body" in r.reasons}
    assert others == exact and len(exact) == 1
    clusters = [r.near_duplicate_cluster for r in batch.articles]
    assert len(clusters) - len(set(clusters)) == 1  # one cluster of two, every other alone


def test_copy_in_a_later_run_is_found_through_the_committed_manifest(
        tmp_path: Path, demo_rows: dict[tuple[str, str], pipeline.ArticleRow]) -> None:
    lake = open_lake(str(tmp_path))
    first = [replace(demo_rows[(p.source_id, p.path)]) for p in PAGES if p.source_id == "sham-today"]
    commit(lake, first, pipeline.load_state(lake))
    state = pipeline.load_state(lake)  # a new process: only what the manifests say
    assert len(state.near) == len(first)
    second = commit(lake, [replace(demo_rows[(COPY.source_id, COPY.path)])], state)
    [copy] = second.articles
    assert copy.near_duplicate_of == url_id(ORIGINAL.url())
    assert "near_duplicate" in copy.flags
    clusters = duckdb.sql(
        f"SELECT near_duplicate_cluster, count(*), min(published_at) = max(published_at) "
        f"FROM read_parquet('{tmp_path}/articles/**/*.parquet', hive_partitioning=true) "
        f"GROUP BY 1 HAVING count(*) > 1").fetchall()
    assert clusters == [(url_id(ORIGINAL.url()), 2, False)]


def test_an_original_stored_after_its_copy_is_not_flagged_but_joins_the_cluster(
        tmp_path: Path, demo_rows: dict[tuple[str, str], pipeline.ArticleRow]) -> None:
    lake = open_lake(str(tmp_path))
    commit(lake, [replace(demo_rows[(COPY.source_id, COPY.path)])], pipeline.load_state(lake))
    later = commit(lake, [replace(demo_rows[(ORIGINAL.source_id, ORIGINAL.path)])],
                   pipeline.load_state(lake))
    [original] = later.articles
    assert original.near_duplicate_of is None  # it is the earliest copy
    assert "near_duplicate" not in original.flags
    assert original.near_duplicate_cluster == url_id(COPY.url())  # the cluster's first key
    # A third outlet's copy, with one more sentence (not an exact duplicate).
    body = demo_rows[(COPY.source_id, COPY.path)].body + "\nوأكد المصدر أن العمل مستمر."
    third_copy = replace(demo_rows[(COPY.source_id, COPY.path)], article_id="f" * 32,
                         url="https://third.example/c", body=body, body_hash=body_hash(body))
    [third] = commit(lake, [third_copy], pipeline.load_state(lake)).articles
    assert third.near_duplicate_of == original.article_id


# --- signatures -------------------------------------------------------------------------------

def test_spelling_habits_do_not_make_a_different_text() -> None:
    variant = (STORY.replace("أ", "ا").replace("إ", "ا").replace("ة ", "ه ").replace("ى", "ي")
               .replace("المياه", "الميـــاه").replace("مدة", "مُدَّة"))
    other = ("افتتحت مديرية الثقافة في اللاذقية معرضاً للكتاب يضم أكثر من مئة دار نشر من سوريا "
             "ولبنان والعراق، ويستمر عشرة أيام يتخلله برنامج ثقافي من الندوات والأمسيات الشعرية "
             "وتوقيع الكتب. وقالت مديرة الثقافة إن المعرض يخصص جناحاً لكتب الأطفال بأسعار رمزية.")
    ours, spelled, theirs = neardup.signatures([STORY, variant, other])
    assert variant != STORY and neardup.similarity(ours, spelled) == 1.0
    assert neardup.similarity(ours, theirs) < 0.1


def test_a_text_too_short_to_compare_has_no_signature_and_no_cluster() -> None:
    [signature] = neardup.signatures(["عاجل: انقطاع الكهرباء"])
    assert signature is None
    [verdict] = neardup.assign(neardup.Index(), [neardup.Item("a" * 32, None, 0.0, True)])
    assert verdict == neardup.Verdict(None, None)


def test_the_workers_signature_is_the_one_the_check_step_would_compute(
        demo_rows: dict[tuple[str, str], pipeline.ArticleRow]) -> None:
    rng = random.Random(7)
    words = STORY.split()
    texts = [STORY, "عاجل: انقطاع الكهرباء", "", *(synthetic(rng, words, n) for n in (12, 40, 300))]
    for text, batched in zip(texts, neardup.signatures(texts), strict=True):
        single = neardup.from_bytes(neardup.to_bytes(neardup.signature(text)))
        assert (single is None) == (batched is None), text[:30]
        assert single is None or np.array_equal(single, batched)
    # A row carries its worker's signature; without it the check step signs the body itself,
    # and the verdicts are the same.
    rows = list(demo_rows.values())
    assert all(r.minhash is not None for r in rows)
    with_minhash = pipeline.check_rows(rows, SOURCES, pipeline.LakeState())
    without = pipeline.check_rows([replace(r, minhash=None) for r in rows], SOURCES,
                                  pipeline.LakeState())
    assert with_minhash.signatures == without.signatures and with_minhash.signatures
    assert ({r.article_id: r.near_duplicate_of for r in with_minhash.articles}
            == {r.article_id: r.near_duplicate_of for r in without.articles})


def test_the_suite_runs_once_a_batch_and_a_wrong_forecast_costs_a_second_run_not_a_verdict(
        demo_rows: dict[tuple[str, str], pipeline.ArticleRow],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from rasid import checks

    runs: list[int] = []
    validate = checks.validate
    monkeypatch.setattr(checks, "validate", lambda frame: runs.append(len(frame)) or validate(frame))

    def verdicts(batch: pipeline.CheckedBatch) -> dict[str, Any]:
        return {r.article_id: (getattr(r, "reasons", None), r.near_duplicate_of, r.flags)
                for r in batch.articles + batch.quarantine}

    rows = list(demo_rows.values())
    right = verdicts(pipeline.check_rows([replace(r) for r in rows], SOURCES, pipeline.LakeState()))
    assert len(runs) == 1
    assert any(reasons and "duplicate_body" not in reasons for reasons, *_ in right.values())
    for forecast in (lambda frame, ignore: [False] * len(frame),  # nothing blocked
                     lambda frame, ignore: [True] * len(frame),  # everything blocked
                     lambda frame, ignore: None):  # no forecast
        runs.clear()
        monkeypatch.setattr(checks, "predict_blocked", forecast)
        again = pipeline.check_rows([replace(r) for r in rows], SOURCES, pipeline.LakeState())
        assert verdicts(again) == right and len(runs) == 2


def test_signatures_survive_their_text_form_and_another_version_is_ignored() -> None:
    [signature] = neardup.signatures([STORY])
    assert signature is not None
    text = neardup.encode(signature)
    assert np.array_equal(neardup.decode(text), signature)
    assert neardup.decode("v0:" + text.split(":", 1)[1]) is None
    assert neardup.decode("v1:not base64!") is None and neardup.decode(None) is None


def synthetic(rng: random.Random, words: list[str], length: int = 120) -> str:
    return " ".join(rng.choice(words) for _ in range(length))


def edited(text: str, rng: random.Random) -> str:
    """A syndicated copy: a dateline in front, a sentence's worth of words dropped."""
    words = text.split()
    cut = rng.randrange(20, len(words) - 20)
    return "دمشق - وكالات: " + " ".join(words[:cut] + words[cut + 12:])


def test_index_finds_every_edited_copy_among_many_stored_texts_and_nothing_else() -> None:
    rng = random.Random(7)
    words = [f"كلمة{i}" for i in range(3000)]
    originals = [synthetic(rng, words) for _ in range(600)]
    index = neardup.Index()
    for start in range(0, len(originals), 200):  # stored in batches, like runs
        chunk = originals[start:start + 200]
        for offset, signature in enumerate(neardup.signatures(chunk)):
            key = f"{start + offset:032x}"
            index.add(key, signature, key, float(start + offset))
    copies = [edited(originals[i], rng) for i in range(0, 600, 3)]
    fresh = [synthetic(rng, words) for _ in range(100)]
    items = [neardup.Item(f"new{i}", s, 1e9, True)
             for i, s in enumerate(neardup.signatures(copies + fresh))]
    verdicts = neardup.assign(index, items)
    assert [v.duplicate_of for v in verdicts[:len(copies)]] == [
        f"{i:032x}" for i in range(0, 600, 3)]
    assert all(v.duplicate_of is None for v in verdicts[len(copies):])
