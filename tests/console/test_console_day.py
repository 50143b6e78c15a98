"""The console on a day under way (issue 29): an evening draft is not published over the morning, the supervisor is
told why in words and re-plans the rest of the day in one click, sees what each team's sheet changes, and confirms
before publishing; the morning's visits stay where they were."""

from datetime import time

from playwright.sync_api import expect
from time_machine import TimeMachineFixture

from tests.console.conftest import Console, Live
from tests.console.test_console import _completed_visit, _day, _on_the_day, _planned, _seeded


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
