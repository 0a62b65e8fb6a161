"""Peak memory of `rasid run` at two sizes: it should not grow with N beyond a batch.

    python benchmarks/memory.py [--pages 1000 10000] [--workdir DIR]

Each size is a fresh run into an empty lake over the corpus site. The whole process tree is
sampled every 0.1 s: the command, its extraction workers, the forkserver and the local Prefect
server. "tree" is the largest sum of their RSS at one moment (pages the processes share are
counted in each, so it overstates); "largest process" is the biggest single RSS.
"""

from __future__ import annotations

import argparse

from corpus_site import CorpusSite
from measure import Bench, machine_note, mib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--workdir", help="where the lakes and the Prefect home go (default: a temp dir)")
    args = parser.parse_args()

    bench = Bench(args.workdir)
    bench.warm_up()
    print(f"{'pages':>7} {'seconds':>8} {'peak RSS, tree':>15} {'largest process':>16} "
          f"{'processes':>10}  load")
    for n in args.pages:
        load = machine_note()
        lake = bench.root / f"lake-memory-{n}"
        bench.cleanup(lake)
        with CorpusSite(bench.corpus, n) as site:
            run = bench.rasid_run(site, lake)
        bench.cleanup(lake)
        if run.counts()["new"] != n:
            raise RuntimeError(f"rasid found {run.counts()['new']} new URLs, expected {n}")
        print(f"{n:>7} {run.seconds:8.1f} {mib(run.peak_tree_rss):>15} "
              f"{mib(run.peak_process_rss):>16} {run.peak_processes:>10}  {load}", flush=True)
        parts = ", ".join(f"{role} {mib(rss)}" for role, rss in sorted(run.rss_by_role.items()))
        print(f"{'':>7} at the peak: {parts}", flush=True)


if __name__ == "__main__":
    main()
