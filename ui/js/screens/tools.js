// Tools: the built-in tools agents can be given, and the MCP servers whose tools join them
// (mcp.<server>.<tool>). Add a server (a command Qorven starts, or a URL), test it, see its status,
// error and tools, enable/disable or delete it. env and headers are write-only.

import { h, icon, replace, field, select, checkbox } from "../dom.js";
import { ICONS } from "../icons.js";
import { api, items } from "../api.js";
import { errorBox, errorText, paneHead, confirmAction, busy } from "../ui.js";

const STATUS = { connected: { cls: "ok", text: "Connected" }, error: { cls: "bad", text: "Error" },
  disabled: { cls: "", text: "Disabled" } };

/** "KEY=value" (env) or "Name: value" (headers) lines → object; blank lines skipped. */
function pairs(text, sep) {
  const out = {};
  for (const line of text.split("\n")) {
    const i = line.indexOf(sep);
    if (!line.trim() || i < 1) continue;
    out[line.slice(0, i).trim()] = line.slice(i + sep.length).trim();
  }
  return out;
}

export async function mount(container, { toast }) {
  const listEl = h("ul", { class: "list", "aria-label": "MCP servers" });
  const detail = h("div", { class: "pane-detail" });
  const builtinBtn = h("button", { type: "button", class: "list-item" },
    h("span", { class: "title" }, icon(ICONS.tool, 14), "Built-in tools"),
    h("span", { class: "sub" }, "Always available to agents"));
  const addBtn = h("button", { type: "button", class: "primary small" }, icon(ICONS.plus, 14), "Add MCP server");
  container.append(h("div", { class: "split" },
    h("aside", { class: "pane-list" }, paneHead("Tools", addBtn), h("ul", { class: "list fixed" }, h("li", null, builtinBtn)),
      h("h2", { class: "list-head small muted" }, "MCP servers"), listEl),
    detail));

  let tools = [];
  let servers = [];
  let selected = "builtin";
  async function load() {
    const [t, s] = await Promise.all([api.get("tools?limit=200").then(items), api.get("mcp/servers?limit=200").then(items)]);
    tools = t; servers = s;
  }
  try {
    await load();
  } catch (e) {
    replace(detail, h("div", { class: "detail" }, errorBox(e)));
    return () => {};
  }

  function renderList() {
    builtinBtn.setAttribute("aria-current", selected === "builtin" ? "true" : "false");
    listEl.replaceChildren();
    if (!servers.length) listEl.append(h("li", { class: "empty small" }, "No MCP servers yet."));
    for (const s of servers) {
      const st = STATUS[s.status] || STATUS.error;
      const btn = h("button", { type: "button", class: "list-item", "aria-current": selected === s.id ? "true" : "false" },
        h("span", { class: "title" }, h("span", { class: `dot ${st.cls}`, title: st.text }), s.name),
        h("span", { class: "sub" }, `${st.text} · ${s.tools.length} tool${s.tools.length === 1 ? "" : "s"}`));
      btn.addEventListener("click", () => show(s.id));
      listEl.append(h("li", null, btn));
    }
  }

  function show(id) {
    selected = id;
    renderList();
    if (id === "builtin") renderBuiltins();
    else if (id === "new") renderForm(null);
    else renderServer(servers.find((s) => s.id === id));
  }

  function toolTable(list) {
    if (!list.length) return h("p", { class: "muted" }, "No tools listed yet. Test the server to list them.");
    return h("ul", { class: "stack tool-list", "aria-label": "Tools" }, list.map((t) =>
      h("li", { class: "card" },
        h("div", null, h("strong", { class: "mono" }, t.name), t.permission === "admin" ? h("span", { class: "badge warn" }, " admin only") : null),
        h("p", { class: "muted small", style: "margin: 4px 0 0" }, t.description || "(no description)"))));
  }

  function renderBuiltins() {
    const builtins = tools.filter((t) => t.builtin);
    replace(detail, h("div", { class: "detail stack" },
      h("div", { class: "detail-head" }, h("h2", null, "Built-in tools")),
      h("p", { class: "muted" }, "Give these to an agent on the Agents screen. Tools from MCP servers appear there too, named mcp.<server>.<tool>."),
      toolTable(builtins)));
  }

  /** The server form: a new server, or ``existing`` edited (its transport stays; env/headers are
   *  write-only, so empty keeps the stored ones). */
  function renderForm(existing) {
    const editing = Boolean(existing);
    const e = existing || { name: "", transport: "stdio", command: "", args: [], cwd: "", url: "" };
    const name = h("input", { type: "text", required: true, autocomplete: "off", spellcheck: "false", placeholder: "files", value: e.name });
    const transport = select([{ value: "stdio", label: "Command (stdio)" }, { value: "http", label: "URL (streamable HTTP)" }], e.transport,
      editing ? { disabled: true } : {});
    const command = h("input", { type: "text", autocomplete: "off", spellcheck: "false", placeholder: "npx", value: e.command || "" });
    const args = h("textarea", { rows: 3, class: "mono", spellcheck: "false", placeholder: "-y\n@modelcontextprotocol/server-filesystem\n/home/me/notes" });
    args.value = (e.args || []).join("\n");
    const cwd = h("input", { type: "text", autocomplete: "off", spellcheck: "false", placeholder: "/home/me/project", value: e.cwd || "" });
    const env = h("textarea", { rows: 2, class: "mono", spellcheck: "false", placeholder: "API_KEY=..." });
    const url = h("input", { type: "url", autocomplete: "off", spellcheck: "false", placeholder: "http://127.0.0.1:8000/mcp", value: e.url || "" });
    const headers = h("textarea", { rows: 2, class: "mono", spellcheck: "false", placeholder: "Authorization: Bearer ..." });
    const secretHint = editing ? "stored encrypted and never shown: leave empty to keep the stored ones, or enter them all anew"
      : "stored encrypted, never shown again";
    const stdioPart = h("div", { class: "stack" }, field("Command", command, "The program Qorven starts when a tool is first used (its full path if it is not on Qorven's PATH)"),
      field("Arguments", args, "One per line"), field("Working folder", cwd, "Optional; where the command runs"),
      field("Environment", env, `KEY=value, one per line; ${secretHint}`));
    const httpPart = h("div", { class: "stack" }, field("URL", url),
      field("Headers", headers, `Name: value, one per line; ${secretHint}`));
    // the class, not the hidden attribute: .stack's display: flex would show a hidden part anyway
    const sync = () => { stdioPart.classList.toggle("hidden", transport.value !== "stdio"); httpPart.classList.toggle("hidden", transport.value !== "http"); };
    transport.addEventListener("change", sync);
    sync();
    const label = editing ? "Save server" : "Add server";
    const save = h("button", { type: "submit", class: "primary" }, label);
    const cancel = editing ? h("button", { type: "button" }, "Cancel") : null;
    if (cancel) cancel.addEventListener("click", () => show(existing.id));
    const problem = h("div", { class: "error-box", role: "alert", hidden: true });
    const form = h("form", { class: "card stack", "aria-label": editing ? `Edit MCP server ${e.name}` : "New MCP server" },
      h("div", { class: "grid2" }, field("Name", name, "Lower-case; tools become mcp.<name>.<tool>"), field("Transport", transport)),
      stdioPart, httpPart, problem, h("div", { class: "actions" }, save, cancel));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = { name: name.value.trim() };
      if (!editing) body.transport = transport.value;
      if (transport.value === "stdio") {
        body.command = command.value.trim();
        body.args = args.value.split("\n").map((a) => a.trim()).filter(Boolean);
        body.cwd = cwd.value.trim() || null;
        const envs = pairs(env.value, "=");
        if (Object.keys(envs).length) body.env = envs;
      } else {
        body.url = url.value.trim();
        const hs = pairs(headers.value, ":");
        if (Object.keys(hs).length) body.headers = hs;
      }
      problem.hidden = true;
      save.textContent = "Connecting…";
      save.disabled = true;
      let saved;
      try {
        saved = editing ? await api.patch(`mcp/servers/${encodeURIComponent(existing.id)}`, body) : await api.post("mcp/servers", body);
      } catch (err) {
        // shown beside the form, as a sentence: the fix is in the form
        problem.replaceChildren(h("strong", null, editing ? "Not saved. " : "Not added. "), (err && err.message) || String(err));
        problem.hidden = false;
        return;
      } finally {
        save.textContent = label;
        save.disabled = false;
      }
      servers = [...servers.filter((x) => x.id !== saved.id), saved].sort((a, b) => a.name.localeCompare(b.name));
      tools = await api.get("tools?limit=200").then(items).catch(() => tools);
      toast(saved.status === "connected" ? `Connected to ${saved.name}` : `${editing ? "Saved" : "Added"} ${saved.name}, but it did not connect`,
        saved.status === "connected" ? "info" : "error");
      show(saved.id);
    });
    replace(detail, h("div", { class: "detail stack" }, h("div", { class: "detail-head" }, h("h2", null, editing ? `Edit ${e.name}` : "New MCP server")),
      editing ? null : h("p", { class: "muted" }, "An MCP server offers tools your agents can use: a local program Qorven starts, or a server at a URL."),
      form));
    name.focus();
  }

  function renderServer(s) {
    if (!s) return renderBuiltins();
    const st = STATUS[s.status] || STATUS.error;
    const enabled = checkbox("Enabled", s.enabled);
    const test = h("button", { type: "button" }, "Test");
    const edit = h("button", { type: "button" }, "Edit server");
    edit.addEventListener("click", () => renderForm(s));
    const del = h("button", { type: "button", class: "danger" }, icon(ICONS.trash, 14), "Delete server");
    const serverTools = tools.filter((t) => t.id.startsWith(`mcp.${s.name}.`)).map((t) => ({ ...t, name: t.id }));
    const where = s.transport === "stdio" ? [s.command, ...s.args].join(" ") : s.url;

    async function apply(updated) {
      servers = servers.map((x) => (x.id === updated.id ? updated : x));
      tools = await api.get("tools?limit=200").then(items).catch(() => tools);
      show(updated.id);
    }
    enabled.input.addEventListener("change", async () => {
      const updated = await busy(enabled.input, () => api.patch(`mcp/servers/${encodeURIComponent(s.id)}`, { enabled: enabled.input.checked }));
      if (updated) await apply(updated); else enabled.input.checked = s.enabled;
    });
    test.addEventListener("click", async () => {
      test.textContent = "Testing…";
      const out = await busy(test, () => api.post(`mcp/servers/${encodeURIComponent(s.id)}/test`, {}));
      test.textContent = "Test";
      if (!out) return;
      toast(out.ok ? `${s.name} answered in ${out.duration_ms} ms` : `${s.name} did not connect`, out.ok ? "info" : "error");
      await apply(out.server);
    });
    del.addEventListener("click", async () => {
      if (!confirmAction(`Delete the MCP server ${s.name}? Agents lose its tools.`)) return;
      try {
        await api.del(`mcp/servers/${encodeURIComponent(s.id)}`);
        servers = servers.filter((x) => x.id !== s.id);
        tools = tools.filter((t) => !t.id.startsWith(`mcp.${s.name}.`));
        toast("Deleted");
        show("builtin");
      } catch (err) {
        toast(errorText(err), "error");
      }
    });

    replace(detail, h("div", { class: "detail stack" },
      h("div", { class: "detail-head" }, h("h2", null, s.name),
        h("span", { class: `badge ${st.cls}`, role: "status", "aria-label": "Status" }, st.text)),
      h("section", { class: "card stack", "aria-label": "Server" },
        h("div", { class: "muted small" }, s.transport === "stdio" ? "Command" : "URL"),
        h("code", { class: "mono", style: "word-break: break-all" }, where || ""),
        s.error && s.enabled ? h("div", { class: "error-box", role: "alert" },
          h("strong", null, s.status === "connected" ? "The last call failed: " : "Could not connect: "), s.error,
          h("div", { class: "small", style: "margin-top: 4px" },
            s.transport === "stdio" ? "Check the command, its arguments and environment (Edit server), then Test."
              : "Check the URL and its headers (Edit server), then Test.")) : null,
        h("div", { class: "actions", style: "flex-wrap: wrap" }, test, edit, enabled.wrap, h("span", { class: "spacer" }), del)),
      h("h3", null, "Tools"),
      s.tools.length || serverTools.length
        ? toolTable(serverTools.length ? serverTools : s.tools.map((n) => ({ name: `mcp.${s.name}.${n}`, description: "" })))
        : h("p", { class: "muted" }, s.status === "connected" ? "This server offers no tools." : "No tools yet: they are listed once the server connects.")));
  }

  addBtn.addEventListener("click", () => show("new"));
  builtinBtn.addEventListener("click", () => show("builtin"));
  renderList();
  show("builtin");
  return () => {};
}
