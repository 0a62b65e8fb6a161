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


# The command line is the edge that starts flows; it may import them (lazily), nothing else.
EDGE = {"cli.py"}


def test_package_never_imports_prefect_or_flows() -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            m for m in imported_modules(path) if m.split(".")[0] in {"prefect", "rasid_flows"}
        )
        for path in PACKAGE.rglob("*.py")
        if path.name not in EDGE
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_even_the_edge_never_imports_prefect_directly() -> None:
    assert not any(m.startswith("prefect") for m in imported_modules(PACKAGE / "cli.py"))


def test_only_the_fetcher_and_storage_speak_io() -> None:
    io_modules = {
        "requests": {"fetch/http.py", "fetch/connection.py"},
        "urllib3": {"fetch/http.py", "fetch/connection.py"},
        "boto3": {"storage/stores.py"}, "botocore": {"storage/stores.py"},
    }
    for path in PACKAGE.rglob("*.py"):
        used = {m.split(".")[0] for m in imported_modules(path)}
        name = path.relative_to(PACKAGE).as_posix()
        for module, allowed in io_modules.items():
            if module in used:
                assert name in allowed, f"{name} imports {module}"
