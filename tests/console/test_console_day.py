"""The console on a day under way (issue 29): an evening draft is not published over the morning, the supervisor is
told why in words and re-plans the rest of the day in one click, sees what each team's sheet changes, and confirms
before publishing; the morning's visits stay where they were."""

import re
from datetime import date, time, timedelta
from uuid import UUID

from playwright.sync_api import expect
from time_machine import TimeMachineFixture

from api.geo import GeoPoint
from api.models.cases import DebtCase
from tests.console.conftest import Console, Live, wait_until
from tests.console.test_console import _completed_visit, _day, _on_the_day, _planned, _seeded
from tests.factories import make_address, make_visit_request


def test_an_evening_draft_is_refused_in_words_and_the_in_day_re_plan_is_published_after_a_confirmation(
    console: Console, live: Live, time_machine: TimeMachineFixture
) -> None:
    work_date = _seeded(live)
    _planned(live, work_date)  # the evening's plan, published
    _planned(live, work_date, publish=False)  # another draft of the evening, left unpublished
    _on_the_day(time_machine, work_date, time(10, 0))
    sheet = _day(live, work_date)["sheets"][0]
    done = sheet["stops"][0]
    visit_id = _completed_visit(live, sheet, done)
    page = console.page
    console.log_in("supervisor")
    console.go("planning")
    page.fill("input[name=work_date]", work_date)
    page.dispatch_event("input[name=work_date]", "change")
    expect(page.locator("#run-list li")).to_have_count(2)
    page.locator("#run-list li a").nth(1).click()  # the evening's draft, as the supervisor found it
    expect(page.locator(".run-head")).to_have_attribute("data-status", "succeeded")

    page.click("#publish-run")

    refusal = page.locator("#plan-outdated")
    expect(refusal).to_contain_text("此方案不能直接发布")
    expect(refusal).to_contain_text("当日已有 1 次外访完成、0 次进行中、0 个站点已取消")
    console.screenshot("plan-outdated")
    page.click("#in-day-replan")
    expect(page.locator("#run-list li")).to_have_count(3)
    expect(page.locator(".run-head")).to_have_attribute("data-status", "succeeded", timeout=60_000)
    expect(page.locator("#run-list li").nth(2)).to_contain_text("当日重排")
    expect(page.locator("#run-panel li.team-card p.changes")).to_have_count(len(_day(live, work_date)["sheets"]))
    evening = live.call("supervisor", "GET", f"/planning-runs?work_date={work_date}").json()["items"][0]
    expect(page.locator("#run-compare tbody tr").first).to_contain_text(str(evening["figures"]["planned"]))
    page.click("#publish-run")
    expect(page.locator("#publish-warning")).to_contain_text("当日已在进行")
    expect(page.locator("#publish-run")).to_have_text("确认发布")
    console.screenshot("in-day-confirm")
    page.click("#publish-run")
    expect(page.locator("#run-list li").nth(2)).to_contain_text("已发布")

    after = next(each for each in _day(live, work_date)["sheets"] if each["team_id"] == sheet["team_id"])
    kept = next(stop for stop in after["stops"] if stop["visit_request_id"] == done["visit_request_id"])
    assert (kept["state"], kept["visit_id"]) == ("done", visit_id)
    page.click("#language")
    expect(page.locator("#run-list li").nth(2)).to_contain_text("in-day re-plan")
    console.screenshot("in-day-english")
    assert console.problems == []


def test_today_shows_each_team_s_timeline_and_an_urgent_request_goes_to_a_team_that_can_take_it(
    console: Console, live: Live, time_machine: TimeMachineFixture
) -> None:
    work_date = _seeded(live)
    _planned(live, work_date)
    _on_the_day(time_machine, work_date, time(10, 0))
    sheets = _day(live, work_date)["sheets"]
    _completed_visit(live, sheets[0], sheets[0]["stops"][0])
    stop = sheets[1]["stops"][-1]  # a new request beside the second team's last stop, due today
    case_id = live.call("supervisor", "GET", f"/visit-requests/{stop['visit_request_id']}").json()["case_id"]
    point = stop["address"]["point"]
    with live.app.state.sessionmaker() as session:
        case = session.get_one(DebtCase, UUID(case_id))
        address = make_address(session, case, point=GeoPoint(lat=point["lat"] + 0.002, lon=point["lon"]))
        day = date.fromisoformat(work_date)
        urgent = make_visit_request(session, address, priority=5, earliest_date=day, latest_date=day)
        urgent_id = str(urgent.id)
    longer = live.call("supervisor", "PATCH", f"/teams/{sheets[1]['team_id']}", json={"shift_end": "20:00"})
    assert longer.status_code == 200, longer.text  # the demo day is full: this team stays on to take more
    page = console.page
    console.log_in("supervisor")

    console.go(f"today/{work_date}")

    expect(page.locator("#timeline li.timeline-row")).to_have_count(len(sheets))
    expect(page.locator("#timeline .stop-block.state-done")).to_have_count(1)
    expect(page.locator("#timeline .actual-block.state-done")).to_have_count(1)  # when the team really was there
    expect(page.locator("#timeline .actual-block").first).to_have_attribute("title", re.compile("实际 .* · 计划 "))
    console.screenshot("today-timeline")
    expect(page.locator("#timeline .now-line")).to_have_count(len(sheets))
    marker = page.locator(f"#today-map .fv-request-label[data-request='{urgent_id}']")
    marker.click()
    details = page.locator(f"#today-map .request-details[data-request='{urgent_id}']")
    owed = "¥" + live.call("supervisor", "GET", f"/visit-requests/{urgent_id}").json()["amount_owed"]
    for shown in ("P5", owed, "全天", "所需资质", "核实地址"):
        expect(details).to_contain_text(shown)
    details.locator("button.who-can-take").click()
    expect(details.locator("li.option").first).to_contain_text("到达")
    shown = page.locator("#today-map")
    wait_until(  # the map pans so that the lengthened popup shows whole
        lambda: page.locator("#today-map .leaflet-popup").bounding_box()["y"] >= shown.bounding_box()["y"],
        what="the popup inside the map",
    )
    console.screenshot("today-map-request")
    request = page.locator(f"#open-requests li.open-request[data-request='{urgent_id}']")
    expect(request).to_contain_text(owed)
    request.locator("button.who-can-take").click()
    expect(request.locator("li.option").first).to_contain_text("到达")
    console.screenshot("today-options")
    request.locator("button.insert").first.click()
    expect(page.locator(f"#open-requests li.open-request[data-request='{urgent_id}']")).to_have_count(0)
    held = {stop["visit_request_id"] for sheet in _day(live, work_date)["sheets"] for stop in sheet["stops"]}
    assert urgent_id in held
    row = page.locator("#timeline li.timeline-row").last
    row.locator("input[name=stand_down_reason]").fill("agent ill this morning")
    row.locator("button.danger").click()
    team_id = row.get_attribute("data-team")
    wait_until(
        lambda: live.call("supervisor", "GET", f"/teams/{team_id}").json()["stood_down_at"] is not None,
        what="the stand-down",
    )
    expect(page.locator(f"#timeline li.timeline-row[data-team='{team_id}'] .stood-down-since")).to_contain_text(
        "已停工"
    )
    console.screenshot("today")
    page.click("#language")
    expect(page.locator("h3").first).to_have_text("Teams' timelines")
    assert console.problems == []


def test_the_roster_pairs_two_free_agents_into_a_team_of_the_date(console: Console, live: Live) -> None:
    work_date = _seeded(live)
    later = (date.fromisoformat(work_date) + timedelta(days=1)).isoformat()  # a date with no team yet
    for username, name in (("spare1", "郑一"), ("spare2", "钱二")):
        body = {"username": username, "full_name": name, "role": "agent", "password": "a-long-enough-password"}
        assert live.call("supervisor", "POST", "/users", json=body).status_code == 201
    page = console.page
    console.log_in("supervisor")
    console.go(f"planning/{later}")
    expect(page.locator("#roster > details > summary")).to_contain_text("小组名单 (0)")

    form = page.locator("#new-team")
    form.locator("input[name=team_name]").fill("外访五组")
    form.locator("select[name=agent_1]").select_option(label="郑一 (spare1)")
    form.locator("select[name=agent_2]").select_option(label="钱二 (spare2)")
    form.locator("input[name=experienced]").check()
    form.locator("button[type=submit]").click()

    expect(page.locator("#roster > details > summary")).to_contain_text("小组名单 (1)")
    expect(page.locator("#roster li")).to_contain_text("外访五组 · 郑一、钱二 · 09:00–18:00 · 有经验")
    expect(page.locator("#roster li")).to_be_visible()
    teams = live.call("supervisor", "GET", f"/teams?work_date={later}").json()["items"]
    assert [(team["name"], team["experienced"]) for team in teams] == [("外访五组", True)]
    assert {member["username"] for member in teams[0]["members"]} == {"spare1", "spare2"}
    console.screenshot("roster")
    assert console.problems == []
