// Small shared caches, so switching screens does not refetch what rarely changes. Screens that
// change agents or providers call the matching invalidate().

import { api, items } from "./api.js";

let agentsPromise = null;
const BUILTIN_ORDER = ["prime", "researcher", "writer", "developer", "analyst"];

/** Oldest first, the built-in team in its usual order (Prime leads), then by name. */
function agentOrder(a, b) {
  const rank = (x) => (BUILTIN_ORDER.includes(x.name) ? BUILTIN_ORDER.indexOf(x.name) : BUILTIN_ORDER.length);
  return rank(a) - rank(b) || String(a.created_at || "").localeCompare(String(b.created_at || "")) ||
    (a.display_name || a.name).localeCompare(b.display_name || b.name);
}

/** All (non-deleted) agents, fetched once and shared by Chat, Memory, Rooms and Channels. */
export function agents() {
  if (!agentsPromise) {
    agentsPromise = api.get("agents?limit=200").then((res) => items(res).sort(agentOrder))
      .catch((e) => { agentsPromise = null; throw e; });
  }
  return agentsPromise;
}

/** The agent a screen starts with: the one last chosen in this tab, else Prime, else the first. */
export function defaultAgentId(list) {
  const chosen = prefs.get("agent");
  const pick = list.find((a) => a.id === chosen) || list.find((a) => a.name === "prime") || list[0];
  return pick ? pick.id : "";
}

export function invalidateAgents() { agentsPromise = null; }

/** "Researcher" for an agent id, falling back to its name or the id. */
export function agentLabel(list, id) {
  const a = list.find((x) => x.id === id || x.name === id);
  return a ? (a.display_name || a.name) : (id || "Agent");
}

/** Remembered UI choices for this tab (not secrets). */
export const prefs = {
  get(key, fallback = "") {
    try { return sessionStorage.getItem(`qorven.${key}`) ?? fallback; } catch { return fallback; }
  },
  set(key, value) {
    try { sessionStorage.setItem(`qorven.${key}`, value); } catch { /* ignore */ }
  },
};

let defaultModelPromise = null;

/** The tenant's default model id ("" when none), fetched once per page. */
export function defaultModel() {
  if (!defaultModelPromise) {
    defaultModelPromise = api.get("models/default").then((r) => (r && r.model) || "").catch(() => "");
  }
  return defaultModelPromise;
}

export function invalidateDefaultModel() { defaultModelPromise = null; }
