// Signing this browser in. The credential is the server's `qorven_session` cookie (HttpOnly: this
// code never sees it), so every tab and a browser restart stay signed in until "Sign out".
// A one-click link "#login=<code>" (printed by `qorven serve`, app.py and `qorven login`; the desktop
// window opens one) is traded for the cookie at POST /api/auth/session and taken out of the address
// bar at once. The fallback form trades a pasted token the same way. No token is kept in
// localStorage, sessionStorage or the URL.

import { h, field, replace } from "./dom.js";
import { api, request, setToken } from "./api.js";

const NEW_LINK = "Run `qorven login` in a terminal on this computer: it prints a new sign-in link.";

/**
 * Take "#login=<code>" (or an older "#token=<token>") out of the fragment and the history entry,
 * keeping the route part ("#/chat"). Returns {code, token}; both "" when the fragment has neither.
 */
export function takeSignInFragment() {
  const frag = location.hash.replace(/^#/, "");
  const found = { code: "", token: "" };
  if (!frag) return found;
  const rest = [];
  for (const part of frag.split("&")) {
    if (part.startsWith("login=")) found.code = decodeURIComponent(part.slice(6));
    else if (part.startsWith("token=")) found.token = decodeURIComponent(part.slice(6));
    else if (part) rest.push(part);
  }
  if (found.code || found.token) {
    const route = rest.find((p) => p.startsWith("/")) || "";
    history.replaceState(null, "", location.pathname + location.search + (route ? `#${route}` : ""));
  }
  return found;
}

/** Trade a code or a token for the session cookie; resolves {tenant_id, scope}, throws ApiError. */
function trade(body) {
  return request("POST", "auth/session", body, { quiet401: true });
}

/**
 * Sign in from the address bar's link, if it carries one. Resolves {error: ""} when there was
 * nothing to do or it worked, else {error: "<a sentence saying what to do>"}.
 */
export async function signInFromLink() {
  const { code, token } = takeSignInFragment();
  if (!code && !token) return { error: "" };
  try {
    await trade(code ? { code } : { token });
    return { error: "" };
  } catch (e) {
    if (e.status === 401) {
      return { error: code ? `${sentence(e.message)}` : "That sign-in link's token was not accepted. " + NEW_LINK };
    }
    return { error: `Could not sign in: ${e.message}` };
  }
}

/** Sign in with a pasted token (the fallback form); throws ApiError. */
export function signInWithToken(token) {
  return trade({ token });
}

/** End this browser's session on the server and clear its cookie. */
export async function signOut() {
  setToken("");
  await api.post("auth/logout");
}

/**
 * After a rotation (Settings) the page holds the new admin token in memory: sign the browser in with
 * it, so a session made from the old token does not end with it. Kept under its old name for callers.
 */
export function storeToken(token) {
  if (token) trade({ token }).catch(() => { /* the next request's 401 shows the sign-in form */ });
}

function sentence(message) {
  const text = String(message || "").replace(/`([^`]+)`/g, "$1");
  return text ? text[0].toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".") : "";
}

/**
 * The fallback sign-in screen: what to do for a link (the usual way) and a token field.
 * `message` says why (an error, or with `notice` a plain fact); `onSignedIn()` runs once the cookie is set.
 */
export function mountSignIn(root, { message = "", notice = false, onSignedIn }) {
  const input = h("input", { type: "password", autocomplete: "off", spellcheck: "false", placeholder: "qvn_…" });
  const problem = h("div", { class: notice ? "notice" : "error-box", role: notice ? "status" : "alert" }, message);
  problem.style.display = message ? "" : "none";
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h("form", { class: "card stack sign-in", style: "width: min(460px, 100%)" },
    h("h1", null, "Sign in to Qorven"),
    problem,
    h("p", { style: "margin: 0" }, "Open the sign-in link that Qorven printed when it started. ",
      "No link at hand? Run ", h("code", null, "qorven login"),
      " in a terminal on this computer: it prints a new one (add ", h("code", null, "--open"), " to open it)."),
    h("p", { class: "muted small", style: "margin: 0" },
      "Or paste an API token. The first admin token is in the file admin-token in Qorven's data folder."),
    field("API token", input),
    h("div", { class: "actions" }, submit));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const t = input.value.trim();
    if (!t) return;
    submit.disabled = true;
    try {
      await signInWithToken(t);
      onSignedIn();
    } catch (err) {
      problem.style.display = "";
      problem.className = "error-box";
      problem.textContent = err.status === 401
        ? "That token was not accepted: it is unknown, revoked or mistyped."
        : `Could not sign in: ${err.message}`;
      submit.disabled = false;
      input.select();
    }
  });
  replace(root, form);
  input.focus();
}
