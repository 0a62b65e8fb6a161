"""The package decides, the flows wrap: nothing under src/rasid imports Prefect."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "rasid"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_package_never_imports_prefect_or_flows() -> None:
    """Not even the command line: it reaches the flows through the orchestrator seam."""
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            m for m in imported_modules(path) if m.split(".")[0] in {"prefect", "rasid_flows"}
        )
        for path in PACKAGE.rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_seam_finds_the_prefect_orchestrator() -> None:
    from rasid import orchestration
    from rasid_flows.orchestrator import PrefectOrchestrator

    assert isinstance(orchestration.load(), PrefectOrchestrator)


def test_process_tuning_lives_in_the_start_up_module() -> None:
    tuners = {"gc", "ctypes", "atexit"}
    for root in (PACKAGE, PACKAGE.parents[1] / "flows"):
        for path in root.rglob("*.py"):
            used = {m.split(".")[0] for m in imported_modules(path)} & tuners
            # local_api.py asks the kernel (prctl through ctypes) to stop its server with it.
            allowed = {"startup.py": tuners, "local_api.py": {"ctypes"}}.get(path.name, set())
            assert used <= allowed, f"{path.name} imports {sorted(used - allowed)}"


def test_only_the_fetcher_and_storage_speak_io() -> None:
    io_modules = {
        "requests": {"fetch/http.py", "fetch/exchange.py", "fetch/connection.py",
                     "fetch/config_files.py"},
        "urllib3": {"fetch/exchange.py", "fetch/connection.py"},
        "boto3": {"storage/stores.py"}, "botocore": {"storage/stores.py"},
    }
    for path in PACKAGE.rglob("*.py"):
        used = {m.split(".")[0] for m in imported_modules(path)}
        name = path.relative_to(PACKAGE).as_posix()
        for module, allowed in io_modules.items():
            if module in used:
                assert name in allowed, f"{name} imports {module}"
