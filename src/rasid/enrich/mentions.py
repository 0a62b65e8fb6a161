"""Mentions of places, people and organisations, found with one Aho-Corasick pass.

Names and text are compared after rasid.text.normalize_arabic, so "إدلب"/"ادلب" and
"حماة"/"حماه" are one name. Arabic glues conjunctions and prepositions to the next word: each
Arabic name is also matched behind و ب ل and their pairs ("وبحلب"), and a name with the
article behind "ل" in its contracted form ("للرقة" is ل + الرقة, "وللرقة"). A match must start and end
at word edges, so "حلب" is not found in "الحلبي"; where names overlap the longest one wins
("ريف دمشق" is the governorate, not the city).

Some names are also ordinary words or given names ("الباب" the door, "الميدان" the square,
"جاسم", "تدمر" it destroys). Each alias of the gazetteer or of entities.yaml may be marked
ambiguous:

- "strong": counted after a place word ("مدينة", "بلدة", "حي", "ريف", ...) or a title for
  people ("الرئيس", "الوزير"), in a dateline ("الباب - "), right before a place that contains
  it ("الباب شرق حلب"), or when the same article names the entity unambiguously elsewhere;
- "weak": also after a preposition ("في حمص", "بحمص", "إلى حماة").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import ahocorasick

from rasid.enrich.gazetteer import PLACE_KINDS, Entity, load_entities, places
from rasid.text import normalize_arabic

# و ب ل and their pairs. ف and ك are left out: glued to short names they make common words
# ("فرقة", "كما") far more often than they carry a place.
_PREFIXES = ("و", "ب", "ل", "وب", "ول")
_CUES_STRONG = set(normalize_arabic(
    "مدينة مدينتي بلدة بلدتي قرية قريتي حي أحياء محافظة منطقة مناطق ريف مخيم ناحية مدن بلدات "
    "قرى ضاحية مركز أطراف الرئيس الوزير وزير السيد الشيخ الدكتور المبعوث الأمين رئيس نائب "
    "المتحدث الناطق city town village district neighbourhood neighborhood province "
    "governorate president minister").split())
_CUES_WEAK = _CUES_STRONG | set(normalize_arabic(
    "في من إلى الى قرب نحو باتجاه داخل شمال جنوب شرق غرب شمالي جنوبي شرقي غربي محيط وسط "
    "مدخل أهالي سكان أبناء بين عن in from to near at").split())
_RANK = {"country": 0, "governorate": 1, "organisation": 1, "person": 1, "city": 2,
         "neighbourhood": 3}
_DATELINE_MARKS = "-–—ـ:(/"
_PARENT_REACH = 30  # characters after a name in which a containing place confirms it


@dataclass(frozen=True)
class Mention:
    entity_id: str
    kind: str
    name: str  # the entity's display name (Arabic)
    count: int
    first_position: int  # character offset in normalised_text(title, body)


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    entity: int
    ambiguity: str
    clitic: bool  # a preposition or conjunction glued before the name


def normalised_text(title: str | None, body: str) -> str:
    """The text mentions are found in: title and paragraphs, each normalised, one a line."""
    lines = [title or "", *body.splitlines()]
    return "\n".join(normalize_arabic(line) for line in lines if line.strip())


class Matcher:
    """An automaton over every alias of the given entities (build once, use on many texts)."""

    def __init__(self, entities: Sequence[Entity]) -> None:
        self.entities = list(entities)
        self._parents = {e.id: e.parent for e in self.entities}
        self.syrian = {e.id: e for e in self.entities if e.country == "SY"}  # places in Syria
        owners: dict[str, list[tuple[int, str]]] = {}
        for index, entity in enumerate(self.entities):
            for alias in entity.names:
                key = normalize_arabic(alias)
                if len(key) >= 2:
                    owners.setdefault(key, []).append((index, entity.ambiguity.get(alias, "none")))
        self._automaton = ahocorasick.Automaton()
        resolved = {key: claim for key, claims in owners.items()
                    if (claim := self._resolve(key, claims)) is not None}
        # A name as written beats another name with a clitic glued on: "لبنان" is Lebanon,
        # not ل + the village "بنان".
        for variant_of_clitic in (False, True):
            for key, (owner, ambiguity) in resolved.items():
                for variant, clitic in _variants(key):
                    if clitic == variant_of_clitic and variant not in self._automaton:
                        self._automaton.add_word(variant, (len(variant), owner, ambiguity, clitic))
        self._automaton.make_automaton()

    def _resolve(self, key: str, claims: list[tuple[int, str]]) -> tuple[int, str] | None:
        """One entity per name: of those sharing it, the one of the widest kind (the country
        "لبنان", not a village of that name), then the one whose display name it is; a name
        still shared is nobody's."""
        rank = min(_RANK[self.entities[i].kind] for i, _ in claims)
        claims = [c for c in claims if _RANK[self.entities[c[0]].kind] == rank]
        if len({index for index, _ in claims}) == 1:
            return claims[0]
        displayed = [c for c in claims if normalize_arabic(self.entities[c[0]].name_ar) == key
                     or normalize_arabic(self.entities[c[0]].name_en) == key]
        return displayed[0] if len({i for i, _ in displayed}) == 1 else None

    def find(self, text: str) -> list[Mention]:
        """Mentions in a text already put through normalised_text, first-mentioned first."""
        hits = _longest(self._hits(text))
        sure = {h.entity for h in hits if h.ambiguity == "none"}
        kept = [h for h in hits if h.ambiguity == "none" or h.entity in sure
                or self._in_context(text, h, hits)]
        counts: dict[int, list[int]] = {}
        for hit in kept:
            counts.setdefault(hit.entity, []).append(hit.start)
        mentions = [Mention(self.entities[i].id, self.entities[i].kind,
                            self.entities[i].name_ar, len(starts), starts[0])
                    for i, starts in counts.items()]
        return sorted(mentions, key=lambda m: (m.first_position, m.entity_id))

    def _hits(self, text: str) -> list[_Hit]:
        hits = []
        for end, (length, entity, ambiguity, clitic) in self._automaton.iter(text):
            start = end - length + 1
            if (start > 0 and text[start - 1].isalnum()) or (
                    end + 1 < len(text) and text[end + 1].isalnum()):
                continue
            hits.append(_Hit(start, end + 1, entity, ambiguity, clitic))
        return hits

    def _in_context(self, text: str, hit: _Hit, hits: list[_Hit]) -> bool:
        before = text[max(0, hit.start - 40):hit.start].split()
        previous = _bare(before[-1]) if before else ""
        line_start = hit.start == 0 or text[hit.start - 1] == "\n"
        after = text[hit.end:hit.end + 3].strip()
        if previous in _CUES_STRONG or (line_start and after[:1] in _DATELINE_MARKS and after):
            return True
        if hit.ambiguity == "weak" and (hit.clitic or previous in _CUES_WEAK):
            return True
        ancestors = self._ancestors(self.entities[hit.entity].id)
        return any(hit.end <= h.start <= hit.end + _PARENT_REACH
                   and self.entities[h.entity].id in ancestors for h in hits)

    def _ancestors(self, entity_id: str) -> set[str]:
        found: set[str] = set()
        parent = self._parents.get(entity_id)
        while parent and parent not in found:
            found.add(parent)
            parent = self._parents.get(parent)
        return found

    def ancestors(self, entity_id: str) -> set[str]:
        """The places containing a place (its city, governorate, country)."""
        return self._ancestors(entity_id)


def _bare(word: str) -> str:
    """A preceding word without its glued conjunction/preposition ("وبمدينة" → "مدينه")."""
    for prefix in ("وب", "فب", "ول", "و", "ف", "ب", "ل"):
        if word.startswith(prefix) and word[len(prefix):] in _CUES_STRONG:
            return word[len(prefix):]
    return word


def _variants(key: str) -> list[tuple[str, bool]]:
    """The forms a name takes in running text, with whether a clitic is glued on."""
    if not key[0].isalpha() or key.isascii():
        return [(key, False)]
    forms = [(key, False)]
    for prefix in _PREFIXES:
        if key.startswith("ال") and prefix.endswith("ل"):
            forms.append((prefix + key[1:], True))  # ل + الرقه → للرقه
        else:
            forms.append((prefix + key, True))
    return forms


def _longest(hits: list[_Hit]) -> list[_Hit]:
    """Non-overlapping hits, the longest first where they overlap, then the leftmost."""
    chosen: list[_Hit] = []
    taken: list[tuple[int, int]] = []
    for hit in sorted(hits, key=lambda h: (-(h.end - h.start), h.start)):
        if all(hit.end <= s or hit.start >= e for s, e in taken):
            chosen.append(hit)
            taken.append((hit.start, hit.end))
    return sorted(chosen, key=lambda h: h.start)


@cache
def default_matcher() -> Matcher:
    """The bundled gazetteer and entities.yaml."""
    return Matcher([*places(), *load_entities()])


def places_of(mentions: Sequence[Mention]) -> list[Mention]:
    return [m for m in mentions if m.kind in PLACE_KINDS]
