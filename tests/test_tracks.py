"""On-duty tracks through the API: fixes are kept only on duty, read only by the branch's supervisors (audited),
purged after the branch's retention; gaps and detours are findings, once."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture
from typer.testing import CliRunner

from api.cli import cli
from api.models.audit import AuditEvent
from api.models.findings import Finding, FindingKind
from api.models.sheets import VisitSheet
from api.models.tracks import PositionFix, Track, TrackAlert
from api.models.users import Role, User
from api.tracks.watch import watch_tracks
from tests.factories import auth_headers, count_rows, make_branch, make_team, make_user, problem_type
from tests.test_visits import Day

MARGIN = timedelta(minutes=30)  # the default duty margin
METRE_LAT = 1 / 111_195


def fix(moment: datetime, lat: float, lon: float, **fields: Any) -> dict[str, Any]:
    return {
        "client_id": str(uuid4()),
        "at": moment.isoformat(),
        "lat": lat,
        "lon": lon,
        "accuracy_m": 12.5,
        "speed_mps": 1.3,
        "battery_pct": 80,
    } | fields


def send(client: TestClient, agent: User, fixes: list[dict[str, Any]], sent_at: datetime | None = None) -> Any:
    body = {"sent_at": (sent_at or datetime.now(UTC)).isoformat(), "fixes": fixes}
    return client.post("/me/positions", json=body, headers=auth_headers(agent))


def stored(session: Session) -> set[str]:
    session.expire_all()
    return {str(client_id) for client_id in session.scalars(select(PositionFix.client_id))}


def walk(day: Day, minutes: range, north_m: float = 0) -> list[dict[str, Any]]:
    """A fix a minute near the first stop, `minutes` after now; the clock moves on past the last of them, so that
    they are all in the past when they are sent."""
    now = datetime.now(UTC)
    fixes = [
        fix(now + timedelta(minutes=m), day.point.lat + north_m * METRE_LAT + m * 1e-6, day.point.lon) for m in minutes
    ]
    day.time_machine.move_to(now + timedelta(minutes=max(minutes, default=0), seconds=1), tick=True)
    return fixes


def test_fixes_are_kept_on_duty_only_and_the_answer_says_which_were_refused(
    client: TestClient, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    before_departure = send(client, day.a, walk(day, range(-2, 0)))

    assert day.depart(day.a).status_code == 201
    now = datetime.now(UTC)
    leaves, returns = session.execute(
        select(VisitSheet.leaves_at, VisitSheet.returns_at).where(VisitSheet.team_id == day.team.id)
    ).one()
    departed = session.scalars(select(Track.duty_from).where(Track.agent_id == day.a.id)).one()
    ends = returns + (departed - leaves) + MARGIN  # it left late (10:00 for 09:00): its duty ends as much later
    batch = [
        fix(now - timedelta(minutes=5), day.point.lat, day.point.lon),  # before the departure check
        fix(now + timedelta(seconds=1), day.point.lat, day.point.lon, mock=True, heading_deg=359.6),
        fix(now, day.point.lat, day.point.lon),  # out of order: phones send what they buffered
        fix(now + timedelta(minutes=10), day.point.lat, day.point.lon),  # ahead of the server's clock
    ]
    received = send(client, day.a, batch)
    again = send(client, day.a, batch[1:3])
    partner_off_duty = send(client, day.b, walk(day, range(1)))
    time_machine.move_to(ends + timedelta(minutes=5), tick=True)
    late = [
        fix(ends - timedelta(minutes=1), day.point.lat, day.point.lon),  # buffered on duty, sent after it
        fix(ends + timedelta(minutes=1), day.point.lat, day.point.lon),
    ]  # after the sheet's end and the margin
    sent_late = send(client, day.a, late)  # fmt: skip

    assert before_departure.status_code == 200
    assert before_departure.json()["stored"] == 0 and before_departure.json()["on_duty_until"] is None
    assert {one["reason"] for one in before_departure.json()["fixes"]} == {"off_duty"}
    body = received.json()
    assert received.status_code == 200, body
    assert [(one["status"], one["reason"]) for one in body["fixes"]] == [
        ("refused", "off_duty"),
        ("stored", None),
        ("stored", None),
        ("refused", "in_the_future"),
    ]
    assert (body["stored"], body["duplicates"], body["refused"]) == (2, 0, 2)
    assert datetime.fromisoformat(body["on_duty_until"]) == ends
    assert again.json()["duplicates"] == 2 and again.json()["stored"] == 0
    assert partner_off_duty.json()["refused"] == 1  # B has not done the departure check
    assert [one["status"] for one in sent_late.json()["fixes"]] == ["stored", "refused"]
    assert sent_late.json()["on_duty_until"] is None
    assert stored(session) == {batch[1]["client_id"], batch[2]["client_id"], late[0]["client_id"]}
    kept = session.get_one(PositionFix, UUID(batch[1]["client_id"]))
    assert kept.mock is True and kept.heading_deg == 0 and kept.lat_e7 == round(day.point.lat * 1e7)


def test_a_phone_whose_clock_is_off_is_timed_by_the_servers_clock(
    client: TestClient, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    day.depart(day.a)
    ahead = timedelta(minutes=20)  # the phone's clock is 20 minutes fast
    phone_now = datetime.now(UTC) + ahead

    received = send(client, day.a, [fix(phone_now, day.point.lat, day.point.lon)], sent_at=phone_now)

    assert received.json()["fixes"][0]["status"] == "stored"
    assert received.json()["clock_skew_s"] == pytest.approx(ahead.total_seconds(), abs=5)
    session.expire_all()
    assert abs(session.scalars(select(PositionFix.clock_skew_s)).one() - 1200) <= 5


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        (lambda body: body["fixes"][0].update(lat=91), "/fixes/0/lat"),
        (lambda body: body["fixes"][0].update(accuracy_m=-1), "/fixes/0/accuracy_m"),
        (lambda body: body["fixes"][0].update(at="2026-12-03T10:00:00"), "/fixes/0/at"),
        (lambda body: body["fixes"][0].update(mock="yes"), "/fixes/0/mock"),
        (lambda body: body["fixes"].append(dict(body["fixes"][0])), "/fixes"),
        (lambda body: body.update(fixes=[]), "/fixes"),
        (lambda body: body.update(fixes=body["fixes"] * 1001), "/fixes"),
        (lambda body: body.pop("sent_at"), "/sent_at"),
        (lambda body: body.update(extra=1), "/extra"),
        (lambda body: body["fixes"][0].update(at="9999-12-31T23:59:59+00:00"), "/fixes/0/at"),  # no overflow
        (lambda body: body["fixes"][0].update(at="0001-01-01T00:00:00+14:00"), "/fixes/0/at"),
        (lambda body: body.update(sent_at="1970-01-01T00:00:00+00:00"), "/sent_at"),  # a clock reset
        (lambda body: body.update(sent_at="2099-01-01T00:00:00+00:00"), "/sent_at"),  # decades off: 2.3e9 s
    ],
)
def test_a_bad_batch_is_refused_whole_and_changes_nothing(
    client: TestClient, session: Session, time_machine: TimeMachineFixture, change: Any, pointer: str
) -> None:
    day = Day(client, session, time_machine)
    day.depart(day.a)
    body = {"sent_at": datetime.now(UTC).isoformat(), "fixes": walk(day, range(2))[:1]}
    change(body)

    response = client.post("/me/positions", json=body, headers=auth_headers(day.a))

    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    assert any(error["pointer"].startswith(f"#{pointer}") for error in response.json()["errors"]), response.json()
    assert count_rows(session, PositionFix) == 0


def test_only_the_branchs_supervisors_read_tracks_and_every_read_is_audited(
    client: TestClient, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    day.depart(day.a)
    day.depart(day.b)
    send(client, day.a, walk(day, range(3)))
    send(client, day.b, walk(day, range(3), north_m=5))
    outsider = make_user(session, Role.SUPERVISOR)
    admin, collector = make_user(session, Role.ADMIN), make_user(session, Role.PHONE_COLLECTOR, day.branch)
    reads_before = _track_reads(session)

    track = client.get(f"/teams/{day.team.id}/track", headers=auth_headers(day.supervisor))
    day_view = client.get(f"/visit-sheets/days/{day.work_date}/tracks", headers=auth_headers(day.supervisor))
    other_branch = client.get(f"/teams/{day.team.id}/track", headers=auth_headers(outsider))
    other_day = client.get(
        f"/visit-sheets/days/{day.work_date}/tracks?branch_id={day.branch.id}", headers=auth_headers(outsider)
    )
    refused = [
        client.get(f"/teams/{day.team.id}/track", headers=auth_headers(user)) for user in (day.a, admin, collector)
    ]

    assert track.status_code == 200, track.json()
    agents = {agent["agent_id"]: agent for agent in track.json()["agents"]}
    assert {len(agent["fixes"]) for agent in agents.values()} == {3}
    assert agents[str(day.a.id)]["last"]["at"] == agents[str(day.a.id)]["fixes"][-1]["at"]
    assert day_view.status_code == 200
    (team,) = day_view.json()["teams"]
    assert team["sheet_id"] == day.sheet_id and {agent["fixes"] for agent in team["agents"]} == {3}
    assert all(agent["last"] and agent["path"] for agent in team["agents"])
    assert other_branch.status_code == 404 and problem_type(other_branch) == "team-not-found"
    assert other_day.status_code == 404
    assert [response.status_code for response in refused] == [403, 403, 403]
    assert _track_reads(session) - reads_before == 4  # both agents' tracks, read twice
    actors = session.scalars(
        select(AuditEvent.actor_id).where(AuditEvent.entity == "track").order_by(AuditEvent.seq.desc()).limit(4)
    )
    assert set(actors) == {day.supervisor.id}


def until_evening(day: Day) -> None:
    """The team's sheet ends at 18:00, so that its duty lasts the tests' hours."""
    sheet = day.session.scalars(select(VisitSheet).where(VisitSheet.team_id == day.team.id)).one()
    sheet.returns_at = datetime.combine(day.work_date, time(18, 0), tzinfo=ZoneInfo(day.branch.timezone))
    day.session.commit()


def _track_reads(session: Session) -> int:
    session.expire_all()
    return (
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.entity == "track", AuditEvent.action == "read")
        )
        or 0
    )


def test_a_batch_is_on_the_audit_chain_by_count_and_digest_without_any_position(
    client: TestClient, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    day.depart(day.a)
    send(client, day.a, walk(day, range(4)))

    session.expire_all()
    (row,) = session.scalars(select(AuditEvent).where(AuditEvent.entity == "position_fix")).all()
    assert row.action == "insert" and row.actor_id == day.a.id
    assert row.changes["fixes"] == 4 and len(row.changes["sha256"]) == 64
    assert "lat" not in str(row.changes) and str(round(day.point.lat * 1e7)) not in str(row.changes)


def test_the_purge_deletes_tracks_past_their_branchs_retention_only(
    client: TestClient, session: Session, time_machine: TimeMachineFixture, runner: CliRunner
) -> None:
    day = Day(client, session, time_machine)
    day.depart(day.a)
    send(client, day.a, walk(day, range(3)))
    short = make_branch(session, track_retention_days=7)
    other = make_team(session, short, work_date=day.work_date)
    session.add(Track(branch_id=short.id, team_id=other.id, agent_id=other.members[0].agent_id,
                      work_date=day.work_date, duty_from=datetime.now(UTC)))  # fmt: skip
    session.commit()

    day.at(time(12, 0), day.work_date + timedelta(days=8))  # past 7 days, within 30
    first = runner.invoke(cli, ["tracks", "purge"])
    day.at(time(12, 0), day.work_date + timedelta(days=31))
    second = runner.invoke(cli, ["tracks", "purge"])
    again = runner.invoke(cli, ["tracks", "purge"])

    assert first.exit_code == 0, first.output
    assert f"{short.name}: 0 fixes purged" in first.output and f"{day.branch.name}:" not in first.output
    assert second.exit_code == 0 and f"{day.branch.name}: 3 fixes purged" in second.output
    assert "0 fixes purged in 0 branches" in again.output
    assert count_rows(session, PositionFix) == 0 and count_rows(session, Track) == 0
    purges = session.scalars(
        select(AuditEvent.changes).where(AuditEvent.entity == "position_fix", AuditEvent.action == "delete")
    ).all()
    assert sorted(change["fixes"] for change in purges) == [0, 3]
    assert runner.invoke(cli, ["audit", "verify"]).exit_code == 0


def test_a_gap_in_a_track_is_a_finding_once(
    client: TestClient, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    until_evening(day)
    day.depart(day.a)
    send(client, day.a, walk(day, range(0, 5)))
    collector = make_user(session, Role.PHONE_COLLECTOR, day.branch)

    day.at(time(10, 15))
    early = watch_tracks(session, MARGIN)
    day.at(time(10, 25))
    found = watch_tracks(session, MARGIN)
    day.at(time(10, 40))
    later = watch_tracks(session, MARGIN)
    session.commit()
    feed = client.get("/events", headers=auth_headers(day.supervisor)).json()["items"]
    collectors = client.get("/events", headers=auth_headers(collector)).json()["items"]

    assert early == [] and len(found) == 1 and later == []
    (event,) = [item for item in feed if item["kind"] == "team_out_of_contact"]
    assert event["team_id"] == str(day.team.id) and event["case_id"] is None
    assert event["payload"]["agent_id"] == str(day.a.id) and event["payload"]["ongoing"] is True
    assert event["payload"]["minutes"] >= 20
    assert collectors == []
    alert = session.scalars(select(TrackAlert)).one()
    assert alert.ended_at > alert.began_at + timedelta(minutes=30)  # the later look extended it


def test_a_team_far_from_its_route_for_long_is_a_finding_once(
    client: TestClient, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    until_evening(day)
    day.depart(day.b)
    send(client, day.b, walk(day, range(0, 30), north_m=8_000))  # 8 km north of the day's stops, for half an hour

    found = watch_tracks(session, MARGIN)
    again = watch_tracks(session, MARGIN)
    session.commit()

    kinds = [finding.kind for finding in found]
    assert kinds.count(FindingKind.TEAM_OFF_ROUTE) == 1 and again == []
    (away,) = [finding for finding in found if finding.kind is FindingKind.TEAM_OFF_ROUTE]
    assert away.payload["distance_m"] >= 7_000 and away.payload["minutes"] >= 20
    assert session.scalar(select(func.count()).select_from(Finding).where(Finding.team_id == day.team.id)) == len(found)


def test_no_duty_without_a_published_sheet(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    team = make_team(session, branch, work_date=date.today())
    agent = session.get_one(User, team.members[0].agent_id)
    checklist = ["recorder_charged", "camera_charged", "letters_carried", "forms_carried"]
    client.post(
        f"/teams/{team.id}/departure-checks",
        json={"items": checklist, "client_id": str(uuid4())},
        headers=auth_headers(agent),
    )

    received = send(client, agent, [fix(datetime.now(UTC), 31.23, 121.47)])

    assert received.json()["fixes"][0]["reason"] == "off_duty"
    assert count_rows(session, PositionFix) == 0
