"""The layers import downwards only: the database module knows nothing of the domains above it, and the pure
libraries (routing, the field rules, the evidence stores) know nothing of the web or the database."""

import ast
import subprocess
import sys
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
}


@pytest.mark.parametrize("library", PURE)
def test_the_pure_libraries_load_no_web_or_database_code(library: str) -> None:
    loaded = _loaded_by(library)

    assert not {"fastapi", "sqlalchemy", "starlette"} & loaded
    own = PURE[library]
    assert not {name for name in loaded if name.startswith("api.") and not any(
        name == prefix or name.startswith(prefix + ".") for prefix in own
    )}  # fmt: skip


def test_a_lower_domain_does_not_reach_up_for_shared_vocabularies() -> None:
    imported = set().union(*(_imported_in(path) for path in (ROOT / "api" / "branches").glob("*.py")))

    assert not {name for name in imported if name.startswith("api.visit_evidence")}


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
