// Today: the day under way at a glance. A timeline per team (planned stops by state, a now-line, late stops
// marked), the teams running late with the fix to apply, the requests still open today with who can take each
// and why not, a team stood down, and the in-day re-plan one click away.

import { api, allPages, serverNow } from "./api.js";
import { fill, h, showError, toast } from "./dom.js";
import { clock, km, localDate, t } from "./i18n.js";

const MINUTE = 60000;

/** Where an instant falls between the day's first departure and last return, in percent. */
function place(instant, from, to) {
  return Math.max(0, Math.min(100, (100 * (Date.parse(instant) - from)) / (to - from)));
}

/** The element placed along the bar (CSSOM: the page's policy allows no inline style attribute). */
function at(element, left, width) {
  element.style.left = `${left}%`;
  if (width !== undefined) element.style.width = `${width}%`;
  return element;
}

function timeline(sheet, team, from, to, now, onStandDown) {
  const bar = h("div", { class: "timeline-bar" });
  for (const stop of sheet.stops) {
    const late = stop.state === "planned" && Date.parse(stop.starts_at) < now;
    const left = place(stop.starts_at, from, to);
    const width = Math.max(0.6, place(stop.departs_at, from, to) - left);
    bar.append(at(h("span", {
      class: `stop-block state-${stop.state}${late ? " late" : ""}`,
      title: `${stop.position}. ${stop.case.debtor_name} · ${clock(stop.starts_at)} · ${t(`state.${stop.state}`)}`
        + (late ? ` · ${t("late")}` : ""),
      text: String(stop.position),
    }), left, width));
  }
  bar.append(at(h("span", { class: "now-line" }), place(new Date(now).toISOString(), from, to)));
  const late = sheet.stops.filter((stop) => stop.state === "planned" && Date.parse(stop.starts_at) < now).length;
  const reason = h("input", { name: "stand_down_reason", placeholder: t("stand_down_reason"), class: "narrow-wide" });
  const standDown = h("form", {
    class: "inline stand-down",
    onsubmit: (event) => {
      event.preventDefault();
      onStandDown(sheet, reason.value);
    },
  }, reason, h("button", { type: "submit", class: "small danger", text: t("stand_down") }));
  const down = team?.stood_down_at;
  return h("li", { class: `timeline-row${down ? " stood-down" : ""}`, dataset: { team: sheet.team_id } },
    h("div", { class: "timeline-label" },
      h("strong", { text: sheet.team_name }),
      h("span", { class: late ? "error" : "muted", text: late ? ` ${t("late")} ${late}` : "" }),
      down ? h("span", { class: "error stood-down-since", text: `${t("stood_down")} ${clock(down)}` }) : standDown),
    bar);
}

function lateLine(late) {
  const moves = late.proposal.map((move) =>
    move.to_team_name ? `→ ${move.to_team_name}` : t("no_team_can_take"));
  return `${late.team_name}: ${t("will_miss").replace("{count}", late.missed).replace("{after}", clock(late.after))}`
    + ` ${moves.join("、")}`;
}

function optionLine(option) {
  if (!option.possible) return `${option.team_name}: ${t(`refusal.${option.refusal}`)} (${option.refusal})`;
  return `${option.team_name}: ${t("arrives")} ${clock(option.starts_at)} · +${km(option.added_m)}`
    + ` · +${Math.round(option.added_s / 60)} ${t("min")}`;
}

export async function todayView(view, { date: asked }) {
  const workDate = asked ?? localDate(0);
  const rows = h("ul", { class: "timeline", id: "timeline" });
  const lateList = h("ul", { class: "late-list", id: "late-teams" });
  const open = h("ul", { class: "open-requests", id: "open-requests" });
  const replan = h("button", {
    type: "button", id: "replan-today", class: "primary", text: t("in_day_replan"),
    onclick: async () => {
      try {
        await api.post("/planning-runs", { work_date: workDate });
        location.hash = `#/planning/${workDate}`;
      } catch (error) {
        showError(error);
      }
    },
  });
  fill(view, h("div", { class: "today" },
    h("div", { class: "toolbar" }, h("strong", { text: `${t("today")} ${workDate}` }), replan),
    h("h3", { text: t("timeline") }), rows,
    h("h3", { text: t("late_teams") }), lateList,
    h("h3", { text: t("open_requests") }), open));

  async function standDown(sheet, reason) {
    try {
      await api.post(`/teams/${sheet.team_id}/stand-down`, { reason });
      toast(`${sheet.team_name}: ${t("stood_down")}`);
      await load();
    } catch (error) {
      showError(error);
    }
  }

  async function whoCanTake(request, where) {
    try {
      const found = await api.get(`/visit-sheets/days/${workDate}/urgent-options?visit_request_id=${request.id}`);
      fill(where, found.options.map((option) => h("li", { class: option.possible ? "option" : "option muted" },
        optionLine(option),
        option.possible ? h("button", {
          type: "button", class: "small insert", text: t("insert"),
          onclick: async () => {
            try {
              await api.post(`/visit-sheets/days/${workDate}/urgent-insertions`,
                { visit_request_id: request.id, team_id: option.team_id });
              toast(`${option.team_name}: ${t("inserted")}`);
              await load();
            } catch (error) {
              showError(error);
            }
          },
        }) : null)));
    } catch (error) {
      fill(where, h("li", { class: "error", text: t(`refusal.${error.problem?.reason}`) }));
    }
  }

  async function load() {
    const [day, late, requests, teams] = await Promise.all([
      api.get(`/visit-sheets/days/${workDate}`),
      api.get(`/visit-sheets/days/${workDate}/late-teams`),
      allPages("/visit-requests", { date: workDate, status: "open" }),
      allPages("/teams", { work_date: workDate }),
    ]);
    const teamOf = new Map(teams.map((team) => [team.id, team]));
    const now = serverNow();
    const times = day.sheets.flatMap((sheet) => [Date.parse(sheet.leaves_at), Date.parse(sheet.returns_at)]);
    const from = Math.min(now - 30 * MINUTE, ...times);
    const to = Math.max(now + 30 * MINUTE, ...times);
    fill(rows, day.sheets.length ? day.sheets.map((sheet) => timeline(sheet, teamOf.get(sheet.team_id), from, to, now, standDown))
      : h("li", { class: "muted", text: t("no_sheets") }));
    fill(lateList, late.length ? late.map((team) => h("li", { class: "late-team", dataset: { team: team.team_id } },
      lateLine(team),
      h("button", {
        type: "button", class: "small apply-fix", text: t("apply_fix"),
        onclick: async () => {
          try {
            await api.post(`/visit-sheets/days/${workDate}/late-fixes`, { team_id: team.team_id });
            toast(t("published_ok"));
            await load();
          } catch (error) {
            showError(error);
          }
        },
      }))) : h("li", { class: "muted", text: t("no_late") }));
    fill(open, requests.length ? requests.map((request) => {
      const options = h("ul", { class: "options" });
      return h("li", { class: "open-request", dataset: { request: request.id } },
        `${request.debtor_name} · ${request.address_text} · P${request.priority}`
          + (request.window_start ? ` · ${request.window_start}–${request.window_end}` : ""),
        h("button", {
          type: "button", class: "small who-can-take", text: t("who_can_take"),
          onclick: () => whoCanTake(request, options),
        }),
        options);
    }) : h("li", { class: "muted", text: t("no_open_requests") }));
  }

  await load();
}
