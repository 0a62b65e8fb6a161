"""A UTF-8 page with one cut character stays UTF-8; a windows-1256 page is not mistaken for it."""

from rasid.fetch.decoding import decode_html

ARABIC = "<html><body><p>" + "أعلنت المحافظة عن خطة جديدة لتأهيل المدارس في الريف. " * 20 + "</p></body></html>"


def test_one_broken_sequence_keeps_utf8() -> None:
    content = ARABIC.encode("utf-8") + "…".encode()[:2] + b"</html>"
    text, encoding, _ = decode_html(content, "text/html")
    assert encoding == "utf-8" and "أعلنت المحافظة" in text


def test_windows_1256_is_still_detected() -> None:
    text, encoding, _ = decode_html(ARABIC.encode("cp1256"), "text/html")
    assert encoding == "cp1256" and "أعلنت المحافظة" in text
