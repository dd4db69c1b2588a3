// First run: no provider yet. Offer the local servers the server detected (Ollama, LM Studio,
// llama.cpp, Jan) or a manual provider (tested before it is saved), then choose which models to use
// and the default. Every step has a way back, and "Skip for now" leaves the wizard.

import { h, replace } from "../dom.js";
import { api, items } from "../api.js";
import { providerForm, createProvider, modelId, slugName, loadCatalog, catalogErrors, localModelsCard } from "../providers.js";
import { errorBox, errorText } from "../ui.js";
import { invalidateDefaultModel } from "../store.js";

export async function mount(container, { done, toast }) {
  const stepsEl = h("div", { class: "steps", "aria-label": "Steps" });
  const body = h("div", { class: "stack" });
  container.append(h("div", { class: "setup" }, h("div", { class: "setup-inner" },
    h("div", null, h("h1", null, "Welcome to Qorven Local"),
      h("p", { class: "muted", style: "margin: 6px 0 0" }, "Your agents run on this computer and keep everything in one file on your disk. Connect a model to begin.")),
    stepsEl, body)));

  function steps(current) {
    replace(stepsEl, ["1 · Connect a model provider", "2 · Choose models"].map((label, i) =>
      h("span", { "aria-current": i === current ? "step" : undefined }, label + (i === 0 ? "   →" : ""))));
  }

  // ---- step 1: provider ----
  async function stepProvider() {
    steps(0);
    const detectedBox = h("div", { class: "detected" }, h("div", { class: "muted small" }, "Looking for local model servers…"));
    const form = providerForm({ submitLabel: "Add provider", onSaved: (provider) => {
      toast(`Added ${provider.name}`);
      stepModels();
    } });
    const onThisComputer = h("div");
    replace(body, onThisComputer,
      h("section", { class: "card stack", "aria-labelledby": "detected-h" },
        h("h2", { id: "detected-h" }, "Local servers on this computer"), detectedBox),
      h("section", { class: "card stack", "aria-labelledby": "manual-h" },
        h("h2", { id: "manual-h" }, "Or add a provider"), form),
      h("div", { class: "actions" }, h("span", { class: "spacer" }),
        h("button", { type: "button", class: "ghost", onclick: done }, "Skip for now")));

    showLocalModels(onThisComputer);
    let detected = [];
    try {
      detected = items(await api.get("providers/detect"));
    } catch (e) {
      replace(detectedBox, errorBox(e));
      return;
    }
    if (!detected.length) {
      replace(detectedBox, h("div", { class: "muted" }, "No local server answered (Ollama 11434, LM Studio 1234, llama.cpp 8080, Jan 1337). Start one and reload, or add a provider below."));
      return;
    }
    detectedBox.replaceChildren();
    for (const d of detected) {
      const use = h("button", { type: "button", class: d.reachable ? "primary" : "", disabled: !d.reachable }, `Use ${d.name}`);
      use.addEventListener("click", async () => {
        use.disabled = true;
        try {
          await createProvider({ name: slugName(d.name), kind: d.kind, base_url: d.base_url, key: "" });
          toast(`Added ${d.name}`);
          stepModels();
        } catch (e) {
          toast(errorText(e), "error");
          use.disabled = false;
        }
      });
      const models = d.models || [];
      detectedBox.append(h("div", { class: "card" },
        h("span", { class: `dot ${d.reachable ? "ok" : "bad"}` }),
        h("div", { class: "grow" },
          h("div", null, h("strong", null, d.name), " ", h("span", { class: "muted mono small" }, d.base_url)),
          h("div", { class: "muted small" }, d.reachable ? (models.length ? `${models.length} model${models.length === 1 ? "" : "s"}: ${models.slice(0, 4).join(", ")}${models.length > 4 ? "…" : ""}` : "Reachable, no models listed") : "Not reachable")),
        use));
    }
  }

  /** The starter model and "Import GGUF file": choosing a model here ends the wizard. */
  async function showLocalModels(box) {
    try {
      const local = items(await api.get("providers")).find((p) => p.kind === "local");
      if (!local) return;
      const { data } = await loadCatalog(api);
      const models = data.filter((m) => m.provider_id === local.id);
      const current = await api.get("models/default").catch(() => null);
      replace(box, localModelsCard({
        local, models, defaultModel: (current && current.model) || "", toast,
        onChanged: async () => {
          const d = await api.get("models/default").catch(() => null);
          if (d && d.model) { invalidateDefaultModel(); done(); } else showLocalModels(box);
        },
      }));
    } catch (e) { replace(box, errorBox(e)); }
  }

  // ---- step 2: models ----
  async function stepModels() {
    steps(1);
    replace(body, h("div", { class: "empty" }, "Asking the provider for its models…"));
    let catalog = [];
    let errors = [];
    try {
      ({ data: catalog, errors } = await loadCatalog(api, true));
    } catch (e) {
      replace(body, errorBox(e), h("div", { class: "actions" },
        h("button", { type: "button", onclick: stepProvider }, "Back"),
        h("button", { type: "button", onclick: stepModels }, "Try again"),
        h("button", { type: "button", class: "ghost", onclick: done }, "Finish without a model")));
      return;
    }
    const ids = catalog.map(modelId).filter(Boolean);
    if (!ids.length) {
      replace(body, ...catalogErrors(errors), h("div", { class: "notice" }, "The provider lists no models yet. You can pick them later on the Models screen."),
        h("div", { class: "actions" }, h("button", { type: "button", onclick: stepProvider }, "Back"),
          h("button", { type: "button", class: "primary", onclick: done }, "Open Qorven")));
      return;
    }
    const checks = new Map();
    const defaultSel = h("select", { id: "setup-default" });
    const refreshDefault = () => {
      const chosen = ids.filter((id) => checks.get(id).checked);
      const prev = defaultSel.value;
      replace(defaultSel, chosen.map((id) => h("option", { value: id }, id)));
      if (chosen.includes(prev)) defaultSel.value = prev;
    };
    const list = h("div", { class: "checklist", style: "grid-template-columns: 1fr" });
    ids.forEach((id, i) => {
      const input = h("input", { type: "checkbox", checked: catalog.some((m) => m.selected) ? !!catalog[i].selected : i < 8 });
      input.addEventListener("change", refreshDefault);
      checks.set(id, input);
      list.append(h("label", { class: "check" }, input, h("span", { class: "mono" }, id)));
    });
    refreshDefault();
    const finish = h("button", { type: "button", class: "primary" }, "Use these models");
    finish.addEventListener("click", async () => {
      const chosen = ids.filter((id) => checks.get(id).checked);
      if (!chosen.length) { toast("Choose at least one model.", "error"); return; }
      finish.disabled = true;
      try {
        await api.put("models/selected", { models: chosen });
        await api.put("models/default", { model: defaultSel.value || chosen[0] });
        invalidateDefaultModel();
        toast("Ready");
        done();
      } catch (e) {
        toast(errorText(e), "error");
        finish.disabled = false;
      }
    });
    const preset = catalog.find((m) => m.default);
    if (preset && ids.filter((id) => checks.get(id).checked).includes(modelId(preset))) defaultSel.value = modelId(preset);
    replace(body, ...catalogErrors(errors),
      h("section", { class: "card stack" }, h("h2", null, "Models to use"),
        h("p", { class: "muted", style: "margin: 0" }, "Selected models appear in the model lists and to OpenAI clients."), list),
      h("section", { class: "card stack" }, h("h2", null, h("label", { for: "setup-default" }, "Default model")),
        h("p", { class: "muted", style: "margin: 0" }, "Agents without a model of their own use this one."), defaultSel),
      h("div", { class: "actions" }, h("button", { type: "button", onclick: stepProvider }, "Back"), finish,
        h("span", { class: "spacer" }), h("button", { type: "button", class: "ghost", onclick: done }, "Skip")));
  }

  await stepProvider();
  return () => {};
}
