"""The pages of a small news site that publishes its rules: robots.txt with Sitemap: lines,
a homepage announcing its feed, a feed and a sitemap with validators, and articles."""

from __future__ import annotations

from tests.rules_site import RulesSite

ETAG = '"feed-v1"'
LAST_MODIFIED = "Wed, 02 Dec 2026 08:00:00 GMT"
PARAGRAPHS = (
    ("افتتحت البلدية صباح اليوم سوقاً جديدة للخضار في الحي الشرقي بعد أشهر من أعمال الترميم،"
     " وقال رئيس البلدية إن السوق تتسع لمئة وعشرين بائعاً وإن الرسوم ستبقى كما كانت."),
    ("وأضاف أن المرحلة الثانية من المشروع تشمل موقفاً للسيارات ومظلات تحمي الباعة من الشمس،"
     " على أن تنتهي قبل بداية الصيف المقبل إذا وصلت المواد في موعدها."),
    ("ورحب عدد من سكان الحي بالخطوة، بينما طالب آخرون بتوسيع الطريق المؤدي إلى السوق لأن"
     " الازدحام يشتد في ساعات الصباح الأولى."),
)


def article(n: int) -> str:
    body = "".join(f"<p>{p} ({n})</p>" for p in PARAGRAPHS)
    return (
        '<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">'
        f"<title>سوق جديدة رقم {n}</title>"
        '<meta property="article:published_time" content="2026-12-02T09:00:00+03:00">'
        f"</head><body><article><h1>سوق جديدة رقم {n}</h1>"
        '<time datetime="2026-12-02T09:00:00+03:00">2 كانون الأول 2026</time>'
        f"{body}</article></body></html>"
    )


def rss(base: str, paths: list[str]) -> str:
    items = "".join(
        f"<item><title>خبر {p}</title><link>{base}{p}</link>"
        "<pubDate>Wed, 02 Dec 2026 09:00:00 +0300</pubDate></item>" for p in paths)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>أخبار</title><link>{base}/</link>{items}</channel></rss>")


def urlset(base: str, paths: list[str]) -> str:
    urls = "".join(f"<url><loc>{base}{p}</loc><lastmod>2026-12-02</lastmod></url>" for p in paths)
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>')


def homepage(links: str) -> str:
    return (f'<!DOCTYPE html><html><head><title>الرئيسية</title>{links}</head>'
            "<body><p>أخبار المدينة</p></body></html>")


FEED_LINKS = (
    '<link rel="alternate" type="application/rss+xml" title="الأخبار" href="/feed.xml">'
    '<link rel="alternate" type="application/rss+xml" title="التعليقات" href="/comments/feed/">'
    '<link rel="stylesheet" href="/style.css">'
)

# In the feed; in the sitemap (listed by robots.txt); in both; disallowed by robots.txt.
IN_FEED = ["/news/1001.html", "/news/1002.html"]
IN_SITEMAP = ["/news/2001.html", "/archive/2002.html", "/news/1001.html"]
DISALLOWED = ["/news/private/3001.html", "/news/3002.html?replytocom=7"]
ROBOTS = (
    "User-agent: *\nDisallow: /news/private/\nDisallow: /*?replytocom=\nAllow: /\n\n"
    "Sitemap: /sitemaps/news.xml\n"
)


def publish(site: RulesSite, robots: str = ROBOTS) -> None:
    """Serve the whole site on ``site``."""
    base = site.base
    site.text("/robots.txt", robots)
    site.page("/", homepage(FEED_LINKS))
    site.text("/feed.xml", rss(base, IN_FEED + DISALLOWED[:1]), "application/rss+xml", etag=ETAG)
    site.text("/sitemaps/news.xml", urlset(base, IN_SITEMAP + DISALLOWED[1:]), "application/xml",
              last_modified=LAST_MODIFIED)
    for n, path in enumerate(sorted(set(IN_FEED + IN_SITEMAP + DISALLOWED))):
        site.page(path.split("?")[0], article(n))
