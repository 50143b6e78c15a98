"""Proof of presence in the console: the day map's tracks, last positions and presence badges, the visit's presence
signals, and the findings from tracks, on the seeded demo day."""

import random
import re
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import uuid4

from playwright.sync_api import expect
from time_machine import TimeMachineFixture

from api.tracks.watch import watch_tracks
from tests.console.conftest import Console, Live
from tests.console.test_console import (
    _check_in,
    _day,
    _finish_visit,
    _on_the_day,
    _planned,
    _seeded,
    _usernames,
)
from tests.test_demo_day import METRES_PER_DEGREE
from tests.test_visits import CHECKLIST

Path = Any  # seconds from the first fix -> metres (north, east) of the stop


def _send(
    live: Live, agent: str, stop: dict[str, Any], begins: datetime, minutes: int, path: Path, **fields: Any
) -> None:
    """A fix every 15 s for `minutes` from `begins` along `path`, with 6 m of GPS noise, sent as one batch."""
    rng = random.Random(agent)
    point = stop["address"]["point"]
    east_per_degree = METRES_PER_DEGREE * 0.857  # cos 31°
    fixes = []
    for step in range(minutes * 4):
        north, east = path(step * 15)
        fixes.append(
            {
                "client_id": str(uuid4()),
                "at": (begins + timedelta(seconds=step * 15)).isoformat(),
                "lat": round(point["lat"] + (north + rng.gauss(0, 6)) / METRES_PER_DEGREE, 7),
                "lon": round(point["lon"] + (east + rng.gauss(0, 6)) / east_per_degree, 7),
                "accuracy_m": round(rng.uniform(8, 20), 1),
                "speed_mps": 1.2,
            }
            | fields
        )
    body = {"sent_at": datetime.now(UTC).isoformat(), "fixes": fixes}
    sent = live.call(agent, "POST", "/me/positions", json=body)
    assert sent.status_code == 200 and sent.json()["refused"] == 0, sent.text


def _walk_in(seconds: float) -> tuple[float, float]:
    """From the car, 400 m south, to the door in 10 minutes; then at it."""
    return (-400 + 400 * min(seconds, 600) / 600, 0.0)


def _beside(seconds: float) -> tuple[float, float]:
    north, east = _walk_in(seconds)
    return north, east + 3


def _depart(live: Live, sheet: dict[str, Any]) -> None:
    for agent in _usernames(live, sheet):
        body = {"items": CHECKLIST, "client_id": str(uuid4())}
        departed = live.call(agent, "POST", f"/teams/{sheet['team_id']}/departure-checks", json=body)
        assert departed.status_code == 201, departed.text


def _visit_with_tracks(
    live: Live, time_machine: TimeMachineFixture, work_date: str, sheet: dict[str, Any], **fields: Any
) -> str:
    """The team walks to its first stop tracked from 09:31, checks in and starts at 09:45, stays until 09:51 and
    completes the visit with its evidence."""
    first, second = _usernames(live, sheet)
    stop = sheet["stops"][0]
    _on_the_day(time_machine, work_date, time(9, 45))
    began = datetime.now(UTC) - timedelta(minutes=14)  # after the departure check at 09:30
    _send(live, first, stop, began, 14, _walk_in, **fields)
    _send(live, second, stop, began, 14, _beside, **fields)
    arrived = datetime.now(UTC)
    visit_id = _check_in(live, first, sheet, stop, 8).json()["id"]
    assert _check_in(live, second, sheet, stop, -6).status_code == 201
    assert live.call(second, "POST", f"/visits/{visit_id}/start", json={}).json()["status"] == "in_progress"
    _on_the_day(time_machine, work_date, time(9, 51))
    began = datetime.now(UTC) - timedelta(minutes=6)
    _send(live, first, stop, began, 6, lambda s: (0.0, 0.0), **fields)
    _send(live, second, stop, began, 6, lambda s: (20.0, 10.0) if 60 < s < 180 else (0.0, 3.0), **fields)
    _finish_visit(live, sheet, stop, visit_id, recording_s=6 * 60, recorded_from=arrived)
    return str(visit_id)


def test_the_day_map_shows_the_tracks_the_last_positions_and_the_presence_scores(
    console: Console, live: Live, time_machine: TimeMachineFixture
) -> None:
    work_date = _seeded(live)
    _planned(live, work_date)
    _on_the_day(time_machine, work_date)
    honest, other = _day(live, work_date)["sheets"][:2]
    _depart(live, honest)
    _depart(live, other)
    _visit_with_tracks(live, time_machine, work_date, honest)
    first, second = _usernames(live, other)
    stop = other["stops"][0]
    _on_the_day(time_machine, work_date, time(10, 0))
    _send(live, first, stop, datetime.now(UTC) - timedelta(minutes=10), 10, _walk_in)
    _send(live, second, stop, datetime.now(UTC) - timedelta(minutes=29), 5, _beside)  # silent for 24 min
    page = console.page
    console.log_in("supervisor")
    console.go(f"day/{work_date}")

    expect(page.locator("#team-list")).to_have_attribute("data-tracked", re.compile(".+"))
    expect(page.locator(".fv-track")).to_have_count(4)
    expect(page.locator(".fv-agent")).to_have_count(4)
    expect(page.locator(".fv-agent-stale")).to_have_count(1)
    badge = page.locator(".fv-presence")
    expect(badge).to_have_count(1)
    expect(badge).not_to_have_class(re.compile("fv-presence-doubtful"))
    score = live.call("supervisor", "GET", f"/visit-sheets/days/{work_date}/tracks").json()["presence"][0]["score"]
    expect(badge).to_contain_text(str(score))
    expect(page.locator(f"ul.seen-list[data-team='{other['team_id']}'] li.seen-stale")).to_have_count(1)
    expect(page.locator(f"ul.seen-list[data-team='{honest['team_id']}'] li.seen-fresh")).to_have_count(2)
    console.screenshot("day-tracks")
    assert console.problems == []


def test_the_visit_shows_its_presence_signals_and_a_doubtful_one_is_a_finding_about_it(
    console: Console, live: Live, time_machine: TimeMachineFixture
) -> None:
    work_date = _seeded(live)
    _planned(live, work_date)
    _on_the_day(time_machine, work_date)
    spoofed, silent = _day(live, work_date)["sheets"][:2]
    _depart(live, spoofed)
    _depart(live, silent)
    visit_id = _visit_with_tracks(live, time_machine, work_date, spoofed, mock=True)
    first, _ = _usernames(live, silent)
    _on_the_day(time_machine, work_date, time(10, 0))
    _send(live, first, silent["stops"][0], datetime.now(UTC) - timedelta(minutes=29), 1, _walk_in)
    with live.app.state.sessionmaker() as session:
        found = watch_tracks(session, timedelta(minutes=30))
        session.commit()
    assert {finding.kind.value for finding in found} == {"team_out_of_contact"}
    page = console.page
    console.log_in("supervisor")

    page.evaluate("id => { location.hash = `#/visits/${id}`; }", visit_id)
    expect(page.locator("#presence .assessment")).to_have_count(2)
    expect(page.locator("#presence .assessment.doubtful")).to_have_count(2)
    expect(page.locator("#presence .assessment[data-stage='completion'] tr[data-signal]")).to_have_count(13)
    flagged = page.locator("#presence .assessment[data-stage='completion'] tr.flagged")
    expect(flagged).to_have_count(1)
    expect(flagged).to_have_attribute("data-signal", "mock_location")
    expect(flagged).to_contain_text("模拟定位")
    page.locator("#presence").scroll_into_view_if_needed()
    console.screenshot("visit-presence")

    console.go("findings")
    doubtful = page.locator("#feed li.finding-presence_doubtful")
    expect(doubtful).to_have_count(1)
    expect(doubtful).to_contain_text("到场存疑")
    expect(doubtful).to_contain_text("模拟定位")
    expect(doubtful.locator(f"a[href='#/visits/{visit_id}']")).to_have_count(1)
    out = page.locator("#feed li.finding-team_out_of_contact")
    expect(out).to_have_count(2)  # both agents of the silent team
    expect(out.first).to_contain_text(silent["team_name"])
    expect(out.first.locator(f"a[href='#/day/{work_date}']")).to_have_count(1)
    expect(out.first.locator("a[href^='#/cases/']")).to_have_count(0)
    console.screenshot("findings-presence")
    out.first.locator(f"a[href='#/day/{work_date}']").click()
    expect(page.locator(".fv-agent")).to_have_count(3)
    assert console.problems == []


def test_an_agent_reads_no_tracks_from_the_console(console: Console, live: Live) -> None:
    work_date = _seeded(live)
    _planned(live, work_date)
    agent = _usernames(live, _day(live, work_date)["sheets"][0])[0]
    console.log_in(agent)
    console.go(f"day/{work_date}")
    expect(console.page.locator("#day-status")).to_have_attribute("data-updated", re.compile(".+"))
    expect(console.page.locator("#team-list .team-card")).not_to_have_count(0)

    assert live.call(agent, "GET", f"/visit-sheets/days/{work_date}/tracks").status_code == 403
    assert not [url for url in console.requested if url.endswith("/tracks")]
    assert console.page.locator(".fv-track, .fv-agent, ul.seen-list").count() == 0
    assert console.problems == []
