// The address queue: pending reports (from agents, the evening pre-check, outcomes) with their reason and why the
// address's geocoding failed, the address on a map and the visit's photos; confirm or reject with a reason; drag a
// wrong point and save it. Below, the system's reports that resolved themselves (a later pass placed the address).

import { api, allPages } from "./api.js";
import { facts, fill, h, showError, toast } from "./dom.js";
import { moment, t } from "./i18n.js";
import { L, dot, makeMap, disposeMap } from "./map.js";
import { photoStrip } from "./visits.js";

export async function addressesView(view, { context }) {
  const list = h("ul", { class: "report-list", id: "report-list" });
  const resolvedList = h("ul", { class: "report-list", id: "resolved-list" });
  const detail = h("section", { class: "report-detail", id: "report-detail" });
  const mapBox = h("div", { class: "map small-map", id: "address-map" });
  fill(view, h("div", { class: "split" },
    h("aside", { class: "side" }, h("h3", { text: t("reports") }), list,
      h("h3", { text: t("resolved_by_system") }), resolvedList),
    h("div", { class: "main-column" }, mapBox, detail)));
  const office = context.branch?.office;
  const map = makeMap(mapBox, office ? [office.lat, office.lon] : undefined, 13);
  const layer = L.layerGroup().addTo(map);
  let reports = [];
  let picked = null;  // the report the supervisor clicked, perhaps while the list was still loading
  let latest = 0;  // the last report asked for: only it may fill the detail

  async function load(selectId) {
    reports = await allPages("/invalid-address-reports", { status: "pending" }, (items) => renderList(items));
    renderList(reports);
    renderResolved((await api.get("/invalid-address-reports?status=resolved&limit=20")).items);
    const chosen = reports.find((report) => report.id === (selectId ?? picked)) || reports[0];
    if (chosen) await show(chosen);
    else {
      layer.clearLayers();
      fill(detail, h("p", { class: "empty", text: t("no_reports") }));
    }
  }

  function renderList(items) {
    if (items.length && !performance.getEntriesByName("fv:reports-first").length) performance.mark("fv:reports-first");
    fill(list, items.length ? items.map((report) =>
      h("li", { dataset: { report: report.id } },
        h("a", {
          href: "#/addresses",
          onclick: (event) => { event.preventDefault(); picked = report.id; show(report).catch(showError); },
        }, h("strong", { text: t(`reason.${report.reason}`) }),
        ` · ${t(`origin.${report.raised_by}`)} · ${moment(report.created_at)}`,
        report.note ? h("div", { class: "muted", text: report.note }) : null,
        report.address_geocode ? h("div", { class: "muted geocode", text: geocodeLine(report.address_geocode) }) : null)))
      : h("li", { class: "muted", text: t("no_reports") }));
  }

  function renderResolved(items) {
    fill(resolvedList, items.length ? items.map((report) =>
      h("li", { dataset: { report: report.id, resolvedBy: report.resolved_by } },
        h("strong", { text: `${t(`resolver.${report.resolved_by}`)} (${report.resolved_by})` }),
        ` · ${t(`problem.${report.problem}`)} (${report.problem}) · ${moment(report.decided_at)}`,
        h("div", { class: "muted", text: report.decision_note })))
      : h("li", { class: "muted", text: t("none_resolved") }));
  }

  async function show(report) {
    const asked = ++latest;
    list.querySelectorAll("li").forEach((item) => item.classList.toggle("active", item.dataset.report === report.id));
    const address = await api.get(`/addresses/${report.address_id}`);
    if (asked !== latest) return;  // another report was chosen meanwhile
    layer.clearLayers();
    const start = address.point ?? report.candidates[0] ?? office;
    const latLng = [start.lat, start.lon];
    const marker = L.marker(latLng, {
      draggable: true,
      icon: L.divIcon({ className: "fv-address-pin", html: h("span"), iconSize: [24, 24] }),
    }).addTo(layer);
    for (const candidate of report.candidates) {
      dot([candidate.lat, candidate.lon], "#90caf9", "fv-candidate", 5)
        .bindTooltip(h("span", { text: `${candidate.provider} ${candidate.precision}: ${candidate.formatted}` }))
        .addTo(layer);
    }
    map.setView(latLng, 16, { animate: false });
    const moved = h("p", { class: "muted", id: "point-state", text: t("point_moved") });
    const save = h("button", { type: "button", id: "save-point", disabled: true, text: t("save_point") });
    marker.on("dragend", () => {
      const { lat, lng } = marker.getLatLng();
      moved.textContent = `${lat.toFixed(6)}, ${lng.toFixed(6)}`;
      save.disabled = false;
    });
    const pointOf = () => {
      const { lat, lng } = marker.getLatLng();
      return { lat: Number(lat.toFixed(7)), lon: Number(lng.toFixed(7)) };
    };
    save.addEventListener("click", async () => {
      try {
        await api.put(`/addresses/${address.id}/point`, { point: pointOf() });
        toast(t("point_saved"));
        save.disabled = true;
      } catch (error) {
        showError(error);
      }
    });
    const note = h("textarea", { name: "note", rows: 2, maxlength: 4000, placeholder: t("note") });
    const text = h("input", { name: "raw_text", value: address.raw_text, "aria-label": t("corrected_text") });
    const decide = (verb) => async () => {
      const body = { note: note.value };
      if (verb === "reject") {
        if (!save.disabled) body.point = pointOf();
        if (text.value.trim() && text.value !== address.raw_text) body.raw_text = text.value;
      }
      try {
        await api.post(`/invalid-address-reports/${report.id}/${verb}`, body);
        toast(t(verb === "confirm" ? "confirmed" : "rejected"));
        await load();
      } catch (error) {
        showError(error);
      }
    };
    const photos = h("div", { class: "photos" });
    fill(detail,
      h("h3", { text: address.raw_text }),
      facts([
        [t("reason"), t(`reason.${report.reason}`)], [t("raised_by"), t(`origin.${report.raised_by}`)],
        [t("note"), report.note],
        [t("grade"), report.grade ?? address.grade], ["problem", report.problem ?? ""],
        [t("geocoding"), address.last_geocode ? geocodeLine(address.last_geocode) : ""],
        [t("candidates"), report.candidates.map((c) => `${c.provider}/${c.precision} ${c.formatted}`).join("; ")],
        [t("case"), h("a", { href: `#/cases/${report.case_id}`, text: t("open_case") })],
        [t("visit"), report.visit_id ? h("a", { href: `#/visits/${report.visit_id}`, text: t("open_visit") }) : ""],
      ]),
      moved, save, photos,
      h("div", { class: "decision" }, note,
        h("label", {}, t("corrected_text"), " ", text),
        h("div", { class: "toolbar" },
          h("button", { type: "button", id: "confirm-report", class: "danger", text: t("confirm"), onclick: decide("confirm") }),
          h("button", { type: "button", id: "reject-report", text: t("reject"), onclick: decide("reject") }))));
    if (report.visit_id) {
      const evidence = await api.get(`/visits/${report.visit_id}/evidence`).catch(() => []);
      if (asked === latest) fill(photos, photoStrip(evidence));
    }
  }

  await load();
  return () => disposeMap(map);
}

/** Why the address's last geocoding ended as it did: 密钥被拒 (key_refused) · amap: INVALID_USER_KEY (infocode 10001). */
function geocodeLine(geocode) {
  const words = `${t("geocoding")}: ${t(`geocode.${geocode.outcome}`)} (${geocode.outcome})`;
  return geocode.detail ? `${words} · ${geocode.detail}` : words;
}
