// The Chat screen's conversations column: "New chat", "Search sessions" (titles and message text,
// searched by the server, best first), the "All agents" switch, conversations grouped by day, and
// on each one "Rename conversation", "Export conversation" (Markdown / JSON) and "Delete conversation".

import { h, icon, shortTime, fullTime, dayLabel, debounce } from "./dom.js";
import { ICONS } from "./icons.js";
import { api, items, qs, authHeaders, ApiError } from "./api.js";
import { agentLabel, prefs } from "./store.js";
import { confirmAction, errorText, toast } from "./ui.js";
import { actionBar } from "./chat-views.js";

export function sessionTime(s) { return s.last_message_at || s.updated_at || s.created_at || ""; }

export function sessionTitle(s) {
  return s.title || s.localTitle || (s.channel && s.channel !== "web" ? `${s.channel} conversation` : "Untitled chat");
}

/**
 * The list of conversations. `host` supplies what the list needs from the screen:
 * agents() (all agents), agentId() (the current agent), currentId() (the open session),
 * open(session), newChat(), removed(id) (a conversation was deleted).
 */
export class ConversationList {
  constructor(host) {
    this.host = host;
    this.sessions = [];
    this.results = null;        // search results (best first) while a search is typed
    this.query = "";
    this.allAgents = prefs.get("chat.allAgents", "1") === "1";
    this.search = h("input", { type: "search", placeholder: "Search sessions", "aria-label": "Search sessions", autocomplete: "off" });
    this.newChat = h("button", { type: "button", class: "primary", title: "Start a new conversation" }, icon(ICONS.plus, 16), "New chat");
    // Which conversations to list; its name avoids "agent" so the "Agent" picker's label stays unique.
    this.scope = h("select", { "aria-label": "Show conversations of", class: "scope" },
      h("option", { value: "all" }, "All agents"), h("option", { value: "one" }, "This agent only"));
    this.scope.value = this.allAgents ? "all" : "one";
    this.list = h("ul", { class: "list", "aria-label": "Conversations" });
    this.el = h("aside", { class: "sessions", "aria-label": "Sessions" },
      h("div", { class: "pane-tools" }, this.newChat, this.search, this.scope),
      this.list);
    this.newChat.addEventListener("click", () => host.newChat());
    const runSearch = debounce(() => this.runSearch(), 250);
    this.search.addEventListener("input", () => { this.query = this.search.value.trim(); runSearch(); });
    this.scope.addEventListener("change", async () => {
      this.allAgents = this.scope.value === "all";
      prefs.set("chat.allAgents", this.allAgents ? "1" : "0");
      await this.load();
      if (this.query) await this.runSearch();
    });
  }

  find(id) { return this.sessions.find((s) => s.id === id) || (this.results || []).find((s) => s.id === id) || null; }

  /** Fetch the conversations: every agent's, or the current agent's. */
  async load() {
    const agentId = this.allAgents ? undefined : this.host.agentId();
    try {
      const kept = new Map(this.sessions.map((s) => [s.id, s.localTitle]));
      this.sessions = items(await api.get(qs("sessions", { agent_id: agentId, limit: 100 })))
        .map((s) => (kept.get(s.id) ? { ...s, localTitle: kept.get(s.id) } : s));
    } catch (e) {
      this.sessions = [];
      toast(errorText(e), "error");
    }
    this.render();
  }

  async runSearch() {
    const q = this.query;
    if (!q) { this.results = null; this.render(); return; }
    try {
      const found = items(await api.get(qs("sessions", { q, agent_id: this.allAgents ? undefined : this.host.agentId(), limit: 50 })));
      if (q === this.query) { this.results = found; this.render(); }
    } catch (e) {
      toast(errorText(e), "error");
    }
  }

  /** Add or refresh one conversation (a new chat, a renamed one) and redraw. */
  upsert(session) {
    const old = this.find(session.id);
    const merged = old ? { ...old, ...session } : session;
    this.sessions = [merged, ...this.sessions.filter((s) => s.id !== session.id)];
    if (this.results) this.results = this.results.map((s) => (s.id === session.id ? merged : s));
    this.render();
    return merged;
  }

  render() {
    const list = this.results ?? [...this.sessions].sort((a, b) => sessionTime(b).localeCompare(sessionTime(a)));
    this.list.replaceChildren();
    if (!list.length) {
      this.list.append(h("li", { class: "empty small" }, this.results ? "No conversation mentions that." : "No conversations yet."));
      return;
    }
    let group = "";
    for (const s of list) {
      // Search results keep their best-first order under one heading; the list is grouped by day.
      const label = this.results ? "Best matches" : dayLabel(sessionTime(s));
      if (label !== group) {
        group = label;
        this.list.append(h("li", { class: "group" }, label));
      }
      this.list.append(this.item(s));
    }
  }

  item(s) {
    const current = s.id === this.host.currentId();
    const agents = this.host.agents();
    const sub = [shortTime(sessionTime(s)), this.allAgents ? agentLabel(agents, s.agent_id) : "",
      s.message_count ? `${s.message_count} message${s.message_count === 1 ? "" : "s"}` : "", s.channel && s.channel !== "web" ? s.channel : "",
      s.status === "archived" ? "archived" : ""].filter(Boolean).join(" · ");
    const title = h("span", { class: "title" }, sessionTitle(s));
    const open = h("button", { type: "button", class: "list-item", "aria-current": current ? "true" : "false", title: fullTime(sessionTime(s)) },
      title, h("span", { class: "sub" }, sub));
    open.addEventListener("click", () => this.host.open(s));
    const li = h("li", { class: "session-row", "data-id": s.id }, open);
    li.append(actionBar([
      { label: "Rename conversation", icon: "edit", run: () => this.rename(s, li, open) },
      { label: "Export conversation", icon: "download", run: (b) => this.exportMenu(s, li, b) },
      { label: "Delete conversation", icon: "trash", run: () => this.remove(s) },
    ]));
    return li;
  }

  rename(s, li, open) {
    const input = h("input", { type: "text", value: sessionTitle(s), "aria-label": "Conversation title", maxlength: "200" });
    const form = h("form", { class: "rename" }, input);
    let done = false;
    const finish = async (save, refocus = true) => {
      if (done) return;
      done = true;
      const title = input.value.trim();
      if (save && title && title !== sessionTitle(s)) {
        try {
          this.upsert(await api.patch(`sessions/${encodeURIComponent(s.id)}`, { title }));
        } catch (e) {
          toast(errorText(e), "error");
          this.render();
        }
      } else {
        this.render();
      }
      if (refocus) this.focusRow(s.id); // keyboard users go on from the conversation they renamed
    };
    form.addEventListener("submit", (e) => { e.preventDefault(); finish(true); });
    input.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); finish(false); } });
    input.addEventListener("blur", () => finish(true, false)); // focus went elsewhere on purpose
    li.replaceChildren(form);
    input.focus();
    input.select();
  }

  exportMenu(s, li, button) {
    const open = li.querySelector(".export-menu");
    if (open) { open.remove(); return; }
    const pick = (fmt) => async () => { menu.remove(); await download(s, fmt); button.focus(); };
    const menu = h("div", { class: "export-menu", role: "group", "aria-label": "Export format" },
      h("button", { type: "button", onclick: pick("markdown") }, "Markdown"),
      h("button", { type: "button", onclick: pick("json") }, "JSON"));
    li.append(menu);
    menu.querySelector("button").focus();
  }

  async remove(s) {
    if (!confirmAction(`Delete "${sessionTitle(s)}" and all its messages for good?`)) return;
    try {
      await api.del(`sessions/${encodeURIComponent(s.id)}?purge=true`);
    } catch (e) {
      toast(errorText(e), "error");
      return;
    }
    const shown = [...this.list.querySelectorAll(".session-row")].map((li) => li.dataset.id);
    const next = shown[shown.indexOf(s.id) + 1] || shown[shown.indexOf(s.id) - 1];
    this.sessions = this.sessions.filter((x) => x.id !== s.id);
    if (this.results) this.results = this.results.filter((x) => x.id !== s.id);
    this.render();
    toast("Conversation deleted.");
    this.host.removed(s.id);
    // Focus moves to the neighbouring conversation (or "New chat"), not to the page's body.
    if (!next || !this.focusRow(next)) this.newChat.focus();
  }

  /** Focus a conversation's row; false when it is not shown. */
  focusRow(id) {
    const row = [...this.list.querySelectorAll(".session-row")].find((li) => li.dataset.id === id);
    const button = row && row.querySelector(".list-item");
    if (button) button.focus();
    return !!button;
  }
}

/** Download a conversation's export as a file (fetched with the app's credentials, saved from a blob). */
async function download(s, fmt) {
  try {
    const res = await fetch(`/api/sessions/${encodeURIComponent(s.id)}/export?format=${fmt}`, { headers: authHeaders() });
    if (!res.ok) {
      let body = null;
      try { body = await res.json(); } catch { body = null; }
      throw new ApiError(res.status, body, `HTTP ${res.status}`);
    }
    const name = /filename="?([^";]+)"?/.exec(res.headers.get("Content-Disposition") || "");
    const url = URL.createObjectURL(await res.blob());
    const a = h("a", { href: url, download: name ? name[1] : `conversation.${fmt === "json" ? "json" : "md"}`, class: "hidden" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    toast(errorText(e), "error");
  }
}
