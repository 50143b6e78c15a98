// Building the page: every text a user typed (names, notes, reasons) goes in as text, never as HTML.

import { ApiError } from "./api.js";
import { hasText, t } from "./i18n.js";

/** An element with properties, attributes, listeners and children (strings become text nodes). */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = String(value);
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key in element && typeof value !== "string") element[key] = value;
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

/** Append children (nested lists, strings as text), skipping empty ones. */
export function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's children. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** A short message at the bottom of the screen. */
export function toast(message, kind = "info") {
  const box = document.getElementById("toasts");
  const note = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status", text: message });
  box.append(note);
  setTimeout(() => note.remove(), kind === "error" ? 8000 : 4000);
}

/** A definition list of [label, value] pairs, skipping empty values. */
export function facts(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs
      .filter(([, value]) => value !== undefined && value !== null && value !== "")
      .map(([label, value]) => [h("dt", { text: label }), h("dd", {}, value instanceof Node ? value : String(value))]),
  );
}

/** Tell the user what went wrong: in their language when the catalogue knows the problem's type, else the
problem's title and detail as the API gave them. */
export function showError(error) {
  if (error instanceof ApiError && error.status === 401) return;
  if (!(error instanceof ApiError)) {
    toast(String(error), "error");
    console.error(error);
    return;
  }
  const known = `error.${error.problem.type?.split("/").pop()}`;
  toast(hasText(known) ? t(known) : `${error.problem.title || error.status}: ${error.message}`, "error");
}

/** Put the screen's state in the address (e.g. its date) without showing the screen again: a reload, a language
switch or a shared link opens the same. */
export function keepInAddress(hash) {
  history.replaceState(null, "", hash);
}
