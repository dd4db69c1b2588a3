// Settings: where the data lives (open it, or copy its path), a backup and a memories export to
// download, tokens for other tools (shown once), version and limits, the API address, the admin
// token rotation, and the theme.

import { h, append, replace, copyText, fullTime, field, checkbox } from "../dom.js";
import { api, setToken, getToken, items } from "../api.js";
import { storeToken } from "../token.js";
import { disconnect, connect } from "../live.js";
import { errorBox, confirmAction } from "../ui.js";
import { sentence, copyRow, download } from "../forms.js";

const KNOWN = [
  ["version", "Version"],
  ["data_root", "Data folder"],
  ["db_path", "Database"],
  ["workspace_dir", "Workspace folder"],
  ["portable", "Portable mode"],
  ["tenant_id", "Tenant"],
  ["scope", "This window's access"],
  ["sqlite_version", "SQLite"],
  ["vec_version", "sqlite-vec"],
  ["limits", "Limits"],
];
const PATHS = new Set(["data_root", "db_path", "workspace_dir"]);

export async function mount(container, { toast }) {
  const detail = h("div", { class: "detail" }, h("div", { class: "detail-head" }, h("h2", null, "Settings")));
  container.append(h("div", { class: "pane-detail", style: "height: 100%" }, detail));

  // ---- about / storage ----
  const about = h("section", { class: "card", "aria-label": "This installation" }, h("h3", null, "This installation"),
    h("div", { class: "muted small" }, "Loading…"));
  detail.append(about);
  let settings = null;
  try {
    settings = await api.get("settings");
    const rows = [];
    for (const [key, label] of KNOWN) {
      if (!(key in settings)) continue;
      rows.push(row(label, display(settings[key]), PATHS.has(key)));
    }
    const extra = Object.keys(settings).filter((k) => !KNOWN.some(([x]) => x === k) && k !== "object");
    for (const k of extra) rows.push(row(k, display(settings[k]), typeof settings[k] === "string" && settings[k].length > 24));
    replace(about, h("h3", null, "This installation"), h("table", { class: "data" }, h("tbody", null, rows)));
  } catch (e) {
    replace(about, h("h3", null, "This installation"), errorBox(e));
  }

  // ---- your data: folder, backup, export ----
  const dataCard = h("section", { class: "card stack", "aria-label": "Your data" }, h("h3", null, "Your data"));
  detail.insertBefore(dataCard, about);
  if (settings) {
    // In the desktop window the server shows the folder in the file manager (see /v1/desktop); in a
    // browser, which may be on another computer, the path is there to copy.
    const openBtn = h("button", { type: "button", hidden: true }, "Open data folder");
    openBtn.addEventListener("click", async () => {
      try { await api.post("desktop/open-folder", { folder: "data" }); } catch (e) { toast(sentence(e), "error"); }
    });
    api.get("desktop").then((d) => { openBtn.hidden = !d.open_folder; }).catch(() => {});
    append(dataCard, [
      h("p", { class: "muted small", style: "margin: 0" }, "Everything Qorven keeps (conversations, agents, memories, models, the workspace) is in this folder."),
      h("div", { class: "field" }, h("span", { class: "muted small", "aria-hidden": "true" }, "Data folder"), copyRow(settings.data_root, "data folder path", toast)),
      openBtn]);
  }
  const backupBtn = h("button", { type: "button" }, "Back up");
  const exportBtn = h("button", { type: "button" }, "Export memories");
  const dataOut = h("div", { role: "status", class: "muted small" });
  backupBtn.addEventListener("click", async () => {
    backupBtn.disabled = true;
    dataOut.textContent = "Backing up…";
    try {
      const { name, bytes } = await download("POST", "backup");
      dataOut.textContent = `Backup ${name} downloaded (${(bytes / 1048576).toFixed(1)} MB); a copy is kept in the data folder's backups folder.`;
    } catch (e) {
      dataOut.textContent = "";
      toast(sentence(e), "error");
    } finally {
      backupBtn.disabled = false;
    }
  });
  exportBtn.addEventListener("click", async () => {
    exportBtn.disabled = true;
    try {
      const { name } = await download("GET", "memory/export");
      dataOut.textContent = `Memories exported to ${name} (JSON Lines; qorven memory import reads it back).`;
    } catch (e) {
      toast(sentence(e), "error");
    } finally {
      exportBtn.disabled = false;
    }
  });
  dataCard.append(
    h("div", { class: "actions" }, backupBtn, exportBtn),
    h("p", { class: "muted small", style: "margin: 0" }, "Back up saves the whole database as one file while the app keeps running; to restore, put it in place of qorven.db while Qorven is stopped. Export memories saves what the agents remember as a text file."),
    dataOut);

  // ---- tokens for other tools ----
  const tokenName = h("input", { type: "text", autocomplete: "off", required: true, placeholder: "e.g. Obsidian plugin" });
  const tokenAdmin = checkbox("Full admin rights", false);
  const createBtn = h("button", { type: "submit" }, "Create token");
  const created = h("div", { class: "stack" });
  const tokenList = h("ul", { class: "token-list", "aria-label": "Tokens in use" });
  const tokenForm = h("form", { class: "card stack", "aria-label": "Tokens for other tools" },
    h("h3", null, "Tokens for other tools"),
    h("p", { class: "muted small", style: "margin: 0" }, "Give each tool that uses the API (an editor plugin, a script, another app) its own token, so you can revoke it alone."),
    h("div", { class: "row wrap", style: "align-items: flex-end" }, h("div", { class: "grow" }, field("Token name", tokenName)), tokenAdmin.wrap, createBtn),
    created, tokenList);

  /** The API tokens that still work, each with when it was last used and a Revoke button. */
  async function listTokens() {
    let tokens;
    try {
      tokens = items(await api.get("auth/tokens?limit=200")).filter((t) => t.kind === "api" && !t.revoked_at);
    } catch (err) {
      replace(tokenList, h("li", { class: "muted small" }, `The tokens could not be listed: ${sentence(err)}`));
      return;
    }
    const mine = getToken();
    replace(tokenList, tokens.map((t) => {
      const ours = !!mine && !!t.hint && mine.endsWith(t.hint.replace("…", ""));
      const revoke = h("button", { type: "button", class: "small danger", "aria-label": `Revoke ${t.label}` }, "Revoke");
      revoke.addEventListener("click", async () => {
        const warn = ours ? " This window signed in with it and will be signed out." : "";
        if (!confirmAction(`Revoke the token ${t.label}? Tools using it stop working at once.${warn}`)) return;
        revoke.disabled = true;
        try {
          await api.del(`auth/tokens/${encodeURIComponent(t.id)}`);
          toast(`Revoked ${t.label}`);
          await listTokens();
        } catch (err) {
          toast(sentence(err), "error");
          revoke.disabled = false;
        }
      });
      const when = [t.scope === "admin" ? "admin" : "user", t.hint,
        `created ${fullTime(t.created_at)}`, t.last_used_at ? `last used ${fullTime(t.last_used_at)}` : "never used",
        t.revoke_after ? `stops working at ${fullTime(t.revoke_after)}` : null,
        ours ? "this window" : null].filter(Boolean).join(" · ");
      return h("li", { class: "row wrap" },
        h("div", { class: "grow" }, h("div", null, t.label), h("div", { class: "muted small" }, when)), revoke);
    }));
  }
  listTokens();
  tokenForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    createBtn.disabled = true;
    try {
      const r = await api.post("auth/tokens", { label: tokenName.value.trim(), scope: tokenAdmin.input.checked ? "admin" : "user" });
      tokenName.value = "";
      replace(created,
        h("div", { class: "notice small" }, `The token for ${r.label}. It is shown only this once: copy it into the tool now.`),
        copyRow(r.token, "new token", toast));
      await listTokens();
    } catch (err) {
      replace(created, h("div", { class: "error-box", role: "alert" }, sentence(err)));
    } finally {
      createBtn.disabled = false;
    }
  });
  detail.insertBefore(tokenForm, about);

  // ---- API address ----
  const base = `${location.origin}/v1`;
  const copyBase = h("button", { type: "button", class: "small" }, "Copy");
  copyBase.addEventListener("click", async () => toast((await copyText(base)) ? "Copied" : "Copy failed"));
  detail.append(h("section", { class: "card stack", "aria-label": "API" }, h("h3", null, "API for other tools"),
    h("p", { class: "muted small", style: "margin: 0" }, "OpenAI-compatible clients, the qorven command and scripts on this computer can use this address with an API token."),
    h("div", { class: "row" }, h("code", { class: "grow" }, base), copyBase)));

  // ---- token rotation ----
  const rotateBtn = h("button", { type: "button", class: "danger" }, "Rotate admin token");
  const tokenOut = h("div", { class: "stack" });
  rotateBtn.addEventListener("click", async () => {
    if (!confirmAction("Create a new admin token? Every other admin token, this window's included, stops working a minute later; this window switches to the new one.")) return;
    rotateBtn.disabled = true;
    try {
      const r = await api.post("auth/rotate", {});
      const token = (r && (r.token || r.value || r.key)) || "";
      if (token) {
        // Rotation revokes the other admin tokens after a grace period, ours included: move over now.
        setToken(token);
        storeToken(token);
        disconnect();
        connect();
      }
      const copyBtn = h("button", { type: "button", class: "small" }, "Copy");
      copyBtn.addEventListener("click", async () => toast((await copyText(token)) ? "Copied" : "Copy failed"));
      replace(tokenOut,
        h("div", { class: "notice small" }, "Your new admin token. It is shown only this once: store it now."),
        h("div", { class: "row" }, h("div", { class: "secret-once grow", "aria-label": "New admin token" }, token), copyBtn),
        r && r.revokes_previous_at ? h("div", { class: "muted small" }, `The previous admin tokens stop working at ${fullTime(r.revokes_previous_at)}.`) : null);
    } catch (e) {
      replace(tokenOut, errorBox(e));
    } finally {
      rotateBtn.disabled = false;
    }
  });
  detail.append(h("section", { class: "card stack", "aria-label": "Admin token" }, h("h3", null, "Admin token"),
    h("p", { class: "muted small", style: "margin: 0" }, "The admin token lets other tools use the API with full rights. Rotate it if it may have leaked."),
    h("div", { class: "actions" }, rotateBtn), tokenOut));

  // ---- appearance ----
  const current = document.documentElement.dataset.theme || "system";
  const radios = ["system", "light", "dark"].map((value) => {
    const input = h("input", { type: "radio", name: "theme", value, checked: value === current });
    input.addEventListener("change", () => {
      if (value === "system") {
        delete document.documentElement.dataset.theme;
        try { localStorage.removeItem("qorven.theme"); } catch { /* ignore */ }
        document.dispatchEvent(new CustomEvent("qorven:theme", { detail: "system" }));
      } else {
        document.documentElement.dataset.theme = value;
        try { localStorage.setItem("qorven.theme", value); } catch { /* ignore */ }
        document.dispatchEvent(new CustomEvent("qorven:theme", { detail: value }));
      }
    });
    return h("label", { class: "check" }, input, h("span", null, value === "system" ? "Match the system" : value === "light" ? "Light" : "Dark"));
  });
  // The rail's toggle changes the theme too: keep the radios in step.
  const syncRadios = () => {
    const now = document.documentElement.dataset.theme || "system";
    radios.forEach((label) => { const input = label.querySelector("input"); input.checked = input.value === now; });
  };
  document.addEventListener("qorven:theme", syncRadios);
  detail.append(h("section", { class: "card stack" }, h("h3", { id: "theme-h" }, "Theme"),
    h("div", { class: "row wrap", role: "radiogroup", "aria-labelledby": "theme-h", style: "gap: 18px" }, radios)));

  detail.append(h("section", { class: "card stack" }, h("h3", null, "Keyboard"),
    h("table", { class: "data" }, h("tbody", null,
      row("Alt+1 … Alt+7", "Switch screens"),
      row("Enter / Shift+Enter", "Send / new line"),
      row("Escape", "Stop a running reply")))));
  return () => document.removeEventListener("qorven:theme", syncRadios);

  function display(v) {
    if (typeof v === "boolean") return v ? "yes" : "no";
    if (v === null || v === undefined) return "—";
    if (Array.isArray(v)) return v.map(display).join(", ");
    if (typeof v === "object") {
      return h("div", { class: "kv" }, Object.entries(v).map(([k, x]) =>
        h("div", null, h("span", { class: "muted" }, `${k.replace(/_/g, " ")}: `), typeof x === "object" && x !== null ? JSON.stringify(x) : display(x))));
    }
    return String(v);
  }
  function row(label, value, mono = false) {
    return h("tr", null, h("th", { scope: "row", style: "width: 180px" }, label), h("td", { class: mono ? "mono" : "" }, value));
  }
}

