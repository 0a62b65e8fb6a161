"""The ``rasid`` command: demo, run, extract, report, compact, reprocess, eval, serve.

A thin shell over the package: parse arguments, build settings at the edge, call one function,
print results. The commands that run flows (demo, run, setup-prefect) reach them through the
orchestrator seam (``rasid.orchestration``), so the package never imports the flows.

Exit status: 0 success; 1 the command finished but found trouble (``run``/``demo``: sources
flagged or fetches failed, as ``--fail-on`` chooses; ``extract``: a page unreadable; ``eval
--gate``: the gate failed); 2 a usage error; 3 a configuration problem (sources file, a
``RASID_*`` value, a Prefect setting); 4 a storage problem (the lake cannot be read or
written). Problems a person must fix print one line, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rasid import __version__, startup
from rasid.config import DEFAULT_TIMEZONE, ConfigError

EXIT_TROUBLE = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_STORAGE = 4

FAIL_ON = ("flags", "failures", "any", "never")


def _collect(sources: str, lake: str, args: argparse.Namespace) -> dict[str, Any]:
    from rasid import config, orchestration, progress, storage

    config.load_sources(sources)  # fail fast, before the orchestrator starts
    storage.open_lake(lake)  # a missing bucket or unwritable path fails here, clearly
    runner = orchestration.load()
    progress.install(progress.for_stream(sys.stderr))
    try:
        return runner.collect(sources, lake, verbose=args.verbose)
    finally:
        progress.current().close()


def _trouble(result: dict[str, Any], fail_on: str) -> bool:
    """Whether the finished run counts as trouble under ``--fail-on``."""
    flagged = bool(result.get("flags"))
    failed = bool(result["totals"].get("failed"))
    return {"flags": flagged, "failures": failed, "any": flagged or failed, "never": False}[fail_on]


def _print_summary(result: dict[str, Any], lake: str, out: IO[str]) -> None:
    from rasid import progress, report
    from rasid.storage import open_lake

    store = open_lake(lake)
    totals = result["totals"]
    counts = (f"run {result['run_id']}: stored {totals['stored']}, quarantined "
              f"{totals['quarantined']}, fetch failures {totals['failed']} (of {totals['new']} "
              "new URLs)")
    lines = [progress.summary_table(result["sources"]), "", counts, report.render_text(result),
             f"lake:     {store.uri}"]
    if result.get("report"):
        lines.append(f"report:   {report.link(store, result['report'])}")
    lines.append(f"manifest: {result['manifest']}")
    print("\n".join(lines), file=out)


def _human(args: argparse.Namespace) -> IO[str]:
    """Where people's output goes: stderr when stdout carries the JSON summary."""
    return sys.stderr if getattr(args, "json", False) else sys.stdout


def _print_json(summary: dict[str, Any]) -> None:
    print(json.dumps(summary, ensure_ascii=False, default=str), flush=True)


def _finish_run(result: dict[str, Any], args: argparse.Namespace) -> int:
    from rasid import report
    from rasid.storage import open_lake

    _print_summary(result, args.lake, _human(args))
    trouble = _trouble(result, args.fail_on)
    if args.json:
        link = report.link(open_lake(args.lake), result["report"]) if result.get("report") else None
        _print_json(result | {"lake": args.lake, "report_link": link, "trouble": trouble})
    return EXIT_TROUBLE if trouble else 0


def cmd_demo(args: argparse.Namespace) -> int:
    from rasid.demo.server import DemoServer

    out = _human(args)
    with DemoServer(port=args.port) as server:
        allow = ",".join(filter(None, [os.environ.get("RASID_ALLOW_PRIVATE_HOSTS"), server.allowlist()]))
        os.environ["RASID_ALLOW_PRIVATE_HOSTS"] = allow
        with tempfile.TemporaryDirectory(prefix="rasid-demo-") as tmp:
            sources_file = Path(tmp) / "sources.yaml"
            sources_file.write_text(server.sources_yaml(), encoding="utf-8")
            sources_file.with_name("watchlists.yaml").write_text(server.watchlists_yaml(),
                                                                 encoding="utf-8")
            print(f"demo news site: {', '.join(server.base_url(s.id) for s in server.sources())}",
                  file=out)
            result = _collect(str(sources_file), args.lake, args)
    status = _finish_run(result, args)
    print(f"query it: duckdb -c \"SELECT source, count(*) FROM read_parquet('{args.lake}/articles/**/*.parquet', hive_partitioning=true) GROUP BY 1\"",
          file=out)
    return status


def cmd_run(args: argparse.Namespace) -> int:
    return _finish_run(_collect(args.sources, args.lake, args), args)


def _manifest_lines(where: str) -> Iterable[str]:
    if where == "-":
        return sys.stdin.read().splitlines()
    try:
        return Path(where).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read manifest {where}: {exc.strerror}") from None


def _extract_inputs(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    manifest = "-" if args.paths == ["-"] else args.manifest  # `rasid extract -`: stdin
    if manifest:
        origin = "stdin" if manifest == "-" else manifest
        items = []
        for number, line in enumerate(_manifest_lines(manifest), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                items.append((str(entry["path"]), entry.get("url")))
            except (json.JSONDecodeError, KeyError, TypeError):
                raise ConfigError(f"{origin}:{number}: expected {{\"path\": ..., \"url\": ...}}") from None
        return items
    if args.url and len(args.paths) != 1:
        raise ConfigError("--url applies to exactly one PATH")
    return [(p, args.url) for p in args.paths]


def cmd_extract(args: argparse.Namespace) -> int:
    from rasid.extract import extract
    from rasid.fetch.decoding import decode_html

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
    manifests = report.committed_runs(store)
    if not manifests:
        raise ConfigError(f"no committed run in {store.uri}: run `rasid run` or `rasid demo` first")
    if args.out:
        where = report.write_directory(store, Path(args.out)).resolve().as_uri()
    else:
        where = report.link(store, report.publish(store).report)
    out = _human(args)
    print(report.render_text(manifests[-1]), file=out)
    print(f"report: {where}", file=out)
    if args.json:
        _print_json({"lake": store.uri, "run_id": manifests[-1]["run_id"], "report_link": where,
                     "totals": manifests[-1]["totals"]})
    return 0


def cmd_setup_prefect(args: argparse.Namespace) -> int:
    from rasid import config, orchestration

    config.load_sources(args.sources)
    api, changes = orchestration.load().setup(args.sources, args.pool)
    print(f"Prefect API: {api}")
    print("\n".join(changes) if changes else "nothing to change: the pool and every limit exist")
    return 0


def cmd_reprocess(args: argparse.Namespace) -> int:
    from rasid import config
    from rasid.reprocess import reprocess
    from rasid.storage import open_lake

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    given = {s.id: s for s in config.load_sources(args.sources)} if args.sources else None
    lake = open_lake(args.lake)
    watchlists = args.watchlists or (
        str(Path(args.sources).with_name("watchlists.yaml")) if args.sources else None)
    if watchlists and not Path(watchlists).is_file():
        watchlists = None
    summary = reprocess(lake, sources=given, workers=config.Settings().extract_workers,
                        watchlists=watchlists)
    totals = summary.totals
    print(f"run {summary.run_id}: re-extracted {totals['extracted']} archived pages without "
          f"fetching: stored {totals['stored']}, quarantined {totals['quarantined']}; "
          "they replace the earlier rows")
    return 0


def cmd_compact(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from rasid.compact import compact
    from rasid.storage import open_lake

    result = compact(open_lake(args.lake), target_bytes=args.target_mb * 1024 * 1024)
    out = _human(args)
    if result.run_id:
        print(f"run {result.run_id}: merged {result.files_before} files into "
              f"{result.files_after} in {result.partitions} partition(s)", file=out)
    else:
        print("nothing to merge: no partition has two or more small files", file=out)
    if result.swept:
        print(f"removed {len(result.swept)} staged file(s) left by runs that never committed",
              file=out)
    if args.json:
        _print_json(asdict(result))
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
        cases = evaluate.load_cases(Path(args.corpus) if args.corpus else None,
                                    Path(golden) if golden else None)
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


def _common_options() -> argparse.ArgumentParser:
    """Options every command takes, before or after its name. SUPPRESS: a subcommand that is
    not given one leaves what the main parser read."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="show Prefect's own log lines too")
    common.add_argument("--log-level", choices=LOG_LEVELS, default=argparse.SUPPRESS,
                        help="level of rasid's own log lines (default: RASID_LOG_LEVEL, else INFO)")
    return common


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _lake_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lake", help="local path or s3://bucket/prefix "
                                       "(default: RASID_LAKE, else ./lake)")


def _sources_option(parser: argparse.ArgumentParser, required: str = "") -> None:
    parser.add_argument("--sources", help="sources YAML: a path, an http(s) URL or "
                                          f"s3://bucket/key (default: RASID_SOURCES{required})")


def _json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="print the summary as one JSON object on stdout (the rest on stderr)")


def _fail_on_option(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument("--fail-on", choices=FAIL_ON, default=default,
                        help="exit 1 when sources were flagged, fetches failed, either, or never "
                             f"(default {default})")


def build_parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = argparse.ArgumentParser(prog="rasid", parents=[common],
                                     description="راصد — media monitoring for Arabic news",
                                     epilog="exit status: 0 ok, 1 finished with trouble (see "
                                            "--fail-on), 2 usage, 3 configuration, 4 storage")
    parser.add_argument("--version", action="version", version=f"rasid {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        found = sub.add_parser(name, help=help, description=help, parents=[common])
        found.set_defaults(func=func)
        return found

    demo = command("demo", cmd_demo, "run the whole pipeline on the bundled offline news site")
    _lake_option(demo)
    demo.add_argument("--port", type=int, default=8471, help="port of the demo site (default 8471)")
    _json_option(demo)
    _fail_on_option(demo, "never")  # the demo site fails and flags on purpose

    run = command("run", cmd_run, "one collection run over the configured sources")
    _sources_option(run, "; required")
    _lake_option(run)
    _json_option(run)
    _fail_on_option(run, "flags")

    ext = command("extract", cmd_extract,
                  "extract saved HTML pages without fetching (JSON lines on stdout)")
    ext.add_argument("paths", nargs="*", metavar="PATH",
                     help="HTML files; a single - reads a manifest from stdin")
    ext.add_argument("--url", help="the page's URL (with one PATH)")
    ext.add_argument("--manifest", help='JSONL file of {"path": ..., "url": ...} (- for stdin)')
    ext.add_argument("--timezone", default=DEFAULT_TIMEZONE,
                     help="the source's IANA timezone: naive page times are read in it, and it "
                          "gives the day when the page prints none (default: %(default)s, as "
                          "for a source in sources.yaml without one)")

    rep = command("report", cmd_report, "the editor report for the latest run")
    _lake_option(rep)
    rep.add_argument("--out", help="directory to write index.html into (default: the lake's reports/)")
    _json_option(rep)

    srv = command("serve", cmd_serve, "serve the lake's reports on localhost, for a browser")
    _lake_option(srv)
    srv.add_argument("--port", type=int, default=8480, help="port on 127.0.0.1 (default 8480)")

    rpr = command("reprocess", cmd_reprocess,
                  "re-extract the lake from its raw WARCs, without fetching")
    _lake_option(rpr)
    rpr.add_argument("--sources", help="sources YAML (default: the settings each run recorded)")
    rpr.add_argument("--watchlists",
                     help="watchlists YAML (default: watchlists.yaml beside --sources)")

    cmp = command("compact", cmd_compact, "merge small Parquet files per partition")
    _lake_option(cmp)
    cmp.add_argument("--target-mb", type=int, default=128, help="target file size (default 128)")
    _json_option(cmp)

    evl = command("eval", cmd_eval, "score extraction against plain trafilatura on a corpus")
    evl.add_argument("--corpus", help="folder holding trafilatura-eval/ and zyte/")
    evl.add_argument("--golden", help="golden pages (default: tests/golden when it exists)")
    evl.add_argument("--gate", action="store_true",
                     help="exit 1 if rasid's F1 trails plain trafilatura's by more than 0.002 on "
                          "a peer set or a golden page fails")
    evl.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                     help="processes (default: one per core)")

    setup = command("setup-prefect", cmd_setup_prefect,
                    "create the work pool and the per-host concurrency limits on the Prefect "
                    "server at PREFECT_API_URL (safe to rerun)")
    _sources_option(setup, "; required")
    setup.add_argument("--pool", default="rasid-process", help="work pool (default rasid-process)")
    return parser


def cmd_serve(args: argparse.Namespace) -> int:
    from rasid.serve import serve_reports
    from rasid.storage import open_lake

    return serve_reports(open_lake(args.lake), args.port)


def _resolve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Fill what was not given from the RASID_* settings; a bad value is a ConfigError."""
    from rasid.config import load_settings

    settings = load_settings()
    args.verbose = getattr(args, "verbose", False)
    args.log_level = getattr(args, "log_level", None) or settings.log_level
    if "lake" in args:
        args.lake = args.lake or settings.lake or "./lake"
    if "sources" in args and args.command in ("run", "setup-prefect"):
        args.sources = args.sources or settings.sources
        if not args.sources:
            parser.error(f"{args.command} needs --sources (or RASID_SOURCES)")
    if args.command == "extract":
        if not (args.paths or args.manifest):
            parser.error("extract needs PATH..., - (a manifest on stdin) or --manifest FILE")
        try:
            ZoneInfo(args.timezone)
        except (ValueError, ZoneInfoNotFoundError):
            parser.error(f"unknown --timezone {args.timezone!r} (an IANA name such as "
                         f"{DEFAULT_TIMEZONE})")


def main(argv: Sequence[str] | None = None) -> int:
    startup.tune_process()  # before any thread starts
    parser = build_parser()
    args = parser.parse_args(argv)
    from rasid.storage import StorageError

    try:
        _resolve(args, parser)
        logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("rasid").setLevel(args.log_level)
        return int(args.func(args))
    except ConfigError as exc:
        print(f"rasid: error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except StorageError as exc:
        print(f"rasid: error: {exc}", file=sys.stderr)
        return EXIT_STORAGE
    except KeyboardInterrupt:
        print("rasid: interrupted; committed runs are intact, rerun to finish", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
