"""A seeded Shanghai branch day as database rows: the generator of bench/routing/branch_day.py, stored.

The branch visits 08:00–21:00; N debt cases each have one located address and one open visit request due on the
work date (tomorrow in the branch's zone), placed, windowed and marked as complaints like `branch_day`, with a
purpose, priority and overdue bucket drawn at random. T teams of two agents work 09:00–18:00 with a 45 min lunch
between 11:30 and 13:30, at most 16 visits, one team in three experienced.
"""

from datetime import date, time, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import numpy as np
from geoalchemy2 import WKTElement
from sqlalchemy.orm import Session

from api.branches.service import local_today
from api.db import utcnow
from api.models.branches import Branch
from api.models.cases import Address, AddressKind, ContactSource, DebtCase, OverdueBucket
from api.models.teams import Team, TeamMember
from api.models.users import Role, User
from api.models.visit_requests import VisitPurpose, VisitRequest
from api.rules.grades import PointSource
from bench.routing.branch_day import (
    CENTRE,
    COMPLAINT_SHARE,
    MAX_VISITS,
    VISITING_HOURS,
    _lat_lon,
    _points_km,
    _window,
)

# argon2id of "bench", computed once: nobody logs in, and hashing per user would dominate the setup
PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$VSgFWI4FjvTKGy2iTew04g$V8C14Wo0ROTYUOurF/qnOSxgIxkPiLEEnEPBBXoR0SA"
PURPOSES = list(VisitPurpose)
BUCKETS = list(OverdueBucket)


def _point(lat: float, lon: float) -> WKTElement:
    return WKTElement(f"POINT({float(lon)!r} {float(lat)!r})", srid=4326)


def _clock(seconds: int) -> time:
    return time(seconds // 3600, seconds % 3600 // 60)


def _user(branch: Branch, role: Role, username: str) -> User:
    return User(
        id=uuid4(),
        branch_id=branch.id,
        username=username,
        full_name=username.title(),
        role=role,
        password_hash=PASSWORD_HASH,
    )


def _team(branch: Branch, work_date: date, number: int) -> tuple[Team, list[User]]:
    agents = [_user(branch, Role.AGENT, f"agent{number:03d}{seat}") for seat in "ab"]
    team = Team(
        id=uuid4(),
        branch_id=branch.id,
        work_date=work_date,
        name=f"Team {number:03d}",
        shift_start=time(9, 0),
        shift_end=time(18, 0),
        break_from=time(11, 30),
        break_until=time(13, 30),
        break_minutes=45,
        max_visits=MAX_VISITS,
        experienced=number % 3 == 1,
    )
    team.members = [
        TeamMember(seat=seat, agent_id=agent.id, branch_id=branch.id, work_date=work_date)
        for seat, agent in enumerate(agents, start=1)
    ]
    return team, agents


def _case(rng: np.random.Generator, branch: Branch, number: int, lat: float, lon: float) -> tuple[DebtCase, Address]:
    case = DebtCase(
        id=uuid4(),
        branch_id=branch.id,
        reference=f"B{number:06d}",
        debtor_name=f"Debtor {number}",
        debtor_id_number="11010519491231002X",
        amount_owed=Decimal(int(rng.integers(1_000, 200_000))),
        overdue_bucket=BUCKETS[int(rng.integers(len(BUCKETS)))],
        complaint_history=bool(rng.random() < COMPLAINT_SHARE),
    )
    address = Address(
        id=uuid4(),
        case_id=case.id,
        kind=AddressKind.HOME,
        raw_text=f"上海市南京东路{number}号{number % 30 + 1}室",  # a door naming no district: the pre-check passes it
        point=_point(lat, lon),
        point_source=PointSource.IMPORT,
        point_set_at=utcnow(),
        source=ContactSource.CASE_FILE,
    )
    return case, address


def _request(rng: np.random.Generator, address: Address, collector: User, work_date: date) -> VisitRequest:
    window = _window(rng)[0]
    preferred = window != VISITING_HOURS
    return VisitRequest(
        case_id=address.case_id,
        address_id=address.id,
        purpose=PURPOSES[int(rng.integers(len(PURPOSES)))],
        priority=int(rng.integers(1, 6)),
        requested_by_id=collector.id,
        earliest_date=work_date,
        latest_date=work_date,
        window_start=_clock(window.start_s) if preferred else None,
        window_end=_clock(window.end_s) if preferred else None,
    )


def seed_day(session: Session, requests: int, teams: int, seed: int) -> UUID:
    """Add the branch, its people, cases, addresses, open requests and teams for tomorrow; returns the supervisor's
    id. The same (requests, teams, seed) always gives the same day. Flushes; the caller commits."""
    rng = np.random.default_rng(seed)
    branch = Branch(
        id=uuid4(),
        name="Bench Shanghai",
        timezone="Asia/Shanghai",
        office_address="上海市黄浦区人民大道200号",
        office_point=_point(*CENTRE),
    )
    work_date = local_today(branch) + timedelta(days=1)
    supervisor = _user(branch, Role.SUPERVISOR, "supervisor")
    collector = _user(branch, Role.PHONE_COLLECTOR, "collector")
    points = _lat_lon(_points_km(rng, requests))
    cases = [_case(rng, branch, number, lat, lon) for number, (lat, lon) in enumerate(points, start=1)]
    visits = [_request(rng, address, collector, work_date) for _, address in cases]
    crews = [_team(branch, work_date, number) for number in range(1, teams + 1)]
    users = [supervisor, collector, *(agent for _, agents in crews for agent in agents)]
    # plain foreign keys link these tables, and the unit of work orders only relationships: one flush per table
    for rows in ([branch], users, [case for case, _ in cases], [address for _, address in cases], visits):
        session.add_all(rows)
        session.flush()
    session.add_all([team for team, _ in crews])
    session.flush()
    return supervisor.id
