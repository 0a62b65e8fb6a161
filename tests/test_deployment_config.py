"""prefect.yaml declares a scheduled deployment whose entrypoint is the real collect flow."""

import importlib
import importlib.util
import inspect
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def deployments() -> dict[str, dict]:
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    return {d["name"]: d for d in config["deployments"]}


def load_entrypoint(entrypoint: str) -> object:
    """Prefect's two entrypoint forms: ``path/to/file.py:name`` and ``package.module:name``."""
    path, name = entrypoint.split(":")
    if not path.endswith(".py"):
        return getattr(importlib.import_module(path), name)
    spec = importlib.util.spec_from_file_location("entrypoint_under_test", ROOT / path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def test_collect_is_scheduled_without_overlap() -> None:
    collect = deployments()["collect"]
    (schedule,) = collect["schedules"]
    assert schedule["cron"] and schedule["timezone"]
    assert collect["concurrency_limit"] == {"limit": 1, "collision_strategy": "CANCEL_NEW"}
    assert collect["work_pool"]["name"]


def test_entrypoint_is_the_collect_flow_and_parameters_match() -> None:
    collect = deployments()["collect"]
    flow = load_entrypoint(collect["entrypoint"])
    assert flow.name == "collect"
    accepted = set(inspect.signature(flow.fn).parameters)
    assert set(collect["parameters"]) <= accepted
