"""`fieldvisit serve --workers 2`: two server processes on one database answer as one server: phones retrying their
creates with one key each, whichever process a retry reaches, create each row once and get its first answer."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.config import Settings
from api.models.cases import Address
from api.models.users import Role
from tests.factories import auth_headers, make_branch, make_case, make_user
from tests.test_crash import server

PHONES = 24


def test_two_server_processes_create_each_retried_row_once(
    settings: Settings, session: Session, tmp_path: Path
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    case = make_case(session, branch)
    headers = auth_headers(supervisor)

    with (
        server(settings, tmp_path / "server.log", None, "--workers", "2") as (base, _),
        httpx2.Client(base_url=base, timeout=60) as http,
    ):

        def create_twice(phone: int) -> tuple[int, int, str, str]:
            body = {"kind": "home", "raw_text": f"上海市静安区南京西路{phone + 1}号"}
            keyed = headers | {"Idempotency-Key": f"phone-{phone}"}
            first = http.post(f"/cases/{case.id}/addresses", json=body, headers=keyed)
            again = http.post(f"/cases/{case.id}/addresses", json=body, headers=keyed)
            return first.status_code, again.status_code, first.json()["id"], again.json()["id"]

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(create_twice, range(PHONES)))

    assert all(first == again == 201 and one == other for first, again, one, other in answers), answers
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Address).where(Address.case_id == case.id)) == PHONES
