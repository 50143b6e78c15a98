"""Traffic by the hour in a branch: its hour factors price the planned legs, and are learnt from the legs its teams
drove between visits (timed by their tracks), judged on held-out legs, through the API and the command line."""

import math
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.cli import cli
from api.config import Settings
from api.geo import GeoPoint
from api.models.branches import Branch
from api.models.sheets import VisitSheet
from api.models.teams import Team
from api.models.tracks import DEGREE_E7, PositionFix, Track, epoch_ms
from api.models.traffic import TravelCalibration
from api.models.users import Role, User
from api.models.visits import Visit, VisitStatus
from api.roads.travel import travel_provider
from api.traffic.calibration import track_legs
from tests.factories import (
    NEAR_OFFICE,
    auth_headers,
    count_rows,
    draft_sheet,
    make_address,
    make_branch,
    make_case,
    make_team,
    make_user,
    make_visit_request,
    problem_type,
)
from tests.sheets.test_planning_runs import plan

# the truth the teams drive in: the morning peak 80 % over the engine's times, the rest of the day 20 %
TRUTH = {8: 1.8}
ELSEWHEN = 1.2
ON_SITE = timedelta(minutes=20)
# a street of doors 300 m apart, a few minutes' drive each
STREET = [GeoPoint(lat=31.2304 + 0.0027 * k, lon=121.4737) for k in range(8)]


def _local(branch: Branch, day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(branch.timezone)).astimezone(UTC)


def _driven_day(
    session: Session, settings: Settings, branch: Branch, supervisor: User, day: date, doors: list[GeoPoint]
) -> tuple[Team, list[Visit]]:
    """A team's day visiting `doors` in order from 08:00, 20 minutes at each, driving each leg in the engine's
    seconds × the truth's factor of the hour it leaves in."""
    team = make_team(session, branch, work_date=day)
    requests = [
        make_visit_request(session, make_address(session, make_case(session, branch), point=door)) for door in doors
    ]
    sheet = draft_sheet(session, supervisor, team, requests)
    engine = travel_provider(settings.planning).of(branch.id).matrices([(door.lat, door.lon) for door in doors])
    arrived, visits = _local(branch, day, time(8)), []
    for k, request in enumerate(requests):
        left = arrived + ON_SITE
        visits.append(
            Visit(
                sheet_id=sheet.id,
                visit_request_id=request.id,
                team_id=team.id,
                branch_id=branch.id,
                case_id=request.case_id,
                address_id=request.address_id,
                status=VisitStatus.COMPLETED,
                started_at=arrived,
                completed_at=left,
            )
        )
        if k + 1 < len(requests):
            hour = left.astimezone(ZoneInfo(branch.timezone)).hour
            arrived = left + timedelta(seconds=math.ceil(engine.durations_s[k, k + 1] * TRUTH.get(hour, ELSEWHEN)))
    session.add_all(visits)
    session.commit()
    return team, visits


def _driven_days(session: Session, settings: Settings, branch: Branch, count: int) -> date:
    """`count` days of driving the street, the last yesterday; the first day."""
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    first = date.today() - timedelta(days=count)
    for offset in range(count):
        _driven_day(session, settings, branch, supervisor, first + timedelta(days=offset), STREET)
    return first


def _calibrate(client: TestClient, user: User, branch: Branch, since: date, until: date, apply: bool) -> object:
    body = {"since": since.isoformat(), "until": until.isoformat(), "apply": apply}
    return client.post(f"/branches/{branch.id}/travel-calibrations", json=body, headers=auth_headers(user))


def test_a_calibration_learns_the_morning_peak_from_the_legs_driven_and_is_judged_on_legs_held_out(
    client: TestClient, session: Session, settings: Settings
) -> None:
    branch = make_branch(session)
    admin = make_user(session, Role.ADMIN)
    first = _driven_days(session, settings, branch, 6)
    yesterday = date.today() - timedelta(days=1)

    measured = _calibrate(client, admin, branch, first, yesterday, apply=False)
    applied = _calibrate(client, admin, branch, first, yesterday, apply=True)
    again = _calibrate(client, admin, branch, first, yesterday, apply=True)
    listed = client.get(f"/branches/{branch.id}/travel-calibrations", headers=auth_headers(admin))
    read = client.get(f"/branches/{branch.id}", headers=auth_headers(admin)).json()

    assert measured.status_code == 201, measured.text  # type: ignore[attr-defined]
    result = measured.json()  # type: ignore[attr-defined]
    assert (result["learnt_from"], result["held_out"], result["set_aside"]) == (34, 8, 0)  # 6 days x 7 legs
    assert result["factors"][8] == pytest.approx(1.8, abs=0.02)
    assert result["factors"][9] == pytest.approx(1.2, abs=0.02) and result["factors"][10] == result["factors"][9]
    assert result["legs_per_hour"][8] >= 5
    assert result["error_before"] == pytest.approx(1 - 1 / 1.2, abs=0.02)  # the engine's times: 17 % short
    assert result["error_after"] < 0.02
    assert result["engine"] == "great-circle driving" and result["applied"] is False
    assert applied.json()["applied"] is True and read["travel_hour_factors"] == applied.json()["factors"]  # type: ignore[attr-defined]
    # in force now: the same legs are judged against them, and the same factors do no better
    assert again.json()["error_before"] < 0.02 and again.json()["applied"] is False  # type: ignore[attr-defined]
    assert [row["id"] for row in listed.json()] == [again.json()["id"], applied.json()["id"], result["id"]]  # type: ignore[attr-defined]


def test_a_leg_is_timed_from_the_last_fix_at_one_door_to_the_first_at_the_next(
    session: Session, settings: Settings
) -> None:
    """The team stayed 5 minutes at the first door after the outcome and parked 3 minutes before checking in at the
    next: the drive is what lies between."""
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    day = date.today() - timedelta(days=1)
    team, (first, second) = _driven_day(session, settings, branch, supervisor, day, STREET[:1] + STREET[4:5])
    assert first.completed_at is not None and second.started_at is not None
    left, parked = first.completed_at + timedelta(minutes=5), second.started_at - timedelta(minutes=3)
    track = Track(
        branch_id=branch.id,
        team_id=team.id,
        agent_id=team.members[0].agent_id,
        work_date=day,
        duty_from=first.started_at,
    )
    session.add(track)
    session.flush()
    ways = [(first.completed_at, STREET[0]), (left, STREET[0]), (left + timedelta(seconds=30), STREET[2])]
    ways += [(parked, STREET[4]), (second.started_at, STREET[4])]
    session.add_all(
        PositionFix(
            client_id=uuid4(),
            track_id=track.id,
            at_ms=epoch_ms(at),
            lat_e7=round(door.lat * DEGREE_E7),
            lon_e7=round(door.lon * DEGREE_E7),
            accuracy_m=10,
            mock=False,
            clock_skew_s=0,
        )
        for at, door in ways
    )
    session.commit()

    legs, _ = track_legs(session, branch, day, day, travel_provider(settings.planning).of(branch.id))

    [leg] = legs
    assert leg.taken_s == (parked - left).total_seconds()
    assert leg.hour == left.astimezone(ZoneInfo(branch.timezone)).hour


def test_the_hour_factors_price_the_planned_legs(client: TestClient, app: FastAPI, session: Session) -> None:
    """All day twice the engine's times: every planned leg takes twice as long as on the engine alone."""
    branch = make_branch(session)
    admin, supervisor = make_user(session, Role.ADMIN), make_user(session, Role.SUPERVISOR, branch)
    make_team(session, branch)
    for point in NEAR_OFFICE[:3]:
        make_visit_request(session, make_address(session, make_case(session, branch), point=point))
    flat = plan(client, app, supervisor)
    set_factors = client.patch(
        f"/branches/{branch.id}", json={"travel_hour_factors": [2.0] * 24}, headers=auth_headers(admin)
    )
    doubled = plan(client, app, supervisor)

    assert set_factors.status_code == 200, set_factors.text
    assert flat["status"] == doubled["status"] == "succeeded"
    by_run = {
        run["id"]: session.scalars(select(VisitSheet).where(VisitSheet.run_id == UUID(run["id"]))).one()
        for run in (flat, doubled)
    }
    assert by_run[doubled["id"]].travel_s == pytest.approx(2 * by_run[flat["id"]].travel_s, abs=4)


@pytest.mark.parametrize(
    ("factors", "pointer"),
    [([1.0] * 23, "/travel_hour_factors"), ([1.0] * 23 + [9.0], "/travel_hour_factors/23"), ("fast", None)],
)
def test_hour_factors_that_are_not_24_sensible_numbers_are_refused(
    client: TestClient, session: Session, factors: object, pointer: str | None
) -> None:
    branch = make_branch(session)
    admin = make_user(session, Role.ADMIN)

    answer = client.patch(f"/branches/{branch.id}", json={"travel_hour_factors": factors}, headers=auth_headers(admin))

    assert answer.status_code == 422 and problem_type(answer) == "validation-failed"
    if pointer:
        assert [error["pointer"] for error in answer.json()["errors"]] == [f"#{pointer}"]
    session.refresh(branch)
    assert branch.travel_hour_factors is None


def test_a_calibration_without_enough_legs_or_by_a_supervisor_or_for_a_backwards_span_is_refused(
    client: TestClient, session: Session
) -> None:
    branch = make_branch(session)
    admin, supervisor = make_user(session, Role.ADMIN), make_user(session, Role.SUPERVISOR, branch)
    today = date.today()

    empty = _calibrate(client, admin, branch, today - timedelta(days=28), today, apply=True)
    backwards = _calibrate(client, admin, branch, today, today - timedelta(days=1), apply=True)
    not_allowed = _calibrate(client, supervisor, branch, today - timedelta(days=28), today, apply=True)

    assert empty.status_code == 422 and problem_type(empty) == "not-enough-legs"  # type: ignore[attr-defined]
    assert "0 legs that were drives, at least 20" in empty.json()["detail"]  # type: ignore[attr-defined]
    assert backwards.status_code == 422 and problem_type(backwards) == "validation-failed"  # type: ignore[attr-defined]
    assert not_allowed.status_code == 403  # type: ignore[attr-defined]
    assert count_rows(session, TravelCalibration) == 0


def test_the_command_prints_each_hours_factor_and_the_held_out_error(
    runner: CliRunner, session: Session, settings: Settings
) -> None:
    branch = make_branch(session)
    first = _driven_days(session, settings, branch, 6)

    result = runner.invoke(
        cli, ["roads", "calibrate", "--branch", branch.name, "--since", first.isoformat(), "--apply"]
    )

    assert result.exit_code == 0, result.output
    assert "08     1.80" in result.output
    assert "judged on 8 held out: median error 17% with the factors in force, 0% with these" in result.output
    assert "in force from the next plan" in result.output
    session.expire_all()
    assert session.get_one(Branch, branch.id).travel_hour_factors is not None
