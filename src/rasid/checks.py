"""Data-quality checks: the Great Expectations suite in ``expectations/`` run on every batch.

The pipeline computes a few helper columns (``duplicate_of``, ``language_matches``, ...) so that
every rule is a built-in expectation; GX then names the failing rows by ``article_id``.
Expectations with severity ``critical`` are blocking (the row goes to quarantine with the
expectation's ``meta.reason``); ``warning`` ones add the reason to the row's flags.
Validation returns results as data; the caller decides what to do with them. The pipeline
stores each batch's GX result with the run, and ``build_data_docs`` renders Data Docs from them.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

SUITE_NAME = "articles"
# Columns the suite reads; the pipeline provides them for every row.
CHECK_COLUMNS = (
    "article_id",
    "published_at",
    "word_count",
    "duplicate_of",
    "near_duplicate_of",
    "arabic_ratio",
    "min_arabic_ratio",
    "language_matches",
    "body_repeated",
    "date_plausible",
)

_lock = threading.Lock()


class Words(NamedTuple):
    """A phrase for editors, Arabic then English."""

    ar: str
    en: str


@dataclass(frozen=True)
class Rule:
    expectation: str
    column: str
    reason: str
    blocking: bool
    check: Words  # what the check asks, e.g. "publication date found"
    failure: Words  # what a failing row means, e.g. "no publication date found"


@dataclass
class CheckOutcome:
    """Per-row verdicts plus the suite-level summary of one validation run."""

    reasons: dict[str, list[str]] = field(default_factory=dict)  # blocking, by article_id
    warnings: dict[str, list[str]] = field(default_factory=dict)  # by article_id
    rules: list[dict[str, Any]] = field(default_factory=list)  # one per expectation
    success: bool = True
    validation: dict[str, Any] | None = None  # the GX result as JSON, for Data Docs and audits

    def blocking(self, article_id: str) -> list[str]:
        return self.reasons.get(article_id, [])


def load_suite_spec(name: str = SUITE_NAME) -> dict[str, Any]:
    text = files("rasid.expectations").joinpath(f"{name}.json").read_text(encoding="utf-8")
    spec: dict[str, Any] = json.loads(text)
    return spec


def rules(name: str = SUITE_NAME) -> list[Rule]:
    """The suite's expectations with their reasons and words (each expectation's ``meta``)."""
    return [rule(exp) for exp in load_suite_spec(name)["expectations"]]


def rule(expectation: dict[str, Any]) -> Rule:
    """One expectation of the suite as a Rule."""
    kwargs, meta = expectation["kwargs"], expectation["meta"]
    return Rule(
        expectation=expectation["type"],
        column=kwargs.get("column") or kwargs.get("column_A", ""),
        reason=meta["reason"],
        blocking=expectation.get("severity", "critical") == "critical",
        check=Words(**meta["check"]),
        failure=Words(**meta["failure"]),
    )


def _context(project_root: str | None = None) -> Any:
    """A quiet GX context: ephemeral, or file-backed in ``project_root``. GX itself is imported
    on first use only."""
    # GX takes seconds to import: a process that never validates never pays for it.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX pins some module loggers at INFO; its set-up chatter is not news for our users.
    for logger in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(logger).setLevel(logging.WARNING)
    context = (
        gx.get_context(mode="file", project_root_dir=project_root)
        if project_root
        else gx.get_context(mode="ephemeral")
    )
    # GX draws tqdm bars per validation; in a pipeline they are noise on stderr.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _add_suite(context: Any, name: str) -> Any:
    import great_expectations as gx

    spec = load_suite_spec(name)
    suite = gx.ExpectationSuite(
        name=spec["name"], expectations=spec["expectations"], meta=spec.get("meta")
    )
    if len(suite.expectations) != len(spec["expectations"]):
        # GX logs and skips an invalid expectation instead of failing; we refuse to run short.
        raise ValueError(f"expectation suite {name!r} has invalid expectations")
    return context.suites.add(suite)


def warm_up(name: str = SUITE_NAME) -> None:
    """Import GX and set the suite up now, ahead of the first batch: seconds of work a command
    can do while it waits for something else (Prefect's API server to boot)."""
    with _lock:  # the first batch waits for this rather than setting up a second context
        _validation(name)


@cache
def _validation(name: str) -> tuple[Any, Any]:
    """(context, validation definition) of a suite: set up once per process, on first use."""
    import great_expectations as gx

    context = _context()
    asset = context.data_sources.add_pandas("rasid").add_dataframe_asset(name)
    batch = asset.add_batch_definition_whole_dataframe("batch")
    suite = _add_suite(context, name)
    return context, context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{name}-batch", data=batch, suite=suite)
    )


def _activate(context: Any) -> None:
    """Make ``context`` GX's current project again. A validation definition checks that its
    suite and data source exist in the current project, and every context opened later in the
    process (the Data Docs builder's, another suite's) becomes the current one, and older GX
    (1.7, the floor) then fails the validation ("Could not find datasource")."""
    from great_expectations.data_context.data_context.context_factory import project_manager

    project_manager.set_project(context)


def validate(frame: pd.DataFrame, name: str = SUITE_NAME) -> CheckOutcome:
    """Run the suite on one batch; every row must carry ``article_id`` and CHECK_COLUMNS."""
    outcome = CheckOutcome()
    if frame.empty:
        return outcome
    missing = [c for c in CHECK_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"batch lacks check columns: {', '.join(missing)}")
    with _lock:  # a GX context is not safe to share between threads
        context, validation = _validation(name)
        _activate(context)
        result = validation.run(
            batch_parameters={"dataframe": frame[list(CHECK_COLUMNS)]},
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": ["article_id"],
            },
        )
    outcome.success = bool(result.success)
    outcome.validation = result.to_json_dict()
    for res in result.results:
        config = res.expectation_config
        reason = config.meta["reason"]
        blocking = str(getattr(config.severity, "value", config.severity)) == "critical"
        failing = [row["article_id"] for row in res.result.get("unexpected_index_list") or []]
        target = outcome.reasons if blocking else outcome.warnings
        for article_id in failing:
            target.setdefault(article_id, []).append(reason)
        outcome.rules.append(
            {
                "reason": reason,
                "expectation": config.type,
                "blocking": blocking,
                "success": bool(res.success),
                "checked": int(res.result.get("element_count") or len(frame)),
                "failed": len(failing),
            }
        )
    return outcome


# --- which rows the suite will block, before it runs --------------------------------------

# How each expectation type the suite uses fails a row, restated for pandas: (frame, kwargs)
# -> a boolean Series, True where the row fails. Values GX leaves out (nulls, for all but the
# null checks) never fail.
_FAILS: dict[str, Callable[[pd.DataFrame, dict[str, Any]], pd.Series]] = {
    "expect_column_values_to_not_be_null": lambda f, kw: f[kw["column"]].isna(),
    "expect_column_values_to_be_null": lambda f, kw: f[kw["column"]].notna(),
    "expect_column_values_to_be_between": lambda f, kw: f[kw["column"]].notna() & ~(
        f[kw["column"]].between(
            -float("inf") if kw.get("min_value") is None else kw["min_value"],
            float("inf") if kw.get("max_value") is None else kw["max_value"],
            inclusive=("neither" if kw.get("strict_min") and kw.get("strict_max")
                       else "right" if kw.get("strict_min") else "left" if kw.get("strict_max")
                       else "both"))),
    "expect_column_values_to_be_in_set": lambda f, kw: f[kw["column"]].notna() & ~(
        f[kw["column"]].isin(kw["value_set"])),
    "expect_column_values_to_be_unique": lambda f, kw: f[kw["column"]].notna() & (
        f[kw["column"]].duplicated(keep=False)),
    "expect_column_pair_values_a_to_be_greater_than_b": lambda f, kw: (
        f[kw["column_A"]].notna() | f[kw["column_B"]].notna()) & ~(
        f[kw["column_A"]] >= f[kw["column_B"]] if kw.get("or_equal")
        else f[kw["column_A"]] > f[kw["column_B"]]),
}


def predict_blocked(frame: pd.DataFrame, ignore: frozenset[str],
                    name: str = SUITE_NAME) -> list[bool] | None:
    """Which rows the suite's blocking expectations will fail, leaving out those that read a
    column in ``ignore``; None when the suite holds an expectation this does not restate.

    The check step needs this before it can run the suite: which rows may own a body depends
    on what else blocks them. It is a forecast, and the suite's own result is the verdict: the
    caller compares the two and runs the suite again on the rare batch where they differ.
    """
    blocked = pd.Series(False, index=frame.index)
    for expectation in load_suite_spec(name)["expectations"]:
        kwargs = expectation["kwargs"]
        columns = {kwargs.get(k) for k in ("column", "column_A", "column_B")} - {None}
        if expectation.get("severity", "critical") != "critical" or columns & ignore:
            continue
        fails = _FAILS.get(expectation["type"])
        if fails is None or set(kwargs) - _RESTATED_KWARGS:
            return None
        blocked |= fails(frame, kwargs).fillna(False).astype(bool)
    return [bool(b) for b in blocked]


_RESTATED_KWARGS = frozenset({"column", "column_A", "column_B", "min_value", "max_value",
                              "strict_min", "strict_max", "value_set", "or_equal"})


@dataclass(frozen=True)
class StoredValidation:
    """One batch's GX result as the pipeline stored it, with the run it belongs to."""

    run_id: str
    run_time: datetime
    batch: str  # e.g. "part-0000"
    result: dict[str, Any]  # CheckOutcome.validation


# GX's pages load their logos from GX's own bucket, the context id attached: every editor
# opening the docs would call out to it. The site ships its logo in static/ instead.
_REMOTE_LOGO = re.compile(r"https://great-expectations-web-assets\.[^\"')\s]*")


def build_data_docs(
    validations: list[StoredValidation], site_dir: Path, name: str = SUITE_NAME
) -> dict[str, list[str]]:
    """Render GX Data Docs for ``validations`` into ``site_dir`` (a local folder: GX dropped
    its S3 stores, so the caller uploads the files). Returns each run's validation pages,
    relative to ``site_dir``."""
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResultSchema,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    site_dir = site_dir.resolve()
    with tempfile.TemporaryDirectory(prefix="rasid-gx-") as project:
        context = _context(project)
        for site in list(context.get_config().data_docs_sites or {}):
            context.delete_data_docs_site(site)
        context.add_data_docs_site(
            "rasid",
            {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(site_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        suite = _add_suite(context, name)
        schema = ExpectationSuiteValidationResultSchema()
        for stored in validations:
            key = ValidationResultIdentifier(
                ExpectationSuiteIdentifier(suite.name),
                RunIdentifier(run_name=stored.run_id, run_time=stored.run_time),
                batch_identifier=stored.batch,
            )
            # Validation ran before the run had a name to give GX: stamp it, for GX's titles.
            run = {"run_name": stored.run_id, "run_time": stored.run_time.isoformat()}
            result = {**stored.result, "meta": {**stored.result.get("meta", {}), "run_id": run}}
            context.validation_results_store.set(key, schema.load(result))
        context.build_data_docs(site_names=["rasid"])
    for page in site_dir.rglob("*.html"):
        depth = len(page.relative_to(site_dir).parts) - 1
        local = "../" * depth + "static/images/logo-long.png"
        text = page.read_text(encoding="utf-8")
        page.write_text(_REMOTE_LOGO.sub(local, text), encoding="utf-8")
    return {
        run_id: sorted(
            p.relative_to(site_dir).as_posix()
            for p in site_dir.glob(f"validations/{suite.name}/{run_id}/*/*.html")
        )
        for run_id in dict.fromkeys(v.run_id for v in validations)
    }
