"""Geocoding the addresses without a point: the best match is kept with its source and precision, trusted only when
as precise as the text; answers are cached per text (an empty one too); a provider that fails is skipped and asked
again next time; a point someone set is never replaced."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api.addresses.geocoders import (
    Candidate,
    Geocoder,
    GeocoderQuotaExceeded,
    GeocoderRefused,
    GeocoderThrottled,
    GeocoderUnavailable,
)
from api.addresses.service import geocode_unplaced
from api.cli import cli
from api.config import Settings
from api.models.addresses import GeocodeAnswer
from api.models.cases import Address
from api.models.findings import Finding, FindingKind
from api.models.users import Role
from api.models.webhooks import WebhookDelivery, WebhookSubscription
from api.rules.grades import PointSource, Precision
from tests.addresses.test_geocoders import LoopbackProvider, amap_failure
from tests.factories import PEOPLES_SQUARE, auth_headers, count_rows, make_address, make_branch, make_case, make_user


class Scripted(Geocoder):
    """A provider answering from a script: text -> candidates, or an error to raise."""

    def __init__(self, name: str, script: dict[str, list[Candidate] | Exception]) -> None:
        self.name = name
        self.script = script
        self.asked: list[tuple[str, str | None]] = []

    def geocode(self, text: str, *, city: str | None = None) -> list[Candidate]:
        self.asked.append((text, city))
        answer = self.script.get(text, [])
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self) -> None:
        pass


def _match(provider: str, precision: Precision, lat: float = 31.23, lon: float = 121.47) -> Candidate:
    return Candidate(lat=lat, lon=lon, precision=precision, provider=provider, level=precision.value, formatted="")


DOOR = "上海市黄浦区南京东路100号3室"
ROAD_ONLY_MATCH = "上海市黄浦区福州路300号2室"
NOWHERE = "上海市黄浦区不存在路1号1室"
FAILING = "上海市黄浦区九江路50号1室"


def _addresses(session: Session) -> dict[str, Address]:
    branch = make_branch(session)
    texts = {"door": DOOR, "road": ROAD_ONLY_MATCH, "nowhere": NOWHERE, "failing": FAILING, "blank": "。 "}
    placed = make_address(session, make_case(session, branch), point=PEOPLES_SQUARE, raw_text=NOWHERE)
    return {name: make_address(session, make_case(session, branch), point=None, raw_text=text) for name, text in
            texts.items()} | {"placed": placed}  # fmt: skip


def test_the_best_match_is_placed_with_its_source_and_trust(session: Session, app: object) -> None:
    sessions: sessionmaker[Session] = app.state.sessionmaker  # type: ignore[attr-defined]
    addresses = _addresses(session)
    amap = Scripted(
        "amap",
        {
            DOOR: [_match("amap", Precision.ROAD), _match("amap", Precision.DOOR, 31.2305, 121.4738)],
            ROAD_ONLY_MATCH: [_match("amap", Precision.ROAD)],
            FAILING: GeocoderUnavailable("amap", "HTTP 503"),
        },
    )

    summary = geocode_unplaced(sessions, [amap])

    assert (summary.addresses, summary.trusted, summary.untrusted, summary.not_found, summary.failed) == (5, 1, 1, 2, 1)
    assert summary.by_precision == {"door": 1, "road": 1} and summary.by_grade == {"complete": 4, "unparseable": 1}
    assert "。 " not in {text for text, _ in amap.asked}  # a text with nothing to look up is not sent
    session.expire_all()
    door = session.get_one(Address, addresses["door"].id)
    assert (door.point_source, door.point_precision, door.point_provider) == (
        PointSource.GEOCODER,
        Precision.DOOR,
        "amap",
    )
    road = session.get_one(Address, addresses["road"].id)
    assert road.point_precision is Precision.ROAD and road.point is not None  # placed, but not trusted for planning
    assert session.get_one(Address, addresses["nowhere"].id).point is None
    assert session.get_one(Address, addresses["placed"].id).point_source is PointSource.IMPORT
    assert count_rows(session, GeocodeAnswer) == 3  # the failure is not cached


def test_a_second_pass_asks_only_what_failed_and_a_second_provider_gets_what_the_first_did_not_find(
    session: Session, app: object
) -> None:
    sessions: sessionmaker[Session] = app.state.sessionmaker  # type: ignore[attr-defined]
    _addresses(session)
    amap = Scripted("amap", {DOOR: [_match("amap", Precision.DOOR)], FAILING: GeocoderUnavailable("amap", "503")})
    geocode_unplaced(sessions, [amap])
    amap.asked.clear()
    amap.script[FAILING] = [_match("amap", Precision.BUILDING)]
    nominatim = Scripted("nominatim", {NOWHERE: [_match("nominatim", Precision.BUILDING)]})

    summary = geocode_unplaced(sessions, [amap, nominatim])

    assert [text for text, _ in amap.asked] == [FAILING]  # the others' answers came from the cache
    assert sorted(text for text, _ in nominatim.asked) == sorted([ROAD_ONLY_MATCH, NOWHERE])
    assert summary.asked == 3 and summary.trusted == 2  # the failing one, and the one nominatim found
    assert summary.addresses == 4  # the door address had its point already


def test_the_limit_and_the_branch_bound_a_pass(session: Session, app: object) -> None:
    sessions: sessionmaker[Session] = app.state.sessionmaker  # type: ignore[attr-defined]
    addresses = _addresses(session)
    elsewhere = "上海市静安区南京西路1号1室"
    make_address(session, make_case(session, make_branch(session)), point=None, raw_text=elsewhere)
    amap = Scripted("amap", {})
    branch_id = session.get_one(Address, addresses["door"].id).case.branch_id

    first_two = geocode_unplaced(sessions, [amap], branch_id=branch_id, limit=2)
    the_branch = geocode_unplaced(sessions, [amap], branch_id=branch_id)

    assert first_two.addresses == 2 and the_branch.addresses == 5  # nothing was found: all five are looked up again
    assert elsewhere not in {text for text, _ in amap.asked}
    assert the_branch.asked == 2  # the first two answers (empty) came from the cache


def test_a_corrected_text_is_graded_anew_and_loses_the_old_texts_geocoded_point(
    client: TestClient, session: Session
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    geocoded = make_address(
        session, make_case(session, branch), raw_text="上海市黄浦区福州路", point_source=PointSource.GEOCODER,
        point_precision=Precision.ROAD,
    )  # fmt: skip
    imported = make_address(session, make_case(session, branch), raw_text="上海市黄浦区福州路")
    headers = auth_headers(supervisor)

    corrected = client.patch(f"/addresses/{geocoded.id}", json={"raw_text": DOOR}, headers=headers)
    kept = client.patch(f"/addresses/{imported.id}", json={"raw_text": DOOR}, headers=headers)

    assert corrected.json()["grade"] == "complete" and corrected.json()["parts"]["room"] == "3"
    assert corrected.json()["point"] is None and corrected.json()["point_origin"] is None
    assert kept.json()["point"] is not None and kept.json()["point_origin"]["source"] == "import"


OUTAGE = "上海市黄浦区汉口路10号1室"
REFUSED = "上海市黄浦区汉口路12号2室"
QUOTA = "上海市黄浦区汉口路14号3室"
THROTTLED = "上海市黄浦区汉口路16号4室"


def test_each_address_keeps_why_its_last_geocoding_failed_and_the_pass_counts_the_reasons(
    client: TestClient, session: Session, app: object
) -> None:
    """Issue 31: an outage, a refused key and an exhausted quota all read "failed" / "no provider answered"."""
    sessions: sessionmaker[Session] = app.state.sessionmaker  # type: ignore[attr-defined]
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    texts = {"door": DOOR, "road": ROAD_ONLY_MATCH, "nowhere": NOWHERE, "outage": OUTAGE, "refused": REFUSED,
             "quota": QUOTA, "throttled": THROTTLED}  # fmt: skip
    addresses = {name: make_address(session, make_case(session, branch), point=None, raw_text=text)
                 for name, text in texts.items()}  # fmt: skip
    amap = Scripted(
        "amap",
        {
            DOOR: [_match("amap", Precision.DOOR)],
            ROAD_ONLY_MATCH: [_match("amap", Precision.ROAD)],
            OUTAGE: GeocoderUnavailable("amap", "ConnectTimeout"),
            REFUSED: GeocoderRefused("amap", "INVALID_USER_KEY (infocode 10001)"),
            QUOTA: GeocoderQuotaExceeded("amap", "DAILY_QUERY_OVER_LIMIT (infocode 10003)"),
            THROTTLED: GeocoderThrottled("amap", "ACCESS_TOO_FREQUENT (infocode 10004)"),
        },
    )

    summary = geocode_unplaced(sessions, [amap])

    assert summary.by_outcome == {
        "placed": 1, "coarse_match": 1, "no_match": 1, "outage": 1, "key_refused": 1, "quota_exhausted": 1,
        "rate_limited": 1,
    }  # fmt: skip
    assert summary.failed == 4 and summary.not_found == 1  # as before: the reasons add to these, not replace them
    expected = {
        "door": ("placed", "已定位"),
        "road": ("coarse_match", "定位粗略"),
        "nowhere": ("no_match", "未找到"),
        "outage": ("outage", "服务中断"),
        "refused": ("key_refused", "密钥被拒"),
        "quota": ("quota_exhausted", "配额用尽"),
        "throttled": ("rate_limited", "请求过频"),
    }
    for name, (outcome, words) in expected.items():
        body = client.get(f"/addresses/{addresses[name].id}", headers=auth_headers(supervisor)).json()
        last = body["last_geocode"]
        assert (last["outcome"], words in last["label"], outcome in last["label"]) == (outcome, True, True), name
        assert last["at"] is not None
    refused = client.get(f"/addresses/{addresses['refused'].id}", headers=auth_headers(supervisor)).json()
    assert "amap" in refused["last_geocode"]["detail"] and "10001" in refused["last_geocode"]["detail"]
    never = make_address(session, make_case(session, branch), point=None, raw_text=DOOR)
    assert client.get(f"/addresses/{never.id}", headers=auth_headers(supervisor)).json()["last_geocode"] is None


def test_a_refused_key_or_a_spent_quota_is_one_finding_per_branch_provider_and_day(
    client: TestClient, session: Session, app: object
) -> None:
    sessions: sessionmaker[Session] = app.state.sessionmaker  # type: ignore[attr-defined]
    north, south = make_branch(session), make_branch(session)
    admin = make_user(session, Role.ADMIN)
    hook = WebhookSubscription(branch_id=north.id, url="https://hooks.example.com/x", secret="s" * 32,
                               created_by_id=admin.id)  # fmt: skip
    session.add(hook)
    session.commit()
    for branch, count in ((north, 3), (south, 2)):
        for n in range(count):
            make_address(session, make_case(session, branch), point=None, raw_text=f"上海市黄浦区汉口路{n + 20}号1室")
    amap = Scripted("amap", {})
    nominatim = Scripted("nominatim", {})
    amap.script = {text: GeocoderRefused("amap", "INVALID_USER_KEY (infocode 10001)") for text in _texts(session)}
    nominatim.script = {text: GeocoderQuotaExceeded("nominatim", "HTTP 429") for text in _texts(session)}

    geocode_unplaced(sessions, [amap, nominatim])
    geocode_unplaced(sessions, [amap, nominatim])  # the same day: nothing new to tell

    found = session.scalars(select(Finding).where(Finding.kind == FindingKind.GEOCODER_REFUSED)).all()
    told_of = sorted(
        (f.branch_id == north.id, f.payload["provider"], f.payload["reason"], f.payload["addresses"]) for f in found
    )
    assert told_of == [
        (False, "amap", "key_refused", 2),
        (False, "nominatim", "quota_exhausted", 2),
        (True, "amap", "key_refused", 3),
        (True, "nominatim", "quota_exhausted", 3),
    ]
    assert all(f.case_id is None and f.team_id is None for f in found)
    feed = client.get("/events", headers=auth_headers(admin)).json()["items"]
    told = [item for item in feed if item["kind"] == "geocoder_refused"]
    assert len(told) == 4 and "密钥被拒" in told[0]["payload"]["label"] and "10001" in told[0]["payload"]["detail"]
    deliveries = session.scalars(select(WebhookDelivery.finding_id)).all()
    assert sorted(deliveries) == sorted(f.id for f in found if f.branch_id == north.id)


def test_an_outage_or_a_query_refused_for_speed_is_no_finding(session: Session, app: object) -> None:
    sessions: sessionmaker[Session] = app.state.sessionmaker  # type: ignore[attr-defined]
    case = make_case(session, make_branch(session))
    make_address(session, case, point=None, raw_text=OUTAGE)
    make_address(session, case, point=None, raw_text=THROTTLED)
    amap = Scripted(
        "amap",
        {OUTAGE: GeocoderUnavailable("amap", "HTTP 503"), THROTTLED: GeocoderThrottled("amap", "infocode 10004")},
    )

    summary = geocode_unplaced(sessions, [amap])

    assert summary.by_outcome == {"outage": 1, "rate_limited": 1}
    assert session.scalars(select(Finding).where(Finding.kind == FindingKind.GEOCODER_REFUSED)).all() == []


def _texts(session: Session) -> list[str]:
    return list(session.scalars(select(Address.raw_text)))


@pytest.fixture
def refusing_amap() -> Iterator[LoopbackProvider]:
    server = LoopbackProvider()
    server.answer(amap_failure("INVALID_USER_KEY", "10001"))
    server.serve()
    yield server
    server.stop()


def test_the_cli_summary_says_why_geocoding_failed(
    session: Session,
    runner: CliRunner,
    refusing_amap: LoopbackProvider,
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
) -> None:
    make_address(session, make_case(session, make_branch(session)), point=None, raw_text=REFUSED)
    monkeypatch.setenv("FIELDVISIT_AUTH__JWT_SECRET", settings.auth.jwt_secret.get_secret_value())
    monkeypatch.setenv("FIELDVISIT_GEOCODING__AMAP_KEY", "revoked-key")
    monkeypatch.setenv("FIELDVISIT_GEOCODING__AMAP_BASE_URL", refusing_amap.url)
    monkeypatch.setenv("FIELDVISIT_GEOCODING__AMAP_PER_SECOND", "100")

    result = runner.invoke(cli, ["addresses", "geocode"])

    assert result.exit_code == 0, result.output
    assert "密钥被拒 key refused (key_refused)" in result.output
    assert "amap: INVALID_USER_KEY (infocode 10001)" in result.output  # the provider's words, for the admin
