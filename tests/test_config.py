"""The sources file: validated up front, errors that name the source and the field."""

from pathlib import Path

import pytest

from rasid.config import (
    ConfigError,
    Settings,
    load_settings,
    load_sources,
    parse_allowlist,
    parse_sources,
)

GOOD = """
sources:
  - id: sham-today
    name: الشام اليوم
    homepage: https://sham.example/
    feeds: [https://sham.example/feed/]
    language: ar
    min_delay_seconds: 2
  - id: furat-post
    name: الفرات بوست
    homepage: https://furat.example/
    sitemaps: [https://furat.example/sitemap.xml]
    timezone: Asia/Beirut
    min_arabic_ratio: 0.5
"""


def test_a_good_file_gives_sources_with_defaults() -> None:
    sources = parse_sources(GOOD)
    assert [s.id for s in sources] == ["sham-today", "furat-post"]
    assert sources[0].timezone == "Asia/Damascus"
    assert sources[0].arabic_threshold == 0.6
    assert sources[1].arabic_threshold == 0.5
    assert sources[0].max_concurrency >= 1


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("- id: sham-today", "- id: Sham_Today", "source 'Sham_Today': field id: String should match pattern"),
        ("feeds: [https://sham.example/feed/]", "feeds: [ftp://sham.example/feed]", "source 'sham-today': field feeds: must be an http(s) URL"),
        ("language: ar", "colour: blue", "source 'sham-today': field colour: unknown field"),
        ("language: ar", "timezone: Mars/Olympus", "source 'sham-today': field timezone: unknown IANA timezone"),
        ("language: ar", "max_concurrency: 0", "source 'sham-today': field max_concurrency: Input should be greater than or equal to 1"),
        ("name: الفرات بوست", "title: x", "source 'furat-post': field name: Field required"),
    ],
)
def test_a_bad_field_is_named_with_its_source(old: str, new: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_sources(GOOD.replace(old, new, 1))
    assert expected in str(info.value)


def test_a_key_given_twice_is_refused() -> None:
    text = GOOD.replace("    language: ar", "    language: ar\n    min_delay_seconds: 9")
    with pytest.raises(ConfigError, match="'min_delay_seconds' appears twice"):
        parse_sources(text)


def test_duplicate_ids_are_refused() -> None:
    text = GOOD.replace("id: furat-post", "id: sham-today")
    with pytest.raises(ConfigError, match="duplicate source id 'sham-today'"):
        parse_sources(text)


@pytest.mark.parametrize("text", ["", "sources: []", "- just a list", "sources: [\n", "other: 1"])
def test_empty_or_malformed_files_are_refused(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_sources(text)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read sources file"):
        load_sources(tmp_path / "nope.yaml")


def test_disabled_sources_are_skipped() -> None:
    text = GOOD.replace("    timezone: Asia/Beirut", "    timezone: Asia/Beirut\n    enabled: false")
    assert [s.id for s in parse_sources(text)] == ["sham-today"]


def test_allowlist_splits_hosts_and_networks() -> None:
    hosts, networks = parse_allowlist(" 127.0.0.1, demo.local ,10.0.0.0/8,[::1],")
    assert hosts == ["demo.local"]
    assert [str(n) for n in networks] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]


def test_settings_come_from_rasid_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASID_MAX_RETRIES", "7")
    monkeypatch.setenv("RASID_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    settings = Settings()
    assert settings.max_retries == 7
    assert settings.allow_private_hosts == "127.0.0.1"


def test_the_user_agent_comes_from_rasid_user_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASID_USER_AGENT", " newsdesk/2.0 (+https://desk.example/crawler) ")
    assert Settings().user_agent == "newsdesk/2.0 (+https://desk.example/crawler)"


@pytest.mark.parametrize("agent", ["newsdesk", "Mozilla/5.0 (X11; Linux x86_64)",
                                   "newsdesk/2.0 (ops@desk.example)", "(+https://x.example)"])
def test_a_user_agent_without_a_product_name_and_contact_url_is_refused(
    monkeypatch: pytest.MonkeyPatch, agent: str,
) -> None:
    monkeypatch.setenv("RASID_USER_AGENT", agent)
    with pytest.raises(ConfigError, match="RASID_USER_AGENT"):
        load_settings()
