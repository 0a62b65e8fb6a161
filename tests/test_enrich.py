"""The enrich stage's pure parts on articles and sentences written for these tests."""

from __future__ import annotations

import itertools
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from rasid.enrich.analyse import analyse
from rasid.enrich.gazetteer import load_entities, places
from rasid.enrich.mentions import Matcher, default_matcher, normalised_text
from rasid.enrich.stories import Assigner, StorySettings
from rasid.enrich.terms import stem, stems
from rasid.enrich.watchlists import QueryError, Watchlist, load_watchlists, parse, spike

GOLDEN = Path(__file__).parent / "golden" / "enrich"
ARTICLES = yaml.safe_load((GOLDEN / "stories.yaml").read_text(encoding="utf-8"))["articles"]
# Written after the thresholds were set on ARTICLES, with less shared wording: a check that
# they carry over to other events and other words.
MORE = yaml.safe_load((GOLDEN / "stories_more.yaml").read_text(encoding="utf-8"))["articles"]
CASES = yaml.safe_load((GOLDEN / "mentions.yaml").read_text(encoding="utf-8"))["cases"]


def _analysed(articles: list[dict]) -> list:
    return [analyse(default_matcher(), article_id=a["id"], source=a["source"], day=a["day"],
                    title=a["title"], body=a["body"], cluster=a.get("cluster", a["id"]))
            for a in articles]


def _pairwise(articles: list[dict], story_ids: list[str]) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for (a, sa), (b, sb) in itertools.combinations(zip(articles, story_ids, strict=True), 2):
        same, joined = a["event"] == b["event"], sa == sb
        tp += same and joined
        fp += joined and not same
        fn += same and not joined
    return tp, fp, fn


# --- terms -----------------------------------------------------------------------------------

@pytest.mark.parametrize("forms", [
    ["الحريق", "حريق", "وبالحريق", "للحريق"],
    ["المدينة", "مدينة", "بمدينة", "وللمدينة", "المدينه"],
    ["السوق", "بالسوق", "والسوق"],
    ["fires", "fire"],
])
def test_forms_of_a_word_share_a_stem(forms: list[str]) -> None:
    assert len({stem(f.casefold()) for f in forms}) == 1


def test_stop_words_and_numbers_leave_story_terms_but_stay_for_phrases() -> None:
    text = "وقال مصدر إن 30 محلاً احترقت في السوق"
    assert "قال" not in stems(text) and "30" not in stems(text)
    assert len(stems(text, drop_stop_words=False)) > len(stems(text))


# --- stories ---------------------------------------------------------------------------------

@pytest.mark.parametrize("articles", [ARTICLES, MORE, ARTICLES + MORE],
                         ids=["stories", "stories_more", "both"])
def test_golden_events_group_across_outlets_and_days(articles: list[dict]) -> None:
    story_ids = Assigner().assign([a.doc for a in _analysed(articles)])
    tp, fp, fn = _pairwise(articles, story_ids)
    assert fp == 0 and fn == 0, (tp, fp, fn, story_ids)


def test_same_topic_without_places_stays_apart_by_its_words() -> None:
    """Bread and fuel prices, the same day, no place named: the words keep them apart."""
    by_id = dict(zip([a["id"] for a in MORE],
                     Assigner().assign([a.doc for a in _analysed(MORE)]), strict=True))
    assert by_id["bread-a"] == by_id["bread-b"] != by_id["fuel-distractor"]


def test_same_topic_in_another_city_and_day_is_another_story() -> None:
    by_id = dict(zip([a["id"] for a in ARTICLES],
                     Assigner().assign([a.doc for a in _analysed(ARTICLES)]), strict=True))
    assert by_id["homs-fire-a"] != by_id["hama-fire"]
    assert by_id["daraa-aid-a"] != by_id["idlib-aid"]
    more = dict(zip([a["id"] for a in MORE],
                    Assigner().assign([a.doc for a in _analysed(MORE)]), strict=True))
    assert more["quake-a"] != more["quake-distractor"]
    assert more["flood-a"] != more["flood-distractor"]


def test_assignment_is_incremental_and_deterministic() -> None:
    """One batch, or three runs carrying the open stories over, give the same stories."""
    docs = [a.doc for a in _analysed(ARTICLES)]
    whole = Assigner().assign(docs)
    carried = Assigner()
    ordered = sorted(range(len(docs)), key=lambda i: (docs[i].day, docs[i].article_id))
    parts = [ordered[:5], ordered[5:9], ordered[9:]]
    split: dict[int, str] = {}
    for part in parts:
        carried = Assigner(carried.stories.values())
        for index, story_id in zip(part, carried.assign([docs[i] for i in part]), strict=True):
            split[index] = story_id
    assert [split[i] for i in range(len(docs))] == whole
    assert Assigner().assign(list(reversed(docs))) == list(reversed(whole))


def test_syndicated_copy_joins_but_is_not_an_independent_source() -> None:
    assigner = Assigner()
    ids = assigner.assign([a.doc for a in _analysed(ARTICLES)])
    story = assigner.stories[ids[[a["id"] for a in ARTICLES].index("daraa-aid-copy")]]
    assert story.sources == {"sham", "halab", "furat"}
    assert story.independent_sources == 2


def test_a_story_closes_after_its_window() -> None:
    docs = [a.doc for a in _analysed([a for a in ARTICLES if a["id"] == "homs-fire-a"])]
    later = [a for a in ARTICLES if a["id"] == "homs-fire-b"][0] | {"day": date(2026, 3, 20)}
    assigner = Assigner(settings=StorySettings(window_days=3))
    first = assigner.assign(docs)
    assert assigner.assign([_analysed([later])[0].doc]) != first


# --- mentions --------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=[c["text"][:30] for c in CASES])
def test_golden_mentions(case: dict) -> None:
    found = {m.entity_id: m.count for m in default_matcher().find(
        normalised_text(None, case["text"]))}
    for entity in case.get("found", []):
        assert entity in found, found
    for entity in case.get("not_found", []):
        assert entity not in found, found
    for entity, count in case.get("counts", {}).items():
        assert found.get(entity) == count, found


def test_gazetteer_has_stable_ids_and_arabic_and_english_names() -> None:
    rows = places()
    ids = [p.id for p in rows]
    assert len(ids) == len(set(ids))
    syrian_towns = [p for p in rows if p.country == "SY" and p.kind == "city"]
    assert len(syrian_towns) > 250
    assert all(p.id.startswith("geonames:") for p in syrian_towns)
    assert sum(p.kind == "governorate" for p in rows) == 14
    aleppo = next(p for p in rows if p.id == "geonames:170063")
    assert "حلب" in aleppo.names and "Aleppo" in aleppo.names
    assert aleppo.parent == "iso3166-2:SY-HL"


def test_the_bundled_gazetteer_is_what_the_build_makes() -> None:
    """gazetteer.json is generated: editing places.yaml without rebuilding fails here."""
    from rasid.enrich import gazetteer

    data = Path(gazetteer.__file__).parent / "data"
    curated = yaml.safe_load((data / "places.yaml").read_text(encoding="utf-8"))
    stored = json.loads((data / "gazetteer.json").read_text(encoding="utf-8"))
    assert gazetteer.build(curated) == stored


def test_an_edited_entities_file_is_matched(tmp_path: Path) -> None:
    path = tmp_path / "entities.yaml"
    path.write_text("entities:\n  - {id: salma-k, kind: person, ar: [سلمى الخطيب], "
                    "en: [Salma al-Khatib]}\n", encoding="utf-8")
    matcher = Matcher(load_entities(path))
    found = matcher.find(normalised_text("لقاء", "التقت سلمى الخطيب وفداً. Salma al-Khatib said"))
    assert [(m.entity_id, m.count) for m in found] == [("rasid:person:salma-k", 2)]


# --- watchlists ------------------------------------------------------------------------------

def _words(text: str) -> list[str]:
    return stems(text, drop_stop_words=False)


@pytest.mark.parametrize(("query", "text", "expected"), [
    ("حريق", "اندلعت النيران وبالحريق تضررت المحلات", True),
    ("حريق AND سوق", "حريق في السوق", True),
    ("حريق AND سوق", "حريق في الغابة", False),
    ("حريق سوق", "حريق في الأسواق الشعبية بالسوق", True),
    ("(حريق OR fire) AND NOT تدريب", "A fire broke out", True),
    ("(حريق OR fire) AND NOT تدريب", "تدريب على إطفاء حريق", False),
    ('"الدفاع المدني"', "وصلت فرق الدفاع المدني", True),
    ('"الدفاع المدني"', "قال المدني إن الدفاع", False),
    ('"civil defence" OR "الدفاع المدني"', "Civil Defence teams arrived", True),
])
def test_watchlist_queries(query: str, text: str, expected: bool) -> None:
    assert Watchlist(id="w", name="w", query=query).matches(_words(text)) is expected


@pytest.mark.parametrize("query", ["(حريق", "حريق AND", "OR", '""'])
def test_malformed_queries_are_refused(query: str) -> None:
    with pytest.raises(QueryError):
        parse(query)


def test_watchlist_file_is_validated(tmp_path: Path) -> None:
    path = tmp_path / "watchlists.yaml"
    path.write_text("watchlists:\n  - {id: fires, name: حرائق, query: 'حريق OR fire'}\n",
                    encoding="utf-8")
    assert [w.id for w in load_watchlists(path)] == ["fires"]
    path.write_text("watchlists:\n  - {id: bad, name: x, query: '(حريق'}\n", encoding="utf-8")
    with pytest.raises(ValueError):
        load_watchlists(path)


def test_spike_rule() -> None:
    today = date(2026, 3, 30)
    steady = {today - timedelta(days=d): 2 for d in range(1, 29)}
    assert spike(steady | {today: 3}, today) is None  # within the usual
    assert spike(steady | {today: 9}, today) is not None  # 2 + 3·√2 ≈ 6.2 exceeded
    assert spike({today: 2}, today) is None  # too few to call
    new = spike({today: 3}, today)
    assert new is not None and new.baseline_mean == 0
