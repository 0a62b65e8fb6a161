"""The ``rasid`` command: demo, run, extract, report.

A thin shell over the package: parse arguments, build settings at the edge, call one function,
print results. Problems a person must fix (bad config, unreachable lake) print one clear line
and exit with status 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import atexit
import ctypes
import gc
import json
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rasid import __version__
from rasid.config import DEFAULT_TIMEZONE, ConfigError

EXIT_USAGE = 2


def _quiet_prefect(verbose: bool) -> None:
    # Prefect's per-task lines would bury the progress display; its API server's shutdown
    # chatter is not something a successful run should show.
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_LOGGING_SERVER_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    # The ephemeral API server's first start migrates a new SQLite database; on a busy small
    # machine that exceeds Prefect's default wait, and the run would fail before it began.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")


def _run_collect(sources_file: str, lake: str, verbose: bool) -> dict[str, Any]:
    from rasid import checks, config, progress, storage

    config.load_sources(sources_file)  # fail fast, before Prefect starts
    config.load_settings()
    storage.open_lake(lake)  # a missing bucket or unwritable path fails here, clearly
    _quiet_prefect(verbose)
    from rasid_flows.local_api import local_api

    # Prefect's API server (unless PREFECT_API_URL names one) boots while this process imports.
    gc.disable()  # until the flow starts: see _keep_start_up_objects
    try:
        with local_api() as api:
            progress.install(progress.for_stream(sys.stderr))
            from rasid_flows.collect import collect

            if not verbose:
                # A failed run's traceback would come from Prefect's run loggers; the command
                # says what failed in one line instead (see main).
                for name in ("prefect.flow_runs", "prefect.task_runs"):
                    logging.getLogger(name).setLevel(logging.CRITICAL)
            if api:
                # The server needs a few more seconds on the other core; set the checks up on
                # this one meanwhile (a run that finds something new needs them, at once).
                threading.Thread(target=checks.warm_up, name="rasid-warm-up", daemon=True).start()
                api.wait_ready()
            _keep_start_up_objects()
            result: dict[str, Any] = collect(sources_file=sources_file, lake=lake)
            progress.current().close()
    finally:
        gc.enable()
    return result


def _keep_start_up_objects() -> None:
    """Exempt what start-up made from the cyclic garbage collector, and turn it back on.

    Start-up is imports (Prefect, pyarrow, pandas, trafilatura, GX): hundreds of thousands of
    objects that live until the process ends. Left to the collector, they set off full
    collections while they are made and are walked again by every later one — about a second
    of a short run's start. Frozen, they are never walked.
    """
    gc.freeze()
    gc.enable()


def _skip_collection_at_exit() -> None:
    # At exit the interpreter walks every object still alive in one last full collection —
    # over a second after a run of a few hundred pages — only for the process to end. Frozen
    # objects are not walked; finalisers and buffered files are unaffected.
    gc.freeze()


def _print_summary(result: dict[str, Any], lake: str) -> None:
    from rasid import progress, report
    from rasid.storage import open_lake

    store = open_lake(lake)
    totals = result["totals"]
    print(progress.summary_table(result["sources"]))
    print()
    print(f"run {result['run_id']}: stored {totals['stored']}, quarantined {totals['quarantined']}, "
          f"fetch failures {totals['failed']} (of {totals['new']} new URLs)")
    print(report.render_text(result))
    print(f"lake:     {store.uri}")
    if result.get("report"):
        print(f"report:   {store.uri_for(result['report'])}")
    print(f"manifest: {result['manifest']}")


def cmd_demo(args: argparse.Namespace) -> int:
    from rasid.demo.server import DemoServer

    with DemoServer(port=args.port) as server:
        allow = ",".join(filter(None, [os.environ.get("RASID_ALLOW_PRIVATE_HOSTS"), server.allowlist()]))
        os.environ["RASID_ALLOW_PRIVATE_HOSTS"] = allow
        with tempfile.TemporaryDirectory(prefix="rasid-demo-") as tmp:
            sources_file = Path(tmp) / "sources.yaml"
            sources_file.write_text(server.sources_yaml(), encoding="utf-8")
            print(f"demo news site: {', '.join(server.base_url(s.id) for s in server.sources())}")
            result = _run_collect(str(sources_file), args.lake, args.verbose)
    _print_summary(result, args.lake)
    print(f"query it: duckdb -c \"SELECT source, count(*) FROM read_parquet('{args.lake}/articles/**/*.parquet', hive_partitioning=true) GROUP BY 1\"")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    result = _run_collect(args.sources, args.lake, args.verbose)
    _print_summary(result, args.lake)
    return 0


def _extract_inputs(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    if args.manifest:
        items = []
        for number, line in enumerate(Path(args.manifest).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                items.append((str(entry["path"]), entry.get("url")))
            except (json.JSONDecodeError, KeyError, TypeError):
                raise ConfigError(f"{args.manifest}:{number}: expected {{\"path\": ..., \"url\": ...}}") from None
        return items
    if args.url and len(args.paths) != 1:
        raise ConfigError("--url applies to exactly one PATH")
    return [(p, args.url) for p in args.paths]


def cmd_extract(args: argparse.Namespace) -> int:
    from rasid.extract import extract
    from rasid.fetch.decoding import decode_html

    try:
        ZoneInfo(args.timezone)
    except (ValueError, ZoneInfoNotFoundError):
        raise ConfigError(f"unknown --timezone {args.timezone!r} (an IANA name such as "
                          f"{DEFAULT_TIMEZONE})") from None
    status = 0
    for path, url in _extract_inputs(args):
        page_url = url or Path(path).resolve().as_uri()
        try:
            content = Path(path).read_bytes()
        except OSError as exc:
            print(json.dumps({"path": path, "url": page_url, "error": exc.strerror}, ensure_ascii=False))
            status = 1
            continue
        html, encoding, _ = decode_html(content, None)
        record = extract(html, page_url, timezone=args.timezone)
        out = {
            "path": path,
            "url": page_url,
            "title": record.title,
            "author": record.author,
            "canonical_url": record.canonical_url,
            "published_at": record.published_at.isoformat() if record.published_at else None,
            "published_date": record.published_date.isoformat() if record.published_date else None,
            "date_source": record.date_source,
            "body": record.body,
            "language": record.language,
            "arabic_ratio": round(record.arabic_ratio, 4),
            "word_count": record.word_count,
            "body_hash": record.body_hash,
            "repeated_share": round(record.repeated_share, 4),
            "encoding": encoding,
            "flags": record.flags,
        }
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return status


def cmd_report(args: argparse.Namespace) -> int:
    from rasid import report
    from rasid.storage import open_lake

    store = open_lake(args.lake)
    manifests = store.collection_runs()
    if not manifests:
        raise ConfigError(f"no committed run in {store.uri}: run `rasid run` or `rasid demo` first")
    if args.out:
        where = str(report.write_directory(store, Path(args.out)))
    else:
        where = store.uri_for(report.publish(store).report)
    print(report.render_text(manifests[-1]))
    print(f"report: {where}")
    return 0


def cmd_setup_prefect(args: argparse.Namespace) -> int:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from rasid_flows.setup_prefect import api_url, setup_prefect

    print(f"Prefect API: {api_url()}")
    changes = setup_prefect(args.sources, args.pool)
    print("\n".join(changes) if changes else "nothing to change: the pool and every limit exist")
    return 0


def cmd_reprocess(args: argparse.Namespace) -> int:
    from rasid import config
    from rasid.reprocess import reprocess
    from rasid.storage import open_lake

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    given = {s.id: s for s in config.load_sources(args.sources)} if args.sources else None
    lake = open_lake(args.lake)
    summary = reprocess(lake, sources=given, workers=config.Settings().extract_workers)
    totals = summary.totals
    print(f"run {summary.run_id}: re-extracted {totals['extracted']} archived pages without "
          f"fetching: stored {totals['stored']}, quarantined {totals['quarantined']}; "
          "they replace the earlier rows")
    return 0


def cmd_compact(args: argparse.Namespace) -> int:
    from rasid.compact import compact
    from rasid.storage import open_lake

    result = compact(open_lake(args.lake), target_bytes=args.target_mb * 1024 * 1024)
    if result.run_id:
        print(f"run {result.run_id}: merged {result.files_before} files into "
              f"{result.files_after} in {result.partitions} partition(s)")
    else:
        print("nothing to merge: no partition has two or more small files")
    if result.swept:
        print(f"removed {len(result.swept)} staged file(s) left by runs that never committed")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from rasid import evaluate

    golden = args.golden or ("tests/golden" if Path("tests/golden").is_dir() else None)
    folders = {"--corpus": args.corpus, "--golden": golden}
    if not any(folders.values()):
        raise ConfigError("nothing to evaluate: give --corpus DIR and/or --golden DIR")
    for option, folder in folders.items():
        if folder and not Path(folder).is_dir():
            raise ConfigError(f"{option} {folder}: no such directory")
    try:
        cases = evaluate.load_cases(args.corpus and Path(args.corpus), golden and Path(golden))
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"cannot read the pages to evaluate: {exc}") from None
    print(f"extracting {len(cases)} pages with rasid and with plain trafilatura...",
          file=sys.stderr)
    result = evaluate.evaluate(cases, workers=args.workers)
    print(evaluate.render(result))
    if not args.gate:
        return 0
    failures = result.gate_failures()
    print("gate: " + ("FAILED\n  " + "\n  ".join(failures) if failures else "passed"))
    return 1 if failures else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rasid", description="راصد — media monitoring for Arabic news")
    parser.add_argument("--version", action="version", version=f"rasid {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show Prefect's own log lines")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the whole pipeline on the bundled offline news site")
    demo.add_argument("--lake", default="./lake", help="local path or s3://bucket/prefix (default ./lake)")
    demo.add_argument("--port", type=int, default=8471, help="port of the demo site (default 8471)")
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="one collection run over the configured sources")
    run.add_argument("--sources", required=True, help="sources YAML file")
    run.add_argument("--lake", default="./lake", help="local path or s3://bucket/prefix (default ./lake)")
    run.set_defaults(func=cmd_run)

    ext = sub.add_parser("extract", help="extract saved HTML pages without fetching (JSON lines)")
    ext.add_argument("paths", nargs="*", metavar="PATH")
    ext.add_argument("--url", help="the page's URL (with one PATH)")
    ext.add_argument("--manifest", help='JSONL file of {"path": ..., "url": ...}')
    ext.add_argument("--timezone", default=DEFAULT_TIMEZONE,
                     help="the source's IANA timezone: naive page times are read in it, and it "
                          "gives the day when the page prints none (default: %(default)s, as "
                          "for a source in sources.yaml without one)")
    ext.set_defaults(func=cmd_extract)

    rep = sub.add_parser("report", help="the editor report for the latest run")
    rep.add_argument("--lake", default="./lake")
    rep.add_argument("--out", help="directory to write index.html into (default: the lake's reports/)")
    rep.set_defaults(func=cmd_report)

    rpr = sub.add_parser("reprocess", help="re-extract the lake from its raw WARCs, without fetching")
    rpr.add_argument("--lake", default="./lake")
    rpr.add_argument("--sources", help="sources YAML file (default: the settings each run recorded)")
    rpr.set_defaults(func=cmd_reprocess)

    cmp = sub.add_parser("compact", help="merge small Parquet files per partition")
    cmp.add_argument("--lake", default="./lake")
    cmp.add_argument("--target-mb", type=int, default=128, help="target file size (default 128)")
    cmp.set_defaults(func=cmd_compact)

    evl = sub.add_parser("eval", help="score extraction against plain trafilatura on a corpus")
    evl.add_argument("--corpus", help="folder holding trafilatura-eval/ and zyte/")
    evl.add_argument("--golden", help="golden pages (default: tests/golden when it exists)")
    evl.add_argument("--gate", action="store_true",
                     help="exit 1 if rasid's F1 trails plain trafilatura's by more than 0.002 on "
                          "a peer set or a golden page fails")
    evl.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                     help="processes (default: one per core)")
    evl.set_defaults(func=cmd_eval)

    setup = sub.add_parser(
        "setup-prefect",
        help="create the work pool and the per-host concurrency limits on the Prefect server "
             "at PREFECT_API_URL (safe to rerun)")
    setup.add_argument("--sources", required=True, help="sources YAML file")
    setup.add_argument("--pool", default="rasid-process", help="work pool (default rasid-process)")
    setup.set_defaults(func=cmd_setup_prefect)
    return parser


_M_ARENA_MAX = -8  # from glibc's malloc.h


def _fewer_malloc_arenas() -> None:
    """Cap glibc's malloc arenas at two, here and in the processes a run starts.

    glibc gives each thread that allocates its own arena, up to eight per core; the fetch
    threads allocate page bodies, and every arena keeps freed memory for reuse. With two, a
    10,000-page run's peak memory is about a tenth lower (benchmarks/memory.py) for no
    measurable loss of speed. A no-op where the C library is not glibc.
    """
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")  # the Prefect server, the workers
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_ARENA_MAX, int(os.environ["MALLOC_ARENA_MAX"]))
    except (OSError, AttributeError, ValueError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    _fewer_malloc_arenas()  # before any thread starts
    atexit.unregister(_skip_collection_at_exit)  # once, however often main is called
    atexit.register(_skip_collection_at_exit)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "extract" and not (args.paths or args.manifest):
        parser.error("extract needs PATH... or --manifest FILE")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("rasid").setLevel(logging.INFO)
    from rasid.storage import StorageError

    try:
        return int(args.func(args))
    except (ConfigError, StorageError) as exc:
        print(f"rasid: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("rasid: interrupted; committed runs are intact, rerun to finish", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
