"""Schema-driven fuzzing: whatever a client sends, the API answers with a documented status and body, never a 500."""

import json

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from api.main import app as default_app
from api.models.users import Role, User
from tests.factories import auth_headers, make_address, make_branch, make_case, make_team, make_user, make_visit_request

DOCUMENT = json.loads(json.dumps(default_app.openapi()))  # as /openapi.json serves it, and the same for every app
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)  # read once: each test points it at its own app
OPERATIONS = sorted(f"{method.upper()} {path}" for path, methods in DOCUMENT["paths"].items() for method in methods)


@pytest.fixture
def callers(session: Session) -> list[dict[str, str] | None]:
    """No token, a supervisor and an agent of a branch with a bit of everything, so that fuzzed requests reach past
    authentication and past the role checks of both."""
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    team = make_team(session, branch)
    make_visit_request(session, make_address(session, make_case(session, branch)))
    agent = session.get_one(User, team.members[0].agent_id)
    return [None, auth_headers(supervisor), auth_headers(agent)]


@pytest.mark.fuzz
@pytest.mark.parametrize("label", OPERATIONS)
def test_no_input_breaks_the_api(label: str, app: FastAPI, callers: list[dict[str, str] | None]) -> None:
    SCHEMA.app = app
    operation = SCHEMA.find_operation_by_label(label)
    assert operation is not None

    @settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation.as_strategy(), caller=st.sampled_from(callers))
    def check(case: schemathesis.Case, caller: dict[str, str] | None) -> None:
        # 60 s, not schemathesis's 10: on CI's two busy cores a write may wait its turn for a while; a hang still fails
        case.call_and_validate(
            headers=caller, excluded_checks=[schemathesis.checks.positive_data_acceptance], timeout=60
        )

    check()
