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
from contextlib import nullcontext

from corpus_site import CorpusSite
from measure import Bench, machine_note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--prefect-server", action="store_true",
                        help="run against a running Prefect server, as deployments do")
    parser.add_argument("--workdir", help="where the lake and the Prefect home go (default: a temp dir)")
    args = parser.parse_args()

    bench = Bench(args.workdir)
    with bench.prefect_server() if args.prefect_server else nullcontext():
        measure(bench, args.pages)


def measure(bench: Bench, pages: int) -> None:
    print("Prefect: " + (f"the server at {bench.prefect_api}" if bench.prefect_api
                         else "a temporary local server per run"))
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
