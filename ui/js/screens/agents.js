// Agents (Qors): a list on the left, the create/edit form on the right. Delete is a soft delete:
// the agent disappears from lists and chat, its sessions and memories stay.

import { h, icon, replace, field, checkbox, fullTime } from "../dom.js";
import { ICONS } from "../icons.js";
import { api, items } from "../api.js";
import { agents as loadAgents, invalidateAgents } from "../store.js";
import { errorBox, paneHead, confirmAction } from "../ui.js";
import { sentence, slugify } from "../forms.js";

// Chromium compiles `pattern` with the v flag, where a bare "-" inside a class is a syntax error
// (and an invalid pattern silently checks nothing): the hyphen is escaped.
const NAME_PATTERN = "[a-z0-9][a-z0-9_\\-]{0,47}";
const NAME_RULE = "1 to 48 lowercase letters, digits, - and _, starting with a letter or digit.";

/** What a tool is, for the checklist: its description, or where an MCP tool comes from. */
function toolAbout(t) {
  const mcp = /^mcp\.([^.]+)\./.exec(t.name || t.id || "");
  const from = mcp ? `From the MCP server ${mcp[1]}. ` : "";
  let text = (t.description || "").split("\n")[0].trim();
  if (text.length > 140) text = `${text.slice(0, 139).trimEnd()}…`;
  return `${from}${text || (mcp ? "" : "No description.")}`.trim();
}

export async function mount(container, { toast, navigate }) {
  const listEl = h("ul", { class: "list", "aria-label": "Agents" });
  const detail = h("div", { class: "pane-detail" });
  const newBtn = h("button", { type: "button", class: "primary small" }, icon(ICONS.plus, 14), "New agent");
  const restoreBtn = h("button", { type: "button", class: "ghost small", title: "Bring back any built-in agent that was deleted; edited ones stay as they are" }, "Restore built-in agents");
  container.append(h("div", { class: "split" },
    h("aside", { class: "pane-list" }, paneHead("Agents", newBtn), listEl, h("div", { class: "pane-foot" }, restoreBtn)), detail));

  let agents = [];
  let tools = [];
  let toolsError = null; // the tools list failed: keep each agent's tools as they are
  let models = [];
  let selected = null;

  try {
    const [a, t, m] = await Promise.all([
      loadAgents(),
      api.get("tools?limit=200").then(items).catch((e) => { toolsError = e; return []; }),
      api.get("models?limit=200").then(items).catch(() => []),
    ]);
    agents = a; tools = t;
    models = m.filter((x) => !x.qorven || x.qorven.kind !== "agent" && x.qorven.kind !== "embedding");
  } catch (e) {
    replace(detail, h("div", { class: "detail" }, errorBox(e)));
    return () => {};
  }

  function renderList() {
    listEl.replaceChildren();
    if (!agents.length) listEl.append(h("li", { class: "empty small" }, "No agents."));
    for (const a of agents) {
      const btn = h("button", { type: "button", class: "list-item", "aria-current": selected && selected.id === a.id ? "true" : "false" },
        h("span", { class: "title" }, a.display_name || a.name, a.builtin ? h("span", { class: "badge" }, "built-in") : null),
        h("span", { class: "sub" }, a.description || a.name));
      btn.addEventListener("click", () => { selected = a; renderList(); renderForm(a); });
      listEl.append(h("li", null, btn));
    }
  }

  function renderForm(agent, focus = true) {
    const isNew = !agent;
    const a = agent || { name: "", display_name: "", description: "", instructions: "", model: null, tools: [], memory: { enabled: true, auto_save: false }, temperature: 0.7 };
    const name = h("input", { type: "text", value: a.name || "", autocomplete: "off", spellcheck: "false", required: true,
      pattern: NAME_PATTERN, maxlength: "48", title: NAME_RULE, disabled: !!a.builtin });
    const displayName = h("input", { type: "text", value: a.display_name || "", autocomplete: "off" });
    // A new agent's name follows its display name until the name is edited by hand.
    let nameEdited = !isNew;
    name.addEventListener("input", () => { nameEdited = name.value !== ""; });
    displayName.addEventListener("input", () => { if (!nameEdited) name.value = slugify(displayName.value); });
    const description = h("input", { type: "text", value: a.description || "", autocomplete: "off" });
    const instructions = h("textarea", { rows: 8, value: a.instructions || "" });
    const model = h("select");
    model.append(h("option", { value: "" }, "Default model"));
    const modelIds = models.map((m) => m.id);
    if (a.model && !modelIds.includes(a.model)) modelIds.unshift(a.model);
    for (const id of modelIds) model.append(h("option", { value: id }, id));
    model.value = a.model || "";
    const temperature = h("input", { type: "number", min: "0", max: "2", step: "0.1", value: a.temperature ?? 0.7 });
    const memEnabled = checkbox("Use memory (recall before answering)", !!(a.memory && a.memory.enabled));
    const memAuto = checkbox("Save memories automatically", !!(a.memory && a.memory.auto_save));
    const toolChecks = tools.map((t, i) => {
      const aboutId = `tool-about-${i}`;
      const c = checkbox(t.name, (a.tools || []).includes(t.id) || (a.tools || []).includes(t.name), { value: t.id, "aria-describedby": aboutId });
      c.wrap = h("div", { class: `tool-choice${t.enabled === false ? " faint" : ""}` }, c.wrap,
        h("div", { class: "hint", id: aboutId }, toolAbout(t), t.permission === "admin" ? h("span", { class: "badge" }, "admin") : null));
      return c;
    });
    // tools the agent has that /v1/tools does not list now (their MCP server is disabled): kept on save
    const listed = new Set(tools.flatMap((t) => [t.id, t.name]));
    const kept = (a.tools || []).filter((id) => !listed.has(id));
    const save = h("button", { type: "submit", class: "primary" }, isNew ? "Create agent" : "Save");
    const del = isNew ? null : h("button", { type: "button", class: "danger" }, icon(ICONS.trash, 14), "Delete");
    const chat = isNew ? null : h("button", { type: "button" }, icon(ICONS.chat, 14), "Chat");

    const form = h("form", { class: "detail", "aria-label": isNew ? "New agent" : `Edit ${a.display_name || a.name}` },
      h("div", { class: "detail-head" }, h("h2", null, isNew ? "New agent" : (a.display_name || a.name)), chat),
      !isNew ? h("div", { class: "muted small" }, `${a.id} · created ${fullTime(a.created_at)}${a.updated_at ? ` · updated ${fullTime(a.updated_at)}` : ""}`) : null,
      h("div", { class: "grid2" },
        field("Display name", displayName, isNew ? "How the agent is shown." : null),
        field("Name", name, a.builtin ? "Built-in agents keep their names." : `Unique; used to @mention it and as qor:name. ${NAME_RULE}`)),
      field("Description", description),
      field("Instructions", instructions, "The system prompt: who this agent is and how it works."),
      h("div", { class: "grid2" }, field("Model", model), field("Temperature", temperature)),
      h("fieldset", null, h("legend", null, "Tools"),
        toolsError ? h("div", { class: "muted small" }, `The tools list could not be loaded (${sentence(toolsError)}) This agent keeps its tools: ${(a.tools || []).join(", ") || "none"}.`)
          : tools.length ? h("div", { class: "tool-list" }, toolChecks.map((c) => c.wrap)) : h("div", { class: "muted small" }, "No tools available."),
        !toolsError && kept.length ? h("div", { class: "muted small" },
          `Also keeps ${kept.join(", ")}: ${kept.length === 1 ? "its MCP server is" : "their MCP servers are"} turned off (Tools screen).`) : null),
      h("fieldset", null, h("legend", null, "Memory"), h("div", { class: "row wrap", style: "gap: 18px" }, memEnabled.wrap, memAuto.wrap)),
      h("div", { class: "actions" }, save, h("span", { class: "spacer" }), del));

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const t = parseFloat(temperature.value);
      const body = {
        display_name: displayName.value.trim() || null,
        description: description.value.trim(),
        instructions: instructions.value,
        model: model.value || null,
        memory: { enabled: memEnabled.input.checked, auto_save: memAuto.input.checked },
        temperature: Number.isFinite(t) ? t : null,
      };
      if (!toolsError) body.tools = [...toolChecks.filter((c) => c.input.checked).map((c) => c.input.value), ...kept];
      if (!a.builtin) body.name = name.value.trim();
      save.disabled = true;
      try {
        const saved = isNew ? await api.post("agents", body) : await api.patch(`agents/${encodeURIComponent(a.id)}`, body);
        invalidateAgents();
        agents = await loadAgents();
        selected = agents.find((x) => x.id === saved.id) || saved;
        renderList();
        renderForm(selected);
        toast(isNew ? `Created ${saved.display_name || saved.name}` : "Saved");
      } catch (err) {
        toast(sentence(err), "error");
      } finally {
        save.disabled = false;
      }
    });
    if (del) del.addEventListener("click", async () => {
      if (!confirmAction(`Delete ${a.display_name || a.name}? Its conversations and memories are kept.`)) return;
      try {
        await api.del(`agents/${encodeURIComponent(a.id)}`);
        invalidateAgents();
        agents = await loadAgents();
        selected = null;
        renderList();
        renderForm(null);
        toast("Deleted");
      } catch (err) {
        toast(sentence(err), "error");
      }
    });
    if (chat) chat.addEventListener("click", () => {
      try { sessionStorage.setItem("qorven.agent", a.id); } catch { /* ignore */ }
      navigate("chat");
    });
    replace(detail, form);
    if (focus) displayName.focus();
  }

  newBtn.addEventListener("click", () => { selected = null; renderList(); renderForm(null); });
  restoreBtn.addEventListener("click", async () => {
    restoreBtn.disabled = true;
    try {
      const r = await api.post("agents/restore-builtins", {});
      invalidateAgents();
      agents = await loadAgents();
      const names = (r.restored || []).map((x) => x.display_name || x.name);
      renderList();
      toast(names.length ? `Restored ${names.join(", ")}` : "All built-in agents are already here.");
    } catch (err) {
      toast(sentence(err), "error");
    } finally {
      restoreBtn.disabled = false;
    }
  });
  selected = agents[0] || null;
  renderList();
  renderForm(selected, false);
  return () => {};
}
