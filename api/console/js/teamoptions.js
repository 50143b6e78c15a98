// A team's answer to "can you take this visit": when it would arrive and what the visit adds to its day, or why
// it cannot, in the user's language with the machine code beside the words. Urgent visits, moved stops and the
// requests a run left out all answer so.

import { clock, km, t } from "./i18n.js";

/** A team's refusal in words, its code beside them. */
export function refusalText(code) {
  return `${t(`refusal.${code}`)} (${code})`;
}

/** One team's answer: when it would arrive and what the stop adds, or why it cannot take it. */
export function optionText(option) {
  if (!option.possible) return `${option.team_name}: ${refusalText(option.refusal)}`;
  return `${option.team_name}: ${t("arrives")} ${clock(option.starts_at)} · +${km(option.added_m)}`
    + ` · +${Math.round(option.added_s / 60)} ${t("min")}`;
}
