// Memory: browse an agent's (or the workspace's) memories, search them with relevance scores,
// add, edit and delete. Lists on the left, the chosen memory on the right.

import { h, icon, replace, field, select, fullTime } from "../dom.js";
import { ICONS } from "../icons.js";
import { api, items, qs } from "../api.js";
import { agents as loadAgents, agentLabel, defaultAgentId, prefs } from "../store.js";
import { errorBox, errorText, paneHead, confirmAction } from "../ui.js";
import { documentsPanel } from "./documents.js";

const KINDS = ["fact", "preference", "note", "skill", "summary"];
const SHOWN_RESULTS = 20;  // search results listed
const SEARCH_DEPTH = 60;   // asked for, before keeping those of the shown scope
const SCOPES = [
  { value: "agent", label: "Agent" },
  { value: "workspace", label: "Workspace" },
  { value: "session", label: "Session" },
];

export async function mount(container, { toast }) {
  let agents = [];
  try { agents = await loadAgents(); } catch (e) {
    container.append(h("div", { class: "detail" }, errorBox(e)));
    return () => {};
  }
  const state = {
    agentId: prefs.get("memory.agent") || defaultAgentId(agents),
    scope: prefs.get("memory.scope") || "agent",
    results: [],
    searching: false,
    selected: null,
  };
  if (!agents.some((a) => a.id === state.agentId)) state.agentId = defaultAgentId(agents);

  const agentSel = select(agents.map((a) => ({ value: a.id, label: a.display_name || a.name })), state.agentId, { id: "mem-agent" });
  const scopeSel = select(SCOPES, state.scope, { id: "mem-scope" });
  const query = h("input", { type: "search", placeholder: "Search memories", "aria-label": "Search memories", autocomplete: "off" });
  const searchBtn = h("button", { type: "submit" }, icon(ICONS.search, 14), "Search");
  const searchForm = h("form", { class: "row" }, query, searchBtn);
  const addBtn = h("button", { type: "button", class: "primary small" }, icon(ICONS.plus, 14), "Add memory");
  const info = h("div", { class: "muted small", role: "status" });
  const listEl = h("ul", { class: "list", "aria-label": "Memories" });
  const detail = h("div");
  const docs = documentsPanel({ toast, audience: () => (state.scope === "agent"
    ? { scope: "agent", agent_id: state.agentId, label: agentLabel(agents, state.agentId) + " only" }
    : { scope: "workspace", label: "every agent (workspace)" }) });

  container.append(h("div", { class: "split" },
    h("aside", { class: "pane-list" }, paneHead("Memory", addBtn),
      h("div", { class: "pane-tools" },
        h("div", { class: "grid2" }, field("Agent", agentSel), field("Scope", scopeSel)),
        searchForm, info),
      listEl),
    h("div", { class: "pane-detail" }, detail, docs.el)));

  function renderList() {
    listEl.replaceChildren();
    info.textContent = state.searching ? `${state.results.length} result${state.results.length === 1 ? "" : "s"} for “${query.value.trim()}”` : `${state.results.length} memor${state.results.length === 1 ? "y" : "ies"}`;
    if (!state.results.length) listEl.append(h("li", { class: "empty small" }, state.searching ? "Nothing matches." : "No memories in this scope yet."));
    for (const m of state.results) {
      const btn = h("button", { type: "button", class: "list-item", "aria-current": state.selected && state.selected.id === m.id ? "true" : "false" },
        h("span", { class: "title" },
          typeof m.score === "number" ? h("span", { class: "badge accent mono", title: scoreTitle(m) }, m.score.toFixed(2)) : null,
          h("span", { class: "grow", style: "overflow:hidden;text-overflow:ellipsis" }, m.content)),
        h("span", { class: "sub" }, [m.kind, m.scope, m.scope === "agent" ? agentLabel(agents, m.agent_id) : "", typeof m.importance === "number" ? `importance ${m.importance}` : ""].filter(Boolean).join(" · ")));
      btn.addEventListener("click", () => { state.selected = m; renderList(); renderDetail(m); });
      listEl.append(h("li", null, btn));
    }
  }

  function scoreTitle(m) {
    const match = m.match || {};
    const parts = [];
    if (typeof match.semantic === "number") parts.push(`#${match.semantic} by meaning`);
    if (typeof match.keyword === "number") parts.push(`#${match.keyword} by keywords`);
    // the score says how well it matches (0 to 1); the ranks say where it stood among the candidates
    return parts.length ? `Relevance ${m.score.toFixed(2)} (${parts.join(", ")})` : `Relevance ${m.score.toFixed(2)}`;
  }

  async function browse() {
    state.searching = false;
    listEl.replaceChildren(h("li", { class: "empty small" }, "Loading…"));
    try {
      const params = { scope: state.scope, limit: 100 };
      if (state.scope !== "workspace") params.agent_id = state.agentId;
      state.results = items(await api.get(qs("memory", params)));
    } catch (e) {
      state.results = [];
      listEl.replaceChildren(h("li", null, errorBox(e)));
      return;
    }
    renderList();
  }

  // The API's agent scope also sees workspace memories, and its session scope needs one session: search
  // widely enough, then keep what the Scope filter shows (the same memories browsing lists).
  function searchBody(q) {
    const body = { scope: state.scope === "agent" ? "agent" : "workspace", query: q, max_results: SEARCH_DEPTH };
    if (state.scope === "agent") body.agent_id = state.agentId;
    return body;
  }

  function inShownScope(list) {
    return list.filter((m) => m.scope === state.scope && (state.scope === "workspace" || m.agent_id === state.agentId));
  }

  function showScope(scope, agentId) {
    state.scope = scope;
    scopeSel.value = scope;
    prefs.set("memory.scope", scope);
    if (agentId && scope !== "workspace" && agents.some((a) => a.id === agentId)) {
      state.agentId = agentId;
      agentSel.value = agentId;
      prefs.set("memory.agent", agentId);
    }
    agentSel.disabled = scope === "workspace";
  }

  async function search() {
    const q = query.value.trim();
    if (!q) return browse();
    searchBtn.disabled = true;
    try {
      state.results = inShownScope(items(await api.post("memory/search", searchBody(q)))).slice(0, SHOWN_RESULTS);
      state.searching = true;
      renderList();
    } catch (e) {
      toast(errorText(e), "error");
    } finally {
      searchBtn.disabled = false;
    }
  }

  function renderDetail(m) {
    const isNew = !m;
    const mem = m || { scope: state.scope === "session" ? "agent" : state.scope, kind: "fact", content: "", importance: 0.5, agent_id: state.agentId };
    const content = h("textarea", { rows: 6, value: mem.content || "", required: true });
    const kind = select(KINDS.map((k) => ({ value: k, label: k })), mem.kind || "fact");
    const importance = h("input", { type: "number", min: "0", max: "1", step: "0.05", value: mem.importance ?? 0.5 });
    const scope = select(SCOPES.filter((s) => s.value !== "session"), mem.scope === "session" ? "agent" : mem.scope, { disabled: !isNew });
    const save = h("button", { type: "submit", class: "primary" }, isNew ? "Save memory" : "Save");
    const del = isNew ? null : h("button", { type: "button", class: "danger" }, icon(ICONS.trash, 14), "Delete");
    const form = h("form", { class: "detail", "aria-label": isNew ? "New memory" : "Edit memory" },
      h("div", { class: "detail-head" }, h("h2", null, isNew ? "New memory" : "Memory")),
      !isNew ? h("div", { class: "muted small" }, [mem.id, mem.source ? `from ${mem.source}` : "", `created ${fullTime(mem.created_at)}`, mem.last_recalled_at ? `last recalled ${fullTime(mem.last_recalled_at)}` : ""].filter(Boolean).join(" · ")) : null,
      field("Content", content),
      h("div", { class: "grid3" }, field("Kind", kind), field("Importance", importance, "0 to 1"), field("Scope", scope,
        isNew ? (scope.value === "agent" ? `For ${agentLabel(agents, state.agentId)}` : "Shared by every agent") : (mem.scope === "agent" ? agentLabel(agents, mem.agent_id) : ""))),
      typeof mem.score === "number" ? h("div", { class: "notice small" }, scoreTitle(mem)) : null,
      h("div", { class: "actions" }, save, h("span", { class: "spacer" }), del));
    scope.addEventListener("change", () => {
      const hint = scope.parentElement.querySelector(".hint");
      if (hint) hint.textContent = scope.value === "agent" ? `For ${agentLabel(agents, state.agentId)}` : "Shared by every agent";
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const imp = parseFloat(importance.value);
      save.disabled = true;
      try {
        if (isNew) {
          const body = { scope: scope.value, kind: kind.value, content: content.value.trim(), importance: Number.isFinite(imp) ? imp : 0.5 };
          if (scope.value === "agent") body.agent_id = state.agentId;
          const saved = await api.post("memory/save", body);
          const elsewhere = saved && (saved.scope !== state.scope || (saved.scope !== "workspace" && saved.agent_id !== state.agentId));
          if (elsewhere) showScope(saved.scope, saved.agent_id); // show it where it was saved, not hide it
          const label = (SCOPES.find((x) => x.value === saved.scope) || {}).label || saved.scope;
          toast((saved && saved.deduplicated ? "Updated a near-identical memory" : "Memory saved") + (elsewhere ? ` (showing ${label} memories)` : ""));
          state.selected = saved;
        } else {
          state.selected = await api.patch(`memory/${encodeURIComponent(mem.id)}`, { content: content.value.trim(), kind: kind.value, importance: Number.isFinite(imp) ? imp : mem.importance });
          toast("Saved");
        }
        query.value = "";
        await browse();
        if (state.selected) renderDetail(state.results.find((x) => x.id === state.selected.id) || state.selected);
      } catch (err) {
        toast(errorText(err), "error");
      } finally {
        save.disabled = false;
      }
    });
    if (del) del.addEventListener("click", async () => {
      if (!confirmAction("Delete this memory?")) return;
      try {
        await api.del(`memory/${encodeURIComponent(mem.id)}`);
        state.results = state.results.filter((x) => x.id !== mem.id);
        state.selected = null;
        renderList();
        renderDetail(null);
        toast("Deleted");
      } catch (err) {
        toast(errorText(err), "error");
      }
    });
    replace(detail, form);
  }

  agentSel.addEventListener("change", () => { state.agentId = agentSel.value; prefs.set("memory.agent", state.agentId); query.value ? search() : browse(); });
  scopeSel.addEventListener("change", () => { state.scope = scopeSel.value; prefs.set("memory.scope", state.scope); agentSel.disabled = state.scope === "workspace"; query.value ? search() : browse(); });
  searchForm.addEventListener("submit", (e) => { e.preventDefault(); search(); });
  query.addEventListener("search", () => { if (!query.value) browse(); });
  addBtn.addEventListener("click", () => { state.selected = null; renderList(); renderDetail(null); });

  agentSel.disabled = state.scope === "workspace";
  renderDetail(null);
  await browse();
  docs.refresh();
  return () => docs.dispose();
}
