"""End-to-end throughput: `rasid run` over N real pages against a plain sequential trafilatura loop.

    python benchmarks/end_to_end.py [--pages 3000] [--repeat 1] [--prefect-server] [--workdir DIR]

The corpus pages (../shared/corpus, or RASID_BENCH_CORPUS) are served on loopback as four hosts,
each with a sitemap; the sources have no politeness delay. `rasid run` does everything a real
run does — discovery, fetching, extraction in a process pool, the GX checks, Parquet and WARC
writing, the commit and the report — and its time is the whole command, process start-up and
Prefect included. Then `rasid reprocess` extracts the lake's pages again from its raw WARCs
(no network) and is timed against the same loop. The baseline is one process calling
trafilatura's ``bare_extraction`` with metadata (its defaults otherwise) on the same pages,
already in memory. Both run in the same
invocation, one after the other; with --repeat they alternate. CPU time per page (all of
rasid's processes: the command, its extraction workers, the Prefect server) is printed too: on
a shared machine it moves less than the wall-clock figures do.

By default `rasid run` starts Prefect's temporary local server, as on a laptop. With
--prefect-server it reports to one running `prefect server start` on the same machine instead,
as scheduled deployments do (that server's CPU is then not in rasid's CPU figures, but it
shares the same cores).
"""

from __future__ import annotations

import argparse
import time

import trafilatura

from corpus_site import CorpusSite
from measure import Bench, add_arguments, bench_for, machine_note, mib


def plain_loop(site: CorpusSite) -> tuple[float, float]:
    """Wall and CPU seconds for one process to extract every page of ``site`` with plain
    trafilatura."""
    pages = [(url, page.html()) for url, page in site.urls()]
    trafilatura.bare_extraction(pages[0][1], url=pages[0][0], with_metadata=True)  # imports
    wall, cpu = time.perf_counter(), time.process_time()
    for url, html in pages:
        trafilatura.bare_extraction(html, url=url, with_metadata=True)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-reprocess", action="store_true",
                        help="skip `rasid reprocess` over each round's lake")
    add_arguments(parser)
    args = parser.parse_args()
    with bench_for(args) as bench:
        compare(bench, args.pages, args.repeat, not args.no_reprocess)


def compare(bench: Bench, n: int, repeat: int, reprocess: bool = True) -> None:
    print(f"corpus: {len(bench.corpus)} pages, served as {n} URLs on {len(bench.hosts)} hosts")
    bench.warm_up()
    print(f"{'round':>5}  {'plain s':>7} {'p/s':>5}  {'rasid s':>7} {'p/s':>5}  {'ratio':>5}  "
          f"{'CPU ms/page plain rasid':>23}  {'peak RSS':>9}  stored/quarantined/failed  load")
    for round_ in range(1, repeat + 1):
        load = machine_note()
        with CorpusSite(bench.corpus, n) as site:
            plain, plain_cpu = plain_loop(site)
            lake = bench.root / f"lake-e2e-{round_}"
            run = bench.rasid_run(site, lake)
            again = bench.rasid_reprocess(site, lake) if reprocess else None
        bench.cleanup(lake)
        counts = run.counts()
        if counts["new"] != n:
            raise RuntimeError(f"rasid found {counts['new']} new URLs, expected {n}")
        print(f"{round_:>5}  {plain:7.1f} {n / plain:5.1f}  {run.seconds:7.1f} {n / run.seconds:5.1f}  "
              f"{plain / run.seconds:4.2f}x  {1000 * plain_cpu / n:17.0f} {1000 * run.cpu_seconds / n:5.0f}  "
              f"{mib(run.peak_tree_rss):>9}  {counts['stored']}/{counts['quarantined']}/{counts['failed']:<14} "
              f"{load}", flush=True)
        print(f"{'':>5}  rasid CPU seconds: " + ", ".join(
            f"{role} {seconds:.0f}" for role, seconds in sorted(run.cpu_by_role.items())), flush=True)
        if again is not None:
            print(f"{'':>5}  reprocess: {again.seconds:.1f} s, {plain / again.seconds:.2f}x the plain "
                  f"loop, CPU {1000 * again.cpu_seconds / n:.0f} ms/page", flush=True)


if __name__ == "__main__":
    main()
