// Where the API token comes from, in order: this tab's sessionStorage (a reload), the URL fragment
// "#token=..." (a browser opened by `qorven ui` or the desktop fallback; removed from the address bar
// at once), or pywebview's js_api in the desktop window. It is kept only in sessionStorage: gone when
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

/** Ask the desktop shell for the window's token, waiting for pywebview to be ready. */
export function tokenFromDesktop(timeoutMs) {
  return new Promise((resolve) => {
    let done = false;
    const finish = (value) => { if (!done) { done = true; resolve(value || ""); } };
    const ask = () => {
      try {
        const api = window.pywebview && window.pywebview.api;
        if (api && typeof api.get_token === "function") {
          Promise.resolve(api.get_token()).then(finish, () => finish(""));
          return true;
        }
      } catch { /* not ready yet */ }
      return false;
    };
    if (ask()) return;
    window.addEventListener("pywebviewready", () => ask() || finish(""), { once: true });
    setTimeout(() => finish(""), timeoutMs);
  });
}

/** Resolve the token for this page; "" when none could be found. */
export async function resolveToken() {
  const fromFragment = tokenFromFragment();
  if (fromFragment) { storeToken(fromFragment); return fromFragment; }
  const stored = storedToken();
  if (stored) return stored;
  // In the desktop window pywebview injects its bridge right after load; in a plain browser
  // nothing comes, and the user is asked to paste a token.
  const inDesktop = !!window.pywebview || /pywebview|QtWebEngine|WebKitGTK/i.test(navigator.userAgent);
  const token = await tokenFromDesktop(inDesktop ? 10000 : 1500);
  if (token) storeToken(token);
  return token;
}
