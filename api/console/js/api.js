// The JSON API, as the console's user: the access token lives in memory, the refresh token in this tab's
// sessionStorage (so that a reload keeps the login); neither ever goes into a URL.

const REFRESH_KEY = "fieldvisit.refresh";
let accessToken = null;
let accessExpiresAt = 0;
let accessLifetime = 0;
let refreshing = null;
const listeners = new Set();

/** An answer of the API that is not a success: its RFC 9457 problem. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

/** Call `listener()` when the login is lost (refresh refused, logout). */
export function onLoggedOut(listener) {
  listeners.add(listener);
}

function store(pair) {
  accessToken = pair.access_token;
  accessLifetime = pair.expires_in * 1000;
  accessExpiresAt = Date.now() + accessLifetime;
  sessionStorage.setItem(REFRESH_KEY, pair.refresh_token);
}

function forget() {
  accessToken = null;
  accessExpiresAt = 0;
  sessionStorage.removeItem(REFRESH_KEY);
}

export function hasLogin() {
  return Boolean(accessToken || sessionStorage.getItem(REFRESH_KEY));
}

export async function login(username, password) {
  const pair = await send("/auth/login", { method: "POST", body: { username, password }, anonymous: true });
  store(pair);
}

export async function logout() {
  const refreshToken = sessionStorage.getItem(REFRESH_KEY);
  forget();
  if (refreshToken) {
    await send("/auth/logout", { method: "POST", body: { refresh_token: refreshToken }, anonymous: true }).catch(
      () => undefined,
    );
  }
  listeners.forEach((listener) => listener());
}

/** Trade the refresh token for a new pair, once at a time however many calls need it. */
function refresh() {
  refreshing ??= (async () => {
    const refreshToken = sessionStorage.getItem(REFRESH_KEY);
    try {
      if (!refreshToken) throw new ApiError(401, { title: "Not logged in" });
      store(await send("/auth/refresh", { method: "POST", body: { refresh_token: refreshToken }, anonymous: true }));
    } catch (error) {
      forget();
      listeners.forEach((listener) => listener());
      throw error;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** A valid access token (refreshed when it is about to expire), for the evidence worker's requests. */
export async function freshToken() {
  const margin = Math.min(30000, accessLifetime / 4);  // a token about to expire is not sent
  if (!accessToken || accessExpiresAt - Date.now() < margin) await refresh();
  return accessToken;
}

async function send(path, { method = "GET", body, headers = {}, anonymous = false, raw = false } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "omit" };
  if (!anonymous) init.headers.Authorization = `Bearer ${await freshToken()}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401 && !anonymous) {
    await refresh();
    init.headers.Authorization = `Bearer ${accessToken}`;
    return finish(await fetch(path, init), raw);
  }
  return finish(response, raw);
}

// how far the server's clock is ahead of this device's, from the Date header of its last answer (whole seconds)
let serverAheadMs = 0;

/** Now by the server's clock: a tablet whose clock is off still draws the now-line where the server's day is. */
export function serverNow() {
  return Date.now() + serverAheadMs;
}

async function finish(response, raw) {
  const date = Date.parse(response.headers.get("date") || "");
  if (!Number.isNaN(date)) serverAheadMs = date - Date.now();
  if (raw && (response.ok || response.status === 304)) return response;
  if (!response.ok) {
    const type = response.headers.get("content-type") || "";
    const problem = type.includes("json") ? await response.json().catch(() => null) : null;
    throw new ApiError(response.status, problem);
  }
  if (response.status === 204) return null;
  return response.json();
}

export const api = {
  get: (path, options) => send(path, options),
  post: (path, body, options = {}) => send(path, { ...options, method: "POST", body: body ?? {} }),
  put: (path, body) => send(path, { method: "PUT", body }),
  patch: (path, body) => send(path, { method: "PATCH", body }),
  delete: (path) => send(path, { method: "DELETE" }),
  /** The raw response (for ETags and files). */
  raw: (path, options = {}) => send(path, { ...options, raw: true }),
};

/** Every item of a paged list (`{items, next_cursor}`), following the cursors. */
export async function allPages(path, params = {}, onPage) {
  const items = [];
  let cursor = null;
  do {
    const query = new URLSearchParams({ ...params, limit: "200", ...(cursor ? { cursor } : {}) });
    const page = await api.get(`${path}?${query}`);
    items.push(...page.items);
    onPage?.(items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

/** The file name the response's Content-Disposition gives (`attachment; filename="…"`), if any. */
function suggestedName(response) {
  return /filename="?([^";]+)"?/i.exec(response.headers.get("content-disposition") || "")?.[1];
}

/** Save a file the API serves (the printable sheet, a report's export) through the browser's download, under
`filename` or else the name the server gives it. */
export async function download(path, filename) {
  const response = await api.raw(path);
  const name = filename ?? suggestedName(response) ?? path.split("/").pop().split("?")[0];
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
