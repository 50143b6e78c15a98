// Today: the day under way at a glance. A timeline per team (planned stops by state and, under them, when the team
// really was at each door; a now-line, late stops marked) whose not-started stops move to another team or place by dragging or from their move panel, the teams
// running late with the fix to apply, a map of the routes and of the requests still open today (priority, amount
// owed, window, skill), who can take each and why not, a team stood down, and the in-day re-plan one click away.

import { api, allPages, serverNow } from "./api.js";
import { drawSheets } from "./day.js";
import { facts, fill, h, showError, toast } from "./dom.js";
import { clock, localDate, money, t } from "./i18n.js";
import { L, disposeMap, makeMap, requestMarker } from "./map.js";
import { moveOptions, moveStop, movePanel, placeAt, showRefusal } from "./stopmove.js";
import { optionText, refusalText } from "./teamoptions.js";

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

/** A team's row: its stops along the day (a planned one can be dragged, or opened with a click or Enter to move
it), the now-line, how late it runs, and standing it down. */
function timeline(sheet, team, from, to, now, actual, { onStandDown, onDrag, onOpen }) {
  const bar = h("div", { class: "timeline-bar" });
  for (const stop of sheet.stops) {
    const visit = stop.visit_id ? actual.get(stop.visit_id) : null;
    if (visit) bar.append(actualBlock(stop, visit, from, to, now));
    const late = stop.state === "planned" && Date.parse(stop.starts_at) < now;
    const movable = stop.state === "planned" && !team?.stood_down_at;
    const left = place(stop.starts_at, from, to);
    const width = Math.max(0.6, place(stop.departs_at, from, to) - left);
    const label = `${stop.position}. ${stop.case.debtor_name} · ${clock(stop.starts_at)} · ${t(`state.${stop.state}`)}`
      + (late ? ` · ${t("late")}` : "");
    bar.append(at(h(movable ? "button" : "span", {
      class: `stop-block state-${stop.state}${late ? " late" : ""}${movable ? " movable" : ""}`,
      title: movable ? `${label} · ${t("drag_to_move")}` : label,
      text: String(stop.position),
      type: movable ? "button" : undefined,
      draggable: movable ? "true" : undefined,
      dataset: { request: stop.visit_request_id },
      ondragstart: movable ? (event) => onDrag(event, sheet, stop) : undefined,
      onclick: movable ? () => onOpen(sheet, stop) : undefined,
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
      down ? h("span", { class: "error stood-down-since", text: `${t("stood_down")} ${clock(down)}` }) : standDown,
      h("span", { class: "move-verdict" })),
    bar);
}

/** When the team was really at the stop, under its planned block: from the first check-in at the door to the
outcome (still open: to now). */
function actualBlock(stop, visit, from, to, now) {
  const arrived = Math.min(...visit.check_ins.map((check) => Date.parse(check.received_at)));
  const left = visit.on_site_s !== null ? arrived + visit.on_site_s * 1000 : now;
  const start = place(new Date(arrived).toISOString(), from, to);
  const width = Math.max(0.4, place(new Date(left).toISOString(), from, to) - start);
  return at(h("span", {
    class: `actual-block state-${stop.state}`,
    title: `${stop.position}. ${t("actual")} ${clock(arrived)}–${visit.on_site_s !== null ? clock(left) : ""}`
      + ` · ${t("planned_at")} ${clock(stop.starts_at)}–${clock(stop.departs_at)}`,
  }), start, width);
}

/** What a supervisor weighs before sending a team: priority, what is owed, when the debtor can be met, the skill
the visit needs. */
function requestFacts(request) {
  return facts([
    [t("debtor"), `${request.debtor_name} · ${request.case_reference}`],
    [t("address"), request.address_text],
    [t("purpose"), t(`purpose.${request.purpose}`)],
    [t("priority"), `P${request.priority}`],
    [t("amount_owed"), money(request.amount_owed, request.currency)],
    [t("window"), request.window_start ? `${request.window_start.slice(0, 5)}–${request.window_end.slice(0, 5)}`
      : t("any_time")],
    [t("skill"), request.required_skills.length
      ? request.required_skills.map((skill) => t(`skill.${skill}`)).join("、") : t("no_skill_needed")],
  ]);
}

function lateLine(late) {
  const moves = late.proposal.map((move) =>
    move.to_team_name ? `→ ${move.to_team_name}` : t("no_team_can_take"));
  return `${late.team_name}: ${t("will_miss").replace("{count}", late.missed).replace("{after}", clock(late.after))}`
    + ` ${moves.join("、")}`;
}

export async function todayView(view, { date: asked }) {
  const workDate = asked ?? localDate(0);
  const rows = h("ul", { class: "timeline", id: "timeline" });
  const moveBox = h("div", { id: "move-box" });
  const lateList = h("ul", { class: "late-list", id: "late-teams" });
  const open = h("ul", { class: "open-requests", id: "open-requests" });
  const mapBox = h("div", { class: "map today-map", id: "today-map" });
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
    h("h3", { text: t("timeline") }), h("p", { class: "muted hint", text: t("move_hint") }), rows, moveBox,
    h("h3", { text: t("late_teams") }), lateList,
    h("h3", { text: t("open_requests") }), mapBox, open));
  const map = makeMap(mapBox);
  const routes = L.layerGroup().addTo(map);
  const waiting = L.layerGroup().addTo(map);
  let day = null;
  let fitted = false;
  let dragged = null;  // the stop being dragged: its request id and the answer of where it could go

  async function standDown(sheet, reason) {
    try {
      await api.post(`/teams/${sheet.team_id}/stand-down`, { reason });
      toast(`${sheet.team_name}: ${t("stood_down")}`);
      await load();
    } catch (error) {
      showError(error);
    }
  }

  /** Move the stop and show the day as published; a refusal is shown where the user acted. */
  async function move(requestId, teamId, position) {
    try {
      await moveStop(workDate, requestId, teamId, position);
      toast(t("stop_moved"));
      fill(moveBox);
      await load();
    } catch (error) {
      refused(error);
    }
  }

  /** A refusal of a move, in words with its code, in the open move panel or on its own. */
  function refused(error) {
    if (!moveBox.querySelector(".move-refused")) fill(moveBox, h("p", { class: "error move-refused", role: "alert" }));
    if (!showRefusal(moveBox, error)) showError(error);
  }

  /** The move panel of a stop (keyboard and tablet): each team's answer, a button for the best place, a place. */
  async function openMove(sheet, stop) {
    try {
      const found = await moveOptions(workDate, stop.visit_request_id);
      fill(moveBox, movePanel(stop, found, (teamId, position) => move(stop.visit_request_id, teamId, position),
        () => fill(moveBox)));
      moveBox.querySelector("button.move-best, button")?.focus();
    } catch (error) {
      fill(moveBox);
      refused(error);
    }
  }

  /** Mark each team's row with whether it can take the stop being dragged, and why not. */
  function markRows(found) {
    const byTeam = new Map(found.options.map((option) => [option.team_id, option]));
    for (const row of rows.querySelectorAll("li.timeline-row")) {
      const option = byTeam.get(row.dataset.team);
      row.classList.toggle("can-take", Boolean(option?.possible));
      row.classList.toggle("cannot-take", !option?.possible);
      const verdict = row.querySelector(".move-verdict");
      if (verdict) {
        fill(verdict, option ? (option.possible ? `+${(option.added_m / 1000).toFixed(1)} ${t("km")}`
          : refusalText(option.refusal)) : t("stood_down"));
      }
    }
  }

  function clearMarks() {
    for (const row of rows.querySelectorAll("li.timeline-row")) {
      row.classList.remove("can-take", "cannot-take", "drop-here");
      const verdict = row.querySelector(".move-verdict");
      if (verdict) fill(verdict);
    }
  }

  function startDrag(event, sheet, stop) {
    event.dataTransfer.setData("text/plain", stop.visit_request_id);
    event.dataTransfer.effectAllowed = "move";
    const asked = { request: stop.visit_request_id, found: null };
    dragged = asked;
    moveOptions(workDate, stop.visit_request_id).then((found) => {
      if (dragged !== asked) return;
      asked.found = found;
      markRows(found);
    }).catch((error) => {
      fill(moveBox);
      refused(error);
    });
  }

  // a row takes a drop when the server said its team can take the stop (the server checks the place again)
  rows.addEventListener("dragover", (event) => {
    const row = event.target.closest?.("li.timeline-row");
    if (!row || !dragged || !row.classList.contains("can-take")) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    for (const other of rows.querySelectorAll("li.drop-here")) if (other !== row) other.classList.remove("drop-here");
    row.classList.add("drop-here");
  });
  rows.addEventListener("drop", (event) => {
    const row = event.target.closest?.("li.timeline-row");
    const sheet = day?.sheets.find((each) => each.team_id === row?.dataset.team);
    if (!row || !dragged || !sheet) return;
    event.preventDefault();
    const bar = row.querySelector(".timeline-bar").getBoundingClientRect();
    const share = Math.max(0, Math.min(1, (event.clientX - bar.left) / bar.width));
    const instant = day.from + share * (day.to - day.from);
    const request = dragged.request;
    dragged = null;
    clearMarks();
    move(request, sheet.team_id, placeAt(sheet, request, instant));
  });
  rows.addEventListener("dragend", () => {
    dragged = null;
    clearMarks();
  });

  async function whoCanTake(request, where) {
    try {
      const found = await api.get(`/visit-sheets/days/${workDate}/urgent-options?visit_request_id=${request.id}`);
      fill(where, found.options.map((option) => h("li", { class: option.possible ? "option" : "option muted" },
        optionText(option),
        option.possible ? h("button", {
          type: "button", class: "small insert", text: t("insert"),
          onclick: async () => {
            try {
              await api.post(`/visit-sheets/days/${workDate}/urgent-insertions`,
                { visit_request_id: request.id, team_id: option.team_id });
              toast(`${option.team_name}: ${t("inserted")}`);
              map.closePopup();
              await load();
            } catch (error) {
              showError(error);
            }
          },
        }) : null)));
    } catch (error) {
      const reason = error.problem?.reason;
      fill(where, h("li", { class: "error", text: reason ? refusalText(reason) : String(error.message) }));
    }
  }

  /** The open requests on the map, shaped apart from the teams' stops, each with its facts and who can take it. */
  function drawWaiting(requests) {
    waiting.clearLayers();
    for (const request of requests) {
      if (!request.address_point) continue;
      const marker = requestMarker([request.address_point.lat, request.address_point.lon], request.id,
        request.priority, request.required_skills.length > 0);
      marker.bindTooltip(h("span", { text: `P${request.priority} · ${request.debtor_name}` }));
      // the popup is built afresh each time it opens, so that it never shows an earlier answer
      marker.bindPopup(h("div"), { maxWidth: 380, maxHeight: 340 }).on("popupopen", ({ popup }) => {
        const options = h("ul", { class: "options" });
        popup.setContent(h("div", { class: "request-details", dataset: { request: request.id } },
          requestFacts(request),
          h("button", {
            type: "button", class: "small who-can-take", text: t("who_can_take"),
            // the answers lengthen the popup: lay it out again, panning the map so that it shows whole
            onclick: () => whoCanTake(request, options).then(() => popup.update()),
          }),
          options));
      });
      marker.addTo(waiting);
    }
  }

  async function load() {
    const [found, late, requests, teams, visits] = await Promise.all([
      api.get(`/visit-sheets/days/${workDate}`),
      api.get(`/visit-sheets/days/${workDate}/late-teams`),
      allPages("/visit-requests", { date: workDate, status: "open" }),
      allPages("/teams", { work_date: workDate }),
      allPages("/visits", { work_date: workDate }),
    ]);
    const teamOf = new Map(teams.map((team) => [team.id, team]));
    const actual = new Map(visits.filter((visit) => visit.check_ins.length).map((visit) => [visit.id, visit]));
    const now = serverNow();
    const times = found.sheets.flatMap((sheet) => [Date.parse(sheet.leaves_at), Date.parse(sheet.returns_at)]);
    const from = Math.min(now - 30 * MINUTE, ...times);
    const to = Math.max(now + 30 * MINUTE, ...times);
    day = { ...found, from, to };
    const actions = { onStandDown: standDown, onDrag: startDrag, onOpen: openMove };
    fill(rows, found.sheets.length
      ? found.sheets.map((sheet) => timeline(sheet, teamOf.get(sheet.team_id), from, to, now, actual, actions))
      : h("li", { class: "muted", text: t("no_sheets") }));
    drawSheets(map, routes, found, { fit: !fitted });
    fitted ||= found.sheets.length > 0;
    drawWaiting(requests);
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
      const skill = request.required_skills.map((each) => t(`skill.${each}`)).join("、");
      return h("li", { class: "open-request", dataset: { request: request.id } },
        `${request.debtor_name} · ${request.address_text} · P${request.priority}`
          + ` · ${money(request.amount_owed, request.currency)}`
          + (request.window_start ? ` · ${request.window_start.slice(0, 5)}–${request.window_end.slice(0, 5)}` : "")
          + (skill ? ` · ${skill}` : ""),
        h("button", {
          type: "button", class: "small who-can-take", text: t("who_can_take"),
          onclick: () => whoCanTake(request, options),
        }),
        options);
    }) : h("li", { class: "muted", text: t("no_open_requests") }));
  }

  await load();
  return () => disposeMap(map);
}
