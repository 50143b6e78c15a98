"""openapi.yaml is the app's document, and the document describes every schema, enum and operation."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from typer.testing import CliRunner

from api.cli import cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def document(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


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
