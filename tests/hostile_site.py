"""A hostile news site on loopback: the ways the web breaks, served beside good articles.

One real HTTP/1.1 server on 127.0.0.1 (a thread per connection) is the source "hostile-news".
Its feed lists good Arabic articles next to pages that never answer, drip forever (the body or
the headers), reset the connection, end early, redirect in circles, too often, out of the
allowlist or to no URL at all, never end, explode when inflated, lie about their charset or
name one Python cannot decode with, or are not text at all; its other feeds and sitemaps are
malformed, endless, self-referencing, in windows-1256 under a UTF-8 declaration, or carry XML
entity tricks; its robots.txt keeps crawlers out of /private/. Beside it, on the same host,
"hostile-sections" has no feed: its one section page declares an undecodable charset and nests
100,000 levels deep. And:

- a port that listens but never accepts (its backlog is full), so connecting times out: the
  source "unreachable-news";
- a listener on 127.0.0.2, the same port, outside the allowlist: it only counts connections,
  and there must never be one.

Every large body is generated while it is sent, so nothing big exists on either side unless the
client keeps it. The tables below (``GOOD``, ``FAULTS``, ``DOCUMENT_FAULTS``) say what a
correct crawler makes of each path; tests/test_hostile.py holds rasid to them.
"""

from __future__ import annotations

import functools
import gzip
import random
import socket
import socketserver
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import yaml
from jinja2 import FileSystemLoader
from markupsafe import Markup

from rasid.demo import render

HOST = "127.0.0.1"
OUTSIDE = "127.0.0.2"  # loopback, but not in the allowlist: nothing may ever connect to it
SOURCE = "hostile-news"
SECTIONS_SOURCE = "hostile-sections"  # the same host, without feeds: links are read from pages
UNREACHABLE = "unreachable-news"
STALL_SECONDS = 60.0  # how long a stalling route waits; stop() wakes it at once
DRIP_SECONDS = 0.2  # between two bytes of a drip
HUGE_BYTES = 5 * 1024**3  # what the multi-gigabyte routes announce or send
CHUNK = 64 * 1024
DEEP = 100_000  # nesting levels of the deep page


# --- what a correct crawler makes of each path --------------------------------------------


@dataclass(frozen=True)
class Good:
    """An article that must be stored; ``phrase`` must survive decoding and extraction."""

    path: str
    title: str
    paragraphs: tuple[str, ...]
    hours_ago: int
    charset: str = "utf-8"  # the bytes on the wire
    content_type: str = "text/html; charset=utf-8"  # what the server claims
    stored_in_run: int = 1  # 2: the first run fails on it (a 5xx burst), the next stores it

    @property
    def phrase(self) -> str:
        return self.paragraphs[0].split("،")[0]


@dataclass(frozen=True)
class Fault:
    """A URL that cannot give an article: the reasons a crawler may record for it, and whether
    the next run should try it again (timeouts, 5xx, resets) or not (404, too large, ...)."""

    path: str
    reasons: frozenset[str]
    retryable: bool


def _fault(path: str, *reasons: str, retryable: bool) -> Fault:
    return Fault(path, frozenset(reasons), retryable)


GOOD = (
    Good("/news/electricity-aleppo", "عودة التيار الكهربائي إلى أحياء حلب الشرقية", (
        "أعلنت مديرية الكهرباء في حلب، صباح اليوم، عودة التيار إلى معظم الأحياء الشرقية بعد "
        "انقطاع دام أسبوعاً كاملاً بسبب عطل في محطة التحويل الرئيسية قرب المدينة الصناعية.",
        "وقال مدير المؤسسة إن فرق الصيانة عملت على مدار الساعة لاستبدال المحولات المتضررة، "
        "وإن ساعات التقنين ستعود إلى جدولها المعتاد اعتباراً من مطلع الأسبوع المقبل.",
    ), 2),
    Good("/news/exam-dates", "وزارة التربية تحدد موعد امتحانات الشهادة الثانوية", (
        "حددت وزارة التربية موعد امتحانات الشهادة الثانوية بفروعها كافة في الأسبوع الأول من "
        "حزيران، ودعت الطلاب إلى مراجعة مدارسهم لاستلام بطاقات الامتحان قبل الموعد بعشرة أيام.",
        "وأوضحت الوزارة في بيانها أن المراكز الامتحانية جُهزت بالمقاعد والمراوح، وأن لجان "
        "المراقبة ستضم مدرسين من محافظات أخرى ضماناً لنزاهة العملية الامتحانية.",
    ), 3),
    Good("/news/bakeries-damascus", "أفران دمشق تمدد ساعات العمل لتخفيف الازدحام", (
        "قررت المؤسسة العامة للمخابز تمديد ساعات العمل في أفران دمشق الحكومية حتى منتصف الليل، "
        "بعد شكاوى متكررة من طوابير طويلة أمام منافذ البيع في أحياء المزة والميدان وركن الدين.",
        "وأكد مسؤول في المؤسسة أن مخصصات الطحين كافية لتغطية الطلب، وأن وردية إضافية من العمال "
        "ستبدأ عملها يوم الأحد لتسريع الإنتاج وتقليل فترات الانتظار.",
    ), 4),
    Good("/news/book-fair-latakia", "معرض للكتاب في اللاذقية يستقبل آلاف الزوار", (
        "افتتح في اللاذقية معرض الكتاب السنوي بمشاركة أكثر من ستين دار نشر محلية وعربية، "
        "وشهد يومه الأول إقبالاً لافتاً من طلاب الجامعات والعائلات رغم ارتفاع أسعار الكتب.",
        "ويتضمن برنامج المعرض ندوات أدبية وأمسيات شعرية وورشات للأطفال في الرسم وكتابة القصة، "
        "ويستمر عشرة أيام في صالة المعارض الكبرى قرب الكورنيش الجنوبي.",
    ), 5),
    # Its charset label is wrong: windows-1256 bytes called UTF-8.
    Good("/news/euphrates-level", "ارتفاع منسوب نهر الفرات يقلق المزارعين في دير الزور", (
        "ارتفع منسوب نهر الفرات خلال الأيام الماضية إلى مستويات لم يشهدها منذ سنوات، ما دفع "
        "مزارعي الضفة اليسرى إلى نقل مضخاتهم وآلياتهم بعيداً عن مجرى النهر خشية الفيضان.",
        "وطالب المزارعون الجهات المعنية بتدعيم السواتر الترابية وتأمين أكياس الرمل للقرى "
        "القريبة من النهر، فيما وعدت مديرية الموارد المائية بإرسال فرق للكشف على الأضرار.",
    ), 6, charset="cp1256"),
    # No charset anywhere: windows-1256 bytes, to be recognised from the bytes alone.
    Good("/news/clinic-homs", "افتتاح مستوصف جديد في ريف حمص الشمالي", (
        "افتتحت مديرية الصحة في حمص مستوصفاً جديداً في ريف المحافظة الشمالي، يقدم خدمات "
        "الإسعاف الأولي واللقاحات ورعاية الحوامل لسكان عشر قرى كانوا يقطعون مسافات طويلة للعلاج.",
        "وقال رئيس البلدية إن الأهالي تبرعوا بالأرض التي بني عليها المستوصف، وإن الكادر الطبي "
        "يضم طبيبين وخمس ممرضات سيتناوبون على العمل طوال أيام الأسبوع.",
    ), 7, charset="cp1256", content_type="text/html"),
    # A lying label: UTF-8 bytes that the header calls windows-1256 and the page ISO-8859-1.
    Good("/news/karama-wins", "فريق الكرامة يفوز على ضيفه بهدفين نظيفين", (
        "حقق فريق الكرامة فوزاً مستحقاً على ضيفه بهدفين نظيفين في المباراة التي جمعتهما على "
        "ملعب خالد بن الوليد، ليرتقي إلى المركز الثالث في ترتيب الدوري الممتاز لكرة القدم.",
        "وسجل الهدفين لاعب الوسط الشاب في الشوطين الأول والثاني، وسط حضور جماهيري كبير ملأ "
        "المدرجات رغم البرد، فيما أشاد المدرب بانضباط لاعبيه في الخطوط الخلفية.",
    ), 8, content_type="text/html; charset=windows-1256"),
    # Answers 429 with Retry-After the first time, then the page.
    Good("/news/beach-tartus", "بلدية طرطوس تطلق حملة لتنظيف الشاطئ", (
        "أطلقت بلدية طرطوس حملة واسعة لتنظيف الشاطئ الرملي الممتد جنوب المدينة، بمشاركة "
        "متطوعين من الجمعيات الأهلية وطلاب المدارس الذين جمعوا أطناناً من البلاستيك والنفايات.",
        "وقالت البلدية إن الحملة ستتكرر كل شهر حتى بداية موسم الاصطياف، وإنها ستضع حاويات "
        "جديدة على طول الكورنيش وتمنع رمي المخلفات تحت طائلة المخالفة.",
    ), 9),
    # Two answers 500 (then two 503) before the page: more than one run's retries allow.
    Good("/news/vegetables-hama", "أسعار الخضار تتراجع في أسواق حماة", (
        "تراجعت أسعار الخضار في أسواق حماة الشعبية مع بداية الموسم الزراعي الجديد، وانخفض سعر "
        "البندورة والخيار إلى النصف تقريباً مقارنة بالشهر الماضي بسبب وفرة الإنتاج المحلي.",
        "ويرى تجار سوق الهال أن الانخفاض مؤقت وسيعود الارتفاع مع بدء التصدير إلى المحافظات "
        "الأخرى، بينما يأمل الأهالي أن تستمر الأسعار الحالية حتى نهاية الصيف.",
    ), 10, stored_in_run=2),
    # A label Python knows but cannot decode with ("undefined" always fails).
    Good("/news/olive-harvest", "موسم قطاف الزيتون يبدأ مبكراً في عفرين", (
        "بدأ مزارعو عفرين قطاف الزيتون قبل موعده المعتاد بأسبوعين، بعد موجة حر طويلة أنضجت "
        "الثمار باكراً، وسط توقعات بإنتاج أقل من العام الماضي بسبب شح الأمطار في الربيع.",
        "وتعمل معاصر المنطقة بطاقتها الكاملة منذ أيام، ويشكو أصحابها من ارتفاع أجور العمال "
        "وتكاليف النقل، فيما يأمل المزارعون أن تعوض الأسعار الجيدة قلة المحصول.",
    ), 14, content_type="text/html; charset=undefined"),
    Good("/news/graduate-studies", "جامعة دمشق تفتح باب التسجيل في الدراسات العليا", (
        "أعلنت جامعة دمشق فتح باب التسجيل في برامج الماجستير والدكتوراه للعام الدراسي المقبل، "
        "على أن تقدم الطلبات إلكترونياً عبر موقع الجامعة خلال مدة أقصاها ثلاثة أسابيع.",
        "وأشارت الجامعة إلى زيادة عدد المقاعد في كليات الهندسة والطب والاقتصاد، وإلى منح "
        "دراسية جديدة للطلاب المتفوقين من أبناء المحافظات البعيدة عن العاصمة.",
    ), 11, stored_in_run=2),
)

# The article behind /news/hop/N: reached through a short redirect chain it is stored, through
# a long one it is too many redirects.
HOPPED = Good("/news/hop/0", "ورشة عمل حول إدارة المياه في السويداء", (
    "نظمت مديرية الموارد المائية في السويداء ورشة عمل حول ترشيد استهلاك المياه، شارك فيها "
    "مهندسون ومزارعون ناقشوا طرق الري بالتنقيط وإعادة تأهيل الآبار القديمة في المحافظة.",
    "وخلصت الورشة إلى توصيات أبرزها إنشاء سدود صغيرة لحصاد مياه الأمطار، وتقديم قروض "
    "ميسرة للمزارعين الذين يتحولون إلى أساليب الري الحديثة خلال العام المقبل.",
), 12)
SHORT_CHAIN = "/news/hop/3"

# A real article inside 100,000 nested elements: stored or quarantined, never a crash.
NESTED = Good("/news/deep-nesting", "مبادرة شبابية لزراعة الأشجار في القنيطرة", (
    "أطلق شباب متطوعون في القنيطرة مبادرة لزراعة ألف شجرة زيتون وسنديان على جوانب الطرق "
    "الزراعية، بدعم من مديرية الزراعة التي قدمت الغراس والأسمدة مجاناً للمشاركين.",
    "ويقول منظمو المبادرة إنهم يسعون إلى تعويض ما خسرته المنطقة من أشجار خلال السنوات "
    "الماضية، وإلى إشراك طلاب المدارس في رعاية الغراس حتى تكبر.",
), 13)

# The only article of the links-only source, linked from a section page that declares an
# undecodable charset and then nests 100,000 levels deep.
LINKED = Good("/2026/11/28/dam-repairs-daraa", "بدء أعمال ترميم سد درعا الشرقي", (
    "بدأت ورشات مديرية الموارد المائية أعمال ترميم جسم سد درعا الشرقي، بعد تشققات ظهرت في "
    "جداره الأمامي خلال الشتاء الماضي وأثارت مخاوف سكان القرى الواقعة أسفل السد.",
    "وقال المهندس المشرف إن الأعمال تشمل حقن الشقوق بالإسمنت وتدعيم قناة التصريف، على أن "
    "تنتهي قبل موسم الأمطار المقبل بكلفة تتحملها الموازنة الاستثمارية للمحافظة.",
), 15)
SECTION_PAGE = "/sections/"

# Listed only in a windows-1256 feed whose XML declaration says UTF-8.
IN_LYING_FEED = Good("/news/rain-forecast", "توقعات بهطول أمطار غزيرة على المناطق الساحلية", (
    "توقعت المديرية العامة للأرصاد الجوية هطول أمطار غزيرة على المناطق الساحلية والوسطى "
    "خلال اليومين القادمين، مع انخفاض ملحوظ في درجات الحرارة ورياح نشطة على المرتفعات.",
    "ودعت المديرية المزارعين إلى حماية البيوت البلاستيكية وتصريف المياه من الأراضي "
    "المنخفضة، كما نبهت السائقين إلى الحذر على الطرق الجبلية بسبب الضباب الكثيف.",
), 16)
LYING_FEED = "/feeds/lying-charset.xml"

FAULTS = (
    _fault("/news/slow-headers", "timeout", retryable=True),
    _fault("/news/drip-body", "deadline_exceeded", "timeout", retryable=True),
    _fault("/news/drip-headers", "deadline_exceeded", "timeout", retryable=True),
    _fault("/news/reset", "connection_error", retryable=True),
    _fault("/news/cut-short", "connection_error", "truncated_body", retryable=True),
    _fault("/news/truncated-gzip", "truncated_body", "connection_error", retryable=True),
    _fault("/news/always-500", "http_500", retryable=True),
    _fault("/news/always-503", "http_503", retryable=True),
    _fault("/news/always-429", "http_429", "rate_limited", retryable=True),
    _fault("/news/gone", "http_404", retryable=False),
    _fault("/news/loop-a", "redirect_loop", retryable=False),
    _fault("/news/hop/15", "too_many_redirects", retryable=False),
    _fault("/news/escape", "blocked_address", retryable=False),
    _fault("/news/bad-redirect", "bad_redirect", retryable=False),
    _fault("/news/huge", "too_large", retryable=False),
    _fault("/news/endless", "too_large", retryable=False),
    _fault("/news/bomb", "too_large", retryable=False),
    _fault("/news/not-gzip", "bad_content_encoding", retryable=False),
    _fault("/news/brotli", "bad_content_encoding", retryable=False),
    _fault("/news/png", "not_html", retryable=False),
    _fault("/news/random-bytes", "not_html", retryable=False),
    _fault("/private/leaked-memo", "robots_disallowed", retryable=False),
)

# Feeds and sitemaps that cannot be read. The feed /feed.xml, the sitemap /sitemaps/news.xml
# and the index /sitemap.xml (which lists itself) are fine.
DOCUMENT_FAULTS = (
    _fault("/feeds/broken.xml", "bad_feed", retryable=False),
    _fault("/feeds/laughs.xml", "bad_feed", retryable=False),
    _fault("/feeds/external-entity.xml", "bad_feed", retryable=False),
    _fault("/feeds/endless.xml", "too_large", retryable=False),
    _fault("/feeds/stalled.xml", "timeout", retryable=True),
    _fault("/feeds/bad-redirect.xml", "bad_redirect", retryable=False),
    _fault("/sitemaps/truncated.xml.gz", "bad_sitemap", retryable=False),
    _fault("/sitemaps/bomb.xml.gz", "bad_sitemap", retryable=False),
    _fault("/sitemaps/laughs.xml", "bad_sitemap", retryable=False),
    _fault("/sitemaps/huge.xml", "too_large", retryable=False),
    _fault("/sitemaps/missing.xml", "http_404", retryable=False),
)
FEEDS = ["/feed.xml", LYING_FEED,
         *(f.path for f in DOCUMENT_FAULTS if f.path.startswith("/feeds/"))]
SITEMAPS = ["/sitemap.xml"]
SITEMAP_CHILDREN = ["/sitemap.xml", "/sitemaps/news.xml", "/sitemaps/cycle-a.xml",
                    *(f.path for f in DOCUMENT_FAULTS if f.path.startswith("/sitemaps/"))]
ROBOTS = "User-agent: *\nDisallow: /private/\n"


# --- the pages --------------------------------------------------------------------------------


# The well-formed pages and documents come from templates, rendered as the demo site's are; the
# broken ones below are written by hand, since breaking them is the point.
_TEMPLATES = render.environment(FileSystemLoader(Path(__file__).with_name("hostile_templates")))


def _page(article: Good, published: datetime, *, depth: int = 0) -> str:
    nesting = {"open": Markup("<div>" * depth), "close": Markup("</div>" * depth)}
    return _TEMPLATES.get_template("article.html.j2").render(
        article=article, published=published, nesting=nesting)


def _section_page(base: str) -> str:
    links = (f'<a href="{base}{LINKED.path}">{LINKED.title}</a>'
             '<a href="/private/2026/11/28/memo">مذكرة</a>')
    return ('<html><head><meta charset="undefined"><title>أقسام</title></head><body>'
            + links + "<div>" * DEEP + links + "</div>" * DEEP + "</body></html>")


def _rss(items: list[tuple[str, datetime]], base: str, about: Good | None = None) -> str:
    """A feed of ``items``; with ``about``, every item carries its title and first paragraph."""
    return _TEMPLATES.get_template("feed.xml.j2").render(items=items, base=base, about=about)


def _urlset(paths: list[str], base: str) -> str:
    return _TEMPLATES.get_template("urlset.xml.j2").render(paths=paths, base=base)


def _index(paths: list[str], base: str) -> str:
    return _TEMPLATES.get_template("sitemap-index.xml.j2").render(paths=paths, base=base)


LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
              for i in range(1, 10))
    + "]>"
)


@functools.cache
def _inflating_bomb() -> bytes:
    """A .gz file of 64 MiB of zeros: about 64 KiB on the wire, beyond discovery's cap."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(CHUNK * 16)
    return b"".join([packer.compress(zeros) for _ in range(64)] + [packer.flush()])


def _endless_zeros_gzip() -> Iterator[bytes]:
    """A gzip stream of zeros that never ends: each chunk inflates a thousandfold."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(CHUNK * 16)
    while True:
        yield packer.compress(zeros) + packer.flush(zlib.Z_SYNC_FLUSH)


def _endless(head: str, item: Callable[[int], str]) -> Iterator[bytes]:
    yield head.encode()
    n = 0
    while True:
        n += 1
        yield "".join(item(n + i) for i in range(200)).encode()


# --- the server -------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    site: HostileSite

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall without a network.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = HOST, int(self.server_address[1])

    def handle_error(self, request: object, client_address: object) -> None:
        """Quiet: clients hanging up on a drip or a 5 GiB body is the point."""


Route = Callable[["_Handler"], None]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    count: int  # how many times this path was asked for, this request included
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:  # the name http.server dispatches to
        site = self.server.site
        path = urlsplit(self.path).path
        with site.lock:
            site.hits[path] += 1
            self.count = site.hits[path]
        site.routes.get(path, _Handler.not_found)(self)

    def log_message(self, format: str, *args: object) -> None:
        """Silent."""

    # -- answers -------------------------------------------------------------------------

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def not_found(self) -> None:
        self.reply(404, "غير موجود".encode(), {"Content-Type": "text/plain; charset=utf-8"})

    def stream(self, chunks: Iterator[bytes], headers: dict[str, str],
               length: int | None = None) -> None:
        """Send chunks as they are made, until the client hangs up (or ``length`` is sent)."""
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header(*(("Content-Length", str(length)) if length is not None
                           else ("Transfer-Encoding", "chunked")))
        self.end_headers()
        self.close_connection = True
        sent = 0
        try:
            for chunk in chunks:
                if self.server.site.stopping.is_set() or (length is not None and sent >= length):
                    return
                self.wfile.write(chunk if length is not None
                                 else b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except OSError:  # the client stopped reading, as it should
            return

    def stall(self) -> None:
        self.server.site.stopping.wait(STALL_SECONDS)
        self.close_connection = True

    def drip(self, data: bytes) -> None:
        try:
            for byte in data:
                if self.server.site.stopping.wait(DRIP_SECONDS):
                    break
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        except OSError:
            pass
        self.close_connection = True

    def reset(self) -> None:
        """Abort the connection: SO_LINGER 0 makes close() send a TCP RST."""
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True


class HostileSite:
    """The hostile site, its connect-timeout port and its 127.0.0.2 tripwire; a context manager."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.stopping = threading.Event()
        self.outside_connections = 0
        self.now = datetime.now(UTC).replace(microsecond=0)
        self._server = _Server((HOST, 0), _Handler)
        self._server.site = self
        self.port = int(self._server.server_address[1])
        self.base = f"http://{HOST}:{self.port}"
        self._blackhole, self._fillers = _blackhole()
        self.blackhole_base = f"http://{HOST}:{self._blackhole.getsockname()[1]}"
        self._outside = socket.create_server((OUTSIDE, self.port))
        self._outside.settimeout(0.1)
        self.routes = self._routes()
        self._threads = [
            threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True),
            threading.Thread(target=self._count_outside, daemon=True),
        ]

    def __enter__(self) -> HostileSite:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join()
        for sock in (self._outside, self._blackhole, *self._fillers):
            sock.close()

    # -- what the tests read -------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.base + path

    def published(self, article: Good) -> datetime:
        return self.now - timedelta(hours=article.hours_ago)

    def article_paths(self) -> list[str]:
        """Everything the feed lists: good pages, the short and long chains, the faults."""
        return [a.path for a in GOOD] + [SHORT_CHAIN, NESTED.path] + [f.path for f in FAULTS]

    def sources_yaml(self) -> str:
        # Every fault is served by this one host on purpose, and each fault's own reason is
        # what the tests read: the rule that sets a failing host aside for the run (tested in
        # tests/test_unresponsive_hosts.py) would record most of them as host_unresponsive.
        patient = {"host_failure_limit": 1000}
        hostile = {
            "id": SOURCE, "name": "الأخبار العدائية", "homepage": self.url("/"),
            "feeds": [self.url(p) for p in FEEDS], "sitemaps": [self.url(p) for p in SITEMAPS],
            "language": "ar", "timezone": "Asia/Damascus", "min_delay_seconds": 0,
            "max_concurrency": 4, **patient,
        }
        sections = {
            "id": SECTIONS_SOURCE, "name": "أقسام عدائية", "homepage": self.url(SECTION_PAGE),
            "min_delay_seconds": 0, **patient,
        }
        unreachable = {
            "id": UNREACHABLE, "name": "موقع لا يرد", "homepage": self.blackhole_base + "/",
            "feeds": [self.blackhole_base + "/feed.xml"], "min_delay_seconds": 0,
        }
        return yaml.safe_dump({"sources": [hostile, sections, unreachable]}, allow_unicode=True)

    # -- serving ---------------------------------------------------------------------------

    def _count_outside(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._outside.accept()
            except (TimeoutError, OSError):
                continue
            with self.lock:
                self.outside_connections += 1
            conn.close()

    def _routes(self) -> dict[str, Route]:
        routes: dict[str, Route] = {"/robots.txt": _text(ROBOTS, "text/plain")}
        routes |= self._document_routes()
        for article in (*GOOD, HOPPED, NESTED, LINKED, IN_LYING_FEED):
            routes[article.path] = self._article_route(article)
        routes[SECTION_PAGE] = _bytes(_section_page(self.base).encode(), "text/html")
        for hops in range(1, 16):
            routes[f"/news/hop/{hops}"] = _redirect(f"/news/hop/{hops - 1}")
        routes |= _fault_routes(self)
        return routes

    def _article_route(self, article: Good) -> Route:
        html = _page(article, self.published(article),
                     depth=DEEP if article is NESTED else 0).encode(article.charset)
        page = _bytes(html, article.content_type)
        if article.path == "/news/beach-tartus":
            return _first(1, _status(429, {"Retry-After": "1"}), page)
        if article.stored_in_run == 2:
            status = 500 if article.path.endswith("hama") else 503
            return _first(2, _status(status), page)
        return page

    def _document_routes(self) -> dict[str, Route]:
        base = self.base
        listed = [(p, self.now - timedelta(hours=1 + i)) for i, p in enumerate(self.article_paths())]
        good_paths = [a.path for a in GOOD[:3]]
        item = "<item><link>{base}/news/endless/{n}</link></item>"
        entry = "<url><loc>{base}/news/endless/{n}</loc></url>"
        truncated = gzip.compress(_urlset(good_paths, base).encode())
        return {
            "/feed.xml": _text(_rss(listed, base), "application/rss+xml"),
            LYING_FEED: _bytes(_rss([(IN_LYING_FEED.path, self.published(IN_LYING_FEED))], base,
                                    IN_LYING_FEED).encode("cp1256"), "application/rss+xml"),
            "/feeds/broken.xml": _text('<rss version="2.0"><channel><item><link>'
                                       f"{base}/news/exam-dates</link><item></channel>\x00\x01",
                                       "application/rss+xml"),
            "/feeds/laughs.xml": _text(LAUGHS + "<rss><channel><title>&lol9;</title></channel></rss>",
                                       "application/rss+xml"),
            "/feeds/external-entity.xml": _text(
                f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY leak SYSTEM "http://{OUTSIDE}:'
                f'{self.port}/stolen">]><rss><channel><item><link>&leak;</link></item>'
                "</channel></rss>", "application/rss+xml"),
            "/feeds/endless.xml": lambda h: h.stream(
                _endless("<rss><channel>", lambda n: item.format(base=base, n=n)),
                {"Content-Type": "application/rss+xml"}),
            "/feeds/stalled.xml": _Handler.stall,
            "/feeds/bad-redirect.xml": _redirect("http://[::1"),
            "/sitemap.xml": _text(_index(SITEMAP_CHILDREN, base), "application/xml"),
            "/sitemaps/news.xml": _text(_urlset(good_paths, base), "application/xml"),
            "/sitemaps/cycle-a.xml": _text(_index(["/sitemaps/cycle-b.xml"], base), "application/xml"),
            "/sitemaps/cycle-b.xml": _text(_index(["/sitemaps/cycle-a.xml", "/sitemap.xml"], base),
                                           "application/xml"),
            "/sitemaps/truncated.xml.gz": _bytes(truncated[: len(truncated) // 2], "application/gzip"),
            "/sitemaps/bomb.xml.gz": lambda h: _bytes(_inflating_bomb(), "application/gzip")(h),
            "/sitemaps/laughs.xml": _text(LAUGHS + "<urlset><url><loc>&lol9;</loc></url></urlset>",
                                          "application/xml"),
            "/sitemaps/huge.xml": lambda h: h.stream(
                _endless('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
                         lambda n: entry.format(base=base, n=n)),
                {"Content-Type": "application/xml"}, length=HUGE_BYTES),
        }


def _fault_routes(site: HostileSite) -> dict[str, Route]:
    html = _page(GOOD[0], site.now).encode()
    gzipped = gzip.compress(html)
    return {
        "/news/slow-headers": _Handler.stall,
        "/news/drip-body": lambda h: _drip_body(h, html),
        "/news/drip-headers": lambda h: h.drip(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + b"X-Padding: drip\r\n" * 1000),
        "/news/reset": lambda h: _partial(h, html, then=_Handler.reset),
        "/news/cut-short": lambda h: _partial(h, html, then=lambda h: None),
        "/news/truncated-gzip": _bytes(gzipped[: len(gzipped) // 2], "text/html; charset=utf-8",
                                       {"Content-Encoding": "gzip"}),
        "/news/always-500": _status(500),
        "/news/always-503": _status(503, {"Retry-After": "1"}),
        "/news/always-429": _status(429, {"Retry-After": "1"}),
        "/news/loop-a": _redirect("/news/loop-b"),
        "/news/loop-b": _redirect(f"{site.base}/news/loop-a"),
        "/news/escape": _redirect(f"http://{OUTSIDE}:{site.port}{GOOD[0].path}"),
        "/news/bad-redirect": _redirect("http://[::1"),
        "/news/huge": lambda h: h.stream(_endless("<html><body>", lambda n: "<p>حشو</p>"),
                                         {"Content-Type": "text/html"}, length=HUGE_BYTES),
        "/news/endless": lambda h: h.stream(_endless("<html><body>", lambda n: "<p>حشو</p>"),
                                            {"Content-Type": "text/html; charset=utf-8"}),
        "/news/bomb": lambda h: h.stream(_endless_zeros_gzip(), {"Content-Type": "text/html",
                                                                 "Content-Encoding": "gzip"}),
        "/news/not-gzip": _bytes(html, "text/html; charset=utf-8", {"Content-Encoding": "gzip"}),
        "/news/brotli": _bytes(html, "text/html; charset=utf-8", {"Content-Encoding": "br"}),
        "/news/png": _bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(4096),
                            "text/html; charset=utf-8"),
        # No magic number, hardly a NUL: what an encrypted or compressed blob looks like.
        "/news/random-bytes": _bytes(random.Random(8).randbytes(16384), "text/html"),
        "/private/leaked-memo": _bytes(html, "text/html; charset=utf-8"),
    }


def _bytes(body: bytes, content_type: str, headers: dict[str, str] | None = None) -> Route:
    return lambda h: h.reply(200, body, {"Content-Type": content_type, **(headers or {})})


def _text(body: str, content_type: str) -> Route:
    return _bytes(body.encode("utf-8"), f"{content_type}; charset=utf-8")


def _status(status: int, headers: dict[str, str] | None = None) -> Route:
    return lambda h: h.reply(status, b"", headers)


def _redirect(location: str) -> Route:
    return lambda h: h.reply(302, b"", {"Location": location})


def _first(times: int, first: Route, then: Route) -> Route:
    """``first`` for the first ``times`` requests of the path, ``then`` afterwards."""
    return lambda h: (first if h.count <= times else then)(h)


def _drip_body(handler: _Handler, html: bytes) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(html)))
    handler.end_headers()
    handler.drip(html)


def _partial(handler: _Handler, html: bytes, then: Route) -> None:
    """Announce the whole page, send a third of it, then ``then`` (reset or close)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(html)))
    handler.end_headers()
    handler.wfile.write(html[: len(html) // 3])
    handler.close_connection = True
    then(handler)


def _blackhole() -> tuple[socket.socket, list[socket.socket]]:
    """A listening socket whose accept queue is full: the kernel drops new SYNs, so a client's
    connect times out (it is never refused)."""
    sock = socket.socket()
    sock.bind((HOST, 0))
    sock.listen(0)
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(sock.getsockname())
        fillers.append(filler)
    time.sleep(0.05)  # let the handshakes complete and fill the queue
    return sock, fillers
