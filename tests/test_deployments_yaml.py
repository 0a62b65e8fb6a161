"""prefect.yaml: every deployment an operator needs, each pointing at a real flow that takes
its parameters, on the process work pool that `rasid setup-prefect` creates."""

from __future__ import annotations

import inspect
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.flows import load_flow_from_entrypoint

from rasid_flows.setup_prefect import WORK_POOL

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
DEPLOYMENTS = {d["name"]: d for d in CONFIG["deployments"]}


def test_the_operator_gets_collection_compaction_report_and_backfill() -> None:
    assert set(DEPLOYMENTS) == {"collect", "nightly-compaction", "daily-report", "backfill"}


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_each_deployment_runs_a_flow_that_takes_its_parameters(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    deployment = DEPLOYMENTS[name]
    monkeypatch.chdir(ROOT.parent)  # entrypoints are installed modules: no checkout needed
    flow = load_flow_from_entrypoint(deployment["entrypoint"])
    accepted = inspect.signature(flow.fn).parameters
    assert set(deployment["parameters"]) <= set(accepted)
    # Where the lake and the sources are is the worker's environment or a Prefect Variable,
    # never a path that means something else on each machine.
    assert not {"lake", "sources_file"} & set(deployment["parameters"])
    assert {"lake"} <= set(accepted) and accepted["lake"].default is None
    required = {p for p, spec in accepted.items() if spec.default is inspect.Parameter.empty}
    # Only the backfill asks for something at run time: the days to collect.
    assert required - set(deployment["parameters"]) == ({"start", "end"} if name == "backfill" else set())
    assert deployment["work_pool"]["name"] == WORK_POOL


def schedules(name: str) -> list[dict[str, Any]]:
    return DEPLOYMENTS[name].get("schedules") or []


def test_scheduled_ones_run_on_the_newsroom_clock_and_never_overlap() -> None:
    (every_15,) = schedules("collect")
    assert every_15["cron"] == "*/15 * * * *" and every_15["timezone"] == "Asia/Damascus"
    for name in ("collect", "nightly-compaction"):
        assert DEPLOYMENTS[name]["concurrency_limit"] == {"limit": 1, "collision_strategy": "CANCEL_NEW"}
    for name in ("nightly-compaction", "daily-report"):
        (daily,) = schedules(name)
        *_, day_of_month, month, weekday = daily["cron"].split()
        assert (day_of_month, month, weekday) == ("*", "*", "*") and daily["timezone"] == "Asia/Damascus"
    assert schedules("backfill") == []  # on demand only


def test_runs_that_fetch_hold_the_shared_host_limits() -> None:
    for name in ("collect", "backfill"):
        assert DEPLOYMENTS[name]["parameters"]["shared_host_limits"] is True


def test_no_credential_travels_as_a_parameter() -> None:
    text = (ROOT / "prefect.yaml").read_text(encoding="utf-8")
    for deployment in DEPLOYMENTS.values():
        assert not any("key" in p.lower() or "secret" in p.lower() for p in deployment["parameters"])
    assert "AWS_SECRET_ACCESS_KEY:" not in text


def test_the_declared_prefect_version_is_the_floor_ci_tests() -> None:
    project = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (floor,) = re.findall(r'"prefect>=([0-9.]+),', project)
    assert CONFIG["prefect-version"].startswith(floor)
    # And the environment running this test is at or above it (CI runs it at the floor too).
    installed = tuple(int(p) for p in version("prefect").split(".")[:2])
    assert installed >= tuple(int(p) for p in floor.split(".")[:2])
