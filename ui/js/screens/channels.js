// Channels: bindings that connect Telegram, Slack, Discord, WhatsApp, Twilio SMS, GitHub or a
// generic webhook to agents. Secrets are write-only; status and a dry-run routing test included.

import { h, icon, replace, field, select, checkbox, fullTime, copyText } from "../dom.js";
import { ICONS } from "../icons.js";
import { api, items } from "../api.js";
import { subscribe } from "../live.js";
import { agents as loadAgents, agentLabel } from "../store.js";
import { errorBox, errorText, paneHead, confirmAction } from "../ui.js";

const KINDS = [
  { value: "telegram", label: "Telegram", secret: "Webhook secret token" },
  { value: "slack", label: "Slack", secret: "Signing secret" },
  { value: "discord", label: "Discord", secret: "Application public key (hex)" },
  { value: "whatsapp", label: "WhatsApp (Meta)", secret: "App secret" },
  { value: "twilio_sms", label: "Twilio SMS", secret: "Auth token" },
  { value: "github", label: "GitHub", secret: "Webhook secret" },
  { value: "webhook", label: "Generic webhook", secret: "Signing secret" },
];

const SECRET_LABELS = {
  secret_token: "Webhook secret token", bot_token: "Bot token", signing_secret: "Signing secret",
  public_key: "Application public key (hex)", app_secret: "App secret", access_token: "Access token",
  auth_token: "Auth token", webhook_secret: "Webhook secret", token: "API token",
};

export async function mount(container, { toast }) {
  const listEl = h("ul", { class: "list", "aria-label": "Channel bindings" });
  const detail = h("div", { class: "pane-detail" });
  const newBtn = h("button", { type: "button", class: "primary small" }, icon(ICONS.plus, 14), "New binding");
  container.append(h("div", { class: "split" },
    h("aside", { class: "pane-list" }, paneHead("Channels", newBtn), listEl), detail));

  let agents = [];
  let bindings = [];
  let status = new Map();
  let selected = null;
  try {
    const [a, b, s] = await Promise.all([
      loadAgents(),
      api.get("channels?limit=200").then(items),
      api.get("channels/status").then(items).catch(() => []),
    ]);
    agents = a; bindings = b;
    status = new Map(s.map((x) => [x.id, x]));
  } catch (e) {
    replace(detail, h("div", { class: "detail" }, errorBox(e)));
    return () => {};
  }
  const agentItems = agents.map((a) => ({ value: a.id, label: a.display_name || a.name }));
  const kindLabel = (k) => (KINDS.find((x) => x.value === k) || { label: k }).label;

  function health(b) {
    const s = status.get(b.id);
    if (!b.enabled) return { cls: "", text: "disabled" };
    if (!s) return { cls: "", text: "no status" };
    return s.healthy ? { cls: "ok", text: "healthy" } : { cls: "bad", text: s.last_error ? "error" : "unhealthy" };
  }

  function renderList() {
    listEl.replaceChildren();
    if (!bindings.length) listEl.append(h("li", { class: "empty small" }, "No channels yet."));
    for (const b of bindings) {
      const hs = health(b);
      const btn = h("button", { type: "button", class: "list-item", "aria-current": selected && selected.id === b.id ? "true" : "false" },
        h("span", { class: "title" }, h("span", { class: `dot ${hs.cls}`, title: hs.text }), b.name || b.id),
        h("span", { class: "sub" }, `${kindLabel(b.kind)} · ${agentLabel(agents, b.agent_id)}${b.secret_set ? "" : " · no secret"}`));
      btn.addEventListener("click", () => { selected = b; renderList(); renderDetail(b); });
      listEl.append(h("li", null, btn));
    }
  }

  function renderDetail(b) {
    const isNew = !b;
    const x = b || { kind: "telegram", name: "", agent_id: agentItems[0] && agentItems[0].value, enabled: true, config: {}, routing: { keywords: {}, default_agent_id: null } };
    const kind = select(KINDS.map((k) => ({ value: k.value, label: k.label })), x.kind, { disabled: !isNew });
    const name = h("input", { type: "text", value: x.name || "", required: true, autocomplete: "off" });
    const agent = select(agentItems, x.agent_id);
    const enabled = checkbox("Enabled", x.enabled !== false);
    const config = h("textarea", { rows: 4, class: "mono", spellcheck: "false", value: JSON.stringify(x.config || {}, null, 2) });
    const routing = x.routing || {};
    const defaultAgent = select([{ value: "", label: "The binding's agent" }, ...agentItems], routing.default_agent_id || "");
    const keywords = h("textarea", { rows: 3, class: "mono", spellcheck: "false", placeholder: "invoice: analyst\nbug: developer",
      value: Object.entries(routing.keywords || {}).map(([w, id]) => `${w}: ${(agents.find((a) => a.id === id) || {}).name || id}`).join("\n") });
    const save = h("button", { type: "submit", class: "primary" }, isNew ? "Create binding" : "Save");
    const del = isNew ? null : h("button", { type: "button", class: "danger" }, icon(ICONS.trash, 14), "Delete");

    const form = h("form", { class: "card stack", "aria-label": isNew ? "New binding" : "Binding settings" },
      h("div", { class: "grid2" }, field("Kind", kind), field("Name", name)),
      h("div", { class: "grid2" }, field("Agent", agent), h("div", { class: "field", style: "justify-content: flex-end" }, enabled.wrap)),
      field("Config (JSON, no secrets)", config, "e.g. api_base_url, Twilio public_base_url, Meta verify_token"),
      h("div", { class: "grid2" }, field("Default agent for routing", defaultAgent), field("Keyword routing", keywords, "One per line: word: agent name")),
      h("div", { class: "actions" }, save, h("span", { class: "spacer" }), del));

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      let cfg;
      try { cfg = JSON.parse(config.value || "{}"); } catch { toast("validation_error: config is not valid JSON", "error"); return; }
      const kw = {};
      for (const line of keywords.value.split("\n")) {
        const m = line.match(/^\s*([^:=]+?)\s*[:=]\s*(\S+)\s*$/);
        if (!m) continue;
        const a = agents.find((y) => y.name === m[2] || y.id === m[2] || (y.display_name || "").toLowerCase() === m[2].toLowerCase());
        kw[m[1]] = a ? a.id : m[2];
      }
      const body = { name: name.value.trim(), agent_id: agent.value, enabled: enabled.input.checked, config: cfg,
        routing: { keywords: kw, default_agent_id: defaultAgent.value || null } };
      if (isNew) body.kind = kind.value;
      save.disabled = true;
      try {
        const saved = isNew ? await api.post("channels", body) : await api.patch(`channels/${encodeURIComponent(x.id)}`, body);
        bindings = isNew ? [saved, ...bindings] : bindings.map((y) => (y.id === saved.id ? saved : y));
        selected = saved;
        await refreshStatus();
        renderList();
        renderDetail(saved);
        toast(isNew ? "Binding created. Set its secret next." : "Saved");
      } catch (err) {
        toast(errorText(err), "error");
      } finally {
        save.disabled = false;
      }
    });
    if (del) del.addEventListener("click", async () => {
      if (!confirmAction(`Delete the binding ${x.name}?`)) return;
      try {
        await api.del(`channels/${encodeURIComponent(x.id)}`);
        bindings = bindings.filter((y) => y.id !== x.id);
        selected = null;
        renderList();
        renderDetail(null);
        toast("Deleted");
      } catch (err) {
        toast(errorText(err), "error");
      }
    });

    const sections = [h("div", { class: "detail-head" }, h("h2", null, isNew ? "New binding" : (x.name || x.id)),
      !isNew ? h("span", { class: "badge" }, kindLabel(x.kind)) : null), form];

    if (!isNew) {
      // Secrets (write-only): the first verifies inbound requests, the others let replies be sent.
      const names = x.secrets && Object.keys(x.secrets).length ? Object.keys(x.secrets) : [null];
      const secretForm = h("section", { class: "card stack", "aria-label": "Secrets" },
        h("h3", null, "Secrets"),
        h("p", { class: "muted small", style: "margin: 0" }, "Write-only: stored encrypted and never shown again."));
      names.forEach((secretName, i) => {
        const isSet = secretName ? !!x.secrets[secretName] : !!x.secret_set;
        const label = secretName ? (SECRET_LABELS[secretName] || secretName) : ((KINDS.find((k) => k.value === x.kind) || {}).secret || "Secret");
        const input = h("input", { type: "password", autocomplete: "off", spellcheck: "false",
          placeholder: isSet ? "Set; enter a new value to replace it" : "Not set" });
        const save = h("button", { type: "submit" }, "Save");
        const form = h("form", { class: "row", style: "align-items: flex-end" },
          h("div", { class: "grow" }, field(label + (i === 0 && names.length > 1 ? " (verifies requests)" : ""), input)),
          save, h("span", { class: `badge ${isSet ? "ok" : "warn"}`, style: "margin-bottom: 7px" }, isSet ? "set" : "not set"));
        form.addEventListener("submit", async (e) => {
          e.preventDefault();
          if (!input.value) return;
          save.disabled = true;
          try {
            const body = { secret: input.value };
            if (secretName) body.name = secretName;
            const updated = await api.put(`channels/${encodeURIComponent(x.id)}/secret`, body);
            input.value = "";
            const next = updated && updated.id ? updated : { ...x, secret_set: true };
            bindings = bindings.map((y) => (y.id === next.id ? next : y));
            selected = next;
            await refreshStatus();
            renderList();
            renderDetail(next);
            toast(`${label} saved`);
          } catch (err) {
            toast(errorText(err), "error");
          } finally {
            save.disabled = false;
          }
        });
        secretForm.append(form);
      });

      // Status.
      const s = status.get(x.id) || {};
      const hs = health(x);
      const copyBtn = h("button", { type: "button", class: "small" }, "Copy");
      copyBtn.addEventListener("click", async () => { toast((await copyText(x.webhook_url || "")) ? "Copied" : "Copy failed"); });
      const statusCard = h("section", { class: "card", "aria-label": "Status" },
        h("h3", null, "Status"),
        h("table", { class: "data" }, h("tbody", null,
          row("Health", h("span", { class: "row" }, h("span", { class: `dot ${hs.cls}` }), hs.text)),
          row("Webhook URL", x.webhook_url ? h("span", { class: "row" }, h("span", { class: "mono grow", style: "word-break: break-all" }, x.webhook_url), copyBtn) : "—"),
          row("Last inbound", s.last_inbound_at ? fullTime(s.last_inbound_at) : "never"),
          row("Inbound / rejected", `${s.inbound_count ?? 0} / ${s.rejected_count ?? 0}`),
          row("Outbox pending", String(s.outbox_pending ?? 0)),
          s.last_error ? row("Last error", typeof s.last_error === "object" ? `${s.last_error.code || ""} ${s.last_error.message || ""}` : String(s.last_error)) : null)));

      // Test routing (dry run).
      const text = h("input", { type: "text", autocomplete: "off", placeholder: "Hello, I have a question about my invoice" });
      const sender = h("input", { type: "text", autocomplete: "off", value: "test-user" });
      const testBtn = h("button", { type: "submit" }, "Test routing");
      const result = h("div");
      const testForm = h("form", { class: "card stack", "aria-label": "Test routing" },
        h("h3", null, "Test routing"),
        h("p", { class: "muted small", style: "margin: 0" }, "Which agent and session would answer this message? Nothing is stored."),
        h("div", { class: "grid2" }, field("Text", text), field("Sender", sender)),
        h("div", { class: "actions" }, testBtn), result);
      testForm.addEventListener("submit", async (e) => {
        e.preventDefault();
        testBtn.disabled = true;
        try {
          const r = await api.post("channels/test-routing", { binding_id: x.id, text: text.value, sender: sender.value });
          replace(result, h("table", { class: "data" }, h("tbody", null,
            row("Agent", agentLabel(agents, r.agent_id)),
            row("Session", r.session_id && !r.would_create_session ? h("span", { class: "mono" }, r.session_id) : "a new session would be created"),
            row("Matched rule", r.matched_rule ? (typeof r.matched_rule === "object" ? JSON.stringify(r.matched_rule) : String(r.matched_rule)) : "default"))));
        } catch (err) {
          replace(result, errorBox(err));
        } finally {
          testBtn.disabled = false;
        }
      });
      sections.push(secretForm, statusCard, testForm);
    }
    replace(detail, h("div", { class: "detail" }, sections));
  }

  async function refreshStatus() {
    try {
      status = new Map(items(await api.get("channels/status")).map((x) => [x.id, x]));
    } catch { /* keep what we had */ }
  }

  function row(label, value) {
    return h("tr", null, h("th", { scope: "row", style: "width: 160px" }, label), h("td", null, value));
  }

  const unsub = subscribe("activity", (ev) => {
    if (ev.event !== "channel.inbound" || !ev.data) return;
    const id = ev.data.binding_id || ev.data.id;
    const s = status.get(id) || { id };
    s.inbound_count = (s.inbound_count || 0) + 1;
    s.last_inbound_at = ev.ts || new Date().toISOString();
    status.set(id, s);
    renderList();
  });

  newBtn.addEventListener("click", () => { selected = null; renderList(); renderDetail(null); });
  selected = bindings[0] || null;
  renderList();
  renderDetail(selected);
  return () => unsub();
}
