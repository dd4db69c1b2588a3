// Settings: where the data lives, version, portable mode, the API address for other tools, the
// admin token rotation (the new token is shown once), and the theme.

import { h, replace, copyText, fullTime } from "../dom.js";
import { api, setToken } from "../api.js";
import { storeToken } from "../token.js";
import { disconnect, connect } from "../live.js";
import { errorBox, confirmAction } from "../ui.js";

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

