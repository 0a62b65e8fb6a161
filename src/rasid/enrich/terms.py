"""Words as the enrich stage compares them: Arabic-normalised, light-stemmed, stop words out.

Two outlets telling one event share few exact word forms: one writes "الحريق", another
"وبالحريق", a third "حرائق". Folding spelling variants (rasid.text.normalize_arabic), peeling
the clitics و ف ب ك ل ال off and stemming with Snowball's Arabic stemmer brings the forms of a
word together; English words go through Snowball's English stemmer. Stop words and the
reporting verbs every article uses ("قال", "أضاف", "مصادر") carry no topic and are dropped
for story vectors, but kept for phrase search (watchlists).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from functools import lru_cache

import snowballstemmer

from rasid.text import normalize_arabic

_WORD = re.compile(r"[^\W\d_]{2,}")
_ARABIC_LETTER = re.compile("[\u0621-\u064a]")
# Harakat, tatweel and invisible controls, removed before stemming; the stemmer's own rules
# expect ta marbuta and alef maqsura intact, so the full folding comes after it.
_MARKS = re.compile("[\u0640\u064b-\u065f\u0670\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
# Conjunction or preposition glued before the article: the stemmer peels "ال" but not "وال".
_CLITIC_ARTICLE = re.compile("^(?:[وف]?[بك]?)ال(?=..)")
_LIL = re.compile("^[وف]?لل(?=..)")  # ل + ال written "لل": "للمدينة" is "ل" + "المدينة"

_ARABIC_STOP = set(normalize_arabic("""
في من على إلى الى عن مع هذا هذه ذلك تلك هؤلاء الذي التي الذين اللذين اللتين اللواتي ما ماذا
لم لن لا ليس ليست كان كانت يكون تكون كانوا قد لقد أن إن أنه إنه أنها إنها أنهم لكن بل ثم أو أم
كما حيث حين بين بعد قبل خلال عند منذ حتى أي كل بعض غير سوى أيضا فقط وقد وكان وكانت وهو وهي
هو هي هم هن نحن أنا أنت عليه عليها فيه فيها منه منها إليه إليها لها له لهم به بها بهم وفي ومن
وعلى وإلى وعن ومع التي الى اذا إذا لو كي عندما بينما تم يتم تمت جرى يجري وقال قال قالت يقول
تقول أضاف أضافت وأضاف وأضافت أكد أكدت وأكد وأكدت أوضح أوضحت وأوضح أشار أشارت وأشار وأشارت
أفاد أفادت ذكر ذكرت وذكر وذكرت أعلن أعلنت وأعلن وأعلنت بحسب حسب وفق وفقا نقلا مصدر مصادر
المصدر المصادر وكالة الوكالة مراسل مراسلنا الأنباء أنباء اليوم أمس غدا حاليا الآن عدد عددا
نحو حوالي قرابة أكثر أقل عدة جميع مختلف إطار ضمن لدى لدي عبر دون تجاه إثر جراء بسبب نتيجة
أمام وراء فوق تحت داخل خارج حول ضد يوم صباح مساء ظهر ليلة الساعة ساعة ساعات وذلك وهذا وهذه
ولم ولن ولا ولكن فلم فقد كما مما فيما بينها بينهم كذلك ايضا إلا الا وإن وأن وان لأن لان أنّ
""").split())

_ENGLISH_STOP = set("""
a an the and or but if of in on at to from by for with about as into over after before
between under during without within is are was were be been being has have had do does did
it its this that these those he she they them his her their we our you your i me my not no
so than then there here which who whom whose what when where why how all any both each more
most other some such only own same can will would should could may might must said says
say told according also just up down out off again further once very s t
""".split())

_arabic = snowballstemmer.stemmer("arabic")
_english = snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The stem of one word, already lower-cased; Arabic stems come out normalize_arabic'd."""
    if not _ARABIC_LETTER.search(word):
        return str(_english.stemWord(word))
    word = _MARKS.sub("", unicodedata.normalize("NFKC", word))
    word = _CLITIC_ARTICLE.sub("ال", word)
    word = _LIL.sub("ال", word)
    # Writers swap a final ta marbuta for ha ("المدينه"); the stemmer strips either as a
    # suffix when it is one, so reading a final ha as ta marbuta brings the two spellings together.
    if word.endswith("ه") and len(word) > 3:
        word = word[:-1] + "ة"
    return normalize_arabic(str(_arabic.stemWord(word)))


def words(text: str) -> list[str]:
    """The text's words in order, lower-cased; numbers and one-letter tokens left out."""
    return _WORD.findall(text.casefold())


@lru_cache(maxsize=200_000)
def is_stop(word: str) -> bool:
    return normalize_arabic(word) in _ARABIC_STOP or word in _ENGLISH_STOP


def stems(text: str, *, drop_stop_words: bool = True) -> list[str]:
    """The stems of the text's words in order (stop words out unless told otherwise)."""
    return [stem(w) for w in words(text) if not (drop_stop_words and is_stop(w))
            and len(w) > 2]


def term_counts(title: str | None, body: str, *, lead_words: int = 250,
                title_weight: int = 3) -> Counter[str]:
    """How often each stem occurs where an article says what happened: title and lead.

    The lead (the first ``lead_words`` words) tells the event; later paragraphs add background
    that similar events share ("وكانت المدينة شهدت حريقاً مماثلاً العام الماضي"). The title
    counts ``title_weight`` times: it is the outlet's own summary.
    """
    counts: Counter[str] = Counter()
    for term in stems(title or ""):
        counts[term] += title_weight
    lead = " ".join(body.split()[:lead_words])
    counts.update(stems(lead))
    return counts


def weigh(counts: Counter[str], idf: dict[str, float], default_idf: float) -> dict[str, float]:
    """A unit-length vector of log-scaled term frequency times inverse document frequency."""
    vector = {t: (1.0 + math.log(c)) * idf.get(t, default_idf) for t, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {t: v / norm for t, v in vector.items()} if norm else {}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())
