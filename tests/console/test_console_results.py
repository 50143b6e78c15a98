"""The results screen (issue 34) on a small hand-counted month: the day and the month to date in tiles, a figure's
daily values charted by the vendored Chart.js, a table per team and per agent with a sparkline per row, every
visit-based number opening the visits behind it, the promises due in the day's week with a follow-up visit for a
broken one, the tables exported by the server, in Chinese and in English, 1024 px wide, and axe-core's rules."""

import csv
import io
import json
import re
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.security import hash_password
from api.demo import DEMO_PASSWORD
from api.models.cases import Address, DebtCase
from api.models.teams import Team
from api.models.users import User
from api.models.visit_requests import VisitRequest
from api.rules.promises import PromiseState
from tests.console.conftest import SHOTS, Console, Live
from tests.factories import NEAR_OFFICE, make_address, make_case, make_team, make_visit_request
from tests.test_results import DAY, Fixture, _outcome

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY_3 = date(2026, 12, 3)
NINE_3 = datetime(2026, 12, 3, 1, tzinfo=UTC)  # 09:00 in Shanghai
AXE = Path(__file__).parent / "axe" / "axe.min.js"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
WORDS = re.compile(r"[A-Za-z]{2,}")
NOT_WORDS = {"CSV", "Excel"}  # a file format is named as it is in either language


class Month(Fixture):
    """tests/test_results.py's day (2026-12-01: 3 visits done, one of them nobody met, promises of 1,000.00 kept
    and 500.00 broken, 200.00 cash) and 2026-12-03, the same two teams again (their agents too): 外访一组 met a
    debtor who promised 800.00 and broke it, 外访二组 met nobody. Nobody worked on 2026-12-02. Every promise is due
    on 2026-12-06, the Sunday of both days' week."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        one = self._again(self.one)
        two = self._again(self.two)
        requests = [self._request_on(DAY_3, k, debtor) for k, debtor in enumerate(["李娜", "王芳"])]
        first = self._published(one, requests[:1], travel_m=[1200])
        second = self._published(two, requests[1:], travel_m=[2000])
        first.stops[0].starts_at = second.stops[0].starts_at = NINE_3 + timedelta(hours=1)
        promised = self._visit(
            first,
            0,
            started=NINE_3 + timedelta(hours=1, minutes=5),
            on_site_min=20,
            details=_outcome("met_debtor", promise={"date": "2026-12-06", "amount": "800.00"}),
        )
        self._visit(second, 0, started=NINE_3 + timedelta(hours=1), on_site_min=8, details=_outcome("nobody"))
        self._promise(promised, Decimal("800.00"), PromiseState.BROKEN, paid=Decimal("0.00"))
        self.supervisor.password_hash = hash_password(DEMO_PASSWORD)  # as the console's tests log in
        session.commit()
        self.username = self.supervisor.username
        self.teams = [self.one.name, self.two.name]
        members = self.one.members + self.two.members
        self.agents = [session.get_one(User, member.agent_id).full_name for member in members]
        cases = session.scalars(select(DebtCase).where(DebtCase.branch_id == self.branch.id)).all()
        addresses = session.scalars(select(Address.raw_text).where(Address.case_id.in_([case.id for case in cases])))
        self.names = sorted(
            {self.branch.name, *self.teams, *self.agents, *addresses}
            | {case.debtor_name for case in cases}
            | {case.reference for case in cases},
            key=len,
            reverse=True,
        )  # what users typed or the factories named: shown as it is in either language

    def _again(self, team: Team) -> Team:
        """The team of the same name and agents on 2026-12-03 (a team is made for each date)."""
        agents = tuple(self.session.get_one(User, member.agent_id) for member in team.members)
        again = make_team(self.session, self.branch, agents=(agents[0], agents[1]), work_date=DAY_3)
        again.name = team.name
        self.session.commit()
        return again

    def _request_on(self, day: date, k: int, debtor: str) -> VisitRequest:
        case = make_case(self.session, self.branch, debtor_name=debtor)
        address = make_address(self.session, case, point=NEAR_OFFICE[k], raw_text=f"上海市黄浦区汉口路{10 + k}号")
        return make_visit_request(self.session, address, earliest_date=day, latest_date=day)


def _month(live: Live) -> Month:
    with live.app.state.sessionmaker() as session:
        return Month(session)


def _open(console: Console, month: Month) -> Page:
    """The results screen of 2026-12-03, chosen in its date input (which opens on the branch's today)."""
    page = console.page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.add_init_script(path=AXE)  # through the debugging protocol: the page's policy refuses inline scripts
    console.log_in(month.username)
    console.go("results")
    expect(page.locator("input[name=day]")).to_have_value(datetime.now(SHANGHAI).date().isoformat())
    page.fill("input[name=day]", DAY_3.isoformat())
    page.dispatch_event("input[name=day]", "change")
    page.locator("input[name=day]").blur()
    expect(page.locator("#tiles h2")).to_contain_text("当日 2026-12-03 · 本月至今 2026-12-01 至 2026-12-03")
    expect(page.locator("#tiles .tile")).to_have_count(10)
    assert page.evaluate("() => location.hash") == "#/results/2026-12-03"  # a reload opens the same day
    return page


def _tile(page: Page, figure: str, scope: str) -> str:
    return page.locator(f"#tiles .tile[data-figure={figure}] [data-scope={scope}]").inner_text().strip()


def _drawn(page: Page, selector: str) -> list[dict[str, Any]]:
    """Each canvas's chart as Chart.js holds it (its type and values) and how many of its pixels are painted."""
    return list(
        page.locator(selector).evaluate_all(
            """canvases => canvases.map(canvas => {
                const chart = Chart.getChart(canvas);
                const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
                let painted = 0;
                for (let k = 3; k < pixels.length; k += 4) painted += pixels[k] > 0;
                return { type: chart?.config.type, values: chart?.data.datasets[0].data, painted };
            })"""
        )
    )


def _labels(page: Page, names: list[str]) -> str:
    """The screen's text without the names and addresses in it."""
    text = page.locator("#view").inner_text()
    for name in names:  # the longest first: a name inside another goes with it
        text = text.replace(name, " ")
    return text


def _axe(console: Console, shot: str) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is, each with its impact and where; kept beside the screenshots."""
    found = console.page.evaluate(
        """async () => (await axe.run(document, { resultTypes: ['violations'] })).violations.map(rule => ({
            id: rule.id, impact: rule.impact, help: rule.help,
            nodes: rule.nodes.map(node => node.target.join(' ')),
        }))"""
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / f"{console.name}-{shot}-axe.json").write_text(json.dumps(found, ensure_ascii=False, indent=2))
    return list(found)


def _wider_than_the_window(page: Page) -> list[str]:
    """The page, the header and the screen where one is wider than its box (a horizontal scroll bar), once the
    charts have been drawn again for the window's width (Chart.js does it on the next frames)."""
    deadline = time.monotonic() + 5
    while True:
        wider: list[str] = page.evaluate(
            """() => [document.scrollingElement, document.querySelector('header.top'),
                      ...document.querySelectorAll('#view > *')]
                .filter(element => element.scrollWidth > element.clientWidth)
                .map(element => `${element.tagName}#${element.id} ${element.scrollWidth} > ${element.clientWidth}`)"""
        )
        if not wider or time.monotonic() > deadline:
            return wider
        page.wait_for_timeout(100)


def test_the_day_and_the_month_in_tiles_charts_and_tables_in_both_languages(console: Console, live: Live) -> None:
    month = _month(live)
    page = _open(console, month)

    assert (_tile(page, "visits_done", "day"), _tile(page, "visits_done", "month")) == ("2", "本月 5")
    assert (_tile(page, "visits_failed", "day"), _tile(page, "visits_failed", "month")) == ("1", "本月 2")
    assert _tile(page, "right_party_contact_rate", "day") == "50 %"
    assert _tile(page, "promises_made", "month") == "本月 3 · ¥2300.00"
    assert (_tile(page, "kept_rate", "month"), _tile(page, "cash_collected", "month")) == ("本月 33 %", "本月 ¥200.00")
    assert _tile(page, "addresses_invalid", "month") == "本月 0"
    [trend] = _drawn(page, "#trend-chart")
    assert trend["type"] == "bar" and trend["values"] == [3, 0, 2] and trend["painted"] > 500  # 12-02: no work, 0
    expect(page.locator("#trend-chart")).to_have_attribute("aria-label", re.compile("12-02 0, 12-03 2"))
    expect(page.locator("#team-table tbody tr")).to_have_count(2)
    expect(page.locator("#team-table tbody th")).to_have_text(month.teams)
    expect(page.locator("#team-table tr[data-key='外访一组'] td[data-figure=visits_done]")).to_have_text("3")
    expect(page.locator("#agent-table tbody tr")).to_have_count(4)
    sparklines = _drawn(page, "#team-table canvas.sparkline")
    assert [line["values"] for line in sparklines] == [[2, 0, 1], [1, 0, 1]]
    assert all(line["type"] == "line" and line["painted"] > 20 for line in sparklines)
    assert len(_drawn(page, "#agent-table canvas.sparkline")) == 4

    page.select_option("#trend-figure", "right_party_contact_rate")
    [rate] = _drawn(page, "#trend-chart")
    assert rate["type"] == "line" and rate["values"] == [0.3333, None, 0.5]  # 12-02: nothing to divide by
    expect(page.locator("#team-table thead th").last).to_have_text(re.compile(r"每日走势\s*本人接触率"))
    page.select_option("#trend-figure", "visits_done")
    labels = _labels(page, month.names)
    assert not set(WORDS.findall(labels)) - NOT_WORDS, labels
    page.set_viewport_size({"width": 1440, "height": 1200})  # the whole screen in one picture
    console.screenshot("zh-1440")
    chinese = _axe(console, "zh-1440")

    page.click("#language")
    expect(page.locator("#tiles .tile[data-figure=visits_done] .tile-label")).to_have_text("Visits done")
    assert _tile(page, "visits_done", "month") == "Month 5"
    labels = _labels(page, month.names)
    assert not CJK.findall(labels), labels
    console.screenshot("en-1440")
    page.set_viewport_size({"width": 1024, "height": 768})
    assert _wider_than_the_window(page) == []
    console.screenshot("en-1024")
    english = _axe(console, "en-1024")
    page.click("#language")
    expect(page.locator("#tiles .tile[data-figure=visits_done] .tile-label")).to_have_text("外访完成")
    assert _wider_than_the_window(page) == []
    console.screenshot("zh-1024")

    for found in (chinese, english):
        assert [rule for rule in found if rule["impact"] in ("critical", "serious", "moderate")] == []
    chart_js = [url for url in console.requested if url.endswith("/console/vendor/chartjs/chart.umd.js")]
    assert len(chart_js) == 1 and console.other_origins() == [] and console.tokens_in_urls() == []
    assert console.problems == []


def test_a_number_opens_the_visits_behind_it(console: Console, live: Live) -> None:
    month = _month(live)
    page = _open(console, month)

    number = page.locator("#tiles .tile[data-figure=visits_done] [data-scope=month] a")
    expect(number).to_have_text("5")
    number.click()
    expect(page.locator("#drill-table tbody tr")).to_have_count(5)
    expect(page.locator("#drill h1")).to_have_text("完成的外访")
    expect(page.locator("#drill .drill-scope")).to_contain_text("2026-12-01 至 2026-12-03 · 5 次外访")
    results = page.locator("#drill-table tbody td:nth-child(6)").all_inner_texts()
    assert sorted(results) == sorted(["见到本人", "无人应答", "见到家属", "见到本人", "无人应答"])
    console.screenshot("drill-zh")
    page.locator("#drill a", has_text="返回成果").click()

    number = page.locator("#team-table tr[data-key='外访二组'] td[data-figure=visits_failed] a")
    expect(number).to_have_text("1")
    number.click()
    expect(page.locator("#drill-table tbody tr")).to_have_count(1)
    expect(page.locator("#drill .drill-scope")).to_contain_text("外访二组")
    expect(page.locator("#drill-table tbody td").nth(4)).to_have_text("上海市黄浦区汉口路11号")
    page.click("#language")
    expect(page.locator("#drill h1")).to_have_text("Visits where nobody was met")
    expect(page.locator("#drill-table tbody td").nth(5)).to_have_text("nobody")
    console.screenshot("drill-en")
    page.locator("#drill-table tbody a").click()
    expect(page.locator("#visit-detail")).to_have_attribute("data-status", "completed")

    console.go(f"visits/{DAY.isoformat()}")  # the visit review of a day is as it was
    expect(page.locator("#visit-table tr[data-visit]")).to_have_count(3)
    assert console.problems == []


def test_the_promises_due_this_week_and_a_follow_up_visit_for_a_broken_one(console: Console, live: Live) -> None:
    month = _month(live)
    page = _open(console, month)

    rows = page.locator("#promise-table tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#promise-week")).to_have_text("2026-11-30 至 2026-12-06")
    expect(page.locator("#promise-table tbody tr[data-state=kept]")).to_contain_text("已履约")
    broken = page.locator("#promise-table tbody tr[data-state=broken]")
    expect(broken).to_have_count(2)
    expect(broken.first).to_contain_text("违约")
    expect(page.locator("#promise-table button.follow-up")).to_have_count(2)
    first, second = broken.evaluate_all("rows => rows.map(row => row.dataset.promise)")

    page.locator(f"#promise-table tr[data-promise='{first}'] button.follow-up").click()
    expect(page.locator(".toast")).to_contain_text("已建立跟进外访请求")
    expect(page.locator(f"#promise-table tr[data-promise='{first}']")).to_contain_text("已安排跟进")
    followed = live.call(month.username, "GET", "/promises?due_from=2026-12-06&due_until=2026-12-06")
    request_id = next(item for item in followed.json()["items"] if item["id"] == first)["follow_up_request_id"]
    assert request_id is not None
    assert live.call(month.username, "GET", f"/visit-requests/{request_id}").json()["purpose"] == "negotiate"

    # someone else followed the other one up meanwhile: the refusal is told in the screen's language
    done = live.call(month.username, "POST", f"/promises/{second}/follow-up")
    assert done.status_code == 201, done.text
    page.locator(f"#promise-table tr[data-promise='{second}'] button.follow-up").click()
    expect(page.locator(".toast-error")).to_have_text("该承诺已安排过跟进外访")
    console.screenshot("promises")
    assert console.problems == []


def test_each_table_is_exported_as_the_servers_csv_and_xlsx_with_the_payment_days_chosen(
    console: Console, live: Live
) -> None:
    month = _month(live)
    page = _open(console, month)
    paid = "#tiles .tile[data-figure=paid_after_visits] [data-scope=month]"
    expect(page.locator(paid)).to_have_text("本月 ¥1000.00")  # paid two days after its visit
    page.fill("input[name=payment_days]", "1")
    page.dispatch_event("input[name=payment_days]", "change")
    expect(page.locator(paid)).to_have_text("本月 ¥0.00")
    assert page.evaluate("() => location.hash") == "#/results/2026-12-03?payment_days=1"

    with page.expect_download() as as_csv:
        page.click("#teams button.export-csv")
    with page.expect_download() as as_xlsx:
        page.click("#agents button.export-xlsx")

    assert as_csv.value.suggested_filename == "results-team-2026-12-01-2026-12-03.csv"
    text = Path(as_csv.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("period_start,key,label,requests_due,")
    rows = {row["key"]: row for row in csv.DictReader(io.StringIO(text))}
    assert (rows["外访一组"]["visits_done"], rows["外访二组"]["visits_done"]) == ("3", "2")
    assert rows["外访一组"]["paid_after_visits"] == "0.00"  # with the payment days on the screen
    assert as_xlsx.value.suggested_filename == "results-agent-2026-12-01-2026-12-03.xlsx"
    sheet = load_workbook(io.BytesIO(Path(as_xlsx.value.path()).read_bytes())).active
    assert sheet is not None
    header, *lines = [list(row) for row in sheet.iter_rows(values_only=True)]
    done = {line[2]: line[header.index("visits_done")] for line in lines}
    assert {name: done[name] for name in month.agents} == dict(zip(month.agents, [3, 3, 2, 2], strict=True))
    assert console.tokens_in_urls() == [] and console.problems == []
