"""A rerun with nothing new: `rasid run` twice over the same N pages into the same lake.

    python benchmarks/rerun.py [--pages 3000] [--prefect-server] [--workdir DIR]

The second run discovers the same URLs, finds every one already in the lake's committed
manifests and fetches no article page. Printed: both runs' times, the pages each fetched (as
counted by the server) and the rerun's time as a share of the full run's.

By default each run starts Prefect's temporary local server (`rasid run` on a laptop): a fixed
cost of seconds that a run with nothing to do cannot hide. With --prefect-server both runs
report to one running `prefect server start`, as scheduled deployments do.
"""

from __future__ import annotations

import argparse

from corpus_site import CorpusSite
from measure import Bench, add_arguments, bench_for, machine_note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=3000)
    add_arguments(parser)
    args = parser.parse_args()
    with bench_for(args) as bench:
        measure(bench, args.pages)


def measure(bench: Bench, pages: int) -> None:
    bench.warm_up()
    lake = bench.root / "lake-rerun"
    bench.cleanup(lake)
    print(f"{'run':<6} {'seconds':>8} {'pages fetched':>14} {'other requests':>15} {'new URLs':>9}  load")
    with CorpusSite(bench.corpus, pages) as site:
        times = []
        for name in ("full", "rerun"):
            load = machine_note()
            before = dict(site.requests)
            run = bench.rasid_run(site, lake)
            fetched = site.requests["pages"] - before["pages"]
            other = site.requests["other"] - before["other"]
            times.append(run.seconds)
            print(f"{name:<6} {run.seconds:8.1f} {fetched:>14} {other:>15} {run.counts()['new']:>9}  {load}",
                  flush=True)
    bench.cleanup(lake)
    print(f"rerun / full: {100 * times[1] / times[0]:.1f}%")


if __name__ == "__main__":
    main()
