"""The enrich stage's cost per article, and how it grows to 100,000 articles.

    python benchmarks/enrich.py [--sizes 10000 100000] [--per-day 1000] [--batch 500]

Articles are made from the sentences of the golden test articles (tests/golden/enrich),
with a share of the words swapped for others and for words of the article's event, and the
event's town as dateline, so the text has real Arabic words, clitics and place names; ten
articles tell each event, 300 to 600 words each, ``--per-day`` of them a day. They go through the stage as a run sends them: batch
by batch, mentions found, terms stemmed, stories assigned against the open ones, every
watchlist of watchlists.yaml evaluated. Printed: CPU seconds of this process (steadier than
wall time on a shared machine; one thread), milliseconds per article, how time grew from one
size to the next (linear: 10x the articles, 10x the time), and the open stories held.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from datetime import date, timedelta
from pathlib import Path

import yaml

from rasid.enrich.analyse import analyse
from rasid.enrich.mentions import default_matcher
from rasid.enrich.stories import Assigner
from rasid.enrich.watchlists import load_watchlists

ROOT = Path(__file__).resolve().parent.parent
LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
TOWNS = ["حلب", "حمص", "حماة", "دمشق", "اللاذقية", "طرطوس", "إدلب", "الرقة", "دير الزور",
         "الحسكة", "درعا", "السويداء", "القامشلي", "منبج", "عفرين", "دوما", "جرمانا", "بانياس"]


def sentences() -> list[str]:
    found = []
    for name in ("stories.yaml", "stories_more.yaml"):
        data = yaml.safe_load((ROOT / "tests/golden/enrich" / name).read_text(encoding="utf-8"))
        for article in data["articles"]:
            found += [s.strip() for s in re.split(r"(?<=[.،])\s+", article["body"]) if s.strip()]
    return found


def make_articles(count: int, per_day: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    pool = sentences()
    words = sorted({w for s in pool for w in s.split()})
    start = date(2026, 1, 1)
    articles = []
    event: dict = {}
    for n in range(count):
        if n % 10 == 0:  # a new event: a town, a day, its own words, sentences retold
            event = {"town": rng.choice(TOWNS), "core": rng.sample(pool, 6),
                     "words": ["".join(rng.choices(LETTERS, k=rng.randint(3, 7)))
                               for _ in range(20)],
                     "day": start + timedelta(days=n // per_day)}
        body = []
        while sum(len(s.split()) for s in body) < rng.randint(300, 600):
            sentence = rng.choice(event["core"] if rng.random() < 0.8 else pool)
            tokens = [rng.choice(words if rng.random() < 0.3 else event["words"])
                      if rng.random() < 0.35 else w for w in sentence.split()]
            body.append(" ".join(tokens))
        body[0] = f"{event['town']} - {body[0]}"  # the dateline
        articles.append({"id": f"{n:032x}", "source": f"outlet{n % 7}", "day": event["day"],
                         "title": f"{' '.join(rng.sample(event['words'], 3))} "
                                  f"{' '.join(rng.sample(words, 3))} في {event['town']}",
                         "body": "\n".join(body)})
    return articles


def run(articles: list[dict], batch: int) -> tuple[float, int]:
    matcher = default_matcher()
    watchlists = load_watchlists(ROOT / "watchlists.yaml")
    assigner = Assigner()
    began = time.process_time()
    for start in range(0, len(articles), batch):
        analysed = [analyse(matcher, article_id=a["id"], source=a["source"], day=a["day"],
                            title=a["title"], body=a["body"])
                    for a in articles[start:start + batch]]
        assigner.assign([a.doc for a in analysed])
        for item in analysed:
            for watchlist in watchlists:
                watchlist.matches(item.words)
    return time.process_time() - began, len(assigner.stories)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--per-day", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    default_matcher()  # built once per process, as in a run: not counted per article
    previous = None
    for size in args.sizes:
        articles = make_articles(size, args.per_day)
        cpu, open_stories = run(articles, args.batch)
        per = 1000 * cpu / size
        grew = f", {cpu / previous[1]:.1f}x the time for {size / previous[0]:.0f}x the articles" \
            if previous else ""
        print(f"{size:>7} articles: {cpu:7.1f} s CPU, {per:.2f} ms per article, "
              f"{open_stories} stories open at the end{grew}")
        previous = (size, cpu)


if __name__ == "__main__":
    main()
