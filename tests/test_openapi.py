"""openapi.yaml is the app's document, and the document describes every schema, enum and operation."""

import ast
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from api.cli import cli
from api.main import app as default_app  # and every router, so that every kind of problem is defined
from api.problems import Conflict, Problem, problem_model

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The app's document (the same for every app: made once)."""
    return default_app.openapi()


def test_openapi_yaml_matches_the_app(document: dict[str, Any]) -> None:
    committed = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))

    assert committed == document, "openapi.yaml drifted from the app: run `fieldvisit openapi export`"


def test_every_schema_and_enum_has_a_description(document: dict[str, Any]) -> None:
    undescribed = [name for name, schema in document["components"]["schemas"].items() if not schema.get("description")]

    assert undescribed == []


def test_every_operation_is_described_with_a_stable_id(document: dict[str, Any]) -> None:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            assert operation.get("description") or operation.get("summary"), f"{method} {path}"
            assert operation["operationId"].startswith(operation["tags"][0] + "-"), f"{method} {path}"


def test_errors_are_documented_as_problems(document: dict[str, Any]) -> None:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert "application/problem+json" in response["content"], f"{method} {path} {status}"


def test_export_check_passes_then_fails_after_a_change(tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "openapi.yaml"

    assert runner.invoke(cli, ["openapi", "export", "--output", str(target)]).exit_code == 0
    assert runner.invoke(cli, ["openapi", "export", "--check", "--output", str(target)]).exit_code == 0
    target.write_text(target.read_text(encoding="utf-8").replace("fieldvisit", "fieldvisits", 1), encoding="utf-8")
    result = runner.invoke(cli, ["openapi", "export", "--check", "--output", str(target)])
    assert result.exit_code == 1
    assert "out of date" in result.output


def _problem_kinds() -> list[type[Problem]]:
    found, todo = [], [Problem]
    while todo:
        kind = todo.pop()
        found.append(kind)
        todo.extend(kind.__subclasses__())
    return found


def test_every_problem_says_in_the_document_what_its_members_are(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    documented = {
        ref["$ref"].rsplit("/", 1)[-1]
        for methods in document["paths"].values()
        for operation in methods.values()
        for response in operation["responses"].values()
        for media in response.get("content", {}).values()
        for ref in media.get("schema", {}).get("anyOf", [media.get("schema", {})])
        if "$ref" in ref
    }
    for kind in _problem_kinds():
        name = problem_model(kind).__name__
        if name not in documented:
            continue
        properties = schemas[name]["properties"]
        assert set(kind.all_members()) <= set(properties), name
        assert all(properties[member].get("description") for member in kind.all_members()), name
    confirm = document["paths"]["/visits/{visit_id}/outcome/confirm"]["post"]["responses"]["409"]
    refs = [ref["$ref"] for ref in confirm["content"]["application/problem+json"]["schema"]["anyOf"]]
    incomplete = schemas["EvidenceIncompleteProblem"]["properties"]
    assert "#/components/schemas/EvidenceIncompleteProblem" in refs
    assert {"recording_coverage", "required_coverage", "missing_photos"} <= set(incomplete)
    assert "first check-in" in incomplete["recording_coverage"]["description"]


def test_problems_are_raised_only_with_the_members_they_declare() -> None:
    kinds: dict[str, list[type[Problem]]] = {}
    for kind in _problem_kinds():
        kinds.setdefault(kind.__name__, []).append(kind)
    wrong = []
    for path in sorted((ROOT / "api").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            given = {keyword.arg for keyword in node.keywords if keyword.arg} - {"errors"}
            for kind in kinds.get(str(name), []):
                if given - set(kind.all_members()):
                    wrong.append(
                        f"{path.relative_to(ROOT)}:{node.lineno} {name} {sorted(given - set(kind.all_members()))}"
                    )
    assert wrong == []


def test_a_problem_with_an_undeclared_member_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="declares no member"):
        Conflict("no such member", colour="blue")


def test_each_kind_of_problem_has_its_own_type() -> None:
    slugs = [kind.slug for kind in _problem_kinds() if "slug" in vars(kind)]

    assert sorted(slug for slug in set(slugs) if slugs.count(slug) > 1) == []


def test_every_post_documents_its_idempotency_key_and_the_retry_answers(document: dict[str, Any]) -> None:
    posts = {path: methods["post"] for path, methods in document["paths"].items() if "post" in methods}
    for path, operation in posts.items():
        [key] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert key["in"] == "header" and not key["required"] and key["schema"]["maxLength"] == 200, path
        if "security" not in operation:
            assert key["description"].startswith("Not used here"), path
            continue
        success = [response for status, response in operation["responses"].items() if status.startswith("2")]
        assert all("Idempotent-Replayed" in response["headers"] for response in success), path
        for status, problem in (("409", "RequestInProgressProblem"), ("422", "IdempotencyKeyReusedProblem")):
            schema = operation["responses"][status]["content"]["application/problem+json"]["schema"]
            assert {"$ref": f"#/components/schemas/{problem}"} in schema["anyOf"], (path, status)
    assert len(posts) > 25
    assert "IdempotencyKeyReusedProblem" in document["components"]["schemas"]
