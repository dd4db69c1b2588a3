// How a conversation looks: user blocks, and agent runs made of markdown text parts, tool-call
// cards (arguments, result, duration) and recalled-memory chips, in the order they happened.

import { h, icon, replace, shortTime, frameThrottle } from "./dom.js";
import { ICONS } from "./icons.js";
import { api } from "./api.js";
import { renderMarkdown } from "./markdown.js";
import { errorText, toast } from "./ui.js";

export function userBlock(text, at) {
  return h("article", { class: "msg user" },
    h("div", { class: "msg-head" }, h("span", { class: "msg-author" }, "You"), h("time", { class: "msg-time", datetime: at || "" }, shortTime(at))),
    h("div", { class: "msg-body" }, contentText(text)));
}

// Icons of the message and conversation actions (trusted path data, 24×24, stroked).
export const ACTION_ICONS = {
  copy: ["M9 9h11v11H9z", "M5 15H4V4h11v1"],
  edit: ["M4 20h4L19 9l-4-4L4 16z", "M13.5 6.5l4 4"],
  regenerate: ["M20 11a8 8 0 1 0-2.3 5.7", "M20 4v7h-7"],
  remember: ["M6 3h12v18l-6-4-6 4z"],
  trash: ["M4 7h16", "M10 11v6", "M14 11v6", "M6 7l1 13h10l1-13", "M9 7V4h6v3"],
  download: ["M12 4v11", "M7 10l5 5 5-5", "M5 20h14"],
};

/**
 * A row of action buttons for a message or a conversation: each {label, icon, run} becomes an icon
 * button named by its label. Shown on hover and on keyboard focus (styles.css). The name is hidden
 * text, not aria-label, so a label lookup for the "Message" box never also finds "Copy message".
 */
export function actionBar(actions) {
  return h("div", { class: "msg-actions" },
    actions.filter(Boolean).map((a) => {
      const button = h("button", { type: "button", class: "ghost icon-btn", title: a.label },
        icon(ACTION_ICONS[a.icon], 14), h("span", { class: "sr-only" }, a.label));
      button.addEventListener("click", (e) => { e.stopPropagation(); a.run(button); });
      return button;
    }));
}

/** Put an action bar into a message block's header (replacing any earlier one). */
export function setActions(block, bar) {
  const head = block.querySelector(".msg-head");
  head.querySelector(".msg-actions")?.remove();
  if (bar) head.append(bar);
}

export function contentText(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p === "string" ? p : p.text || "")).join("");
  return content == null ? "" : String(content);
}

export function parseMaybe(text) {
  if (typeof text !== "string") return text;
  try { return JSON.parse(text); } catch { return text; }
}

function pretty(value) {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") {
    const parsed = parseMaybe(value);
    if (parsed !== value && typeof parsed === "object") return JSON.stringify(parsed, null, 2);
    return value;
  }
  return JSON.stringify(value, null, 2);
}

/** One agent run: text parts and tool cards in arrival order, memory chips, notes and errors. */
export class RunView {
  constructor(author, at) {
    this.parts = h("div", { class: "msg-parts" });
    this.chips = h("div", { class: "chips hidden", role: "group", "aria-label": "Recalled memories" });
    this.footer = h("div");
    this.el = h("article", { class: "msg assistant" },
      h("div", { class: "msg-head" }, h("span", { class: "msg-author" }, author),
        h("time", { class: "msg-time", datetime: at || "" }, shortTime(at))),
      this.chips, this.parts, this.footer);
    this.text = null;       // {src, el} of the current text part
    this.texts = [];        // every text part, in order (what "Copy message" copies)
    this.messageIds = [];   // the stored assistant messages this run is made of, once known
    this.cards = new Map();
    this.failed = false;
    this.scheduleRender = frameThrottle(() => this.render());
  }

  appendText(delta, immediate = false) {
    if (this.frozen) return; // stopped: what is on screen now is the answer
    if (!this.text) {
      this.text = { src: "", el: h("div", { class: "msg-body" }) };
      this.texts.push(this.text);
      this.parts.append(this.text.el);
    }
    this.text.src += delta;
    if (immediate) this.render(); else this.scheduleRender();
  }

  render() {
    if (this.text) this.text.el.replaceChildren(renderMarkdown(this.text.src));
    this.parts.querySelectorAll(".cursor").forEach((e) => e.classList.remove("cursor"));
    if (this.isStreaming) {
      const last = this.parts.lastElementChild;
      if (last && last.classList.contains("msg-body")) (last.lastElementChild || last).classList.add("cursor");
    }
  }

  /** Say which model wrote this answer (a conversation may change its model along the way). */
  setModel(model) {
    const head = this.el.querySelector(".msg-head");
    head.querySelector(".msg-model")?.remove();
    if (model) head.querySelector(".msg-time").after(h("span", { class: "msg-model", title: "The model that wrote this answer" }, model));
  }

  /** Stop taking text (the reader pressed Stop) and show at once all that arrived: this is what they saw.
   *  Returns the text of the part being written then (markdown source), "" when none was. */
  freeze() {
    this.frozen = true;
    this.render();
    return this.text ? this.text.src : "";
  }

  streaming(on) {
    this.isStreaming = on;
    this.render();
  }

  addToolCall(callId, tool, args) {
    if (this.text) { this.render(); this.text = null; }
    const card = new ToolCard(tool, args);
    this.cards.set(callId, card);
    this.parts.append(card.el);
    return card;
  }

  toolResult(d) {
    let card = this.cards.get(d.call_id);
    if (!card) card = this.addToolCall(d.call_id, d.tool, undefined);
    card.finish(d);
  }

  addMemories(recalled) {
    if (!recalled.length) return;
    this.chips.classList.remove("hidden");
    this.chips.append(h("span", { class: "muted small" }, "Recalled"));
    recalled.forEach((r, i) => this.chips.append(memoryChip(r, i < 3)));
  }

  /** The run's text as written (markdown source), its parts separated by blank lines. */
  plainText() {
    return this.texts.map((t) => t.src).filter(Boolean).join("\n\n");
  }

  note(text) {
    this.footer.append(h("div", { class: "msg-note" }, text));
  }

  /** Show why the run failed, in plain words, with the action that fixes it (``actions``: {retry, setup}). */
  fail(err, actions = this.errorActions) {
    this.failed = true;
    this.footer.querySelector(".chat-error")?.remove();
    this.failure = err;
    this.footer.append(chatError(err, actions || {}));
  }

  /** Offer the actions on an error already shown (the answer's turn is known only after the run). */
  setErrorActions(actions) {
    this.errorActions = actions;
    if (this.failure) this.fail(this.failure, actions);
  }
}

/** The chips of what a stored answer recalled (its `recalled` field), so a reopened conversation shows them. */
export function showStoredRecall(run, message) {
  if (message && Array.isArray(message.recalled)) run.addMemories(message.recalled);
}

/** A recalled memory: its score at once; its text fetched for the first few (and on click for the rest). */
function memoryChip(r, fetchNow) {
  const score = typeof r.score === "number" ? r.score.toFixed(2) : "";
  const textEl = h("span", { class: "text" }, r.content || "memory");
  const doc = r.document;  // a passage of an uploaded document: cite it (title, page or heading)
  const cite = doc ? `${doc.title}${doc.locator ? `, ${doc.locator}` : ""}` : "";
  const chip = h("button", { type: "button", class: "chip", title: r.content || "Show this memory" },
    icon(doc ? ICONS.file : ICONS.memory, 12), textEl, cite ? h("span", { class: "cite" }, cite) : null,
    h("span", { class: "score", "aria-label": `score ${score}` }, score));
  let loaded = !!r.content;
  const load = async () => {
    if (loaded) return;
    loaded = true;
    try {
      const m = await api.get(`memory/${encodeURIComponent(r.id)}`);
      textEl.textContent = m.content || r.id;
      chip.title = m.content || "";
    } catch (e) {
      loaded = false;
      textEl.textContent = r.id;
      if (!fetchNow) toast(errorText(e), "error");
    }
  };
  chip.addEventListener("click", load);
  if (fetchNow) load();
  return chip;
}

class ToolCard {
  constructor(tool, args) {
    this.state = h("span", { class: "tstate" }, h("span", { class: "dot warn" }), "running…");
    this.argsPre = h("pre", null, pretty(args) || "{}");
    this.resultWrap = h("div", { class: "hidden" });
    this.el = h("details", { class: "tool" },
      h("summary", null, h("span", { class: "chev" }, icon(ICONS.chevron, 14)), icon(ICONS.tool, 14),
        h("span", { class: "tname" }, tool || "tool"), this.state),
      h("div", { class: "tbody" },
        h("div", { class: "tlabel" }, "Arguments"), this.argsPre, this.resultWrap));
  }

  finish(d) {
    const ok = d.ok !== false;
    const duration = typeof d.duration_ms === "number" ? `${Math.round(d.duration_ms)} ms` : "";
    replace(this.state, h("span", { class: `dot ${ok ? "ok" : "bad"}` }), ok ? "done" : "failed", duration ? h("span", { class: "muted" }, duration) : null);
    const body = ok ? pretty(d.result) : pretty(d.error);
    replace(this.resultWrap, h("div", { class: "tlabel" }, ok ? "Result" : "Error"), h("pre", null, body || "(empty)"));
    this.resultWrap.classList.remove("hidden");
  }
}

// What went wrong, said plainly; the code and the server's words stay below as details.
const PLAIN_ERRORS = {
  no_model_configured: "No model is set up yet, so nobody can answer.",
  provider_error: "The model's provider could not answer.",
  provider_timeout: "The model took too long to answer.",
  too_many_runs: "Too many replies are being written at once. Wait a moment, then retry.",
  rate_limited: "Too many requests in a short time. Wait a moment, then retry.",
  network_error: "The server did not answer. Is Qorven still running?",
  internal_error: "Something went wrong inside Qorven.",
  failed: "The reply failed.",
};

/** A failed answer: a plain sentence, the details, and "Set up a model", "Use the agent default" or
 *  "Retry" when they help (``gone``: this conversation's model, no longer offered). */
export function chatError(err, { retry, setup, useDefault, gone } = {}) {
  const code = (err && err.code) || "error";
  const message = (err && err.message) || String(err);
  const modelGone = code === "no_model_configured" && useDefault;
  const plain = modelGone ? `This conversation's model, ${gone}, is not available any more.` : PLAIN_ERRORS[code];
  const box = h("div", { class: "error-box chat-error", role: "alert" },
    h("div", { class: "plain" }, plain || message),
    h("div", { class: "err-detail muted small" }, h("span", { class: "code" }, code),
      plain && code !== "no_model_configured" ? message : "",
      err && err.requestId ? ` (${err.requestId})` : ""));
  const buttons = [];
  if (modelGone) buttons.push(h("button", { type: "button", class: "primary", onclick: useDefault }, "Use the agent default"));
  else if (code === "no_model_configured" && setup) buttons.push(h("button", { type: "button", class: "primary", onclick: setup }, "Set up a model"));
  else if (retry) buttons.push(h("button", { type: "button", onclick: retry }, "Retry"));
  if (buttons.length) box.append(h("div", { class: "err-actions" }, buttons));
  return box;
}
