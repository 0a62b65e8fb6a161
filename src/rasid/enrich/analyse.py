"""One article through the enrich stage's pure steps: terms, mentions, story features."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from rasid.enrich.mentions import Matcher, Mention, normalised_text
from rasid.enrich.stories import Doc, doc_places
from rasid.enrich.terms import stems, term_counts

LEAD_CHARS = 600  # of the normalised text after the title: where the event's places are told
PEOPLE_KINDS = ("person", "organisation")


@dataclass(frozen=True)
class Analysed:
    doc: Doc
    mentions: list[Mention]
    words: list[str]  # every stem, stop words included (watchlists' phrases need them)


def analyse(matcher: Matcher, *, article_id: str, source: str, day: date, title: str | None,
            body: str, cluster: str | None = None) -> Analysed:
    text = normalised_text(title, body)
    mentions = matcher.find(text)
    lead_end = len(text.split("\n", 1)[0]) + LEAD_CHARS if title else LEAD_CHARS
    syrian = matcher.syrian
    lead_places = [m.entity_id for m in mentions
                   if m.entity_id in syrian and m.first_position < lead_end]
    towns, governorates = doc_places(
        lead_places, lambda p: syrian[p].kind if p in syrian else "", matcher.ancestors)
    entities = frozenset(m.entity_id for m in mentions if m.kind in PEOPLE_KINDS)
    doc = Doc(article_id=article_id, source=source, day=day, title=title or "",
              terms=term_counts(title, body), towns=towns, governorates=governorates,
              entities=entities, cluster=cluster)
    return Analysed(doc, mentions, stems(f"{title or ''}\n{body}", drop_stop_words=False))


def place_counts(analysed: list[Analysed]) -> Counter[str]:
    """How many articles name each place (for reports)."""
    return Counter(m.entity_id for a in analysed for m in a.mentions
                   if m.kind not in PEOPLE_KINDS)
