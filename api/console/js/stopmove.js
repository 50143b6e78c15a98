// Moving a not-started stop of a day under way to another team or place. Dragged along Today's timeline onto a
// team's row, the rows say at once which teams can take it and why not; by keyboard and on a tablet (where dragging
// does not work) the stop's move panel lists the same, with a place to choose. The server checks every move and
// refuses one it cannot honour: the refusal is shown in the user's language with its code beside it.

import { ApiError, api } from "./api.js";
import { fill, h } from "./dom.js";
import { t } from "./i18n.js";
import { optionText, refusalText } from "./teamoptions.js";

const VISITED = new Set(["checking_in", "in_progress", "done", "failed"]);

/** Where a stop could go: each team at work (its own too), cheapest first, then the ones that cannot and why. */
export function moveOptions(workDate, requestId) {
  return api.get(`/visit-sheets/days/${workDate}/stop-moves?visit_request_id=${requestId}`);
}

/** Move the stop to the team, at `position` of its new sheet (null: where it adds least). */
export function moveStop(workDate, requestId, teamId, position) {
  return api.post(`/visit-sheets/days/${workDate}/stop-moves`,
    { visit_request_id: requestId, team_id: teamId, position });
}

/** Why the server would not move the stop, in words with the code; null for a problem of another kind. */
export function moveRefusal(error) {
  const problem = error instanceof ApiError ? error.problem : {};
  if (problem.refusal) return refusalText(problem.refusal);
  if (problem.reason) return `${t(`not_movable.${problem.reason}`)} (${problem.reason})`;
  return null;
}

/** The place on `sheet` (1-based, after the stops the team has been at) of a stop dropped at `instant`: after the
planned stops that start before it. The dragged stop itself does not count. */
export function placeAt(sheet, requestId, instant) {
  const lastVisited = Math.max(0, ...sheet.stops.filter((stop) => VISITED.has(stop.state)).map((stop) => stop.position));
  const head = sheet.stops.filter((stop) => stop.position <= lastVisited).length;
  const before = sheet.stops.filter((stop) => stop.state === "planned" && stop.visit_request_id !== requestId
    && Date.parse(stop.starts_at) < instant).length;
  return head + before + 1;
}

/** The move panel of one stop: each team with its answer, and for those that can take it a button for the best
place and one for a place the user types. `onMove(teamId, position)` moves it. */
export function movePanel(stop, found, onMove, onClose) {
  return h("div", { class: "move-panel", id: "move-panel", role: "region", "aria-label": t("move_stop") },
    h("div", { class: "move-head" },
      h("strong", { text: `${t("move_stop")}: #${stop.position} ${stop.case.debtor_name} · ${stop.address.raw_text}` }),
      h("button", { type: "button", class: "small link", text: t("close"), onclick: onClose })),
    h("ul", { class: "move-options" }, found.options.map((option) => {
      const place = h("input", {
        type: "number", min: "1", name: "position", class: "narrow", "aria-label": t("position"),
        value: String(option.position ?? ""),
      });
      return h("li", { class: option.possible ? "move-option" : "move-option muted", dataset: { team: option.team_id } },
        optionText(option),
        option.possible ? [
          h("button", {
            type: "button", class: "small move-best", text: t("move_here"),
            onclick: () => onMove(option.team_id, null),
          }),
          place,
          h("button", {
            type: "button", class: "small move-at", text: t("move_to_place"),
            onclick: () => onMove(option.team_id, Number(place.value) || null),
          }),
        ] : null);
    })),
    h("p", { class: "error move-refused", role: "alert" }));
}

/** Show a refusal in the open move panel (and return whether there was one to show). */
export function showRefusal(panel, error) {
  const words = moveRefusal(error);
  const where = panel?.querySelector(".move-refused");
  if (!words || !where) return false;
  fill(where, words);
  return true;
}
