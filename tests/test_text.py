"""rasid.text: Arabic normalisation, script share, repetition, language and mojibake."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rasid.text import (
    arabic_ratio,
    body_hash,
    detect_language,
    detect_mojibake,
    normalize_arabic,
    remove_repetition,
    repair_mojibake,
    word_count,
)

P1 = "أعلنت مديرية الصحة في طرطوس افتتاح مركز جديد لغسيل الكلى في مشفى الباسل يضم عشرين جهازاً."
P2 = "وقال مدير الصحة إن المركز سيخفف الضغط عن مرضى الريف الذين كانوا يقطعون مسافات طويلة."
P3 = "وأضاف أن الكادر الطبي تلقى تدريباً خاصاً خلال الأشهر الثلاثة الماضية في مشافي دمشق."
P4 = "ومن المتوقع أن يستقبل المركز أول المرضى مطلع الأسبوع المقبل بعد استكمال الإجراءات."


# --- normalize_arabic -----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("variant", "plain"),
    [
        ("أحمد إلى آخر ٱلكتاب", "احمد الي اخر الكتاب"),  # alef forms, alef maqsura
        ("مدرسة", "مدرسه"),  # ta marbuta
        ("مسؤول بيئة", "مسوول بييه"),  # hamza seats
        ("الـــعـــربـــيـــة", "العربيه"),  # tatweel
        ("كَتَبَ الطُّلّابُ", "كتب الطلاب"),  # harakat and shadda
        ("٢٠٢٦ و ۱۴۰۵", "2026 و 1405"),  # Eastern Arabic and Persian digits
        ("کتاب یک", "كتاب يك"),  # Persian kaf and ya
        ("  سطر\n\tثان  ", "سطر ثان"),  # whitespace
        ("Hello WORLD", "hello world"),
    ],
)
def test_normalize_arabic_folds_spelling_variants(variant: str, plain: str) -> None:
    assert normalize_arabic(variant) == plain


def test_normalize_arabic_makes_two_spellings_of_one_sentence_equal() -> None:
    careful = "أعلنت الهيئةُ العامّة إنشاءَ مستشفى جديدٍ في الرقة"
    hurried = "اعلنت الهيئه العامه انشاء مستشفي جديد في الرقه"
    assert normalize_arabic(careful) == normalize_arabic(hurried)


# --- arabic_ratio, body_hash, word_count ------------------------------------------------------

def test_arabic_ratio_counts_letters_only() -> None:
    assert arabic_ratio("مرحبا 2026!") == 1.0
    assert arabic_ratio("abcd عربي") == pytest.approx(4 / 8)
    assert arabic_ratio("2026 - 11") == 0.0
    assert arabic_ratio("") == 0.0


def test_body_hash_ignores_spelling_and_spacing_but_not_wording() -> None:
    assert body_hash("أعلنت الوزارة\nالخطة") == body_hash("اعلنت   الوزاره الخطه")
    assert body_hash("أعلنت الوزارة الخطة") != body_hash("أعلنت الوزارة الموازنة")
    assert len(body_hash("")) == 64


def test_word_count_skips_punctuation_tokens() -> None:
    assert word_count("قال المدير - في بيان - إن 20 مدرسة") == 7
    assert word_count("") == 0


# --- remove_repetition ------------------------------------------------------------------------

def test_body_followed_by_itself_as_one_block_is_stored_once() -> None:
    body = "\n".join([P1, P2, P3, f"{P1} {P2} {P3}"])
    cleaned, share = remove_repetition(body)
    assert cleaned == "\n".join([P1, P2, P3])
    assert share == pytest.approx(0.5, abs=0.01)


def test_block_printed_before_the_paragraphs_keeps_the_paragraphs() -> None:
    cleaned, share = remove_repetition("\n".join([f"{P1} {P2} {P3}", P1, P2, P3]))
    assert cleaned == "\n".join([P1, P2, P3])
    assert share > 0.4


def test_paragraphs_printed_twice_are_stored_once() -> None:
    cleaned, share = remove_repetition("\n".join([P1, P2, P3, P1, P2, P3]))
    assert cleaned == "\n".join([P1, P2, P3])
    assert share == pytest.approx(0.5, abs=0.01)


def test_paragraph_doubled_in_place_is_stored_once() -> None:
    cleaned, share = remove_repetition("\n".join([P1, P1, P2]))
    assert cleaned == "\n".join([P1, P2])
    assert 0 < share < 0.5


def test_paragraph_that_is_its_own_text_twice_is_halved() -> None:
    cleaned, share = remove_repetition(f"{P1} {P1}\n{P2}")
    assert cleaned == f"{P1}\n{P2}"
    assert share > 0.3


def test_near_copy_with_a_small_edit_is_repetition() -> None:
    long_paragraph = " ".join([P1, P2, P3])
    edited = long_paragraph.replace("عشرين جهازاً", "20 جهازاً")
    cleaned, _ = remove_repetition("\n".join([long_paragraph, P4, edited]))
    assert cleaned == "\n".join([long_paragraph, P4])


def test_leading_title_is_dropped_without_counting_as_repetition() -> None:
    title = "افتتاح مركز لغسيل الكلى في طرطوس"
    cleaned, share = remove_repetition("\n".join([title, P1, P2]), f"{title} - صحيفة الساحل")
    assert cleaned == "\n".join([P1, P2])
    assert share == 0.0


def test_title_printed_again_inside_the_body_counts_as_repetition() -> None:
    title = "افتتاح مركز جديد لغسيل الكلى في محافظة طرطوس"
    cleaned, share = remove_repetition("\n".join([title, title, P1, P2]), title)
    assert cleaned == "\n".join([P1, P2])
    assert share > 0


def test_honest_short_repeats_are_kept() -> None:
    # A recurring interview question, and short separators, are not duplication.
    question = "ما الذي دفعك إلى الكتابة؟"
    body = "\n".join([question, P1, "***", question, P2, "***"])
    cleaned, share = remove_repetition(body)
    assert cleaned == body
    assert share == 0.0


def test_a_page_built_of_recurring_items_keeps_them() -> None:
    # A week's programme repeats the same long items on different days: that is its content.
    morning = "برنامج الصباح: جولة في المدينة القديمة وزيارة سوق الحميدية والجامع الأموي مع دليل محلي."
    evening = "برنامج المساء: عشاء في مطعم تقليدي مع عرض للموسيقى الشعبية وحكايات الحكواتي."
    days = ["السبت", "الأحد", "الاثنين", "الثلاثاء", "الأربعاء"]
    body = "\n".join(f"{day}\n{morning}\nاستراحة حرة\n{evening}" for day in days)
    assert remove_repetition(body) == (body, 0.0)


def test_empty_body() -> None:
    assert remove_repetition("") == ("", 0.0)
    assert remove_repetition("\n \n") == ("", 0.0)


POOL = [P1, P2, P3, P4,
        "وتعمل ورشات الصيانة على إصلاح شبكة الكهرباء في الأحياء الشرقية منذ مطلع الشهر الحالي.",
        "وأشار التقرير إلى ارتفاع إنتاج الحمضيات في الساحل بنسبة تقارب خمسة عشر بالمئة."]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(POOL), min_size=1, max_size=6, unique=True))
def test_any_body_repeated_whole_is_cleaned_back_to_itself(paragraphs: list[str]) -> None:
    body = "\n".join(paragraphs)
    cleaned, share = remove_repetition(f"{body}\n{body}")
    assert cleaned == body
    assert 0.45 <= share <= 0.55
    assert remove_repetition(cleaned) == (cleaned, 0.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(POOL + ["***", "صور"]), max_size=10))
def test_cleaning_only_removes_whole_lines_and_reports_a_share(paragraphs: list[str]) -> None:
    cleaned, share = remove_repetition("\n".join(paragraphs))
    assert 0.0 <= share <= 1.0
    assert all(line in paragraphs for line in cleaned.splitlines())
    assert set(paragraphs) == set(cleaned.splitlines()) or share > 0


# --- detect_language ---------------------------------------------------------------------------

ARABIC = ("أعلنت وزارة التربية أن العام الدراسي سيبدأ في الأسبوع الأول من أيلول، مع خطة لترميم "
          "المدارس التي تضررت خلال السنوات الماضية.")
PERSIAN = ("وزارت آموزش و پرورش اعلام کرد که سال تحصیلی جدید از هفته اول مهر آغاز می‌شود و "
           "برنامه‌ای برای بازسازی مدرسه‌ها نیز در نظر گرفته شده است.")
URDU = ("وزارت تعلیم نے اعلان کیا ہے کہ نیا تعلیمی سال ستمبر کے پہلے ہفتے سے شروع ہوگا اور "
        "اسکولوں کی مرمت کا منصوبہ بھی تیار ہے۔")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (ARABIC, "ar"),
        (PERSIAN, "fa"),
        (URDU, "ur"),
        ("The ministry of education announced that the new school year will start in the "
         "first week of September.", "en"),
        ("Le ministère de l'éducation a annoncé que la nouvelle année scolaire commencera la "
         "première semaine de septembre.", "fr"),
        (f"{ARABIC} Reuters AFP", "ar"),
    ],
)
def test_detect_language(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_detect_language_uses_html_lang_only_to_break_ties() -> None:
    assert detect_language("سلام", "fa") == "fa"
    assert detect_language("سلام", "ar") == "ar"
    assert detect_language(PERSIAN, "ar") == "fa"


def test_detect_language_of_nothing_is_none() -> None:
    assert detect_language("") is None
    assert detect_language("2026 - 11 - 16") is None


# --- mojibake ---------------------------------------------------------------------------------

def _utf8_as_cp1252(text: str) -> str:
    # What a decoder that falls back to latin-1 for cp1252's five undefined bytes shows.
    return "".join(bytes([b]).decode("cp1252") if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
                   else chr(b) for b in text.encode("utf-8"))


@pytest.mark.parametrize(
    "misread",
    [
        lambda text: text.encode("utf-8").decode("latin-1"),
        _utf8_as_cp1252,
        lambda text: text.encode("cp1256").decode("latin-1"),
    ],
    ids=["utf8-as-latin1", "utf8-as-cp1252", "cp1256-as-latin1"],
)
def test_misdecoded_arabic_is_detected_and_repaired(misread: Callable[[str], str]) -> None:
    garbled = misread(f"<p>{ARABIC}</p> <p>{P1}</p>")
    assert detect_mojibake(garbled)
    assert repair_mojibake(garbled) == f"<p>{ARABIC}</p> <p>{P1}</p>"


@pytest.mark.parametrize(
    "text",
    [
        ARABIC,
        "Les élèves ont été très contents à Noël, où ça? Über die Straße für Größe.",
        "<script>var accents = 'àáâäçèéêëìíîïòóôöùúûüñ àèìòù áéíóú';</script><p>Plain text</p>",
        "A price of 5 € and a quote: “fine” — that’s all.",
    ],
)
def test_clean_text_is_not_mojibake(text: str) -> None:
    assert not detect_mojibake(text)
    assert repair_mojibake(text) == text


def test_only_the_misread_parts_of_a_mixed_text_are_repaired() -> None:
    garbled = P2.encode("utf-8").decode("latin-1")
    mixed = f"{ARABIC}\n{garbled}\nCafé"
    assert repair_mojibake(mixed) == f"{ARABIC}\n{P2}\nCafé"


def test_irreversible_mojibake_is_detected_but_left_alone() -> None:
    lossy = ARABIC.encode("utf-8").decode("cp1252", errors="replace")
    assert detect_mojibake(lossy)
    repaired = repair_mojibake(lossy)
    assert "\ufffd" in repaired  # the lost bytes stay lost; nothing invented
    assert arabic_ratio(repaired) > arabic_ratio(lossy)
