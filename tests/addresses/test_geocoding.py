"""Geocoding the addresses without a point: the best match is kept with its source and precision, trusted only when
as precise as the text; answers are cached per text (an empty one too); a provider that fails is skipped and asked
again next time; a point someone set is never replaced."""

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.addresses.geocoders import Candidate, Geocoder, GeocoderUnavailable
from api.addresses.grades import PointSource, Precision
from api.addresses.models import GeocodeAnswer
from api.addresses.service import geocode_unplaced
from api.cases.models import Address
from api.users.models import Role
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
