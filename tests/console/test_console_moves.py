"""The console runs a changing day (issue 29, part 5): a stop not yet started is dragged onto another team's
timeline (the rows say at once which teams can take it and why not), or moved from its panel by keyboard or on a
tablet; a refused place is said in words with its code; a request the run left out says who could take it and is
pinned in one click; a team's pair is changed from the roster."""

import re
from datetime import time

from playwright.sync_api import expect
from time_machine import TimeMachineFixture

from tests.console.conftest import Console, Live, wait_until
from tests.console.test_console import _day, _on_the_day, _planned, _seeded


def _holder(live: Live, work_date: str, request_id: str) -> str:
    """The team whose current sheet holds the request."""
    return next(
        sheet["team_id"]
        for sheet in _day(live, work_date)["sheets"]
        if any(stop["visit_request_id"] == request_id for stop in sheet["stops"])
    )


def test_a_stop_dragged_onto_another_team_moves_there_and_the_rows_say_who_cannot_take_it(
    console: Console, live: Live, time_machine: TimeMachineFixture
) -> None:
    work_date = _seeded(live)
    _planned(live, work_date)
    _on_the_day(time_machine, work_date, time(10, 0))
    giver, taker, full, *_ = _day(live, work_date)["sheets"]
    room = live.call("supervisor", "PATCH", f"/teams/{taker['team_id']}", json={"shift_end": "20:30", "max_visits": 30})
    assert room.status_code == 200, room.text  # the demo day is full: this team stays on to take more
    capped = live.call("supervisor", "PATCH", f"/teams/{full['team_id']}", json={"max_visits": len(full["stops"])})
    assert capped.status_code == 200, capped.text
    plain = [stop for stop in giver["stops"] if "complaint_history" not in stop["care_flags"]]
    dragged, panelled = plain[-1]["visit_request_id"], plain[-2]["visit_request_id"]  # any team may visit them
    page = console.page
    console.log_in("supervisor")
    console.go(f"today/{work_date}")
    block = page.locator(f"#timeline .stop-block[data-request='{dragged}']")
    target = page.locator(f"#timeline li.timeline-row[data-team='{taker['team_id']}']")
    expect(block).to_be_visible()

    block.hover()
    page.mouse.down()
    bar = target.locator(".timeline-bar").bounding_box()
    assert bar is not None
    page.mouse.move(bar["x"] + bar["width"] * 0.98, bar["y"] + bar["height"] / 2, steps=5)
    expect(target).to_have_class(re.compile("can-take"))
    refusing = page.locator(f"#timeline li.timeline-row[data-team='{full['team_id']}']")
    expect(refusing).to_have_class(re.compile("cannot-take"))
    expect(refusing.locator(".move-verdict")).to_have_text("已达外访上限 (visit_limit)")
    console.screenshot("drag-verdicts")
    page.mouse.move(bar["x"] + bar["width"] * 0.99, bar["y"] + bar["height"] / 2, steps=2)
    page.mouse.up()

    wait_until(lambda: _holder(live, work_date, dragged) == taker["team_id"], what="the dragged stop's move")
    expect(target.locator(f".stop-block[data-request='{dragged}']")).to_be_visible()
    expect(page.locator("#timeline li.can-take")).to_have_count(0)

    page.locator(f"#timeline .stop-block[data-request='{panelled}']").focus()
    page.keyboard.press("Enter")
    panel = page.locator("#move-panel")
    expect(panel.locator("li.move-option")).to_have_count(len(_day(live, work_date)["sheets"]))
    expect(panel.locator(f"li.move-option[data-team='{full['team_id']}']")).to_contain_text("(visit_limit)")
    option = panel.locator(f"li.move-option[data-team='{taker['team_id']}']")
    option.locator("input[name=position]").fill("99")
    option.locator("button.move-at").click()
    expect(panel.locator(".move-refused")).to_contain_text("该位置不可用")
    expect(panel.locator(".move-refused")).to_contain_text("(position)")
    console.screenshot("move-panel")
    assert _holder(live, work_date, panelled) == giver["team_id"]  # refused: nothing changed
    option.locator("button.move-best").click()
    wait_until(lambda: _holder(live, work_date, panelled) == taker["team_id"], what="the panel's move")
    expect(page.locator("#move-panel")).to_have_count(0)
    page.click("#language")
    expect(page.locator("p.hint")).to_contain_text("Drag a stop not yet started")
    assert console.problems == []


def test_a_request_left_out_says_who_could_take_it_and_is_pinned_to_that_team(console: Console, live: Live) -> None:
    work_date = _seeded(live)
    run = _planned(live, work_date, publish=False)
    solver = {"lower_priority", "outside_every_shift", "no_team_with_skill", "pin_impossible"}
    left = next(row for row in run["unplanned"] if row["reason"] in solver)
    for username, name in (("spare1", "郑一"), ("spare2", "钱二"), ("spare3", "孙三")):
        body = {"username": username, "full_name": name, "role": "agent", "password": "a-long-enough-password"}
        assert live.call("supervisor", "POST", "/users", json=body).status_code == 201
    page = console.page
    console.log_in("supervisor")
    console.go(f"planning/{work_date}")
    page.locator("#roster > details > summary").click()
    form = page.locator("#new-team")
    form.locator("input[name=team_name]").fill("外访五组")
    form.locator("select[name=agent_1]").select_option(label="郑一 (spare1)")
    form.locator("select[name=agent_2]").select_option(label="钱二 (spare2)")
    form.locator("input[name=shift_start]").fill("08:00")  # a whole day, and complaint cases too: it can take any
    form.locator("input[name=shift_end]").fill("20:30")
    form.locator("input[name=experienced]").check()
    form.locator("button[type=submit]").click()
    added = page.locator("#roster li", has_text="外访五组")
    expect(added).to_be_visible()

    row = page.locator(f"#left-out tr[data-request='{left['visit_request_id']}']")
    row.locator("button.who-can-take").click()

    spare = row.locator("li.option:not(.muted)", has_text="外访五组")
    expect(spare).to_contain_text("到达")
    expect(row.locator("li.option.muted").first).to_contain_text(")")  # a refusal's words end with its code
    console.screenshot("left-out-who-can-take")
    spare.locator("button.pin-here").click()
    wait_until(
        lambda: any(
            edit["visit_request_id"] == left["visit_request_id"]
            for edit in live.call("supervisor", "GET", f"/planning-runs/{run['id']}").json()["edits"]
        ),
        what="the pin",
    )
    added.locator("summary").click()
    added.locator("select[name=pair_2]").select_option(label="孙三 (spare3)")
    added.locator("button[type=submit]").click()
    expect(page.locator("#roster li", has_text="外访五组")).to_contain_text("郑一、孙三")
    assert console.problems == []
