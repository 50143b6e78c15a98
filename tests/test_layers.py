"""The layers import downwards only: the database module knows nothing of the domains above it, the pure
libraries (routing, the field rules, the evidence stores) know nothing of the web or the database, and each domain
imports only the domains below it (LAYERS), save the imports ALLOWED_UPWARD names."""

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imported_in(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _loaded_by(module: str) -> set[str]:
    """The modules that importing `module` loads, in a fresh interpreter."""
    code = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
    return set(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split())


def test_the_database_module_imports_nothing_above_it() -> None:
    ours = {name for name in _imported_in(ROOT / "api" / "db.py") if name.split(".")[0] == "api"}

    assert ours == {"api.problems"}


# each pure library, and the modules of `api` it may load (its own)
PURE = {
    "routing": (),
    "api.rules": ("api.rules",),
    "api.rules.position": ("api.rules",),
    "api.rules.hours": ("api.rules",),
    "api.rules.packs": ("api.rules",),
    "api.rules.evidence": ("api.rules",),
    "api.rules.eligibility": ("api.rules",),
    "api.rules.zones": ("api.rules",),
    "api.rules.tracking": ("api.rules",),
    "api.rules.presence": ("api.rules",),
    "evidence.storage": (),
    "api.rules.grading": ("api.rules",),
    "api.rules.door": ("api.rules",),
    "api.rules.plannability": ("api.rules",),
    "api.rules.field": ("api.rules",),
    "api.rules.pins": ("api.rules",),
}


@pytest.mark.parametrize("library", PURE)
def test_the_pure_libraries_load_no_web_or_database_code(library: str) -> None:
    loaded = _loaded_by(library)

    assert not {"fastapi", "sqlalchemy", "starlette"} & loaded
    own = PURE[library]
    assert not {name for name in loaded if name.startswith("api.") and not any(
        name == prefix or name.startswith(prefix + ".") for prefix in own
    )}  # fmt: skip


def test_the_visiting_hours_are_read_only_through_the_rules() -> None:
    """Only the branch's own module and the rules see the stored hours: every other caller asks `api.rules`."""
    readers = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "api").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr in ("visiting_from", "visiting_until")
    }

    assert readers == {
        "api/rules/branch.py",
        "api/branches/rules.py",
        "api/branches/schemas.py",
        "api/branches/service.py",
    }


# `api`'s packages and top-level modules, from the floor up: a module may import its own layer's and those below
LAYERS: list[set[str]] = [
    {"problems", "request_id", "enums", "paths", "config", "db", "rules", "geo", "models", "schemas", "pagination"},
    {"scope", "limits", "processes", "telemetry", "roads"},
    {"audit", "auth"},
    {"deps", "idempotency"},
    {"branches"},
    {"users"},
    {"teams", "cases", "third_parties"},
    {"findings", "visit_requests"},
    {"webhooks", "sheets", "payments"},
    {"address_reports", "tracks"},
    {"addresses", "visits"},
    {"visit_evidence", "traffic"},
    {"reports", "imports", "terminal", "sessions", "jobs", "console", "demo", "cli", "main"},
]
# upward imports kept on purpose, each with its reason
ALLOWED_UPWARD = {
    # planning runs the evening pre-check of its day's addresses before it solves
    ("api/sheets/planner.py", "addresses"),
}


def _floor_of(name: str) -> int:
    return next(floor for floor, members in enumerate(LAYERS) if name in members)


def _package_of(path: Path) -> str:
    """`api/sheets/planner.py` → sheets; `api/db.py` → db."""
    return path.relative_to(ROOT / "api").parts[0].removesuffix(".py")


def _imports_between_packages() -> dict[tuple[str, str], set[str]]:
    """(importing package, imported package) → the importing files."""
    edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path in (ROOT / "api").rglob("*.py"):
        source = _package_of(path)
        for module in _imported_in(path):
            parts = module.split(".")
            if parts[0] == "api" and len(parts) > 1 and parts[1] != source:
                edges[(source, parts[1])].add(path.relative_to(ROOT).as_posix())
    return edges


def test_every_package_has_a_floor() -> None:
    packages = {_package_of(path) for path in (ROOT / "api").rglob("*.py")} - {"__init__"}

    assert packages == set().union(*LAYERS)


def test_no_package_imports_one_above_it_but_those_allowed_by_name() -> None:
    upward = {
        (file, imported)
        for (source, imported), files in _imports_between_packages().items()
        if _floor_of(imported) > _floor_of(source)
        for file in files
    }

    assert upward == ALLOWED_UPWARD


def test_no_two_packages_import_each_other() -> None:
    edges = _imports_between_packages()

    assert not {tuple(sorted(pair)) for pair in edges if pair[::-1] in edges}
