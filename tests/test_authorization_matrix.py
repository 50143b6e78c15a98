"""Every route that names an object, called with the real ids of another branch's objects (and, where objects belong
to a team, of another team's), answers 403 or 404 — exactly what it answers for ids that do not exist, so that no
answer tells an object exists. The routes come from the app: a new route without an entry here fails."""

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture

from api.db import utcnow
from api.models.branches import Branch
from api.models.cases import DebtCase
from api.models.payments import Promise
from api.models.sheets import PlanningRun
from api.models.users import Role, User
from api.rules.promises import PromiseState
from tests.factories import auth_headers, make_contact, make_team, make_user
from tests.test_visits import CHECKLIST, Day

Body = Callable[[], dict[str, Any] | bytes | None]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _outcome() -> dict[str, Any]:
    return {
        "contact_result": "nobody",
        "mailbox": {"checked": True, "mail_for_debtor": False},
        "address_assessment": "unclear",
        "client_id": str(uuid4()),
    }


def _declaration() -> dict[str, Any]:
    return {
        "kind": "photo",
        "purpose": "door",
        "content_type": "image/jpeg",
        "size": 10,
        "sha256": hashlib.sha256(uuid4().bytes).hexdigest(),
        "captured_at": _now(),
        "client_id": str(uuid4()),
    }


# "METHOD path" -> (the body to send, whether the object belongs to a team: then another team is tried too)
MATRIX: dict[str, tuple[Body, bool]] = {
    "GET /addresses/{address_id}": (lambda: None, False),
    "PATCH /addresses/{address_id}": (lambda: {"raw_text": "changed"}, False),
    "PUT /addresses/{address_id}/point": (lambda: {"point": {"lat": 31.23, "lon": 121.47}}, False),
    "POST /addresses/{address_id}/invalid-reports": (
        lambda: {"reason": "demolished", "note": "gone", "client_id": str(uuid4())},
        True,
    ),
    "GET /branches/{branch_id}": (lambda: None, False),
    "PATCH /branches/{branch_id}": (lambda: {"name": f"Renamed {uuid4().hex[:6]}"}, False),
    "GET /branches/{branch_id}/travel-calibrations": (lambda: None, False),
    "POST /promises/{promise_id}/follow-up": (lambda: None, False),
    "POST /branches/{branch_id}/travel-calibrations": (lambda: {"since": "2026-11-01", "until": "2026-11-28"}, False),
    "GET /cases/{case_id}": (lambda: None, False),
    "PATCH /cases/{case_id}": (lambda: {"notes": "changed"}, False),
    "GET /cases/{case_id}/addresses": (lambda: None, False),
    "POST /cases/{case_id}/addresses": (lambda: {"kind": "home", "raw_text": "上海市静安区南京西路1号"}, False),
    "GET /cases/{case_id}/dossier": (lambda: None, False),
    "GET /cases/{case_id}/dossier.pdf": (lambda: None, False),
    "GET /cases/{case_id}/contacts": (lambda: None, False),
    "GET /cases/{case_id}/restrictions": (lambda: None, False),
    "POST /cases/{case_id}/restrictions": (lambda: {"flag": "vulnerable"}, False),
    "POST /cases/{case_id}/restrictions/{restriction_id}/lift": (lambda: {"reason": "no longer"}, False),
    "POST /cases/{case_id}/contacts": (lambda: {"phone": "13900000000", "kind": "mobile"}, False),
    "GET /contacts/{contact_id}": (lambda: None, False),
    "PATCH /contacts/{contact_id}": (lambda: {"notes": "changed"}, False),
    "GET /evidence/{evidence_id}": (lambda: None, True),
    "POST /evidence/{evidence_id}/complete": (lambda: None, True),
    "GET /evidence/{evidence_id}/content": (lambda: None, True),
    "PUT /evidence/{evidence_id}/content": (lambda: b"0123456789", True),
    "GET /evidence/{evidence_id}/upload": (lambda: None, True),
    "GET /invalid-address-reports/{report_id}": (lambda: None, True),
    "POST /invalid-address-reports/{report_id}/confirm": (lambda: {}, False),
    "POST /invalid-address-reports/{report_id}/reject": (lambda: {"note": "the building stands"}, False),
    "GET /planning-runs/{run_id}": (lambda: None, False),
    "POST /planning-runs/{run_id}/cancel": (lambda: None, False),
    "DELETE /planning-runs/{run_id}/edits/{visit_request_id}": (lambda: None, False),
    "PUT /planning-runs/{run_id}/edits/{visit_request_id}": (lambda: {"action": "remove"}, False),
    "POST /planning-runs/{run_id}/publish": (lambda: None, False),
    "POST /planning-runs/{run_id}/resolve": (lambda: None, False),
    "GET /planning-runs/{run_id}/unplanned/{visit_request_id}/options": (lambda: None, False),
    "GET /teams/{team_id}": (lambda: None, False),
    "PATCH /teams/{team_id}": (lambda: {"name": f"Renamed {uuid4().hex[:6]}"}, False),
    "GET /teams/{team_id}/track": (lambda: None, False),
    "POST /teams/{team_id}/departure-checks": (lambda: {"items": CHECKLIST, "client_id": str(uuid4())}, True),
    "POST /teams/{team_id}/stand-down": (lambda: {"reason": "an agent is ill"}, False),
    "GET /users/{user_id}": (lambda: None, False),
    "PATCH /users/{user_id}": (lambda: {"full_name": "Renamed"}, False),
    "GET /visit-requests/{visit_request_id}": (lambda: None, False),
    "PATCH /visit-requests/{visit_request_id}": (lambda: {"notes": "changed"}, False),
    "POST /visit-requests/{visit_request_id}/eligibility-releases": (
        lambda: {"flag": "visit_cap", "reason": "asked for"},
        False,
    ),
    "GET /visit-sheets/{sheet_id}": (lambda: None, True),
    "GET /visit-sheets/{sheet_id}.csv": (lambda: None, True),
    "GET /visit-sheets/{sheet_id}.pdf": (lambda: None, True),
    "POST /visit-sheets/{sheet_id}/replan": (lambda: {"position": {"lat": 31.23, "lon": 121.47}, "time": _now()}, True),
    "POST /visit-sheets/{sheet_id}/stops/{visit_request_id}/check-ins": (
        lambda: {"lat": 31.23, "lon": 121.47, "accuracy_m": 10, "device_time": _now(), "client_id": str(uuid4())},
        True,
    ),
    "POST /visit-sheets/{sheet_id}/stops/{visit_request_id}/hours-override": (
        lambda: {"reason": "the debtor asked for the evening"},
        False,
    ),
    "GET /visits/{visit_id}": (lambda: None, True),
    "GET /visits/{visit_id}/cash-approvals": (lambda: None, True),
    "POST /visits/{visit_id}/cash-approvals": (lambda: {"max_amount": "100.00", "reason": "offers cash"}, False),
    "GET /visits/{visit_id}/evidence": (lambda: None, True),
    "POST /visits/{visit_id}/evidence": (_declaration, True),
    "POST /visits/{visit_id}/outcome": (_outcome, True),
    "POST /visits/{visit_id}/outcome/amendments": (_outcome, True),
    "POST /visits/{visit_id}/outcome/confirm": (lambda: None, True),
    "POST /visits/{visit_id}/start": (lambda: {}, True),
    "DELETE /webhooks/{webhook_id}": (lambda: None, False),
    "GET /webhooks/{webhook_id}": (lambda: None, False),
}


def _routes_naming_objects(app: FastAPI) -> set[str]:
    """Routes with an object's id in the path (a day, `/visit-sheets/days/{work_date}`, is the caller's branch's)."""
    return {
        f"{method.upper()} {path}"
        for path, methods in app.openapi()["paths"].items()
        if "_id}" in path
        for method in methods
    }


def test_every_route_naming_an_object_is_in_the_matrix(app: FastAPI) -> None:
    assert _routes_naming_objects(app) == set(MATRIX)


def _world(client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture) -> dict[str, str]:
    """A branch's day under way, with one of every kind of object, by the name of the path parameter."""
    day = Day(client, session, time_machine)
    visit_id = day.started()
    declared = client.post(f"/visits/{visit_id}/evidence", json=_declaration(), headers=auth_headers(day.a))
    report = client.post(
        f"/addresses/{day.requests[1].address_id}/invalid-reports",
        json={"reason": "vague", "note": "no such number", "client_id": str(uuid4())},
        headers=auth_headers(day.a),
    )
    webhook = client.post(
        "/webhooks",
        json={"url": "http://127.0.0.1:9/hooks", "secret": "a-secret-of-the-branch-crm"},
        headers=auth_headers(day.supervisor),
    )
    restriction = client.post(
        f"/cases/{day.request.case_id}/restrictions", json={"flag": "attorney"}, headers=auth_headers(day.supervisor)
    )
    assert declared.status_code == report.status_code == webhook.status_code == restriction.status_code == 201
    run = session.scalars(select(PlanningRun.id).where(PlanningRun.branch_id == day.team.branch_id)).one()
    promise = Promise(
        branch_id=day.team.branch_id,
        case_id=day.request.case_id,
        visit_id=visit_id,
        made_at=utcnow(),
        due_on=day.work_date,
        amount=Decimal("100.00"),
        currency="CNY",
        paid=Decimal("0.00"),
        state=PromiseState.BROKEN,
    )
    session.add(promise)
    session.commit()
    return {
        "address_id": str(day.request.address_id),
        "branch_id": str(day.team.branch_id),
        "case_id": str(day.request.case_id),
        "contact_id": str(make_contact(session, session.get_one(DebtCase, day.request.case_id)).id),
        "evidence_id": declared.json()["id"],
        "promise_id": str(promise.id),
        "report_id": report.json()["id"],
        "restriction_id": restriction.json()["id"],
        "run_id": str(run),
        "team_id": str(day.team.id),
        "user_id": str(day.a.id),
        "visit_request_id": str(day.request.id),
        "sheet_id": day.sheet_id,
        "visit_id": str(visit_id),
        "webhook_id": webhook.json()["id"],
    } | {"_branch": str(day.team.branch_id)}


def _call(client: TestClient, user: User, route: str, ids: dict[str, str]) -> tuple[int, str]:
    method, template = route.split(" ", 1)
    body = MATRIX[route][0]()
    url = template.format(**ids)
    options: dict[str, Any] = {"headers": auth_headers(user)}
    if isinstance(body, bytes):
        options["content"], options["headers"] = body, options["headers"] | {"Upload-Offset": "0"}
    elif body is not None:
        options["json"] = body
    answer = client.request(method, url, **options)
    kind = answer.json().get("type", "") if answer.headers.get("content-type") == "application/problem+json" else ""
    return answer.status_code, kind


def test_no_route_reaches_another_branchs_or_another_teams_objects(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    theirs = _world(client, app, session, time_machine)
    nobodys = {name: str(uuid4()) for name in theirs}
    their_branch = session.get_one(Branch, UUID(theirs["_branch"]))
    outsiders = [make_user(session, Role.SUPERVISOR), make_user(session, Role.AGENT)]  # of other branches
    neighbours = [session.get_one(User, make_team(session, their_branch).members[0].agent_id)]
    leaks = []
    for route, (_, team_scoped) in MATRIX.items():
        for caller in outsiders + (neighbours if team_scoped else []):
            real, made_up = _call(client, caller, route, theirs), _call(client, caller, route, nobodys)
            if real[0] not in (403, 404) or real != made_up:
                leaks.append(f"{route} as {caller.role.value}: {real} (made-up ids: {made_up})")

    assert leaks == []
