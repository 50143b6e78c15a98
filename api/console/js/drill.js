// The visits behind a number of the results screen: the visit review in its drill mode
// (#/visits/drill?figure=…&since=…&until=…&by=…&key=…), listing the visits the figure counts for that key over that
// span, each opening the visit.

import { api } from "./api.js";
import { fill, h } from "./dom.js";
import { moment, t } from "./i18n.js";

const ASKED = ["figure", "since", "until", "by", "key", "payment_days"];

export async function drillView(view, { params }) {
  const query = new URLSearchParams(ASKED.filter((name) => params.has(name)).map((name) => [name, params.get(name)]));
  const visits = await api.get(`/reports/results/visits?${query}`);
  const figure = t(`drill.${params.get("figure")}`);
  const since = params.get("since");
  const until = params.get("until");
  const who = params.get("label") || params.get("key");
  const span = since === until ? since : t("period_span").replace("{since}", since).replace("{until}", until);
  const count = t(visits.length === 1 ? "visits_count_one" : "visits_count").replace("{count}", String(visits.length));
  fill(view, h("section", { class: "page", id: "drill", dataset: { figure: params.get("figure") } },
    h("a", { href: `#/results/${until}`, text: `← ${t("back_to_results")}` }),
    h("h1", { text: figure }),
    h("p", { class: "drill-scope" }, `${who} · ${span} · `, h("strong", { id: "drill-count", text: count })),
    h("div", { class: "table-box", tabindex: "0", role: "region", "aria-label": figure },
      h("table", { class: "visits", id: "drill-table" },
        h("thead", {}, h("tr", {}, [t("work_date"), t("team"), t("debtor"), t("reference"), t("address"),
          t("contact_result"), t("started"), t("completed")].map((label) => h("th", { scope: "col", text: label })))),
        h("tbody", {}, visits.length ? visits.map((visit) =>
          h("tr", { dataset: { visit: visit.visit_id } },
            h("td", { text: visit.work_date }),
            h("td", { text: visit.team_name }),
            h("td", {}, h("a", { href: `#/visits/${visit.visit_id}`, text: visit.debtor_name })),
            h("td", { text: visit.case_reference }),
            h("td", { text: visit.address_text }),
            h("td", { text: visit.contact_result ? t(`contact.${visit.contact_result}`) : "–" }),
            h("td", { text: moment(visit.started_at) }),
            h("td", { text: moment(visit.completed_at) })))
          : h("tr", {}, h("td", { colspan: 8, class: "empty", text: t("no_visits") })))))));
}
