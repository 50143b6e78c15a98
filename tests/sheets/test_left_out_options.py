"""Who could take a request a planning run left out, and why not: each team against its draft day, the refusals in a
code and words; a team added to the date can take it, and a pin to that team plans it."""

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.models.cases import AddressValidity, InvalidReason
from api.models.users import Role
from tests.factories import (
    auth_headers,
    make_address,
    make_branch,
    make_case,
    make_team,
    make_user,
    make_visit_request,
    problem_type,
)
from tests.sheets.test_day_under_way import resolve
from tests.sheets.test_planning_runs import _requests, plan


def test_a_left_out_request_says_which_team_could_take_it_and_why_the_others_cannot(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    full = make_team(session, branch)
    full.name, full.max_visits = "外访一组", 2
    session.commit()
    requests = _requests(session, branch, 3)
    run = plan(client, app, supervisor)
    [left] = run["unplanned"]
    url = f"/planning-runs/{run['id']}/unplanned/{left['visit_request_id']}/options"

    before = client.get(url, headers=auth_headers(supervisor))
    spare = make_team(session, branch, work_date=full.work_date)  # a team added to the date after the run
    after = client.get(url, headers=auth_headers(supervisor))

    assert before.status_code == 200, before.text
    [refused] = before.json()["options"]
    assert (refused["team_id"], refused["possible"], refused["refusal"]) == (str(full.id), False, "visit_limit")
    assert refused["detail"] == "外访一组 has its 2 visits already"
    options = {option["team_id"]: option for option in after.json()["options"]}
    assert options[str(spare.id)]["possible"] and options[str(spare.id)]["position"] == 1
    assert options[str(spare.id)]["arrives_at"] and options[str(spare.id)]["added_m"] > 0
    assert options[str(full.id)]["refusal"] == "visit_limit"
    pin = {"action": "pin", "team_id": str(spare.id)}
    edit = client.put(
        f"/planning-runs/{run['id']}/edits/{left['visit_request_id']}", json=pin, headers=auth_headers(supervisor)
    )
    assert edit.status_code == 200, edit.text
    draft = resolve(client, app, supervisor, run)
    assert draft["unplanned"] == [] and draft["figures"]["planned"] == len(requests)


def test_a_request_left_out_for_its_address_concerns_no_team_and_one_planned_was_not_left_out(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    make_team(session, branch)
    [planned] = _requests(session, branch, 1)
    invalid = make_address(session, make_case(session, branch))
    invalid.validity, invalid.invalid_reason = AddressValidity.CONFIRMED_INVALID, InvalidReason.DEMOLISHED
    session.commit()
    demolished = make_visit_request(session, invalid)
    run = plan(client, app, supervisor)

    no_team = client.get(
        f"/planning-runs/{run['id']}/unplanned/{demolished.id}/options", headers=auth_headers(supervisor)
    )
    not_left = client.get(
        f"/planning-runs/{run['id']}/unplanned/{planned.id}/options", headers=auth_headers(supervisor)
    )

    assert no_team.status_code == 409 and problem_type(no_team) == "left-out-for-no-team", no_team.text
    assert no_team.json()["reason"] == "address_invalid" and "confirmed invalid" in no_team.json()["detail"]
    assert not_left.status_code == 404 and problem_type(not_left) == "left-out-request-not-found"
