// Channels: bindings that connect Telegram, Slack, Discord, WhatsApp, Twilio SMS, GitHub or a
// generic webhook to agents. Each kind has its own form (its settings and secrets, with where to
// find each); secrets are write-only. The status says what keeps a binding from answering, and the
// webhook URL to paste comes with a Copy button and, while it is loopback, how to expose it.

import { h, icon, replace, field, select, checkbox, fullTime } from "../dom.js";
import { ICONS } from "../icons.js";
import { api, items } from "../api.js";
import { subscribe } from "../live.js";
import { agents as loadAgents, agentLabel } from "../store.js";
import { paneHead, confirmAction } from "../ui.js";
import { sentence, copyRow } from "../forms.js";

// Per kind: its secrets (the first verifies inbound requests), its settings, and where the webhook URL goes.
const KINDS = [
  { value: "telegram", label: "Telegram",
    secrets: [["secret_token", "Webhook secret token", "A random string you choose; pass it to setWebhook as secret_token."],
      ["bot_token", "Bot token", "From @BotFather, like 123456:ABC-DEF…"]],
    config: [], paste: "Register it with the Bot API's setWebhook (url=this URL, secret_token=the secret above)." },
  { value: "slack", label: "Slack",
    secrets: [["signing_secret", "Signing secret", "Your app's Basic Information → App Credentials."],
      ["bot_token", "Bot token", "OAuth & Permissions → Bot User OAuth Token (xoxb-…)."]],
    config: [], paste: "Paste it in your app's Event Subscriptions → Request URL." },
  { value: "discord", label: "Discord",
    secrets: [["public_key", "Application public key", "General Information → Public Key (hex)."],
      ["bot_token", "Bot token", "Bot → Token."]],
    config: [["application_id", "Application ID", "General Information → Application ID (optional)."]],
    paste: "Paste it in General Information → Interactions Endpoint URL." },
  { value: "whatsapp", label: "WhatsApp (Meta)",
    secrets: [["app_secret", "App secret", "App settings → Basic → App secret."],
      ["access_token", "Access token", "WhatsApp → API Setup → a permanent access token."]],
    config: [["verify_token", "Verify token", "A string you choose; enter the same one in Meta's webhook setup."],
      ["phone_number_id", "Phone number ID", "WhatsApp → API Setup (optional: the inbound message names it)."]],
    paste: "Paste it in WhatsApp → Configuration → Callback URL, with the verify token." },
  { value: "twilio_sms", label: "Twilio SMS",
    secrets: [["auth_token", "Auth token", "Console → Account info → Auth Token."]],
    config: [["public_base_url", "Public base URL", "The https address Twilio calls (signatures cover it), e.g. your tunnel."],
      ["account_sid", "Account SID", "AC… (optional: the inbound message names it)."],
      ["from_number", "From number", "The number replies come from (optional)."]],
    paste: "Paste it in Phone Numbers → your number → Messaging → A message comes in (HTTP POST)." },
  { value: "github", label: "GitHub",
    secrets: [["webhook_secret", "Webhook secret", "A random string you choose; enter the same one in the webhook's Secret."],
      ["token", "Access token", "A token that may comment on issues of the repository."]],
    config: [], paste: "Paste it in the repository's Settings → Webhooks → Payload URL (content type application/json)." },
  { value: "webhook", label: "Generic webhook",
    secrets: [["signing_secret", "Signing secret", "Shared with the sender: it signs requests both ways (HMAC-SHA256)."]],
    config: [["reply_url", "Reply URL", "Where replies are POSTed, signed (optional: else replies are only stored)."]],
    paste: "Send signed POSTs to it from your system." },
];
const API_BASE = ["api_base_url", "API base URL", "Only for a proxy or a self-hosted API (default: the provider's)."];
// Every kind takes it (Twilio lists it among its own settings, since its signatures need it).
const PUBLIC_ADDRESS = ["public_base_url", "Public address (optional)", "Your tunnel's https address: the webhook URL to paste then uses it."];
const kindOf = (k) => KINDS.find((x) => x.value === k) || KINDS[KINDS.length - 1];

function isLoopback(url) {
  try {
    const host = new URL(url).hostname;
    return host === "localhost" || host.endsWith(".localhost") || host.startsWith("127.") || host === "[::1]";
  } catch { return false; }
}

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
    replace(detail, h("div", { class: "detail" }, h("div", { class: "error-box", role: "alert" }, sentence(e))));
    return () => {};
  }
  const agentItems = agents.map((a) => ({ value: a.id, label: a.display_name || a.name }));

  function health(b) {
    const s = status.get(b.id);
    if (!b.enabled) return { cls: "", text: "turned off" };
    if (!s) return { cls: "", text: "no status yet" };
    if (s.healthy) return { cls: "ok", text: "ready" };
    return { cls: "bad", text: s.last_error ? "failing" : "not ready" };
  }

  function renderList() {
    listEl.replaceChildren();
    if (!bindings.length) listEl.append(h("li", { class: "empty small" }, "No channels yet."));
    for (const b of bindings) {
      const hs = health(b);
      const btn = h("button", { type: "button", class: "list-item", "aria-current": selected && selected.id === b.id ? "true" : "false" },
        h("span", { class: "title" }, h("span", { class: `dot ${hs.cls}`, "aria-hidden": "true" }), b.name || b.id),
        h("span", { class: "sub" }, `${kindOf(b.kind).label} · ${agentLabel(agents, b.agent_id)} · ${hs.text}`));
      btn.addEventListener("click", () => { selected = b; renderList(); renderDetail(b); });
      listEl.append(h("li", null, btn));
    }
  }

  /** The kind's settings and (for a new binding) secrets as labelled fields; returns {el, values()}. */
  function kindFields(kindName, config, withSecrets) {
    const k = kindOf(kindName);
    const inputs = [];
    const own = k.config.some(([key]) => key === PUBLIC_ADDRESS[0]) ? [] : [PUBLIC_ADDRESS];
    const settings = [...k.config, ...own].map(([key, label, hint]) => {
      const input = h("input", { type: "text", autocomplete: "off", spellcheck: "false", value: config[key] || "" });
      inputs.push([key, input]);
      return field(label, input, hint);
    });
    const secretInputs = withSecrets ? k.secrets.map(([key, label, hint]) => {
      const input = h("input", { type: "password", autocomplete: "new-password", spellcheck: "false" });
      return { key, label, input, el: field(label, input, hint) };
    }) : [];
    let advanced = null;
    if (kindName !== "webhook") {
      const input = h("input", { type: "text", autocomplete: "off", spellcheck: "false", value: config.api_base_url || "" });
      inputs.push(["api_base_url", input]);
      advanced = h("details", { class: "advanced" }, h("summary", null, "Advanced"), field(API_BASE[1], input, API_BASE[2]));
    }
    const el = h("div", { class: "stack" },
      secretInputs.length ? h("div", { class: "grid2" }, secretInputs.map((x) => x.el)) : null,
      settings.length ? h("div", { class: "grid2" }, settings) : null, advanced);
    return {
      el,
      config: () => Object.fromEntries(inputs.map(([key, input]) => [key, input.value.trim() || null])),
      secrets: () => secretInputs.filter((x) => x.input.value).map((x) => ({ name: x.key, secret: x.input.value, label: x.label })),
    };
  }

  function renderDetail(b) {
    const isNew = !b;
    const x = b || { kind: "telegram", name: "", agent_id: agentItems[0] && agentItems[0].value, enabled: true, config: {}, routing: { keywords: {}, default_agent_id: null } };
    const kind = select(KINDS.map((k) => ({ value: k.value, label: k.label })), x.kind, { disabled: !isNew });
    const name = h("input", { type: "text", value: x.name || "", required: true, autocomplete: "off" });
    const agent = select(agentItems, x.agent_id);
    const enabled = checkbox("Enabled", x.enabled !== false);
    const kindBox = h("div");
    let fields = kindFields(x.kind, x.config || {}, isNew);
    kindBox.append(fields.el);
    kind.addEventListener("change", () => { fields = kindFields(kind.value, {}, true); replace(kindBox, fields.el); });
    const routing = x.routing || {};
    const defaultAgent = select([{ value: "", label: "The binding's agent" }, ...agentItems], routing.default_agent_id || "");
    const keywords = h("textarea", { rows: 3, class: "mono", spellcheck: "false", placeholder: "invoice: analyst\nbug: developer",
      value: Object.entries(routing.keywords || {}).map(([w, id]) => `${w}: ${(agents.find((a) => a.id === id) || {}).name || id}`).join("\n") });
    const save = h("button", { type: "submit", class: "primary" }, isNew ? "Create binding" : "Save");
    const del = isNew ? null : h("button", { type: "button", class: "danger" }, icon(ICONS.trash, 14), "Delete");

    const form = h("form", { class: "card stack", "aria-label": isNew ? "New binding" : "Binding settings" },
      h("div", { class: "grid2" }, field("Kind", kind), field("Name", name)),
      h("div", { class: "grid2" }, field("Agent", agent), h("div", { class: "field", style: "justify-content: flex-end" }, enabled.wrap)),
      kindBox,
      h("div", { class: "grid2" }, field("Default agent for routing", defaultAgent), field("Keyword routing", keywords, "One per line: word: agent name")),
      h("div", { class: "actions" }, save, h("span", { class: "spacer" }), del));

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const kw = {};
      for (const line of keywords.value.split("\n")) {
        const m = line.match(/^\s*([^:=]+?)\s*[:=]\s*(\S+)\s*$/);
        if (!m) continue;
        const a = agents.find((y) => y.name === m[2] || y.id === m[2] || (y.display_name || "").toLowerCase() === m[2].toLowerCase());
        kw[m[1]] = a ? a.id : m[2];
      }
      const body = { name: name.value.trim(), agent_id: agent.value, enabled: enabled.input.checked, config: fields.config(),
        routing: { keywords: kw, default_agent_id: defaultAgent.value || null } };
      if (isNew) body.kind = kind.value;
      save.disabled = true;
      try {
        let saved = isNew ? await api.post("channels", body) : await api.patch(`channels/${encodeURIComponent(x.id)}`, body);
        for (const s of fields.secrets()) {
          saved = await api.put(`channels/${encodeURIComponent(saved.id)}/secret`, { name: s.name, secret: s.secret });
        }
        bindings = isNew ? [saved, ...bindings] : bindings.map((y) => (y.id === saved.id ? saved : y));
        selected = saved;
        await refreshStatus();
        renderList();
        renderDetail(saved);
        toast(isNew ? "Binding created" : "Saved");
      } catch (err) {
        toast(sentence(err), "error");
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
        toast(sentence(err), "error");
      }
    });

    const sections = [h("div", { class: "detail-head" }, h("h2", null, isNew ? "New binding" : (x.name || x.id)),
      !isNew ? h("span", { class: "badge" }, kindOf(x.kind).label) : null)];
    if (isNew) sections.push(h("p", { class: "muted small", style: "margin: 0" },
      "A binding lets people reach an agent from another app: messages arriving at its webhook are answered by the agent, in that app."));

    if (!isNew) {
      sections.push(statusCard(x));
      sections.push(form);
      sections.push(secretsCard(x));
      sections.push(routingCard(x));
    } else {
      sections.push(form);
    }
    replace(detail, h("div", { class: "detail" }, sections));
  }

  function statusCard(x) {
    const s = status.get(x.id) || {};
    const hs = health(x);
    const problems = s.problems || [];
    const k = kindOf(x.kind);
    const url = x.webhook_url || "";
    const expose = isLoopback(url) ? h("div", { class: "notice small stack" },
      h("strong", null, "This address only works on this computer."),
      h("span", null, `${k.label} has to reach it from the internet. Run a tunnel to this app (for example `,
        h("code", null, `cloudflared tunnel --url ${new URL(url).origin}`), " or ", h("code", null, `ngrok http ${new URL(url).port || 80}`),
        "), then enter the tunnel's https address as the binding's Public address below (or start Qorven with ",
        h("code", null, "QORVEN_PUBLIC_BASE_URL"), " set to it): the URL here then uses it.")) : null;
    return h("section", { class: "card stack", "aria-label": "Status" },
      h("h3", null, "Status"),
      h("div", { class: "row" }, h("span", { class: `dot ${hs.cls}`, "aria-hidden": "true" }),
        h("strong", null, hs.text === "ready" ? "Ready: it can receive messages and reply." : hs.text === "turned off" ? "Turned off." : "Not ready yet.")),
      problems.length ? h("ul", { class: "problems", "aria-label": "What is missing" }, problems.map((p) => h("li", null, p))) : null,
      s.last_error ? h("div", { class: "error-box", role: "alert" }, `The last reply failed: ${s.last_error}`) : null,
      h("div", { class: "field" }, h("span", { class: "muted small", "aria-hidden": "true" }, "Webhook URL to paste"), copyRow(url, "webhook URL", toast), h("div", { class: "hint" }, k.paste)),
      expose,
      h("table", { class: "data" }, h("tbody", null,
        row("Last message", s.last_inbound_at ? fullTime(s.last_inbound_at) : "never"),
        row("Received / refused", `${s.inbound_count ?? 0} / ${s.rejected_count ?? 0}`),
        row("Replies waiting", String(s.outbox_pending ?? 0)))));
  }

  function secretsCard(x) {
    // Write-only: the first verifies inbound requests, the others let replies be sent.
    const k = kindOf(x.kind);
    const card = h("section", { class: "card stack", "aria-label": "Secrets" },
      h("h3", null, "Secrets"),
      h("p", { class: "muted small", style: "margin: 0" }, "Stored encrypted and never shown again; enter a new value to replace one."));
    for (const [secretName, label, hint] of k.secrets) {
      const isSet = !!(x.secrets ? x.secrets[secretName] : x.secret_set);
      const input = h("input", { type: "password", autocomplete: "new-password", spellcheck: "false",
        placeholder: isSet ? "Set; enter a new value to replace it" : "Not set" });
      const save = h("button", { type: "submit" }, "Save");
      const form = h("form", { class: "row", style: "align-items: flex-end" },
        h("div", { class: "grow" }, field(label, input, hint)),
        save, h("span", { class: `badge ${isSet ? "ok" : "warn"}`, style: "margin-bottom: 7px" }, isSet ? "set" : "not set"));
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        if (!input.value) return;
        save.disabled = true;
        try {
          const updated = await api.put(`channels/${encodeURIComponent(x.id)}/secret`, { name: secretName, secret: input.value });
          input.value = "";
          bindings = bindings.map((y) => (y.id === updated.id ? updated : y));
          selected = updated;
          await refreshStatus();
          renderList();
          renderDetail(updated);
          toast(`${label} saved`);
        } catch (err) {
          toast(sentence(err), "error");
        } finally {
          save.disabled = false;
        }
      });
      card.append(form);
    }
    return card;
  }

  function routingCard(x) {
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
          row("Matched rule", r.matched_rule ? String(r.matched_rule) : "default"))));
      } catch (err) {
        replace(result, h("div", { class: "error-box", role: "alert" }, sentence(err)));
      } finally {
        testBtn.disabled = false;
      }
    });
    return testForm;
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
