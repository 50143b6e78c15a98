// A case, in brief: the debtor, what is owed, the addresses and the visits; where the feed's links lead.

import { api } from "./api.js";
import { facts, fill, h } from "./dom.js";
import { moment, money, t } from "./i18n.js";

export async function caseView(view, { id }) {
  const [kase, addresses, visits] = await Promise.all([
    api.get(`/cases/${id}`),
    api.get(`/cases/${id}/addresses?limit=200`),
    api.get(`/visits?case_id=${id}&limit=200`),
  ]);
  fill(view, h("section", { class: "page", id: "case-detail" },
    h("h2", { text: `${kase.debtor_name} · ${kase.reference}` }),
    facts([
      [t("amount_owed"), money(kase.amount_owed, kase.currency)], ["ID", kase.debtor_id_number_masked],
      [t("care"), kase.complaint_history ? t("flag.complaint_history") : ""], [t("note"), kase.notes],
    ]),
    h("h3", { text: t("address") }),
    h("ul", {}, addresses.items.map((address) =>
      h("li", { text: `${address.raw_text} · ${address.kind} · ${address.grade} · ${address.validity}` }))),
    h("h3", { text: t("visits_of_case") }),
    h("ul", {}, visits.items.map((visit) => h("li", {},
      h("a", { href: `#/visits/${visit.id}`, text: `${moment(visit.started_at || visit.check_ins[0]?.received_at)}` }),
      ` · ${t(`visit.${visit.status}`)}`)))));
}
