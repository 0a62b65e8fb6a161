"""Data-quality checks: the Great Expectations suite in ``expectations/`` run on every batch.

The pipeline computes a few helper columns (``duplicate_of``, ``language_matches``, ...) so that
every rule is a built-in expectation; GX then names the failing rows by ``article_id``.
Expectations with severity ``critical`` are blocking (the row goes to quarantine with the
expectation's ``meta.reason``); ``warning`` ones add the reason to the row's flags.
Validation returns results as data; the caller decides what to do with them.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

import pandas as pd

SUITE_NAME = "articles"
# Columns the suite reads; the pipeline provides them for every row.
CHECK_COLUMNS = (
    "article_id",
    "published_at",
    "word_count",
    "duplicate_of",
    "arabic_ratio",
    "min_arabic_ratio",
    "language_matches",
    "body_repeated",
    "date_plausible",
)

_lock = threading.Lock()


@dataclass(frozen=True)
class Rule:
    expectation: str
    column: str
    reason: str
    blocking: bool


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
    out = []
    for exp in load_suite_spec(name)["expectations"]:
        kwargs = exp["kwargs"]
        out.append(
            Rule(
                expectation=exp["type"],
                column=kwargs.get("column") or kwargs.get("column_A", ""),
                reason=exp["meta"]["reason"],
                blocking=exp.get("severity", "critical") == "critical",
            )
        )
    return out


@cache
def _validation(name: str) -> Any:
    # GX takes seconds to import and set up: do it once per process, on first use.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX pins some module loggers at INFO; its set-up chatter is not news for our users.
    for logger in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(logger).setLevel(logging.WARNING)

    spec = load_suite_spec(name)
    context = gx.get_context(mode="ephemeral")
    # GX draws tqdm bars per validation; in a pipeline they are noise on stderr.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("rasid").add_dataframe_asset(name)
    batch = asset.add_batch_definition_whole_dataframe("batch")
    suite = gx.ExpectationSuite(
        name=spec["name"], expectations=spec["expectations"], meta=spec.get("meta")
    )
    if len(suite.expectations) != len(spec["expectations"]):
        # GX logs and skips an invalid expectation instead of failing; we refuse to run short.
        raise ValueError(f"expectation suite {name!r} has invalid expectations")
    suite = context.suites.add(suite)
    return context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{name}-batch", data=batch, suite=suite)
    )


def validate(frame: pd.DataFrame, name: str = SUITE_NAME) -> CheckOutcome:
    """Run the suite on one batch; every row must carry ``article_id`` and CHECK_COLUMNS."""
    outcome = CheckOutcome()
    if frame.empty:
        return outcome
    missing = [c for c in CHECK_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"batch lacks check columns: {', '.join(missing)}")
    with _lock:  # a GX context is not safe to share between threads
        result = _validation(name).run(
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
