"""The report's files and where they go: the run's page, the latest page and the GX Data Docs
of the runs it covers, written to the lake's reports/ or copied into a folder."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from rasid import checks
from rasid.config import load_settings
from rasid.report import view
from rasid.report.facts import Facts, Manifest, committed_runs, gather, started
from rasid.report.render import DATA_DOCS, Links, render_html
from rasid.report.text import markdown_summary
from rasid.storage import Lake

REPORTS = "reports"
# Which validation results the Data Docs in the lake were built from, and their pages per run.
DOCS_INDEX = "rasid-docs-index.json"


def report_key(run_id: str) -> str:
    return f"{REPORTS}/{run_id}/index.html"


@dataclass(frozen=True)
class Published:
    report: str  # the run's report, e.g. reports/<run>/index.html
    markdown: str  # the run's table linking to the report, for a Prefect artifact


def link(lake: Lake, key: str) -> str:
    """A URL an operator opens from a Prefect artifact or a terminal: file:// for a local
    lake; for S3 the s3:// address, or a presigned HTTPS URL valid for RASID_REPORT_LINK_HOURS
    when that is set (it is 0, no presigning, by default)."""
    return lake.link(key, load_settings().report_link_hours * 3600)


def build(
    lake: Lake, run_id: str | None = None, *, runs_beside: bool = True, in_lake: bool = False
) -> tuple[Facts, dict[str, bytes]]:
    """The report's files, keyed by their path under ``reports/``: the run's page, the latest
    page (when the run is the latest) and the Data Docs of the runs it covers. ``in_lake``:
    the files go to the lake's reports/, where Data Docs built from the same results already
    are need not be built again (and are left out)."""
    manifests = committed_runs(lake, run_id)
    facts = gather(lake, run_id, manifests)
    site, pages = _data_docs(lake, facts.runs, reuse=in_lake)
    out = {f"{DATA_DOCS}/{path}": data for path, data in site.items()}
    page = view.build(facts)
    run = facts.run["run_id"]
    out[f"{run}/index.html"] = render_html(page, Links("../", runs_beside, pages)).encode()
    if run == manifests[-1]["run_id"]:
        out["index.html"] = render_html(page, Links("", runs_beside, pages)).encode()
    return facts, out


def publish(lake: Lake, run_id: str | None = None) -> Published:
    """Write the report on ``run_id`` (default: the latest run) and its Data Docs to the lake."""
    facts, out = build(lake, run_id, in_lake=True)
    for path, data in out.items():
        lake.write_bytes(f"{REPORTS}/{path}", data)
    key = report_key(facts.run["run_id"])
    docs = f"{REPORTS}/{DATA_DOCS}/index.html" if _validations(facts.runs) else None
    return Published(
        key, markdown_summary(facts, link(lake, key), link(lake, docs) if docs else None)
    )


def write_directory(lake: Lake, folder: Path) -> Path:
    """The latest report and its Data Docs as files in ``folder``; returns the page."""
    _, out = build(lake, runs_beside=False)
    for path, data in out.items():
        if PurePosixPath(path).parts[0] == DATA_DOCS or path == "index.html":
            target = folder / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return folder / "index.html"


def _data_docs(
    lake: Lake, runs: list[Manifest], reuse: bool = False
) -> tuple[dict[str, bytes], dict[str, list[str]]]:
    """GX Data Docs for the runs' committed validation results: (files, pages per run).

    ``reuse``: docs the lake holds, built from exactly these results, are not built again (no
    files): a run that found nothing new validated nothing, and must not pay seconds of GX
    for its report.
    """
    keys = _validations(runs)
    if not keys:
        return {}, {}
    built = _built_docs(lake) if reuse else None
    if built is not None and built.get("validations") == keys:
        return {}, built["pages"]
    times = {m["run_id"]: started(m) for m in runs}
    stored = [
        checks.StoredValidation(
            run, times[run], PurePosixPath(key).stem, json.loads(lake.read_bytes(key))
        )
        for run, key in keys
    ]
    with tempfile.TemporaryDirectory(prefix="rasid-docs-") as tmp:
        site = Path(tmp)
        pages = checks.build_data_docs(stored, site)
        out = {
            p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()
        }
    index = {"validations": keys, "pages": pages}
    out[DOCS_INDEX] = json.dumps(index, ensure_ascii=False, indent=1).encode()
    return out, pages


def _validations(runs: list[Manifest]) -> list[list[str]]:
    """[run id, key] of every stored validation result of the runs, in order (as JSON has it)."""
    return [[m["run_id"], key] for m in runs for key in m.get("files", {}).get("validations", [])]


def _built_docs(lake: Lake) -> dict[str, Any] | None:
    try:
        found = json.loads(lake.read_bytes(f"{REPORTS}/{DATA_DOCS}/{DOCS_INDEX}"))
    except (FileNotFoundError, KeyError, ValueError):
        return None
    return found if isinstance(found, dict) and isinstance(found.get("pages"), dict) else None
