"""From a creditor's file of text-only addresses to a planned day, through the API and the CLI: the import grades
the addresses and geocodes them in the background (an AMap double on loopback), the pre-check reports the ones that
cannot be trusted, the supervisor cleans them up, and planning plans what is now trusted."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from typer.testing import CliRunner

from api.addresses.geocoders import gcj02_to_wgs84
from api.addresses.jobs import settled
from api.cli import cli
from api.config import GeocodingSettings, Settings
from api.main import create_app
from api.models.cases import Address
from api.models.users import Role
from api.rules.grades import PointSource
from tests.factories import auth_headers, make_branch, make_team, make_user, tomorrow
from tests.test_case_import import post_csv, row, to_csv

DOOR = "上海市黄浦区南京东路100号3室"
TOWER = "上海市黄浦区福州路300号2号楼1201室"
ROAD_MATCH = "上海市黄浦区九江路50号1室"  # AMap knows only the road
UNKNOWN = "上海市黄浦区汉口路999号5室"  # AMap knows nothing of it
VAGUE = "上海市黄浦区人民广场附近"

# what the AMap double answers per address: (level, "lng,lat" in GCJ-02)
AMAP = {
    DOOR: ("门牌号", "121.48106,31.23219"),
    TOWER: ("兴趣点", "121.48290,31.23390"),
    ROAD_MATCH: ("道路", "121.48400,31.23500"),
    VAGUE: ("兴趣点", "121.47990,31.23280"),
}


class AMapDouble:
    """`/v3/geocode/geo` on loopback, answering in AMap's documented JSON; counts the requests."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        double = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # headers and body go in two writes: no delayed ACK between them

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                address = query["address"][0]
                double.asked.append(address)
                known = AMAP.get(address)
                geocodes = [{"formatted_address": address, "level": known[0], "location": known[1]}] if known else []
                body = {
                    "status": "1",
                    "info": "OK",
                    "infocode": "10000",
                    "count": str(len(geocodes)),
                    "geocodes": geocodes,
                }
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json;charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def amap() -> Iterator[AMapDouble]:
    double = AMapDouble()
    yield double
    double.server.shutdown()


def _with_amap(settings: Settings, amap: AMapDouble) -> Settings:
    geocoding = GeocodingSettings(amap_key=SecretStr("test-key"), amap_base_url=amap.url, amap_per_second=100)
    return settings.model_copy(update={"geocoding": geocoding})


def _rows(day: str) -> list[dict[str, str]]:
    texts = [DOOR, TOWER, ROAD_MATCH, UNKNOWN, VAGUE]
    return [
        row(case_reference=f"TXT-{n}", address=text, visit_purpose="confirm_address", visit_earliest_date=day)
        for n, text in enumerate(texts, start=1)
    ]


def _wait(client: TestClient, run_id: str, headers: dict[str, str]) -> dict[str, Any]:
    for _ in range(300):
        run = client.get(f"/planning-runs/{run_id}", headers=headers).json()
        if run["status"] not in ("queued", "running"):
            return run
        time.sleep(0.1)
    raise AssertionError("the planning run did not finish")


def test_a_file_of_text_addresses_is_imported_geocoded_prechecked_cleaned_up_and_planned(
    settings: Settings, amap: AMapDouble
) -> None:
    app = create_app(_with_amap(settings, amap))
    with TestClient(app) as client, app.state.sessionmaker() as session:
        branch = make_branch(session)
        supervisor = make_user(session, Role.SUPERVISOR, branch)
        make_team(session, branch)
        headers = auth_headers(supervisor)
        day = tomorrow(branch).isoformat()

        imported = post_csv(client, supervisor, to_csv(_rows(day)))
        assert settled(app.state.sessionmaker, timeout_s=30)  # the background pass the import asked for

        assert imported.status_code == 201, imported.text
        assert imported.json()["addresses_without_point"] == 5
        assert imported.json()["grades"] == {"complete": 4, "vague": 1}
        assert sorted(amap.asked) == sorted([*AMAP, UNKNOWN])  # each text once
        by_text = {a.raw_text: a for a in session.scalars(select(Address).where(Address.raw_text.in_(list(AMAP))))}
        door = by_text[DOOR]
        assert door.point_source is PointSource.GEOCODER and door.point_precision.value == "door"
        shown = client.get(f"/addresses/{door.id}", headers=headers).json()
        lat, lon = gcj02_to_wgs84(31.23219, 121.48106)
        assert shown["point"] == pytest.approx({"lat": lat, "lon": lon}, abs=1e-9)  # WGS-84, not AMap's GCJ-02
        assert shown["point_origin"] | {"set_at": None} == {
            "source": "geocoder", "precision": "door", "provider": "amap", "accuracy_m": None, "set_at": None,
            "set_by_id": None, "trusted": True,
        }  # fmt: skip
        assert shown["parts"]["room"] and shown["grade"] == "complete"

        checked = client.post("/address-prechecks", json={"work_date": day}, headers=headers)

        assert checked.json()["reports_raised"] == {"untrusted_match": 1, "no_point": 1, "vague_text": 1}
        pending = client.get("/invalid-address-reports", params={"status": "pending"}, headers=headers).json()
        reports = {row["problem"]: row for row in pending["items"]}
        assert [c["precision"] for c in reports["untrusted_match"]["candidates"]] == ["road"]

        client.post(
            f"/invalid-address-reports/{reports['untrusted_match']['id']}/reject",
            json={"note": "placed on the map: no. 50 is at the corner", "point": {"lat": 31.2335, "lon": 121.4795}},
            headers=headers,
        ).raise_for_status()
        client.post(
            f"/invalid-address-reports/{reports['no_point']['id']}/reject",
            json={"note": "found it on the map", "point": {"lat": 31.2360, "lon": 121.4790}},
            headers=headers,
        ).raise_for_status()
        client.post(
            f"/invalid-address-reports/{reports['vague_text']['id']}/confirm", json={}, headers=headers
        ).raise_for_status()

        started = client.post("/planning-runs", json={"work_date": day}, headers=headers)
        run = _wait(client, started.json()["id"], headers)

        assert run["status"] == "succeeded", run
        assert sum(sheet["stops"] for sheet in run["sheets"]) == 4  # the vague one was confirmed invalid: cancelled
        assert run["unplanned"] == []


def test_the_cli_geocodes_with_a_summary_and_prechecks_a_day(
    settings: Settings, amap: AMapDouble, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(settings)  # no geocoder: the import leaves the addresses to the command
    with TestClient(app) as client, app.state.sessionmaker() as session:
        branch = make_branch(session)
        supervisor = make_user(session, Role.SUPERVISOR, branch)
        day = tomorrow(branch).isoformat()
        post_csv(client, supervisor, to_csv(_rows(day))).raise_for_status()
    monkeypatch.setenv("FIELDVISIT_AUTH__JWT_SECRET", settings.auth.jwt_secret.get_secret_value())
    no_geocoder = runner.invoke(cli, ["addresses", "geocode"])
    monkeypatch.setenv("FIELDVISIT_GEOCODING__AMAP_KEY", "test-key")
    monkeypatch.setenv("FIELDVISIT_GEOCODING__AMAP_BASE_URL", amap.url)
    monkeypatch.setenv("FIELDVISIT_GEOCODING__AMAP_PER_SECOND", "100")

    two = runner.invoke(cli, ["addresses", "geocode", "--branch", branch.name, "--limit", "2"])
    rest = runner.invoke(cli, ["addresses", "geocode"])
    prechecked = runner.invoke(cli, ["addresses", "precheck", "--branch", branch.name, "--date", day])

    assert two.exit_code == 0, two.output
    assert "2 addresses geocoded" in two.output
    assert rest.exit_code == 0 and "3 addresses geocoded" in rest.output
    # which two go first is the import's order, and rows stamped in the same microsecond have none between them
    both = two.output + rest.output
    assert "not found" in both and "match road" in both
    assert prechecked.exit_code == 0, prechecked.output
    assert "5 addresses checked" in prechecked.output and "untrusted_match" in prechecked.output
    assert no_geocoder.exit_code == 1 and "No geocoder is set" in no_geocoder.output
