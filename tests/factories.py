"""Factories: plain functions that save a domain object and return it. Without a branch they make a new one."""

import itertools
import re
import secrets
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from api.auth.security import issue_access_token
from api.branches.service import local_today, rules_of
from api.config import AuthSettings, PlanningSettings, Settings
from api.db import utcnow
from api.geo import GeoPoint
from api.models.auth import RefreshToken
from api.models.branches import Branch
from api.models.cases import Address, AddressKind, ContactKind, ContactSource, DebtCase, DebtorContact, OverdueBucket
from api.models.sheets import PlanningRun, RunStatus, VisitSheet
from api.models.teams import Team, TeamMember
from api.models.users import Role, User
from api.models.visit_requests import VisitPurpose, VisitRequest
from api.roads.travel import SameTravel
from api.rules.grades import PointSource
from api.rules.hours import Closed
from api.sheets.instance import build_day, visit_windows
from api.sheets.planner import planned_sheet
from api.sheets.service import publish_run
from routing.matrix import GreatCircle
from routing.schedule import earliest_route
from tests.conftest import TEST_JWT_SECRET

PASSWORD = "correct horse battery"
# argon2id at its least cost: a login verifies a password against the parameters its hash carries, and at the
# recommended ones each of the suite's logins took a tenth of a second (users made through the API still get those)
_PASSWORD_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
_seq = itertools.count(1)

PEOPLES_SQUARE = GeoPoint(lat=31.2304, lon=121.4737)
NEAR_OFFICE = [GeoPoint(lat=31.2304 + 0.004 * i, lon=121.4737 + 0.003 * (i % 3)) for i in range(1, 7)]  # 0.5-3 km


def _n() -> int:
    return next(_seq)


def count_rows(session: Session, model: type) -> int:
    """Rows of a table, as the database has them now."""
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def make_branch(session: Session, **fields: object) -> Branch:
    """A branch whose visits need no evidence to be completed (tests of the evidence policy set one)."""
    values: dict[str, object] = dict(
        name=f"Branch {_n()}",
        timezone="Asia/Shanghai",
        office_address="上海市黄浦区人民大道200号",
        office_point=PEOPLES_SQUARE.to_wkt(),
        evidence_recording_coverage=0.0,
        evidence_photo_purposes=[],
    )
    branch = Branch(**(values | fields))
    session.add(branch)
    session.commit()
    return branch


def make_user(session: Session, role: Role = Role.AGENT, branch: Branch | None = None, **fields: object) -> User:
    if branch is None and role is not Role.ADMIN:
        branch = make_branch(session)
    n = _n()
    values: dict[str, object] = dict(
        username=f"{role.value}{n}",
        full_name=f"{role.value.title()} {n}",
        role=role,
        branch_id=branch.id if branch else None,
        password_hash=_PASSWORD_HASH,
        active=True,
    )
    user = User(**(values | fields))
    session.add(user)
    session.commit()
    return user


def tomorrow(branch: Branch) -> date:
    return local_today(branch) + timedelta(days=1)


def make_team(
    session: Session,
    branch: Branch | None = None,
    agents: tuple[User, User] | None = None,
    work_date: date | None = None,
) -> Team:
    branch = branch or make_branch(session)
    agents = agents or (make_user(session, Role.AGENT, branch), make_user(session, Role.AGENT, branch))
    work_date = work_date or tomorrow(branch)
    team = Team(branch_id=branch.id, work_date=work_date, name=f"Team {_n()}")
    team.members = [
        TeamMember(seat=seat, agent_id=agent.id, branch_id=branch.id, work_date=work_date)
        for seat, agent in enumerate(agents, start=1)
    ]
    session.add(team)
    session.commit()
    return team


def make_case(
    session: Session, branch: Branch | None = None, collector: User | None = None, **fields: object
) -> DebtCase:
    branch = branch or make_branch(session)
    values: dict[str, object] = dict(
        branch_id=branch.id,
        reference=f"C{_n():06d}",
        debtor_name="张伟",
        debtor_id_number="11010519491231002X",
        amount_owed=Decimal("12345.67"),
        currency="CNY",
        overdue_bucket=OverdueBucket.M3,
        complaint_history=False,
        phone_collector_id=collector.id if collector else None,
        notes="",
    )
    case = DebtCase(**(values | fields))
    session.add(case)
    session.commit()
    return case


def make_address(
    session: Session, case: DebtCase | None = None, point: GeoPoint | None = PEOPLES_SQUARE, **fields: object
) -> Address:
    case = case or make_case(session)
    values: dict[str, object] = dict(
        case_id=case.id,
        kind=AddressKind.HOME,
        raw_text="上海市黄浦区南京东路100号3室",
        point=point.to_wkt() if point else None,
        point_source=PointSource.IMPORT if point else None,
        point_set_at=utcnow() if point else None,
        source=ContactSource.CASE_FILE,
        invalid_note="",
    )
    address = Address(**(values | fields))
    session.add(address)
    session.commit()
    return address


def make_contact(session: Session, case: DebtCase | None = None, **fields: object) -> DebtorContact:
    case = case or make_case(session)
    values: dict[str, object] = dict(
        case_id=case.id, phone=f"1380013{_n():04d}", kind=ContactKind.MOBILE, source=ContactSource.CASE_FILE
    )
    contact = DebtorContact(**(values | fields))
    session.add(contact)
    session.commit()
    return contact


def make_visit_request(
    session: Session, address: Address | None = None, requested_by: User | None = None, **fields: object
) -> VisitRequest:
    address = address or make_address(session)
    case = session.get(DebtCase, address.case_id)
    assert case is not None
    branch = session.get(Branch, case.branch_id)
    assert branch is not None
    requested_by = requested_by or make_user(session, Role.PHONE_COLLECTOR, branch)
    day = tomorrow(branch)
    values: dict[str, object] = dict(
        case_id=case.id,
        address_id=address.id,
        purpose=VisitPurpose.CONFIRM_ADDRESS,
        priority=3,
        requested_by_id=requested_by.id,
        earliest_date=day,
        latest_date=day + timedelta(days=2),
        notes="",
    )
    request = VisitRequest(**(values | fields))
    session.add(request)
    session.commit()
    return request


def auth_headers(user: User) -> dict[str, str]:
    """The bearer token of a new login of `user`, recorded as a real login is (a refresh token of its own family)
    in the database of the session `user` belongs to."""
    loaded = object_session(user)
    assert loaded is not None, "auth_headers needs a user loaded in a session"
    login_id = uuid4()
    with Session(loaded.get_bind()) as session:  # a session of its own: tests call this from several threads
        session.add(
            RefreshToken(
                user_id=user.id,
                family_id=login_id,
                token_sha256=secrets.token_hex(32),
                expires_at=utcnow() + timedelta(days=1),
            )
        )
        session.commit()
    settings = Settings(auth=AuthSettings())
    token, _ = issue_access_token(TEST_JWT_SECRET, settings, user.id, login_id, utcnow())
    return {"Authorization": f"Bearer {token}"}


def problem_type(response: object) -> str:
    """The slug of a problem response, after asserting it is one."""
    headers = response.headers
    assert headers["content-type"] == "application/problem+json", headers["content-type"]
    body = response.json()
    assert body["status"] == response.status_code
    return str(body["type"]).rsplit("/", 1)[-1]


def as_uuid(value: str) -> UUID:
    return UUID(value)


_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def moments(body: object) -> list[str]:
    """Every timestamp (ISO 8601 date and time) anywhere in a JSON body."""
    if isinstance(body, dict):
        return [found for value in body.values() for found in moments(value)]
    if isinstance(body, list):
        return [found for value in body for found in moments(value)]
    return [body] if isinstance(body, str) and _MOMENT.match(body) else []


def publish_sheet(session: Session, supervisor: User, team: Team, requests: list[VisitRequest]) -> VisitSheet:
    """The team's day visiting `requests` in this order, stored and published as a planning run does (the same
    rows-to-routing translation, a succeeded run with the team's draft sheet, `publish_run`), with the earliest
    times of that order instead of a solver's: for tests that need a published sheet, not a plan."""
    sheet = draft_sheet(session, supervisor, team, requests)
    publish_run(session, supervisor, sheet.run_id)
    session.commit()
    session.expire_all()  # what the API changes later is read afresh, as it is after a real run
    return sheet


def draft_sheet(session: Session, supervisor: User, team: Team, requests: list[VisitRequest]) -> VisitSheet:
    """As `publish_sheet`, but left as the draft of a succeeded run."""
    branch = session.get_one(Branch, team.branch_id)
    now = utcnow()
    run = PlanningRun(
        branch_id=branch.id,
        work_date=team.work_date,
        status=RunStatus.SUCCEEDED,
        stage="done",
        progress=100,
        time_limit_s=1,
        requested_by_id=supervisor.id,
        started_at=now,
        finished_at=now,
        figures={"requests": len(requests), "planned": len(requests), "unplanned": 0, "teams": 1},
    )
    session.add(run)
    session.flush()
    found = {request.id: visit_windows(rules_of(branch), team.work_date, request) for request in requests}
    windows = {key: spans for key, spans in found.items() if not isinstance(spans, Closed)}
    assert len(windows) == len(requests), f"the legal hours leave no time for some requests: {found}"
    travel = SameTravel(GreatCircle(PlanningSettings().travel_mode))
    day, _ = build_day(branch, team.work_date, [team], requests, windows, travel)
    route = earliest_route(day.instance, day.instance.teams[0], day.instance.stops)
    sheet = planned_sheet(run, team, day, route)
    session.add(sheet)
    session.commit()
    return sheet
