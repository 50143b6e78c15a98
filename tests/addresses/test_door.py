"""Learning from the door: a visit that met the debtor or family verifies the address's point from the two
check-ins (unless a supervisor placed it); an outcome of no such address, or demolished, reports the address."""

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture

from api.geo import GeoPoint, distance_m
from api.models.address_reports import AddressReport, ReportOrigin, ReportStatus
from api.models.cases import Address, AddressValidity, InvalidReason
from api.models.users import User
from api.rules.grades import PointSource
from tests.factories import auth_headers
from tests.test_visits import Day


def _visit(day: Day, *, a_north_m: float, b_north_m: float, accuracy_m: float = 10) -> None:
    for agent, north_m in ((day.a, a_north_m), (day.b, b_north_m)):
        assert day.depart(agent).status_code == 201
        assert day.check_in(agent, north_m=north_m, accuracy_m=accuracy_m).status_code == 201
    assert day.start(day.a).status_code == 200


def _close(day: Day, submitter: User, confirmer: User, **outcome: object) -> None:
    assert day.outcome(submitter, **outcome).status_code == 201
    confirmed = day.client.post(f"/visits/{day.visit_id()}/outcome/confirm", headers=auth_headers(confirmer))
    assert confirmed.status_code == 200, confirmed.text


def _address(day: Day) -> Address:
    day.session.expire_all()
    return day.session.get_one(Address, day.request.address_id)


def test_meeting_the_family_verifies_the_point_at_the_two_check_ins(
    client: TestClient, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    _visit(day, a_north_m=40, b_north_m=30)

    _close(day, day.a, day.b)

    address = _address(day)
    point = GeoPoint.from_wkb(address.point)
    assert point is not None and address.point_source is PointSource.DOOR
    assert round(distance_m(point.lat, point.lon, day.point.lat, day.point.lon)) == 35  # the check-ins' mean
    assert address.point_accuracy_m == 10 and address.validity is AddressValidity.VERIFIED
    shown = client.get(f"/addresses/{address.id}", headers=auth_headers(day.supervisor)).json()
    assert shown["point_origin"]["source"] == "door" and shown["point_origin"]["trusted"] is True


def test_check_ins_that_disagree_or_nobody_met_leave_the_point_as_it_was(
    client: TestClient, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    _visit(day, a_north_m=45, b_north_m=-45)  # 90 m apart with 10 m accuracies: they do not agree

    _close(day, day.a, day.b)

    assert _address(day).point_source is PointSource.IMPORT


def test_a_supervisors_point_is_never_moved_by_the_door(
    client: TestClient, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    placed = client.put(
        f"/addresses/{day.request.address_id}/point",
        json={"point": {"lat": day.point.lat, "lon": day.point.lon}},
        headers=auth_headers(day.supervisor),
    )
    _visit(day, a_north_m=20, b_north_m=20)

    _close(day, day.a, day.b, contact_result="met_debtor")

    assert placed.status_code == 200 and placed.json()["point_origin"]["source"] == "supervisor"
    assert _address(day).point_source is PointSource.SUPERVISOR


def test_an_outcome_of_a_demolished_building_reports_the_address_for_the_supervisor(
    client: TestClient, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    _visit(day, a_north_m=0, b_north_m=0)

    _close(
        day,
        day.b,
        day.a,
        contact_result="nobody",
        address_assessment="demolished",
        promise=None,
        contacts=[],
        notes="the block is a building site",
    )

    report = session.scalars(select(AddressReport).where(AddressReport.address_id == day.request.address_id)).one()
    assert report.raised_by is ReportOrigin.OUTCOME and report.reason is InvalidReason.DEMOLISHED
    assert report.status is ReportStatus.PENDING and report.reported_by_id == day.b.id
    assert report.visit_id == day.visit_id() and "building site" in report.note
    assert _address(day).validity is AddressValidity.REPORTED_INVALID
    queue = client.get("/invalid-address-reports", params={"status": "pending"}, headers=auth_headers(day.supervisor))
    assert [(row["raised_by"], row["reason"]) for row in queue.json()["items"]] == [("outcome", "demolished")]
