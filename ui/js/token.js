// Where the API token comes from, in order: the URL fragment "#token=..." (a browser opened by
// `qorven ui` or the desktop fallback; removed from the address bar at once), this tab's
// sessionStorage (a reload), or the desktop window's bridge. It is kept only in sessionStorage: gone when
// the tab or window closes, never in localStorage, cookies or the URL.

const KEY = "qorven.token";

export function storedToken() {
  try { return sessionStorage.getItem(KEY) || ""; } catch { return ""; }
}

export function storeToken(token) {
  try {
    if (token) sessionStorage.setItem(KEY, token);
    else sessionStorage.removeItem(KEY);
  } catch { /* storage disabled: the token lives in memory only */ }
}

/** Take "#token=..." out of the fragment (keeping any route part) and out of the history entry. */
export function tokenFromFragment() {
  const frag = location.hash.replace(/^#/, "");
  if (!frag) return "";
  const parts = frag.split("&");
  let token = "";
  const rest = [];
  for (const part of parts) {
    if (part.startsWith("token=")) token = decodeURIComponent(part.slice(6));
    else if (part) rest.push(part);
  }
  if (token) {
    const route = rest.find((p) => p.startsWith("/")) || "";
    history.replaceState(null, "", location.pathname + location.search + (route ? `#${route}` : ""));
  }
  return token;
}

/**
 * Wait for the desktop shell's token. The window hands it over once the page has loaded, as
 * window.__qorvenDesktopToken plus a "qorven:desktop-token" event (pywebview's js_api needs eval, which our CSP forbids); a shell
 * whose js_api works is asked through window.pywebview.api.get_token() as well.
 */
export function tokenFromDesktop(timeoutMs) {
  return new Promise((resolve) => {
    let done = false;
    const finish = (value) => {
      if (done || !value) return;
      done = true;
      resolve(value);
    };
    const ask = () => {
      try {
        const api = window.pywebview && window.pywebview.api;
        if (api && typeof api.get_token === "function") Promise.resolve(api.get_token()).then(finish, () => {});
      } catch { /* bridge not ready */ }
    };
    const take = () => {
      const t = window.__qorvenDesktopToken;
      if (typeof t === "string" && t) {
        try { delete window.__qorvenDesktopToken; } catch { window.__qorvenDesktopToken = undefined; }
        finish(t);
      }
    };
    window.addEventListener("qorven:desktop-token", (e) => {
      take();
      if (typeof e.detail === "string") finish(e.detail);
    });
    take();
    window.addEventListener("pywebviewready", ask, { once: true });
    ask();
    setTimeout(() => { if (!done) { done = true; resolve(""); } }, timeoutMs);
  });
}

/** Resolve the token for this page; "" when none could be found. */
export async function resolveToken() {
  const fromFragment = tokenFromFragment();
  if (fromFragment) { storeToken(fromFragment); return fromFragment; }
  const stored = storedToken();
  if (stored) return stored;
  // The desktop window opens "/?desktop=1" and hands the token over right after the page loads;
  // in a plain browser nothing comes, and the user is asked to paste a token.
  const inDesktop = new URLSearchParams(location.search).has("desktop") || !!window.pywebview;
  const token = await tokenFromDesktop(inDesktop ? 15000 : 1200);
  if (token) storeToken(token);
  return token;
}
