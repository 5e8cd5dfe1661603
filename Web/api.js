// The daemon's /api/v1, with the CSRF token that state-changing calls need.
// After a sign-in at the hospital's OpenID provider the daemon hands the token over in the URL
// fragment (never sent to a server); it is kept for the tab and taken out of the address bar.
const handedOver = new URLSearchParams(location.hash.slice(1)).get("csrf");
if (handedOver) {
  sessionStorage.setItem("csrf", handedOver);
  history.replaceState(null, "", location.pathname + location.search);
}
let csrfToken = sessionStorage.getItem("csrf") || "";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
  }
}

/// A request to /api/v1; a failure status becomes an ApiError with the server's JSON error body.
async function send(path, init = {}) {
  const response = await fetch(`/api/v1${path}`, { credentials: "same-origin", ...init });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  return response;
}

export async function api(path, { method = "GET", body } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken;
  const response = await send(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 204) return null;
  return response.json().catch(() => null);
}

/// GET of a binary resource (raw slice values) as an ArrayBuffer.
export async function apiBytes(path) {
  return (await send(path)).arrayBuffer();
}

export async function login(username, password) {
  const result = await api("/login", { method: "POST", body: { username, password } });
  csrfToken = result.csrfToken;
  sessionStorage.setItem("csrf", csrfToken);
  return result.user;
}

export async function logout() {
  await api("/logout", { method: "POST" });
  csrfToken = "";
  sessionStorage.removeItem("csrf");
}

/// Expands [value, count, ...] runs into one label per pixel.
export function decodeRuns(runs, count) {
  const labels = new Uint8Array(count);
  let offset = 0;
  for (let i = 0; i < runs.length; i += 2) {
    labels.fill(runs[i], offset, offset + runs[i + 1]);
    offset += runs[i + 1];
  }
  return labels;
}
