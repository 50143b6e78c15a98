"""The case as it stands at the door (issue 31): a restriction or the visit cap that arrives after the sheet was
published shows on its stop at once (the sheet's ETag changes) and shuts the door to check-in and start, naming its
rule, until a supervisor releases the request from it; a time the debtor said is inconvenient shuts the door then."""

from datetime import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture

from api.models.cases import DebtCase
from api.models.visits import Visit, VisitStatus
from tests.factories import auth_headers
from tests.test_eligibility import _visited
from tests.test_visits import Day, _refused


def _stop(client: TestClient, day: Day) -> tuple[dict[str, Any], str]:
    """The day's first stop as the agent's phone gets it, and the sheet's ETag."""
    sheet = client.get("/me/sheet", params={"work_date": day.work_date.isoformat()}, headers=auth_headers(day.b))
    assert sheet.status_code == 200, sheet.text
    stop = next(s for s in sheet.json()["stops"] if s["visit_request_id"] == str(day.request.id))
    return stop, sheet.headers["ETag"]


def _restrict(client: TestClient, day: Day, **body: Any) -> None:
    answer = client.post(f"/cases/{day.request.case_id}/restrictions", json=body, headers=auth_headers(day.supervisor))
    assert answer.status_code == 201, answer.text


def _release(client: TestClient, day: Day, flag: str) -> None:
    answer = client.post(
        f"/visit-requests/{day.request.id}/eligibility-releases",
        json={"flag": flag, "reason": "the debtor asked us to come and sign the repayment plan"},
        headers=auth_headers(day.supervisor),
    )
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize("flag", ["attorney", "vulnerable", "bereavement", "inconvenient"])
def test_a_restriction_set_after_publication_shows_on_the_stop_and_shuts_the_door_until_released(
    client: TestClient, session: Session, time_machine: TimeMachineFixture, flag: str
) -> None:
    day = Day(client, session, time_machine)
    for agent in (day.a, day.b):
        assert day.depart(agent).status_code == 201
    before, first_etag = _stop(client, day)

    place = {"address_id": str(day.request.address_id)} if flag == "inconvenient" else {}
    _restrict(client, day, flag=flag, note="as the collector heard it today", **place)
    after, second_etag = _stop(client, day)
    refused = _refused(session, lambda: day.check_in(day.a), 409, "visit-not-eligible")

    assert before["blocked"] is None and before["state"] == after["state"] == "planned"
    assert second_etag != first_etag
    blocked = after["blocked"]
    assert blocked["flag"] == flag and blocked["rule_label"].startswith("CN") and blocked["release_allowed"]
    assert blocked["detail"].startswith(blocked["rule_label"])
    assert (refused["flag"], refused["rule_label"], refused["release_allowed"]) == (flag, blocked["rule_label"], True)
    assert refused["detail"].startswith(f"Not now: {blocked['detail']}")

    _release(client, day, flag)
    assert _stop(client, day)[0]["blocked"] is None
    assert day.check_in(day.a).status_code == 201 and day.check_in(day.b).status_code == 201
    assert day.start(day.a).status_code == 200


def test_a_restriction_arriving_between_the_check_ins_and_the_start_stops_the_start(
    client: TestClient, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    for agent in (day.a, day.b):
        assert day.depart(agent).status_code == 201
        assert day.check_in(agent).status_code == 201

    _restrict(client, day, flag="attorney", note="a lawyer called the collector")
    by_agent = day.start(day.a)
    by_supervisor = day.start(day.supervisor, override_reason="the agents' phones are flat")

    for refused in (by_agent, by_supervisor):
        assert refused.status_code == 409 and refused.json()["type"].endswith("/visit-not-eligible"), refused.text
        assert refused.json()["flag"] == "attorney"
    session.expire_all()
    visit = session.get_one(Visit, day.visit_id())
    assert visit.status is VisitStatus.CHECKING_IN and visit.started_at is None and visit.override_reason == ""


def test_the_visit_cap_reached_after_publication_shuts_the_door(
    client: TestClient, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    for agent in (day.a, day.b):
        assert day.depart(agent).status_code == 201

    case = session.get_one(DebtCase, day.request.case_id)
    _visited(session, day.supervisor, day.branch, case, 2, 5, 9)  # CN: at most 3 visits in 30 days
    blocked = _stop(client, day)[0]["blocked"]
    refused = _refused(session, lambda: day.check_in(day.a), 409, "visit-not-eligible")

    assert blocked["flag"] == refused["flag"] == "visit_cap"
    assert refused["rule_label"] == "CN: at most 3 visits in 30 days" and refused["release_allowed"]
    _release(client, day, "visit_cap")
    assert day.check_in(day.a).status_code == 201


def test_a_time_the_debtor_said_is_inconvenient_shuts_the_door_only_then(
    client: TestClient, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    for agent in (day.a, day.b):
        assert day.depart(agent).status_code == 201

    _restrict(client, day, flag="inconvenient", time_from="09:30", time_until="11:00", note="he sleeps after nights")
    refused = _refused(session, lambda: day.check_in(day.a), 409, "visit-not-eligible")

    assert refused["flag"] == "inconvenient" and not refused["release_allowed"]
    assert "09:30–11:00" in refused["detail"]
    day.at(time(11, 5))
    assert day.check_in(day.a).status_code == 201
