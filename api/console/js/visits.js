// Visit review: the day's visits with filters, and one visit whole: check-ins, the address and each photo's
// position on a small map, the outcome and its amendments, cash approvals, the photos and the recording
// (played and sought in the page: the service worker sends the token, the server answers the Range with 206).

import { api, allPages } from "./api.js";
import { append, facts, fill, h, keepInAddress, showError, toast } from "./dom.js";
import { clock, localDate, moment, money, t } from "./i18n.js";
import { L, dot, makeMap, disposeMap } from "./map.js";

const MANAGERS = ["supervisor", "admin"];
const FLAGS = ["complaint_history", "elderly_resident", "override", "awaiting"];

/** The flags a visit shows in the list. */
function flagsOf(visit) {
  const flags = [...visit.care_flags];
  if (visit.override_reason || visit.hours_override_reason) flags.push("override");
  if (["reported", "amendment_reported"].includes(visit.status)) flags.push("awaiting");
  return flags;
}

export async function visitsView(view, { date: workDate }) {
  const date = h("input", { type: "date", name: "work_date", value: workDate ?? localDate(0) });
  const team = h("select", { name: "team_id" }, h("option", { value: "", text: t("all") }));
  const status = h("select", { name: "status" }, h("option", { value: "", text: t("all") }),
    ["checking_in", "in_progress", "reported", "completed", "amendment_reported"].map((value) =>
      h("option", { value, text: t(`visit.${value}`) })));
  const flag = h("select", { name: "flag" }, h("option", { value: "", text: t("all") }),
    FLAGS.map((value) => h("option", { value, text: t(`flag.${value}`) })));
  const count = h("span", { class: "muted", id: "visit-count" });
  const body = h("tbody");
  fill(view, h("section", { class: "page" },
    h("div", { class: "toolbar" }, h("label", {}, t("date"), " ", date), h("label", {}, t("team"), " ", team),
      h("label", {}, t("status"), " ", status), h("label", {}, t("flags"), " ", flag), count),
    h("table", { class: "visits", id: "visit-table" },
      h("thead", {}, h("tr", {}, [t("team"), "#", t("debtor"), t("address"), t("status"), t("started"),
        t("completed"), t("flags")].map((label) => h("th", { text: label })))),
      body)));
  let visits = [];

  function render() {
    const rows = visits.filter((visit) => (!team.value || visit.team_id === team.value)
      && (!status.value || visit.status === status.value)
      && (!flag.value || flagsOf(visit).includes(flag.value)));
    count.textContent = `${rows.length} / ${visits.length}`;
    if (rows.length && !performance.getEntriesByName("fv:visits-first").length) performance.mark("fv:visits-first");
    fill(body, rows.length ? rows.map((visit) =>
      h("tr", { dataset: { visit: visit.id } },
        h("td", { text: visit.team_name }),
        h("td", { text: visit.position ?? "" }),
        h("td", {}, h("a", { href: `#/visits/${visit.id}`, text: visit.debtor_name })),
        h("td", { text: visit.address_text }),
        h("td", { text: t(`visit.${visit.status}`) }),
        h("td", { text: clock(visit.started_at) }),
        h("td", { text: clock(visit.completed_at) }),
        h("td", {}, flagsOf(visit).map((name) => h("span", { class: "chip care", text: t(`flag.${name}`) })))))
      : h("tr", {}, h("td", { colspan: 8, class: "empty", text: t("no_visits") })));
  }

  /** Rows show as each page arrives; the team filter offers the teams seen. */
  async function load() {
    const workDate = date.value;
    const current = () => workDate === date.value;  // a later date's load shows its own day
    const show = (items) => {
      if (!current()) return;
      visits = items;
      const teams = new Map(items.map((visit) => [visit.team_id, visit.team_name]));
      const chosen = team.value;
      fill(team, h("option", { value: "", text: t("all") }),
        [...teams].sort((a, b) => a[1].localeCompare(b[1])).map(([id, name]) => h("option", { value: id, text: name })));
      team.value = teams.has(chosen) ? chosen : "";
      render();
    };
    show([]);
    show(await allPages("/visits", { work_date: workDate }, (items) => show([...items])));
  }

  for (const control of [team, status, flag]) control.addEventListener("change", render);
  date.addEventListener("change", () => {
    keepInAddress(`#/visits/${date.value}`);
    load().catch(showError);
  });
  await load();
}

/** Thumbnails of a visit's photos; a click shows the original. */
export function photoStrip(evidence) {
  return evidence.filter((item) => item.kind === "photo" && item.status === "accepted").map((item) =>
    h("figure", { class: "photo", dataset: { evidence: item.id } },
      h("img", {
        src: `/evidence/${item.id}/content?thumbnail=true`, alt: item.purpose, loading: "lazy",
        onclick: () => openPhoto(item),
      }),
      h("figcaption", { text: `${item.purpose}${item.flags.length ? ` · ${item.flags.join(", ")}` : ""}` })));
}

function openPhoto(item) {
  const overlay = h("div", { class: "overlay", id: "photo-overlay", onclick: () => overlay.remove() },
    h("img", { src: `/evidence/${item.id}/content`, alt: item.purpose, class: "original" }),
    h("p", { text: `${item.purpose} · ${item.width}×${item.height} · ${moment(item.taken_at)}` }));
  document.body.append(overlay);
}

/** A measured value in its unit: a share as a percentage, a count as a number, metres, seconds and km/h whole. */
function measured(value, unit) {
  if (value === null || value === undefined) return "–";
  if (unit === "share") return `${Math.round(value * 100)} %`;
  if (unit === "count") return String(Math.round(value));
  return `${Math.round(value)} ${unit}`;
}

/** The visit's presence assessments (at its start, at its completion), each with the signals behind its score;
the signals that say fraud on their own stand out. */
function presenceSection(assessments) {
  return h("section", { class: "presence", id: "presence" },
    h("h3", { text: t("presence_review") }),
    assessments.length ? assessments.map((assessment) =>
      h("div", { class: `assessment${assessment.doubtful ? " doubtful" : ""}`, dataset: { stage: assessment.stage } },
        h("h4", {},
          `${t(`presence.${assessment.stage}`)} · ${t("score")} ${assessment.score}`, " ",
          h("span", {
            class: `chip ${assessment.doubtful ? "presence-doubtful" : "presence-ok"}`,
            text: assessment.doubtful ? t("doubtful") : t("plausible"),
          }),
          h("span", { class: "muted", text: ` · ${moment(assessment.computed_at)}` })),
        h("table", { class: "signals" },
          h("thead", {}, h("tr", {}, [t("signal"), t("value"), t("weight"), t("score"), t("flagged"), t("detail")]
            .map((label) => h("th", { text: label })))),
          h("tbody", {}, assessment.signals.map((signal) =>
            h("tr", { class: signal.flagged ? "flagged" : "", dataset: { signal: signal.name } },
              h("td", { text: t(`signal.${signal.name}`) }),
              h("td", { class: "number", text: measured(signal.value, signal.unit) }),
              h("td", { class: "number", text: signal.weight ? signal.weight.toFixed(2) : "–" }),
              h("td", { class: "number", text: signal.score.toFixed(2) }),
              h("td", { text: signal.flagged ? `⚠ ${t("flagged")}` : "" }),
              h("td", { class: "detail", text: signal.detail })))))))
      : h("p", { class: "muted", text: t("no_presence") }));
}

/** An outcome's structured details as nested lists (every value as text). */
function details(value) {
  if (Array.isArray(value)) return h("ol", {}, value.map((item) => h("li", {}, details(item))));
  if (value && typeof value === "object") {
    return h("dl", { class: "facts" }, Object.entries(value)
      .filter(([key, inner]) => key !== "client_id" && inner !== "" && inner !== null && inner !== false
        && !(Array.isArray(inner) && inner.length === 0))
      .map(([key, inner]) => [h("dt", { text: key }), h("dd", {}, details(inner))]));
  }
  return String(value);
}

export async function visitView(view, { id, context }) {
  const [visit, evidence, approvals] = await Promise.all([
    api.get(`/visits/${id}`), api.get(`/visits/${id}/evidence`), api.get(`/visits/${id}/cash-approvals`),
  ]);
  const [request, team, kase] = await Promise.all([
    api.get(`/visit-requests/${visit.visit_request_id}`),
    api.get(`/teams/${visit.team_id}`).catch(() => null),
    api.get(`/cases/${visit.case_id}`),
  ]);
  const names = new Map((team?.members ?? []).map((member) => [member.agent_id, member.full_name]));
  const manager = MANAGERS.includes(context.user.role);
  const mapBox = h("div", { class: "map small-map", id: "visit-map" });
  const recordings = evidence.filter((item) => item.kind === "recording" && item.status === "accepted");
  const outcomes = visit.outcomes;
  const actions = h("div", { class: "visit-actions" },
    h("h3", { text: t("cash") }),
    h("ul", { class: "approvals", id: "cash-approvals" }, approvals.map((row) =>
      h("li", { text: `${t("approved")} ${row.kind === "item" ? row.item_description : money(row.max_amount, kase.currency)} · ${row.reason} · ${moment(row.created_at)}` }))));
  const page = h("section", { class: "page visit", id: "visit-detail", dataset: { status: visit.status } },
    h("a", { href: "#/visits", text: `← ${t("back")}` }),
    h("h2", { text: `${kase.debtor_name} · ${kase.reference}` }),
    h("div", { class: "visit-grid" },
      h("div", {},
        facts([
          [t("status"), t(`visit.${visit.status}`)], [t("address"), request.address_text],
          [t("purpose"), t(`purpose.${request.purpose}`)], [t("team"), visit.team_name],
          [t("started"), moment(visit.started_at)], [t("completed"), moment(visit.completed_at)],
          [t("care"), visit.care_flags.map((flag) => t(`flag.${flag}`)).join(" · ")],
          [t("override"), visit.override_reason], ["hours", visit.hours_override_reason],
          ["debtor's consent", visit.hours_override_consent],
        ]),
        mapBox,
        h("h3", { text: t("check_ins") }),
        h("ul", { class: "check-ins" }, visit.check_ins.map((checkIn) => h("li", {
          text: `${names.get(checkIn.agent_id) ?? checkIn.agent_id} · ${clock(checkIn.received_at)} · `
            + `${t("distance_to_address")} ${Math.round(checkIn.distance_m)} m · ${t("accuracy")} ${Math.round(checkIn.accuracy_m)} m`,
        }))),
        manager ? presenceSection(visit.presence ?? []) : null,
        actions),
      h("div", {},
        h("h3", { text: t("evidence") }),
        recordings.map((item) => h("div", { class: "recording", dataset: { evidence: item.id } },
          h("span", { text: `${t("recording")} · ${Math.round(item.duration_s ?? 0)} s · ${item.codec}` }),
          h("audio", { controls: true, preload: "metadata", src: `/evidence/${item.id}/content`, id: `audio-${item.id}` }))),
        h("div", { class: "photos" }, photoStrip(evidence)),
        h("h3", { text: t("outcome") }),
        outcomes.length ? outcomes.map((outcome) => h("div", { class: "outcome", dataset: { sequence: outcome.sequence } },
          h("h4", { text: `${outcome.sequence > 1 ? t("amendments") : t("outcome")} #${outcome.sequence}` }),
          h("p", { class: "muted", text: `${t("submitted")}: ${names.get(outcome.submitted_by_id) ?? ""} ${moment(outcome.submitted_at)}`
            + ` · ${t("confirmed_by")}: ${names.get(outcome.confirmed_by_id) ?? "–"} ${moment(outcome.confirmed_at)}` }),
          details(outcome.details))) : h("p", { class: "muted", text: "–" }))),
  );
  if (manager && !["completed", "amendment_reported"].includes(visit.status)) {
    const amount = h("input", { name: "max_amount", inputmode: "decimal", placeholder: t("max_amount"), class: "narrow" });
    const reason = h("input", { name: "reason", placeholder: t("reason"), minlength: 5, maxlength: 1000 });
    append(actions, [h("form", {
      class: "inline", id: "cash-form",
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          await api.post(`/visits/${id}/cash-approvals`, { max_amount: amount.value, reason: reason.value });
          toast(t("approved"));
          window.dispatchEvent(new HashChangeEvent("hashchange"));  // shown again, as the API now has it
        } catch (error) {
          showError(error);
        }
      },
    }, amount, reason, h("button", { type: "submit", text: t("approve_cash") }))]);
  }
  if (manager && visit.status === "checking_in") {
    const reason = h("input", { name: "override_reason", placeholder: t("override_reason"), minlength: 10, maxlength: 1000 });
    append(actions, [h("h3", { text: t("start_override") }), h("form", {
      class: "inline", id: "override-form",
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          await api.post(`/visits/${id}/start`, { override_reason: reason.value });
          window.dispatchEvent(new HashChangeEvent("hashchange"));  // shown again, as the API now has it
        } catch (error) {
          showError(error);
        }
      },
    }, reason, h("button", { type: "submit", text: t("start_override") }))]);
  }
  fill(view, page);
  const point = request.address_point;
  const map = makeMap(mapBox, point ? [point.lat, point.lon] : undefined, 16);
  const layer = L.featureGroup().addTo(map);
  if (point) dot([point.lat, point.lon], "#000", "fv-address", 8).bindTooltip(h("span", { text: t("address") })).addTo(layer);
  for (const checkIn of visit.check_ins) {
    dot([checkIn.lat, checkIn.lon], "#ffeb3b", "fv-check-in", 6)
      .bindTooltip(h("span", { text: `${t("check_ins")}: ${names.get(checkIn.agent_id) ?? ""}` })).addTo(layer);
  }
  for (const item of evidence.filter((row) => row.lat !== null && row.lon !== null)) {
    dot([item.lat, item.lon], "#42a5f5", "fv-photo-position", 5)
      .bindTooltip(h("span", { text: `${t("exif")}: ${item.purpose} · ${Math.round(item.distance_m ?? 0)} m` })).addTo(layer);
  }
  if (layer.getLayers().length > 1) map.fitBounds(layer.getBounds().pad(0.3), { maxZoom: 18, animate: false });
  return () => disposeMap(map);
}
