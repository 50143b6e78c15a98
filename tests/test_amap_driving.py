"""AMap's driving distance against a loopback server answering its documented JSON (success, a pair without a road,
quota, bad key, 5xx, timeout); re-pricing a published day's legs with it within a request budget; and learning the
hours' traffic from the legs it priced."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.addresses.geocoders import GeocoderQuotaExceeded, GeocoderRefused, GeocoderUnavailable
from api.cli import cli
from api.config import Settings
from api.models.branches import Branch
from api.models.traffic import PricedLeg
from api.models.users import Role
from api.roads.travel import travel_provider
from api.traffic.amap import AMapDriving, Driven
from api.traffic.repricing import planned_legs, reprice_day
from tests.addresses.test_geocoders import REFERENCE_PAIRS, LoopbackProvider, Reply, fast_limiter
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
    tomorrow,
)

(SHANGHAI_WGS84_LAT, SHANGHAI_WGS84_LON, SHANGHAI_GCJ_LAT, SHANGHAI_GCJ_LON) = REFERENCE_PAIRS[0]
SHANGHAI = (SHANGHAI_WGS84_LAT, SHANGHAI_WGS84_LON)
PEOPLES_SQUARE = (31.2304, 121.4737)


@pytest.fixture
def provider() -> Iterator[LoopbackProvider]:
    server = LoopbackProvider()
    server.serve()
    yield server
    server.stop()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def driving(provider: LoopbackProvider, sleeps: list[float]) -> Iterator[AMapDriving]:
    with AMapDriving(
        "test-key", base_url=provider.url, timeout_s=0.5, limiter=fast_limiter(), retries=2, sleep=sleeps.append
    ) as client:
        yield client


def distances(*results: dict[str, str]) -> Reply:
    """AMap's answer of HTTP 200 with the results given."""
    return Reply(
        {"status": "1", "info": "OK", "infocode": "10000", "count": str(len(results)), "results": list(results)}
    )


def result(origin: int, seconds: int, metres: int) -> dict[str, str]:
    return {"origin_id": str(origin), "dest_id": "1", "distance": str(metres), "duration": str(seconds)}


def failure(info: str, infocode: str) -> Reply:
    return Reply({"status": "0", "info": info, "infocode": infocode})


def test_each_origins_drive_is_read_and_the_points_go_out_in_gcj02(
    driving: AMapDriving, provider: LoopbackProvider
) -> None:
    provider.answer(distances(result(1, 300, 1820), result(2, 960, 5400)))

    drives = driving.driving([SHANGHAI, PEOPLES_SQUARE], PEOPLES_SQUARE)

    assert drives == [Driven(300, 1820), Driven(960, 5400)]
    [asked] = provider.received
    assert asked.path == "/v3/distance"
    assert asked.query["key"] == "test-key" and asked.query["type"] == "1"
    assert asked.query["origins"].split("|")[0] == f"{SHANGHAI_GCJ_LON:.6f},{SHANGHAI_GCJ_LAT:.6f}"
    assert asked.query["destination"] == asked.query["origins"].split("|")[1]


def test_a_pair_amap_finds_no_road_for_is_none(driving: AMapDriving, provider: LoopbackProvider) -> None:
    no_road = {"origin_id": "2", "dest_id": "1", "distance": "0", "duration": "0", "info": "未找到路线", "code": "1"}
    provider.answer(distances(result(1, 300, 1820), no_road))

    assert driving.driving([SHANGHAI, (31.0, 122.5)], PEOPLES_SQUARE) == [Driven(300, 1820), None]


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (failure("DAILY_QUERY_OVER_LIMIT", "10003"), GeocoderQuotaExceeded),
        (failure("INVALID_USER_KEY", "10001"), GeocoderRefused),
    ],
    ids=["quota", "bad key"],
)
def test_a_spent_quota_or_a_bad_key_is_not_asked_again(
    driving: AMapDriving, provider: LoopbackProvider, reply: Reply, error: type[Exception]
) -> None:
    provider.answer(reply)

    with pytest.raises(error):
        driving.driving([SHANGHAI], PEOPLES_SQUARE)
    assert len(provider.received) == 1


@pytest.mark.parametrize("reply", [Reply({}, status=502), Reply({}, delay_s=0.8)], ids=["5xx", "timeout"])
def test_amap_down_is_retried_with_backoff_then_unavailable(
    driving: AMapDriving, provider: LoopbackProvider, sleeps: list[float], reply: Reply
) -> None:
    provider.answer(reply)

    with pytest.raises(GeocoderUnavailable):
        driving.driving([SHANGHAI], PEOPLES_SQUARE)
    assert len(provider.received) == 3 and len(sleeps) == 2  # retries=2


def test_a_5xx_that_passes_is_answered(driving: AMapDriving, provider: LoopbackProvider) -> None:
    provider.answer(Reply({}, status=503), distances(result(1, 300, 1820)))

    assert driving.driving([SHANGHAI], PEOPLES_SQUARE) == [Driven(300, 1820)]


def _published_day(session: Session, stops: int) -> Branch:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    team = make_team(session, branch)
    requests = [
        make_visit_request(session, make_address(session, make_case(session, branch), point=point))
        for point in NEAR_OFFICE[:stops]
    ]
    publish_sheet(session, supervisor, team, requests)
    return branch


def test_a_days_legs_are_priced_beside_the_engines_seconds_within_the_budget(
    session: Session, settings: Settings, driving: AMapDriving, provider: LoopbackProvider
) -> None:
    branch = _published_day(session, 3)  # from the office to three stops and back: four legs, to four places
    legs = planned_legs(session, branch, tomorrow(branch))
    provider.answer(distances(result(1, 600, 3000)))
    travel = travel_provider(settings.planning).of(branch.id)
    nine = datetime(2026, 12, 9, 9, 30, tzinfo=ZoneInfo(branch.timezone)).astimezone(UTC)

    first = reprice_day(session, branch, tomorrow(branch), driving, travel, budget=2, now=nine)
    rest = reprice_day(session, branch, tomorrow(branch), driving, travel, budget=10, now=nine + timedelta(hours=8))

    assert len(legs) == 4 and legs[-1].end == legs[0].start  # home to the office it left
    assert (first.legs, first.requests, first.priced, first.stopped) == (4, 2, 2, "the budget of 2 requests is spent")
    assert (rest.requests, rest.priced, rest.stopped) == (4, 4, "")
    rows = session.scalars(select(PricedLeg).order_by(PricedLeg.id)).all()
    assert [row.hour for row in rows] == [9, 9, 17, 17, 17, 17]
    engine = travel.matrices([legs[0].start, legs[0].end])
    assert rows[0].engine_s == engine.durations_s[0, 1] and rows[0].engine == engine.source
    assert {(row.priced_s, row.priced_m) for row in rows} == {(600, 3000)}


def test_amap_refusing_midway_keeps_what_was_priced_and_says_why(
    session: Session, settings: Settings, driving: AMapDriving, provider: LoopbackProvider
) -> None:
    branch = _published_day(session, 3)
    provider.answer(distances(result(1, 600, 3000)), failure("DAILY_QUERY_OVER_LIMIT", "10003"))

    done = reprice_day(
        session, branch, tomorrow(branch), driving, travel_provider(settings.planning).of(branch.id), budget=10
    )

    assert (done.requests, done.priced) == (1, 1)
    assert done.stopped == "AMap did not answer: DAILY_QUERY_OVER_LIMIT (infocode 10003)"
    assert len(session.scalars(select(PricedLeg)).all()) == 1


def _priced(session: Session, branch: Branch, hours: dict[int, float], per_hour: int) -> None:
    """Legs AMap priced yesterday: `per_hour` at each hour, `hours[h]` times the engine's seconds."""
    sheet_id = publish_sheet(
        session,
        make_user(session, Role.SUPERVISOR, branch),
        make_team(session, branch),
        [make_visit_request(session, make_address(session, make_case(session, branch)))],
    ).id
    zone = ZoneInfo(branch.timezone)
    yesterday = datetime.now(zone).date() - timedelta(days=1)
    for hour, factor in hours.items():
        for k in range(per_hour):
            engine_s = 300 + 60 * k
            session.add(
                PricedLeg(
                    branch_id=branch.id,
                    sheet_id=sheet_id,
                    position=1,
                    engine="great-circle driving",
                    engine_s=engine_s,
                    priced_s=round(engine_s * factor),
                    priced_m=1000,
                    asked_at=datetime(yesterday.year, yesterday.month, yesterday.day, hour, k, tzinfo=zone),
                    hour=hour,
                )
            )
    session.commit()


def test_the_hours_traffic_is_learnt_from_the_legs_amap_priced(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    admin = make_user(session, Role.ADMIN)
    _priced(session, branch, {8: 1.9, 12: 1.3, 18: 1.7}, per_hour=10)
    yesterday = datetime.now(ZoneInfo(branch.timezone)).date() - timedelta(days=1)

    answer = client.post(
        f"/branches/{branch.id}/travel-calibrations",
        json={"source": "amap", "since": yesterday.isoformat(), "until": yesterday.isoformat(), "apply": True},
        headers=auth_headers(admin),
    )

    assert answer.status_code == 201, answer.text
    learnt: dict[str, Any] = answer.json()
    assert learnt["source"] == "amap" and learnt["engine"] == "great-circle driving"
    assert (learnt["learnt_from"], learnt["held_out"]) == (24, 6)
    assert [learnt["factors"][hour] for hour in (8, 12, 18)] == pytest.approx([1.9, 1.3, 1.7], abs=0.01)
    assert learnt["error_after"] < 0.01 < learnt["error_before"] and learnt["applied"] is True


def test_the_command_prices_a_day_and_says_how_far_the_plan_is_from_amap(
    runner: CliRunner, session: Session, settings: Settings, provider: LoopbackProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    branch = _published_day(session, 2)
    monkeypatch.setenv("FIELDVISIT_GEOCODING__AMAP_KEY", "test-key")
    monkeypatch.setenv("FIELDVISIT_GEOCODING__AMAP_BASE_URL", provider.url)
    provider.answer(distances(result(1, 900, 3000)))

    result_ = runner.invoke(
        cli, ["roads", "reprice", "--branch", branch.name, "--date", tomorrow(branch).isoformat(), "--budget", "5"]
    )

    assert result_.exit_code == 0, result_.output
    assert "3 of 3 legs priced by AMap in 3 requests" in result_.output
    assert "in AMap's traffic now (+" in result_.output


def test_the_command_without_an_amap_key_says_what_to_set(runner: CliRunner) -> None:
    result_ = runner.invoke(cli, ["roads", "reprice"])

    assert result_.exit_code == 1 and "FIELDVISIT_GEOCODING__AMAP_KEY" in result_.output
