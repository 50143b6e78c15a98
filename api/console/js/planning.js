// Planning: start a run for a date, watch it, review its draft sheets on the map and what it left out; pin,
// remove, re-solve, compare with the run before, publish; the printable sheets one click away.

import { api, allPages, download } from "./api.js";
import { append, facts, fill, h, keepInAddress, showError, toast } from "./dom.js";
import { km, localDate, moment, t } from "./i18n.js";
import { L, makeMap, disposeMap } from "./map.js";
import { drawSheets, stopDetails, teamCard } from "./day.js";
import { optionText, refusalText } from "./teamoptions.js";

// the reasons the solver leaves a request out for: the teams' days had no room, so a team may yet take it
const SOLVER_REASONS = new Set(["outside_every_shift", "no_team_with_skill", "pin_impossible", "lower_priority"]);

const ACTIVE = ["queued", "running"];

/** A small form pinning `requestId` to a team (at a position or a start time), for the draft of `run`. */
function pinForm(run, requestId, teams, onChange) {
  const team = h("select", { name: "team_id", "aria-label": t("team") },
    teams.map((sheet) => h("option", { value: sheet.team_id, text: sheet.team_name })));
  const position = h("input", { type: "number", min: 1, max: 60, name: "position", placeholder: t("position"), class: "narrow" });
  const start = h("input", { type: "time", name: "start_time", "aria-label": t("start_time") });
  const pin = h("button", { type: "submit", class: "small", text: t("pin") });
  return h("form", {
    class: "inline pin-form",
    onsubmit: async (event) => {
      event.preventDefault();
      const body = { action: "pin", team_id: team.value };
      if (position.value) body.position = Number(position.value);
      if (start.value) body.start_time = start.value;
      try {
        onChange(await api.put(`/planning-runs/${run.id}/edits/${requestId}`, body));
      } catch (error) {
        showError(error);
      }
    },
  }, team, position, start, pin);
}

function removeButton(run, requestId, onChange) {
  return h("button", {
    type: "button", class: "small danger", text: t("remove"),
    onclick: async () => {
      try {
        onChange(await api.put(`/planning-runs/${run.id}/edits/${requestId}`, { action: "remove" }));
      } catch (error) {
        showError(error);
      }
    },
  });
}

/** What a draft changes in its team's published day, counted by kind ("新增 2 · 调出 1 → 外访二组 · 改时 3"). */
function changeLine(changed) {
  if (!changed.length) return h("p", { class: "changes muted", text: t("no_change") });
  const kinds = ["added", "moved_in", "removed", "moved_out", "cancelled", "retimed"];
  const parts = kinds.map((kind) => {
    const of = changed.filter((change) => change.kind === kind);
    if (!of.length) return null;
    const teams = [...new Set(of.map((change) => change.other_team_name).filter(Boolean))];
    return `${t(`change.${kind}`)} ${of.length}${teams.length ? ` (${teams.join("、")})` : ""}`;
  }).filter(Boolean);
  return h("p", { class: "changes", text: parts.join(" · ") });
}

/** The run against the one before it: planned, left out, km, and per team. */
function comparison(run, previous) {
  if (!previous || previous.status !== "succeeded") return null;
  const row = (label, before, after) =>
    h("tr", {}, h("th", { text: label }), h("td", { text: before }), h("td", { text: after }));
  const teams = new Map();
  for (const sheet of previous.sheets) teams.set(sheet.team_id, { name: sheet.team_name, before: sheet });
  for (const sheet of run.sheets) teams.set(sheet.team_id, { ...(teams.get(sheet.team_id) || {}), name: sheet.team_name, after: sheet });
  const brief = (sheet) => (sheet ? `${sheet.stops} ${t("stops")} · ${km(sheet.distance_m)}` : "–");
  return h("table", { class: "compare", id: "run-compare" },
    h("caption", { text: t("compare") }),
    h("thead", {}, h("tr", {}, h("th"), h("th", { text: t("previous") }), h("th", { text: t("this_run") }))),
    h("tbody", {},
      row(t("planned"), previous.figures.planned, run.figures.planned),
      row(t("unplanned"), previous.figures.unplanned, run.figures.unplanned),
      row(t("distance"), km(previous.figures.distance_m || 0), km(run.figures.distance_m || 0)),
      [...teams.values()].map(({ name, before, after }) => row(name, brief(before), brief(after)))));
}

export async function planningView(view, { date: workDate }) {
  const date = h("input", { type: "date", name: "work_date", value: workDate ?? localDate(1) });
  const limit = h("input", { type: "number", name: "time_limit_s", min: 1, max: 3600, value: 10, class: "narrow" });
  const start = h("button", { type: "button", id: "start-run", text: t("start_run") });
  const runList = h("ul", { class: "run-list", id: "run-list" });
  const roster = h("section", { class: "roster", id: "roster" });
  const panel = h("section", { class: "run-panel", id: "run-panel" });
  const mapBox = h("div", { class: "map", id: "planning-map" });
  fill(view, h("div", { class: "split" },
    h("aside", { class: "side wide" },
      h("div", { class: "toolbar" }, h("label", {}, t("date"), " ", date),
        h("label", {}, t("time_limit"), " ", limit), start),
      roster, h("h3", { text: t("runs") }), runList, panel),
    mapBox));
  const map = makeMap(mapBox);
  const layer = L.layerGroup().addTo(map);
  let runs = [];
  let selected = null;
  let timer = null;
  let requests = new Map();

  async function loadRuns() {
    runs = await allPages("/planning-runs", { work_date: date.value });
    runs.sort((a, b) => a.created_at.localeCompare(b.created_at));
    fill(runList, runs.length ? runs.map((run, index) =>
      h("li", { class: run.id === selected?.id ? "active" : "" },
        h("a", {
          href: "#/planning", dataset: { run: run.id },
          onclick: (event) => { event.preventDefault(); show(run); },
          text: `#${index + 1} ${moment(run.created_at)} · ${t(`run.${run.status}`)}`
            + (run.kind === "in_day" ? ` · ${t("in_day")}` : "") + (run.published_at ? ` · ${t("published")}` : ""),
        }))) : h("li", { class: "muted", text: t("no_runs") }));
  }

  async function loadRequests() {
    const rows = await allPages("/visit-requests", { from_date: date.value, to_date: date.value });
    requests = new Map(rows.map((row) => [row.id, row]));
  }

  function watch(run) {
    clearTimeout(timer);
    if (!ACTIVE.includes(run.status)) return;
    timer = setTimeout(async () => {
      try {
        const now = await api.get(`/planning-runs/${run.id}`);
        if (!ACTIVE.includes(now.status)) {
          toast(`${t("planning_done")}: ${t(`run.${now.status}`)}`);
          await loadRuns();
        }
        if (selected?.id === now.id) await show(now);
      } catch (error) {
        showError(error);
      }
    }, 1000);
  }

  async function show(run) {
    selected = run;
    runList.querySelectorAll("li").forEach((item) =>
      item.classList.toggle("active", item.querySelector("a")?.dataset.run === run.id));
    const progress = h("progress", { max: 100, value: run.progress, id: "run-progress" });
    const head = h("div", { class: "run-head", dataset: { status: run.status } },
      h("strong", { id: "run-status", text: `${t("run_status")}: ${t(`run.${run.status}`)}` }),
      ` · ${t("stage")}: ${run.stage} `, progress, ` ${run.progress}%`,
      run.failure ? h("p", { class: "error", id: "run-failure", text: `${t(`failure.${run.failure}`)} (${run.failure})` }) : null,
      run.error && run.failure === "error" ? h("p", { class: "error", text: run.error }) : null);
    fill(panel, head);
    watch(run);
    if (run.status !== "succeeded") {
      layer.clearLayers();
      if (run.unplanned.length) append(panel, [leftOutTable(run, null, () => {})]);
      return;
    }
    if (!run.published_at) run = await api.get(`/planning-runs/${run.id}`);  // with what each sheet changes
    const changes = new Map(run.sheets.map((sheet) => [sheet.id, sheet.changes]));
    const day = await api.get(`/visit-sheets/days/${run.work_date}?run_id=${run.id}`);
    const teams = drawSheets(map, layer, day, {
      onStop: (sheet, stop, marker) => marker.bindPopup(stopDetails(sheet, stop), { maxWidth: 360 }).openPopup(),
    });
    const changed = (updated) => show(updated).catch(showError);
    const pending = run.edits.filter((edit) => edit.pending);
    const index = runs.findIndex((candidate) => candidate.id === run.id);
    // against what it re-solves, else what the phones have now (the latest published run), else the run before
    const published = runs.filter((candidate) => candidate.published_at && candidate.id !== run.id).at(-1);
    const previous = runs.find((candidate) => candidate.id === run.based_on_id) || published || runs[index - 1];
    const actions = h("div", { class: "toolbar" });
    if (!run.published_at) {
      actions.append(
        h("button", {
          type: "button", id: "resolve-run", text: `${t("resolve")}${pending.length ? ` (${pending.length})` : ""}`,
          onclick: async () => {
            try {
              const next = await api.post(`/planning-runs/${run.id}/resolve`, { time_limit_s: Number(limit.value) });
              await loadRuns();
              await show(next);
            } catch (error) {
              showError(error);
            }
          },
        }),
        h("button", {
          type: "button", id: "publish-run", class: "primary", text: t("publish"),
          onclick: async (event) => {
            const button = event.currentTarget;
            if (run.kind === "in_day" && !button.dataset.confirming) {
              button.dataset.confirming = "yes";
              button.textContent = t("confirm_publish");
              actions.after(h("p", { class: "warning", id: "publish-warning", text: t("publish_in_day") }));
              return;
            }
            try {
              const published = await api.post(`/planning-runs/${run.id}/publish`);
              toast(t("published_ok"));
              await loadRuns();
              await show(published);
            } catch (error) {
              if (error.problem?.type?.endsWith("/plan-outdated")) outdated(error.problem, run);
              else showError(error);
            }
          },
        }));
    }
    const sheets = h("ul", { class: "team-list" }, teams.map(({ sheet, colour }) => {
      const card = teamCard(sheet, colour);
      const sheetChanges = changes.get(sheet.id);
      if (sheetChanges) card.append(changeLine(sheetChanges));
      card.append(h("button", {
        type: "button", class: "small link pdf", text: `${t("pdf")} (PDF)`,
        onclick: (event) => {
          event.stopPropagation();
          download(`/visit-sheets/${sheet.id}.pdf`, `visit-sheet-${sheet.team_name}-${sheet.work_date}.pdf`).catch(showError);
        },
      }));
      if (!run.published_at) {
        card.append(h("details", {}, h("summary", { text: `${t("stops")} (${sheet.stops.length})` }),
          h("ol", {}, sheet.stops.map((stop) => h("li", {},
            `${stop.case.debtor_name} · ${stop.address.raw_text} `,
            removeButton(run, stop.visit_request_id, changed),
            pinForm(run, stop.visit_request_id, day.sheets, changed))))));
      }
      return card;
    }));
    const leftOut = leftOutTable(run, day, changed);
    const edits = run.edits.length ? h("ul", { class: "edits", id: "edits" }, run.edits.map((edit) => {
      const request = requests.get(edit.visit_request_id);
      return h("li", {},
        `${edit.action} · ${request ? request.debtor_name : edit.visit_request_id}`
          + (edit.position ? ` · ${t("position")} ${edit.position}` : "")
          + (edit.start_time ? ` · ${edit.start_time}` : "") + (edit.pending ? ` (${t("pending")})` : ""),
        edit.pending && !run.published_at ? h("button", {
          type: "button", class: "small link", text: t("withdraw"),
          onclick: async () => {
            try {
              changed(await api.delete(`/planning-runs/${run.id}/edits/${edit.visit_request_id}`));
            } catch (error) {
              showError(error);
            }
          },
        }) : null);
    })) : null;
    append(panel, [
      facts([[t("planned"), run.figures.planned], [t("unplanned"), run.figures.unplanned],
        [t("distance"), km(run.figures.distance_m || 0)], [t("published"), moment(run.published_at)]]),
      actions, comparison(run, previous), edits ? h("h4", { text: t("edits") }) : null, edits, sheets, leftOut]);
  }

  /** The left-out requests with their reason (and, on an unpublished draft, a pin form each). */
  function leftOutTable(run, day, changed) {
    return h("table", { class: "left-out", id: "left-out" },
      h("caption", { text: `${t("left_out")} (${run.unplanned.length})` }),
      h("tbody", {}, run.unplanned.map((row) => {
        const request = requests.get(row.visit_request_id);
        const draft = !run.published_at && day;
        return h("tr", { dataset: { request: row.visit_request_id } },
          h("td", { text: request ? `${request.debtor_name} · ${request.address_text}` : row.visit_request_id }),
          h("td", { class: "reason", text: `${row.reason}: ${row.detail}` }),
          h("td", {}, draft ? pinForm(run, row.visit_request_id, day.sheets, changed) : null,
            draft && SOLVER_REASONS.has(row.reason) ? whoCanTake(run, row, changed) : null));
      })));
  }

  /** "Who can take it": each team against its draft day, where the request would add least or why it cannot; a
  team that can gets it pinned in one click (the next re-solve places it). */
  function whoCanTake(run, row, changed) {
    const list = h("ul", { class: "options" });
    return h("div", { class: "who-can-take-box" },
      h("button", {
        type: "button", class: "small who-can-take", text: t("who_can_take"),
        onclick: async () => {
          try {
            const found = await api.get(`/planning-runs/${run.id}/unplanned/${row.visit_request_id}/options`);
            fill(list, found.options.map((option) => h("li", { class: option.possible ? "option" : "option muted" },
              optionText(option),
              option.possible ? h("button", {
                type: "button", class: "small pin-here", text: t("pin_here"),
                onclick: async () => {
                  try {
                    changed(await api.put(`/planning-runs/${run.id}/edits/${row.visit_request_id}`,
                      { action: "pin", team_id: option.team_id }));
                    toast(`${option.team_name}: ${t("pinned_ok")}`);
                  } catch (error) {
                    showError(error);
                  }
                },
              }) : null)));
          } catch (error) {
            const reason = error.problem?.reason;
            fill(list, h("li", { class: "error", text: reason ? refusalText(reason) : String(error.message) }));
          }
        },
      }), list);
  }

  /** A plan the day has moved past: what the day holds, in words, and the in-day re-plan to make instead. */
  function outdated(problem, run) {
    panel.querySelector("#plan-outdated")?.remove();
    const why = problem.detail?.startsWith("Sheets of") ? t("outdated_superseded") : t("outdated_before");
    const holds = t("day_holds").replace("{done}", problem.done).replace("{in_progress}", problem.in_progress)
      .replace("{cancelled}", problem.cancelled);
    panel.prepend(h("div", { class: "error", id: "plan-outdated", role: "alert" },
      h("p", { text: `${t("plan_outdated")}${why}${holds}` }),
      h("button", {
        type: "button", id: "in-day-replan", class: "primary", text: t("in_day_replan"),
        onclick: async () => {
          try {
            const next = await api.post("/planning-runs", { work_date: run.work_date });
            await loadRuns();
            await show(next);
          } catch (error) {
            showError(error);
          }
        },
      })));
  }

  start.addEventListener("click", async () => {
    try {
      const run = await api.post("/planning-runs", { work_date: date.value, time_limit_s: Number(limit.value) });
      await loadRuns();
      await show(run);
    } catch (error) {
      showError(error);
    }
  });
  /** The date's teams and a form pairing two free agents into a new one: planning from the console alone. */
  async function loadRoster(keepOpen = false) {
    const [teams, agents] = await Promise.all([
      allPages("/teams", { work_date: date.value }),
      allPages("/users", { role: "agent", active: true }),
    ]);
    const seated = new Set(teams.flatMap((team) => team.members.map((member) => member.agent_id)));
    const free = agents.filter((agent) => !seated.has(agent.id));
    const pick = (name) => h("select", { name, "aria-label": t("agents") },
      h("option", { value: "", text: "–" }),
      free.map((agent) => h("option", { value: agent.id, text: `${agent.full_name} (${agent.username})` })));
    const name = h("input", { name: "team_name", placeholder: t("team_name"), required: true, class: "narrow-wide" });
    const first = pick("agent_1");
    const second = pick("agent_2");
    const from = h("input", { type: "time", name: "shift_start", value: "09:00", "aria-label": t("shift") });
    const until = h("input", { type: "time", name: "shift_end", value: "18:00", "aria-label": t("shift") });
    const experienced = h("input", { type: "checkbox", name: "experienced" });
    const form = h("form", {
      class: "inline roster-form", id: "new-team",
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          await api.post("/teams", {
            work_date: date.value, name: name.value, agent_ids: [first.value, second.value],
            shift_start: from.value, shift_end: until.value, experienced: experienced.checked,
          });
          toast(`${name.value}: ${t("team_created")}`);
          await loadRoster(true);
        } catch (error) {
          showError(error);
        }
      },
    }, name, first, second, from, until, h("label", {}, experienced, t("experienced")),
    h("button", { type: "submit", class: "small", text: t("new_team") }));
    fill(roster, h("details", { open: keepOpen || teams.length === 0 },
      h("summary", { text: `${t("roster")} (${teams.length})` }),
      h("ul", { class: "roster-list" }, teams.map((team) => h("li", { dataset: { team: team.id } },
        `${team.name} · ${team.members.map((member) => member.full_name).join("、")} · ${team.shift_start.slice(0, 5)}`
          + `–${team.shift_end.slice(0, 5)}${team.experienced ? ` · ${t("experienced")}` : ""}`
          + (team.stood_down_at ? ` · ${t("stood_down")}` : ""),
        team.stood_down_at ? null : pairForm(team, free)))),
      form));
  }

  /** Change a team's pair (an agent who did not turn up, a spare who takes the seat): its two agents or free ones. */
  function pairForm(team, free) {
    const choices = [...team.members.map((member) => ({ id: member.agent_id, label: member.full_name })),
      ...free.map((agent) => ({ id: agent.id, label: `${agent.full_name} (${agent.username})` }))];
    const seat = (name, current) => h("select", { name, "aria-label": t("agents") },
      choices.map((choice) => h("option", { value: choice.id, text: choice.label, selected: choice.id === current })));
    const first = seat("pair_1", team.members[0]?.agent_id);
    const second = seat("pair_2", team.members[1]?.agent_id);
    const refused = h("span", { class: "error", role: "alert" });
    return h("details", { class: "pair" }, h("summary", { text: t("change_pair") }),
      h("form", {
        class: "inline pair-form",
        onsubmit: async (event) => {
          event.preventDefault();
          fill(refused);
          try {
            await api.patch(`/teams/${team.id}`, { agent_ids: [first.value, second.value] });
            toast(`${team.name}: ${t("pair_changed")}`);
            await loadRoster(true);
          } catch (error) {
            const code = error.problem?.type?.split("/").pop();
            if (code === "team-at-the-door") fill(refused, `${t("team_at_the_door")} (${code})`);
            else showError(error);
          }
        },
      }, first, second, h("button", { type: "submit", class: "small", text: t("change_pair") }), refused));
  }

  /** The date's runs, showing the latest (or nothing when there is none). */
  async function openDate() {
    const workDate = date.value;
    selected = null;
    fill(panel);
    layer.clearLayers();
    await Promise.all([loadRuns(), loadRequests(), loadRoster()]);
    if (runs.length && workDate === date.value) await show(runs.at(-1));
  }

  date.addEventListener("change", () => {
    keepInAddress(`#/planning/${date.value}`);
    openDate().catch(showError);
  });
  await openDate();
  return () => {
    clearTimeout(timer);
    disposeMap(map);
  };
}
