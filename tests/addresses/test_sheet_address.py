"""The sheet shows each address's grade and parts, and the printed and exported sheet says when an address does not
reach a door."""

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.models.users import Role
from tests.factories import (
    NEAR_OFFICE,
    auth_headers,
    make_address,
    make_branch,
    make_case,
    make_team,
    make_user,
    make_visit_request,
    publish_sheet,
)


def test_the_sheet_shows_the_grade_and_the_export_flags_an_address_short_of_a_door(
    client: TestClient, session: Session
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    team = make_team(session, branch)
    texts = ["上海市浦东新区银城中路722弄8号1201室", "上海市浦东新区银城中路722弄8号"]
    requests = [
        make_visit_request(session, make_address(session, make_case(session, branch), point=point, raw_text=text))
        for text, point in zip(texts, NEAR_OFFICE, strict=False)
    ]
    sheet = publish_sheet(session, supervisor, team, requests)

    shown = client.get(f"/visit-sheets/{sheet.id}", headers=auth_headers(supervisor)).json()
    exported = client.get(f"/visit-sheets/{sheet.id}.csv", headers=auth_headers(supervisor))

    by_text = {stop["address"]["raw_text"]: stop["address"] for stop in shown["stops"]}
    door, building = by_text[texts[0]], by_text[texts[1]]
    assert door["grade"] == "complete" and door["parts"]["room"] == "1201" and door["parts"]["lane"] == "722"
    assert building["grade"] == "building" and "room" not in {k for k, v in building["parts"].items() if v}
    flags = {row["address"]: row["flags"] for row in csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff")))}
    assert "地址仅到楼栋" in flags[texts[1]] and "地址" not in flags[texts[0]]
