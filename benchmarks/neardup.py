"""Near-duplicate clustering at scale: 10,000 and 100,000 synthetic articles.

    python benchmarks/neardup.py [--sizes 10000 100000] [--batch 200] [--copies 0.1]

Articles are random texts over a Zipf-distributed vocabulary of Arabic-looking words (so common
words recur across articles, as they do in news), 150 to 600 words long. A share of them
(--copies) are syndicated copies of an earlier article: a dateline in front, a passage dropped,
a few words changed, some hamza and ta marbuta spelt the other way. They pass through rasid's
near-duplicate step as a collection run sends them: batch by batch, each batch compared with
itself and with everything stored before it (``neardup.assign``), then stored (``Index.add``).
The state a new run rebuilds from the manifests (decoding every stored signature and indexing
it) is timed too.

Printed per size: CPU seconds per phase (this process's, steadier than wall-clock time on a
shared machine; everything runs in one thread), articles per second, and how the planted
copies were clustered (found / missed, and articles wrongly called copies); then how time grew
from one size to the next (10x the articles at a linear cost is 10x the time).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

from rasid import neardup

LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
SPELLINGS = (("أ", "ا"), ("ة", "ه"), ("ى", "ي"), ("إ", "ا"))


def vocabulary(rng: np.random.Generator, size: int = 40_000) -> np.ndarray:
    lengths = rng.integers(2, 8, size)
    letters = np.array(list(LETTERS))
    words = sorted({"".join(rng.choice(letters, n)) for n in lengths})
    return np.array(sorted({*words, *("أ" + w for w in words[:2000]),
                            *(w + "ة" for w in words[2000:4000])}))


@dataclass
class Corpus:
    texts: list[str]
    copy_of: list[int | None]  # the planted original of each article


def make_corpus(count: int, copies: float, seed: int = 1) -> Corpus:
    rng = np.random.default_rng(seed)
    words = vocabulary(rng)
    weights = 1.0 / np.arange(1, len(words) + 1) ** 1.05
    cumulative = np.cumsum(weights) / weights.sum()
    texts: list[str] = []
    copy_of: list[int | None] = []
    for index in range(count):
        if index > 10 and rng.random() < copies:
            original = int(rng.integers(0, index))
            while copy_of[original] is not None:  # copy an original, not a copy of one
                original = int(rng.integers(0, index))
            texts.append(syndicate(texts[original], rng, words))
            copy_of.append(original)
        else:
            length = int(rng.integers(150, 600))
            drawn = np.searchsorted(cumulative, rng.random(length))  # Zipf-distributed words
            texts.append(" ".join(words[np.minimum(drawn, len(words) - 1)]))
            copy_of.append(None)
    return Corpus(texts, copy_of)


def syndicate(text: str, rng: np.random.Generator, words: np.ndarray) -> str:
    """Another outlet's copy: dateline, a passage dropped, a few words changed, other spelling."""
    tokens = text.split()
    cut = int(rng.integers(0, len(tokens) // 2))
    tokens = tokens[:cut] + tokens[cut + len(tokens) // 10:]
    for position in rng.integers(0, len(tokens), 3):
        tokens[position] = str(rng.choice(words))
    copy = "حلب - وكالات: " + " ".join(tokens)
    for written, other in SPELLINGS[: int(rng.integers(0, len(SPELLINGS) + 1))]:
        copy = copy.replace(written, other)
    return copy


@dataclass
class Timings:
    signatures: float = 0.0
    assign: float = 0.0
    store: float = 0.0
    reload: float = 0.0

    @property
    def run(self) -> float:
        return self.signatures + self.assign + self.store


Stored = list[tuple[str, str, str]]  # (article_id, signature as a manifest holds it, cluster)


def cluster(corpus: Corpus, batch: int) -> tuple[Timings, list[neardup.Verdict], Stored]:
    timings, index, verdicts, stored = Timings(), neardup.Index(), [], []
    for start in range(0, len(corpus.texts), batch):
        texts = corpus.texts[start:start + batch]
        began = time.process_time()
        found = neardup.signatures(texts)
        timings.signatures += time.process_time() - began
        ids = [f"{start + i:032x}" for i in range(len(texts))]
        items = [neardup.Item(ids[i], s, float(start + i), True) for i, s in enumerate(found)]
        began = time.process_time()
        batch_verdicts = neardup.assign(index, items)
        timings.assign += time.process_time() - began
        began = time.process_time()
        for item, verdict in zip(items, batch_verdicts, strict=True):
            if item.signature is not None and verdict.cluster is not None:
                index.add(item.article_id, item.signature, verdict.cluster, item.published_at)
                stored.append((item.article_id, neardup.encode(item.signature), verdict.cluster))
        timings.store += time.process_time() - began
        verdicts += batch_verdicts
    return timings, verdicts, stored


def reload(stored: Stored) -> float:
    """A new run's start: every stored signature decoded from its manifest text and indexed."""
    began = time.process_time()
    fresh = neardup.Index()
    for position, (article_id, text, cluster_id) in enumerate(stored):
        signature = neardup.decode(text)
        if signature is not None:
            fresh.add(article_id, signature, cluster_id, float(position))
    fresh.matches(np.empty((0, neardup.PERMUTATIONS), dtype=np.uint16))  # builds the segments
    return time.process_time() - began


def quality(corpus: Corpus, verdicts: list[neardup.Verdict]) -> tuple[int, int, int]:
    """(planted copies found, planted copies missed, articles wrongly called copies)."""
    found = missed = wrong = 0
    for original, verdict in zip(corpus.copy_of, verdicts, strict=True):
        if original is None:
            wrong += verdict.duplicate_of is not None
        elif verdict.duplicate_of == f"{original:032x}":
            found += 1
        else:
            missed += 1
    return found, missed, wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--batch", type=int, default=200, help="articles per batch (as a run)")
    parser.add_argument("--copies", type=float, default=0.1, help="share of planted copies")
    args = parser.parse_args()
    previous: tuple[int, float] | None = None
    for size in args.sizes:
        began = time.process_time()
        corpus = make_corpus(size, args.copies)
        made = time.process_time() - began
        timings, verdicts, stored = cluster(corpus, args.batch)
        timings.reload = reload(stored)
        found, missed, wrong = quality(corpus, verdicts)
        print(f"{size:>7} articles (made in {made:.0f} s): signatures {timings.signatures:.1f} s, "
              f"matching {timings.assign:.1f} s, storing {timings.store:.1f} s -> "
              f"{timings.run:.1f} s, {size / timings.run:,.0f} articles/s; "
              f"reloading the state {timings.reload:.1f} s")
        print(f"{'':>7} planted copies found {found}, missed {missed}; "
              f"originals wrongly called copies {wrong}")
        if previous:
            ratio, growth = size / previous[0], timings.run / previous[1]
            print(f"{'':>7} {ratio:.0f}x the articles took {growth:.1f}x the time")
        previous = (size, timings.run)


if __name__ == "__main__":
    main()
