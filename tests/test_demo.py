import re
import subprocess
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.cli import cli
from api.demo import BRANCH_NAME, DEMO_PASSWORD, DemoSeed, DemoUsernamesTaken, seed_demo
from api.geo import GeoPoint
from api.models.branches import Branch
from api.models.cases import Address, AddressValidity, DebtCase, DebtorContact
from api.models.teams import Team
from api.models.users import Role, User
from api.models.visit_requests import VisitRequest
from tests.conftest import ROOT
from tests.factories import count_rows, make_user, tomorrow

# central Shanghai, from Minhang in the south-west to Yangpu and Pudong in the north-east
SHANGHAI_LAT = (31.0, 31.4)
SHANGHAI_LON = (121.3, 121.7)
INVALID = {AddressValidity.REPORTED_INVALID, AddressValidity.CONFIRMED_INVALID}


def id_number_is_valid(number: str) -> bool:
    """ISO 7064 MOD 11-2 over all 18 characters (X is 10), a Shanghai region and a plausible birth date."""
    if not re.fullmatch(r"3101\d{13}[\dX]", number):
        return False
    values = [10 if char == "X" else int(char) for char in number]
    if sum(value * pow(2, 17 - i, 11) for i, value in enumerate(values)) % 11 != 1:
        return False
    born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    return date(1930, 1, 1) <= born <= date.today() - timedelta(days=18 * 366)


def in_shanghai(point: GeoPoint) -> bool:
    return SHANGHAI_LAT[0] < point.lat < SHANGHAI_LAT[1] and SHANGHAI_LON[0] < point.lon < SHANGHAI_LON[1]


def seed(session: Session, today: date | None = None) -> DemoSeed:
    result = seed_demo(session, today)
    session.commit()
    return result


def test_seed_creates_a_branch_with_people_and_tomorrows_teams(session: Session) -> None:
    result = seed(session)

    branch = session.scalars(select(Branch)).one()
    assert result.created and result.branch_name == branch.name == BRANCH_NAME
    assert result.work_date == tomorrow(branch)
    users = session.scalars(select(User)).all()
    assert len(users) == 11
    assert sorted(u.username for u in users if u.role is Role.AGENT) == [f"agent{n}" for n in range(1, 9)]
    assert {u.username: u.branch_id for u in users}["admin"] is None
    assert all(u.branch_id == branch.id for u in users if u.role is not Role.ADMIN)
    teams = session.scalars(select(Team)).all()
    assert len(teams) == 4 and {team.work_date for team in teams} == {tomorrow(branch)}
    seated = [member.agent_id for team in teams for member in team.members]
    assert all(len(team.members) == 2 for team in teams) and len(set(seated)) == 8
    assert {u.id for u in users if u.role is Role.AGENT} == set(seated)
    assert {login.team for login in result.logins if login.role is Role.AGENT} == {team.name for team in teams}


def test_seed_creates_cases_with_valid_ids_contacts_and_shanghai_addresses(session: Session) -> None:
    seed(session)

    cases = session.scalars(select(DebtCase)).all()
    collector = session.scalars(select(User).where(User.username == "collector")).one()
    assert 55 <= len(cases) <= 65
    assert len({case.reference for case in cases}) == len(cases)
    assert all(re.fullmatch(r"SH-\d{4}-\d{6}", case.reference) for case in cases)
    assert [case.debtor_id_number for case in cases if not id_number_is_valid(case.debtor_id_number)] == []
    assert sum(int(case.debtor_id_number[6:10]) < 1960 for case in cases) >= 2
    assert all(2_000 <= case.amount_owed <= 300_000 and case.phone_collector_id == collector.id for case in cases)
    assert any(case.complaint_history for case in cases) and not all(case.complaint_history for case in cases)
    assert all(1 <= len(case.contacts) <= 2 and any(a.kind == "home" for a in case.addresses) for case in cases)
    phones = [contact.phone for contact in session.scalars(select(DebtorContact))]
    assert all(re.fullmatch(r"1[3-9]\d{9}", phone) for phone in phones)
    addresses = session.scalars(select(Address)).all()
    assert all(address.raw_text.startswith("上海市") for address in addresses)
    points = [GeoPoint.from_wkb(address.point) for address in addresses if address.point is not None]
    assert 0 < len(addresses) - len(points) <= 4
    assert all(p is not None and in_shanghai(p) for p in points)
    assert sum(address.validity in INVALID for address in addresses) == 2


def test_every_case_with_a_visitable_address_has_a_request_for_tomorrow(session: Session) -> None:
    result = seed(session, today=date(2026, 3, 2))

    assert result.work_date == date(2026, 3, 3)
    requests = session.scalars(select(VisitRequest)).all()
    assert {(r.earliest_date, r.latest_date) for r in requests} == {(date(2026, 3, 3), date(2026, 3, 3))}
    assert {r.window_start for r in requests} > {None}
    requested = {r.case_id for r in requests}
    assert len(requested) == len(requests)
    for case in session.scalars(select(DebtCase)):
        visitable = [a.id for a in case.addresses if a.validity not in INVALID]
        assert (case.id in requested) == bool(visitable), case.reference
    assert all(r.address.validity not in INVALID and r.address.case_id == r.case_id for r in requests)


def test_second_seed_creates_nothing(session: Session) -> None:
    first = seed(session)
    before = [count_rows(session, model) for model in (Branch, User, Team, DebtCase, Address, VisitRequest)]

    second = seed(session)

    session.expire_all()
    assert not second.created
    assert (second.work_date, second.logins) == (first.work_date, first.logins)
    assert [count_rows(session, model) for model in (Branch, User, Team, DebtCase, Address, VisitRequest)] == before


def test_seed_refuses_demo_usernames_taken_outside_the_demo(session: Session) -> None:
    make_user(session, Role.ADMIN, username="admin")

    with pytest.raises(DemoUsernamesTaken, match="admin"):
        seed(session)

    session.rollback()
    assert count_rows(session, Branch) == 0 and count_rows(session, User) == 1


def test_demo_supervisor_logs_in_with_the_demo_password(client: TestClient, session: Session) -> None:
    seed(session)
    branch = session.scalars(select(Branch)).one()

    login = client.post("/auth/login", json={"username": "supervisor", "password": DEMO_PASSWORD})

    assert login.status_code == 200
    me = client.get("/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    assert me.status_code == 200
    assert (me.json()["role"], me.json()["branch_id"]) == ("supervisor", str(branch.id))


def test_seeding_prints_the_work_date_it_seeded(runner: CliRunner, session: Session) -> None:
    result = runner.invoke(cli, ["demo", "seed"])

    assert result.exit_code == 0, result.output
    branch = session.scalars(select(Branch).where(Branch.name == BRANCH_NAME)).one()
    assert f"Work date: {tomorrow(branch).isoformat()}" in result.output


def test_the_readme_example_asks_for_the_demo_branchs_tomorrow_wherever_the_machine_is(session: Session) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [expression] = re.findall(r"visit-requests\?date=\$\((.+?)\)\"", readme)
    work_date = seed(session).work_date

    # 25 hours apart, these two machines never share a date: only the branch's time zone gives one answer
    printed = {
        zone: subprocess.run(
            ["bash", "-c", expression], env={"TZ": zone, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True
        ).stdout.strip()
        for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago")
    }

    assert printed == {"Pacific/Kiritimati": work_date.isoformat(), "Pacific/Pago_Pago": work_date.isoformat()}
