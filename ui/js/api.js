// The one way the UI talks to the server: fetch on the /api alias. The browser is signed in by the
// HttpOnly qorven_session cookie (token.js), which same-origin fetches carry on their own; a token
// is sent only while one is held in memory (after a rotation in Settings), never stored. Errors come
// back as ApiError carrying the envelope's code.

let token = "";
const listeners = new Set();

/** Hold a token in memory for this page only (a rotation's new admin token); "" drops it. */
export function setToken(t) { token = t || ""; }
export function getToken() { return token; }

/** Called with the ApiError when the server rejects the token (401). */
export function onUnauthorized(fn) { listeners.add(fn); }

export class ApiError extends Error {
  constructor(status, body, fallback) {
    const err = (body && body.error) || {};
    super(err.message || fallback || `HTTP ${status}`);
    this.status = status;
    this.code = err.code || (status ? `http_${status}` : "network_error");
    this.param = err.param || null;
    this.requestId = err.request_id || null;
  }
  /** "code: message" — how errors are shown everywhere. */
  toString() { return `${this.code}: ${this.message}`; }
}

export function authHeaders(extra = {}) {
  return token ? { Authorization: `Bearer ${token}`, ...extra } : { ...extra };
}

function url(path) {
  return path.startsWith("/") ? path : `/api/${path}`;
}

/** Make a request; returns parsed JSON (or null for 204). Retries a GET once after a 429.
 * quiet401: a refused sign-in attempt, not a session that ended (no onUnauthorized). */
export async function request(method, path, body, { signal, retry = true, quiet401 = false } = {}) {
  const init = { method, headers: authHeaders(), signal, credentials: "same-origin" };
  if (body instanceof FormData) {
    init.body = body; // a file upload: the browser writes multipart/form-data with its boundary
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url(path), init);
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, null, "The server did not answer. Is Qorven still running?");
  }
  if (res.status === 429 && retry && method === "GET") {
    const wait = Math.min(parseInt(res.headers.get("Retry-After") || "1", 10) || 1, 10);
    await new Promise((r) => setTimeout(r, wait * 1000));
    return request(method, path, body, { signal, retry: false, quiet401 });
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const err = new ApiError(res.status, data, text.slice(0, 200));
    if (res.status === 401 && !quiet401) listeners.forEach((fn) => fn(err));
    throw err;
  }
  return data;
}

export const api = {
  get: (path, opts) => request("GET", path, undefined, opts),
  post: (path, body, opts) => request("POST", path, body ?? {}, opts),
  put: (path, body, opts) => request("PUT", path, body ?? {}, opts),
  patch: (path, body, opts) => request("PATCH", path, body ?? {}, opts),
  del: (path, opts) => request("DELETE", path, undefined, opts),
};

/** A list endpoint's items: accepts the {object:"list", data:[...]} shape or a bare array. */
export function items(res) {
  if (Array.isArray(res)) return res;
  return (res && Array.isArray(res.data)) ? res.data : [];
}

/** Build "path?a=1&b=2" skipping empty values. */
export function qs(path, params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== "") p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}
