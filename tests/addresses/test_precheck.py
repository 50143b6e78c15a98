"""The evening pre-check: each address due tomorrow that cannot be trusted becomes a system-raised report in the
supervisor's queue (and so stays out of planning); only the supervisor decides, and a rejection with a corrected
point sends the address back to planning. The same problem is not raised twice."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.address_reports import service as reports_service
from api.addresses.geocoders import GeocoderUnavailable
from api.addresses.service import geocode_unplaced, query_key
from api.geo import GeoPoint
from api.models.address_reports import AddressReport, ReportOrigin
from api.models.addresses import GeocodeAnswer
from api.models.audit import AuditEvent
from api.models.cases import Address, AddressValidity, InvalidReason
from api.models.users import Role, User
from api.rules.grades import PointSource, Precision
from tests.addresses.test_geocoding import Scripted, _match
from tests.factories import (
    PEOPLES_SQUARE,
    auth_headers,
    make_address,
    make_branch,
    make_case,
    make_user,
    make_visit_request,
    problem_type,
    tomorrow,
)

COMPLETE = "上海市黄浦区南京东路100号3室"
BEIJING = GeoPoint(lat=39.9087, lon=116.3975)


class Evening:
    """A branch whose addresses due tomorrow have one problem each (and two that have none)."""

    def __init__(self, session: Session) -> None:
        self.branch = make_branch(session)
        self.supervisor = make_user(session, Role.SUPERVISOR, self.branch)
        self.addresses: dict[str, Address] = {}
        self._due(session, "clean", COMPLETE, PEOPLES_SQUARE)
        self._due(session, "vague", "上海市徐汇区徐家汇商城附近", PEOPLES_SQUARE)
        self._due(session, "incomplete", "上海市浦东新区银城中路", GeoPoint(lat=31.24, lon=121.50))
        self._due(session, "no_point", "上海市黄浦区南京东路200号5室", None)
        road = dict(point_source=PointSource.GEOCODER, point_precision=Precision.ROAD, point_provider="amap")
        self._due(session, "untrusted", "上海市黄浦区福州路300号2室", GeoPoint(lat=31.2350, lon=121.4800), **road)
        self._due(session, "far", "上海市黄浦区九江路50号1室", BEIJING)
        building = dict(point_source=PointSource.GEOCODER, point_precision=Precision.BUILDING, point_provider="amap")
        shared = GeoPoint(lat=31.2321, lon=121.4755)
        self._due(session, "shared_1", "上海市黄浦区汉口路10号1室", shared, **building)
        self._due(session, "shared_2", "上海市黄浦区汉口路12号2室", shared, debtor="440524188001010014", **building)
        self._due(session, "placed", "上海市静安区静安寺对面", PEOPLES_SQUARE, point_source=PointSource.SUPERVISOR)
        session.commit()

    def _due(
        self, session: Session, name: str, text: str, point: GeoPoint | None, debtor: str = "", **fields: Any
    ) -> None:
        case = make_case(session, self.branch, **({"debtor_id_number": debtor} if debtor else {}))
        address = make_address(session, case, point=point, raw_text=text, **fields)
        make_visit_request(session, address)
        self.addresses[name] = address

    def precheck(self, client: TestClient, user: User | None = None) -> Any:
        body = {"work_date": tomorrow(self.branch).isoformat()}
        return client.post("/address-prechecks", json=body, headers=auth_headers(user or self.supervisor))

    def queue(self, client: TestClient) -> dict[str, dict[str, Any]]:
        """The pending reports, by the name of their address."""
        names = {str(address.id): name for name, address in self.addresses.items()}
        pending = client.get(
            "/invalid-address-reports", params={"status": "pending"}, headers=auth_headers(self.supervisor)
        )
        return {names[row["address_id"]]: row for row in pending.json()["items"]}


def test_each_problem_becomes_a_system_raised_report_and_nothing_else_does(
    client: TestClient, session: Session
) -> None:
    evening = Evening(session)
    untrusted = evening.addresses["untrusted"]
    candidate = {
        "lat": 31.235, "lon": 121.48, "precision": "road", "provider": "amap", "level": "道路", "formatted": "福州路",
    }  # fmt: skip
    session.add(
        GeocodeAnswer(
            provider="amap", query_key=query_key(untrusted.raw_text, "上海市"), query=untrusted.raw_text,
            candidates=[candidate],
        )
    )  # fmt: skip
    session.commit()

    checked = evening.precheck(client)

    assert checked.status_code == 200, checked.text
    assert checked.json()["addresses_checked"] == 9 and checked.json()["already_waiting"] == 0
    assert checked.json()["reports_raised"] == {
        "vague_text": 1, "incomplete_text": 1, "no_point": 1, "untrusted_match": 1, "far_from_district": 1,
        "shared_point": 2,
    }  # fmt: skip
    queue = evening.queue(client)
    assert {name: row["problem"] for name, row in queue.items()} == {
        "vague": "vague_text", "incomplete": "incomplete_text", "no_point": "no_point", "untrusted": "untrusted_match",
        "far": "far_from_district", "shared_1": "shared_point", "shared_2": "shared_point",
    }  # fmt: skip
    assert {row["raised_by"] for row in queue.values()} == {"precheck"}
    assert {row["reported_by_id"] for row in queue.values()} == {None}
    assert queue["vague"]["reason"] == "vague" and "附近" in queue["vague"]["note"]
    assert queue["incomplete"]["reason"] == "incomplete" and queue["incomplete"]["grade"] == "road"
    assert queue["untrusted"]["grade"] == "complete"
    assert queue["untrusted"]["candidates"] == [candidate]
    session.expire_all()
    assert session.get_one(Address, untrusted.id).validity is AddressValidity.REPORTED_INVALID
    assert session.get_one(Address, evening.addresses["clean"].id).validity is AddressValidity.UNVERIFIED
    findings = client.get("/events", headers=auth_headers(evening.supervisor)).json()["items"]
    assert sum(finding["kind"] == "address_reported" for finding in findings) == 7

    again = evening.precheck(client)

    assert again.json()["reports_raised"] == {} and again.json()["already_waiting"] == 7


def test_debtors_in_different_rooms_of_one_building_share_its_point_without_a_report(
    client: TestClient, session: Session
) -> None:
    evening = Evening(session)
    door = dict(point_source=PointSource.GEOCODER, point_precision=Precision.DOOR, point_provider="amap")
    entrance = GeoPoint(lat=31.2330, lon=121.4760)
    evening._due(session, "room_301", "上海市黄浦区汉口路20号301室", entrance, **door)
    evening._due(session, "room_302", "上海市黄浦区汉口路20号302室", entrance, debtor="440524188001010022", **door)
    session.commit()

    checked = evening.precheck(client)

    assert checked.json()["reports_raised"]["shared_point"] == 2  # 汉口路10号 and 12号 still: two buildings, one point
    assert {"room_301", "room_302"}.isdisjoint(evening.queue(client))


def test_far_from_its_district_means_outside_the_districts_outline_not_far_from_its_seat(
    client: TestClient, session: Session
) -> None:
    evening = Evening(session)
    door = dict(point_source=PointSource.GEOCODER, point_precision=Precision.DOOR, point_provider="amap")
    lingang = GeoPoint(lat=30.90, lon=121.93)  # 51 km from 浦东's seat, by 滴水湖
    evening._due(session, "lingang", "上海市浦东新区南汇新城镇环湖西二路888号", lingang, **door)
    chenjia = GeoPoint(lat=31.52, lon=121.83)  # 43 km from 崇明's seat
    evening._due(session, "chenjia", "上海市崇明区陈家镇瀛东村58号", chenjia, **door)
    jiading = GeoPoint(lat=31.38, lon=121.25)  # 33 km from 浦东's seat
    evening._due(session, "jiading", "上海市浦东新区银城中路722弄8号1201室", jiading, **door)
    session.commit()

    checked = evening.precheck(client)

    assert checked.json()["reports_raised"]["far_from_district"] == 2
    queue = evening.queue(client)
    assert queue["jiading"]["problem"] == "far_from_district" and queue["far"]["problem"] == "far_from_district"
    assert {"lingang", "chenjia"}.isdisjoint(queue)


def test_a_rejection_with_the_right_point_sends_the_address_back_to_planning_and_is_not_asked_again(
    client: TestClient, session: Session
) -> None:
    evening = Evening(session)
    evening.precheck(client)
    queue = evening.queue(client)
    decide = auth_headers(evening.supervisor)

    corrected = client.post(
        f"/invalid-address-reports/{queue['no_point']['id']}/reject",
        json={"note": "located on the map: the back gate of the compound", "point": {"lat": 31.2299, "lon": 121.4801}},
        headers=decide,
    )
    kept = client.post(
        f"/invalid-address-reports/{queue['untrusted']['id']}/reject",
        json={"note": "the road point is the building's door, I know the place"},
        headers=decide,
    )
    rewritten = client.post(
        f"/invalid-address-reports/{queue['vague']['id']}/reject",
        json={"note": "the collector sent the full address", "raw_text": "上海市黄浦区人民大道200号12室"},
        headers=decide,
    )
    confirm_with_a_point = client.post(
        f"/invalid-address-reports/{queue['far']['id']}/confirm",
        json={"point": {"lat": 31.23, "lon": 121.47}},
        headers=decide,
    )

    assert corrected.status_code == kept.status_code == rewritten.status_code == 200
    assert (
        confirm_with_a_point.status_code == 422 and problem_type(confirm_with_a_point) == "correction-needs-rejection"
    )
    session.expire_all()
    placed = session.get_one(Address, evening.addresses["no_point"].id)
    assert placed.validity is AddressValidity.UNVERIFIED and placed.point_source is PointSource.SUPERVISOR
    assert placed.point_set_by_id == evening.supervisor.id
    vouched = session.get_one(Address, evening.addresses["untrusted"].id)
    assert vouched.point_source is PointSource.SUPERVISOR and vouched.point_set_by_id == evening.supervisor.id
    regraded = session.get_one(Address, evening.addresses["vague"].id)
    assert regraded.grade.value == "complete" and regraded.raw_text == "上海市黄浦区人民大道200号12室"
    assert session.get_one(Address, evening.addresses["far"].id).validity is AddressValidity.REPORTED_INVALID

    again = evening.precheck(client)

    assert again.json()["reports_raised"] == {}  # neither the rejected match nor the corrected ones come back
    assert set(evening.queue(client)) == {"incomplete", "far", "shared_1", "shared_2"}


def test_the_precheck_is_a_supervisors_and_for_their_own_branch(client: TestClient, session: Session) -> None:
    evening = Evening(session)
    agent = make_user(session, Role.AGENT, evening.branch)
    admin = make_user(session, Role.ADMIN, None)
    outsider = make_user(session, Role.SUPERVISOR, make_branch(session))
    day = tomorrow(evening.branch).isoformat()

    by_agent = evening.precheck(client, agent)
    by_admin_unnamed = evening.precheck(client, admin)
    elsewhere = client.post(
        "/address-prechecks",
        json={"work_date": day, "branch_id": str(evening.branch.id)},
        headers=auth_headers(outsider),
    )
    bad_date = client.post(
        "/address-prechecks", json={"work_date": "tomorrow"}, headers=auth_headers(evening.supervisor)
    )

    assert by_agent.status_code == 403
    assert by_admin_unnamed.status_code == 422 and problem_type(by_admin_unnamed) == "branch-required"
    assert elsewhere.status_code == 404
    assert bad_date.status_code == 422 and bad_date.headers["content-type"] == "application/problem+json"
    assert evening.queue(client) == {}


def test_a_supervisor_places_an_address_and_planning_trusts_it(client: TestClient, session: Session) -> None:
    evening = Evening(session)
    address = evening.addresses["untrusted"]
    agent = make_user(session, Role.AGENT, evening.branch)
    outsider = make_user(session, Role.SUPERVISOR, make_branch(session))
    where = {"point": {"lat": 31.2351, "lon": 121.4802}}

    by_agent = client.put(f"/addresses/{address.id}/point", json=where, headers=auth_headers(agent))
    elsewhere = client.put(f"/addresses/{address.id}/point", json=where, headers=auth_headers(outsider))
    off_the_map = client.put(
        f"/addresses/{address.id}/point",
        json={"point": {"lat": 91, "lon": 0}},
        headers=auth_headers(evening.supervisor),
    )
    placed = client.put(f"/addresses/{address.id}/point", json=where, headers=auth_headers(evening.supervisor))

    assert by_agent.status_code == 403 and elsewhere.status_code == 404 and off_the_map.status_code == 422
    assert placed.status_code == 200
    origin = placed.json()["point_origin"]
    assert origin["source"] == "supervisor" and origin["trusted"] is True and origin["precision"] is None
    assert placed.json()["point"] == where["point"]
    assert evening.precheck(client).json()["reports_raised"].get("untrusted_match") is None
    shown = client.get(f"/addresses/{address.id}", headers=auth_headers(evening.supervisor)).json()
    assert shown["grade"] == "complete" and shown["parts"]["road"] == "福州路"
    audited = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity == "address", AuditEvent.entity_id == str(address.id))
        .order_by(AuditEvent.seq)
    ).all()
    last = audited[-1]
    assert last.actor_id == evening.supervisor.id and last.changes["point_source"] == ["geocoder", "supervisor"]


def test_no_point_reports_of_an_outage_resolve_themselves_when_a_later_pass_places_the_addresses(
    client: TestClient, session: Session, app: Any
) -> None:
    """Issue 31: addresses reported `no_point` during an outage stayed reported after a later pass gave them trusted
    door points (20 of 20), each needing a manual reject."""
    sessions = app.state.sessionmaker
    branch = make_branch(session)
    supervisor, agent = make_user(session, Role.SUPERVISOR, branch), make_user(session, Role.AGENT, branch)
    texts = [f"上海市黄浦区南京东路{n}号{n}室" for n in range(101, 122)]
    addresses = []
    for text in texts:
        address = make_address(session, make_case(session, branch), point=None, raw_text=text)
        make_visit_request(session, address)
        addresses.append(address)
    by_agent = addresses.pop()
    agents_report = reports_service.raise_report(
        session, by_agent, ReportOrigin.AGENT, InvalidReason.NONEXISTENT, "门牌不存在", reported_by_id=agent.id
    )
    session.commit()
    outage = Scripted("amap", {text: GeocoderUnavailable("amap", "ConnectTimeout") for text in texts})
    geocode_unplaced(sessions, [outage])
    raised = client.post(
        "/address-prechecks", json={"work_date": tomorrow(branch).isoformat()}, headers=auth_headers(supervisor)
    ).json()
    assert raised["reports_raised"] == {"no_point": 20}
    door = {text: [_match("amap", Precision.DOOR, 31.2300 + n * 0.0003, 121.4700)] for n, text in enumerate(texts)}

    summary = geocode_unplaced(sessions, [Scripted("amap", door)])

    assert summary.trusted == 21 and summary.resolved == 20
    headers = auth_headers(supervisor)
    pending = client.get("/invalid-address-reports", params={"status": "pending"}, headers=headers).json()["items"]
    assert [row["id"] for row in pending] == [str(agents_report.id)]  # an agent's report is the supervisor's call
    resolved = client.get("/invalid-address-reports", params={"status": "resolved"}, headers=headers).json()["items"]
    assert sorted(row["id"] for row in resolved) == sorted(raised["report_ids"])
    for row in resolved:
        assert (row["resolved_by"], row["decided_by_id"], row["decided_at"] is not None) == ("system", None, True)
        assert "a later geocoding pass placed it at door level" in row["decision_note"]
        assert "系统" in row["decision_note"]
    session.expire_all()
    validity = {session.get_one(Address, address.id).validity for address in addresses}
    assert validity == {AddressValidity.UNVERIFIED}  # plannable again
    assert session.get_one(Address, by_agent.id).validity is AddressValidity.REPORTED_INVALID
    audited = session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "address_report", AuditEvent.action == "update")
    ).all()
    assert sorted(event.entity_id for event in audited if event.changes.get("status") == "resolved") == sorted(
        raised["report_ids"]
    )
    assert session.scalar(select(AddressReport).where(AddressReport.id == agents_report.id)).status.value == "pending"
    again = client.post(
        "/address-prechecks", json={"work_date": tomorrow(branch).isoformat()}, headers=auth_headers(supervisor)
    ).json()
    assert again["reports_raised"] == {} and again["already_waiting"] == 1


def test_a_no_point_report_stays_when_the_later_point_is_not_one_planning_trusts(
    client: TestClient, session: Session, app: Any
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    road, far = "上海市黄浦区福州路301号2室", "上海市黄浦区福州路303号2室"
    for text in (road, far):
        make_visit_request(session, make_address(session, make_case(session, branch), point=None, raw_text=text))
    raised = client.post(
        "/address-prechecks", json={"work_date": tomorrow(branch).isoformat()}, headers=auth_headers(supervisor)
    ).json()
    assert raised["reports_raised"] == {"no_point": 2}
    later = Scripted(
        "amap",
        {road: [_match("amap", Precision.ROAD)], far: [_match("amap", Precision.DOOR, BEIJING.lat, BEIJING.lon)]},
    )

    summary = geocode_unplaced(app.state.sessionmaker, [later])

    assert summary.resolved == 0
    pending = client.get(
        "/invalid-address-reports", params={"status": "pending"}, headers=auth_headers(supervisor)
    ).json()["items"]
    assert len(pending) == 2
