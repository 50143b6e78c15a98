// The repayment promises falling due in a day's week (Monday to Sunday): who promised what and when, what is paid,
// the state, and a follow-up visit for a promise not kept.

import { api, allPages } from "./api.js";
import { fill, h, showError, toast } from "./dom.js";
import { money, t } from "./i18n.js";

const FOLLOWED = ["broken", "partly_kept"];  // the states the API turns into a follow-up visit request

/** Monday and Sunday (YYYY-MM-DD) of the week `day` is in. */
export function weekOf(day) {
  const at = Date.parse(`${day}T00:00:00Z`);
  const monday = at - ((new Date(at).getUTCDay() + 6) % 7) * 86400000;
  const iso = (instant) => new Date(instant).toISOString().slice(0, 10);
  return { monday: iso(monday), sunday: iso(monday + 6 * 86400000) };
}

function followUpCell(promise, reload) {
  if (promise.follow_up_request_id) return h("span", { class: "muted", text: t("followed_up") });
  if (!FOLLOWED.includes(promise.state)) return "";
  return h("button", {
    type: "button", class: "small follow-up", text: t("follow_up"),
    onclick: async () => {
      try {
        await api.post(`/promises/${promise.id}/follow-up`);
        toast(`${promise.debtor_name}: ${t("follow_up_made")}`);
        await reload();
      } catch (error) {
        showError(error);
      }
    },
  });
}

/** The table of promises, its rows in `body`. */
export function promiseTable(body) {
  const columns = [["debtor"], ["reference"], ["due_on"], ["amount", "number"], ["paid", "number"], ["state"],
    ["follow_up"]];
  return h("table", { class: "results-table", id: "promise-table" },
    h("thead", {}, h("tr", {}, columns.map(([label, kind]) => h("th", { scope: "col", class: kind, text: t(label) })))),
    body);
}

/** Fill `body` (a table body) with the promises due in the week of `day`, unless `current()` says the screen has
moved on to another day meanwhile. */
export async function showPromisesDue(body, day, current) {
  const { monday, sunday } = weekOf(day);
  const reload = () => showPromisesDue(body, day, current);
  const promises = await allPages("/promises", { due_from: monday, due_until: sunday });
  if (!current()) return;
  promises.sort((a, b) => a.due_on.localeCompare(b.due_on) || a.debtor_name.localeCompare(b.debtor_name));
  fill(body, promises.length ? promises.map((promise) =>
    h("tr", { dataset: { promise: promise.id, state: promise.state } },
      h("td", {}, h("a", { href: `#/cases/${promise.case_id}`, text: promise.debtor_name })),
      h("td", { text: promise.case_reference }),
      h("td", { text: promise.due_on }),
      h("td", { class: "number", text: money(promise.amount, promise.currency) }),
      h("td", { class: "number", text: money(promise.paid, promise.currency) }),
      h("td", {}, h("span", { class: `chip promise-${promise.state}`, text: t(`promise.${promise.state}`) })),
      h("td", {}, followUpCell(promise, reload))))
    : h("tr", {}, h("td", { colspan: 7, class: "empty", text: t("no_promises") })));
}
