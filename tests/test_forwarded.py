"""No forwarded header is believed unless the operator names the proxies: a password spray that names another
address in X-Forwarded-For for each try is throttled as the one peer it is; behind a named proxy, each client's own
address counts, and a client behind it cannot lock another out by naming that one's address."""

from pathlib import Path

import httpx2
from sqlalchemy.orm import Session

from api.config import Settings
from api.models.users import Role
from tests.factories import make_branch, make_user
from tests.test_crash import server


def _spray(base: str, usernames: list[str], addresses: list[str]) -> list[int]:
    with httpx2.Client(base_url=base, timeout=30) as http:
        return [
            http.post(
                "/auth/login",
                json={"username": username, "password": "not-the-password"},
                headers={"X-Forwarded-For": address},
            ).status_code
            for username, address in zip(usernames, addresses, strict=True)
        ]


def test_a_spray_through_x_forwarded_for_is_throttled_as_its_one_peer(
    settings: Settings, session: Session, tmp_path: Path
) -> None:
    branch = make_branch(session)
    usernames = [make_user(session, Role.AGENT, branch).username for _ in range(25)]
    addresses = [f"198.51.100.{n}" for n in range(25)]

    with server(settings, tmp_path / "server.log") as (base, _):
        answers = _spray(base, usernames, addresses)

    assert answers[:20] == [401] * 20
    assert set(answers[20:]) == {429}  # the 21st failure from 127.0.0.1, whatever the header says


def test_behind_a_named_proxy_each_client_counts_on_its_own(
    settings: Settings, session: Session, tmp_path: Path
) -> None:
    branch = make_branch(session)
    victim, attacker = make_user(session, Role.AGENT, branch), make_user(session, Role.AGENT, branch)
    env = {"FIELDVISIT_TRUSTED_PROXIES": '["127.0.0.1"]'}

    with server(settings, tmp_path / "server.log", env) as (base, _):
        spray = _spray(base, [attacker.username] * 8, [f"198.51.100.{n}" for n in range(8)])
        victim_address = _spray(base, [victim.username], ["203.0.113.7"])

    assert spray == [401] * 8  # each client's failures count apart: none reached five
    assert victim_address == [401]
