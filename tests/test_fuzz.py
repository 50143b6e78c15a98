"""Schema-driven fuzzing: whatever a client sends, the API answers with a documented status and body, never a 500."""

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from api.main import app as default_app
from api.users.models import Role
from tests.factories import auth_headers, make_address, make_branch, make_case, make_team, make_user, make_visit_request

OPERATIONS = sorted(
    f"{method.upper()} {path}" for path, methods in default_app.openapi()["paths"].items() for method in methods
)


@pytest.fixture
def supervisor_headers(session: Session) -> dict[str, str]:
    """A supervisor whose branch has a bit of everything, so that fuzzed requests reach past authentication."""
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    make_team(session, branch)
    make_visit_request(session, make_address(session, make_case(session, branch)))
    return auth_headers(supervisor)


@pytest.mark.fuzz
@pytest.mark.parametrize("label", OPERATIONS)
def test_no_input_breaks_the_api(label: str, app: FastAPI, supervisor_headers: dict[str, str]) -> None:
    operation = schemathesis.openapi.from_asgi("/openapi.json", app).find_operation_by_label(label)
    assert operation is not None

    @settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation.as_strategy(), authenticated=st.booleans())
    def check(case: schemathesis.Case, authenticated: bool) -> None:
        case.call_and_validate(
            headers=supervisor_headers if authenticated else None,
            excluded_checks=[schemathesis.checks.positive_data_acceptance],
        )

    check()
