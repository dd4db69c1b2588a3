// Small shared caches, so switching screens does not refetch what rarely changes. Screens that
// change agents or providers call the matching invalidate().

import { api, items } from "./api.js";

let agentsPromise = null;

/** All (non-deleted) agents, fetched once and shared by Chat, Memory, Rooms and Channels. */
export function agents() {
  if (!agentsPromise) {
    agentsPromise = api.get("agents?limit=200").then(items).catch((e) => { agentsPromise = null; throw e; });
  }
  return agentsPromise;
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
