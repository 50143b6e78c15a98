from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.branches.service import local_today
from api.models.branches import Branch
from api.models.teams import Team, TeamMember
from api.models.users import Role, User
from api.teams import service as teams_service
from tests.factories import auth_headers, make_branch, make_team, make_user, problem_type, tomorrow


def _counts(session: Session) -> tuple[int, int]:
    session.expire_all()
    teams = session.scalar(select(func.count()).select_from(Team))
    members = session.scalar(select(func.count()).select_from(TeamMember))
    assert teams is not None and members is not None
    return teams, members


def _agents(session: Session, branch: Branch, n: int = 2) -> list[User]:
    return [make_user(session, Role.AGENT, branch) for _ in range(n)]


def _body(branch: Branch, *agents: User, **fields: Any) -> dict[str, Any]:
    return {"work_date": tomorrow(branch).isoformat(), "name": "A组", "agent_ids": [str(a.id) for a in agents]} | fields


def _seats(response_json: dict[str, Any]) -> list[tuple[int, str]]:
    return [(m["seat"], m["agent_id"]) for m in response_json["members"]]


def test_supervisor_creates_a_team_in_their_branch(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    first, second = _agents(session, branch)

    response = client.post("/teams", json=_body(branch, first, second), headers=auth_headers(supervisor))

    assert response.status_code == 201
    team = response.json()
    assert team["branch_id"] == str(branch.id)
    assert team["work_date"] == tomorrow(branch).isoformat()
    assert team["name"] == "A组"
    assert team["members"] == [
        {"seat": 1, "agent_id": str(first.id), "username": first.username, "full_name": first.full_name},
        {"seat": 2, "agent_id": str(second.id), "username": second.username, "full_name": second.full_name},
    ]
    session.expire_all()
    members = session.scalars(select(TeamMember).order_by(TeamMember.seat)).all()
    team_id = UUID(team["id"])
    assert [(m.team_id, m.seat, m.agent_id) for m in members] == [(team_id, 1, first.id), (team_id, 2, second.id)]


def test_team_for_today_is_accepted(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)

    body = _body(branch, *_agents(session, branch), work_date=local_today(branch).isoformat())
    response = client.post("/teams", json=body, headers=auth_headers(supervisor))

    assert response.status_code == 201


def test_admin_must_name_the_branch(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    admin = make_user(session, Role.ADMIN)
    agents = _agents(session, branch)

    refused = client.post("/teams", json=_body(branch, *agents), headers=auth_headers(admin))
    assert refused.status_code == 422 and problem_type(refused) == "branch-required"
    assert _counts(session) == (0, 0)

    created = client.post("/teams", json=_body(branch, *agents, branch_id=str(branch.id)), headers=auth_headers(admin))
    assert created.status_code == 201
    assert created.json()["branch_id"] == str(branch.id)


@pytest.mark.parametrize("how_many", [0, 1, 3])
def test_team_without_exactly_two_agents_is_refused(client: TestClient, session: Session, how_many: int) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)

    response = client.post(
        "/teams", json=_body(branch, *_agents(session, branch, how_many)), headers=auth_headers(supervisor)
    )

    assert response.status_code == 422
    assert problem_type(response) == "team-not-two-agents"
    assert _counts(session) == (0, 0)


def test_more_than_ten_agent_ids_fail_validation(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)

    body = _body(branch) | {"agent_ids": [str(uuid4()) for _ in range(11)]}
    response = client.post("/teams", json=body, headers=auth_headers(supervisor))

    assert response.status_code == 422 and problem_type(response) == "validation-failed"
    assert response.json()["errors"][0]["pointer"] == "#/agent_ids"


def test_the_same_agent_twice_is_refused(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    agent = make_user(session, Role.AGENT, branch)

    response = client.post("/teams", json=_body(branch, agent, agent), headers=auth_headers(supervisor))

    assert response.status_code == 422
    assert problem_type(response) == "team-agents-not-distinct"
    assert _counts(session) == (0, 0)


def test_an_agent_in_two_teams_on_one_date_is_refused(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    busy, partner, other = _agents(session, branch, 3)
    existing = make_team(session, branch, (busy, partner))

    response = client.post("/teams", json=_body(branch, other, busy, name="B组"), headers=auth_headers(supervisor))

    assert response.status_code == 409
    assert problem_type(response) == "agent-already-in-team"
    assert response.json()["agent_id"] == str(busy.id)
    assert response.json()["team_id"] == str(existing.id)
    assert _counts(session) == (1, 2)


def test_an_agent_may_work_in_teams_on_different_dates(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    first, second = _agents(session, branch)
    make_team(session, branch, (first, second))

    day_after = (tomorrow(branch) + timedelta(days=1)).isoformat()
    response = client.post(
        "/teams", json=_body(branch, first, second, work_date=day_after), headers=auth_headers(supervisor)
    )

    assert response.status_code == 201
    assert _counts(session) == (2, 4)


def test_an_inactive_agent_is_refused(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    active = make_user(session, Role.AGENT, branch)
    inactive = make_user(session, Role.AGENT, branch, active=False)

    response = client.post("/teams", json=_body(branch, active, inactive), headers=auth_headers(supervisor))

    assert response.status_code == 422
    assert problem_type(response) == "agent-inactive"
    assert response.json()["agent_id"] == str(inactive.id)
    assert response.json()["errors"][0]["pointer"] == "#/agent_ids/1"
    assert _counts(session) == (0, 0)


def test_users_who_are_not_agents_of_the_branch_are_not_eligible_alike(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    agent = make_user(session, Role.AGENT, branch)
    collector = make_user(session, Role.PHONE_COLLECTOR, branch)
    foreign_agent = make_user(session, Role.AGENT)  # of another branch

    bodies = []
    for other_id in (collector.id, supervisor.id, foreign_agent.id, uuid4()):
        body = _body(branch, agent) | {"agent_ids": [str(agent.id), str(other_id)]}
        response = client.post("/teams", json=body, headers=auth_headers(supervisor))
        assert response.status_code == 422
        assert problem_type(response) == "agent-not-eligible"
        assert response.json()["agent_id"] == str(other_id)
        bodies.append({k: v for k, v in response.json().items() if k not in ("agent_id", "detail", "request_id")})

    # an agent of another branch reads exactly like an id that exists nowhere
    assert bodies[2] == bodies[3]
    assert _counts(session) == (0, 0)


def test_work_date_before_the_branch_today_is_refused(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)

    yesterday = (local_today(branch) - timedelta(days=1)).isoformat()
    body = _body(branch, *_agents(session, branch), work_date=yesterday)
    response = client.post("/teams", json=body, headers=auth_headers(supervisor))

    assert response.status_code == 422
    assert problem_type(response) == "work-date-in-past"
    assert _counts(session) == (0, 0)


def test_work_date_must_be_an_iso_date_string(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)

    response = client.post(
        "/teams", json=_body(branch, *_agents(session, branch), work_date=0), headers=auth_headers(supervisor)
    )

    assert response.status_code == 422 and problem_type(response) == "validation-failed"
    assert response.json()["errors"][0]["pointer"] == "#/work_date"


def test_duplicate_team_name_on_the_same_date_is_refused(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    existing = make_team(session, branch)

    response = client.post(
        "/teams", json=_body(branch, *_agents(session, branch), name=existing.name), headers=auth_headers(supervisor)
    )

    assert response.status_code == 409
    assert problem_type(response) == "team-name-taken"
    assert response.json()["team_id"] == str(existing.id)
    assert _counts(session) == (1, 2)


def test_agent_and_phone_collector_may_not_create_teams(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    agents = _agents(session, branch)
    for role in (Role.AGENT, Role.PHONE_COLLECTOR):
        caller = make_user(session, role, branch)
        response = client.post("/teams", json=_body(branch, *agents), headers=auth_headers(caller))
        assert response.status_code == 403 and problem_type(response) == "role-not-allowed"
    assert _counts(session) == (0, 0)


def test_agent_sees_only_the_teams_they_are_in(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    agent, partner, third, fourth = _agents(session, branch, 4)
    mine = make_team(session, branch, (partner, agent))
    mine_later = make_team(session, branch, (agent, third), work_date=tomorrow(branch) + timedelta(days=1))
    not_mine = make_team(session, branch, (third, fourth))

    listed = client.get("/teams", headers=auth_headers(agent))
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()["items"]] == [str(mine.id), str(mine_later.id)]
    assert listed.json()["items"][0]["members"][1]["username"] == agent.username

    assert client.get(f"/teams/{mine.id}", headers=auth_headers(agent)).status_code == 200
    hidden = client.get(f"/teams/{not_mine.id}", headers=auth_headers(agent))
    assert hidden.status_code == 404 and problem_type(hidden) == "team-not-found"


def test_phone_collector_may_not_read_teams(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    team = make_team(session, branch)
    collector = make_user(session, Role.PHONE_COLLECTOR, branch)

    for response in (
        client.get("/teams", headers=auth_headers(collector)),
        client.get(f"/teams/{team.id}", headers=auth_headers(collector)),
    ):
        assert response.status_code == 403
        assert problem_type(response) == "role-not-allowed"


def test_list_is_scoped_to_the_branch_and_filters_by_date(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    admin = make_user(session, Role.ADMIN)
    tomorrows = make_team(session, branch)
    later = make_team(session, branch, work_date=tomorrow(branch) + timedelta(days=2))
    elsewhere = make_team(session)

    def ids(**params: str) -> list[str]:
        response = client.get("/teams", params=params, headers=auth_headers(supervisor))
        assert response.status_code == 200
        return [t["id"] for t in response.json()["items"]]

    assert ids() == [str(tomorrows.id), str(later.id)]
    assert ids(work_date=tomorrow(branch).isoformat()) == [str(tomorrows.id)]
    assert ids(branch_id=str(elsewhere.branch_id)) == []

    by_admin = client.get("/teams", params={"branch_id": str(elsewhere.branch_id)}, headers=auth_headers(admin))
    assert [t["id"] for t in by_admin.json()["items"]] == [str(elsewhere.id)]


def test_list_pages_with_a_cursor(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    teams = [make_team(session, branch) for _ in range(3)]

    first = client.get("/teams", params={"limit": 2}, headers=auth_headers(supervisor)).json()
    second = client.get(
        "/teams", params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth_headers(supervisor)
    ).json()

    assert [t["id"] for t in first["items"] + second["items"]] == [str(t.id) for t in teams]
    assert second["next_cursor"] is None


def test_patch_replaces_members_and_swaps_seats(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    first, second, third, fourth = _agents(session, branch, 4)
    team = make_team(session, branch, (first, second))
    headers = auth_headers(supervisor)

    swapped = client.patch(f"/teams/{team.id}", json={"agent_ids": [str(second.id), str(first.id)]}, headers=headers)
    assert swapped.status_code == 200
    assert _seats(swapped.json()) == [(1, str(second.id)), (2, str(first.id))]

    replaced = client.patch(
        f"/teams/{team.id}", json={"agent_ids": [str(third.id), str(fourth.id)], "name": "新组"}, headers=headers
    )
    assert replaced.status_code == 200
    assert replaced.json()["name"] == "新组"
    assert _seats(replaced.json()) == [(1, str(third.id)), (2, str(fourth.id))]
    assert datetime.fromisoformat(replaced.json()["updated_at"]) > datetime.fromisoformat(swapped.json()["created_at"])

    session.expire_all()
    rows = session.scalars(select(TeamMember).order_by(TeamMember.seat)).all()
    assert [(m.seat, m.agent_id) for m in rows] == [(1, third.id), (2, fourth.id)]


def test_patch_keeps_one_agent_and_adds_another(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    first, second, third = _agents(session, branch, 3)
    team = make_team(session, branch, (first, second))

    response = client.patch(
        f"/teams/{team.id}", json={"agent_ids": [str(third.id), str(first.id)]}, headers=auth_headers(supervisor)
    )

    assert response.status_code == 200
    assert _seats(response.json()) == [(1, str(third.id)), (2, str(first.id))]
    assert _counts(session) == (1, 2)


def test_patch_refusals_change_nothing(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    first, second, busy, busy_partner = _agents(session, branch, 4)
    inactive = make_user(session, Role.AGENT, branch, active=False)
    team = make_team(session, branch, (first, second))
    other = make_team(session, branch, (busy, busy_partner))

    cases = [
        ({"agent_ids": [str(first.id)]}, 422, "team-not-two-agents"),
        ({"agent_ids": [str(first.id), str(first.id)]}, 422, "team-agents-not-distinct"),
        ({"agent_ids": [str(first.id), str(inactive.id)]}, 422, "agent-inactive"),
        ({"agent_ids": [str(first.id), str(make_user(session).id)]}, 422, "agent-not-eligible"),
        ({"agent_ids": [str(first.id), str(busy.id)], "name": "X"}, 409, "agent-already-in-team"),
        ({"name": other.name}, 409, "team-name-taken"),
        ({"name": None}, 422, "validation-failed"),
    ]
    for body, status, slug in cases:
        response = client.patch(f"/teams/{team.id}", json=body, headers=auth_headers(supervisor))
        assert (response.status_code, problem_type(response)) == (status, slug), body

    session.expire_all()
    stored = session.get(Team, team.id)
    assert stored is not None and stored.name == team.name
    assert [(m.seat, m.agent_id) for m in stored.members] == [(1, first.id), (2, second.id)]
    assert _counts(session) == (2, 4)


def test_a_past_team_cannot_be_changed(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    team = make_team(session, branch, work_date=local_today(branch) - timedelta(days=1))

    response = client.patch(f"/teams/{team.id}", json={"name": "renamed"}, headers=auth_headers(supervisor))

    assert response.status_code == 422 and problem_type(response) == "work-date-in-past"
    session.expire_all()
    assert session.scalar(select(Team.name).where(Team.id == team.id)) == team.name


def test_agent_may_not_patch_their_team(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    agent, partner = _agents(session, branch)
    team = make_team(session, branch, (agent, partner))

    response = client.patch(f"/teams/{team.id}", json={"name": "ours"}, headers=auth_headers(agent))

    assert response.status_code == 403 and problem_type(response) == "role-not-allowed"


def test_supervisor_of_another_branch_gets_404(client: TestClient, session: Session) -> None:
    team = make_team(session)
    outsider = make_user(session, Role.SUPERVISOR)

    for response in (
        client.get(f"/teams/{team.id}", headers=auth_headers(outsider)),
        client.patch(f"/teams/{team.id}", json={"name": "mine now"}, headers=auth_headers(outsider)),
        client.get(f"/teams/{uuid4()}", headers=auth_headers(outsider)),
    ):
        assert response.status_code == 404
        assert problem_type(response) == "team-not-found"
    session.expire_all()
    assert session.scalar(select(Team.name).where(Team.id == team.id)) == team.name


def test_supervisor_cannot_use_another_branch_or_its_agents(client: TestClient, session: Session) -> None:
    home = make_branch(session)
    away = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, home)
    own_agent = make_user(session, Role.AGENT, home)
    away_agents = _agents(session, away)
    headers = auth_headers(supervisor)

    mixed = client.post("/teams", json=_body(home, own_agent, away_agents[0]), headers=headers)
    assert mixed.status_code == 422 and problem_type(mixed) == "agent-not-eligible"

    in_away = client.post("/teams", json=_body(away, *away_agents, branch_id=str(away.id)), headers=headers)
    assert in_away.status_code == 404 and problem_type(in_away) == "branch-not-found"

    team = make_team(session, home, (own_agent, make_user(session, Role.AGENT, home)))
    patched = client.patch(
        f"/teams/{team.id}", json={"agent_ids": [str(own_agent.id), str(away_agents[1].id)]}, headers=headers
    )
    assert patched.status_code == 422 and problem_type(patched) == "agent-not-eligible"
    assert _counts(session) == (1, 2)


def test_admin_cannot_seat_agents_of_another_branch(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    admin = make_user(session, Role.ADMIN)
    local = make_user(session, Role.AGENT, branch)
    foreign = make_user(session, Role.AGENT)

    response = client.post(
        "/teams", json=_body(branch, local, foreign, branch_id=str(branch.id)), headers=auth_headers(admin)
    )

    assert response.status_code == 422 and problem_type(response) == "agent-not-eligible"
    assert _counts(session) == (0, 0)


def _skip_first_call(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Let the first check pass, as if a concurrent request wrote its rows just after it ran."""
    real = getattr(teams_service, name)
    calls = []

    def check(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) > 1:
            real(*args, **kwargs)

    monkeypatch.setattr(teams_service, name, check)


def test_database_refusal_of_a_busy_agent_becomes_409(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    busy, partner, other = _agents(session, branch, 3)
    existing = make_team(session, branch, (busy, partner))
    _skip_first_call(monkeypatch, "_ensure_agents_free")

    response = client.post("/teams", json=_body(branch, other, busy, name="B组"), headers=auth_headers(supervisor))

    assert response.status_code == 409
    assert problem_type(response) == "conflict"
    assert _counts(session) == (1, 2)
    assert session.scalar(select(TeamMember.team_id).where(TeamMember.agent_id == busy.id)) == existing.id


def test_database_refusal_of_a_taken_name_becomes_409(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    existing = make_team(session, branch)
    team = make_team(session, branch)
    _skip_first_call(monkeypatch, "_ensure_name_free")

    response = client.patch(f"/teams/{team.id}", json={"name": existing.name}, headers=auth_headers(supervisor))

    assert response.status_code == 409
    assert problem_type(response) == "conflict"
    session.expire_all()
    assert session.scalar(select(Team.name).where(Team.id == team.id)) == team.name


def test_a_team_day_defaults_to_a_nine_to_six_shift_with_lunch_from_the_office(
    client: TestClient, session: Session
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)

    response = client.post("/teams", json=_body(branch, *_agents(session, branch)), headers=auth_headers(supervisor))

    assert response.status_code == 201
    team = response.json()
    assert (team["shift_start"], team["shift_end"], team["max_visits"], team["experienced"]) == (
        "09:00",
        "18:00",
        16,
        False,
    )
    assert team["lunch_break"] == {"starts_after": "11:30", "ends_before": "13:30", "minutes": 45}
    assert team["start_point"] is None and team["end_point"] is None


def test_a_team_day_is_set_and_changed(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    home = {"lat": 31.2, "lon": 121.45}
    body = _body(
        branch,
        *_agents(session, branch),
        shift_start="10:00",
        shift_end="19:30",
        lunch_break=None,
        max_visits=9,
        experienced=True,
        start_point=home,
    )
    created = client.post("/teams", json=body, headers=auth_headers(supervisor)).json()
    assert (created["shift_start"], created["lunch_break"], created["start_point"]) == ("10:00", None, home)

    lunch = {"starts_after": "12:00", "ends_before": "14:00", "minutes": 30}
    response = client.patch(
        f"/teams/{created['id']}", json={"lunch_break": lunch, "start_point": None}, headers=auth_headers(supervisor)
    )

    assert response.status_code == 200
    team = response.json()
    assert (team["lunch_break"], team["start_point"], team["shift_end"], team["max_visits"]) == (
        lunch,
        None,
        "19:30",
        9,
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"shift_start": "18:00", "shift_end": "09:00"},
        {"lunch_break": {"starts_after": "08:00", "ends_before": "10:00", "minutes": 30}},
        {"lunch_break": {"starts_after": "12:00", "ends_before": "12:20", "minutes": 30}},
        {"shift_end": "12:00"},
    ],
)
def test_a_shift_and_break_that_do_not_fit_are_refused(
    client: TestClient, session: Session, fields: dict[str, Any]
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)

    response = client.post(
        "/teams", json=_body(branch, *_agents(session, branch), **fields), headers=auth_headers(supervisor)
    )

    assert response.status_code == 422
    assert problem_type(response) == "team-day-invalid"
    assert _counts(session) == (0, 0)


def test_a_change_that_breaks_the_day_is_refused_and_nothing_changes(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    team = client.post("/teams", json=_body(branch, *_agents(session, branch)), headers=auth_headers(supervisor)).json()

    response = client.patch(f"/teams/{team['id']}", json={"shift_end": "13:00"}, headers=auth_headers(supervisor))

    assert response.status_code == 422
    assert problem_type(response) == "team-day-invalid"
    assert client.get(f"/teams/{team['id']}", headers=auth_headers(supervisor)).json()["shift_end"] == "18:00"


def test_a_team_says_how_it_travels_and_may_go_back_to_the_servers_way(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    headers = auth_headers(supervisor)

    created = client.post(
        "/teams", json=_body(branch, *_agents(session, branch), travel_mode="cycling"), headers=headers
    )
    default = client.patch(f"/teams/{created.json()['id']}", json={"travel_mode": None}, headers=headers)
    refused = client.patch(f"/teams/{created.json()['id']}", json={"travel_mode": "scooter"}, headers=headers)

    assert created.status_code == 201 and created.json()["travel_mode"] == "cycling"
    assert default.status_code == 200 and default.json()["travel_mode"] is None
    assert refused.status_code == 422 and refused.json()["errors"][0]["pointer"] == "#/travel_mode"
    assert client.get(f"/teams/{created.json()['id']}", headers=headers).json()["travel_mode"] is None
