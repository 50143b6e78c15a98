// The results' figures: what each is (a count, a share, an amount of money), how it reads, its daily values over a
// span, and the address of the visits it counts.

import { h } from "./dom.js";
import { money, percent, t } from "./i18n.js";

/** Each figure the screen can show, by its field of the API's ResultFigures; `drill` names the list of visits the
figure counts (for a share: its numerator), absent where the figure is not a number of visits. */
export const FIGURES = [
  { field: "visits_done", kind: "count", drill: "visits_done" },
  { field: "visits_failed", kind: "count", drill: "visits_failed" },
  { field: "right_party_contact_rate", kind: "share", drill: "right_party_contacts" },
  { field: "family_contact_rate", kind: "share", drill: "family_contacts" },
  { field: "promises_made", kind: "count", drill: "promises_made" },
  { field: "promised_amount", kind: "money", drill: "promises_made" },
  { field: "kept_rate", kind: "share", drill: "promises_kept" },
  { field: "paid_after_visits", kind: "money", drill: "paid_after_visits" },
  { field: "cash_collected", kind: "money", drill: "cash_collected" },
  { field: "on_time_share", kind: "share", drill: "on_time" },
  { field: "evidence_complete_share", kind: "share" },  // its drill-down lists the visits it leaves out
  { field: "doubtful_presence_share", kind: "share", drill: "doubtful_presence" },
  { field: "addresses_invalid", kind: "count" },
  { field: "planned", kind: "count" },
];

export function figure(field) {
  return FIGURES.find((each) => each.field === field);
}

export function figureName(field) {
  return t(`figure.${field}`);
}

/** A figure's value as a person reads it: a share as a percentage, an amount as money. */
export function formatted(field, value) {
  const { kind } = figure(field);
  if (kind === "share") return percent(value);
  if (kind === "money") return money(value);
  return String(value ?? 0);
}

/** The address of the visit review listing the visits behind a figure: for `by` (branch, team, agent) and its
`key`, over `since`..`until`; `label` is how the heading names the key. */
export function drillAddress(field, { since, until, by, key, label, paymentDays }) {
  const query = new URLSearchParams({
    figure: figure(field).drill, since, until, by, key, label, payment_days: String(paymentDays),
  });
  return `#/visits/drill?${query}`;
}

/** The figure's value, a link to the visits behind it when there are some. */
export function figureLink(field, figures, scope) {
  const value = figures?.[field] ?? null;
  const text = formatted(field, value);
  if (!figure(field).drill || !(Number(value) > 0)) return h("span", { class: "figure", text });
  return h("a", {
    class: "figure drill", href: drillAddress(field, scope), text, dataset: { drill: figure(field).drill },
    title: `${t(`drill.${figure(field).drill}`)} · ${t("drill_open")}`,
  });
}

/** The days from `first` to `last` (YYYY-MM-DD), both included. */
export function daysFrom(first, last) {
  const days = [];
  for (let at = Date.parse(`${first}T00:00:00Z`); at <= Date.parse(`${last}T00:00:00Z`); at += 86400000) {
    days.push(new Date(at).toISOString().slice(0, 10));
  }
  return days;
}

/** The figure's value on each day from the rows of one key (a row per day with activity): a day without a row
counts 0 of a count or an amount, and has no share. */
export function daily(rows, days, field) {
  const byDay = new Map(rows.map((row) => [row.period_start, row.figures[field]]));
  const none = figure(field).kind === "share" ? null : 0;
  return days.map((day) => {
    const value = byDay.get(day);
    return value === undefined || value === null ? none : Number(value);
  });
}
