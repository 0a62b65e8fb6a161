"""rasid.dates: Arabic date expressions and the publication date of a page."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from rasid.dates import (
    EGYPTIAN,
    LEVANTINE,
    MAGHREBI,
    MOROCCAN,
    DateResult,
    find_published,
    is_dateline,
    parse_arabic_date,
    parse_arabic_datetime,
    parse_machine_datetime,
    url_date,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


# --- parse_arabic_date --------------------------------------------------------------------

@pytest.mark.parametrize("table", [LEVANTINE, EGYPTIAN, MAGHREBI, MOROCCAN],
                         ids=["levantine", "egyptian", "maghrebi", "moroccan"])
def test_every_month_name_of_every_system(table: dict[str, int]) -> None:
    for name, month in table.items():
        assert parse_arabic_date(f"7 {name} 2026") == date(2026, month, 7), name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("16 تشرين الثاني 2026", date(2026, 11, 16)),
        ("الأحد، ١٦ تشرين الثاني ٢٠٢٦", date(2026, 11, 16)),
        ("۱۶ تشرين الثاني ۲۰۲۶", date(2026, 11, 16)),
        ("11 كانون الثاني/ يناير 2018", date(2018, 1, 11)),
        ("17 مارس/ آذار 2020", date(2020, 3, 17)),
        ("16 تشرين الثاني (نوفمبر) 2026", date(2026, 11, 16)),
        ("16-11-2026", date(2026, 11, 16)),
        ("16/11/2026", date(2026, 11, 16)),
        ("2026/11/16", date(2026, 11, 16)),
        ("١٦/١١/٢٠٢٦", date(2026, 11, 16)),
        ("03/04/2026", date(2026, 4, 3)),  # Arabic numeric dates are day first
        ("11/16/2026", date(2026, 11, 16)),  # ...unless only month-first makes sense
        ("16 تشرين الثاني2026", date(2026, 11, 16)),
        ("13 كانون 2 2026", date(2026, 1, 13)),
        ("13 كانون2 2026", date(2026, 1, 13)),
        ("13 ك2 2026", date(2026, 1, 13)),
        ("7 ت1 2025", date(2025, 10, 7)),
        ("7 تشرين أول 2025", date(2025, 10, 7)),
        ("الخميس - 5 - حزيران - 2025", date(2025, 6, 5)),
        ("5 من أيار 2025", date(2025, 5, 5)),
        ("نوفمبر 16، 2026", date(2026, 11, 16)),
        ("16 يونية 2026", date(2026, 6, 16)),
        ("16 إبريل 2026", date(2026, 4, 16)),
        ("3 جمادى الآخرة 1448 هـ الموافق 13 تشرين الثاني 2026 م", date(2026, 11, 13)),
        ("1448/05/03 هـ - 2026/11/13 م", date(2026, 11, 13)),
        ("November 16, 2026", date(2026, 11, 16)),
        ("16th Nov 2026", date(2026, 11, 16)),
        ("le 16 novembre 2026", date(2026, 11, 16)),
    ],
)
def test_parse_arabic_date(text: str, expected: date) -> None:
    assert parse_arabic_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "31 شباط 2026",  # no such day
        "30 فبراير 2026",
        "جميع الحقوق محفوظة 2026",  # a bare year is not a date
        "© 2025",
        "تشرين الثاني 2026",  # a month and a year are not a date
        "2026/11",
        "3 جمادى الآخرة 1448 هـ",  # Hijri only
        "1448/05/03 هـ",
        "۲۵ آبان ۱۴۰۵",  # Solar Hijri (Persian)
        "5 آب",  # no year
        "العدد 16 من المجلة",
        "",
    ],
)
def test_not_a_full_gregorian_date(text: str) -> None:
    assert parse_arabic_date(text) is None


@pytest.mark.parametrize(
    ("text", "clock"),
    [
        ("16/11/2026 الساعة 10:30", time(10, 30)),
        ("الأحد 15 نوفمبر 2026 - 10:30 م", time(22, 30)),
        ("الأحد 15 نوفمبر 2026 - 10:30 مساءً", time(22, 30)),
        ("15 نوفمبر 2026 12:15 ص", time(0, 15)),
        ("15 نوفمبر 2026 09:05:30", time(9, 5, 30)),
        ("15 نوفمبر 2026", None),
    ],
)
def test_parse_arabic_datetime_reads_the_time_of_day(text: str, clock: time | None) -> None:
    assert parse_arabic_datetime(text) == (date(2026, 11, 15 if "15" in text else 16), clock)


# --- machine values -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-16T01:30:00+03:00",
         datetime(2026, 11, 16, 1, 30, tzinfo=timezone(timedelta(hours=3)))),
        ("2026-11-15T22:30:00Z", datetime(2026, 11, 15, 22, 30, tzinfo=UTC)),
        ("2026-11-15T22:30:00.123+0000", datetime(2026, 11, 15, 22, 30, tzinfo=UTC)),
        ("2026-11-16 10:30:00", datetime(2026, 11, 16, 10, 30)),
        ("2026-11-16", date(2026, 11, 16)),
        ("Mon, 16 Nov 2026 10:30:00 +0300",
         datetime(2026, 11, 16, 10, 30, tzinfo=timezone(timedelta(hours=3)))),
        ("16 تشرين الثاني 2026", date(2026, 11, 16)),
        ("2026", None),
        ("2026-11", None),
        ("soon", None),
    ],
)
def test_parse_machine_datetime(value: str, expected: datetime | date | None) -> None:
    assert parse_machine_datetime(value) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.example/2026/11/16/slug/", date(2026, 11, 16)),
        ("https://x.example/news/2026-11-16-slug", date(2026, 11, 16)),
        ("https://x.example/news/20261116/slug", date(2026, 11, 16)),
        ("https://x.example/2026/11/slug", None),
        ("https://x.example/archives/700001", None),
        ("https://x.example/news/12345678", None),
    ],
)
def test_url_date(url: str, expected: date | None) -> None:
    assert url_date(url) == expected


def test_is_dateline() -> None:
    assert is_dateline("الثلاثاء، 13 كانون 2 2026 - 09:15")
    assert is_dateline("نشر في: 16/11/2026 | آخر تحديث: 17/11/2026")
    assert not is_dateline("دمشق - 16 تشرين الثاني 2026 - قال مدير المؤسسة إن العمل مستمر")
    assert not is_dateline("مرحبا")


# --- find_published -------------------------------------------------------------------------

def page(head: str = "", body: str = "", title: str = "عنوان الخبر التجريبي الطويل") -> str:
    return (f"<html><head><title>{title}</title>{head}</head><body>"
            f"<header class='site-header'><div class='topbar'>الأربعاء 25 تشرين الثاني 2026</div>"
            f"<nav><a href='/'>الرئيسية</a></nav></header>"
            f"<article><h1>{title}</h1>{body}"
            f"<p>نص الخبر الذي يتحدث عن أعمال الصيانة في المدينة خلال الأسبوع الماضي.</p>"
            f"</article><footer>جميع الحقوق محفوظة © 2025</footer></body></html>")


def find(html: str, url: str = "https://x.example/news/a", hints=(), tz: str = "Asia/Damascus",
         founded: date | None = None) -> DateResult:
    return find_published(html, url, title="عنوان الخبر التجريبي الطويل", hints=list(hints),
                          timezone=tz, now=NOW, founded=founded)


def test_meta_time_keeps_utc_and_dates_the_local_day() -> None:
    meta = '<meta property="article:published_time" content="2026-11-16T01:30:00+03:00">'
    result = find(page(meta))
    assert result.published_at == datetime(2026, 11, 15, 22, 30, tzinfo=UTC)
    assert result.published_date == date(2026, 11, 16)
    assert result.date_source == "meta"


def test_a_stamp_with_its_offset_gives_the_day_it_prints() -> None:
    # The publisher's calendar day: 21:30 in Buenos Aires is still the 15th, though it is the
    # 16th in UTC and in Damascus.
    stamp = "2026-11-15T21:30:00-03:00"
    result = find(page(f'<meta property="article:published_time" content="{stamp}">'))
    assert result.published_date == date(2026, 11, 15)
    assert result.published_at == datetime(2026, 11, 16, 0, 30, tzinfo=UTC)
    in_utc = find(page('<meta property="article:published_time" content="2026-11-15T23:30:00Z">'))
    assert in_utc.published_date == date(2026, 11, 15)


def test_a_printed_dateline_one_day_apart_gives_the_newsrooms_day() -> None:
    # A CMS that stores UTC: 23:30Z is 01:30 on the 16th in Damascus, as the page prints.
    html = page('<meta property="article:published_time" content="2026-11-15T23:30:00Z">',
                "<p class='date'>16 تشرين الثاني 2026</p>")
    result = find(html)
    assert result.published_date == date(2026, 11, 16)
    assert result.published_at == datetime(2026, 11, 15, 23, 30, tzinfo=UTC)


def test_naive_times_are_local_to_the_source() -> None:
    html = page('<meta name="pubdate" content="2026-11-16 08:00:00">')
    assert find(html).published_at == datetime(2026, 11, 16, 5, 0, tzinfo=UTC)
    in_casablanca = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)
    assert find(html, tz="Africa/Casablanca").published_at == in_casablanca


def test_an_update_stamp_is_never_the_publication_date_when_one_exists() -> None:
    html = page('<meta property="article:modified_time" content="2026-11-20T10:00:00+03:00">'
                '<meta property="article:published_time" content="2026-11-12T09:00:00+03:00">',
                '<time class="updated" datetime="2026-11-20T10:00:00+03:00">20/11/2026</time>'
                '<p>آخر تحديث: 20/11/2026</p>')
    result = find(html)
    assert (result.published_date, result.date_source, result.flags) == (
        date(2026, 11, 12), "meta", [])


def test_an_update_stamp_that_is_the_only_date_is_flagged() -> None:
    html = page('<meta property="article:modified_time" content="2026-11-20T10:00:00+03:00">'
                '<script type="application/ld+json">{"@type": "NewsArticle",'
                ' "dateModified": "2026-11-20T10:00:00+03:00"}</script>',
                '<time class="updated" datetime="2026-11-20T10:00:00+03:00">20/11/2026</time>'
                '<p>آخر تحديث: 20/11/2026</p>')
    result = find(html)
    assert (result.published_date, result.date_source, result.flags) == (
        date(2026, 11, 20), "updated", ["date_from_update"])


@pytest.mark.parametrize("label", ["Updated", "Mis à jour le", "Aktualisiert am",
                                   "Son güncelleme", "Actualizado el", "Aggiornato il"])
def test_update_labels_of_every_language_are_not_the_dateline(label: str) -> None:
    html = page(body=f"<p>{label} 20.11.2026</p><p class='date'>12.11.2026</p>")
    assert find(html).published_date == date(2026, 11, 12)


def test_jsonld_article_inside_graph_wins_over_its_webpage() -> None:
    html = page('<script type="application/ld+json">{"@graph": ['
                '{"@type": "WebPage", "datePublished": "2026-11-01T08:00:00+02:00"},'
                '{"@type": ["NewsArticle"], "datePublished": "2026-11-14T09:00:00+02:00"}'
                ']}</script>')
    result = find(html, tz="Africa/Cairo")
    assert (result.published_date, result.date_source) == (date(2026, 11, 14), "jsonld")


def test_broken_jsonld_is_ignored() -> None:
    html = page('<script type="application/ld+json">{"@type": "NewsArticle", "datePub</script>')
    assert find(html).published_date is None


def test_meta_beats_jsonld_beats_dateline_beats_feed_beats_url() -> None:
    meta = '<meta property="article:published_time" content="2026-11-16T10:00:00+03:00">'
    jsonld = ('<script type="application/ld+json">{"@type": "NewsArticle",'
              ' "datePublished": "2026-11-16T10:00:00+03:00"}</script>')
    dateline = '<span class="date">16 تشرين الثاني 2026</span>'
    feed = [(datetime(2026, 11, 16, 7, 0, tzinfo=UTC), "feed")]
    url = "https://x.example/2026/11/16/a"
    assert find(page(meta + jsonld, dateline), url, feed).date_source == "meta"
    assert find(page(jsonld, dateline), url, feed).date_source == "jsonld"
    assert find(page("", dateline), url, feed).date_source == "dateline"
    assert find(page(), url, feed).date_source == "feed"
    assert find(page(), url).date_source == "url"
    assert find(page()).date_source is None


def test_feed_beats_sitemap_and_naive_hints_are_utc() -> None:
    hints = [(datetime(2026, 11, 16, 21, 30), "sitemap"), (datetime(2026, 11, 16, 6, 0), "feed")]
    result = find(page(), hints=hints)
    assert result.date_source == "feed"
    assert result.published_at == datetime(2026, 11, 16, 6, 0, tzinfo=UTC)


def test_a_dateline_without_time_takes_the_time_of_a_same_day_feed_entry() -> None:
    hints = [(datetime(2026, 11, 16, 7, 15, tzinfo=UTC), "feed")]
    result = find(page("", '<span class="date">16 تشرين الثاني 2026</span>'), hints=hints)
    assert result.date_source == "dateline"
    assert result.published_at == datetime(2026, 11, 16, 7, 15, tzinfo=UTC)


def test_site_header_today_and_other_articles_dates_are_not_the_dateline() -> None:
    html = page("", "", ) .replace(
        "</article>",
        "</article><aside class='sidebar'><h3>الأكثر قراءة</h3>"
        "<span class='date'>20 تشرين الثاني 2026</span></aside>"
        "<div class='related-posts'><time datetime='2026-11-19'>19/11/2026</time></div>")
    assert find(html).published_date is None


def test_dates_beside_the_article_block_are_not_its_dateline() -> None:
    # No telling class names: a site's "today" strip and a side column of other news.
    html = ("<html><body><div class='strip'><span>الأحد 22 تشرين الثاني 2026</span></div>"
            "<div class='wrap'><div class='row'><div class='col-8'>"
            "<h1>عنوان الخبر التجريبي الطويل</h1>"
            "<p>نص الخبر الذي يتحدث عن أعمال الصيانة في المدينة خلال الأسبوع الماضي.</p></div>"
            "<div class='col-4'><h3>أخبار أخرى</h3><p>عنوان آخر</p>"
            "<span class='date'>20/11/2026</span></div></div></div></body></html>")
    assert find(html).published_date is None


def test_dateline_above_the_title_in_its_block() -> None:
    html = ("<html><body><div class='strip'>اليوم</div><div class='wrap'><div class='head'>"
            "<span class='date'>16/11/2026</span><div class='t'><h1>عنوان الخبر التجريبي الطويل"
            "</h1></div></div><p>نص الخبر الذي يتحدث عن أعمال الصيانة في المدينة.</p></div>"
            "</body></html>")
    assert find(html).published_date == date(2026, 11, 16)


def test_update_label_before_the_publication_date_is_skipped() -> None:
    html = page("", "<div class='post-date'>آخر تحديث: 20/11/2026 - نشر في: 16/11/2026</div>")
    assert find(html).published_date == date(2026, 11, 16)


def test_wordpress_time_marked_published_and_updated_is_the_publication() -> None:
    html = page("", '<time class="entry-date published updated" '
                    'datetime="2026-11-16T10:00:00+03:00">16 تشرين الثاني 2026</time>')
    assert find(html).published_at == datetime(2026, 11, 16, 7, 0, tzinfo=UTC)


def test_jsonld_article_nested_as_main_entity() -> None:
    html = page('<script type="application/ld+json">{"@type": "WebPage", "mainEntity": '
                '{"@type": "NewsArticle", "datePublished": "2026-11-16T10:00:00+03:00", '
                '"citation": {"@type": "NewsArticle", "datePublished": "2019-01-01"}}}</script>')
    result = find(html)
    assert (result.published_date, result.date_source) == (date(2026, 11, 16), "jsonld")


def test_a_site_name_logo_in_h1_is_not_the_headline() -> None:
    html = ("<html><body><div class='brand'><h1>صحيفة الوادي</h1>"
            "<span class='date'>الأربعاء 25 تشرين الثاني 2026</span></div>"
            "<div class='story'><h2>عنوان الخبر التجريبي الطويل</h2>"
            "<span class='date'>16 تشرين الثاني 2026</span><p>نص الخبر.</p></div></body></html>")
    result = find_published(html, "https://x.example/a",
                            title="عنوان الخبر التجريبي الطويل - صحيفة الوادي",
                            hints=[], timezone="Asia/Damascus", now=NOW)
    assert result.published_date == date(2026, 11, 16)


def test_amp_timeago_element() -> None:
    html = page("", '<amp-timeago datetime="2026-11-16T10:00:00Z">منذ أسبوع</amp-timeago>')
    assert find(html).published_date == date(2026, 11, 16)


def test_a_date_in_the_headline_is_its_subject_not_its_dateline() -> None:
    title = "15 آذار 2011: ذكرى أول مظاهرة في المدينة"
    html = page(title=title)
    assert find_published(html, "https://x.example/a", title=title, hints=[],
                          timezone="Asia/Damascus", now=NOW).published_date is None


def test_dates_after_the_article_text_are_not_its_dateline() -> None:
    story = "نص طويل عن افتتاح الطريق الجديد بين المدينتين بعد سنوات من الانتظار. " * 3
    html = page("", f"<p>{story}</p>"
                "<h3>أخبار أخرى</h3><ul><li><a href='/b'>عنوان آخر</a></li>"
                "<li>12/11/2026</li></ul>")
    assert find(html).published_date is None


def test_footer_copyright_year_is_never_a_date() -> None:
    assert find(page()).published_date is None


def test_narrative_date_in_the_first_paragraph_is_not_a_dateline() -> None:
    html = page("", "<p>في 15 آذار 2011 خرجت أول مظاهرة في المدينة، ويستعيد الأهالي اليوم "
                    "ذكرى تلك الأيام.</p>")
    assert find(html).published_date is None


def test_dateline_that_opens_the_first_paragraph() -> None:
    html = page("", "<p>دمشق - 16 تشرين الثاني 2026 - أعلنت المؤسسة العامة للكهرباء "
                    "خطة جديدة للتقنين.</p>")
    assert find(html).published_date == date(2026, 11, 16)


def test_time_element_near_the_title() -> None:
    html = page("", '<time datetime="2026-11-16T09:00:00+03:00">منذ أسبوع</time>')
    result = find(html)
    assert (result.published_date, result.date_source) == (date(2026, 11, 16), "dateline")
    assert result.published_at == datetime(2026, 11, 16, 6, 0, tzinfo=UTC)


def test_future_and_implausibly_old_dates_are_flagged() -> None:
    future = '<meta property="article:published_time" content="2026-12-25T10:00:00Z">'
    assert find(page(future)).flags == ["date_future"]
    old = '<meta property="article:published_time" content="1987-05-01T10:00:00Z">'
    assert find(page(old)).flags == ["date_implausible_old"]
    before_founding = '<meta property="article:published_time" content="2010-05-01T10:00:00Z">'
    assert find(page(before_founding), founded=date(2012, 1, 1)).flags == ["date_implausible_old"]
    assert find(page(before_founding)).flags == []


def test_a_plausible_source_wins_over_a_future_one_and_the_conflict_is_flagged() -> None:
    html = page('<meta property="article:published_time" content="2031-01-01T10:00:00Z">',
                '<span class="date">16 تشرين الثاني 2026</span>')
    result = find(html)
    assert (result.published_date, result.date_source) == (date(2026, 11, 16), "dateline")
    assert result.flags == ["date_conflict"]


def test_strong_sources_disagreeing_by_more_than_two_days_is_a_conflict() -> None:
    meta = '<meta property="article:published_time" content="2026-11-16T10:00:00+03:00">'
    close = find(page(meta, '<span class="date">17 تشرين الثاني 2026</span>'))
    far = find(page(meta, '<span class="date">10 تشرين الثاني 2026</span>'))
    assert (close.date_source, close.flags) == ("meta", [])
    # What the page shows its readers wins over a meta tag that disagrees, flagged.
    assert (far.published_date, far.date_source, far.flags) == (
        date(2026, 11, 10), "dateline", ["date_conflict"])


def test_without_a_title_heading_only_unanimous_dated_elements_count() -> None:
    one = ("<html><body><div class='post'><span class='post-date'>16/11/2026</span>"
           "<p>نص</p></div><div class='x'><span class='date'>16/11/2026</span></div></body></html>")
    two = one.replace("<span class='date'>16/11/2026", "<span class='date'>18/11/2026")
    assert find_published(one, "https://x.example/a", title=None, hints=[],
                          timezone="Asia/Damascus", now=NOW).published_date == date(2026, 11, 16)
    assert find_published(two, "https://x.example/a", title=None, hints=[],
                          timezone="Asia/Damascus", now=NOW).published_date is None


def test_junk_html_gives_no_page_evidence() -> None:
    result = find_published("not html at all", "https://x.example/2026/11/16/a", title=None,
                            hints=[], timezone="Asia/Damascus", now=NOW)
    assert (result.published_date, result.date_source) == (date(2026, 11, 16), "url")


# --- other languages, the label table, htmldate behind rasid's rules -----------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dienstag, 28. April 2020", date(2020, 4, 28)),
        ("4 de mayo de 2022 10:30", date(2022, 5, 4)),
        ("7 giugno 2021", date(2021, 6, 7)),
        ("1er mai 2020", date(2020, 5, 1)),
        ("24 Nisan 2020 Cuma", date(2020, 4, 24)),
        ("12 Şubat 2021", date(2021, 2, 12)),
        ("۱۴ آبان ۱۴۰۵ - ۵ نوامبر ۲۰۲۶", date(2026, 11, 5)),  # Solar Hijri first: not a year
        ("۲۴ آوریل ۲۰۲۰", date(2020, 4, 24)),
        ("١٢ ئایار ٢٠٢٦", date(2026, 5, 12)),
        ("14 تشرینی دووەم 2026", date(2026, 11, 14)),
        ("12 Gulan 2026", date(2026, 5, 12)),
        ("September 21, 2020", date(2020, 9, 21)),
    ],
)
def test_month_names_of_the_label_table(text: str, expected: date) -> None:
    assert parse_arabic_date(text) == expected


def test_a_solar_hijri_date_alone_dates_nothing() -> None:
    assert parse_arabic_date("۲۴ آبان ۱۴۰۵") is None


@pytest.mark.parametrize("line", [
    "تم نشره الجمعة 24 نيسان / أبريل 2020 09:22 مساءً",
    "Publié le vendredi 24 avril 2020 à 21:22",
    "Veröffentlicht am Freitag, 24. April 2020, 21:22 Uhr",
    "Yayınlanma: 24 Nisan 2020 Cuma 21:22",
    "Pubblicato il 24 aprile 2020 alle ore 21:22",
    "Publicado el 24 de abril de 2020, 21:22",
    "تاریخ انتشار: ۵ اردیبهشت ۱۳۹۹ - ۲۴ آوریل ۲۰۲۰",
])
def test_labelled_datelines_of_every_language(line: str) -> None:
    result = find(page(body=f"<p class='info'>{line}</p>"))
    assert (result.published_date, result.date_source) == (date(2020, 4, 24), "dateline")


def test_an_update_label_in_the_element_before_the_date_makes_it_an_update_stamp() -> None:
    html = page(body="<p><b>Aktualisiert am</b> 20.11.2026</p>")
    result = find(html)
    assert (result.published_date, result.flags) == (date(2026, 11, 20), ["date_from_update"])
    both = page(body="<p><b>Aktualisiert am</b> 20.11.2026</p><p>Veröffentlicht: 12.11.2026</p>")
    assert find(both).published_date == date(2026, 11, 12)


def test_a_footer_class_inside_the_article_is_the_articles_own() -> None:
    html = ("<html><body><div class='article'><h1>Neue Beratungsstelle in Köln eröffnet</h1>"
            "<div class='footer'><span class='news-list-date'><time datetime='2026-11-12'>"
            "12.11.2026</time></span></div><p>Text.</p></div>"
            "<div class='footer'><span class='date'>25.11.2026</span></div></body></html>")
    result = find_published(html, "https://x.example/a", title="Neue Beratungsstelle in Köln "
                            "eröffnet", hints=[], timezone="Europe/Berlin", now=NOW)
    assert result.published_date == date(2026, 11, 12)


def test_a_time_element_inside_the_headline_dates_the_article() -> None:
    title = "Neue Beratungsstelle in Köln eröffnet"
    html = (f"<html><body><article><h1><time datetime='2026-11-12'>12. November 2026</time>"
            f" {title}</h1><p>Text.</p></article></body></html>")
    result = find_published(html, "https://x.example/a", title=title, hints=[],
                            timezone="Europe/Berlin", now=NOW)
    assert result.published_date == date(2026, 11, 12)


def test_htmldate_counts_only_when_the_page_prints_its_day() -> None:
    # htmldate's answer from a copyright year (YYYY-01-01) is refused, and the row says why.
    html = ("<html><body><div><p>Some text about the harbour and the fishermen of the town, "
            "long enough to be an article.</p></div><div>© 2024 Example</div></body></html>")
    result = find_published(html, "https://x.example/a", title=None, hints=[],
                            timezone="Asia/Damascus", now=NOW)
    assert result.published_date is None
    assert result.flags in (["no_date_no_evidence"], ["no_date_bare_year"])
    # A date printed in the page, which rasid's own rules do not take as a dateline (no title
    # to stand by), but htmldate finds and the page confirms.
    printed = html.replace("<div>©", "<div class='entry-info'>Posted 12 Nov 2026</div><div>©")
    found = find_published(printed, "https://x.example/a", title=None, hints=[],
                           timezone="Asia/Damascus", now=NOW)
    assert (found.published_date, found.date_source) == (date(2026, 11, 12), "htmldate")


def test_a_scripts_publication_key_confirms_htmldate() -> None:
    html = ("<html><head><script>window.state = {\"article\": {\"published_at\": "
            "\"2026-11-12T06:00:00+01:00\"}};</script></head><body><div><p>Some text about the "
            "harbour and the fishermen of the town, long enough to be an article.</p></div>"
            "</body></html>")
    result = find_published(html, "https://x.example/a", title=None, hints=[],
                            timezone="Asia/Damascus", now=NOW)
    assert (result.published_date, result.date_source) == (date(2026, 11, 12), "htmldate")


def test_a_visible_date_years_from_the_meta_tag_or_its_day_month_swap_does_not_win() -> None:
    meta = '<meta property="article:published_time" content="2026-11-01T10:00:00+01:00">'
    years = find(page(meta, '<span class="date">16.11.2021</span>'))
    swapped = find(page(meta, '<span class="date">11.01.2026</span>'))
    assert (years.published_date, years.date_source) == (date(2026, 11, 1), "meta")
    assert (swapped.published_date, swapped.date_source) == (date(2026, 11, 1), "meta")


def test_a_numeric_date_may_end_a_sentence_but_not_a_longer_number() -> None:
    assert parse_arabic_date("Aktualisiert am 17.01.2026.") == date(2026, 1, 17)
    assert parse_arabic_date("نشر في 2026/01/17.") == date(2026, 1, 17)
    assert parse_arabic_date("Version 17.01.2026.4") is None


def test_a_dateline_whose_time_ends_with_a_clock_word_is_read() -> None:
    # The first paragraph opens with another day ("Am 22. Oktober ..."): the dateline under
    # the title is the publication date.
    title = "Neue Beratungsstelle in Köln eröffnet"
    html = (f"<html><body><article><h1>{title}</h1><div>19.11.2026 07:49 Uhr</div>"
            f"<p>Am 22. Oktober 2026 hatte der Stadtrat die neue Beratungsstelle beschlossen, "
            f"die nun in der Innenstadt ihre Türen öffnet und Familien berät.</p>"
            f"</article></body></html>")
    result = find_published(html, "https://x.example/a", title=title, hints=[],
                            timezone="Europe/Berlin", now=NOW)
    assert (result.published_date, result.date_source) == (date(2026, 11, 19), "dateline")


def test_a_dateline_line_inside_the_headline_dates_the_article() -> None:
    title = "Neue Beratungsstelle in Köln eröffnet"
    html = (f"<html><body><div class='news-single'><h1>{title}<br><small><span "
            f"class='icon'></span>&nbsp; 12.11.2026 • <span>Verband</span></small></h1>"
            f"<p>Text.</p></div></body></html>")
    result = find_published(html, "https://x.example/a", title=title, hints=[],
                            timezone="Europe/Berlin", now=NOW)
    assert (result.published_date, result.date_source) == (date(2026, 11, 12), "dateline")
    # A date the headline is about is not its dateline.
    about = html.replace(f"{title}<br>", "Wahl am 15.03.2027 angesetzt<br>").replace(
        " 12.11.2026 • ", " ")
    assert find_published(about, "https://x.example/a", title="Wahl am 15.03.2027 angesetzt",
                          hints=[], timezone="Europe/Berlin", now=NOW).published_date is None


def test_a_microformats_abbr_title_is_a_declared_date() -> None:
    html = page(body="<p>Posted at <abbr class='published' itemprop='datePublished' "
                     "title='2026-11-12T08:00:00-07:00'>08:00</abbr></p>")
    result = find(html)
    assert (result.published_date, result.date_source) == (date(2026, 11, 12), "dateline")


def test_htmldate_stands_when_the_dated_element_by_the_title_agrees_on_a_listing_page() -> None:
    # Dated elements of two days: the one above the title, and other stories' below the
    # article. htmldate names the first; it stands out when the others are much further away.
    title = "Der historische Purzelbaum im Stadtpark"

    def listing(sentences: int) -> str:
        others = "".join(f"<div class='teaser'><time datetime='2026-11-20 15:12'>20. November "
                         f"2026</time><p>{'Ein anderer Beitrag über die Stadt. ' * 30}</p></div>"
                         for _ in range(3))
        return (f"<html><body><ul><li class='artikeldatum'><time datetime='2026-11-25 16:11'>"
                f"25. November 2026 16:11 Uhr</time></li></ul>"
                f"<div>{'Navigation und Hinweise der Seite. ' * 12}</div><h2>{title}</h2>"
                f"<p>{'Der Text des Beitrags über den Purzelbaum und seine Geschichte. ' * sentences}"
                f"</p>{others}</body></html>")

    def found(html: str) -> tuple[date | None, str | None]:
        result = find_published(html, "https://x.example/a", title=title, hints=[],
                                timezone="Europe/Berlin", now=NOW)
        return result.published_date, result.date_source

    assert found(listing(30)) == (date(2026, 11, 25), "htmldate")
    # Other stories' dates nearly as near as the one above the title: a listing, no date.
    assert found(listing(8)) == (None, None)


def test_a_time_element_without_a_datetime_attribute_is_read_by_its_text() -> None:
    # Marked as a date, its text is read as a whole, not as a free-text dateline (which the
    # issue number before the date would rule out).
    result = find(page(body="<time>العدد 512، 16 تشرين الثاني 2026</time>"))
    assert (result.published_date, result.date_source) == (date(2026, 11, 16), "dateline")
