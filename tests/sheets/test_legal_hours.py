"""Planning by the law of the branch's jurisdiction: a request only possible on a public holiday there is left out
naming the rule (the holiday of the address's own nation: Scotland's over the border), and a debtor in
another time zone than the branch is visited by the debtor's own clock."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture

from api.geo import GeoPoint
from api.models.users import Role
from api.rules.packs import Jurisdiction
from tests.factories import (
    auth_headers,
    make_address,
    make_branch,
    make_case,
    make_team,
    make_user,
    make_visit_request,
    tomorrow,
)
from tests.sheets.test_planning_runs import plan

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHICAGO, DENVER = ZoneInfo("America/Chicago"), ZoneInfo("America/Denver")
EL_PASO = GeoPoint(lat=31.7619, lon=-106.4850)  # Texas, but Mountain time: an hour behind most of the state
LONDON = ZoneInfo("Europe/London")
CARLISLE, GRETNA = GeoPoint(lat=54.8940, lon=-2.9350), GeoPoint(lat=55.0019, lon=-3.0645)


def test_a_request_only_possible_on_a_public_holiday_is_left_out_with_the_rule(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI), tick=True)
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    holiday = datetime(2026, 10, 1).date()
    make_team(session, branch, work_date=holiday)
    address = make_address(session, make_case(session, branch))
    only_then = make_visit_request(session, address, earliest_date=holiday, latest_date=holiday)

    run = plan(client, app, supervisor, work_date=holiday.isoformat(), time_limit_s=1)

    assert run["status"] == "failed" and run["failure"] == "nothing_to_plan"  # no sheets to publish, and why
    assert [(row["visit_request_id"], row["reason"], row["detail"]) for row in run["unplanned"]] == [
        (str(only_then.id), "not_a_visiting_day", "CN: public holiday 2026-10-01 (National Day)")
    ]


def test_a_debtor_over_the_scottish_border_is_not_planned_on_a_scottish_bank_holiday_and_an_english_one_is(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    """A Carlisle branch, a debtor in Gretna (Scotland, 15 km north) and one in Carlisle. 2 January 2027 is a
    Saturday: Scotland's holiday moves to Monday the 4th, a working day in England."""
    time_machine.move_to(datetime(2027, 1, 3, 10, 0, tzinfo=LONDON), tick=True)
    branch = make_branch(
        session,
        jurisdiction=Jurisdiction.UK,
        timezone="Europe/London",
        office_address="Civic Centre, Rickergate, Carlisle CA3 8QG",
        office_point=CARLISLE.to_wkt(),
    )
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    scottish_holiday = datetime(2027, 1, 4).date()
    make_team(session, branch, work_date=scottish_holiday)
    gretna, carlisle = (
        make_visit_request(
            session,
            make_address(session, make_case(session, branch), point=point, raw_text=text),
            earliest_date=scottish_holiday,
            latest_date=scottish_holiday,
        )
        for point, text in (
            (GRETNA, "Gretna Green, Gretna DG16 5EA"),
            (CARLISLE, "10 English Street, Carlisle CA3 8JU"),
        )
    )

    run = plan(client, app, supervisor, work_date=scottish_holiday.isoformat(), time_limit_s=1)

    assert run["status"] == "succeeded", run
    assert [(row["visit_request_id"], row["reason"], row["detail"]) for row in run["unplanned"]] == [
        (
            str(gretna.id),
            "not_a_visiting_day",
            "UK: bank holiday in Scotland 2027-01-04 (New Year Holiday (observed))",
        )
    ]
    sheet = client.get(f"/visit-sheets/{run['sheets'][0]['id']}", headers=auth_headers(supervisor)).json()
    assert [stop["visit_request_id"] for stop in sheet["stops"]] == [str(carlisle.id)]


def test_a_debtor_in_another_time_zone_is_visited_by_their_own_clock(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    branch = make_branch(
        session, timezone="America/Chicago", jurisdiction=Jurisdiction.US, office_point=EL_PASO.to_wkt()
    )
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    team = make_team(session, branch)
    team.shift_start = time(7, 0)  # 06:00 at the door: the branch's clock alone would start at 08:00, 07:00 there
    session.commit()
    requests = [
        make_visit_request(
            session,
            make_address(
                session,
                make_case(session, branch),
                point=GeoPoint(lat=EL_PASO.lat + north, lon=EL_PASO.lon),
                raw_text=f"{100 + index} N Oregon St, El Paso, TX 79901",
            ),
        )
        for index, north in enumerate((0.002, 0.004, 0.006))
    ]

    run = plan(client, app, supervisor, time_limit_s=1)

    assert run["status"] == "succeeded" and run["unplanned"] == [], run["unplanned"]
    sheet = client.get(f"/visit-sheets/{run['sheets'][0]['id']}", headers=auth_headers(supervisor))
    starts = [datetime.fromisoformat(stop["starts_at"]) for stop in sheet.json()["stops"]]
    assert len(starts) == len(requests)
    assert min(start.astimezone(DENVER).time() for start in starts) == time(8, 0)
    assert min(start.astimezone(CHICAGO).time() for start in starts) == time(9, 0)


def test_a_request_window_is_the_time_at_the_address_and_is_documented_so(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    """A Chicago branch, an El Paso debtor (an hour behind): "07:00–08:45" is El Paso's clock, which the legal hours
    (08:00–21:00 there) overlap; the stop starts by 08:45 there, 09:45 at the branch (issue 31)."""
    branch = make_branch(
        session, timezone="America/Chicago", jurisdiction=Jurisdiction.US, office_point=EL_PASO.to_wkt()
    )
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    make_team(session, branch).shift_start = time(7, 0)
    case = make_case(session, branch)
    address = make_address(session, case, point=EL_PASO, raw_text="100 N Oregon St, El Paso, TX 79901")
    body = {
        "case_id": str(case.id),
        "address_id": str(address.id),
        "purpose": "negotiate",
        "earliest_date": tomorrow(branch).isoformat(),
        "window_start": "07:00",
        "window_end": "08:45",
    }
    created = client.post("/visit-requests", json=body, headers=auth_headers(supervisor))
    assert created.status_code == 201, created.text

    run = plan(client, app, supervisor, time_limit_s=1)

    assert run["status"] == "succeeded" and run["unplanned"] == [], run["unplanned"]
    sheet = client.get(f"/visit-sheets/{run['sheets'][0]['id']}", headers=auth_headers(supervisor)).json()
    [stop] = sheet["stops"]
    start = datetime.fromisoformat(stop["starts_at"])
    assert time(8, 0) <= start.astimezone(DENVER).time() <= time(8, 45)
    fields = app.openapi()["components"]["schemas"]["VisitRequestCreate"]["properties"]
    assert "local time at the address" in fields["window_start"]["description"]
    assert "local time at the address" in fields["window_end"]["description"]
