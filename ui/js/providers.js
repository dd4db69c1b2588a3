// Provider forms shared by first-run setup and the Models screen.

import { h, field, select } from "./dom.js";
import { api } from "./api.js";

export const KINDS = [
  { value: "ollama", label: "Ollama", name: "ollama", base_url: "http://127.0.0.1:11434/v1", needsKey: false },
  { value: "openai_compatible", label: "OpenAI-compatible (LM Studio, llama.cpp, Jan, vLLM…)", name: "local", base_url: "http://127.0.0.1:1234/v1", needsKey: false },
  { value: "openai", label: "OpenAI", name: "openai", base_url: "https://api.openai.com/v1", needsKey: true },
  { value: "anthropic", label: "Anthropic", name: "anthropic", base_url: "https://api.anthropic.com", needsKey: true },
];

/**
 * A provider form: kind, name, base URL, key. onSubmit receives {name, kind, base_url, key}.
 * Returns the <form> element.
 */
export function providerForm({ submitLabel = "Add provider", onSubmit }) {
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
  const form = h("form", { class: "stack" },
    h("div", { class: "grid2" }, field("Kind", kind), field("Name", name, "Model ids read name/model, e.g. ollama/llama3.2")),
    field("Base URL", baseUrl),
    field("API key", key, "Stored on this computer and never shown again; only its last four characters are displayed."),
    h("div", { class: "actions" }, submit));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    submit.disabled = true;
    try {
      await onSubmit({ name: name.value.trim(), kind: kind.value, base_url: baseUrl.value.trim(), key: key.value.trim() });
      key.value = "";
    } finally {
      submit.disabled = false;
    }
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

/** Notices for providers whose model list failed ("provider_error: ..."). */
export function catalogErrors(errors) {
  return errors.map((e) => h("div", { class: "error-box", role: "alert" },
    h("span", { class: "code" }, e.code || "provider_error"), `${e.provider || e.provider_id}: ${e.message || ""}`));
}
