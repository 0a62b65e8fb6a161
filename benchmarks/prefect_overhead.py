"""Prefect's share of a collection run: how many task runs, and what they cost beyond the work.

    python benchmarks/prefect_overhead.py [--pages 1000] [--workdir DIR]

Runs the real ``collect`` flow once (in a child process, against the corpus site) with two
stopwatches: one around each task function (the package's work) and one around Prefect's
engine for that task run (parameter walking, task-run creation, state changes, events). The
difference is Prefect's overhead per task run. The flow's own start and end (starting the local
Prefect server, creating and finishing the flow run) is the flow call minus its body. The task
runs are counted from the Prefect API, and the Prefect server's CPU time comes from sampling
the process tree.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from corpus_site import CorpusSite
from measure import Bench, run_measured


def _child(sources: str, lake: str, out: str) -> None:
    """Run the flow in this process with every task timed inside and outside Prefect."""
    import prefect.task_engine as engine
    from prefect import Task
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.context import FlowRunContext

    from rasid_flows import collect as flow_module

    inner: dict[str, list[float]] = defaultdict(list)
    outer: dict[str, list[float]] = defaultdict(list)
    flow_run: dict[str, Any] = {}

    def timed(name: str, fn: Any, into: dict[str, list[float]]) -> Any:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                into[name].append(time.perf_counter() - started)
        return wrapper

    for task in vars(flow_module).values():
        if isinstance(task, Task):
            task.fn = timed(task.name, task.fn, inner)
    run_task_sync = engine.run_task_sync

    def engine_run(*args: Any, **kwargs: Any) -> Any:
        return timed(kwargs["task"].name, run_task_sync, outer)(*args, **kwargs)

    engine.run_task_sync = engine_run  # the engine and both task runners look it up here

    body = flow_module.run

    def run(*args: Any, **kwargs: Any) -> Any:
        flow_run["id"] = FlowRunContext.get().flow_run.id  # type: ignore[union-attr]
        return timed("flow body", body, inner)(*args, **kwargs)

    flow_module.run = run
    started = time.perf_counter()
    flow_module.collect(sources_file=sources, lake=lake)
    flow_seconds = time.perf_counter() - started
    with get_client(sync_client=True) as client:
        task_runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run["id"]])))
    Path(out).write_text(json.dumps({
        "flow_seconds": flow_seconds, "inner": inner, "outer": outer,
        "api_task_runs": len(task_runs),
    }), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--workdir", help="where the lake and the Prefect home go (default: a temp dir)")
    parser.add_argument("--child", nargs=3, metavar=("SOURCES", "LAKE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return

    bench = Bench(args.workdir)
    bench.warm_up()
    out = bench.root / "prefect-overhead.json"
    sources = bench.root / "sources-overhead.yaml"
    lake = bench.root / "lake-overhead"
    with CorpusSite(bench.corpus, args.pages) as site:
        sources.write_text(site.sources_yaml(), encoding="utf-8")
        command = [sys.executable, __file__, "--child", str(sources), str(lake), str(out)]
        measured = run_measured(command, bench.env(site))
    bench.cleanup(lake)
    found = json.loads(out.read_text(encoding="utf-8"))
    _print(found, measured.seconds, measured.cpu_by_role, args.pages)


def _print(found: dict[str, Any], wall: float, cpu: dict[str, float], pages: int) -> None:
    inner, outer = found["inner"], found["outer"]
    print(f"one `collect` run over {pages} pages: {wall:.1f} s for the whole process")
    print(f"{'task':<16} {'runs':>5} {'work s':>8} {'Prefect s':>10} {'per run ms':>11}")
    total_runs, total_overhead = 0, 0.0
    for name in sorted(outer):
        runs, work = len(outer[name]), sum(inner.get(name, []))
        overhead = sum(outer[name]) - work
        total_runs, total_overhead = total_runs + runs, total_overhead + overhead
        print(f"{name:<16} {runs:>5} {work:8.2f} {overhead:10.2f} {1000 * overhead / runs:11.1f}")
    flow = found["flow_seconds"] - sum(inner["flow body"])
    print(f"{'all tasks':<16} {total_runs:>5} {'':>8} {total_overhead:10.2f} "
          f"{1000 * total_overhead / max(total_runs, 1):11.1f}")
    print(f"task runs recorded by the Prefect API: {found['api_task_runs']}")
    print(f"flow start and finish (local Prefect server, flow run states): {flow:.2f} s")
    print(f"Prefect server process CPU: {cpu.get('prefect server', 0.0):.1f} s "
          f"(of {sum(cpu.values()):.1f} s CPU for all processes)")
    share = (total_overhead + flow) / wall
    print(f"Prefect's share of the run's wall time: {total_overhead + flow:.1f} s of {wall:.1f} s "
          f"= {100 * share:.0f}% (task overhead is spread over threads, so this is an upper bound)")


if __name__ == "__main__":
    main()
