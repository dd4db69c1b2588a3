// Small pieces the Agents, Rooms, Channels and Settings screens share: errors as sentences, a value
// with a Copy button, and saving a file the API answers with.

import { h, copyText } from "./dom.js";
import { authHeaders, ApiError } from "./api.js";

/** An API error as a sentence a person can act on (no codes, no API paths). */
export function sentence(err) {
  if (!err) return "Something went wrong.";
  if (err.code === "network_error" || err.status === 0) return "The server did not answer. Is Qorven still running?";
  if (err.code === "admin_only") return "This needs an admin sign-in.";
  const text = String(err.message || err).trim();
  const first = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** A value to copy: a read-only field named ``what`` with a "Copy <what>" button next to it. */
export function copyRow(value, what, toast) {
  const name = what.charAt(0).toUpperCase() + what.slice(1);
  const input = h("input", { type: "text", class: "mono grow", readonly: true, value, "aria-label": name, spellcheck: "false" });
  input.addEventListener("focus", () => input.select());
  const button = h("button", { type: "button", class: "small", "aria-label": `Copy ${what}` }, "Copy");
  button.addEventListener("click", async () => toast((await copyText(value)) ? "Copied" : "Copy failed", "info"));
  return h("div", { class: "row copy-row" }, input, button);
}

/** Fetch a file from the API (with this page's credentials) and hand it to the browser as a download. */
export async function download(method, path) {
  const res = await fetch(`/api/${path}`, { method, headers: authHeaders(), credentials: "same-origin" });
  if (!res.ok) {
    let body = null;
    try { body = await res.json(); } catch { body = null; }
    throw new ApiError(res.status, body);
  }
  const disposition = res.headers.get("Content-Disposition") || "";
  const match = disposition.match(/filename="([^"]+)"/);
  const name = match ? match[1] : path.replace(/\W+/g, "-");
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name, class: "hidden" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return { name, bytes: blob.size };
}

/** "Research Helper!" -> "research-helper": the agent name a display name suggests. */
export function slugify(text) {
  return String(text || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-").replace(/-{2,}/g, "-").replace(/^[-_]+|-+$/g, "").slice(0, 48).replace(/-+$/, "");
}
