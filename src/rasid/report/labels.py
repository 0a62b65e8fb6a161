"""The report's words, Arabic then English, read from data: each check's from the GX suite's
``meta`` (so a new check brings its words with it), the rest from ``labels.yaml`` beside this
module. The report page, the CLI's text and the Prefect artifacts all take them from here."""

from __future__ import annotations

from importlib.resources import files
from typing import Any, NamedTuple

import yaml

from rasid import checks
from rasid.checks import Words


class CountLabel(NamedTuple):
    """One of a run's per-source counts, as the report names it."""

    key: str
    ar: str
    en: str


def _load() -> dict[str, Any]:
    text = files("rasid.report").joinpath("labels.yaml").read_text(encoding="utf-8")
    found: dict[str, Any] = yaml.safe_load(text)
    return found


_LABELS = _load()

# What each check's failure means (the articles' reasons), for text that names reasons by code.
REASONS: dict[str, Words] = {rule.reason: rule.failure for rule in checks.rules()}
# Why a row has no date (rasid.dates' notes among its flags): shown with its reasons.
DATE_NOTES: dict[str, Words] = {
    code: Words(**words) for code, words in _LABELS["date_notes"].items()
}
REASONS.update(DATE_NOTES)
FETCH_REASONS: dict[str, Words] = {
    code: Words(**words) for code, words in _LABELS["fetch_reasons"].items()
}
COUNT_LABELS: tuple[CountLabel, ...] = tuple(
    CountLabel(key, **words) for key, words in _LABELS["counts"].items()
)
# rasid.health's flag codes in Arabic; the English is each flag's own sentence.
FLAG_WORDS: dict[str, str] = dict(_LABELS["flags"])


def reason(code: str) -> Words:
    return REASONS.get(code, Words(code, code))


def reason_text(code: str) -> str:
    arabic, english = reason(code)
    return f"{arabic} / {english}"


def fetch_reason(code: str) -> Words:
    if code in FETCH_REASONS:
        return FETCH_REASONS[code]
    if code.startswith("http_5"):
        return Words("خطأ في خادم الموقع", f"server error (HTTP {code[5:]})")
    if code.startswith("http_"):
        return Words("ردّ غير متوقع من الموقع", f"unexpected answer (HTTP {code[5:]})")
    return Words(code, code)
