"""What N sources on a 15-minute schedule cost: CPU per page and storage per page, measured
with one `rasid run` over real pages, then projected (the projection's assumptions are printed).

    python benchmarks/scaling.py [--pages 600] [--articles-per-day 100] [--workdir DIR]

The corpus pages are served on loopback (see corpus_site.py); CPU time covers every process of
the run (the command, its extraction workers, the throw-away Prefect server), so it moves less
than wall-clock time on a shared machine. Storage is what the run left in the lake: the raw WARC
archive, the Parquet rows, and the run's bookkeeping (manifest, report).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from corpus_site import CorpusSite
from measure import Bench, machine_note

RUNS_PER_DAY = 24 * 4  # every 15 minutes
DOCUMENTS_PER_RUN = 2  # a feed and a sitemap per source and run, fetched whether new or not


def size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=600)
    parser.add_argument("--articles-per-day", type=int, default=100,
                        help="new articles a source publishes per day, for the projection")
    parser.add_argument("--workdir")
    args = parser.parse_args()

    bench = Bench(args.workdir)
    bench.warm_up()
    lake = bench.root / "lake-scaling"
    with CorpusSite(bench.corpus, args.pages) as site:
        run = bench.rasid_run(site, lake)
    n = run.counts()["new"]
    cpu = run.cpu_seconds / n
    raw = size(lake / "raw") / n
    rows = (size(lake / "articles") + size(lake / "quarantine")) / n
    bench.cleanup(lake)
    print(f"measured: {n} pages in {run.seconds:.1f} s wall ({n / run.seconds:.1f} pages/s), "
          f"{1000 * cpu:.0f} ms CPU per page ({1 / cpu:.1f} pages/s per core), "
          f"raw WARC {raw / 1024:.1f} KiB/page, Parquet {rows / 1024:.1f} KiB/page; load {machine_note()}")
    print(f"projection: {args.articles_per_day} new articles per source per day, "
          f"{DOCUMENTS_PER_RUN} discovery documents per source per run, {RUNS_PER_DAY} runs per day")
    print(f"{'sources':>7}  {'pages/hour':>10}  {'CPU cores':>9}  {'storage/day':>11}")
    for sources in (10, 50, 200, 1000):
        pages_per_day = sources * (args.articles_per_day + DOCUMENTS_PER_RUN * RUNS_PER_DAY)
        cores = pages_per_day * cpu / 86400
        storage = sources * args.articles_per_day * (raw + rows)
        print(f"{sources:>7}  {pages_per_day / 24:>10,.0f}  {cores:>9.2f}  {storage / 2**20:>8,.0f} MiB")


if __name__ == "__main__":
    main()
