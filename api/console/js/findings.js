// The findings feed: promises, new contacts, suspected fake addresses, failed visits, address reports, flagged
// evidence, doubtful presence, teams out of contact or off route, newest first; new ones arrive by polling
// `/events?after=` every `findings_poll_s`.

import { api } from "./api.js";
import { fill, h, showError } from "./dom.js";
import { clock, km, moment, money, t } from "./i18n.js";

/** The line of a finding: what it says, in words, from its payload. */
function summary(kind, payload) {
  switch (kind) {
    case "repayment_promised": return `${money(payload.amount)} · ${payload.date}`;
    case "contact_found":
      return [...payload.phones, payload.employer ? `${payload.employer.name} ${payload.employer.address}` : ""]
        .filter(Boolean).join(" · ");
    case "fake_address_suspected": return payload.notes;
    case "visit_failed": return payload.reason;
    case "address_reported": return `${t(`reason.${payload.reason}`)} · ${t(`origin.${payload.raised_by}`)} · ${payload.note}`;
    case "address_confirmed_invalid": return t(`reason.${payload.reason}`);
    case "address_report_rejected": return payload.why;
    case "address_report_resolved": return payload.why;
    case "geocoder_refused":
      return `${payload.provider}: ${t(`geocode.${payload.reason}`)} (${payload.reason}) · ${payload.detail} · `
        + `${payload.addresses} ${t("addresses_unanswered")}`;
    case "evidence_flagged": return `${payload.purpose}: ${payload.flags.join(", ")}`;
    case "visit_overstayed": return `${Math.round(payload.on_site_s / 60)} / ${Math.round(payload.max_on_site_s / 60)} min`;
    case "presence_doubtful":
      return [`${t(`presence.${payload.stage}`)} · ${t("score")} ${payload.score} / ${payload.threshold}`,
        ...payload.flagged.map((name) => t(`signal.${name}`))].join(" · ");
    case "team_out_of_contact":
      return `${payload.agent_name} · ${t("since")} ${clock(payload.since)} · ${payload.minutes} ${t("min")}`
        + `${payload.ongoing ? ` · ${t("ongoing")}` : ""}`;
    case "team_off_route":
      return `${payload.agent_name} · ${t("since")} ${clock(payload.since)} · ${payload.minutes} ${t("min")} · `
        + `${km(payload.distance_m)}`;
    default: return "";
  }
}

function links(event) {
  const payload = event.payload;
  return h("span", { class: "links" },
    payload.visit_id ? h("a", { href: `#/visits/${payload.visit_id}`, text: t("open_visit") }) : null,
    payload.report_id && event.kind === "address_reported"
      ? h("a", { href: "#/addresses", text: t("open_report") }) : null,
    event.case_id ? h("a", { href: `#/cases/${event.case_id}`, text: t("open_case") }) : null,
    event.team_id ? h("a", { href: `#/day/${payload.work_date}`, text: t("open_day") }) : null);
}

export async function findingsView(view, { context }) {
  const feed = h("ol", { class: "feed", id: "feed", reversed: true });
  const status = h("p", { class: "muted", id: "feed-status" });
  fill(view, h("section", { class: "page" }, h("h2", { text: t("findings") }), status, feed));
  let after = 0;
  let timer = null;
  let stopped = false;

  function item(event, fresh) {
    return h("li", { class: `finding finding-${event.kind}${fresh ? " fresh" : ""}`, dataset: { id: event.id, kind: event.kind } },
      h("strong", { text: t(`finding.${event.kind}`) }), " ",
      h("span", { class: "muted", text: `${moment(event.created_at)} · ${event.payload.case_reference ?? event.payload.team_name ?? event.payload.provider}` }),
      h("div", { text: summary(event.kind, event.payload) }),
      links(event));
  }

  async function poll(fresh) {
    const page = await api.get(`/events?after=${after}&limit=500`);
    for (const event of page.items) feed.prepend(item(event, fresh));
    after = page.next_after;
    if (page.items.length === 500) return poll(fresh);
    status.textContent = feed.children.length ? "" : t("no_findings");
    status.dataset.loaded = "true";
  }

  function schedule() {
    timer = setTimeout(async () => {
      if (stopped) return;
      await poll(true).catch(showError);
      schedule();
    }, context.config.findings_poll_s * 1000);
  }

  await poll(false);
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
