// Models: the configured providers (keys are write-only: only key_hint is shown), the catalog of
// models they offer, which ones are selected for use, and the default model.

import { h, icon, replace, field, checkbox, fullTime } from "../dom.js";
import { ICONS } from "../icons.js";
import { api, items } from "../api.js";
import { providerForm, createProvider, modelId, KINDS, slugName, loadCatalog, catalogErrors, providerStatus,
  localModelsCard } from "../providers.js";
import { errorBox, errorText, paneHead, confirmAction } from "../ui.js";
import { invalidateDefaultModel } from "../store.js";

export async function mount(container, { toast }) {
  const listEl = h("ul", { class: "list", "aria-label": "Providers" });
  const detail = h("div", { class: "pane-detail" });
  const addBtn = h("button", { type: "button", class: "primary small" }, icon(ICONS.plus, 14), "Add provider");
  container.append(h("div", { class: "split" },
    h("aside", { class: "pane-list" }, paneHead("Models", addBtn), listEl), detail));

  let providers = [];
  let catalog = [];
  let catalogErrs = [];
  let selectedIds = new Set();
  let defaultModel = "";
  let view = "catalog"; // "catalog" | provider id | "new"

  async function loadAll(refresh = false) {
    // the catalog first: fetching it tries every provider, and the providers' dots show how that went
    let c = await loadCatalog(api, refresh).catch((e) => { toast(errorText(e), "error"); return { data: [], errors: [] }; });
    let [p, m, d] = await Promise.all([
      api.get("providers").then(items),
      api.get("models").then(items).catch(() => []),
      api.get("models/default").catch(() => null),
    ]);
    providers = p;
    catalog = c.data;
    catalogErrs = c.errors;
    c = c.data;
    selectedIds = new Set([
      ...m.filter((x) => !x.qorven || x.qorven.kind === "model").map((x) => x.id),
      ...c.filter((x) => x.selected).map(modelId),
    ]);
    defaultModel = (d && (d.model || d.id)) || (c.find((x) => x.default) || {}).id ||
      (m.find((x) => x.qorven && x.qorven.default) || {}).id || "";
  }

  try { await loadAll(); } catch (e) {
    replace(detail, h("div", { class: "detail" }, errorBox(e)));
    return () => {};
  }

  function renderList() {
    listEl.replaceChildren();
    const cat = h("button", { type: "button", class: "list-item", "aria-current": view === "catalog" ? "true" : "false" },
      h("span", { class: "title" }, "Catalog and default"),
      h("span", { class: "sub" }, defaultModel ? `Default: ${defaultModel}` : "No default model"));
    cat.addEventListener("click", () => { view = "catalog"; render(); });
    listEl.append(h("li", null, cat), h("li", { class: "group muted small", style: "padding: 10px 10px 3px" }, "Providers"));
    if (!providers.length) listEl.append(h("li", { class: "empty small" }, "No providers yet."));
    for (const p of providers) {
      const st = providerStatus(p);
      const btn = h("button", { type: "button", class: "list-item", "aria-current": view === p.id ? "true" : "false" },
        h("span", { class: "title" }, h("span", { class: `dot ${st.cls}`, title: st.text }), p.name),
        h("span", { class: "sub" }, `${st.text}${p.enabled === false ? " · disabled" : ""} · ${p.kind === "local" ? "models on this computer" : `${(KINDS.find((k) => k.value === p.kind) || { label: p.kind }).label.split(" (")[0]} · ${p.has_key ? `key ${p.key_hint || "set"}` : "no key"}`}`));
      btn.addEventListener("click", () => { view = p.id; render(); });
      listEl.append(h("li", null, btn));
    }
  }

  function render() {
    renderList();
    if (view === "catalog") renderCatalog();
    else if (view === "new") renderNew();
    else renderProvider(providers.find((p) => p.id === view));
  }

  function renderCatalog() {
    const ids = catalog.map(modelId).filter(Boolean);
    for (const id of selectedIds) if (!ids.includes(id)) ids.push(id);
    const checks = ids.map((id) => {
      const c = checkbox(id, selectedIds.has(id), { value: id });
      c.wrap.classList.add("mono");
      return c;
    });
    const def = h("select", { id: "default-model" });
    def.append(h("option", { value: "" }, "None"));
    for (const id of ids) def.append(h("option", { value: id }, id));
    def.value = defaultModel;
    const saveSel = h("button", { type: "button", class: "primary" }, "Save selection");
    const saveDef = h("button", { type: "button", class: "primary" }, "Set default");
    const refresh = h("button", { type: "button" }, "Refresh from providers");
    saveSel.addEventListener("click", async () => {
      saveSel.disabled = true;
      try {
        const models = checks.filter((c) => c.input.checked).map((c) => c.input.value);
        await api.put("models/selected", { models });
        selectedIds = new Set(models);
        toast("Selection saved");
      } catch (e) { toast(errorText(e), "error"); } finally { saveSel.disabled = false; }
    });
    saveDef.addEventListener("click", async () => {
      saveDef.disabled = true;
      try {
        await api.put("models/default", { model: def.value || null });
        defaultModel = def.value;
        invalidateDefaultModel();
        renderList();
        toast("Default model set");
      } catch (e) { toast(errorText(e), "error"); } finally { saveDef.disabled = false; }
    });
    refresh.addEventListener("click", async () => {
      refresh.disabled = true;
      try { await loadAll(true); render(); } catch (e) { toast(errorText(e), "error"); refresh.disabled = false; }
    });
    const byProvider = new Map(catalog.map((m) => [modelId(m), m]));
    const local = providers.find((p) => p.kind === "local");
    const onThisComputer = localModelsCard({
      local, models: local ? catalog.filter((m) => m.provider_id === local.id) : [], defaultModel, toast,
      onChanged: async () => { await loadAll(true); render(); },
      onAddProvider: () => { view = "new"; render(); },
    });
    replace(detail, h("div", { class: "detail" },
      h("div", { class: "detail-head" }, h("h2", null, "Models"), refresh),
      ...catalogErrors(catalogErrs),
      onThisComputer,
      h("section", { class: "card stack" },
        h("h3", null, h("label", { for: "default-model" }, "Default model")),
        h("p", { class: "muted small", style: "margin: 0" }, "Used by agents that have no model of their own."),
        h("div", { class: "row" }, def, saveDef)),
      h("section", { class: "card stack", "aria-label": "Catalog" },
        h("h3", null, "Catalog"),
        h("p", { class: "muted small", style: "margin: 0" }, "Every model your providers offer. Selected models are offered to agents and to OpenAI clients at /v1/models."),
        ids.length ? h("div", { class: "stack", style: "gap: 6px" }, checks.map((c) => {
          const m = byProvider.get(c.input.value) || {};
          return h("div", { class: "row" }, c.wrap, m.context_length ? h("span", { class: "faint small" }, `${m.context_length} ctx`) : null);
        })) : h("div", { class: "muted" }, providers.length ? "The providers list no models. Is the local server running?" : "Add a provider to see its models."),
        ids.length ? h("div", { class: "actions" }, saveSel) : null)));
  }

  function renderNew() {
    const form = providerForm({ submitLabel: "Add provider", onSaved: async (provider) => {
      await loadAll(true);  // the new provider's models join the catalog at once
      view = provider.id;
      render();
      toast(`Added ${provider.name}`);
    }, onBack: () => { view = "catalog"; render(); } });
    const detectBox = h("div", { class: "stack" });
    const detectBtn = h("button", { type: "button" }, "Detect local servers");
    detectBtn.addEventListener("click", async () => {
      detectBtn.disabled = true;
      try {
        const found = items(await api.get("providers/detect"));
        replace(detectBox, found.length ? found.map((d) => {
          const use = h("button", { type: "button", class: "small", disabled: !d.reachable }, `Use ${d.name}`);
          use.addEventListener("click", async () => {
            use.disabled = true;
            try {
              const provider = await createProvider({ name: slugName(d.name), kind: d.kind, base_url: d.base_url, key: "" });
              await loadAll(true);
              view = provider.id;
              render();
            } catch (e) { toast(errorText(e), "error"); use.disabled = false; }
          });
          return h("div", { class: "row" }, h("span", { class: `dot ${d.reachable ? "ok" : "bad"}` }), h("strong", null, d.name),
            h("span", { class: "mono muted small grow" }, d.base_url), h("span", { class: "muted small" }, `${(d.models || []).length} models`), use);
        }) : h("div", { class: "muted small" }, "No local server answered."));
      } catch (e) { replace(detectBox, errorBox(e)); } finally { detectBtn.disabled = false; }
    });
    replace(detail, h("div", { class: "detail" },
      h("div", { class: "detail-head" }, h("h2", null, "Add a provider"), detectBtn),
      detectBox, h("section", { class: "card" }, form)));
  }

  function renderProvider(p) {
    if (!p) { view = "catalog"; render(); return; }
    const name = h("input", { type: "text", value: p.name || "", autocomplete: "off" });
    const baseUrl = h("input", { type: "url", value: p.base_url || "", autocomplete: "off", spellcheck: "false" });
    const enabled = checkbox("Enabled", p.enabled !== false);
    const save = h("button", { type: "submit", class: "primary" }, "Save");
    const test = h("button", { type: "button" }, "Test connection");
    const del = h("button", { type: "button", class: "danger" }, icon(ICONS.trash, 14), "Delete");
    const testResult = h("div");
    const form = h("form", { class: "card stack", "aria-label": "Provider" },
      h("div", { class: "grid2" }, field("Name", name), field("Kind", h("input", { type: "text", value: p.kind, disabled: true }))),
      field("Base URL", baseUrl, "Changing the host clears the stored key."),
      enabled.wrap,
      h("div", { class: "actions" }, save, test, h("span", { class: "spacer" }), del), testResult);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      save.disabled = true;
      try {
        await api.patch(`providers/${encodeURIComponent(p.id)}`, { name: name.value.trim(), base_url: baseUrl.value.trim(), enabled: enabled.input.checked });
        await loadAll(true);  // a new address is tried at once: the catalog and the dot follow the save
        render();
        toast("Saved");
      } catch (err) { toast(errorText(err), "error"); } finally { save.disabled = false; }
    });
    test.addEventListener("click", async () => {
      test.disabled = true;
      replace(testResult, h("div", { class: "muted small" }, "Testing…"));
      try {
        const r = await api.post(`providers/${encodeURIComponent(p.id)}/test`, {});
        const ok = !r || r.ok !== false;
        const fresh = await api.get(`providers/${encodeURIComponent(p.id)}`).catch(() => null);
        if (fresh) { providers = providers.map((x) => (x.id === p.id ? fresh : x)); renderList(); }
        replace(testResult, h("div", { class: "notice small", role: ok ? "status" : "alert" }, h("span", { class: `dot ${ok ? "ok" : "bad"}` }), " ",
          ok ? `Connected${r && r.models ? ` · ${items(r.models).length || r.models.length} models` : ""}${r && r.latency_ms ? ` · ${r.latency_ms} ms` : ""}` : `Could not connect: ${(r.error && (r.error.message || r.error.code)) || "unknown error"}`));
      } catch (err) { replace(testResult, errorBox(err)); } finally { test.disabled = false; }
    });
    del.addEventListener("click", async () => {
      if (!confirmAction(`Delete the provider ${p.name}? Its stored key is deleted too.`)) return;
      try {
        await api.del(`providers/${encodeURIComponent(p.id)}`);
        await loadAll();
        view = "catalog";
        render();
        toast("Deleted");
      } catch (err) { toast(errorText(err), "error"); }
    });

    const key = h("input", { type: "password", autocomplete: "off", spellcheck: "false", placeholder: p.has_key ? `Stored key ${p.key_hint || ""} — enter a new one to replace it` : "No key stored" });
    const setKey = h("button", { type: "submit" }, "Save key");
    const removeKey = h("button", { type: "button", class: "danger", disabled: !p.has_key }, "Remove key");
    const keyForm = h("form", { class: "card stack", "aria-label": "API key" },
      h("h3", null, "API key"),
      h("div", { class: "muted small" }, p.has_key ? h("span", null, "A key is stored, ending in ", h("span", { class: "mono" }, p.key_hint || "…")) : "No key is stored. Local servers usually need none."),
      field("New key", key, "Write-only: never shown again after saving."),
      h("div", { class: "actions" }, setKey, removeKey));
    keyForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!key.value.trim()) return;
      setKey.disabled = true;
      try {
        const r = await api.put(`providers/${encodeURIComponent(p.id)}/keys`, { key: key.value.trim() });
        key.value = "";
        const updated = r && r.id ? r : await api.get(`providers/${encodeURIComponent(p.id)}`);
        providers = providers.map((x) => (x.id === p.id ? { ...x, ...updated, has_key: true } : x));
        render();
        toast("Key saved");
      } catch (err) { toast(errorText(err), "error"); } finally { setKey.disabled = false; }
    });
    removeKey.addEventListener("click", async () => {
      if (!confirmAction("Remove the stored key?")) return;
      try {
        await api.del(`providers/${encodeURIComponent(p.id)}/keys`);
        providers = providers.map((x) => (x.id === p.id ? { ...x, has_key: false, key_hint: null } : x));
        render();
        toast("Key removed");
      } catch (err) { toast(errorText(err), "error"); }
    });

    const models = catalog.filter((m) => m.provider_id === p.id || modelId(m).startsWith(`${p.name}/`));
    replace(detail, h("div", { class: "detail" },
      h("div", { class: "detail-head" }, h("h2", null, p.name)),
      h("div", { class: "muted small" }, `${p.id} · added ${fullTime(p.created_at)}`),
      form, keyForm,
      models.length ? h("section", { class: "card" }, h("h3", null, "Models from this provider"),
        h("ul", { class: "mono small", style: "margin: 0; padding-left: 18px" }, models.map((m) => h("li", null, modelId(m))))) : null));
  }

  addBtn.addEventListener("click", () => { view = "new"; render(); });
  render();
  return () => {};
}
