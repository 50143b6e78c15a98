// The console's shell: login, the navigation by role, the hash routes and the evidence worker's token.

import { api, ApiError, freshToken, hasLogin, login, logout, onLoggedOut } from "./api.js";
import { fill, h, showError } from "./dom.js";
import { setLanguage, setTimeZone, t, currentLanguage } from "./i18n.js";
import { configureMaps } from "./map.js";
import { dayView } from "./day.js";
import { planningView } from "./planning.js";
import { todayView } from "./today.js";
import { addressesView } from "./addresses.js";
import { visitsView, visitView } from "./visits.js";
import { drillView } from "./drill.js";
import { resultsView } from "./results.js";
import { findingsView } from "./findings.js";
import { caseView } from "./cases.js";

const MANAGERS = ["supervisor", "admin"];
const SCREENS = [
  { path: "day", roles: ["supervisor", "admin", "agent"], view: dayView },
  { path: "today", roles: MANAGERS, view: todayView },
  { path: "planning", roles: MANAGERS, view: planningView },
  { path: "addresses", roles: MANAGERS, view: addressesView },
  { path: "visits", roles: MANAGERS, view: visitsView, modes: new Map([["drill", drillView]]) },
  { path: "findings", roles: [...MANAGERS, "phone_collector"], view: findingsView },
  { path: "results", roles: MANAGERS, view: resultsView },
];
const DETAILS = { visits: visitView, cases: caseView };

/** What every screen knows: the user, their branch, the console's settings. */
export const context = { user: null, branch: null, config: null };
let leave = null;
let routed = 0;  // which route() is current: a screen that finishes loading after the user moved on is left at once

function translate() {
  document.querySelectorAll("[data-t]").forEach((element) => {
    element.textContent = t(element.dataset.t);
  });
  document.title = `fieldvisit ${t("title")}`;
  const user = document.getElementById("user-name");
  user.textContent = context.user ? `${context.user.full_name} (${t(`role.${context.user.role}`)})` : "";
  user.title = user.textContent;  // the whole of it, when the header cuts it short
}

function switchLanguage() {
  setLanguage(currentLanguage() === "zh" ? "en" : "zh");
  translate();
  if (context.user) {
    renderNav();
    route();
  }
}

function screensOf(role) {
  return SCREENS.filter((screen) => screen.roles.includes(role));
}

function renderNav() {
  const nav = document.getElementById("nav");
  fill(
    nav,
    screensOf(context.user.role).map((screen) =>
      h("a", { href: `#/${screen.path}`, dataset: { screen: screen.path }, text: t(screen.path) }),
    ),
  );
}

async function route() {
  if (!context.user) return;
  leave?.();
  leave = null;
  const mine = ++routed;
  const [address, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const [path = "", id, ...rest] = address.split("/");
  const allowed = screensOf(context.user.role);
  const screen = SCREENS.find((candidate) => candidate.path === path);
  if (!screen && !(path in DETAILS)) {
    location.hash = `#/${allowed[0].path}`;
    return;
  }
  document.querySelectorAll("#nav a").forEach((link) => link.classList.toggle("active", link.dataset.screen === path));
  const view = document.getElementById("view");
  const role = context.user.role;
  if (screen && !screen.roles.includes(role)) {
    fill(view, h("p", { class: "empty", dataset: { role: "refused" }, text: t("not_allowed") }));
    return;
  }
  fill(view);
  const date = /^\d{4}-\d{2}-\d{2}$/.test(id ?? "") ? id : undefined;  // #/day/2026-12-03: a screen on that day
  // #/visits/drill?…: a screen in a mode of its own; #/visits/<id>: one thing in detail
  const render = screen?.modes?.get(id) ?? (id && !date && DETAILS[path] ? DETAILS[path] : screen?.view);
  if (!render) {
    fill(view, h("p", { class: "empty", dataset: { role: "refused" }, text: t("not_allowed") }));
    return;
  }
  try {
    const left = (await render(view, { id, date, rest, params: new URLSearchParams(query), context })) || null;
    if (mine === routed) leave = left;
    else left?.();
  } catch (error) {
    showError(error);
  }
}

async function enter() {
  context.user = await api.get("/me");
  if (context.user.branch_id) {
    context.branch = await api.get(`/branches/${context.user.branch_id}`);
    setTimeZone(context.branch.timezone);
    if (!localStorage.getItem("fieldvisit.language")) setLanguage(context.branch.language === "en" ? "en" : "zh");
  }
  translate();
  document.getElementById("branch-name").textContent = context.branch?.name ?? "";
  document.getElementById("login").hidden = true;
  document.getElementById("shell").hidden = false;
  renderNav();
  await route();
}

function showLogin() {
  leave?.();
  leave = null;
  context.user = null;
  document.getElementById("shell").hidden = true;
  document.getElementById("login").hidden = false;
  fill(document.getElementById("view"));
}

async function submitLogin(event) {
  event.preventDefault();
  const form = event.target;
  const error = document.getElementById("login-error");
  error.textContent = "";
  try {
    await login(form.username.value, form.password.value);
    form.password.value = "";
    await enter();
  } catch (failure) {
    error.textContent = failure instanceof ApiError ? failure.message : String(failure);
  }
}

function serveTokens() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.addEventListener("message", async (message) => {
    if (message.data?.type !== "token?") return;
    const token = await freshToken().catch(() => null);
    message.ports[0]?.postMessage({ token });
  });
  navigator.serviceWorker.register("sw.js", { scope: "./" }).catch((error) => console.error(error));
}

async function boot() {
  setLanguage(currentLanguage());
  translate();
  context.config = await (await fetch("config.json")).json();
  configureMaps(context.config);
  serveTokens();
  document.getElementById("login").addEventListener("submit", submitLogin);
  document.getElementById("login-language").addEventListener("click", switchLanguage);
  document.getElementById("language").addEventListener("click", switchLanguage);
  document.getElementById("logout").addEventListener("click", () => logout());
  onLoggedOut(showLogin);
  window.addEventListener("hashchange", route);
  if (hasLogin()) {
    try {
      await enter();
      return;
    } catch {
      /* the stored login expired: ask again */
    }
  }
  showLogin();
}

boot();
