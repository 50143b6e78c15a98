// Results: how the branch's field work goes. The chosen day and the month to date at a glance, a figure's daily
// values over the month, a table per team and one per agent (each row with its sparkline), every visit-based number
// a link to the visits behind it, the promises falling due in the day's week, and each table exported as CSV or
// Excel (the server makes the file). One request, the overview, brings everything but the promises.

import { api, download } from "./api.js";
import { sparkline, trendChart } from "./charts.js";
import { fill, h, keepInAddress, showError } from "./dom.js";
import { FIGURES, daily, daysFrom, figureLink, figureName } from "./figures.js";
import { localDate, money, t } from "./i18n.js";
import { promiseTable, showPromisesDue, weekOf } from "./promises.js";

const TILES = [
  "visits_done", "visits_failed", "right_party_contact_rate", "promises_made", "kept_rate", "paid_after_visits",
  "cash_collected", "on_time_share", "doubtful_presence_share", "addresses_invalid",
];
const COLUMNS = [
  "visits_done", "visits_failed", "right_party_contact_rate", "promises_made", "promised_amount", "kept_rate",
  "paid_after_visits", "cash_collected", "on_time_share", "doubtful_presence_share",
];
const UNASSIGNED = "unassigned";  // what no team did (requests due, requests left out): not a row of the tables
const PAYMENT_DAYS = "7";

/** A figure of the day and of the month; the promises made come with what was promised. */
function tile(field, overview, scopes) {
  const value = (figures, scope) => [
    figureLink(field, figures, scope),
    field === "promises_made" ? h("span", { class: "amount", text: ` · ${money(figures.promised_amount)}` }) : null,
  ];
  return h("div", { class: "tile", dataset: { figure: field } },
    h("div", { class: "tile-label", text: figureName(field) }),
    h("div", { class: "tile-day", dataset: { scope: "day" } }, value(overview.day_figures, scopes.day)),
    h("div", { class: "tile-month", dataset: { scope: "month" } },
      h("span", { class: "muted", text: `${t("month_short")} ` }), value(overview.month_figures, scopes.month)));
}

/** A part of the screen: its heading (and what stands beside it) over its content. */
function section(id, title, aside, ...content) {
  return h("section", { class: "results-section", id },
    h("div", { class: "section-head" }, h("h2", { text: title }), aside),
    content);
}

/** The buttons that download the table as the server exports it: the month to date, a row per key. */
function exportButtons(by, overview) {
  const query = new URLSearchParams({
    since: overview.month_start, until: overview.day, period: "month", by, payment_days: overview.payment_days,
  });
  return h("span", { class: "exports" }, ["csv", "xlsx"].map((suffix) => h("button", {
    type: "button", class: `small export export-${suffix}`, dataset: { by }, text: t(`export_${suffix}`),
    onclick: () => download(`/reports/results.${suffix}?${query}`).catch(showError),
  })));
}

/**
 * A table of the month's figures, a row per key (the most visits first) with a sparkline of the chosen figure;
 * `later` gets the drawing of each sparkline, done once the table is in the page (a chart measures its canvas).
 */
function resultTable(id, by, caption, { rows, trend, days, field, scope, later }) {
  const trendOf = Map.groupBy(trend, (row) => row.key);
  const byName = (a, b) => a.label.localeCompare(b.label, undefined, { numeric: true });  // Agent 9 before Agent 10
  const shown = rows.filter((row) => row.key !== UNASSIGNED)
    .sort((a, b) => b.figures.visits_done - a.figures.visits_done || byName(a, b));
  return h("div", { class: "table-box", tabindex: "0", role: "region", "aria-label": caption },
    h("table", { class: "results-table", id },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col", text: t(by) }),
        COLUMNS.map((column) => h("th", { scope: "col", class: "number", text: figureName(column) })),
        h("th", { scope: "col" }, t("sparkline"), h("span", { text: figureName(field) })))),
      h("tbody", {}, shown.length ? shown.map((row) => {
        const canvas = h("canvas", { class: "sparkline", width: 110, height: 28 });
        later.push(() => sparkline(canvas, field, days, daily(trendOf.get(row.key) ?? [], days, field)));
        const rowScope = { ...scope, by, key: row.key, label: row.label };
        return h("tr", { dataset: { key: row.key } },
          h("th", { scope: "row", text: row.label }),
          COLUMNS.map((column) => h("td", { class: "number", dataset: { figure: column } },
            figureLink(column, row.figures, rowScope))),
          h("td", { class: "spark" }, canvas));
      }) : h("tr", {}, h("td", { colspan: COLUMNS.length + 2, class: "empty", text: t("no_rows") })))));
}

export async function resultsView(view, { date, params, context }) {
  const day = h("input", { type: "date", name: "day", value: date ?? localDate(0), required: true });
  const paymentDays = h("input", {
    type: "number", name: "payment_days", min: 0, max: 90, class: "narrow",
    value: params.get("payment_days") ?? PAYMENT_DAYS,
  });
  const chosen = h("select", { name: "figure", id: "trend-figure" },
    FIGURES.map((each) => h("option", { value: each.field, text: figureName(each.field) })));
  const figures = h("div", { id: "results-figures" });
  const promiseBody = h("tbody");
  const week = h("span", { class: "muted", id: "promise-week" });
  fill(view, h("div", { class: "page results", id: "results" },
    h("div", { class: "toolbar" },
      h("h1", { text: t("results") }),
      h("label", {}, t("date"), " ", day),
      h("label", {}, t("payment_days"), " ", paymentDays)),
    figures,
    section("promises-due", t("promises_due"), week,
      h("div", { class: "table-box", tabindex: "0", role: "region", "aria-label": t("promises_due") },
        promiseTable(promiseBody)))));
  let overview = null;
  let charts = [];
  let loads = 0;
  const drop = () => {
    charts.forEach((chart) => chart.destroy());
    charts = [];
  };

  /** The tiles, the chart of the chosen figure and the tables, from the overview. */
  function draw() {
    drop();
    const days = daysFrom(overview.month_start, overview.day);
    const field = chosen.value;
    const scope = { since: overview.month_start, until: overview.day, paymentDays: overview.payment_days };
    const branch = { by: "branch", key: context.branch?.id ?? "", label: context.branch?.name ?? "" };
    const scopes = { day: { ...scope, ...branch, since: overview.day }, month: { ...scope, ...branch } };
    const canvas = h("canvas", { id: "trend-chart" });
    const later = [() => trendChart(canvas, field, days, daily(overview.trend, days, field),
      t("chart_of").replace("{figure}", figureName(field)))];
    const tables = { days, field, scope, later };
    fill(figures,
      section("tiles", `${t("day_figures")} ${overview.day} · ${t("month_to_date")} `
        + t("period_span").replace("{since}", overview.month_start).replace("{until}", overview.day),
      null, h("div", { class: "tiles" }, TILES.map((each) => tile(each, overview, scopes)))),
      section("trend", t("trend"), h("label", {}, t("figure"), " ", chosen), h("div", { class: "chart-box" }, canvas)),
      section("teams", t("teams_month"), exportButtons("team", overview),
        resultTable("team-table", "team", t("teams_month"),
          { ...tables, rows: overview.teams, trend: overview.team_trend })),
      section("agents", t("agents_month"), exportButtons("agent", overview),
        resultTable("agent-table", "agent", t("agents_month"),
          { ...tables, rows: overview.agents, trend: overview.agent_trend })));
    charts = later.map((drawing) => drawing());
  }

  async function load() {
    if (!day.value) return;
    const mine = ++loads;  // a later choice's answers win over an earlier one's
    const { monday, sunday } = weekOf(day.value);
    week.textContent = t("period_span").replace("{since}", monday).replace("{until}", sunday);
    const query = new URLSearchParams({ day: day.value, payment_days: paymentDays.value || PAYMENT_DAYS });
    const [found] = await Promise.all([
      api.get(`/reports/overview?${query}`), showPromisesDue(promiseBody, day.value, () => mine === loads),
    ]);
    if (mine !== loads) return;
    overview = found;
    draw();
  }

  function changed() {
    const custom = paymentDays.value && paymentDays.value !== PAYMENT_DAYS ? `?payment_days=${paymentDays.value}` : "";
    keepInAddress(`#/results/${day.value}${custom}`);
    load().catch(showError);
  }

  day.addEventListener("change", changed);
  paymentDays.addEventListener("change", changed);
  chosen.addEventListener("change", () => overview && draw());
  await load();
  return drop;
}
