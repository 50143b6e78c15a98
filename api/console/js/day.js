// The day map: every team's current published route in its own colour, stops numbered and coloured by state,
// the check-ins, the office; a side list per team. It polls the day with its ETag (a 304 when nothing moved):
// the teams' changes arrive as ordinary API writes, so a poll every `day_poll_s` costs one small answer, works
// through any proxy and holds no connection (server-sent events would hold one thread of the sync server each).
// For supervisors each poll also reads the day's tracks (the agents' paths and last positions, the visits' presence
// scores): every read is audited, so it is read at the same pace, and only while the map is shown.

import { api, allPages } from "./api.js";
import { facts, fill, h, keepInAddress } from "./dom.js";
import { clock, km, localDate, t } from "./i18n.js";
import {
  L, STATE_COLOURS, TEAM_COLOURS, agentMarker, dot, makeMap, routeLine, stateLegend, stopBadge, stopMarker, trackLine,
  disposeMap,
} from "./map.js";

const UNTRACKED = "#616161";  // a team with tracks but no sheet shown on the day

/** Draw a day of sheets on `map` in `layer`; returns the team rows for the side list. */
export function drawSheets(map, layer, day, { onStop, fit = true } = {}) {
  layer.clearLayers();
  const bounds = L.latLngBounds([]);
  if (day.office) {
    const office = [day.office.lat, day.office.lon];
    dot(office, "#000", "fv-office", 8).bindTooltip(h("span", { text: t("office") })).addTo(layer);
    bounds.extend(office);
  }
  day.sheets.forEach((sheet, index) => {
    const colour = TEAM_COLOURS[index % TEAM_COLOURS.length];
    if (sheet.route) {
      const line = routeLine(sheet.route, colour).addTo(layer);
      line.bindTooltip(h("span", { text: sheet.team_name }), { sticky: true });
      bounds.extend(line.getBounds());
    }
    for (const stop of sheet.stops) {
      if (!stop.address.point) continue;
      const marker = stopMarker([stop.address.point.lat, stop.address.point.lon], stop.position, stop.state, colour);
      marker.on("click", () => onStop?.(sheet, stop, marker));
      marker.addTo(layer);
    }
  });
  if (fit && bounds.isValid()) map.fitBounds(bounds.pad(0.05), { animate: false, maxZoom: 15 });
  performance.mark("fv:routes-drawn");
  return day.sheets.map((sheet, index) => ({ sheet, colour: TEAM_COLOURS[index % TEAM_COLOURS.length] }));
}

/** One team's line of the side list. */
export function teamCard(sheet, colour, onClick) {
  const states = {};
  for (const stop of sheet.stops) states[stop.state] = (states[stop.state] || 0) + 1;
  const swatch = h("span", { class: "swatch" });
  swatch.style.background = colour;
  return h(
    "li",
    { class: "team-card", dataset: { team: sheet.team_id }, onclick: onClick },
    h("div", { class: "team-name" }, swatch, h("strong", { text: sheet.team_name }),
      sheet.version ? h("span", { class: "muted", text: ` v${sheet.version}` }) : null),
    h("div", { class: "muted", text: sheet.members.map((member) => member.full_name).join(" · ") }),
    h("div", {},
      `${sheet.stops.length} ${t("stops")} · ${km(sheet.distance_m)} · ${t("leaves")} ${clock(sheet.leaves_at)} · `
        + `${t("returns")} ${clock(sheet.returns_at)}`),
    h("div", { class: "states" }, Object.entries(states).map(([state, count]) => {
      const chip = h("span", { class: `chip fv-chip-${state}`, text: `${t(`state.${state}`)} ${count}` });
      chip.style.background = STATE_COLOURS[state];
      return chip;
    })),
  );
}

/** The popup of a stop: the case, purpose, window, care flags, and its visit and outcome when there is one. */
export function stopDetails(sheet, stop, presence) {
  const flags = stop.care_flags.map((flag) => h("span", { class: "chip care", text: t(`flag.${flag}`) }));
  const box = h("div", { class: "stop-details" },
    h("strong", { text: `${sheet.team_name} #${stop.position} · ${t(`state.${stop.state}`)}` }),
    facts([
      [t("case"), `${stop.case.reference} · ${stop.case.debtor_name}`],
      [t("address"), stop.address.raw_text],
      [t("purpose"), t(`purpose.${stop.purpose}`)],
      [t("window"), `${clock(stop.starts_at)}–${clock(stop.departs_at)}`],
      [t("flags"), flags.length ? h("span", {}, flags) : ""],
      [t("reason"), stop.cancel_reason || ""],
      [t("blocked"), stop.blocked
        ? `${t(`eligibility.${stop.blocked.flag}`)} (${stop.blocked.flag}) · ${stop.blocked.rule_label}` : ""],
      [t("presence"), presence ? presenceText(presence) : ""],
    ]),
  );
  if (stop.visit_id) {
    const outcome = h("div", { class: "muted", text: "…" });
    box.append(outcome, h("a", { href: `#/visits/${stop.visit_id}`, text: t("open_visit") }));
    api.get(`/visits/${stop.visit_id}`).then((visit) => {
      const last = visit.outcomes.at(-1);
      fill(outcome, `${t("visit")}: ${t(`visit.${visit.status}`)}`,
        last ? ` · ${t("outcome")}: ${last.details.contact_result}` : "");
    }).catch(() => fill(outcome, ""));
  }
  return box;
}

/** "presence 82" (and "doubtful" under the branch's threshold), as a stop's badge and popup say it. */
export function presenceText(presence) {
  return `${t("presence")} ${presence.score}${presence.doubtful ? ` · ${t("doubtful")}` : ""}`;
}

/** When a fix was taken by the server's clock: the phone's clock less how far it was off. */
function fixTime(fix) {
  return Date.parse(fix.at) - fix.clock_skew_s * 1000;
}

/** An agent's line under its team: when it was last seen, a warning when that is longer ago than the branch allows
a team out of contact (measured on the server's clock, as of the answer). */
function seenLine(name, last, asOf, staleAfterMs) {
  if (!last) return h("li", { class: "seen seen-none", text: `${name} · ${t("no_position")}` });
  const at = fixTime(last);
  const ago = Math.max(0, Math.round((asOf - at) / 60000));
  const stale = asOf - at > staleAfterMs;
  return h("li", {
    class: `seen ${stale ? "seen-stale" : "seen-fresh"}`,
    dataset: { stale: String(stale) },
    text: `${name} · ${t("last_seen")} ${clock(at)}${stale ? ` · ${ago} ${t("minutes_ago")}` : ""}`,
  });
}

export async function dayView(view, { context, date: workDate }) {
  const date = h("input", { type: "date", value: workDate ?? localDate(0), name: "work_date" });
  const list = h("ul", { class: "team-list", id: "team-list" });
  const status = h("p", { class: "muted", id: "day-status" });
  const mapBox = h("div", { class: "map", id: "day-map" });
  fill(view, h("div", { class: "split" },
    h("aside", { class: "side" }, h("label", {}, t("date"), " ", date), status, list),
    mapBox));
  const map = makeMap(mapBox);
  stateLegend((state) => t(`state.${state}`)).addTo(map);
  const routes = L.layerGroup().addTo(map);
  const checkIns = L.layerGroup().addTo(map);
  const tracks = L.layerGroup().addTo(map);
  const supervisor = context.user.role === "supervisor";  // the tracks are the branch supervisors' alone
  const staleAfterMs = (context.branch?.out_of_contact_min ?? 15) * 60000;
  let shown = null;  // the day's sheets as last drawn (a 304 keeps them)
  let colours = new Map();  // team id -> its colour on the map
  let presence = new Map();  // visit request id -> its latest presence score
  let etag = null;
  let timer = null;
  let left = false;  // the user moved on: answers still on their way draw nothing

  function onStop(sheet, stop, marker) {
    marker.bindPopup(stopDetails(sheet, stop, presence.get(stop.visit_request_id)), { maxWidth: 360 }).openPopup();
  }

  /** The agents' paths and last positions, their lines in the team list, the stops' presence badges. */
  function drawTracks(day) {
    tracks.clearLayers();
    const asOf = Date.parse(day.as_of);
    const seen = new Map();
    for (const team of day.teams) {
      const colour = colours.get(team.team_id) ?? UNTRACKED;
      for (const agent of team.agents) {
        seen.set(agent.agent_id, agent);
        if (agent.path.length > 1) {
          trackLine(agent.path, colour).bindTooltip(h("span", { text: `${agent.full_name} · ${team.team_name}` }),
            { sticky: true }).addTo(tracks);
        }
        if (agent.last) {
          const last = agent.last;
          agentMarker([last.lat, last.lon], colour, asOf - fixTime(last) > staleAfterMs)
            .bindTooltip(h("span", {
              text: `${agent.full_name} · ${clock(fixTime(last))} · ±${Math.round(last.accuracy_m)} m`
                + `${last.mock ? ` · ${t("mock")}` : ""}`,
            }))
            .addTo(tracks);
        }
      }
    }
    presence = new Map(day.presence.map((entry) => [entry.visit_request_id, entry]));
    for (const sheet of shown?.sheets ?? []) {
      const lines = list.querySelector(`ul.seen-list[data-team="${sheet.team_id}"]`);
      if (lines) {
        fill(lines, sheet.members.map((member) =>
          seenLine(member.full_name, seen.get(member.agent_id)?.last ?? null, asOf, staleAfterMs)));
      }
      for (const stop of sheet.stops) {
        const entry = presence.get(stop.visit_request_id);
        if (!entry || !stop.address.point) continue;
        const badge = stopBadge([stop.address.point.lat, stop.address.point.lon], `${t("presence")} ${entry.score}`,
          entry.doubtful ? "fv-presence fv-presence-doubtful" : "fv-presence");
        badge.bindTooltip(h("span", {
          text: [presenceText(entry), ...entry.flagged.map((name) => t(`signal.${name}`))].join(" · "),
        }));
        badge.on("click", () => onStop(sheet, stop, badge));
        badge.addTo(tracks);
      }
    }
    performance.mark("fv:tracks-drawn");
  }

  async function loadTracks(workDate) {
    if (!supervisor) return;
    const day = await api.get(`/visit-sheets/days/${workDate}/tracks`);
    if (left || workDate !== date.value) return;
    drawTracks(day);
    list.dataset.tracked = day.as_of;
  }

  async function drawCheckIns(workDate) {
    if (!["supervisor", "admin"].includes(context.user.role)) return;
    const visits = await allPages("/visits", { work_date: workDate });
    if (left) return;
    checkIns.clearLayers();
    for (const visit of visits) {
      for (const checkIn of visit.check_ins) {
        dot([checkIn.lat, checkIn.lon], "#ffeb3b", "fv-check-in", 4)
          .bindTooltip(h("span", { text: `${t("check_ins")} ${clock(checkIn.received_at)} · ${Math.round(checkIn.distance_m)} m` }))
          .addTo(checkIns);
      }
    }
  }

  async function load({ fit }) {
    const workDate = date.value;
    const response = await api.raw(`/visit-sheets/days/${workDate}`, {
      headers: etag ? { "If-None-Match": etag } : {},
    });
    if (left || workDate !== date.value) return;  // the date changed meanwhile: that load shows its own day
    if (response.status !== 304) {
      etag = response.headers.get("ETag");
      const day = await response.json();
      if (left) return;
      shown = day;
      const teams = drawSheets(map, routes, day, { onStop, fit });
      colours = new Map(teams.map(({ sheet, colour }) => [sheet.team_id, colour]));
      fill(list, teams.map(({ sheet, colour }) => {
        const card = teamCard(sheet, colour, () => {
          if (sheet.route) map.fitBounds(L.geoJSON(sheet.route).getBounds().pad(0.1));
        });
        if (supervisor) card.append(h("ul", { class: "seen-list", dataset: { team: sheet.team_id } }));
        return card;
      }));
      status.textContent = day.sheets.length ? "" : t("no_sheets");
      drawCheckIns(workDate).catch(() => undefined);
    }
    await loadTracks(workDate).catch(() => undefined);  // the sheets stay shown if the tracks cannot be read
    status.dataset.updated = new Date().toISOString();
  }

  function schedule() {
    timer = setTimeout(async () => {
      await load({ fit: false }).catch(() => undefined);
      if (!left) schedule();
    }, context.config.day_poll_s * 1000);
  }

  date.addEventListener("change", () => {
    etag = null;
    tracks.clearLayers();  // another day's tracks are not this one's
    presence = new Map();
    keepInAddress(`#/day/${date.value}`);
    load({ fit: true });
  });
  await load({ fit: true });
  schedule();
  return () => {
    left = true;
    clearTimeout(timer);
    disposeMap(map);
  };
}
