// Shared bits of screens: toasts, error boxes, confirmations, busy buttons.

import { h } from "./dom.js";

/** Show a short message in the corner; errors stay longer. */
export function toast(message, kind = "info") {
  const box = document.getElementById("toasts");
  if (!box) return;
  const el = h("div", { class: `toast ${kind}` }, String(message));
  box.append(el);
  setTimeout(() => el.remove(), kind === "error" ? 7000 : 3200);
}

/** An error shown plainly with its code, e.g. "no_model_configured: ..." */
export function errorBox(err) {
  const code = (err && err.code) || "error";
  const message = (err && err.message) || String(err);
  const box = h("div", { class: "error-box", role: "alert" },
    h("span", { class: "code" }, code), message);
  if (err && err.requestId) box.append(h("span", { class: "faint small" }, ` (${err.requestId})`));
  return box;
}

export function errorText(err) {
  return `${(err && err.code) || "error"}: ${(err && err.message) || err}`;
}

/** Run an async action with the button disabled; errors become toasts. Returns the result or undefined. */
export async function busy(button, fn) {
  const prev = button ? button.disabled : false;
  if (button) button.disabled = true;
  try {
    return await fn();
  } catch (e) {
    if (e && e.name === "AbortError") return undefined;
    toast(errorText(e), "error");
    return undefined;
  } finally {
    if (button) button.disabled = prev;
  }
}

export function confirmAction(message) {
  return window.confirm(message);
}

/** A pane header with a title and optional buttons. */
export function paneHead(title, ...buttons) {
  return h("div", { class: "pane-head" }, h("h1", null, title), buttons);
}
