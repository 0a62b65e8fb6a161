"""Arabic-aware text utilities: normalisation, script share, repetition, language, mojibake.

Everything here is pure (str in, values out) so extraction, de-duplication and the quality
checks agree on what "the same text" and "Arabic" mean.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache
from typing import Any

# --- normalisation ------------------------------------------------------------------------

# Spelling variants that Arabic writers (and keyboards) use interchangeably; folding them lets
# a syndicated copy with other hamza or ta-marbuta habits hash and compare as the same text.
_FOLD = (
    ("أ", "ا"), ("إ", "ا"), ("آ", "ا"), ("ٱ", "ا"), ("ٲ", "ا"), ("ٳ", "ا"),
    ("ى", "ي"), ("ئ", "ي"), ("ی", "ي"), ("ې", "ي"),
    ("ة", "ه"), ("ۀ", "ه"),
    ("ؤ", "و"),
    ("ک", "ك"),
    *((chr(0x0660 + i), str(i)) for i in range(10)),
    *((chr(0x06F0 + i), str(i)) for i in range(10)),
)
# Tatweel, harakat, dagger alef, Quranic annotation marks and invisible bidi/joiner controls:
# they change how text looks, never what it says.
_INVISIBLE = re.compile(
    "[\u0640\u064b-\u065f\u0670\u0610-\u061a\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed"
    "\u200b-\u200f\u202a-\u202e\u2066-\u2069\u061c\ufeff]"
)


def normalize_arabic(text: str) -> str:
    """A comparison key: same wording → same string, whatever the spelling habits."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    # One str.replace per variant: tens of times faster than str.translate with a dict
    # table on non-ASCII text, and this runs on every line of every page.
    for variant, base in _FOLD:
        text = text.replace(variant, base)
    return " ".join(text.split()).casefold()


# Headings and lead-ins of boxes that list other articles ("اقرأ أيضاً", "أخبار ذات صلة",
# "الأكثر قراءة"), matched against normalize_arabic(text): such a line is not this article's
# text (rasid.extract), and what follows it carries other articles' dates (rasid.dates).
OTHER_STORIES = re.compile(
    r"^(?:(?:اقرا|طالع|شاهد)\s+(?:ايضا|المزيد)\b"
    r"|(?:مواضيع|اخبار|مقالات|مواد) (?:ذات صله|مشابهه|متعلقه)"
    r"|قد (?:يهمك|يعجبك)\b"
    r"|الاكثر (?:قراءه|مشاهده|تداولا|تعليقا)$)"
)
_NOT_ALNUM = re.compile(r"[\W_]+")


def _tight(text: str) -> str:
    """Letters and digits only: punctuation and spacing differ between copies of a text."""
    return _NOT_ALNUM.sub("", normalize_arabic(text))


# --- script, size, identity ---------------------------------------------------------------

_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")


def arabic_ratio(text: str) -> float:
    """Arabic-script letters among all letters; 0.0 when the text has no letters."""
    letters = sum(ch.isalpha() for ch in text)
    arabic = sum(ch.isalpha() for ch in _ARABIC_SCRIPT.findall(text))
    return arabic / letters if letters else 0.0


def body_hash(body: str, *, normalized: bool = False) -> str:
    """sha256 of the normalised body (``normalized``: it has been through normalize_arabic)."""
    key = body if normalized else normalize_arabic(body)
    # surrogatepass: a lone surrogate (JSON's "\ud800" decodes to one) still hashes, stably.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def word_count(text: str) -> int:
    return sum(1 for token in text.split() if any(ch.isalnum() for ch in token))


# --- repetition inside one page -----------------------------------------------------------

MIN_REPEAT_CHARS = 20  # shorter lines ("***", "صور", a one-word answer) may repeat honestly
# A copy this long is repetition; a shorter exact copy (a recurring interview question, a
# list item) counts only next to its original or inside a run of copies.
LONG_REPEAT_CHARS = 100
_SHINGLE = 4  # words per shingle when judging a near-copy
_NEAR_COPY_SHARE = 0.85  # a paragraph this much made of earlier shingles is a copy
_MIN_NEAR_COPY_WORDS = 20
# A page that repeats itself in many separate places is built that way (a schedule, a menu,
# an interview series); a broken page repeats itself in one or two blocks.
MAX_COPY_RUNS = 3
# Per paragraph: new text; a short exact copy; a long, contained or near copy; a copy that is
# repetition wherever it stands (a block echo, a copy of the previous paragraph or the title).
ORIGINAL, SHORT_COPY, COPY, SURE_COPY = 0, 1, 2, 3


def _shingles(normalized: str) -> set[tuple[str, ...]]:
    """Of a paragraph already put through normalize_arabic."""
    words = re.sub(r"[^\w\s]", " ", normalized).split()
    if len(words) < _MIN_NEAR_COPY_WORDS:
        return set()
    return {tuple(words[i:i + _SHINGLE]) for i in range(len(words) - _SHINGLE + 1)}


def title_variants(title: str | None) -> list[str]:
    """The title, and its longest part when a site name is glued on ("عنوان - الموقع")."""
    if not title or not title.strip():
        return []
    return [title, max(re.split(r"\s+[|\-–—:]\s+", title), key=len)]


def _title_keys(title: str | None) -> set[str]:
    return {key for t in title_variants(title) if len(key := _tight(t)) >= 8}


def _halved(paragraph: str, key: str) -> str:
    """The first half of a paragraph that is the same text twice in a row, else as is.
    ``key``: the paragraph's _tight()."""
    half = len(key) // 2
    if len(key) < 2 * MIN_REPEAT_CHARS or len(key) % 2 or key[:half] != key[half:]:
        return paragraph
    seen = 0
    for index, ch in enumerate(paragraph):
        seen += len(_tight(ch))
        if seen == half:
            marks = re.match(r"[^\w\s]*", paragraph[index + 1:])  # harakat, final stop
            return paragraph[: index + 1] + (marks.group() if marks else "")
    return paragraph


def _echo_blocks(keys: list[str]) -> set[int]:
    """Paragraphs that restate, as one block, text that later paragraphs give split up.

    Dropping the block rather than the paragraphs keeps the readable, paragraphed copy
    whichever of the two a site prints first.
    """
    joined = "".join(keys)
    echoes, end = set(), 0
    for index, key in enumerate(keys):
        end += len(key)
        later = keys[index + 1:]
        if (len(key) >= LONG_REPEAT_CHARS and joined.find(key, end) >= 0
                and not any(key in other for other in later)):
            echoes.add(index)
    return echoes


def _classify(normalized: list[str], keys: list[str], title_keys: set[str]) -> list[int]:
    """ORIGINAL, SHORT_COPY, COPY or SURE_COPY, per paragraph (given normalize_arabic'd)."""
    echoes = _echo_blocks(keys)
    # Where each text first appeared; None for the title, whose further copies are repetition.
    first_index: dict[str, int | None] = dict.fromkeys(title_keys)
    seen_text = ""
    seen_shingles: set[tuple[str, ...]] = set()
    kinds = []
    for index, (paragraph, key) in enumerate(zip(normalized, keys, strict=True)):
        if index in echoes:
            kinds.append(SURE_COPY)
            continue
        shingles = _shingles(paragraph)
        near_copy = bool(shingles) and (
            len(shingles & seen_shingles) / len(shingles) >= _NEAR_COPY_SHARE)
        if len(key) < MIN_REPEAT_CHARS:
            kind = ORIGINAL
        elif key in first_index and first_index[key] in (None, index - 1):
            kind = SURE_COPY
        elif near_copy or (len(key) >= LONG_REPEAT_CHARS and key in seen_text):
            kind = COPY
        else:
            kind = SHORT_COPY if key in first_index else ORIGINAL
        kinds.append(kind)
        first_index.setdefault(key, index)
        seen_text += key
        seen_shingles |= shingles
    return kinds


def _repetition(kinds: list[int]) -> list[bool]:
    """Which paragraphs to drop, given what each one is."""
    copies = [kind in (SHORT_COPY, COPY) for kind in kinds]
    runs = sum(1 for i, copy in enumerate(copies) if copy and (i == 0 or not copies[i - 1]))
    if runs > MAX_COPY_RUNS:
        return [kind == SURE_COPY for kind in kinds]
    padded = [ORIGINAL, *kinds, ORIGINAL]
    return [kind in (COPY, SURE_COPY)
            or (kind == SHORT_COPY and not padded[i] == padded[i + 2] == ORIGINAL)
            for i, kind in enumerate(kinds)]


def remove_repetition(body: str, title: str | None = None) -> tuple[str, float]:
    """Store a body once: drop the title heading, doubled paragraphs and repeated blocks.

    Returns the cleaned body and the share of characters (0..1) that were repetition. A
    leading copy of the title is the heading extractors copy into the text: it is dropped
    but not counted; any further copy of the title is.
    """
    paragraphs = [line.strip() for line in body.splitlines() if line.strip()]
    title_keys = _title_keys(title)
    if len(paragraphs) > 1 and _tight(paragraphs[0]) in title_keys:
        paragraphs = paragraphs[1:]  # the heading, already stored as the title
    total = sum(len(p) for p in paragraphs)
    if not total:
        return "", 0.0
    # Each paragraph is normalised once; only one cut in half is normalised again.
    normalized = [normalize_arabic(p) for p in paragraphs]
    keys = [_NOT_ALNUM.sub("", n) for n in normalized]
    for index, (paragraph, key) in enumerate(zip(paragraphs, keys, strict=True)):
        if (half := _halved(paragraph, key)) is not paragraph:
            paragraphs[index], normalized[index] = half, normalize_arabic(half)
            keys[index] = _NOT_ALNUM.sub("", normalized[index])
    kinds = _classify(normalized, keys, title_keys)
    kept = [p for p, drop in zip(paragraphs, _repetition(kinds), strict=True) if not drop]
    removed = total - sum(len(p) for p in kept)
    return "\n".join(kept), round(removed / total, 4)


# --- language -----------------------------------------------------------------------------

# Letters each language writes and the others do not (in careful modern orthography).
_LETTERS = {
    "ar": set("ةيكى"),
    "fa": set("پچژگیک"),
    "ur": set("ٹڈڑںےہھ"),
}
_WORDS = {
    "ar": set("في من على إلى الى التي الذي أن ان عن هذا هذه مع كان قد لم بين وقد".split()),
    "fa": set("است این که را از با برای می های شود کرد بود آن ما نیز".split()),
    "ur": set("ہے کے کی میں اور سے کو نے ہیں یہ تھا پر".split()),
}
# Latin- and other-script languages a monitored outlet plausibly publishes in; restricting
# the classifier keeps short texts from landing on rare look-alike languages.
LATIN_LANGUAGES = ["en", "fr", "de", "es", "it", "pt", "nl", "tr", "id", "ru", "he", "ku"]


# Characters read: enough to tell languages apart, cheap on long bodies. langid reads every
# byte in a Python loop; 2,000 answer as 3,000 did on every page of the extraction corpus
# whose language it is set to tell, in half the time.
_LANGUAGE_SAMPLE = 2000


def detect_language(text: str, html_lang: str | None = None) -> str | None:
    """ISO 639-1 code of the text; ``html_lang`` only breaks ties. None for empty text."""
    sample = text[:_LANGUAGE_SAMPLE]
    letters = sum(ch.isalpha() for ch in sample)
    if not letters:
        return None
    hint = (html_lang or "").split("-")[0].strip().lower() or None
    arabic = sum(ch.isalpha() for ch in _ARABIC_SCRIPT.findall(sample))
    if arabic * 2 >= letters:
        return _arabic_script_language(sample, arabic, hint)
    return _other_language(sample, hint)


def _arabic_script_language(text: str, letters: int, hint: str | None) -> str:
    words = re.findall(r"[^\W\d_]+", text)
    scores = {}
    for lang in ("ar", "fa", "ur"):
        letter_share = sum(text.count(ch) for ch in _LETTERS[lang]) / letters
        word_share = sum(w in _WORDS[lang] for w in words) / max(len(words), 1)
        scores[lang] = letter_share + 2 * word_share
    ranked = sorted(scores, key=scores.__getitem__, reverse=True)
    best, runner_up = ranked[0], ranked[1]
    if scores[best] - scores[runner_up] < 0.01 and hint in (best, runner_up):
        return hint
    return best if scores[best] > 0 else (hint if hint in scores else "ar")


@lru_cache(maxsize=1)
def _identifier() -> Any:
    # A private identifier: restricting the module-level one would change it for every caller.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(LATIN_LANGUAGES)
    return identifier


def _other_language(text: str, hint: str | None) -> str:
    lang, confidence = _identifier().classify(text)
    if confidence < 0.6 and hint and re.fullmatch(r"[a-z]{2}", hint):
        return hint
    return str(lang)


# --- mojibake -----------------------------------------------------------------------------

# A single-byte decoding turns each non-ASCII byte into one character: latin-1 gives
# U+0080-U+00FF, cp1252 gives the same except for its own symbols at 0x80-0x9F ("€", "…").
_TO_BYTE = {chr(b): b for b in range(0x80, 0x100)}
_TO_BYTE.update(
    {ch: b for b in range(0x80, 0xA0) if (ch := bytes([b]).decode("cp1252", "replace")) != "\ufffd"}
)
_HIGH_RUN = re.compile("[" + re.escape("".join(sorted(_TO_BYTE))) + "]+")
# UTF-8 Arabic is a byte D8-DB followed by a continuation byte: "Ø§", "Ù„" once misread.
_CONTINUATION = "".join(sorted(ch for ch, b in _TO_BYTE.items() if b < 0xC0))
_UTF8_ARABIC = re.compile("[\u00d8-\u00db][" + re.escape(_CONTINUATION) + "]")
# Whole words made only of À-ÿ letters: how windows-1256 Arabic looks once read as latin-1.
_LATIN1_WORD = re.compile(r"\b[\u00c0-\u00ff]{2,}\b")
_ANY_LATIN1_WORD = re.compile(r"[^\W\d_]*[\u00c0-\u00ff][^\W\d_]*")
# Scripts and styles hold character tables ("àáâäçèéêë") that prove nothing about the text.
_CODE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.I | re.S)
_MIN_LATIN1_WORDS = 10
# Cheap stand-ins for the two patterns above: every sign starts with one of these leads, and
# every whole latin-1 word holds a pair of À-ÿ letters.
_UTF8_LEAD = "\u00d8\u00d9\u00da\u00db"
_LATIN1_PAIR = re.compile("[\u00c0-\u00ff][\u00c0-\u00ff]")  # faster than {2} here
_MIN_SIGNS = 3


def _as_bytes(run: str) -> bytes:
    return bytes(_TO_BYTE[ch] for ch in run)


def _misreading(text: str) -> str | None:
    """Which wrong decoding the text shows: "utf-8" or "cp1256" read as latin-1, or None."""
    if text.isascii():
        return None
    # Necessary conditions, checked on the whole text first: taking the scripts out only
    # removes matches, and most pages (correct Arabic, European languages) stop here.
    if (sum(map(text.count, _UTF8_LEAD)) < _MIN_SIGNS
            and len(_LATIN1_PAIR.findall(text)) < _MIN_LATIN1_WORDS):
        return None
    visible = _CODE.sub(" ", text)
    if len(_UTF8_ARABIC.findall(visible)) >= _MIN_SIGNS:
        return "utf-8"
    # windows-1256 Arabic read as latin-1 is words made only of À-ÿ letters ("ÇáÚÑÈíÉ");
    # European text has such letters inside words ("für", "été"), rarely as whole words.
    if _ARABIC_SCRIPT.search(visible):
        return None
    whole = len(_LATIN1_WORD.findall(visible))
    if whole >= _MIN_LATIN1_WORDS and whole * 2 >= len(_ANY_LATIN1_WORD.findall(visible)):
        return "cp1256"
    return None


def detect_mojibake(text: str) -> bool:
    """True when the text looks like Arabic decoded with the wrong single-byte charset."""
    return _misreading(text) is not None


def _fix_utf8(run: str) -> str:
    try:
        return _as_bytes(run).decode("utf-8")
    except UnicodeDecodeError:
        return run  # not reversible: leave it as it is


def _fix_cp1256(run: str) -> str:
    fixed = _as_bytes(run).decode("cp1256")
    has_letters = any(ch.isalpha() for ch in fixed)
    return fixed if not has_letters or arabic_ratio(fixed) >= 0.6 else run


def repair_mojibake(text: str) -> str:
    """Undo a wrong single-byte decoding of Arabic, run by run, where it is reversible.

    Each run of misread characters is fixed on its own (ASCII is the same in every charset
    involved), so correctly decoded parts of a mixed text are left untouched.
    """
    misreading = _misreading(text)
    if misreading is None:
        return text
    fix = _fix_utf8 if misreading == "utf-8" else _fix_cp1256
    return _HIGH_RUN.sub(lambda match: fix(match.group()), text)

