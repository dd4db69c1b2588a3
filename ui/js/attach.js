// Files handed to the agents: the one upload call (POST /api/documents, multipart), how a document is
// described in a line, and the chat composer's "Attach file" control, which makes each chosen file a
// document of the open conversation (scope session) and shows it in the composer as attached.

import { h, icon } from "./dom.js";
import { ICONS } from "./icons.js";
import { api, items, qs } from "./api.js";
import { subscribe } from "./live.js";
import { errorText } from "./ui.js";

const TYPE_NAMES = {
  "application/pdf": "PDF",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word",
  "text/markdown": "Markdown",
  "text/html": "HTML",
  "text/plain": "Text",
  "text/x-source": "Code",
};

/** Upload one file as a document; `fields` are scope, agent_id, session_id, title. */
export function uploadDocument(file, fields = {}) {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) if (value) form.append(key, value);
  form.append("file", file, file.name);
  return api.post("documents", form);
}

export function typeName(mediaType) { return TYPE_NAMES[mediaType] || mediaType || "file"; }

export function sizeText(bytes) {
  if (!(bytes >= 0)) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10240 ? 1 : 0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** "ready · 12 passages", "reading 64 of 120…", "failed: <why>" */
export function statusText(doc, progress) {
  if (doc.status === "processing") {
    return progress && progress.total ? `reading ${progress.done} of ${progress.total} passages…` : "reading…";
  }
  if (doc.status === "failed") return `failed: ${doc.error || "could not be read"}`;
  return `ready · ${doc.chunks} passage${doc.chunks === 1 ? "" : "s"}`;
}

/** Watch document.progress events; `fn(data)` for each. Returns the unsubscribe function. */
export function onDocumentProgress(fn) {
  return subscribe("activity", (ev) => { if (ev.event === "document.progress" && ev.data) fn(ev.data); });
}

/**
 * The composer's "Attach file" button and the tray of the conversation's attached files.
 * `ensureSession(name)` returns the open conversation's id, creating the conversation when needed.
 */
export function attachControl({ ensureSession, toast }) {
  const input = h("input", { type: "file", multiple: true, hidden: true, tabindex: "-1", "aria-hidden": "true" });
  const button = h("button", { type: "button", class: "ghost icon-btn", title: "Attach file: the agent can read and cite it in this conversation", "aria-label": "Attach file" },
    icon(ICONS.clip, 16));
  const tray = h("div", { class: "chips hidden", role: "group", "aria-label": "Attached files" });
  const shown = new Map();      // document id -> {doc, chip}
  let sessionId = "";

  function chipFor(doc, progress) {
    const status = h("span", { class: "faint" }, doc.status === "ready" ? "" : statusText(doc, progress));
    const chip = h("span", { class: `chip${doc.status === "failed" ? " bad" : ""}`, title: `${doc.title} — ${statusText(doc, progress)}` },
      icon(ICONS.clip, 12), h("span", { class: "text" }, doc.title), status);
    return chip;
  }

  function put(doc, progress) {
    const old = shown.get(doc.id);
    const chip = chipFor(doc, progress);
    if (old) old.chip.replaceWith(chip); else tray.append(chip);
    shown.set(doc.id, { doc, chip });
    tray.classList.toggle("hidden", shown.size === 0);
  }

  async function show(id) {
    sessionId = id || "";
    shown.clear();
    tray.replaceChildren();
    tray.classList.add("hidden");
    if (!sessionId) return;
    try {
      const docs = items(await api.get(qs("documents", { session_id: sessionId, limit: 50 })));
      if (id === sessionId) docs.reverse().forEach((d) => put(d));
    } catch { /* the tray is a convenience; the conversation still works */ }
  }

  async function attach(files) {
    for (const file of files) {
      let id;
      try {
        id = await ensureSession(file.name);
        if (!id) throw new Error("Send a message first, then attach files to the conversation.");
        if (id !== sessionId) { sessionId = id; }
        const doc = await uploadDocument(file, { scope: "session", session_id: id });
        put(doc);
        toast(doc.deduplicated ? `${file.name} is already attached` : `Attached ${file.name}`);
      } catch (e) {
        toast(`${file.name}: ${e.message && !e.code ? e.message : errorText(e)}`, "error");
      }
    }
  }

  button.addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    const files = [...input.files];
    input.value = "";
    if (files.length) attach(files);
  });
  const unsubscribe = onDocumentProgress((p) => {
    const entry = shown.get(p.id);
    if (!entry) return;
    if (p.status === "processing") put(entry.doc, p);
    else api.get(`documents/${encodeURIComponent(p.id)}`).then((d) => put(d)).catch(() => {});
  });

  return { button, input, tray, show, dispose: unsubscribe };
}
