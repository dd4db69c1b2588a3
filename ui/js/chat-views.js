// How a conversation looks: user blocks, and agent runs made of markdown text parts, tool-call
// cards (arguments, result, duration) and recalled-memory chips, in the order they happened.

import { h, icon, replace, shortTime, frameThrottle } from "./dom.js";
import { ICONS } from "./icons.js";
import { api } from "./api.js";
import { renderMarkdown } from "./markdown.js";
import { errorBox, errorText, toast } from "./ui.js";

export function userBlock(text, at) {
  return h("article", { class: "msg user" },
    h("div", { class: "msg-head" }, h("span", { class: "msg-author" }, "You"), h("time", { class: "msg-time", datetime: at || "" }, shortTime(at))),
    h("div", { class: "msg-body" }, contentText(text)));
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
    this.cards = new Map();
    this.failed = false;
    this.scheduleRender = frameThrottle(() => this.render());
  }

  appendText(delta, immediate = false) {
    if (!this.text) {
      this.text = { src: "", el: h("div", { class: "msg-body" }) };
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
    this.chips.append(h("span", { class: "faint small" }, "Recalled"));
    recalled.forEach((r, i) => this.chips.append(memoryChip(r, i < 3)));
  }

  note(text) {
    this.footer.append(h("div", { class: "msg-note" }, text));
  }

  fail(err) {
    this.failed = true;
    this.footer.append(errorBox(err));
  }
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
    replace(this.state, h("span", { class: `dot ${ok ? "ok" : "bad"}` }), ok ? "done" : "failed", duration ? h("span", { class: "faint" }, duration) : null);
    const body = ok ? pretty(d.result) : pretty(d.error);
    replace(this.resultWrap, h("div", { class: "tlabel" }, ok ? "Result" : "Error"), h("pre", null, body || "(empty)"));
    this.resultWrap.classList.remove("hidden");
  }
}
