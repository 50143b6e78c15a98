// The day map: every team's current published route in its own colour, stops numbered and coloured by state,
// the check-ins, the office; a side list per team. It polls the day with its ETag (a 304 when nothing moved):
// the teams' changes arrive as ordinary API writes, so a poll every `day_poll_s` costs one small answer, works
// through any proxy and holds no connection (server-sent events would hold one thread of the sync server each).

import { api, allPages } from "./api.js";
import { facts, fill, h, keepInAddress } from "./dom.js";
import { clock, km, localDate, t } from "./i18n.js";
import { L, STATE_COLOURS, TEAM_COLOURS, dot, makeMap, routeLine, stateLegend, stopMarker, disposeMap } from "./map.js";

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
export function stopDetails(sheet, stop) {
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
  let etag = null;
  let timer = null;
  let left = false;  // the user moved on: answers still on their way draw nothing

  function onStop(sheet, stop, marker) {
    marker.bindPopup(stopDetails(sheet, stop), { maxWidth: 360 }).openPopup();
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
      const shown = await response.json();
      if (left) return;
      const teams = drawSheets(map, routes, shown, { onStop, fit });
      fill(list, teams.map(({ sheet, colour }) =>
        teamCard(sheet, colour, () => {
          if (sheet.route) map.fitBounds(L.geoJSON(sheet.route).getBounds().pad(0.1));
        })));
      status.textContent = shown.sheets.length ? "" : t("no_sheets");
      drawCheckIns(workDate).catch(() => undefined);
    }
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
