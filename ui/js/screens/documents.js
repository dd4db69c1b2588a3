// Documents on the Memory screen: "Upload document", the documents with their type, size, status and
// passage count, each one's passages on demand, and delete. A large file is read in the background:
// its progress arrives on /api/ws as document.progress, never by polling.

import { h, icon, fullTime } from "../dom.js";
import { ICONS } from "../icons.js";
import { api, items, qs } from "../api.js";
import { errorBox, errorText, confirmAction } from "../ui.js";
import { uploadDocument, typeName, sizeText, statusText, onDocumentProgress } from "../attach.js";

const PASSAGES_PAGE = 50;

/**
 * The documents panel. `audience()` says where an upload goes: {scope, agent_id?, label}.
 * Returns {el, refresh, dispose}.
 */
export function documentsPanel({ toast, audience }) {
  const input = h("input", { type: "file", class: "sr-only", multiple: true, "aria-label": "Upload document" });
  const pick = h("label", { class: "button primary small", title: "PDF, Word (.docx), Markdown, HTML, text or source files" },
    icon(ICONS.file, 14), "Upload document", input);
  const where = h("span", { class: "muted small" });
  const listEl = h("ul", { class: "docs", "aria-label": "Documents" });
  const el = h("section", { class: "detail docs-panel", "aria-label": "Documents" },
    h("div", { class: "detail-head" }, h("h2", null, "Documents"), pick),
    h("p", { class: "muted small" }, "Files your agents can read: each is cut into passages that recall and search find, with the page or heading they came from. ", where),
    listEl);
  const state = { docs: [], progress: new Map(), open: new Set() };

  function describeAudience() {
    const a = audience();
    where.textContent = a.label ? `Uploads go to: ${a.label}.` : "";
  }

  function row(doc) {
    const progress = state.progress.get(doc.id);
    const meta = [typeName(doc.media_type), sizeText(doc.bytes), doc.pages ? `${doc.pages} pages` : "", audienceText(doc), fullTime(doc.created_at)].filter(Boolean).join(" · ");
    const status = h("span", { class: `badge ${doc.status === "ready" ? "ok" : doc.status === "failed" ? "bad" : "warn"}` }, statusText(doc, progress));
    const passagesBtn = h("button", { type: "button", class: "small", "aria-expanded": state.open.has(doc.id) ? "true" : "false", disabled: doc.status !== "ready" || !doc.chunks }, "Passages");
    const delBtn = h("button", { type: "button", class: "small danger", "aria-label": "Delete document", title: `Delete ${doc.title} and its passages` }, icon(ICONS.trash, 12));
    const passages = h("ol", { class: "passages hidden", "aria-label": `Passages of ${doc.title}` });
    const li = h("li", { class: "doc", "aria-label": doc.title },
      h("div", { class: "doc-head" }, icon(ICONS.file, 16),
        h("div", { class: "grow" }, h("div", { class: "title" }, doc.title), h("div", { class: "muted small" }, meta)),
        status, passagesBtn, delBtn),
      passages);
    passagesBtn.addEventListener("click", async () => {
      const open = !state.open.has(doc.id);
      open ? state.open.add(doc.id) : state.open.delete(doc.id);
      passagesBtn.setAttribute("aria-expanded", String(open));
      passages.classList.toggle("hidden", !open);
      if (open && !passages.childElementCount) await loadPassages(doc, passages);
    });
    delBtn.addEventListener("click", async () => {
      if (!confirmAction(`Delete “${doc.title}” and its ${doc.chunks} passages from memory?`)) return;
      delBtn.disabled = true;
      try {
        await api.del(`documents/${encodeURIComponent(doc.id)}`);
        state.docs = state.docs.filter((d) => d.id !== doc.id);
        render();
        toast("Document deleted");
      } catch (e) {
        delBtn.disabled = false;
        toast(errorText(e), "error");
      }
    });
    if (state.open.has(doc.id)) { passages.classList.remove("hidden"); loadPassages(doc, passages); }
    return li;
  }

  async function loadPassages(doc, list, cursor) {
    const more = list.querySelector(".more");
    if (more) more.remove();
    try {
      const page = await api.get(qs(`documents/${encodeURIComponent(doc.id)}/chunks`, { limit: PASSAGES_PAGE, cursor }));
      for (const c of items(page)) {
        list.append(h("li", null, c.locator ? h("span", { class: "badge" }, c.locator) : null, h("p", { class: "passage" }, c.content)));
      }
      if (page.has_more) {
        const btn = h("button", { type: "button", class: "small" }, "Show more passages");
        btn.addEventListener("click", () => loadPassages(doc, list, page.next_cursor));
        list.append(h("li", { class: "more" }, btn));
      }
    } catch (e) {
      list.append(h("li", null, errorBox(e)));
    }
  }

  function render() {
    describeAudience();
    listEl.replaceChildren();
    if (!state.docs.length) {
      listEl.append(h("li", { class: "empty small" }, "No documents yet. Upload a PDF, Word, Markdown, HTML, text or code file."));
      return;
    }
    state.docs.forEach((d) => listEl.append(row(d)));
  }

  async function refresh() {
    describeAudience();
    try {
      state.docs = items(await api.get(qs("documents", { limit: 100 })));
      render();
    } catch (e) {
      listEl.replaceChildren(h("li", null, errorBox(e)));
    }
  }

  async function upload(files) {
    for (const file of files) {
      const a = audience();
      try {
        const doc = await uploadDocument(file, { scope: a.scope, agent_id: a.agent_id });
        state.docs = [doc, ...state.docs.filter((d) => d.id !== doc.id)];
        render();
        toast(doc.deduplicated ? `${file.name} was already uploaded` : doc.status === "processing" ? `Reading ${file.name}…` : `${file.name}: ${doc.chunks} passages stored`);
      } catch (e) {
        toast(`${file.name}: ${errorText(e)}`, "error");
      }
    }
  }

  input.addEventListener("change", () => {
    const files = [...input.files];
    input.value = "";
    if (files.length) upload(files);
  });
  // the Memory screen's Agent and Scope pickers decide where uploads go: keep the sentence saying so current
  document.addEventListener("change", describeAudience);
  const unsubscribe = onDocumentProgress(async (p) => {
    if (!state.docs.some((d) => d.id === p.id)) return;
    state.progress.set(p.id, p);
    if (p.status !== "processing") {
      try {
        const fresh = await api.get(`documents/${encodeURIComponent(p.id)}`);
        state.docs = state.docs.map((d) => (d.id === p.id ? fresh : d));
      } catch { /* deleted meanwhile */ }
    }
    render();
  });

  const dispose = () => { unsubscribe(); document.removeEventListener("change", describeAudience); };
  return { el, refresh, dispose };
}

function audienceText(doc) {
  if (doc.scope === "session") return "this conversation only";
  if (doc.scope === "agent") return "one agent";
  return "every agent";
}
