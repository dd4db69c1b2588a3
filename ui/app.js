// Qorven Local UI: boot (sign-in → first-run check → shell), the left rail and the hash router.
// Each screen is a module under js/screens/ exporting mount(container, ctx) → cleanup.

import { h, icon, replace } from "./js/dom.js";
import { ICONS } from "./js/icons.js";
import { api, items, onUnauthorized } from "./js/api.js";
import { mountSignIn, signInFromLink, signOut } from "./js/token.js";
import { connect, disconnect, onLiveState } from "./js/live.js";
import { toast, errorBox } from "./js/ui.js";
import { prefs } from "./js/store.js";
import { mountOfflineBanner } from "./js/offline-banner.js";

const SCREENS = [
  { route: "chat", label: "Chat", icon: ICONS.chat, load: () => import("./js/screens/chat.js") },
  { route: "agents", label: "Agents", icon: ICONS.agents, load: () => import("./js/screens/agents.js") },
  { route: "memory", label: "Memory", icon: ICONS.memory, load: () => import("./js/screens/memory.js") },
  { route: "rooms", label: "Rooms", icon: ICONS.rooms, load: () => import("./js/screens/rooms.js") },
  { route: "channels", label: "Channels", icon: ICONS.channels, load: () => import("./js/screens/channels.js") },
  { route: "models", label: "Models", icon: ICONS.models, load: () => import("./js/screens/models.js") },
  { route: "settings", label: "Settings", icon: ICONS.settings, load: () => import("./js/screens/settings.js") },
  { route: "tools", label: "Tools", icon: ICONS.tools, load: () => import("./js/screens/tools.js") },
];

const root = document.getElementById("app");
let mainEl = null;
let railLinks = new Map();
let cleanup = null;
let mountSeq = 0;

// ---- theme ---------------------------------------------------------------------------------------

export function currentTheme() {
  const set = document.documentElement.dataset.theme;
  if (set) return set;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function setTheme(theme) {
  document.documentElement.dataset.theme = theme;
  try { localStorage.setItem("qorven.theme", theme); } catch { /* ignore */ }
  document.dispatchEvent(new CustomEvent("qorven:theme", { detail: theme }));
}

function themeButton() {
  const btn = h("button", { type: "button", class: "ghost icon-btn" });
  const paint = () => {
    const dark = currentTheme() === "dark";
    btn.replaceChildren(icon(dark ? ICONS.sun : ICONS.moon));
    btn.setAttribute("aria-label", dark ? "Switch to light theme" : "Switch to dark theme");
    btn.title = btn.getAttribute("aria-label");
  };
  btn.addEventListener("click", () => setTheme(currentTheme() === "dark" ? "light" : "dark"));
  document.addEventListener("qorven:theme", paint);
  paint();
  return btn;
}

// ---- routing -------------------------------------------------------------------------------------

function currentRoute() {
  const m = location.hash.match(/^#\/([a-z]+)/);
  return m ? m[1] : "";
}

export function navigate(route) {
  if (`#/${route}` !== location.hash) location.hash = `#/${route}`;
  else render();
}

async function render() {
  const route = currentRoute() || "chat";
  if (route === "setup") return showSetup();
  if (!mainEl) buildShell();
  const screen = SCREENS.find((s) => s.route === route) || SCREENS[0];
  for (const [r, a] of railLinks) {
    if (r === screen.route) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = `${screen.label} · Qorven Local`;
  const seq = ++mountSeq;
  if (cleanup) { try { cleanup(); } catch (e) { console.error(e); } cleanup = null; }
  replace(mainEl, h("div", { class: "empty" }, "Loading…"));
  try {
    const mod = await screen.load();
    if (seq !== mountSeq) return;
    mainEl.replaceChildren();
    cleanup = (await mod.mount(mainEl, { navigate, toast })) || null;
  } catch (e) {
    if (seq !== mountSeq) return;
    console.error(e);
    replace(mainEl, h("div", { class: "detail" }, errorBox(e)));
  }
}

function buildShell() {
  railLinks = new Map();
  const nav = h("nav", { class: "rail", "aria-label": "Screens" },
    h("div", { class: "brand", "aria-hidden": "true", title: "Qorven Local" }, "Q"));
  for (const s of SCREENS) {
    const a = h("a", { href: `#/${s.route}` }, icon(s.icon, 20), h("span", null, s.label));
    railLinks.set(s.route, a);
    nav.append(a);
  }
  const liveDot = h("span", { class: "dot" });
  const liveText = h("span", null, "offline");
  const live = h("div", { class: "live", title: "Live updates" }, liveDot, liveText);
  onLiveState((state) => {
    liveDot.className = `dot ${state === "live" ? "ok" : state === "connecting" ? "warn" : ""}`;
    liveText.textContent = state;
  });
  nav.append(h("div", { class: "bottom" }, themeButton(), signOutButton(), live));
  mainEl = h("main", { class: "main", id: "main" });
  root.className = "shell";
  replace(root, nav, mainEl);
}

async function showSetup() {
  if (cleanup) { try { cleanup(); } catch { /* ignore */ } cleanup = null; }
  mainEl = null;
  root.className = "";
  root.replaceChildren();
  document.title = "Set up · Qorven Local";
  const mod = await import("./js/screens/setup.js");
  cleanup = (await mod.mount(root, {
    navigate,
    toast,
    done: () => { prefs.set("setupDone", "1"); navigate("chat"); },
  })) || null;
}

// ---- sign-in -------------------------------------------------------------------------------------

function showTokenForm(message, notice = false) {
  disconnect();
  mainEl = null;
  root.className = "boot";
  document.title = "Sign in · Qorven Local";
  mountSignIn(root, { message, notice, onSignedIn: () => start() });
}

const SIGN_OUT_ICON = ["M10 4H5v16h5", "M15 8l4 4-4 4", "M19 12H9"];

function signOutButton() {
  const btn = h("button", { type: "button", class: "ghost icon-btn", "aria-label": "Sign out", title: "Sign out" },
    icon(SIGN_OUT_ICON));
  btn.addEventListener("click", async () => {
    try { await signOut(); } catch (e) { toast(`Could not sign out: ${e.message}`, "error"); return; }
    showTokenForm("You are signed out.", true);
  });
  return btn;
}

// ---- boot ----------------------------------------------------------------------------------------

async function start() {
  let providers = null;
  try {
    providers = items(await api.get("providers"));
  } catch (e) {
    if (e.status === 401) return showTokenForm();
    if (!e.status || e.status === 429 || e.status >= 500) {
      root.className = "boot";
      replace(root, h("div", { class: "card stack", style: "width: 480px" },
        h("h1", null, "Qorven is not answering"), errorBox(e),
        h("div", { class: "actions" }, h("button", { type: "button", onclick: () => start() }, "Try again"))));
      return;
    }
    // Any other answer (e.g. a server without the providers API): skip first-run setup.
  }
  connect();
  if (providers && !prefs.get("setupDone") && await needsSetup(providers)) {
    history.replaceState(null, "", `${location.pathname}${location.search}#/setup`);
  } else if (!currentRoute() || currentRoute() === "setup") {
    history.replaceState(null, "", `${location.pathname}${location.search}#/chat`);
  }
  render();
}

/** First run: nothing to talk to yet (no provider but the built-in local one, and no default model). */
async function needsSetup(providers) {
  if (providers.some((p) => p.kind !== "local")) return false;
  const current = await api.get("models/default").catch(() => null);
  return !(current && current.model);
}

onUnauthorized(() => {
  showTokenForm("Your sign-in has ended (signed out elsewhere, or its token was revoked).");
});

window.addEventListener("hashchange", () => {
  if (/^#(.*&)?(login|token)=/.test(location.hash)) boot();  // a sign-in link pasted into this tab
  else if (root.className !== "boot") render();
});

// Keyboard: Alt+1..7 jumps between screens.
window.addEventListener("keydown", (e) => {
  if (e.altKey && !e.ctrlKey && !e.metaKey && /^[1-7]$/.test(e.key)) {
    e.preventDefault();
    navigate(SCREENS[Number(e.key) - 1].route);
  }
});

mountOfflineBanner(); // once, above every screen

async function boot() {
  const { error } = await signInFromLink();
  if (error) showTokenForm(error);
  else start();
}

boot();
