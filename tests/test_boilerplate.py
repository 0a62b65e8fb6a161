"""Bylines and copyright footers that trafilatura keeps are page furniture only at the edges."""

from rasid.extract import strip_boilerplate

STORY = "أعلنت إدارة المدينة الصناعية أن عشرات المعامل عادت إلى العمل بعد تأهيل الشبكات"


def test_byline_and_copyright_at_the_edges_are_dropped() -> None:
    body = f"بقلم: رنا الحلبي\n{STORY}\n© 2026 حلب أونلاين — جميع الحقوق محفوظة"
    assert strip_boilerplate(body) == STORY


def test_english_byline_and_rights_line_are_dropped() -> None:
    body = "By: Jane Roe\nThe bridge reopened on Monday.\nCopyright 2026 Furat Post. All rights reserved."
    assert strip_boilerplate(body) == "The bridge reopened on Monday."


def test_the_same_words_inside_the_story_stay() -> None:
    middle = "كتب الشاعر قصيدته عن المدينة ثم غادر إلى بيروت في العام ألفين وأربعة"
    body = "\n".join([STORY, STORY + " أولاً", STORY + " ثانياً", middle, STORY + " ثالثاً", STORY + " رابعاً", STORY + " خامساً"])
    assert middle in strip_boilerplate(body).splitlines()
