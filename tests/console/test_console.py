"""The supervisors' console in Chromium, on the seeded demo branch: what a person sees and can do on each screen."""

import hashlib
import re
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import httpx2 as httpx
import pytest
from playwright.sync_api import Route, expect
from sqlalchemy import select, update
from time_machine import TimeMachineFixture

from api.addresses.geocoders import GeocoderRefused, GeocoderUnavailable
from api.addresses.service import geocode_unplaced
from api.demo import seed_demo
from api.models.branches import Branch
from api.models.cases import DebtCase
from api.models.users import User
from api.rules.grades import Precision
from tests.addresses.test_geocoding import Scripted, _match
from tests.console.conftest import Console, Live, wait_until
from tests.evidence.samples import jpeg_bytes, wav_bytes
from tests.factories import make_address, make_case, make_visit_request, tomorrow
from tests.test_demo_day import METRES_PER_DEGREE, _outcome_body
from tests.test_visits import CHECKLIST

SHANGHAI = ZoneInfo("Asia/Shanghai")
XSS_NAME = "<img src=x onerror=alert(1)>"


def _seeded(live: Live) -> str:
    with live.app.state.sessionmaker() as session:
        work_date = seed_demo(session).work_date
        session.commit()
    return work_date.isoformat()


def _planned(live: Live, work_date: str, *, publish: bool = True) -> dict[str, Any]:
    started = live.call("supervisor", "POST", "/planning-runs", json={"work_date": work_date, "time_limit_s": 1})
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    wait_until(
        lambda: live.call("supervisor", "GET", f"/planning-runs/{run_id}").json()["status"] == "succeeded",
        what="the planning run",
    )
    if publish:
        assert live.call("supervisor", "POST", f"/planning-runs/{run_id}/publish").status_code == 200
    return dict(live.call("supervisor", "GET", f"/planning-runs/{run_id}").json())


def _day(live: Live, work_date: str) -> dict[str, Any]:
    return dict(live.call("supervisor", "GET", f"/visit-sheets/days/{work_date}").json())


def _on_the_day(time_machine: TimeMachineFixture, work_date: str, at: time = time(9, 30)) -> None:
    moment = datetime.combine(datetime.fromisoformat(work_date).date(), at, tzinfo=SHANGHAI)
    time_machine.move_to(moment, tick=True)


def _usernames(live: Live, sheet: dict[str, Any]) -> list[str]:
    team = live.call("supervisor", "GET", f"/teams/{sheet['team_id']}").json()
    return [member["username"] for member in team["members"]]


def _check_in(live: Live, agent: str, sheet: dict[str, Any], stop: dict[str, Any], north_m: float) -> httpx.Response:
    point = stop["address"]["point"]
    body = {
        "lat": point["lat"] + north_m / METRES_PER_DEGREE,
        "lon": point["lon"],
        "accuracy_m": 12,
        "device_time": datetime.now(UTC).isoformat(),
        "client_id": str(uuid4()),
    }
    at_stop = f"/visit-sheets/{sheet['id']}/stops/{stop['visit_request_id']}"
    return live.call(agent, "POST", f"{at_stop}/check-ins", json=body)


def _upload(live: Live, agent: str, visit_id: str, data: bytes, **declaration: Any) -> dict[str, Any]:
    body = declaration | {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "client_id": str(uuid4())}
    declared = live.call(agent, "POST", f"/visits/{visit_id}/evidence", json=body)
    assert declared.status_code == 201, declared.text
    sent = live.http.put(declared.json()["upload"]["url"], content=data, headers=live.headers(agent))
    assert sent.status_code == 200, sent.text
    done = live.call(agent, "POST", f"/evidence/{declared.json()['id']}/complete")
    assert done.status_code == 200 and done.json()["status"] == "accepted", done.text
    return dict(done.json())


def _reported(live: Live, agent: str, address_id: str, reason: str, note: str) -> httpx.Response:
    """The agent reports the address invalid, as the phone app does."""
    body = {"reason": reason, "note": note, "client_id": str(uuid4())}
    return live.call(agent, "POST", f"/addresses/{address_id}/invalid-reports", json=body)


def _started_visit(live: Live, sheet: dict[str, Any], stop: dict[str, Any]) -> str:
    """Both agents of the sheet's team confirm the departure check, check in at the stop and start its visit."""
    first, second = _usernames(live, sheet)
    for agent in (first, second):
        departed = live.call(
            agent,
            "POST",
            f"/teams/{sheet['team_id']}/departure-checks",
            json={"items": CHECKLIST, "client_id": str(uuid4())},
        )
        assert departed.status_code in (200, 201), departed.text
    visit_id = _check_in(live, first, sheet, stop, 15).json()["id"]
    assert _check_in(live, second, sheet, stop, -20).status_code == 201
    assert live.call(second, "POST", f"/visits/{visit_id}/start", json={}).json()["status"] == "in_progress"
    return str(visit_id)


def _completed_visit(live: Live, sheet: dict[str, Any], stop: dict[str, Any]) -> str:
    """A visit done whole: outcome, a two-minute recording, the door and mailbox photos, the partner's confirmation."""
    visit_id = _started_visit(live, sheet, stop)
    _finish_visit(live, sheet, stop, visit_id)
    return visit_id


def _finish_visit(
    live: Live,
    sheet: dict[str, Any],
    stop: dict[str, Any],
    visit_id: str,
    recording_s: float = 120,
    recorded_from: datetime | None = None,
) -> None:
    """The started visit's outcome, a recording (two minutes from a minute ago unless told), the door and mailbox
    photos, the partner's confirmation."""
    first, second = _usernames(live, sheet)
    assert live.call(first, "POST", f"/visits/{visit_id}/outcome", json=_outcome_body()).status_code == 201
    arrived = (recorded_from or datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    _upload(
        live,
        first,
        visit_id,
        wav_bytes(recording_s),
        kind="recording",
        purpose="whole_visit",
        content_type="audio/wav",
        captured_at=arrived,
    )
    point = stop["address"]["point"]
    for purpose, height in (("door", 480), ("mailbox", 360)):
        photo = jpeg_bytes(height=height, lat=point["lat"], lon=point["lon"], taken_at=datetime.now(UTC))
        _upload(
            live, second, visit_id, photo, kind="photo", purpose=purpose, content_type="image/jpeg", captured_at=arrived
        )
    confirmed = live.call(second, "POST", f"/visits/{visit_id}/outcome/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "completed", confirmed.text


def test_a_supervisor_plans_and_publishes_the_demo_day(console: Console, live: Live) -> None:
    work_date = _seeded(live)
    page = console.page
    console.log_in("supervisor")
    console.screenshot("login-done")

    console.go("planning")
    page.fill("input[name=work_date]", work_date)
    page.dispatch_event("input[name=work_date]", "change")
    page.fill("input[name=time_limit_s]", "1")
    page.click("#start-run")
    expect(page.locator(".run-head")).to_have_attribute("data-status", "succeeded", timeout=60_000)
    expect(page.locator("#planning-map path.fv-route")).to_have_count(4)
    expect(page.locator("#left-out tr")).not_to_have_count(0)
    run = live.call("supervisor", "GET", f"/planning-runs?work_date={work_date}").json()["items"][0]
    reasons = page.locator("#left-out td.reason").all_inner_texts()
    assert reasons == [f"{row['reason']}: {row['detail']}" for row in run["unplanned"]]
    console.screenshot("planning-draft")

    with page.expect_download() as printed:
        page.locator("button.pdf").first.click()
    assert printed.value.path().read_bytes().startswith(b"%PDF")

    page.click("#publish-run")
    expect(page.locator("#run-list")).to_contain_text("已发布")
    console.go("day")
    page.fill("input[name=work_date]", work_date)
    page.dispatch_event("input[name=work_date]", "change")
    expect(page.locator("#day-map path.fv-route")).to_have_count(4)
    expect(page.locator("#team-list li.team-card")).to_have_count(4)
    stops = sum(len(sheet["stops"]) for sheet in _day(live, work_date)["sheets"])
    expect(page.locator("#day-map .fv-stop")).to_have_count(stops)
    expect(page.locator("#day-map .fv-office")).to_have_count(1)
    console.screenshot("day-map")

    page.locator("#day-map .fv-stop").first.dispatch_event("click")
    expect(page.locator(".stop-details")).to_contain_text("计划")
    console.screenshot("day-map-stop")

    page.click("#language")
    expect(page.locator("#nav a[data-screen=day]")).to_have_text("Day map")
    expect(page.locator("#team-list li.team-card").first).to_contain_text("stops")
    console.screenshot("day-map-english")
    assert console.other_origins() == [] and console.tokens_in_urls() == [] and console.problems == []


def test_pin_resolve_and_compare_with_the_run_before(console: Console, live: Live) -> None:
    work_date = _seeded(live)
    run = _planned(live, work_date, publish=False)
    page = console.page
    console.log_in("supervisor")
    console.go("planning")
    page.fill("input[name=work_date]", work_date)
    page.dispatch_event("input[name=work_date]", "change")
    expect(page.locator(".run-head")).to_have_attribute("data-status", "succeeded")

    first_card = page.locator("#run-panel li.team-card").first
    first_card.locator("summary").click()
    stop = first_card.locator("details li").first
    stop.locator("input[name=position]").fill("1")
    stop.locator("button[type=submit]").click()
    expect(page.locator("#edits")).to_contain_text("pin")
    page.locator("#run-panel li.team-card").nth(1).locator("summary").click()
    page.locator("#run-panel li.team-card").nth(1).locator("details li").first.locator("button.danger").click()
    expect(page.locator("#edits li")).to_have_count(2)
    expect(page.locator("#resolve-run")).to_contain_text("(2)")
    page.fill("input[name=time_limit_s]", "1")
    page.click("#resolve-run")
    expect(page.locator("#run-list li")).to_have_count(2)
    expect(page.locator(".run-head")).to_have_attribute("data-status", "succeeded", timeout=60_000)
    expect(page.locator("#run-compare")).to_be_visible()
    compare = page.locator("#run-compare tbody tr")
    expect(compare).to_have_count(3 + 4)
    expect(compare.first).to_contain_text(str(run["figures"]["planned"]))
    console.screenshot("planning-compare")
    assert console.problems == []


def test_confirming_an_invalid_address_cancels_its_stop(console: Console, live: Live) -> None:
    work_date = _seeded(live)
    _planned(live, work_date)
    sheet = _day(live, work_date)["sheets"][0]
    stop = sheet["stops"][1]
    agent = _usernames(live, sheet)[0]
    reported = _reported(live, agent, stop["address"]["id"], "demolished", "整栋楼已拆除 building torn down")
    assert reported.status_code == 201, reported.text
    page = console.page
    console.log_in("supervisor")

    console.go("addresses")
    row = page.locator(f"#report-list li[data-report='{reported.json()['id']}']")
    expect(row).to_contain_text("已拆迁")
    row.locator("a").click()
    expect(page.locator("#report-detail h3").first).to_have_text(stop["address"]["raw_text"])
    expect(page.locator("#address-map .fv-address-pin")).to_have_count(1)
    console.screenshot("address-queue")
    page.fill("#report-detail textarea[name=note]", "已核实：拆迁 confirmed by phone")
    page.click("#confirm-report")
    expect(row).to_have_count(0)

    console.go("day")
    page.fill("input[name=work_date]", work_date)
    page.dispatch_event("input[name=work_date]", "change")
    expect(page.locator("#day-map .fv-stop.fv-state-cancelled")).to_have_count(1)
    console.screenshot("day-map-cancelled")
    assert console.problems == []


def test_a_report_clicked_while_the_queue_is_still_loading_is_the_one_shown(console: Console, live: Live) -> None:
    """The supervisor clicks a report before the queue has finished loading (its list of reports the system
    resolved is still on its way): the detail keeps the report clicked, not the oldest the queue would open at."""
    work_date = _seeded(live)
    _planned(live, work_date)
    sheet = _day(live, work_date)["sheets"][0]
    agent = _usernames(live, sheet)[0]
    older, newer = (sheet["stops"][k]["address"] for k in (0, 2))
    assert _reported(live, agent, older["id"], "nonexistent", "门牌号不存在").status_code == 201
    clicked = _reported(live, agent, newer["id"], "demolished", "整栋楼已拆除")
    assert clicked.status_code == 201, clicked.text
    page = console.page
    console.log_in("supervisor")
    held: list[Route] = []
    page.route(re.compile(r".*/invalid-address-reports\?status=resolved.*"), lambda route: held.append(route))

    console.go("addresses")
    page.locator(f"#report-list li[data-report='{clicked.json()['id']}'] a").click()
    expect(page.locator("#report-detail h3").first).to_have_text(newer["raw_text"])
    assert len(held) == 1  # the queue is still loading
    held[0].continue_()
    expect(page.locator("#resolved-list li").first).to_be_visible()

    page.wait_for_timeout(500)  # the queue's own choice, had it been made, would show by now
    expect(page.locator("#report-detail h3").first).to_have_text(newer["raw_text"])
    expect(page.locator(f"#report-list li.active[data-report='{clicked.json()['id']}']")).to_have_count(1)
    assert console.problems == []


def test_the_queue_says_why_geocoding_failed_and_which_reports_resolved_themselves(
    console: Console, live: Live
) -> None:
    _seeded(live)
    sessions = live.app.state.sessionmaker
    refused, outage = "上海市黄浦区汉口路12号2室", "上海市黄浦区汉口路10号1室"
    with sessions() as session:
        supervisor = session.scalars(select(User).where(User.username == "supervisor")).one()
        branch = session.get_one(Branch, supervisor.branch_id)
        for text in (refused, outage):
            make_visit_request(session, make_address(session, make_case(session, branch), point=None, raw_text=text))
        day = tomorrow(branch).isoformat()
    key = GeocoderRefused("amap", "INVALID_USER_KEY (infocode 10001)")
    geocode_unplaced(sessions, [Scripted("amap", {refused: key, outage: GeocoderUnavailable("amap", "ReadTimeout")})])
    assert live.call("supervisor", "POST", "/address-prechecks", json={"work_date": day}).status_code == 200
    geocode_unplaced(sessions, [Scripted("amap", {refused: key, outage: [_match("amap", Precision.DOOR)]})])
    page = console.page
    console.log_in("supervisor")

    console.go("addresses")

    waiting = page.locator("#report-list li", has_text="密钥被拒 (key_refused)")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text("INVALID_USER_KEY (infocode 10001)")
    resolved = page.locator("#resolved-list li[data-resolved-by='system']")
    expect(resolved).to_have_count(1)
    expect(resolved).to_contain_text("系统 (system)")
    expect(resolved).to_contain_text("无法定位 (no_point)")
    console.screenshot("address-queue-geocoding")
    assert console.problems == []


def test_a_wrong_point_is_dragged_and_saved(console: Console, live: Live) -> None:
    work_date = _seeded(live)
    _planned(live, work_date)
    stop = _day(live, work_date)["sheets"][0]["stops"][0]
    agent = _usernames(live, _day(live, work_date)["sheets"][0])[0]
    reported = _reported(live, agent, stop["address"]["id"], "nonexistent", "门牌号不存在，实际在马路对面")
    assert reported.status_code == 201
    page = console.page
    console.log_in("supervisor")
    console.go("addresses")
    row = page.locator(f"#report-list li[data-report='{reported.json()['id']}']")
    row.locator("a").click()
    expect(page.locator("#report-detail h3").first).to_have_text(stop["address"]["raw_text"])
    pin = page.locator("#address-map .fv-address-pin")
    expect(pin).to_have_count(1)
    box = pin.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + 60, steps=8)
    page.mouse.up()
    expect(page.locator("#save-point")).to_be_enabled()
    page.click("#save-point")
    expect(page.locator("#save-point")).to_be_disabled()

    moved = live.call("supervisor", "GET", f"/addresses/{stop['address']['id']}").json()
    assert moved["point_origin"]["source"] == "supervisor"
    before = stop["address"]["point"]
    assert moved["point"]["lon"] > before["lon"] and moved["point"]["lat"] < before["lat"]  # dragged right and down
    page.fill("#report-detail textarea[name=note]", "位置已更正，继续外访")
    page.click("#reject-report")
    expect(row).to_have_count(0)
    decided = live.call("supervisor", "GET", f"/invalid-address-reports/{reported.json()['id']}").json()
    assert decided["status"] == "rejected" and decided["decision_note"] == "位置已更正，继续外访"
    assert console.problems == []


def test_visit_review_plays_and_seeks_the_recording_opens_a_photo_and_approves_cash(
    console: Console, live: Live, time_machine: TimeMachineFixture
) -> None:
    work_date = _seeded(live)
    _planned(live, work_date)
    _on_the_day(time_machine, work_date)
    sheets = _day(live, work_date)["sheets"]
    done = _completed_visit(live, sheets[0], sheets[0]["stops"][0])
    open_visit = _started_visit(live, sheets[1], sheets[1]["stops"][0])
    page = console.page
    console.log_in("supervisor")

    console.go("visits")
    page.fill("input[name=work_date]", work_date)
    page.dispatch_event("input[name=work_date]", "change")
    expect(page.locator("#visit-table tr[data-visit]")).to_have_count(2)
    page.select_option("select[name=status]", "completed")
    expect(page.locator("#visit-table tr[data-visit]")).to_have_count(1)
    console.screenshot("visit-review")

    page.locator(f"tr[data-visit='{done}'] a").click()
    expect(page.locator("#visit-detail")).to_have_attribute("data-status", "completed")
    expect(page.locator("#visit-detail .outcome")).to_contain_text("met_debtor")
    expect(page.locator("#visit-map .fv-check-in")).to_have_count(2)
    expect(page.locator("#visit-map .fv-photo-position")).to_have_count(2)
    expect(page.locator("#visit-detail figure.photo img")).to_have_count(2)
    wait_until(
        lambda: page.evaluate("() => [...document.querySelectorAll('figure.photo img')].every(i => i.naturalWidth)"),
        what="the thumbnails",
    )
    audio = page.locator("#visit-detail audio")
    wait_until(
        lambda: page.evaluate("a => a.readyState >= 1 && a.duration > 100", audio.element_handle()),
        what="the recording's length",
    )
    ranges_before = [seen for seen in live.answers.seen if seen[1].endswith("/content") and seen[3] == 206]
    page.evaluate("a => { a.currentTime = a.duration / 2; return a.play(); }", audio.element_handle())
    wait_until(lambda: page.evaluate("a => a.currentTime", audio.element_handle()) > 58, what="the seek")
    console.screenshot("visit-recording")
    ranges = [seen for seen in live.answers.seen if seen[1].endswith("/content") and seen[3] == 206]
    assert len(ranges) > len(ranges_before) and any(re.match(r"bytes=[1-9]\d*-", seen[2]) for seen in ranges)

    page.locator("#visit-detail figure.photo img").first.click()
    original = page.locator("#photo-overlay img.original")
    wait_until(lambda: original.evaluate("img => img.naturalHeight") in (480, 360), what="the original photo")
    console.screenshot("visit-photo")
    page.click("#photo-overlay")

    page.evaluate("id => { location.hash = `#/visits/${id}`; }", open_visit)
    expect(page.locator("#visit-detail")).to_have_attribute("data-status", "in_progress")
    page.fill("#cash-form input[name=max_amount]", "800.00")
    page.fill("#cash-form input[name=reason]", "债务人愿意现金还款 debtor offers cash")
    page.click("#cash-form button[type=submit]")
    expect(page.locator("#cash-approvals li")).to_contain_text("800.00")
    console.screenshot("visit-cash")
    approvals = live.call("supervisor", "GET", f"/visits/{open_visit}/cash-approvals").json()
    assert [row["max_amount"] for row in approvals] == ["800.00"]
    assert console.other_origins() == [] and console.tokens_in_urls() == [] and console.problems == []


def test_a_supervisor_starts_a_visit_without_both_check_ins_giving_the_reason(
    console: Console, live: Live, time_machine: TimeMachineFixture
) -> None:
    work_date = _seeded(live)
    _planned(live, work_date)
    _on_the_day(time_machine, work_date)
    sheet = _day(live, work_date)["sheets"][0]
    first, second = _usernames(live, sheet)
    for agent in (first, second):
        departure = {"items": CHECKLIST, "client_id": str(uuid4())}
        departed = live.call(agent, "POST", f"/teams/{sheet['team_id']}/departure-checks", json=departure)
        assert departed.status_code == 201
    visit_id = _check_in(live, first, sheet, sheet["stops"][0], 10).json()["id"]
    page = console.page
    console.log_in("supervisor")
    page.evaluate("id => { location.hash = `#/visits/${id}`; }", visit_id)
    expect(page.locator("#visit-detail")).to_have_attribute("data-status", "checking_in")
    page.fill("#override-form input[name=override_reason]", "搭档手机没电，已电话确认在场")
    page.click("#override-form button[type=submit]")
    expect(page.locator("#visit-detail")).to_have_attribute("data-status", "in_progress")
    expect(page.locator("#visit-detail")).to_contain_text("搭档手机没电")
    assert console.problems == []


def test_a_new_finding_appears_without_reloading(console: Console, live: Live) -> None:
    work_date = _seeded(live)
    _planned(live, work_date)
    sheet = _day(live, work_date)["sheets"][0]
    page = console.page
    console.log_in("supervisor")
    console.go("findings")
    expect(page.locator("#feed-status")).to_have_attribute("data-loaded", "true")
    before = page.locator("#feed li.finding").count()
    page.evaluate("() => { window.__notReloaded = true; }")

    reported = _reported(
        live, _usernames(live, sheet)[0], sheet["stops"][0]["address"]["id"], "vague", "只有小区名，没有楼号"
    )
    assert reported.status_code == 201

    fresh = page.locator("#feed li.finding-address_reported.fresh")
    expect(fresh).to_have_count(1, timeout=15_000)
    expect(fresh).to_contain_text("只有小区名，没有楼号")
    assert page.locator("#feed li.finding").count() == before + 1
    assert page.evaluate("() => window.__notReloaded") is True
    console.screenshot("findings")
    fresh.locator("a[href='#/addresses']").click()
    expect(page.locator(f"#report-list li[data-report='{reported.json()['id']}']")).to_have_count(1)
    assert console.problems == []


def test_a_debtors_name_made_of_html_shows_as_text_and_runs_nothing(console: Console, live: Live) -> None:
    work_date = _seeded(live)
    with live.app.state.sessionmaker() as session:
        session.execute(update(DebtCase).values(debtor_name=XSS_NAME))
        session.commit()
    _planned(live, work_date)
    page = console.page
    console.log_in("supervisor")
    console.go("day")
    page.fill("input[name=work_date]", work_date)
    page.dispatch_event("input[name=work_date]", "change")
    page.locator("#day-map .fv-stop").first.dispatch_event("click")
    expect(page.locator(".stop-details")).to_contain_text(XSS_NAME)
    console.screenshot("html-as-text")
    case_id = _day(live, work_date)["sheets"][0]["stops"][0]["case"]["id"]
    page.evaluate("id => { location.hash = `#/cases/${id}`; }", case_id)
    expect(page.locator("#case-detail h2")).to_contain_text(XSS_NAME)
    assert page.locator("img[src='x']").count() == 0
    assert console.problems == []  # no alert() dialog, no page error, no CSP refusal


@pytest.mark.parametrize("username", ["agent1", "collector"])
def test_agents_and_collectors_see_only_their_screens_and_cannot_publish_or_confirm(
    console: Console, live: Live, username: str
) -> None:
    work_date = _seeded(live)
    run = _planned(live, work_date)
    sheet = _day(live, work_date)["sheets"][0]
    reported = _reported(live, _usernames(live, sheet)[0], sheet["stops"][0]["address"]["id"], "incomplete", "缺门牌")
    assert reported.status_code == 201, reported.text
    page = console.page
    console.log_in(username)

    screens = page.locator("#nav a").evaluate_all("links => links.map(link => link.dataset.screen)")
    assert screens == (["day"] if username == "agent1" else ["findings"])
    console.go("planning")
    expect(page.locator("[data-role=refused]")).to_be_visible()
    expect(page.locator("#publish-run")).to_have_count(0)
    console.screenshot("refused")
    console.go("addresses")
    expect(page.locator("[data-role=refused]")).to_be_visible()
    expect(page.locator("#confirm-report")).to_have_count(0)

    published = live.call(username, "POST", f"/planning-runs/{run['id']}/publish")
    confirmed = live.call(username, "POST", f"/invalid-address-reports/{reported.json()['id']}/confirm", json={})
    assert published.status_code == 403 and confirmed.status_code == 403
    assert console.problems == []


@pytest.mark.parametrize("access_token_ttl_s", [2])
def test_an_expired_access_token_is_refreshed_a_reload_keeps_the_login_and_logout_ends_it(
    console: Console, live: Live
) -> None:
    _seeded(live)
    page = console.page
    console.log_in("supervisor")
    page.wait_for_timeout(3000)  # the access token has expired

    console.go("findings")
    expect(page.locator("#feed-status")).to_have_attribute("data-loaded", "true")
    refreshes = [seen for seen in live.answers.seen if seen[:2] == ("POST", "/auth/refresh")]
    assert refreshes and {seen[3] for seen in refreshes} == {200}
    page.reload()
    expect(page.locator("#nav a[data-screen=findings]")).to_be_visible()

    page.click("#logout")
    expect(page.locator("form#login")).to_be_visible()
    assert ("POST", "/auth/logout", "", 204) in live.answers.seen
    page.reload()
    expect(page.locator("form#login")).to_be_visible()
    assert console.tokens_in_urls() == [] and console.problems == []


def test_a_wrong_password_is_told_and_nothing_else_shows(console: Console, live: Live) -> None:
    _seeded(live)
    page = console.page
    page.goto(f"{console.base}/console/")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", "not-the-password")
    page.click("form#login button[type=submit]")

    expect(page.locator("#login-error")).not_to_be_empty()
    expect(page.locator("#shell")).to_be_hidden()
    console.screenshot("login-refused")
