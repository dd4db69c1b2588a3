// Provider forms shared by first-run setup and the Models screen.

import { h, field, select, replace } from "./dom.js";
import { api } from "./api.js";

export const KINDS = [
  { value: "ollama", label: "Ollama", name: "ollama", base_url: "http://127.0.0.1:11434/v1", needsKey: false },
  { value: "openai_compatible", label: "OpenAI-compatible (LM Studio, llama.cpp, Jan, vLLM…)", name: "local", base_url: "http://127.0.0.1:1234/v1", needsKey: false },
  { value: "openai", label: "OpenAI", name: "openai", base_url: "https://api.openai.com/v1", needsKey: true },
  { value: "anthropic", label: "Anthropic", name: "anthropic", base_url: "https://api.anthropic.com", needsKey: true },
];

/** "host:port" of a base URL (the port spelled out), for messages about reaching it. */
export function hostPort(baseUrl) {
  try {
    const u = new URL(baseUrl);
    return `${u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}`;
  } catch { return String(baseUrl || ""); }
}

/** Test a provider that is not saved yet (POST /providers/test, the create body): {ok, models?, error?}. */
export function testProviderConfig({ name, kind, base_url, key }) {
  const body = { name, kind };
  if (base_url) body.base_url = base_url;
  if (key) body.key = key;
  return api.post("providers/test", body);
}

/**
 * A provider form: kind, name, base URL, key. Submitting tests the connection first and saves only
 * when it works; when it does not, it says why (with host:port) and offers Fix, Retry, Save anyway
 * and, with onBack, Back. onSaved(provider) runs after a save. Returns the <form> element.
 */
export function providerForm({ submitLabel = "Add provider", onSaved, onBack }) {
  const kind = select(KINDS.map((k) => ({ value: k.value, label: k.label })), "ollama");
  const name = h("input", { type: "text", value: KINDS[0].name, autocomplete: "off", required: true, spellcheck: "false" });
  const baseUrl = h("input", { type: "url", value: KINDS[0].base_url, autocomplete: "off", required: true, spellcheck: "false" });
  const key = h("input", { type: "password", autocomplete: "off", spellcheck: "false", placeholder: "Not needed for local servers" });
  let nameTouched = false;
  let urlTouched = false;
  name.addEventListener("input", () => { nameTouched = true; });
  baseUrl.addEventListener("input", () => { urlTouched = true; });
  kind.addEventListener("change", () => {
    const k = KINDS.find((x) => x.value === kind.value);
    if (!nameTouched) name.value = k.name;
    if (!urlTouched) baseUrl.value = k.base_url;
    key.placeholder = k.needsKey ? "Required" : "Not needed for local servers";
  });
  const submit = h("button", { type: "submit", class: "primary" }, submitLabel);
  const outcome = h("div", { class: "stack", "aria-live": "polite" });
  const form = h("form", { class: "stack" },
    h("div", { class: "grid2" }, field("Kind", kind), field("Name", name, "Model ids read name/model, e.g. ollama/llama3.2")),
    field("Base URL", baseUrl),
    field("API key", key, "Stored on this computer and never shown again; only its last four characters are displayed."),
    h("div", { class: "actions" }, submit), outcome);
  const values = () => ({ name: name.value.trim(), kind: kind.value, base_url: baseUrl.value.trim(), key: key.value.trim() });

  async function save(p) {
    const provider = await createProvider(p);
    key.value = "";
    replace(outcome);
    await onSaved(provider);
  }

  function failed(p, result) {
    const where = hostPort(p.base_url);
    const reason = (result.error && result.error.message) || "it did not answer";
    const fix = h("button", { type: "button" }, "Fix");
    const retry = h("button", { type: "button", class: "primary" }, "Retry");
    const anyway = h("button", { type: "button", class: "ghost" }, "Save anyway");
    fix.addEventListener("click", () => { replace(outcome); baseUrl.focus(); baseUrl.select(); });
    retry.addEventListener("click", () => form.requestSubmit());
    anyway.addEventListener("click", () => attempt(anyway, () => save(p)));
    const back = onBack ? h("button", { type: "button", class: "ghost" }, "Back") : null;
    if (back) back.addEventListener("click", () => { replace(outcome); onBack(); });
    replace(outcome,
      h("div", { class: "error-box", role: "alert" }, `Could not connect to ${p.name || "the provider"} at ${where}: ${reason}`),
      h("p", { class: "muted small", style: "margin: 0" },
        `Nothing was saved. Check that the server is running and listening on ${where}, or correct the address or key.`),
      h("div", { class: "actions" }, back, fix, retry, h("span", { class: "spacer" }), anyway));
  }

  async function attempt(button, fn) {
    button.disabled = true;
    try { await fn(); } catch (e) {
      replace(outcome, h("div", { class: "error-box", role: "alert" }, e.message || String(e)));
    } finally { button.disabled = false; }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const p = values();
    attempt(submit, async () => {
      replace(outcome, h("div", { class: "muted small" }, `Testing the connection to ${hostPort(p.base_url)}…`));
      const result = await testProviderConfig(p);
      if (result && result.ok) await save(p);
      else failed(p, result || {});
    });
  });
  return form;
}

/** Create a provider, then store its key (write-only) when one was given. Returns the provider. */
export async function createProvider({ name, kind, base_url, key }) {
  const provider = await api.post("providers", { name, kind, base_url });
  if (key) {
    const updated = await api.put(`providers/${encodeURIComponent(provider.id)}/keys`, { key });
    return { ...provider, ...(updated && updated.id ? updated : { has_key: true }) };
  }
  return provider;
}

/** The model id clients use for a catalog entry. */
export function modelId(m) {
  if (typeof m === "string") return m;
  return m.id || (m.provider && m.model ? `${m.provider}/${m.model}` : m.model || m.name || "");
}

/** A provider name for a detected server: "LM Studio" → "lm-studio" (model ids read name/model). */
export function slugName(name) {
  return String(name || "local").toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "") || "local";
}

/** The catalog and the providers that failed to list their models. */
export async function loadCatalog(api, refresh = false) {
  const res = await api.get(`models/catalog${refresh ? "?refresh=true" : ""}`);
  const data = (res && Array.isArray(res.data)) ? res.data : [];
  return { data, errors: (res && Array.isArray(res.errors)) ? res.errors : [] };
}

/** A provider's dot from what its last test or catalog fetch found (not from `enabled`). */
export function providerStatus(p) {
  const status = (p && p.status) || "untested";
  const text = status === "reachable" ? "Reachable" : status === "unreachable" ? "Unreachable" : "Not tested yet";
  return { status, text, cls: status === "reachable" ? "ok" : status === "unreachable" ? "bad" : "" };
}

/** Notices for providers whose model list failed ("provider_error: ..."). */
export function catalogErrors(errors) {
  return errors.map((e) => h("div", { class: "error-box", role: "alert" },
    h("span", { class: "code" }, e.code || "provider_error"), `${e.provider || e.provider_id}: ${e.message || ""}`));
}

// ---- models on this computer (the `local` provider) ----------------------------------------------
// The starter model and the runtime's state are read defensively: a server without those fields
// shows every local model as an ordinary one and the runtime as ready.

/** Whether a catalog entry is a bundled starter model (tiny, for trying things out). */
export function isStarter(m) {
  const q = (m && m.qorven) || {};
  return !!(m && (m.starter || q.starter));
}

/** The local runtime's state from a provider object: "ready" | "preparing" | "missing". */
export function runtimeState(p) {
  const q = (p && p.qorven) || {};
  const state = p && (p.runtime_state || p.runtime || q.runtime_state || q.runtime);
  return typeof state === "string" && ["ready", "preparing", "missing"].includes(state) ? state : "ready";
}

function sizeText(bytes) {
  if (!bytes) return "";
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.max(1, Math.round(bytes / 1e6))} MB`;
}

/**
 * The "Models on this computer" card: the local provider's models (the starter one labelled
 * honestly), its runtime state, "Import GGUF file", and the ways to a bigger model.
 * opts: {local (provider or undefined), models (its catalog entries), defaultModel, onChanged(), onAddProvider(), toast}
 */
export function localModelsCard({ local, models, defaultModel, onChanged, onAddProvider, toast }) {
  const card = h("section", { class: "card stack", "aria-label": "Models on this computer" },
    h("h3", { style: "margin: 0" }, "Models on this computer"));
  const state = runtimeState(local);
  if (state === "preparing") {
    card.append(h("div", { class: "notice", role: "status" }, "Preparing the local model… The runtime that runs models on this computer is still being built; local models start answering by themselves when it is ready."));
  } else if (state === "missing") {
    card.append(h("div", { class: "notice", role: "status" }, "The runtime for local models is not installed, so models on this computer cannot answer yet. Use a local server or a provider below instead."));
  }
  const list = h("div", { class: "stack", style: "gap: 8px" });
  for (const m of models) {
    const id = modelId(m);
    const q = m.qorven || {};
    const starter = isStarter(m);
    const isDefault = id === defaultModel;
    const use = isDefault ? h("span", { class: "muted small" }, "Default model") :
      h("button", { type: "button", class: "small" }, "Use as default");
    if (!isDefault) {
      use.addEventListener("click", async () => {
        use.disabled = true;
        try {
          await api.put("models/selected", { models: await selectedWith(id) });
          await api.put("models/default", { model: id });
          toast(`${id} is now the default model`);
          await onChanged();
        } catch (e) { toast(e.message, "error"); use.disabled = false; }
      });
    }
    list.append(h("div", { class: "row" },
      h("div", { class: "grow" },
        h("div", null, h("span", { class: "mono" }, id), starter ? h("span", { class: "badge accent", style: "margin-left: 6px" }, "Starter") : null),
        h("div", { class: "muted small" }, starter
          ? `A tiny model for trying things out${sizeText(q.size_bytes || m.size_bytes) ? ` (${sizeText(q.size_bytes || m.size_bytes)})` : ""}: quick and offline, but simple and often wrong. For real work, import or connect a bigger model.`
          : [sizeText(m.size_bytes || q.size_bytes), m.quantization].filter(Boolean).join(" · ") || "A GGUF model file")),
      use));
  }
  if (!models.length) list.append(h("div", { class: "muted small" }, "No model files yet. Import a GGUF file, for example one downloaded from Hugging Face."));
  card.append(list);

  const path = h("input", { type: "text", autocomplete: "off", spellcheck: "false", placeholder: "/home/you/Downloads/model.Q4_K_M.gguf" });
  const importBtn = h("button", { type: "submit" }, "Import GGUF file");
  const importOut = h("div");
  const importForm = h("form", { class: "stack" },
    field("GGUF file path", path, "The file is copied into Qorven's models folder; it must be in your home folder or Qorven's data folder."),
    h("div", { class: "actions" }, importBtn), importOut);
  // In the desktop window the native file dialog picks the file (the server opens it: see /v1/desktop).
  api.get("desktop").then((d) => {
    if (!d || !d.file_dialog) return;
    const choose = h("button", { type: "button" }, "Choose file…");
    choose.addEventListener("click", async () => {
      choose.disabled = true;
      try {
        const picked = await api.post("desktop/file-dialog", { purpose: "gguf" });
        if (picked && picked.path) {
          path.value = picked.path;
          importForm.requestSubmit();
        }
      } catch (err) {
        replace(importOut, h("div", { class: "error-box", role: "alert" }, `Could not open the file dialog: ${err.message}`));
      } finally { choose.disabled = false; }
    });
    importBtn.before(choose);
  }).catch(() => {});
  importForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!local) { replace(importOut, h("div", { class: "error-box", role: "alert" }, "This server has no provider for local models.")); return; }
    if (!path.value.trim()) { path.focus(); return; }
    importBtn.disabled = true;
    replace(importOut, h("div", { class: "muted small" }, "Importing… large files take a while."));
    try {
      const r = await api.post(`providers/${encodeURIComponent(local.id)}/models/import`, { path: path.value.trim() });
      replace(importOut);
      path.value = "";
      toast(`Imported ${r.id || r.model}`);
      await onChanged();
    } catch (err) {
      replace(importOut, h("div", { class: "error-box", role: "alert" }, `Could not import the file: ${err.message}`));
    } finally { importBtn.disabled = false; }
  });
  card.append(importForm);
  if (onAddProvider) {
    card.append(h("div", { class: "actions" },
      h("button", { type: "button", onclick: onAddProvider }, "Find local servers or add a provider")));
  }
  return card;
}

/** The selected model ids plus one more (selecting a model never drops the others). */
async function selectedWith(id) {
  const res = await api.get("models");
  const ids = ((res && res.data) || []).filter((x) => !x.qorven || x.qorven.kind === "model").map((x) => x.id);
  return ids.includes(id) ? ids : [...ids, id];
}
